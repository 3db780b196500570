"""The Stripe API requests that bill one finalized invoice, built without the network.

The sequence is: find the customer by `metadata.customer_id`, create it if
missing, create a draft invoice that pulls in no pending items, add one
invoice item per line of ours (tax, discounts and credits included, the last
two negative), then finalize. Stripe computes nothing itself (no tax, no
coupons), so its `amount_due` is our `total` in minor units.

Responses are referred to by placeholders: a request with `binds="customer"`
names its response, and `{{customer.id}}` in a later request stands for that
response's `id` (see `exporters.references`). The sync client fills them in
with `bind_references` and skips a request whose name is already bound (a
customer found by search, or an id recorded by an earlier run). Idempotency
keys are `<invoice number>:<step>`, so a crash and a re-run within Stripe's
24-hour key window never create anything twice; the sync state covers longer
gaps.
"""

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time

from exporters.invoice_documents import (
    CreditNoteRef,
    InvoiceDataError,
    InvoiceDocument,
    check_balances,
)
from exporters.money import to_minor_units
from exporters.references import substitute_ids


@dataclass(frozen=True)
class StripeRequest:
    """One call to Stripe's API: `params` as the SDK takes them (nested dicts)."""

    step: str
    method: str
    path: str
    params: dict
    idempotency_key: str | None
    binds: str | None = None


def build_stripe_requests(doc: InvoiceDocument) -> list[StripeRequest]:
    """All requests, in order, that create and finalize `doc` in Stripe."""
    number = doc.require_number()
    check_balances(doc)
    requests = [
        _find_customer(doc),
        _create_customer(doc, number),
        _create_invoice(doc, number),
        *_invoice_items(doc, number),
        _finalize_invoice(number),
    ]
    _check_items_sum_to_total(doc, requests)
    return requests


def build_payment_request(number: str) -> StripeRequest:
    """The charge of a finalized invoice, sent once the payment grace period is over.

    Kept out of `build_stripe_requests`: an invoice is created and finalized
    when it is issued, but charged only once it is due (`due_on`), usually by
    a later run.
    """
    return StripeRequest(
        step="pay_invoice",
        method="POST",
        path="/v1/invoices/{{invoice.id}}/pay",
        params={},
        idempotency_key=f"{number}:pay_invoice",
    )


def build_credit_note_request(doc: InvoiceDocument, note: CreditNoteRef) -> StripeRequest:
    """A Stripe credit note for part of an open invoice, before it is charged.

    On an open invoice a credit note lowers `amount_due` and `amount_remaining`
    (its `pre_payment_amount`), so the later charge is the total less every
    credit. Our note's id is in the key and the metadata.
    """
    number = doc.require_number()
    step = f"credit_note:{note.credit_note_id}"
    return StripeRequest(
        step=step,
        method="POST",
        path="/v1/credit_notes",
        params={
            "invoice": "{{invoice.id}}",
            "amount": to_minor_units(note.amount, doc.currency),
            "memo": f"Credit note {note.credit_note_id} on invoice {number}",
            "metadata": {"invoice_number": number, "credit_note_id": note.credit_note_id},
        },
        idempotency_key=f"{number}:{step}",
    )


def build_void_request(number: str, note: CreditNoteRef) -> StripeRequest:
    """Void an open invoice that `note` credits in full: it can then never be charged."""
    return StripeRequest(
        step="void_invoice",
        method="POST",
        path="/v1/invoices/{{invoice.id}}/void",
        params={},
        idempotency_key=f"{number}:void_invoice:{note.credit_note_id}",
    )


def bind_references(request: StripeRequest, ids: Mapping[str, str]) -> StripeRequest:
    """The request with `{{name.id}}` placeholders replaced by ids from earlier responses."""
    return replace(
        request,
        path=substitute_ids(request.path, ids, step=request.step),
        params=substitute_ids(request.params, ids, step=request.step),
    )


def _find_customer(doc: InvoiceDocument) -> StripeRequest:
    """Search by our customer id; reads need no idempotency key."""
    customer_id = doc.customer_id.replace("\\", "\\\\").replace("'", "\\'")
    return StripeRequest(
        step="find_customer",
        method="GET",
        path="/v1/customers/search",
        params={"query": f"metadata['customer_id']:'{customer_id}'"},
        idempotency_key=None,
        binds="customer",
    )


def _create_customer(doc: InvoiceDocument, number: str) -> StripeRequest:
    params: dict = {
        "name": doc.customer_name,
        "email": doc.customer_email,
        "metadata": {"customer_id": doc.customer_id},
    }
    address = _address(doc)
    if address:
        params["address"] = address
    return _post(number, "create_customer", "/v1/customers", params, binds="customer")


def _create_invoice(doc: InvoiceDocument, number: str) -> StripeRequest:
    """A draft that Stripe will neither finalize nor charge on its own schedule.

    `auto_advance=false` keeps the payment grace period ours; `exclude` keeps
    stray pending items of the customer off our invoice.
    """
    params = {
        "customer": "{{customer.id}}",
        "currency": doc.currency.lower(),
        "collection_method": "charge_automatically",
        "auto_advance": False,
        "pending_invoice_items_behavior": "exclude",
        "description": f"Invoice {number}",
        "metadata": {
            "invoice_number": number,
            "customer_id": doc.customer_id,
            "period_start": doc.period_start.isoformat(),
        },
    }
    return _post(number, "create_invoice", "/v1/invoices", params, binds="invoice")


def _invoice_items(doc: InvoiceDocument, number: str) -> list[StripeRequest]:
    """One item per line of ours, with the amount already computed: Stripe does no math."""
    start, end = _epoch(doc.period_start), _epoch(doc.period_end)
    return [
        _post(
            number,
            f"invoiceitem:{line.line_number}",
            "/v1/invoiceitems",
            {
                "customer": "{{customer.id}}",
                "invoice": "{{invoice.id}}",
                "amount": to_minor_units(line.amount, doc.currency),
                "currency": doc.currency.lower(),
                "description": line.description,
                "period": {"start": start, "end": end},
                "metadata": {
                    "invoice_number": number,
                    "line_number": str(line.line_number),
                    "line_type": line.line_type,
                    "invoice_line_id": line.invoice_line_id,
                },
            },
            binds=f"invoiceitem_{line.line_number}",
        )
        for line in doc.lines
    ]


def _finalize_invoice(number: str) -> StripeRequest:
    return StripeRequest(
        step="finalize_invoice",
        method="POST",
        path="/v1/invoices/{{invoice.id}}/finalize",
        params={"auto_advance": False},
        idempotency_key=f"{number}:finalize_invoice",
    )


def _check_items_sum_to_total(doc: InvoiceDocument, requests: list[StripeRequest]) -> None:
    items = sum(r.params["amount"] for r in requests if r.path == "/v1/invoiceitems")
    total = to_minor_units(doc.total, doc.currency)
    if items != total:
        raise InvoiceDataError(
            f"invoice {doc.invoice_id}: Stripe items sum to {items} minor units "
            f"of {doc.currency}, the invoice total is {total}"
        )


def _post(number: str, step: str, path: str, params: dict, *, binds: str) -> StripeRequest:
    return StripeRequest(
        step=step,
        method="POST",
        path=path,
        params=params,
        idempotency_key=f"{number}:{step}",
        binds=binds,
    )


def _address(doc: InvoiceDocument) -> dict[str, str]:
    address = doc.customer_address
    fields = {
        "line1": address.line1,
        "line2": address.line2,
        "city": address.city,
        "state": address.region,
        "postal_code": address.postal_code,
        "country": address.country,
    }
    return {key: value for key, value in fields.items() if value}


def _epoch(day: date) -> int:
    return int(datetime.combine(day, time(), tzinfo=UTC).timestamp())
