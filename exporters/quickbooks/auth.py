"""Access tokens for the QuickBooks API: used as is, or refreshed through intuit-oauth.

intuit-oauth's `AuthClient` fetches Intuit's discovery document when it is
constructed, so it is built only when a token is first needed, and never in
the token-as-is mode (which therefore needs no network beyond the API base).
"""

import json
from typing import Protocol

import requests
from intuitlib.client import AuthClient
from intuitlib.exceptions import AuthClientError

from exporters.quickbooks.errors import QuickBooksAuthError, TransientError
from exporters.quickbooks.settings import QuickBooksSettings

# The refresh grant never redirects; AuthClient insists on the argument anyway.
_NO_REDIRECT = ""


class TokenSource(Protocol):
    def access_token(self) -> str:
        """The bearer token to send now."""

    def refresh(self) -> None:
        """Get a new access token after a 401, or raise `QuickBooksAuthError`."""


class StaticToken:
    """`QBO_ACCESS_TOKEN`, used as is: a 401 cannot be cured, only reported."""

    def __init__(self, token: str) -> None:
        self._token = token

    def access_token(self) -> str:
        return self._token

    def refresh(self) -> None:
        raise QuickBooksAuthError(
            "QuickBooks rejected QBO_ACCESS_TOKEN (HTTP 401: expired or wrong). It is used as "
            "is, without refresh: set a fresh token, or configure OAuth with QBO_CLIENT_ID, "
            "QBO_CLIENT_SECRET and QBO_REFRESH_TOKEN instead"
        )


class OAuthTokens:
    """The refresh-token flow: one refresh up front, and one more after each 401."""

    def __init__(self, settings: QuickBooksSettings) -> None:
        self._settings = settings
        self._client: AuthClient | None = None

    def access_token(self) -> str:
        client = self._auth_client()
        if client.access_token is None:
            self.refresh()
        return client.access_token

    def refresh(self) -> None:
        client = self._auth_client()
        try:
            client.refresh()
        except AuthClientError as error:
            raise QuickBooksAuthError(
                f"refreshing the QuickBooks access token failed: HTTP {error.status_code} "
                f"{_oauth_error(error.content)} from the token endpoint; check QBO_CLIENT_ID, "
                "QBO_CLIENT_SECRET and QBO_REFRESH_TOKEN (refresh tokens expire after 100 "
                "days unused)"
            ) from None
        except requests.RequestException as error:
            raise TransientError(f"token refresh: {type(error).__name__}") from error

    def _auth_client(self) -> AuthClient:
        if self._client is None:
            try:
                self._client = AuthClient(
                    client_id=self._settings.client_id,
                    client_secret=self._settings.client_secret,
                    redirect_uri=_NO_REDIRECT,
                    environment=self._settings.environment,
                    refresh_token=self._settings.refresh_token,
                    realm_id=self._settings.realm_id,
                )
            except (AuthClientError, requests.RequestException) as error:
                raise TransientError(
                    f"fetching Intuit's OAuth discovery document: {type(error).__name__}"
                ) from error
        return self._client


def token_source(settings: QuickBooksSettings) -> TokenSource:
    if settings.uses_oauth:
        return OAuthTokens(settings)
    return StaticToken(settings.access_token or "")


def _oauth_error(content: bytes) -> str:
    """The `error` code of an OAuth error body ("invalid_grant"), never the body itself."""
    try:
        body = json.loads(content)
    except ValueError:
        return "(no OAuth error code)"
    return str(body.get("error", "(no OAuth error code)")) if isinstance(body, dict) else ""
