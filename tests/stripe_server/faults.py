"""Failures a test asks for: errors before a request reaches Stripe, replies lost after it did.

A fault matches a request by method and a regular expression on its path,
lets `after` matching requests through, then fires `times` times.
"""

import re
import threading
from dataclasses import dataclass

from tests.stripe_server.errors import ApiError

_ERROR_BODIES = {
    429: ("invalid_request_error", "rate_limit", "Too many requests hit the API too quickly."),
    500: ("api_error", None, "An unknown error occurred"),
    502: ("api_error", None, "Bad gateway"),
    503: ("api_error", None, "The service is temporarily unavailable"),
}


@dataclass
class _Fault:
    kind: str  # "error" or "lose_reply"
    method: str
    pattern: re.Pattern[str]
    after: int
    times: int
    status: int = 500

    def claims(self, method: str, path: str) -> bool:
        """True when this fault fires for the request (and counts it)."""
        if self.times <= 0 or method != self.method or not self.pattern.search(path):
            return False
        if self.after > 0:
            self.after -= 1
            return False
        self.times -= 1
        return True


class Faults:
    """The faults armed for the next requests; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[_Fault] = []

    def fail_next(
        self,
        path_pattern: str,
        *,
        status: int = 500,
        times: int = 1,
        after: int = 0,
        method: str = "POST",
    ) -> None:
        """Answer the next matching requests with `status` without applying them."""
        if status not in _ERROR_BODIES:
            raise ValueError(f"status must be one of {sorted(_ERROR_BODIES)}")
        self._arm(_Fault("error", method, re.compile(path_pattern), after, times, status))

    def lose_reply_after_apply(
        self, path_pattern: str, *, times: int = 1, after: int = 0, method: str = "POST"
    ) -> None:
        """Apply the next matching requests, then close the connection without answering."""
        self._arm(_Fault("lose_reply", method, re.compile(path_pattern), after, times))

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def error_for(self, method: str, path: str) -> ApiError | None:
        """The injected error for this request, if one is armed (checked before anything runs)."""
        fault = self._claim("error", method, path)
        if fault is None:
            return None
        error_type, code, message = _ERROR_BODIES[fault.status]
        return ApiError(fault.status, error_type, message, code=code, saved=False)

    def loses_reply(self, method: str, path: str) -> bool:
        return self._claim("lose_reply", method, path) is not None

    def _arm(self, fault: _Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def _claim(self, kind: str, method: str, path: str) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.kind == kind and fault.claims(method, path):
                    return fault
        return None


class Cards:
    """Which customers' cards decline: by Stripe id or by `metadata.customer_id`."""

    def __init__(self, declining: set[str]) -> None:
        self._declining = declining

    def decline(self, customer: str) -> None:
        self._declining.add(customer)

    def accept(self, customer: str) -> None:
        self._declining.discard(customer)
