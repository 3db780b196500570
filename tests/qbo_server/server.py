"""An HTTP server speaking the QuickBooks Online v3 endpoints our sync uses.

    with QuickBooksTestServer() as qbo:
        qbo.api_base          # http://127.0.0.1:<port>/v3, for QBO_API_BASE
        qbo.access_token      # a valid bearer token, for QBO_ACCESS_TOKEN
        qbo.discovery_url     # for QBO_ENVIRONMENT: intuit-oauth's refresh flow lands here
        qbo.company           # the books: seed, edit and inspect entities
        qbo.fail_next(503, on="Invoice")   # fault injection

Endpoints: `POST /v3/company/{realm}/{entity}` (create, or update with Id and
SyncToken), `GET /v3/company/{realm}/{entity}/{id}`, `POST
/v3/company/{realm}/query` (see `query`), the OpenID discovery document and
the OAuth token endpoint. A write carrying `requestid` that succeeded is
replayed for the same id, as QuickBooks does for its idempotency key.
Injected failures happen before anything is applied, except `lose_reply`,
which applies the request and then hangs up without answering.
"""

import base64
import json
import secrets
import threading
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from tests.qbo_server import faults
from tests.qbo_server.company import ENTITIES, Company
from tests.qbo_server.query import parse_query

DEFAULT_REALM = "9341453050000001"
_ENTITY_BY_PATH = {entity.lower(): entity for entity in ENTITIES}


@dataclass
class _Injection:
    """A planned failure: answer with `status`, or (None) apply and then hang up."""

    status: int | None
    on: str | None
    times: int


@dataclass
class RecordedRequest:
    """What the server received, for assertions (headers without Authorization)."""

    method: str
    path: str
    params: dict[str, str]
    body: str
    target: str
    answered: int | None = None


@dataclass
class _State:
    company: Company
    client_id: str
    client_secret: str
    refresh_token: str
    valid_tokens: set[str]
    replies: dict[str, tuple[int, dict]] = field(default_factory=dict)
    injections: list[_Injection] = field(default_factory=list)
    expire_on: list[str] = field(default_factory=list)
    requests: list[RecordedRequest] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class QuickBooksTestServer:
    """A QuickBooks Online company behind a real HTTP server on 127.0.0.1, free port."""

    def __init__(self, realm_id: str = DEFAULT_REALM, *, income_account: str = "Services") -> None:
        self.realm_id = realm_id
        self.client_id = "test-client-id"
        self.client_secret = "test-client-secret-" + secrets.token_hex(8)
        self.refresh_token = "test-refresh-token-" + secrets.token_hex(8)
        self.access_token = "test-access-token-" + secrets.token_hex(8)
        self.company = Company(realm_id)
        self.income_account = self.company.insert(
            "Account",
            {"Name": income_account, "AccountType": "Income", "AccountSubType": "ServiceFeeIncome",
             "Active": True},
        )  # fmt: skip
        self._state = _State(
            company=self.company,
            client_id=self.client_id,
            client_secret=self.client_secret,
            refresh_token=self.refresh_token,
            valid_tokens={self.access_token},
        )
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the server is not running")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def api_base(self) -> str:
        return f"{self.base_url}/v3"

    @property
    def discovery_url(self) -> str:
        return f"{self.base_url}/.well-known/openid_configuration"

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._state.lock:
            return list(self._state.requests)

    def __enter__(self) -> "QuickBooksTestServer":
        handler = type("Handler", (_Handler,), {"state": self._state})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._server is not None and self._thread is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)

    def fail_next(self, status: int, *, on: str | None = None, times: int = 1) -> None:
        """Answer the next `times` API requests (to entity `on`, or "query") with `status`."""
        self._inject(_Injection(status, on, times))

    def lose_reply(self, *, on: str, times: int = 1) -> None:
        """Apply the next `times` writes to entity `on`, then close the connection unanswered."""
        self._inject(_Injection(None, on, times))

    def expire_token(self, *, on: str | None = None) -> None:
        """Reject every access token issued so far with 401: now, or from the next request to `on`.

        `on` lets a token expire in the middle of a sync run.
        """
        self._check_target(on)
        with self._state.lock:
            if on is None:
                self._state.valid_tokens.clear()
            else:
                self._state.expire_on.append(on)

    def _inject(self, injection: _Injection) -> None:
        self._check_target(injection.on)
        with self._state.lock:
            self._state.injections.append(injection)

    @staticmethod
    def _check_target(on: str | None) -> None:
        if on is not None and on != "query" and on not in ENTITIES:
            raise ValueError(f"unknown target {on!r}; expected 'query' or one of {ENTITIES}")


class _Handler(BaseHTTPRequestHandler):
    state: _State

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: pytest shows the assertions, not an access log."""

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path == "/.well-known/openid_configuration":
            base = f"http://{self.headers['Host']}"
            self._send(200, _discovery_document(base))
            return
        self._api("GET", url.path, parse_qs(url.query), "")

    def do_POST(self) -> None:
        url = urlsplit(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        if url.path == "/oauth2/v1/tokens/bearer":
            with self.state.lock:
                self.state.requests.append(RecordedRequest("POST", url.path, {}, "", "token"))
            self._token(body)
            return
        self._api("POST", url.path, parse_qs(url.query), body)

    def _api(self, method: str, path: str, query: dict[str, list[str]], body: str) -> None:
        params = {key: values[-1] for key, values in query.items()}
        parts = path.strip("/").split("/")
        target = _ENTITY_BY_PATH.get(parts[3], parts[3]) if len(parts) >= 4 else ""
        record = RecordedRequest(method, path, params, body, target)
        with self.state.lock:
            self.state.requests.append(record)
        try:
            status, reply, lose = self._answer(method, parts, params, body, target)
        except faults.Fault as fault:
            status, reply, lose = fault.status, fault.body(), False
        if lose:
            self.close_connection = True
            return
        record.answered = status
        self._send(status, reply)

    def _answer(
        self, method: str, parts: list[str], params: dict[str, str], body: str, target: str
    ) -> tuple[int, dict, bool]:
        if len(parts) < 4 or parts[:2] != ["v3", "company"]:
            raise faults.validation("4001", "Unsupported path", f"/{'/'.join(parts)}")
        self._authenticate(parts[2], target)
        injection = self._injection(target)
        if injection is not None and injection.status is not None:
            raise faults.injected(injection.status)
        request_id = params.get("requestid")
        with self.state.lock:
            if request_id and request_id in self.state.replies:
                status, reply = self.state.replies[request_id]
                return status, reply, injection is not None
        reply = self._dispatch(method, parts, body, target)
        if request_id and method == "POST":
            with self.state.lock:
                self.state.replies.setdefault(request_id, (200, reply))
        return 200, reply, injection is not None

    def _dispatch(self, method: str, parts: list[str], body: str, target: str) -> dict:
        company = self.state.company
        if method == "POST" and target == "query" and len(parts) == 4:
            entity, rows = company.query(parse_query(body))
            response = {"startPosition": 1, "maxResults": len(rows)} if rows else {}
            if rows:
                response[entity] = rows
            return {"QueryResponse": response, "time": faults.timestamp()}
        if target not in ENTITIES:
            raise faults.validation("4001", "Unsupported entity", f"{parts[3]!r}")
        if method == "GET" and len(parts) == 5:
            return {target: company.read(target, parts[4]), "time": faults.timestamp()}
        if method == "POST" and len(parts) == 4:
            try:
                payload = json.loads(body, parse_float=Decimal)
            except json.JSONDecodeError as error:
                raise faults.validation("2010", "Request has invalid or unsupported property",
                                        str(error)) from error  # fmt: skip
            return {target: company.write(target, payload), "time": faults.timestamp()}
        raise faults.validation("4001", "Unsupported operation", f"{method} /{'/'.join(parts)}")

    def _authenticate(self, realm_id: str, target: str) -> None:
        header = self.headers.get("Authorization", "")
        token = header.removeprefix("Bearer ")
        with self.state.lock:
            if target in self.state.expire_on:
                self.state.expire_on.remove(target)
                self.state.valid_tokens.clear()
            valid = header.startswith("Bearer ") and token in self.state.valid_tokens
        if not valid:
            raise faults.authentication_failed()
        if realm_id != self.state.company.realm_id:
            raise faults.authorization_failed(realm_id)

    def _injection(self, target: str) -> _Injection | None:
        with self.state.lock:
            for injection in self.state.injections:
                if injection.on in (None, target):
                    injection.times -= 1
                    if injection.times == 0:
                        self.state.injections.remove(injection)
                    return injection
        return None

    def _token(self, body: str) -> None:
        """intuit-oauth's refresh: Basic client credentials, form-encoded refresh_token."""
        form = {key: values[-1] for key, values in parse_qs(body).items()}
        expected = base64.b64encode(
            f"{self.state.client_id}:{self.state.client_secret}".encode()
        ).decode()
        if self.headers.get("Authorization") != f"Basic {expected}":
            self._send(401, {"error": "invalid_client"})
            return
        if form.get("grant_type") != "refresh_token" or (
            form.get("refresh_token") != self.state.refresh_token
        ):
            self._send(400, {"error": "invalid_grant"})
            return
        access_token = "test-access-token-" + secrets.token_hex(8)
        with self.state.lock:
            self.state.valid_tokens.add(access_token)
        self._send(
            200,
            {
                "token_type": "bearer",
                "access_token": access_token,
                "refresh_token": self.state.refresh_token,
                "expires_in": 3600,
                "x_refresh_token_expires_in": 8726400,
            },
        )

    def _send(self, status: int, body: dict) -> None:
        content = json.dumps(_jsonable(body)).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)


def _discovery_document(base: str) -> dict:
    return {
        "issuer": base,
        "authorization_endpoint": f"{base}/oauth2/authorize",
        "token_endpoint": f"{base}/oauth2/v1/tokens/bearer",
        "userinfo_endpoint": f"{base}/v1/openid_connect/userinfo",
        "revocation_endpoint": f"{base}/oauth2/v1/tokens/revoke",
        "jwks_uri": f"{base}/oauth2/v1/keys",
    }


def _jsonable(value: object) -> object:
    """JSON with money as numbers, as QuickBooks sends it (exact: shortest float repr)."""
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_jsonable(item) for item in value]
    if isinstance(value, Decimal):
        if value == value.to_integral_value():
            return int(value)
        as_float = float(value)
        return as_float if Decimal(repr(as_float)) == value else str(value)
    return value
