"""QuickBooks Online settings from the environment (SPEC "Configuration of the integrations").

Two ways in:

- `QBO_API_BASE` + `QBO_ACCESS_TOKEN` (+ `QBO_REALM_ID`): a test server, and a
  token used as is, never refreshed. This wins when both sets are present,
  because it is the explicit one.
- `QBO_CLIENT_ID`, `QBO_CLIENT_SECRET`, `QBO_REFRESH_TOKEN`, `QBO_REALM_ID`
  and optionally `QBO_ENVIRONMENT` (`production`, the default, or `sandbox`;
  intuit-oauth also takes the URL of a discovery document): the OAuth
  refresh flow. The API base follows the environment unless `QBO_API_BASE`
  says otherwise.

`QBO_INCOME_ACCOUNT` names the income account the service items post to
(default "Services"). Secrets stay out of `repr` so a settings object can be
logged; they are never written anywhere.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from quickbooks.client import QuickBooks

from exporters.quickbooks.errors import QuickBooksConfigError
from exporters.quickbooks.payloads import DEFAULT_INCOME_ACCOUNT

ENVIRONMENTS = ("production", "sandbox")
_LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class QuickBooksSettings:
    """Where the company is and how to authenticate; build with `from_environ`."""

    realm_id: str
    api_base: str
    access_token: str | None = field(default=None, repr=False)
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    environment: str = "production"
    income_account: str = DEFAULT_INCOME_ACCOUNT
    timeout_seconds: float = 30.0

    @property
    def uses_oauth(self) -> bool:
        """True when 401s can be cured by refreshing; False for a token used as is."""
        return self.access_token is None

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> "QuickBooksSettings":
        """Read the QBO_* variables; an incomplete or unsafe set is a `QuickBooksConfigError`."""
        values = {name: environ.get(name, "").strip() for name in _VARIABLES}
        realm_id = values["QBO_REALM_ID"]
        if not realm_id:
            raise QuickBooksConfigError("QBO_REALM_ID is not set: it names the QuickBooks company")
        income_account = values["QBO_INCOME_ACCOUNT"] or DEFAULT_INCOME_ACCOUNT
        api_base = _api_base(values["QBO_API_BASE"]) if values["QBO_API_BASE"] else None
        if api_base and values["QBO_ACCESS_TOKEN"]:
            return cls(
                realm_id=realm_id,
                api_base=api_base,
                access_token=values["QBO_ACCESS_TOKEN"],
                income_account=income_account,
            )
        missing = [name for name in _OAUTH_VARIABLES if not values[name]]
        if missing:
            raise QuickBooksConfigError(
                f"QuickBooks is not fully configured: {', '.join(missing)} missing "
                "(or set QBO_API_BASE and QBO_ACCESS_TOKEN for a test server)"
            )
        environment = values["QBO_ENVIRONMENT"] or "production"
        if environment.lower() in ENVIRONMENTS:
            environment = environment.lower()
        if environment not in ENVIRONMENTS and not api_base:
            raise QuickBooksConfigError(
                f"QBO_ENVIRONMENT={environment!r} is not one of {ENVIRONMENTS}; "
                "a discovery document URL also needs QBO_API_BASE"
            )
        return cls(
            realm_id=realm_id,
            api_base=api_base or _default_api_base(environment),
            client_id=values["QBO_CLIENT_ID"],
            client_secret=values["QBO_CLIENT_SECRET"],
            refresh_token=values["QBO_REFRESH_TOKEN"],
            environment=environment,
            income_account=income_account,
        )


_OAUTH_VARIABLES = ("QBO_CLIENT_ID", "QBO_CLIENT_SECRET", "QBO_REFRESH_TOKEN")
_VARIABLES = (
    *_OAUTH_VARIABLES,
    "QBO_REALM_ID",
    "QBO_ENVIRONMENT",
    "QBO_API_BASE",
    "QBO_ACCESS_TOKEN",
    "QBO_INCOME_ACCOUNT",
)


def _api_base(address: str) -> str:
    """`QBO_API_BASE` as the SDK's `.../v3` base; plain http only to this machine.

    A bearer token sent over plain http to another host could be read on the way.
    """
    url = urlsplit(address)
    if url.scheme not in ("http", "https") or not url.hostname:
        raise QuickBooksConfigError(f"QBO_API_BASE={address!r} is not an http(s) address")
    if url.scheme == "http" and url.hostname not in _LOOPBACK_HOSTS:
        raise QuickBooksConfigError(
            f"QBO_API_BASE={address!r}: plain http is only allowed to this machine; use https"
        )
    base = address.rstrip("/")
    return base if base.endswith("/v3") else f"{base}/v3"


def _default_api_base(environment: str) -> str:
    """Intuit's address for the environment, read from the SDK (never changed there)."""
    return QuickBooks.sandbox_api_url_v3 if environment == "sandbox" else QuickBooks.api_url_v3
