"""Book finalized invoices, their customers, items and payments in QuickBooks Online.

The requests are the payload builder's (`payloads`), the same ones the
outbox shows; this module decides which of them to send. For each thing an
invoice needs (customer, income account, one item per kind of line, the
invoice itself) it uses, in order: the QuickBooks id stored in the sync
state, then a lookup by name or `DocNumber`, then a create carrying a
`requestid` (QuickBooks' idempotency key, derived from our invoice number).
So a re-run creates nothing new, and a crash at any point, including after
QuickBooks applied a create whose reply was lost, re-runs into exactly one
of each object.

QuickBooks' own conflicts are handled, not crashed on: a duplicate name
(6240) means the name is held by a customer or item our lookup did not see
(an inactive one, or one created meanwhile), which is then reactivated if
needed and mapped; a duplicate DocNumber (6140) is mapped if it is our
invoice; a stale SyncToken (5010) on an update is re-read and retried once.
An invoice already in QuickBooks under our number but for another customer
or total is reported, never booked a second time.
"""

import hashlib
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import duckdb
import requests
from quickbooks.exceptions import QuickbooksException
from quickbooks.mixins import DecimalEncoder
from quickbooks.objects.account import Account
from quickbooks.objects.customer import Customer
from quickbooks.objects.invoice import Invoice
from quickbooks.objects.item import Item
from quickbooks.objects.payment import Payment
from quickbooks.utils import build_where_clause

from exporters.invoice_documents import InvoiceDataError, InvoiceDocument
from exporters.quickbooks.auth import token_source
from exporters.quickbooks.client import QuickBooksApi, QuickBooksClient, RetryPolicy
from exporters.quickbooks.errors import (
    DUPLICATE_DOC_NUMBER,
    DUPLICATE_NAME,
    STALE_SYNC_TOKEN,
    QuickBooksSyncError,
    describe,
    fault_code,
)
from exporters.quickbooks.payloads import (
    QuickBooksRequest,
    bind_references,
    build_payment_request,
    build_quickbooks_requests,
    request_id,
)
from exporters.quickbooks.payments import read_paid_outcomes
from exporters.quickbooks.settings import QuickBooksSettings
from exporters.quickbooks.state import SyncedObject, SyncState

_ENTITY_CLASSES: dict[str, type] = {
    "Account": Account,
    "Customer": Customer,
    "Invoice": Invoice,
    "Item": Item,
    "Payment": Payment,
}
# python-quickbooks' entity objects (Customer, Invoice ...) carry no type hints.
SdkObject = Any
_NAME_FIELDS = {"Customer": "DisplayName", "Item": "Name"}
DEFAULT_RETRY = RetryPolicy()
# The customer fields we own; an accountant's other edits are left alone.
_CUSTOMER_FIELDS = ("DisplayName", "CompanyName", "PrimaryEmailAddr", "BillAddr")


@dataclass(frozen=True)
class QuickBooksInvoiceResult:
    """What one invoice's sync did; `error` is set when it could not be (fully) booked."""

    invoice_number: str
    actions: tuple[str, ...]
    error: str | None = None
    qbo_invoice_id: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def summary_line(self) -> str:
        """One line for the command line, e.g. `INV-000001: created customer 2, invoice 9`."""
        done = ", ".join(self.actions)
        if self.error:
            return f"{self.invoice_number}: FAILED: {self.error}" + (
                f" (done first: {done})" if done else ""
            )
        if not done:
            return f"{self.invoice_number}: already in QuickBooks (invoice {self.qbo_invoice_id})"
        return f"{self.invoice_number}: {done}"


def sync_invoices_to_quickbooks(
    conn: duckdb.DuckDBPyConnection,
    documents: Iterable[InvoiceDocument],
    *,
    settings: QuickBooksSettings,
    retry: RetryPolicy = DEFAULT_RETRY,
    sleep: Callable[[float], None] = time.sleep,
) -> list[QuickBooksInvoiceResult]:
    """Book every finalized invoice in `documents`; one result per invoice, in order.

    `conn` must be writable: the sync state lives in its `sync` schema. An
    invoice that fails is recorded there and in its result, and the others
    still sync; a `QuickBooksAuthError` (credentials refused even after a
    refresh) stops the run, since every later call would fail the same way.
    """
    tokens = token_source(settings)
    with requests.Session() as session:
        client = QuickBooksClient(
            api_base=settings.api_base,
            realm_id=settings.realm_id,
            tokens=tokens,
            session=session,
            timeout_seconds=settings.timeout_seconds,
        )
        api = QuickBooksApi(client, tokens, retry=retry, sleep=sleep)
        invoice_sync = QuickBooksInvoiceSync(conn, api, settings)
        return [invoice_sync.sync(doc) for doc in documents]


class QuickBooksInvoiceSync:
    """Syncs invoices one at a time against one company, through the sync state."""

    def __init__(
        self, conn: duckdb.DuckDBPyConnection, api: QuickBooksApi, settings: QuickBooksSettings
    ) -> None:
        self._conn = conn
        self._api = api
        self._income_account = settings.income_account
        self._state = SyncState(conn, settings.realm_id)

    def sync(self, doc: InvoiceDocument) -> QuickBooksInvoiceResult:
        number = doc.invoice_number or doc.invoice_id
        actions: list[str] = []
        ids: dict[str, str] = {}
        try:
            number = doc.require_number()
            planned = build_quickbooks_requests(doc, income_account=self._income_account)
            for find, create in _find_create_pairs(planned):
                ids[find.binds or ""] = self._resolve(doc, find, create, ids, actions)
            for paid in read_paid_outcomes(self._conn, number):
                payment = bind_references(build_payment_request(doc, paid), ids)
                self._apply_payment(doc, payment, paid.our_key, actions)
        except (QuickBooksSyncError, InvoiceDataError, QuickbooksException) as error:
            self._state.record_invoice_outcome(number, ids.get("invoice"), describe(error))
            return QuickBooksInvoiceResult(
                number, tuple(actions), describe(error), ids.get("invoice")
            )
        self._state.record_invoice_outcome(number, ids["invoice"], None)
        return QuickBooksInvoiceResult(number, tuple(actions), None, ids["invoice"])

    def _resolve(
        self,
        doc: InvoiceDocument,
        find: QuickBooksRequest,
        create: QuickBooksRequest | None,
        ids: dict[str, str],
        actions: list[str],
    ) -> str:
        """The QuickBooks id of what `find` looks for: stored, found, or created."""
        our_key, label = self._identify(doc, find, create)
        what = f"{find.entity.lower()} {label}"
        content_hash = _content_hash(create.body) if create and find.binds == "customer" else None
        stored = self._state.get(our_key)
        if stored is not None:
            if content_hash and stored.content_hash != content_hash and create is not None:
                self._update_customer(doc, stored, create.body, content_hash, actions)
            return stored.qbo_id
        found = self._query(find.step, find.body["query"], find.entity)
        if found:
            if find.binds == "invoice":
                _check_is_ours(doc, found[0], ids["customer"])
            self._state.record(our_key, find.entity, found[0].Id, found[0].SyncToken, content_hash)
            actions.append(f"found {what} ({found[0].Id})")
            return found[0].Id
        if create is None:
            raise QuickBooksSyncError(
                f"QuickBooks has no {what}; create it there (or set QBO_INCOME_ACCOUNT)"
            )
        created, how = self._create(doc, find, bind_references(create, ids), ids)
        self._state.record(our_key, create.entity, created.Id, created.SyncToken, content_hash)
        actions.append(f"{how} {what} ({created.Id})")
        return created.Id

    def _create(
        self, doc: InvoiceDocument, find: QuickBooksRequest, create: QuickBooksRequest, ids: dict
    ) -> tuple[SdkObject, str]:
        """Create, or adopt the existing object on a duplicate name or DocNumber; and how."""
        try:
            return self._send_create(create), "created"
        except QuickbooksException as error:
            code = fault_code(error)
            if code == DUPLICATE_NAME and create.entity in _NAME_FIELDS:
                return self._adopt_by_name(doc, create, error)
            if code == DUPLICATE_DOC_NUMBER and create.entity == "Invoice":
                found = self._query(find.step, find.body["query"], "Invoice")
                if not found:
                    raise
                _check_is_ours(doc, found[0], ids["customer"])
                return found[0], "found (duplicate DocNumber)"
            raise

    def _adopt_by_name(
        self, doc: InvoiceDocument, create: QuickBooksRequest, error: QuickbooksException
    ) -> tuple[SdkObject, str]:
        """The customer or item already holding our name, reactivated if it was made inactive."""
        field = _NAME_FIELDS[create.entity]
        name = create.body[field]
        query = (
            f"SELECT * FROM {create.entity} WHERE Active IN (true, false) AND "
            f"{build_where_clause(**{field: name})}"
        )
        found = self._query(f"{create.step}:find_any", query, create.entity)
        if not found:
            raise QuickBooksSyncError(
                f"{create.step}: QuickBooks says the name {name!r} is taken ({describe(error)}), "
                "but no active or inactive "
                f"{create.entity.lower()} has it: rename the vendor or employee holding it"
            ) from error
        existing = found[0]
        if existing.Active:
            return existing, "found (duplicate name)"
        reactivated = self._sparse_update(
            doc, create.entity, existing.Id, existing.SyncToken, {"Active": True}, "reactivate"
        )
        return _ENTITY_CLASSES[create.entity].from_json(reactivated), "reactivated"

    def _update_customer(
        self,
        doc: InvoiceDocument,
        stored: SyncedObject,
        body: dict,
        content_hash: str,
        actions: list[str],
    ) -> None:
        """Push our changed customer fields (name, e-mail, address) as a sparse update."""
        fields = {key: body[key] for key in _CUSTOMER_FIELDS if key in body}
        updated = self._sparse_update(
            doc, "Customer", stored.qbo_id, stored.sync_token, fields, "update_customer"
        )
        self._state.record(
            stored.our_key, "Customer", updated["Id"], updated["SyncToken"], content_hash
        )
        actions.append(f"updated customer ({updated['Id']})")

    def _sparse_update(
        self,
        doc: InvoiceDocument,
        entity: str,
        qbo_id: str,
        sync_token: str | None,
        fields: dict,
        step: str,
    ) -> dict:
        """A sparse update; on a stale SyncToken (5010), re-read and retry once."""
        number = doc.require_number()
        try:
            return self._sparse_update_once(number, entity, qbo_id, sync_token, fields, step)
        except QuickbooksException as error:
            if fault_code(error) != STALE_SYNC_TOKEN:
                raise
        current = self._api.call(
            f"{step}:reread", lambda qb: _ENTITY_CLASSES[entity].get(qbo_id, qb=qb)
        )
        return self._sparse_update_once(number, entity, qbo_id, current.SyncToken, fields, step)

    def _sparse_update_once(
        self,
        number: str,
        entity: str,
        qbo_id: str,
        sync_token: str | None,
        fields: dict,
        step: str,
    ) -> dict:
        """One sparse update; its requestid covers the SyncToken, so a retry is a new request."""
        body = json.dumps(
            {"Id": qbo_id, "SyncToken": sync_token, "sparse": True, **fields}, cls=DecimalEncoder
        )
        key = request_id(number, f"{step}:{qbo_id}:{sync_token}:{_content_hash(fields)}")
        response = self._api.call(step, lambda qb: qb.update_object(entity, body, request_id=key))
        return response[entity]

    def _apply_payment(
        self, doc: InvoiceDocument, create: QuickBooksRequest, our_key: str, actions: list[str]
    ) -> None:
        if self._state.get(our_key) is not None:
            return
        payment = self._send_create(create)
        self._state.record(our_key, "Payment", payment.Id, payment.SyncToken)
        amount = Decimal(str(create.body["TotalAmt"]))
        actions.append(f"applied payment ({payment.Id}) of {amount} {doc.currency}")

    def _send_create(self, create: QuickBooksRequest) -> SdkObject:
        """POST the builder's body byte for byte (what the outbox shows), as an SDK object.

        Not `Entity.from_json(body).save()`: that would put back SDK defaults the
        builder left out, such as `Qty: 0` on a line without a single unit price.
        """
        body = json.dumps(create.body, cls=DecimalEncoder)
        response = self._api.call(
            create.step,
            lambda qb: qb.create_object(create.entity, body, request_id=create.request_id),
        )
        return _ENTITY_CLASSES[create.entity].from_json(response[create.entity])

    def _query(self, step: str, query: str, entity: str) -> list[SdkObject]:
        entity_class = _ENTITY_CLASSES[entity]
        return self._api.call(step, lambda qb: entity_class.query(query, qb=qb))

    def _identify(
        self, doc: InvoiceDocument, find: QuickBooksRequest, create: QuickBooksRequest | None
    ) -> tuple[str, str]:
        """Our key for the sync state, and the label the action lines show."""
        if find.binds == "income_account":
            return f"account:{self._income_account}", repr(self._income_account)
        if create is None:
            raise ValueError(f"{find.step}: a lookup without its create")
        if find.binds == "customer":
            return f"customer:{doc.customer_id}", repr(create.body["DisplayName"])
        if find.binds == "invoice":
            return f"invoice:{doc.invoice_number}", str(doc.invoice_number)
        return f"item:{create.body['Name']}", repr(create.body["Name"])


def _find_create_pairs(
    requests_: list[QuickBooksRequest],
) -> list[tuple[QuickBooksRequest, QuickBooksRequest | None]]:
    """The builder's sequence as (lookup, create or None) per thing, in order."""
    pairs: list[tuple[QuickBooksRequest, QuickBooksRequest | None]] = []
    for request in requests_:
        if request.method == "query":
            pairs.append((request, None))
        elif pairs and pairs[-1][0].binds == request.binds and pairs[-1][1] is None:
            pairs[-1] = (pairs[-1][0], request)
        else:
            raise ValueError(f"{request.step}: a create without its lookup")
    return pairs


def _check_is_ours(doc: InvoiceDocument, invoice: Invoice, customer_id: str) -> None:
    """An invoice found under our DocNumber must be ours: same customer, same total."""
    customer = invoice.CustomerRef.value if invoice.CustomerRef else None
    total = Decimal(str(invoice.TotalAmt))
    if customer != customer_id or total != doc.total:
        raise QuickBooksSyncError(
            f"QuickBooks already has invoice {invoice.Id} with DocNumber {doc.invoice_number} "
            f"for customer {customer} totaling {total}; ours is for customer {customer_id} "
            f"totaling {doc.total}. Not booked twice: resolve it in QuickBooks"
        )


def _content_hash(body: dict) -> str:
    return hashlib.sha256(
        json.dumps(body, sort_keys=True, cls=DecimalEncoder).encode()
    ).hexdigest()[:16]
