"""The QuickBooks Online requests that book one finalized invoice, built without the network.

The sequence is: find or create the customer, find the income account the
items post to, find or create one service item per kind of line, then find
or create the invoice by `DocNumber` (so a number is never booked twice).
Creates are bodies exactly as python-quickbooks sends them (`Entity.to_json()`,
its defaults included, amounts as decimal strings); queries are the text its
`Entity.filter()` sends. Ids that only exist after an earlier response are
placeholders such as `{{customer.Id}}` (see `exporters.references`);
`request_id` is QuickBooks' idempotency key, `<invoice number>:<step>`.

Tax: the rate and amount are ours (per customer, computed in dbt), so tax is
an ordinary line on a "Sales tax" service item, and every item is
non-taxable, so QuickBooks' own sales-tax engine adds nothing. Discounts and
credits are lines with negative amounts on their own service items, which
QuickBooks accepts as long as the invoice total is not negative.
"""

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal

from quickbooks.objects.customer import Customer
from quickbooks.objects.invoice import Invoice
from quickbooks.objects.item import Item
from quickbooks.objects.payment import Payment
from quickbooks.utils import build_where_clause

from exporters.invoice_documents import (
    InvoiceDataError,
    InvoiceDocument,
    InvoiceLine,
    check_balances,
)
from exporters.quickbooks.payments import PaidOutcome
from exporters.references import substitute_ids

DEFAULT_INCOME_ACCOUNT = "Services"

_ITEM_NAMES = {
    "base_fee": "Base fee",
    "seat_fee": "Seat fee",
    "usage": "Usage",
    "minimum_true_up": "Minimum commitment true-up",
    "discount": "Discount",
    "credit": "Credit applied",
    "tax": "Sales tax",
    "adjustment": "Late usage adjustment",
}
_MAX_DOC_NUMBER = 21
_MAX_DISPLAY_NAME = 500
_MAX_ITEM_NAME = 100
_MAX_REQUEST_ID = 50
_MAX_PAYMENT_REF = 21
_NAME_FORBIDDEN = re.compile(r"[:\t\r\n]+")


@dataclass(frozen=True)
class QuickBooksRequest:
    """One call through python-quickbooks.

    `method` "query" is `Entity.query(body["query"])`; "create" is
    `QuickBooks.create_object(entity, json.dumps(body), request_id=request_id)`:
    the body is already what python-quickbooks serializes (`Entity.to_json()`).
    """

    step: str
    method: str
    entity: str
    body: dict
    request_id: str | None
    binds: str | None = None


def build_quickbooks_requests(
    doc: InvoiceDocument, *, income_account: str = DEFAULT_INCOME_ACCOUNT
) -> list[QuickBooksRequest]:
    """All requests, in order, that book `doc` in QuickBooks Online.

    `income_account` names the account the service items post to; it must
    exist in the company (QuickBooks requires one on every service item).
    """
    number = doc.require_number()
    check_balances(doc)
    if len(number) > _MAX_DOC_NUMBER:
        raise InvoiceDataError(
            f"invoice number {number!r} is longer than QuickBooks' {_MAX_DOC_NUMBER}-character "
            "DocNumber"
        )
    display_name = customer_display_name(doc)
    requests = [
        _query("find_customer", "Customer", "customer", DisplayName=display_name),
        _create(number, "create_customer", Customer, "customer", _customer_body(doc, display_name)),
        _query("find_income_account", "Account", "income_account", Name=income_account),
    ]
    for name in dict.fromkeys(item_name(line) for line in doc.lines):
        binding = _item_binding(name)
        requests += [
            _query(f"find_{binding}", "Item", binding, Name=name),
            _create(number, f"create_{binding}", Item, binding, _item_body(name, income_account)),
        ]
    requests += [
        _query("find_invoice", "Invoice", "invoice", DocNumber=number),
        _create(number, "create_invoice", Invoice, "invoice", _invoice_body(doc, display_name)),
    ]
    _check_lines_sum_to_total(doc, requests[-1].body)
    return requests


def build_payment_request(doc: InvoiceDocument, paid: PaidOutcome) -> QuickBooksRequest:
    """A Payment applied to the booked invoice (`{{invoice.Id}}`) for one paid outcome.

    `PaymentRefNum` holds at most 21 characters, too few for most provider
    references, so the full reference is in `PrivateNote` as well.
    """
    number = doc.require_number()
    if paid.currency != doc.currency:
        raise InvoiceDataError(
            f"invoice {number} is in {doc.currency} but its {paid.provider} payment "
            f"{paid.provider_reference} is in {paid.currency}"
        )
    fields = {
        "CustomerRef": {"value": "{{customer.Id}}", "name": customer_display_name(doc)},
        "TotalAmt": paid.amount,
        "TxnDate": paid.occurred_at.date().isoformat(),
        "PaymentRefNum": paid.provider_reference[:_MAX_PAYMENT_REF],
        "PrivateNote": f"{paid.provider} payment {paid.provider_reference} of invoice {number}",
        "Line": [
            {
                "Amount": paid.amount,
                "LinkedTxn": [{"TxnId": "{{invoice.Id}}", "TxnType": "Invoice"}],
            }
        ],
    }
    step = f"create_payment:{paid.provider}:{paid.provider_reference}"
    return _create(number, step, Payment, "payment", fields)


def customer_display_name(doc: InvoiceDocument) -> str:
    """`"<name> (<customer_id>)"`: unique, as QuickBooks requires, even for namesakes."""
    suffix = f" ({doc.customer_id})"
    name = _clean_name(doc.customer_name)[: _MAX_DISPLAY_NAME - len(suffix)]
    return f"{name}{suffix}"


def item_name(line: InvoiceLine) -> str:
    """The service item a line is booked on: one per fee type, one per meter for usage."""
    if line.line_type not in _ITEM_NAMES:
        raise InvoiceDataError(
            f"invoice line {line.invoice_line_id}: unknown line_type {line.line_type!r}"
        )
    name = _ITEM_NAMES[line.line_type]
    if line.line_type == "usage" and line.meter_id:
        name = f"{name} - {line.meter_id}"
    return _clean_name(name)[:_MAX_ITEM_NAME]


def bind_references(request: QuickBooksRequest, ids: Mapping[str, str]) -> QuickBooksRequest:
    """The request with `{{name.Id}}` placeholders replaced by ids from earlier responses."""
    return replace(request, body=substitute_ids(request.body, ids, step=request.step))


def _customer_body(doc: InvoiceDocument, display_name: str) -> dict:
    body: dict = {
        "DisplayName": display_name,
        "CompanyName": doc.customer_name,
        "PrimaryEmailAddr": {"Address": doc.customer_email},
        "CurrencyRef": {"value": doc.currency},
        "Notes": f"Billing customer_id {doc.customer_id}",
    }
    address = doc.customer_address
    bill_address = {
        "Line1": address.line1,
        "Line2": address.line2,
        "City": address.city,
        "CountrySubDivisionCode": address.region,
        "PostalCode": address.postal_code,
        "Country": address.country,
    }
    if any(bill_address.values()):
        body["BillAddr"] = {key: value for key, value in bill_address.items() if value}
    return body


def _item_body(name: str, income_account: str) -> dict:
    return {
        "Name": name,
        "Type": "Service",
        "Description": f"{name} (usage-based billing)",
        "Taxable": False,
        "IncomeAccountRef": {"value": "{{income_account.Id}}", "name": income_account},
    }


def _invoice_body(doc: InvoiceDocument, display_name: str) -> dict:
    """The invoice; `ExchangeRate` is dropped so QuickBooks uses its rate for the date.

    python-quickbooks would otherwise send its default of 1, wrong for any
    currency other than the company's home currency.
    """
    return {
        "DocNumber": doc.invoice_number,
        "TxnDate": doc.issued_on.isoformat(),
        "DueDate": doc.due_on.isoformat(),
        "CustomerRef": {"value": "{{customer.Id}}", "name": display_name},
        "CurrencyRef": {"value": doc.currency},
        "BillEmail": {"Address": doc.customer_email},
        "PrivateNote": (
            f"Billing period {doc.period_start.isoformat()} to "
            f"{doc.period_last_day.isoformat()}; invoice_id {doc.invoice_id}"
        ),
        "ExchangeRate": None,
        "TotalAmt": doc.total,
        "Line": [_invoice_line(line) for line in doc.lines],
    }


def _invoice_line(line: InvoiceLine) -> dict:
    """A sales line carrying our amount; Qty and UnitPrice only when they multiply to it.

    QuickBooks rejects a line whose Qty × UnitPrice differs from its Amount,
    which is the case for tiered usage; the description keeps the detail.
    """
    name = item_name(line)
    detail: dict = {"ItemRef": {"value": f"{{{{{_item_binding(name)}.Id}}}}", "name": name}}
    if _multiplies_to_amount(line):
        detail["Qty"] = _plain(line.quantity)
        detail["UnitPrice"] = _plain(line.unit_price)
    else:
        detail["Qty"] = None
        detail["UnitPrice"] = None
    return {
        "DetailType": "SalesItemLineDetail",
        "LineNum": line.line_number,
        "Amount": line.amount,
        "Description": line.description,
        "SalesItemLineDetail": detail,
    }


def _check_lines_sum_to_total(doc: InvoiceDocument, body: dict) -> None:
    lines = sum((Decimal(line["Amount"]) for line in body["Line"]), Decimal(0))
    if lines != doc.total or Decimal(body["TotalAmt"]) != doc.total:
        raise InvoiceDataError(
            f"invoice {doc.invoice_id}: QuickBooks lines sum to {lines}, "
            f"TotalAmt is {body['TotalAmt']}, the invoice total is {doc.total}"
        )


def _query(step: str, entity: str, binds: str, **where: str) -> QuickBooksRequest:
    """A lookup, as the text `Entity.filter(**where)` sends; reads need no request id."""
    query = f"SELECT * FROM {entity} WHERE {build_where_clause(**where)}"
    return QuickBooksRequest(step, "query", entity, {"query": query}, None, binds)


def _create(
    number: str,
    step: str,
    entity: type[Customer | Item | Invoice | Payment],
    binds: str,
    fields: dict,
) -> QuickBooksRequest:
    """A create, with the body python-quickbooks would serialize from `fields`."""
    body = json.loads(entity.from_json(fields).to_json())
    return QuickBooksRequest(
        step, "create", entity.qbo_object_name, body, request_id(number, step), binds
    )


def request_id(number: str, step: str) -> str:
    """`<invoice number>:<step>`, hashed down if longer than QuickBooks' 50 characters."""
    key = f"{number}:{step}"
    if len(key) <= _MAX_REQUEST_ID:
        return key
    digest = hashlib.sha256(step.encode()).hexdigest()[:16]
    return f"{number}:{digest}"


def _item_binding(name: str) -> str:
    return "item_" + re.sub(r"[^0-9a-z]+", "_", name.lower()).strip("_")


def _clean_name(name: str) -> str:
    """QuickBooks names may not contain colons (its sub-entity separator), tabs or newlines."""
    return _NAME_FORBIDDEN.sub(" ", name).strip()


def _multiplies_to_amount(line: InvoiceLine) -> bool:
    if line.quantity is None or line.unit_price is None:
        return False
    return line.quantity * line.unit_price == line.amount


def _plain(value: Decimal | None) -> Decimal | None:
    """Drop trailing zeros without going to exponent notation: 20.000000000000 -> 20."""
    return None if value is None else Decimal(f"{value.normalize():f}")
