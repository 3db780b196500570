"""Which integrations the environment configures (SPEC "Configuration of the integrations").

Only presence is checked here; the values are read by the sync that uses them
and are never logged or written to the outbox.
"""

from collections.abc import Mapping

REQUIRED_VARIABLES: dict[str, tuple[tuple[str, ...], ...]] = {
    "stripe": (("STRIPE_API_KEY",),),
    "quickbooks": (
        ("QBO_CLIENT_ID", "QBO_CLIENT_SECRET", "QBO_REFRESH_TOKEN", "QBO_REALM_ID"),
        ("QBO_API_BASE", "QBO_ACCESS_TOKEN", "QBO_REALM_ID"),
    ),
}


def is_configured(provider: str, environ: Mapping[str, str]) -> bool:
    """True when any one complete set of the provider's variables is set and non-empty."""
    return any(
        all(environ.get(name) for name in variable_set)
        for variable_set in REQUIRED_VARIABLES[provider]
    )
