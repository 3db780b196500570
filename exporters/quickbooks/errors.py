"""What can go wrong talking to QuickBooks Online, sorted by what the sync does about it."""

from quickbooks.exceptions import QuickbooksException

STALE_SYNC_TOKEN = 5010
DUPLICATE_DOC_NUMBER = 6140
DUPLICATE_NAME = 6240


class QuickBooksConfigError(ValueError):
    """The environment does not configure QuickBooks completely or correctly."""


class QuickBooksAuthError(RuntimeError):
    """QuickBooks refused our credentials and a refresh cannot fix it: the run stops."""


class QuickBooksSyncError(RuntimeError):
    """One invoice cannot be synced; the others still are."""


class TransientError(RuntimeError):
    """A failure worth retrying: throttling (429), a 5xx, or a network error."""


class TokenRejected(RuntimeError):
    """HTTP 401: the access token is expired or wrong."""


def fault_code(error: QuickbooksException) -> int | None:
    """The QuickBooks Fault code of an SDK exception (python-quickbooks makes it an int)."""
    return error.error_code if isinstance(error.error_code, int) else None


def describe(error: BaseException) -> str:
    """One line for the CLI and the status table; the SDK's own text spans lines."""
    if isinstance(error, QuickbooksException):
        detail = f": {error.detail}" if error.detail else ""
        return " ".join(f"QuickBooks error {error.error_code} {error.message}{detail}".split())
    return " ".join(str(error).split())
