"""What a sync does when its provider has no credentials: write, send nothing, say so.

SPEC: "With no credentials configured, an integration writes the exact
requests it would send to an outbox folder and says so; it never pretends to
have synced." The report's message is what the CLI and the Dagster asset print.
"""

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from exporters.credentials import REQUIRED_VARIABLES
from exporters.invoice_documents import InvoiceDocument
from exporters.outbox import write_outbox_request
from exporters.quickbooks.payloads import build_quickbooks_requests
from exporters.stripe.payloads import build_stripe_requests

_BUILDERS: dict[str, Callable[[InvoiceDocument], list]] = {
    "stripe": build_stripe_requests,
    "quickbooks": build_quickbooks_requests,
}
_DISPLAY_NAMES = {"stripe": "Stripe", "quickbooks": "QuickBooks Online"}


@dataclass(frozen=True)
class OutboxReport:
    """What was written for one provider; nothing in it was sent."""

    provider: str
    directory: Path
    invoice_numbers: tuple[str, ...]
    files: tuple[Path, ...]

    @property
    def message(self) -> str:
        name = _DISPLAY_NAMES[self.provider]
        return (
            f"{name} is NOT configured: nothing was sent to {name}. "
            f"The requests for {_count(len(self.invoice_numbers), 'invoice')} "
            f"({_count(len(self.files), 'file')}) were written to {self.directory}. "
            f"To sync, set {_credentials_hint(self.provider)}."
        )


def write_invoice_outbox(
    docs: Iterable[InvoiceDocument], outbox_dir: Path, provider: str
) -> OutboxReport:
    """Write the full request sequence of every finalized invoice in `docs` for `provider`.

    All requests are built before any file is written, so an invoice that
    cannot be exported stops the run without leaving a partial outbox.
    """
    if provider not in _BUILDERS:
        raise ValueError(f"unknown provider {provider!r}; expected one of {tuple(_BUILDERS)}")
    build = _BUILDERS[provider]
    planned = [(doc.require_number(), build(doc)) for doc in docs]
    files = [
        write_outbox_request(outbox_dir, provider, number, sequence, asdict(request))
        for number, requests in planned
        for sequence, request in enumerate(requests, start=1)
    ]
    return OutboxReport(
        provider=provider,
        directory=outbox_dir / provider,
        invoice_numbers=tuple(number for number, _ in planned),
        files=tuple(files),
    )


def _credentials_hint(provider: str) -> str:
    """The variable sets `exporters.credentials` accepts, as "A and B, or C and D"."""
    return ", or ".join(_and_list(names) for names in REQUIRED_VARIABLES[provider])


def _and_list(names: tuple[str, ...]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
