"""The Stripe endpoints the sync uses, applied to an in-memory account.

Objects follow Stripe's API reference for version 2026-10-28 (the fields we
read and the ones a reader would look for; not every field Stripe has).
Behaviour that matters to billing is Stripe's: invoice items attach to a draft
invoice with `invoice=`; a new invoice pulls in pending items only with
`pending_invoice_items_behavior=include`; finalizing computes `amount_due`
from the lines and marks a zero-total invoice paid; paying charges the
customer's card (its `amount_remaining`) or answers 402 `card_declined`,
leaving the invoice open. A credit note on an open invoice first lowers its
`amount_due` and `amount_remaining` (the note's `pre_payment_amount`); the
rest (`post_payment_amount`) must be refunded, credited to the customer's
balance or marked out of band, as Stripe requires.
"""

import re
import secrets
import string
import threading
import time
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from tests.stripe_server.errors import (
    ApiError,
    invalid_param,
    invalid_state,
    missing_param,
    no_such,
)

_ID_ALPHABET = string.ascii_letters + string.digits
_SEARCH_CLAUSE = re.compile(r"^metadata\['(?P<key>[^']+)'\]:'(?P<value>(?:[^'\\]|\\.)*)'$")


def _new_id(prefix: str) -> str:
    return f"{prefix}_{''.join(secrets.choice(_ID_ALPHABET) for _ in range(14))}"


def _now() -> int:
    return int(time.time())


def _bool(params: dict, name: str, default: bool) -> bool:
    value = params.get(name)
    if value is None:
        return default
    if value not in ("true", "false"):
        raise invalid_param(name, f"Invalid boolean: {value}", code="parameter_invalid_boolean")
    return value == "true"


def _int(params: dict, name: str) -> int | None:
    value = params.get(name)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise invalid_param(
            name, f"Invalid integer: {value}", "parameter_invalid_integer"
        ) from None


def _metadata(params: dict) -> dict[str, str]:
    """Metadata as Stripe stores it: an empty value unsets a key."""
    metadata = params.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise invalid_param("metadata", "Invalid hash")
    return {key: value for key, value in metadata.items() if value != ""}


class StripeAccount:
    """One Stripe account's objects; every method runs under the account's lock."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.customers: dict[str, dict] = {}
        self.invoice_items: dict[str, dict] = {}
        self.invoices: dict[str, dict] = {}
        self.payment_intents: dict[str, dict] = {}
        self.charges: dict[str, dict] = {}
        self.credit_notes: dict[str, dict] = {}
        self.declining: set[str] = set()
        self._invoice_sequence = 0
        self._credit_note_sequence = 0

    # customers

    def create_customer(self, params: dict) -> dict:
        customer = {
            "id": _new_id("cus"),
            "object": "customer",
            "address": params.get("address"),
            "balance": 0,
            "created": _now(),
            "currency": None,
            "default_source": None,
            "delinquent": False,
            "description": params.get("description"),
            "email": params.get("email"),
            "invoice_prefix": "".join(secrets.choice(string.ascii_uppercase) for _ in range(8)),
            "invoice_settings": {
                "custom_fields": None,
                "default_payment_method": None,
                "footer": None,
                "rendering_options": None,
            },
            "livemode": False,
            "metadata": _metadata(params),
            "name": params.get("name"),
            "next_invoice_sequence": 1,
            "phone": params.get("phone"),
            "preferred_locales": [],
            "shipping": None,
            "tax_exempt": "none",
            "test_clock": None,
        }
        self.customers[customer["id"]] = customer
        return customer

    def retrieve_customer(self, customer_id: str) -> dict:
        if customer_id not in self.customers:
            raise no_such("customer", customer_id)
        return self.customers[customer_id]

    def search_customers(self, params: dict) -> dict:
        return self._search(self.customers, params, "/v1/customers/search")

    def list_customers(self, params: dict) -> dict:
        customers = sorted(self.customers.values(), key=lambda c: c["created"], reverse=True)
        if params.get("email"):
            customers = [c for c in customers if c["email"] == params["email"]]
        limit = _int(params, "limit") or 10
        return {
            "object": "list",
            "data": customers[:limit],
            "has_more": len(customers) > limit,
            "url": "/v1/customers",
        }

    # invoice items

    def create_invoice_item(self, params: dict) -> dict:
        customer = self._required_customer(params)
        invoice = self._attachable_invoice(params.get("invoice"), customer["id"])
        currency = (params.get("currency") or (invoice or {}).get("currency") or "").lower()
        if not currency:
            raise missing_param("currency")
        if invoice and currency != invoice["currency"]:
            raise invalid_param(
                "currency",
                f"The currency of the invoice item ({currency}) must match the currency "
                f"of the invoice ({invoice['currency']}).",
                code="parameter_invalid_string",
            )
        quantity, unit_amount_decimal, amount = self._item_amount(params)
        period_start = _now()
        period = params.get("period") or {}
        item = {
            "id": _new_id("ii"),
            "object": "invoiceitem",
            "amount": amount,
            "currency": currency,
            "customer": customer["id"],
            "date": _now(),
            "description": params.get("description"),
            "discountable": amount >= 0,
            "discounts": [],
            "invoice": invoice["id"] if invoice else None,
            "livemode": False,
            "metadata": _metadata(params),
            "parent": None,
            "period": {
                "start": _int(period, "start") or period_start,
                "end": _int(period, "end") or period_start,
            },
            "pricing": {
                "price_details": None,
                "type": None,
                "unit_amount_decimal": unit_amount_decimal,
            },
            "proration": False,
            "quantity": quantity,
            "tax_rates": [],
            "test_clock": None,
        }
        self.invoice_items[item["id"]] = item
        return item

    def retrieve_invoice_item(self, item_id: str) -> dict:
        if item_id not in self.invoice_items:
            raise no_such("invoiceitem", item_id)
        return self.invoice_items[item_id]

    # invoices

    def create_invoice(self, params: dict) -> dict:
        customer = self._required_customer(params)
        behavior = params.get("pending_invoice_items_behavior", "exclude")
        if behavior not in ("exclude", "include"):
            raise invalid_param(
                "pending_invoice_items_behavior",
                "Invalid pending_invoice_items_behavior: must be one of exclude or include",
                code="parameter_invalid_string",
            )
        collection_method = params.get("collection_method", "charge_automatically")
        if collection_method not in ("charge_automatically", "send_invoice"):
            raise invalid_param("collection_method", "Invalid collection_method")
        currency = (params.get("currency") or customer["currency"] or "usd").lower()
        now = _now()
        invoice = {
            "id": _new_id("in"),
            "object": "invoice",
            "account_country": "US",
            "account_name": "Stripe test server",
            "amount_due": 0,
            "amount_overpaid": 0,
            "amount_paid": 0,
            "amount_remaining": 0,
            "amount_shipping": 0,
            "attempt_count": 0,
            "pre_payment_credit_notes_amount": 0,
            "post_payment_credit_notes_amount": 0,
            "attempted": False,
            "auto_advance": _bool(
                params, "auto_advance", collection_method == "charge_automatically"
            ),
            "automatic_tax": {"enabled": False, "liability": None, "status": None},
            "billing_reason": "manual",
            "collection_method": collection_method,
            "created": now,
            "currency": currency,
            "customer": customer["id"],
            "customer_email": customer["email"],
            "customer_name": customer["name"],
            "description": params.get("description"),
            "discounts": [],
            "due_date": None,
            "effective_at": None,
            "ending_balance": None,
            "hosted_invoice_url": None,
            "invoice_pdf": None,
            "last_finalization_error": None,
            "lines": {"object": "list", "data": [], "has_more": False, "total_count": 0},
            "livemode": False,
            "metadata": _metadata(params),
            "next_payment_attempt": None,
            "number": None,
            "parent": None,
            "period_end": now,
            "period_start": now,
            "starting_balance": 0,
            "status": "draft",
            "status_transitions": {
                "finalized_at": None,
                "marked_uncollectible_at": None,
                "paid_at": None,
                "voided_at": None,
            },
            "subtotal": 0,
            "total": 0,
            "total_discount_amounts": [],
            "total_taxes": [],
        }
        invoice["lines"]["url"] = f"/v1/invoices/{invoice['id']}/lines"
        if behavior == "include":
            for item in self.invoice_items.values():
                pending = item["invoice"] is None and item["customer"] == customer["id"]
                if pending and item["currency"] == currency:
                    item["invoice"] = invoice["id"]
        self.invoices[invoice["id"]] = invoice
        return self._with_lines(invoice)

    def retrieve_invoice(self, invoice_id: str) -> dict:
        return self._with_lines(self._invoice(invoice_id))

    def search_invoices(self, params: dict) -> dict:
        found = self._search(self.invoices, params, "/v1/invoices/search")
        found["data"] = [self._with_lines(invoice) for invoice in found["data"]]
        return found

    def finalize_invoice(self, invoice_id: str, params: dict) -> dict:
        invoice = self._with_lines(self._invoice(invoice_id))
        if invoice["status"] != "draft":
            raise invalid_state(
                "This invoice is already finalized, you can't re-finalize a non-draft invoice."
            )
        now = _now()
        customer = self.customers[invoice["customer"]]
        customer["next_invoice_sequence"] += 1
        invoice.update(
            status="open",
            auto_advance=_bool(params, "auto_advance", invoice["auto_advance"]),
            number=f"{customer['invoice_prefix']}-{customer['next_invoice_sequence'] - 1:04d}",
            effective_at=now,
            ending_balance=0,
            amount_due=max(invoice["total"], 0),
            amount_remaining=max(invoice["total"], 0),
            hosted_invoice_url=f"https://invoice.stripe.com/i/test_{invoice['id']}",
            invoice_pdf=f"https://pay.stripe.com/invoice/test_{invoice['id']}/pdf",
        )
        invoice["status_transitions"]["finalized_at"] = now
        if invoice["amount_due"] == 0:
            self._mark_paid(invoice, now)
        return invoice

    def pay_invoice(self, invoice_id: str, params: dict) -> dict:
        invoice = self._with_lines(self._invoice(invoice_id))
        if invoice["status"] == "paid":
            raise invalid_state("Invoice is already paid", code="invoice_already_paid")
        if invoice["status"] != "open":
            raise invalid_state(
                f"You can only pay an open invoice; this one is {invoice['status']}."
            )
        now = _now()
        if _bool(params, "paid_out_of_band", False):
            invoice["amount_paid"] += invoice["amount_remaining"]
            self._mark_paid(invoice, now)
            return invoice
        customer = self.customers[invoice["customer"]]
        declined = customer["id"] in self.declining or (
            customer["metadata"].get("customer_id") in self.declining
        )
        intent = self._payment_intent(invoice, declined)
        invoice["attempt_count"] += 1
        invoice["attempted"] = True
        if declined:
            raise ApiError(
                402,
                "card_error",
                "Your card was declined.",
                code="card_declined",
                extra={
                    "decline_code": "generic_decline",
                    "charge": intent["latest_charge"],
                    "payment_intent": intent,
                },
            )
        invoice["amount_paid"] += invoice["amount_remaining"]
        self._mark_paid(invoice, now)
        return invoice

    def void_invoice(self, invoice_id: str) -> dict:
        invoice = self._with_lines(self._invoice(invoice_id))
        if invoice["status"] != "open":
            raise invalid_state(
                f"You can only void an open invoice; this one is {invoice['status']}."
            )
        invoice.update(status="void", amount_remaining=0)
        invoice["status_transitions"]["voided_at"] = _now()
        return invoice

    # credit notes

    def create_credit_note(self, params: dict) -> dict:
        """Issue a credit note on a finalized invoice, by `amount` or by `lines`."""
        invoice_id = params.get("invoice")
        if not invoice_id:
            raise missing_param("invoice")
        if invoice_id not in self.invoices:
            raise no_such("invoice", invoice_id, param="invoice")
        invoice = self.invoices[invoice_id]
        amount = self._credit_note_amount(params)
        if invoice["status"] not in ("open", "paid"):
            raise invalid_state(
                f"Invoice {invoice_id} is {invoice['status']}: credit notes can only be "
                "issued for open or paid invoices.",
            )
        creditable = (
            invoice["total"]
            - invoice["pre_payment_credit_notes_amount"]
            - invoice["post_payment_credit_notes_amount"]
        )
        if amount > creditable:
            raise invalid_param(
                "amount",
                f"The credit note amount ({amount}) cannot exceed the invoice's remaining "
                f"creditable amount ({creditable}).",
                code="parameter_invalid_integer",
            )
        pre_payment = min(amount, invoice["amount_remaining"]) if invoice["status"] == "open" else 0
        post_payment = amount - pre_payment
        settled = sum(
            _int(params, name) or 0
            for name in ("credit_amount", "refund_amount", "out_of_band_amount")
        )
        if settled != post_payment:
            raise invalid_param(
                "amount",
                f"The sum of credit_amount, refund_amount and out_of_band_amount ({settled}) "
                f"must equal the credit note's post-payment amount ({post_payment}): only "
                f"{invoice['amount_remaining']} remains due on invoice {invoice_id}.",
                code="parameter_invalid_integer",
            )
        now = _now()
        customer = self.customers[invoice["customer"]]
        self._credit_note_sequence += 1
        note = {
            "id": _new_id("cn"),
            "object": "credit_note",
            "amount": amount,
            "amount_shipping": 0,
            "created": now,
            "currency": invoice["currency"],
            "customer": invoice["customer"],
            "customer_balance_transaction": None,
            "discount_amount": 0,
            "discount_amounts": [],
            "effective_at": now,
            "invoice": invoice_id,
            "livemode": False,
            "memo": params.get("memo"),
            "metadata": _metadata(params),
            "number": f"{customer['invoice_prefix']}-CN-{self._credit_note_sequence:02d}",
            "out_of_band_amount": _int(params, "out_of_band_amount"),
            "pdf": f"https://pay.stripe.com/credit_notes/test_{invoice_id}/pdf",
            "post_payment_amount": post_payment,
            "pre_payment_amount": pre_payment,
            "reason": params.get("reason"),
            "refunds": [],
            "shipping_cost": None,
            "status": "issued",
            "subtotal": amount,
            "subtotal_excluding_tax": amount,
            "total": amount,
            "total_excluding_tax": amount,
            "total_taxes": [],
            "type": "pre_payment" if post_payment == 0 else (
                "post_payment" if pre_payment == 0 else "mixed"
            ),
            "voided_at": None,
        }  # fmt: skip
        invoice["pre_payment_credit_notes_amount"] += pre_payment
        invoice["post_payment_credit_notes_amount"] += post_payment
        invoice["amount_due"] -= pre_payment
        invoice["amount_remaining"] -= pre_payment
        if invoice["status"] == "open" and invoice["amount_remaining"] == 0:
            self._mark_paid(invoice, now)
        self.credit_notes[note["id"]] = note
        return note

    def retrieve_credit_note(self, credit_note_id: str) -> dict:
        if credit_note_id not in self.credit_notes:
            raise no_such("credit_note", credit_note_id)
        return self.credit_notes[credit_note_id]

    def list_credit_notes(self, params: dict) -> dict:
        notes = sorted(self.credit_notes.values(), key=lambda n: n["created"], reverse=True)
        if params.get("invoice"):
            notes = [n for n in notes if n["invoice"] == params["invoice"]]
        limit = _int(params, "limit") or 10
        return {
            "object": "list",
            "data": notes[:limit],
            "has_more": len(notes) > limit,
            "url": "/v1/credit_notes",
        }

    @staticmethod
    def _credit_note_amount(params: dict) -> int:
        """`amount`, or the sum of `lines` (an invoice line's `amount`, or a custom line's
        `quantity` × `unit_amount`); one of them is required, and it must be positive."""
        lines = params.get("lines")
        if params.get("amount") is None and not lines:
            raise invalid_param(
                "amount",
                "One of `amount`, `lines`, or `shipping_cost` must be provided.",
                code="parameter_missing",
            )
        if lines and not isinstance(lines, list):
            raise invalid_param("lines", "Invalid array")
        lines_total = 0
        for line in lines or []:
            if line.get("type") == "custom_line_item":
                lines_total += (_int(line, "quantity") or 1) * (_int(line, "unit_amount") or 0)
            elif line.get("type") == "invoice_line_item":
                lines_total += _int(line, "amount") or 0
            else:
                raise invalid_param(
                    "lines", "Invalid line type: must be one of invoice_line_item or "
                    "custom_line_item", code="parameter_invalid_string"
                )  # fmt: skip
        amount = _int(params, "amount")
        if amount is not None and lines and amount != lines_total:
            raise invalid_param(
                "amount",
                f"The amount ({amount}) must equal the sum of the lines ({lines_total}).",
                code="parameter_invalid_integer",
            )
        amount = lines_total if amount is None else amount
        if amount <= 0:
            raise invalid_param(
                "amount", "The credit note amount must be greater than 0.",
                code="parameter_invalid_integer",
            )  # fmt: skip
        return amount

    def retrieve_payment_intent(self, intent_id: str) -> dict:
        if intent_id not in self.payment_intents:
            raise no_such("payment_intent", intent_id)
        return self.payment_intents[intent_id]

    # helpers

    def _search(self, objects: dict[str, dict], params: dict, url: str) -> dict:
        """Stripe's search for the one clause form we use: `metadata['key']:'value'`."""
        query = params.get("query")
        if not query:
            raise missing_param("query")
        match = _SEARCH_CLAUSE.match(query.strip())
        if not match:
            raise invalid_param(
                "query", f"Unsupported search query: {query}", "parameter_invalid_string"
            )
        key, value = match["key"], re.sub(r"\\(.)", r"\1", match["value"])
        found = [obj for obj in objects.values() if obj["metadata"].get(key) == value]
        found.sort(key=lambda obj: obj["created"], reverse=True)
        return {
            "object": "search_result",
            "data": found,
            "has_more": False,
            "next_page": None,
            "url": url,
        }

    def _required_customer(self, params: dict) -> dict:
        customer_id = params.get("customer")
        if not customer_id:
            raise missing_param("customer")
        if customer_id not in self.customers:
            raise no_such("customer", customer_id, param="customer")
        return self.customers[customer_id]

    def _invoice(self, invoice_id: str) -> dict:
        if invoice_id not in self.invoices:
            raise no_such("invoice", invoice_id)
        return self.invoices[invoice_id]

    def _attachable_invoice(self, invoice_id: str | None, customer_id: str) -> dict | None:
        if invoice_id is None:
            return None
        if invoice_id not in self.invoices:
            raise no_such("invoice", invoice_id, param="invoice")
        invoice = self.invoices[invoice_id]
        if invoice["status"] != "draft":
            raise invalid_state(
                f"Invoice {invoice_id} is no longer editable: you can only add invoice items "
                "to draft invoices.",
                code="invoice_not_editable",
            )
        if invoice["customer"] != customer_id:
            raise invalid_param(
                "invoice",
                "The invoice item's customer must match the invoice's customer.",
                code="parameter_invalid_string",
            )
        return invoice

    @staticmethod
    def _item_amount(params: dict) -> tuple[int, str | None, int]:
        """(quantity, unit_amount_decimal, amount): `amount` XOR quantity × unit_amount_decimal."""
        has_amount = params.get("amount") is not None
        has_unit = params.get("unit_amount_decimal") is not None
        if has_amount and has_unit:
            raise invalid_param(
                "amount",
                "You may only specify one of these parameters: amount, unit_amount_decimal.",
                code="parameter_unknown",
            )
        if has_amount:
            if params.get("quantity") not in (None, "1"):
                raise invalid_param(
                    "quantity",
                    "You may only specify one of these parameters: amount, quantity.",
                    code="parameter_unknown",
                )
            return 1, None, _int(params, "amount")
        if not has_unit:
            raise missing_param("amount")
        quantity = _int(params, "quantity") or 1
        try:
            unit = Decimal(params["unit_amount_decimal"])
        except InvalidOperation:
            raise invalid_param("unit_amount_decimal", "Invalid decimal") from None
        amount = int((unit * quantity).quantize(Decimal(1), rounding=ROUND_HALF_UP))
        return quantity, params["unit_amount_decimal"], amount

    def _with_lines(self, invoice: dict) -> dict:
        """Refresh a draft's lines and totals from its items; finalized invoices are frozen."""
        if invoice["status"] != "draft":
            return invoice
        items = [item for item in self.invoice_items.values() if item["invoice"] == invoice["id"]]
        invoice["lines"]["data"] = [self._line(invoice, item) for item in items]
        invoice["lines"]["total_count"] = len(items)
        total = sum(item["amount"] for item in items)
        invoice.update(subtotal=total, total=total, amount_due=max(total, 0))
        invoice["amount_remaining"] = invoice["amount_due"]
        return invoice

    @staticmethod
    def _line(invoice: dict, item: dict) -> dict:
        return {
            "id": "il_" + item["id"].removeprefix("ii_"),
            "object": "line_item",
            "amount": item["amount"],
            "currency": item["currency"],
            "description": item["description"],
            "discount_amounts": [],
            "discountable": item["discountable"],
            "discounts": [],
            "invoice": invoice["id"],
            "livemode": False,
            "metadata": item["metadata"],
            "parent": {
                "type": "invoice_item_details",
                "invoice_item_details": {
                    "invoice_item": item["id"],
                    "proration": False,
                    "proration_details": {"credited_items": None},
                    "subscription": None,
                },
                "subscription_item_details": None,
            },
            "period": item["period"],
            "pricing": item["pricing"],
            "quantity": item["quantity"],
            "taxes": [],
        }

    def _payment_intent(self, invoice: dict, declined: bool) -> dict:
        charge = {
            "id": _new_id("ch"),
            "object": "charge",
            "amount": invoice["amount_remaining"],
            "currency": invoice["currency"],
            "customer": invoice["customer"],
            "paid": not declined,
            "status": "failed" if declined else "succeeded",
            "failure_code": "card_declined" if declined else None,
            "outcome": {
                "network_status": "declined_by_network" if declined else "approved_by_network",
                "reason": "generic_decline" if declined else None,
                "type": "issuer_declined" if declined else "authorized",
            },
            "created": _now(),
            "livemode": False,
        }
        intent = {
            "id": _new_id("pi"),
            "object": "payment_intent",
            "amount": invoice["amount_remaining"],
            "amount_received": 0 if declined else invoice["amount_remaining"],
            "currency": invoice["currency"],
            "customer": invoice["customer"],
            "created": _now(),
            "latest_charge": charge["id"],
            "last_payment_error": (
                {"type": "card_error", "code": "card_declined", "decline_code": "generic_decline",
                 "message": "Your card was declined.", "charge": charge["id"]}
                if declined else None
            ),
            "livemode": False,
            "metadata": {},
            "status": "requires_payment_method" if declined else "succeeded",
        }  # fmt: skip
        self.charges[charge["id"]] = charge
        self.payment_intents[intent["id"]] = intent
        return intent

    @staticmethod
    def _mark_paid(invoice: dict, now: int) -> None:
        invoice.update(status="paid", amount_remaining=0, auto_advance=False)
        invoice["status_transitions"]["paid_at"] = now


Route = tuple[str, re.Pattern[str], Callable[[StripeAccount, dict, list[str]], dict]]

ROUTES: list[Route] = [
    (method, re.compile(f"^{pattern}$"), handler)
    for method, pattern, handler in [
        ("POST", "/v1/customers", lambda a, p, _: a.create_customer(p)),
        ("GET", "/v1/customers", lambda a, p, _: a.list_customers(p)),
        ("GET", "/v1/customers/search", lambda a, p, _: a.search_customers(p)),
        ("GET", r"/v1/customers/(cus_\w+)", lambda a, _, ids: a.retrieve_customer(ids[0])),
        ("POST", "/v1/invoiceitems", lambda a, p, _: a.create_invoice_item(p)),
        ("GET", r"/v1/invoiceitems/(\w+)", lambda a, _, ids: a.retrieve_invoice_item(ids[0])),
        ("POST", "/v1/invoices", lambda a, p, _: a.create_invoice(p)),
        ("GET", "/v1/invoices/search", lambda a, p, _: a.search_invoices(p)),
        ("GET", r"/v1/invoices/(in_\w+)", lambda a, _, ids: a.retrieve_invoice(ids[0])),
        ("POST", r"/v1/invoices/(\w+)/finalize", lambda a, p, ids: a.finalize_invoice(ids[0], p)),
        ("POST", r"/v1/invoices/(\w+)/pay", lambda a, p, ids: a.pay_invoice(ids[0], p)),
        ("POST", r"/v1/invoices/(\w+)/void", lambda a, _, ids: a.void_invoice(ids[0])),
        ("POST", "/v1/credit_notes", lambda a, p, _: a.create_credit_note(p)),
        ("GET", "/v1/credit_notes", lambda a, p, _: a.list_credit_notes(p)),
        ("GET", r"/v1/credit_notes/(cn_\w+)", lambda a, _, ids: a.retrieve_credit_note(ids[0])),
        ("GET", r"/v1/payment_intents/(\w+)", lambda a, _, ids: a.retrieve_payment_intent(ids[0])),
    ]
]


def route(
    method: str, path: str
) -> tuple[Callable[[StripeAccount, dict, list[str]], dict], list[str]]:
    """The handler for a request and the ids captured from its path, or a 404 Stripe error."""
    for route_method, pattern, handler in ROUTES:
        match = pattern.match(path)
        if route_method == method and match:
            return handler, list(match.groups())
    raise ApiError(
        404,
        "invalid_request_error",
        f"Unrecognized request URL ({method}: {path}).",
        saved=False,
    )
