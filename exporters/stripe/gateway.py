"""Sending requests to Stripe with the official SDK: bounded retries, one-line errors.

Retries are ours, not the SDK's (`max_network_retries=0`): the SDK never
retries a 429 and sleeps on its own clock, while here every transient failure
(network, 409, 429, 5xx) is retried with the request's own idempotency key,
with exponential backoff on an injectable `sleep`. Retrying with the same key
is what makes a lost reply harmless: Stripe replays the saved response.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass

import stripe

from exporters.stripe.payloads import StripeRequest


@dataclass(frozen=True)
class RetryPolicy:
    """At most `attempts` tries; waits `first_delay`, doubling up to `max_delay`, between them."""

    attempts: int = 4
    first_delay: float = 0.5
    max_delay: float = 8.0
    sleep: Callable[[float], None] = time.sleep

    def delay_before(self, attempt: int) -> float:
        """The wait before try number `attempt` (2, 3, …)."""
        return min(self.max_delay, self.first_delay * 2 ** (attempt - 2))


class StripeRequestFailed(Exception):
    """A request Stripe refused, or that kept failing transiently until the retries ran out."""

    def __init__(self, step: str, error: stripe.StripeError, attempts: int) -> None:
        self.step = step
        self.error = error
        self.attempts = attempts
        super().__init__(self.describe())

    @property
    def is_card_error(self) -> bool:
        return isinstance(self.error, stripe.CardError)

    @property
    def is_credentials_error(self) -> bool:
        """The key is wrong, revoked or lacks a permission: every request would fail alike."""
        return isinstance(self.error, (stripe.AuthenticationError, stripe.PermissionError))

    @property
    def code(self) -> str:
        """Stripe's error code (`card_declined`), else its error type, else the error's class."""
        detail = self.error.error
        return self.error.code or (detail.type if detail else None) or type(self.error).__name__

    @property
    def decline_code(self) -> str | None:
        """The issuer's reason (`insufficient_funds`, `generic_decline`), if Stripe gives one."""
        return getattr(self.error.error, "decline_code", None) if self.error.error else None

    def describe(self) -> str:
        """One line for the sync state and the command line; never contains the API key."""
        error = self.error
        if isinstance(error, stripe.APIConnectionError):
            reason = "network error, no reply from Stripe"
        elif isinstance(error, stripe.IdempotencyError):
            reason = (
                "idempotency_error: Stripe already saw this idempotency key with different "
                "parameters, so what we would send now differs from what was sent before"
            )
        else:
            message = " ".join((error.user_message or "").split())
            reason = f"{self.code} (HTTP {error.http_status}): {message}"
        attempts = f" after {self.attempts} attempts" if self.attempts > 1 else ""
        return f"{self.step}: {reason}{attempts}"


def is_transient(error: stripe.StripeError) -> bool:
    """Worth retrying: network errors, conflicts, rate limits and server errors.

    Stripe may say otherwise in `Stripe-Should-Retry`, which wins.
    """
    advice = (error.headers or {}).get("stripe-should-retry") if error.headers else None
    if advice in ("true", "false"):
        return advice == "true"
    if isinstance(error, stripe.APIConnectionError):
        return True
    status = error.http_status
    return status is not None and (status in (409, 429) or status >= 500)


def make_stripe_client(api_key: str, api_base: str | None = None) -> stripe.StripeClient:
    """A client for `api_base` (Stripe's own when None), without telemetry or SDK retries."""
    stripe.enable_telemetry = False
    return stripe.StripeClient(
        api_key,
        base_addresses={"api": api_base} if api_base else None,
        max_network_retries=0,
    )


class StripeGateway:
    """Sends built requests and reads invoices back; answers are plain dicts."""

    def __init__(self, client: stripe.StripeClient, retry: RetryPolicy) -> None:
        self._client = client
        self._retry = retry

    def send(self, request: StripeRequest) -> dict:
        """Send a request whose placeholders are bound, exactly as built."""
        options = {"idempotency_key": request.idempotency_key} if request.idempotency_key else {}
        return self._with_retries(
            request.step,
            lambda: self._client.raw_request(
                request.method.lower(), request.path, **request.params, **options
            ),
        )

    def retrieve_invoice(self, invoice_id: str) -> dict:
        return self._with_retries(
            "retrieve_invoice",
            lambda: self._client.raw_request("get", f"/v1/invoices/{invoice_id}"),
        )

    def list_credit_notes(self, invoice_id: str) -> list[dict]:
        """The credit notes Stripe holds for an invoice (ours never number more than 100)."""
        return self._with_retries(
            "list_credit_notes",
            lambda: self._client.raw_request(
                "get", "/v1/credit_notes", invoice=invoice_id, limit=100
            ),
        )["data"]

    def _with_retries(self, step: str, call: Callable[[], stripe.StripeResponse]) -> dict:
        attempt = 1
        while True:
            try:
                return call().data
            except stripe.StripeError as error:
                if attempt >= self._retry.attempts or not is_transient(error):
                    raise StripeRequestFailed(step, error, attempt) from error
            attempt += 1
            self._retry.sleep(self._retry.delay_before(attempt))
