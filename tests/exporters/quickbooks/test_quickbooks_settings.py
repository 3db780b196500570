"""Which environment variables configure the QuickBooks sync, and how."""

import pytest
from quickbooks.client import QuickBooks

from exporters.credentials import is_configured
from exporters.quickbooks.errors import QuickBooksConfigError
from exporters.quickbooks.settings import QuickBooksSettings

OAUTH = {
    "QBO_CLIENT_ID": "app-id",
    "QBO_CLIENT_SECRET": "app-secret-value",
    "QBO_REFRESH_TOKEN": "refresh-token-value",
    "QBO_REALM_ID": "123",
}
TEST_SERVER = {
    "QBO_API_BASE": "http://127.0.0.1:8123",
    "QBO_ACCESS_TOKEN": "access-token-value",
    "QBO_REALM_ID": "123",
}


def test_token_as_is_mode_points_at_the_test_server_without_oauth():
    settings = QuickBooksSettings.from_environ(TEST_SERVER)

    assert not settings.uses_oauth
    assert settings.api_base == "http://127.0.0.1:8123/v3"
    assert settings.access_token == "access-token-value"
    assert is_configured("quickbooks", TEST_SERVER)


def test_oauth_mode_uses_intuits_address_for_the_environment():
    production = QuickBooksSettings.from_environ(OAUTH)
    sandbox = QuickBooksSettings.from_environ({**OAUTH, "QBO_ENVIRONMENT": "Sandbox"})

    assert production.uses_oauth
    assert production.api_base == QuickBooks.api_url_v3 == "https://quickbooks.api.intuit.com/v3"
    assert sandbox.api_base == QuickBooks.sandbox_api_url_v3
    assert (production.environment, sandbox.environment) == ("production", "sandbox")


def test_the_explicit_token_wins_over_oauth_and_the_income_account_is_configurable():
    settings = QuickBooksSettings.from_environ(
        {**OAUTH, **TEST_SERVER, "QBO_INCOME_ACCOUNT": "Subscription revenue"}
    )

    assert not settings.uses_oauth
    assert settings.income_account == "Subscription revenue"


def test_secrets_stay_out_of_repr():
    shown = repr(QuickBooksSettings.from_environ(OAUTH)) + repr(
        QuickBooksSettings.from_environ(TEST_SERVER)
    )

    assert "app-secret-value" not in shown
    assert "refresh-token-value" not in shown
    assert "access-token-value" not in shown


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({**OAUTH, "QBO_REALM_ID": ""}, "QBO_REALM_ID is not set"),
        ({**OAUTH, "QBO_REFRESH_TOKEN": ""}, "QBO_REFRESH_TOKEN missing"),
        ({**OAUTH, "QBO_ENVIRONMENT": "staging"}, "'staging' is not one of"),
        ({**TEST_SERVER, "QBO_API_BASE": "http://qbo.example.com"}, "plain http is only"),
        ({**TEST_SERVER, "QBO_API_BASE": "127.0.0.1:8123"}, "not an http"),
    ],
)
def test_incomplete_or_unsafe_settings_are_refused(environ, message):
    with pytest.raises(QuickBooksConfigError, match=message):
        QuickBooksSettings.from_environ(environ)
