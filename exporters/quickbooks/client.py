"""python-quickbooks pointed at one company, one API base and one token source.

The SDK keeps its API base in class attributes (`api_url_v3`) and its
session in `requests_oauthlib`, which refuses plain http. Rather than
changing either for every user of the SDK in the process, `QuickBooksClient`
is a subclass whose instances carry their own base URL, token source and
`requests` session, and which sorts responses the sync must treat
specially (401, 429, 5xx, network errors) into exceptions before the SDK
parses them. Everything else (URLs, query text, `requestid`, JSON, Fault
codes) is the SDK's own.
"""

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

import requests
from quickbooks.client import QuickBooks

from exporters.quickbooks.auth import TokenSource
from exporters.quickbooks.errors import (
    QuickBooksAuthError,
    QuickBooksSyncError,
    TokenRejected,
    TransientError,
)

MINOR_VERSION = 75
TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})

_log = logging.getLogger(__name__)
T = TypeVar("T")


class QuickBooksClient(QuickBooks):
    """A `QuickBooks` whose base URL and credentials belong to this instance only."""

    def __new__(
        cls,
        *,
        api_base: str,
        realm_id: str,
        tokens: TokenSource,
        session: requests.Session,
        timeout_seconds: float,
    ) -> "QuickBooksClient":
        return super().__new__(
            cls, company_id=realm_id, minorversion=MINOR_VERSION, use_decimal=True
        )

    def __init__(
        self,
        *,
        api_base: str,
        realm_id: str,
        tokens: TokenSource,
        session: requests.Session,
        timeout_seconds: float,
    ) -> None:
        self._api_base = api_base.rstrip("/")
        self._tokens = tokens
        self._http = session
        self._timeout = timeout_seconds

    @property
    def api_url(self) -> str:
        return self._api_base

    def process_request(
        self,
        request_type: str,
        url: str,
        headers: dict,
        params: dict | None = None,
        data: object = None,
    ) -> requests.Response:
        headers = {**headers, "Authorization": f"Bearer {self._tokens.access_token()}"}
        try:
            response = self._http.request(
                request_type, url, headers=headers, params=params, data=data,
                timeout=self._timeout,
            )  # fmt: skip
        except requests.RequestException as error:
            raise TransientError(f"network error: {type(error).__name__}") from error
        if response.status_code == 401:
            raise TokenRejected("HTTP 401 from QuickBooks")
        if response.status_code in TRANSIENT_STATUSES:
            raise TransientError(f"HTTP {response.status_code} from QuickBooks")
        return response


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded exponential backoff: 0.5 s, 1 s, 2 s ... at most `max_delay`, `attempts` tries."""

    attempts: int = 5
    first_delay: float = 0.5
    max_delay: float = 8.0

    def delays(self) -> Iterator[float]:
        for retry in range(self.attempts - 1):
            yield min(self.first_delay * 2**retry, self.max_delay)


class QuickBooksApi:
    """Runs SDK calls with retries for transient failures and one token refresh per 401."""

    def __init__(
        self,
        client: QuickBooksClient,
        tokens: TokenSource,
        *,
        retry: RetryPolicy,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self._tokens = tokens
        self._retry = retry
        self._sleep = sleep

    def call(self, what: str, operation: Callable[[QuickBooksClient], T]) -> T:
        """`operation(client)`, retried; writes are safe to retry because they carry a requestid."""
        delays = self._retry.delays()
        refresh_first = False
        refreshed = False
        while True:
            try:
                if refresh_first:
                    self._tokens.refresh()
                    refresh_first = False
                return operation(self.client)
            except TokenRejected:
                if refreshed:
                    raise QuickBooksAuthError(
                        f"{what}: QuickBooks still answers 401 after a token refresh; check "
                        "that the OAuth app is connected to company QBO_REALM_ID"
                    ) from None
                refresh_first = refreshed = True
            except TransientError as error:
                delay = next(delays, None)
                if delay is None:
                    raise QuickBooksSyncError(
                        f"{what}: {error}; gave up after {self._retry.attempts} attempts"
                    ) from error
                _log.warning("QuickBooks %s: %s; retrying in %.1f s", what, error, delay)
                self._sleep(delay)
