"""The outbox: the exact requests an integration would send, one JSON file each.

With no credentials configured, a sync writes its requests here instead of
sending them, so finance can see what would happen and an engineer can
replay them. Files are `<outbox>/<provider>/<invoice number>/<NNN>-<step>.json`,
pretty-printed with sorted keys so they diff cleanly, and rewritten only
when their content changes.
"""

import json
import os
import re
from pathlib import Path

from exporters.files import write_atomically

PROVIDERS = ("stripe", "quickbooks")

# Environment variables holding secrets (SPEC "Configuration of the integrations").
SECRET_ENV_VARS = (
    "STRIPE_API_KEY",
    "QBO_CLIENT_SECRET",
    "QBO_REFRESH_TOKEN",
    "QBO_ACCESS_TOKEN",
    "SMTP_PASSWORD",
)
_MIN_SECRET_LENGTH = 8
_UNSAFE_FILENAME_CHARS = re.compile(r"[^A-Za-z0-9_.-]+")


class SecretInOutboxError(RuntimeError):
    """A request about to be written contains the value of a secret."""


def write_outbox_request(
    outbox_dir: Path, provider: str, invoice_number: str, sequence: int, request: dict
) -> Path:
    """Write one request (a dict with a "step" key) and return its path.

    Writing the same content again leaves the file untouched, so re-running a
    period does not churn the outbox. A request that contains a configured
    secret is refused: the outbox is meant to be read and shared.
    """
    if provider not in PROVIDERS:
        raise ValueError(f"unknown provider {provider!r}; expected one of {PROVIDERS}")
    if "step" not in request:
        raise ValueError(f"outbox request {sequence} of {invoice_number} has no 'step': {request}")
    text = json.dumps(request, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    _refuse_secrets(text, f"{provider} request {request['step']} of {invoice_number}")
    path = (
        outbox_dir
        / provider
        / _safe(invoice_number)
        / f"{sequence:03d}-{_safe(request['step'])}.json"
    )
    content = text.encode()
    if not (path.exists() and path.read_bytes() == content):
        write_atomically(path, content)
    return path


def _refuse_secrets(text: str, what: str) -> None:
    for name in SECRET_ENV_VARS:
        value = os.environ.get(name, "")
        if len(value) >= _MIN_SECRET_LENGTH and value in text:
            raise SecretInOutboxError(f"{what} contains the value of ${name}; not written")


def _safe(name: str) -> str:
    """A file name from a step or invoice number: `invoiceitem:3` -> `invoiceitem-3`."""
    return _UNSAFE_FILENAME_CHARS.sub("-", name).strip("-") or "unnamed"
