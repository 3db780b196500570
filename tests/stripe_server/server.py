"""A threaded HTTP server on 127.0.0.1 that answers like Stripe's API, for tests.

Around the endpoints (`api`) it does what Stripe's front end does: Bearer
authentication, form decoding, JSON errors, and the idempotency layer (a key
replays its saved response; the same key with other parameters is a 400
`idempotency_error`). Injected faults act before the idempotency layer, as a
load balancer's errors would, so a retry after one is a fresh request.
"""

import json
import secrets
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from tests.stripe_server.api import StripeAccount, route
from tests.stripe_server.errors import ApiError
from tests.stripe_server.faults import Cards, Faults
from tests.stripe_server.forms import parse_form

API_VERSION = "2026-10-28.endive"


@dataclass(frozen=True)
class LoggedRequest:
    """A request as the server saw it; `applied` is False for replays and injected faults."""

    method: str
    path: str
    idempotency_key: str | None
    status: int | None
    replayed: bool
    applied: bool


@dataclass(frozen=True)
class _Saved:
    method: str
    path: str
    params: dict
    status: int
    body: dict


class FakeStripe:
    """Start with `with FakeStripe() as stripe_server:`; `api_base` is its address."""

    def __init__(self, api_key: str = "sk_test_fake_" + secrets.token_hex(12)) -> None:
        self.api_key = api_key
        self.account = StripeAccount()
        self.faults = Faults()
        self.cards = Cards(self.account.declining)
        self.requests: list[LoggedRequest] = []
        self._saved: dict[str, _Saved] = {}
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def api_base(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> "FakeStripe":
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def applied_writes(self) -> list[LoggedRequest]:
        """POSTs that changed something: not replays, not injected faults."""
        return [r for r in self.requests if r.method == "POST" and r.applied]

    def handle(
        self,
        method: str,
        path: str,
        params: dict,
        authorization: str | None,
        idempotency_key: str | None,
    ) -> tuple[int, dict, dict[str, str], bool]:
        """(status, body, extra headers, lose the reply) for one request."""
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        try:
            self._authenticate(authorization)
            injected = self.faults.error_for(method, path)
            if injected:
                self._log(method, path, idempotency_key, injected.status, applied=False)
                return injected.status, injected.body(), headers, False
            with self.account.lock:
                if method == "POST" and idempotency_key:
                    replay = self._replay(idempotency_key, method, path, params)
                    if replay is not None:
                        self._log(method, path, idempotency_key, replay.status, replayed=True)
                        headers["Idempotent-Replayed"] = "true"
                        return replay.status, replay.body, headers, False
                status, body, saved = self._apply(method, path, params)
                if method == "POST" and idempotency_key and saved:
                    self._saved[idempotency_key] = _Saved(method, path, params, status, body)
            lose = self.faults.loses_reply(method, path)
            self._log(method, path, idempotency_key, None if lose else status, applied=True)
            return status, body, headers, lose
        except ApiError as error:
            self._log(method, path, idempotency_key, error.status, applied=False)
            return error.status, error.body(), headers, False

    def _authenticate(self, authorization: str | None) -> None:
        if not authorization or not authorization.startswith("Bearer "):
            raise ApiError(
                401,
                "invalid_request_error",
                "You did not provide an API key. You need to provide your API key in the "
                "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
                "YOUR_SECRET_KEY').",
                saved=False,
            )
        key = authorization.removeprefix("Bearer ")
        if not secrets.compare_digest(key, self.api_key):
            raise ApiError(
                401,
                "invalid_request_error",
                f"Invalid API Key provided: {key[:8]}{'*' * 4}{key[-4:]}",
                code="api_key_invalid",
                saved=False,
            )

    def _replay(self, key: str, method: str, path: str, params: dict) -> _Saved | None:
        saved = self._saved.get(key)
        if saved is None:
            return None
        if (saved.method, saved.path, saved.params) != (method, path, params):
            raise ApiError(
                400,
                "idempotency_error",
                "Keys for idempotent requests can only be used with the same parameters they "
                f"were first used with. Try using a key other than '{key}' if you meant to "
                "execute a different request.",
                saved=False,
            )
        return saved

    def _apply(self, method: str, path: str, params: dict) -> tuple[int, dict, bool]:
        try:
            handler, ids = route(method, path)
            return 200, json.loads(json.dumps(handler(self.account, params, ids))), True
        except ApiError as error:
            return error.status, error.body(), error.saved

    def _log(
        self,
        method: str,
        path: str,
        key: str | None,
        status: int | None,
        *,
        replayed: bool = False,
        applied: bool = False,
    ) -> None:
        self.requests.append(LoggedRequest(method, path, key, status, replayed, applied))


def _handler_for(server: FakeStripe) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the SDK's session expects
        disable_nagle_algorithm = True  # headers and body go out as separate writes
        timeout = 10

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            self._answer("GET", url.path, parse_form(url.query))

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode()
            self._answer("POST", urlsplit(self.path).path, parse_form(body))

        def _answer(self, method: str, path: str, params: dict) -> None:
            status, body, headers, lose = server.handle(
                method,
                path,
                params,
                self.headers.get("Authorization"),
                self.headers.get("Idempotency-Key"),
            )
            if lose:
                self.close_connection = True
                return
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("Request-Id", "req_" + secrets.token_hex(7))
            self.send_header("Stripe-Version", API_VERSION)
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the request log on `FakeStripe.requests` is what tests read."""

    return Handler
