"""QuickBooks Online's error bodies, as its v3 API sends them.

Every error is `{"Fault": {"Error": [...], "type": ...}, "time": ...}` with the
code as a string; python-quickbooks maps the code to an exception class.
"""

from datetime import UTC, datetime


def timestamp() -> str:
    """The `time` QuickBooks stamps on every response, e.g. `2026-11-04T06:00:00.123-07:00`."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class Fault(Exception):
    """An error response: HTTP status plus one Fault error."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        detail: str,
        *,
        element: str = "",
        fault_type: str = "ValidationFault",
    ) -> None:
        super().__init__(f"{code} {message}: {detail}")
        self.status = status
        self.code = code
        self.message = message
        self.detail = detail
        self.element = element
        self.fault_type = fault_type

    def body(self) -> dict:
        error = {
            "Message": self.message,
            "Detail": self.detail,
            "code": self.code,
            "element": self.element,
        }
        return {"Fault": {"Error": [error], "type": self.fault_type}, "time": timestamp()}


def validation(code: str, message: str, detail: str, element: str = "") -> Fault:
    return Fault(400, code, message, detail, element=element)


def duplicate_name(entity: str, name: str) -> Fault:
    other = "customer, vendor or employee" if entity == "Customer" else f"{entity.lower()}"
    return validation(
        "6240",
        "Duplicate Name Exists Error",
        f"The name supplied already exists. : Another {other} is already using this name "
        f"({name}). Please use a different name.",
    )


def duplicate_doc_number(doc_number: str, txn_id: str) -> Fault:
    return validation(
        "6140",
        "Duplicate Document Number Error",
        "Duplicate Document Number Error : You must specify a different number. This number "
        f"has already been used. DocNumber={doc_number} is assigned to TxnType=Invoice "
        f"with TxnId={txn_id}",
    )


def stale_object(entity: str, entity_id: str) -> Fault:
    return validation(
        "5010",
        "Stale Object Error",
        f"Stale Object Error : You and another user were working on {entity} {entity_id} at "
        "the same time. The other user finished before you did, so your work was not saved.",
    )


def not_found(entity: str, entity_id: str) -> Fault:
    return validation(
        "610",
        "Object Not Found",
        f"Object Not Found : Something you're trying to use has been made inactive or deleted: "
        f"{entity} {entity_id}",
    )


def invalid_reference(element: str, ref: object) -> Fault:
    return validation(
        "2500",
        "Invalid Reference Id",
        f"Invalid Reference Id : {element} {ref!r} does not exist or is inactive.",
        element,
    )


def required(element: str) -> Fault:
    return validation(
        "2020",
        "Required param missing, need to supply the required value for the API",
        f"Required parameter {element} is missing in the request",
        element,
    )


def business_rule(detail: str) -> Fault:
    return validation(
        "6000",
        "A business validation error has occurred while processing your request",
        f"Business Validation Error: {detail}",
    )


def query_error(detail: str) -> Fault:
    return validation("4000", "Error parsing query", f"QueryParserError: {detail}")


def authentication_failed() -> Fault:
    return Fault(
        401,
        "3200",
        "message=AuthenticationFailed; errorCode=003200; statusCode=401",
        "Token expired or invalid",
        fault_type="AuthenticationFault",
    )


def authorization_failed(realm_id: str) -> Fault:
    return Fault(
        403,
        "3100",
        "message=ApplicationAuthorizationFailed; errorCode=003100; statusCode=403",
        f"The token is not authorized for company {realm_id}",
        fault_type="AuthorizationFault",
    )


def injected(status: int) -> Fault:
    """What QuickBooks answers when it is throttling (429) or failing (5xx)."""
    if status == 429:
        return Fault(
            429,
            "3001",
            "message=ThrottleExceeded; errorCode=003001; statusCode=429",
            "The request limit was reached.",
            fault_type="ThrottlingFault",
        )
    return Fault(
        status,
        "10000",
        "An application error has occurred while processing your request",
        "System Failure Error: An unexpected error occurred while accessing or saving your data.",
        fault_type="SystemFault",
    )
