"""Errors in the shape Stripe returns them: `{"error": {"type", "code", "message", "param"}}`."""

from dataclasses import dataclass, field


@dataclass
class ApiError(Exception):
    """An error answer; `saved` says whether the idempotency layer keeps it.

    Stripe saves the result of any request that started executing (a card
    decline included) but not one rejected while its parameters were checked.
    """

    status: int
    type: str
    message: str
    code: str | None = None
    param: str | None = None
    extra: dict = field(default_factory=dict)
    saved: bool = True

    def body(self) -> dict:
        error = {"type": self.type, "message": self.message, **self.extra}
        if self.code:
            error["code"] = self.code
            error["doc_url"] = f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}"
        if self.param:
            error["param"] = self.param
        return {"error": error}


def invalid_param(param: str, message: str, code: str = "parameter_invalid_empty") -> ApiError:
    """A parameter the endpoint rejects before doing anything (not saved for replay)."""
    return ApiError(400, "invalid_request_error", message, code=code, param=param, saved=False)


def missing_param(param: str) -> ApiError:
    return invalid_param(param, f"Missing required param: {param}.", code="parameter_missing")


def no_such(kind: str, object_id: str, param: str = "id") -> ApiError:
    return ApiError(
        404,
        "invalid_request_error",
        f"No such {kind}: '{object_id}'",
        code="resource_missing",
        param=param,
        saved=False,
    )


def invalid_state(message: str, code: str | None = None) -> ApiError:
    """A valid request the object's current state forbids (e.g. finalizing twice)."""
    return ApiError(400, "invalid_request_error", message, code=code)
