"""Bill finalized invoices in Stripe: create, finalize, charge when due, read the outcome back.

Per invoice the sync sends the requests `payloads` built, in order, skipping
what the sync state says Stripe already has: find or create the customer,
create the draft invoice, add one item per line, finalize, then (once
`as_of` reaches `due_on`) pay. After each answered request it records the
Stripe id and the step, so a crash anywhere is resumed by running again; the
idempotency key of the request in flight at the crash makes its replay
harmless (Stripe keeps keys 24 hours; a customer created just before a crash
is also found again by its `metadata.customer_id` once Stripe's search has
indexed it, within a minute). An invoice that is paid makes no request at all
on a re-run.

Nothing is charged unless Stripe's `amount_due` and currency equal our total
in minor units: a difference is recorded as that invoice's error on every run.

Finance's credit notes reach Stripe before any charge. An invoice a credit
note voids is never created in Stripe if it is not there yet, and is voided
there if it is open; it is never charged. A credit note for part of an
invoice becomes a Stripe credit note on the open invoice, which lowers its
`amount_due` and `amount_remaining`, so the charge is our total less the
credits. Both requests carry keys made of our invoice number and credit note
id, and are recorded like the other steps.

A card decline is an outcome, not a sync failure: it is booked as
`payment_failed`, the Stripe invoice stays open and is not charged again by
later runs (they only poll it, and book `payment` if it was paid meanwhile).
Any other refusal, or a transient failure that outlasts the retries, is
recorded on that invoice and the next invoice is synced. A rejected API key
stops the whole sync: every invoice would fail the same way.
"""

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time
from decimal import Decimal

import duckdb

from exporters.invoice_documents import CreditNoteRef, InvoiceDataError, InvoiceDocument
from exporters.money import minor_units, to_minor_units
from exporters.stripe.gateway import (
    RetryPolicy,
    StripeGateway,
    StripeRequestFailed,
    make_stripe_client,
)
from exporters.stripe.payloads import (
    StripeRequest,
    bind_references,
    build_credit_note_request,
    build_payment_request,
    build_stripe_requests,
    build_void_request,
)
from exporters.stripe.state import (
    InvoiceProgress,
    PaymentOutcome,
    StripeObject,
    StripeSyncState,
    customer_key,
)

_log = logging.getLogger(__name__)

_NOT_STARTED = "not_started"


class StripeSyncAborted(RuntimeError):
    """Stripe refused the credentials: no invoice can sync, so the run stops."""


class StripeDisagrees(InvoiceDataError):
    """Stripe's invoice differs from ours (amount, currency, voided): it must not be charged."""


@dataclass
class StripeInvoiceResult:
    """What one run did for one invoice; `error` is None unless the invoice could not sync.

    A declined card is not an error here (the invoice is in Stripe, the
    decline is booked as `payment_failed`); it shows in `actions`.
    """

    invoice_number: str
    stripe_invoice_id: str | None = None
    stripe_status: str | None = None
    actions: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def summary_line(self) -> str:
        """e.g. "INV-000001: created invoice in_1, added 3 invoice items, finalized in_1, paid"."""
        if self.actions:
            done = ", ".join(self.actions)
        elif self.stripe_invoice_id:
            done = f"nothing to do, {self.stripe_invoice_id} is {self.stripe_status}"
        else:
            done = "nothing sent"
        return f"{self.invoice_number}: {done}" + (f"; error: {self.error}" if self.error else "")


def sync_invoices_to_stripe(
    conn: duckdb.DuckDBPyConnection,
    documents: Iterable[InvoiceDocument],
    *,
    api_key: str,
    api_base: str | None = None,
    as_of: datetime,
    retry: RetryPolicy | None = None,
) -> list[StripeInvoiceResult]:
    """Sync each finalized invoice in `documents` to Stripe; one result per invoice, in order.

    `conn` must be writable: the sync state lives in the warehouse's `sync`
    schema. `api_base` None means Stripe itself. Raises `StripeSyncAborted`
    if Stripe rejects the key.
    """
    gateway = StripeGateway(make_stripe_client(api_key, api_base), retry or RetryPolicy())
    sync = StripeInvoiceSync(gateway, StripeSyncState(conn), as_of=as_of)
    return [sync.sync(doc) for doc in documents]


@dataclass
class _InvoiceRun:
    """One invoice during one run: ids bound so far and the progress last recorded."""

    doc: InvoiceDocument
    number: str
    result: StripeInvoiceResult
    progress: InvoiceProgress
    ids: dict[str, str] = field(default_factory=dict)


class StripeInvoiceSync:
    """Brings Stripe up to date with our finalized invoices, one invoice at a time."""

    def __init__(self, gateway: StripeGateway, state: StripeSyncState, *, as_of: datetime):
        self._gateway = gateway
        self._state = state
        self._as_of = as_of if as_of.tzinfo else as_of.replace(tzinfo=UTC)

    def sync(self, doc: InvoiceDocument) -> StripeInvoiceResult:
        """Advance one invoice as far as Stripe and the calendar allow.

        Errors of this invoice are recorded and returned, never raised.
        """
        result = StripeInvoiceResult(doc.invoice_number or doc.invoice_id)
        try:
            number = doc.require_number()
            requests = build_stripe_requests(doc)
        except InvoiceDataError as error:
            result.error = str(error)
            return result
        progress = self._state.progress(number) or InvoiceProgress(
            number, None, _NOT_STARTED, None, None
        )
        run = _InvoiceRun(doc, number, result, progress)
        result.stripe_invoice_id, result.stripe_status = progress.stripe_invoice_id, progress.status
        if progress.status == "paid" and self._state.has_outcome(number, "payment"):
            return result
        if progress.status == "void" and doc.voiding_credit_note:
            return result
        try:
            self._advance(run, requests)
        except StripeRequestFailed as failure:
            if failure.is_credentials_error:
                raise StripeSyncAborted(
                    f"Stripe rejected the API key (HTTP {failure.error.http_status}); "
                    f"stopped at {number}"
                ) from None
            self._fail(run, failure.describe())
        except StripeDisagrees as error:
            self._fail(run, str(error))
        return result

    def _advance(self, run: _InvoiceRun, requests: list[StripeRequest]) -> None:
        self._bind_known_ids(run, requests)
        invoice = None
        if run.progress.status in (None, "draft"):
            voiding = run.doc.voiding_credit_note
            if voiding:
                self._leave_unsent(run, voiding)
                return
            invoice = self._create_and_finalize(run, requests)
        self._settle(run, invoice)

    def _leave_unsent(self, run: _InvoiceRun, voiding: CreditNoteRef) -> None:
        """An invoice voided before Stripe finalized it is never finalized there."""
        draft = run.ids.get("invoice")
        if draft:
            run.result.actions.append(
                f"void by credit note {voiding.credit_note_id}: draft {draft} left unfinalized, "
                "never charged"
            )
        else:
            run.result.actions.append(
                f"void by credit note {voiding.credit_note_id}: not sent to Stripe"
            )

    def _bind_known_ids(self, run: _InvoiceRun, requests: list[StripeRequest]) -> None:
        creating = {
            self._our_key(run, request): request.binds
            for request in requests
            if request.binds and request.step != "find_customer"
        }
        for our_key, stripe_id in self._state.stripe_ids(creating).items():
            run.ids[creating[our_key]] = stripe_id

    def _create_and_finalize(self, run: _InvoiceRun, requests: list[StripeRequest]) -> dict:
        """Send every request not yet answered; returns the finalized invoice."""
        items_added = 0
        invoice: dict = {}
        for request in requests:
            if request.binds in run.ids:
                continue
            answer = self._gateway.send(bind_references(request, run.ids))
            _log.debug("%s: %s answered", run.number, request.step)
            if request.step == "find_customer":
                self._adopt_found_customer(run, request, answer)
            elif request.binds:
                self._record_created(run, request, answer)
                items_added += request.path == "/v1/invoiceitems"
            else:
                invoice = answer
                if items_added:
                    run.result.actions.append(f"added {_count(items_added, 'invoice item')}")
                run.result.actions.append(f"finalized {invoice['id']}")
                self._record(run, request.step, status=invoice["status"])
        return invoice

    def _adopt_found_customer(self, run: _InvoiceRun, request: StripeRequest, found: dict) -> None:
        """Use the oldest Stripe customer carrying our `metadata.customer_id`, if any."""
        matches = sorted(found.get("data", []), key=lambda customer: customer["created"])
        if matches:
            self._record_created(run, request, matches[0], verb="found")

    def _record_created(
        self, run: _InvoiceRun, request: StripeRequest, answer: dict, *, verb: str = "created"
    ) -> None:
        assert request.binds is not None
        kind = request.binds.split("_")[0]
        run.ids[request.binds] = answer["id"]
        created = StripeObject(self._our_key(run, request), kind, answer["id"])
        if kind == "invoice":
            self._record(run, request.step, status=answer["status"], new_object=created)
        else:
            self._state.record_object(created)
        if kind != "invoiceitem":
            run.result.actions.append(f"{verb} {kind} {answer['id']}")

    def _settle(self, run: _InvoiceRun, invoice: dict | None) -> None:
        """Apply credit notes, check the amount, then charge a due open invoice or book
        what Stripe reports."""
        failed_before = self._state.has_outcome(run.number, "payment_failed")
        voiding = run.doc.voiding_credit_note
        unsent_notes = self._unsent_credit_notes(run)
        if invoice is None:
            awaiting = run.progress.status == "open" and not failed_before
            if awaiting and not (voiding or unsent_notes or self._is_due(run.doc)):
                run.result.actions.append(f"payment due {run.doc.due_on.isoformat()}")
                return
            invoice = self._gateway.retrieve_invoice(run.ids["invoice"])
        if invoice["status"] == "open" and unsent_notes:
            for note in unsent_notes:
                self._send_credit_note(run, note)
            invoice = self._gateway.retrieve_invoice(run.ids["invoice"])
        if voiding and invoice["status"] in ("open", "void"):
            self._void(run, invoice, voiding)
            return
        self._check_amount_due(run, invoice)
        status = invoice["status"]
        if status == "paid":
            self._book_payment(run, invoice, step=run.progress.step)
            if voiding or unsent_notes:
                notes = ", ".join(n.credit_note_id for n in (voiding, *unsent_notes) if n)
                raise StripeDisagrees(
                    f"Stripe invoice {invoice['id']} was paid before credit note(s) {notes} "
                    "reached it; refund the customer by hand"
                )
        elif status != "open":
            raise StripeDisagrees(
                f"Stripe invoice {invoice['id']} is {status}, ours is finalized; not charged"
            )
        elif failed_before:
            run.result.actions.append("still open after payment_failed, not charged again")
        elif not self._is_due(run.doc):
            run.result.actions.append(f"payment due {run.doc.due_on.isoformat()}")
        else:
            self._pay(run, invoice)

    def _partial_credit_notes(self, run: _InvoiceRun) -> list[tuple[CreditNoteRef, bool]]:
        """Our partial credit notes, oldest first, each with whether Stripe has it (recorded)."""
        keys = {self._credit_note_key(run, note): note for note in run.doc.partial_credit_notes}
        sent = self._state.stripe_ids(keys)
        return [(note, key in sent) for key, note in keys.items()]

    def _unsent_credit_notes(self, run: _InvoiceRun) -> list[CreditNoteRef]:
        return [note for note, sent in self._partial_credit_notes(run) if not sent]

    def _sent_credit_total(self, run: _InvoiceRun) -> int:
        """Minor units of our partial credit notes that Stripe has."""
        return sum(
            to_minor_units(note.amount, run.doc.currency)
            for note, sent in self._partial_credit_notes(run)
            if sent
        )

    def _send_credit_note(self, run: _InvoiceRun, note: CreditNoteRef) -> None:
        """Create the Stripe credit note, or adopt the one an unrecorded earlier run made.

        The idempotency key covers a lost reply for 24 hours; the lookup by
        `metadata.credit_note_id` covers a crash before the answer was
        recorded, at any later time.
        """
        request = bind_references(build_credit_note_request(run.doc, note), run.ids)
        assert request.idempotency_key is not None
        existing = [
            stripe_note
            for stripe_note in self._gateway.list_credit_notes(run.ids["invoice"])
            if stripe_note["metadata"].get("credit_note_id") == note.credit_note_id
        ]
        answer = existing[0] if existing else self._gateway.send(request)
        created = StripeObject(request.idempotency_key, "credit_note", answer["id"])
        self._record(run, request.step, new_object=created)
        verb = "found credit note" if existing else "credit note"
        run.result.actions.append(
            f"{verb} {answer['id']} for {note.credit_note_id} ({note.amount} {run.doc.currency})"
        )

    def _void(self, run: _InvoiceRun, invoice: dict, voiding: CreditNoteRef) -> None:
        """Void the open Stripe invoice a credit note voids; record one voided already."""
        request = bind_references(build_void_request(run.number, voiding), run.ids)
        assert request.idempotency_key is not None
        if invoice["status"] == "open":
            invoice = self._gateway.send(request)
            verb = "voided"
        else:
            verb = "found void"
        self._record(
            run,
            request.step,
            status=invoice["status"],
            new_object=StripeObject(request.idempotency_key, "void", invoice["id"]),
        )
        run.result.actions.append(
            f"{verb} {invoice['id']} (credit note {voiding.credit_note_id}), never charged"
        )

    @staticmethod
    def _credit_note_key(run: _InvoiceRun, note: CreditNoteRef) -> str:
        """Our key for a Stripe credit note: its request's idempotency key."""
        key = build_credit_note_request(run.doc, note).idempotency_key
        assert key is not None
        return key

    def _pay(self, run: _InvoiceRun, invoice: dict) -> None:
        request = bind_references(build_payment_request(run.number), run.ids)
        try:
            paid = self._gateway.send(request)
        except StripeRequestFailed as failure:
            if not failure.is_card_error:
                raise
            reason = failure.code + (f" ({failure.decline_code})" if failure.decline_code else "")
            self._record(
                run,
                request.step,
                status="open",
                error=f"payment_failed: {reason}",
                outcome=self._outcome(run, invoice, "payment_failed", self._as_of, failure.code),
            )
            run.result.actions.append(f"payment_failed: {failure.code}")
            return
        self._book_payment(run, paid, step=request.step)

    def _book_payment(self, run: _InvoiceRun, invoice: dict, *, step: str) -> None:
        """Record a paid invoice and its `payment` outcome, dated when Stripe says it was paid."""
        paid_at = invoice["status_transitions"]["paid_at"]
        occurred_at = datetime.fromtimestamp(paid_at, UTC) if paid_at else self._as_of
        outcome = self._outcome(run, invoice, "payment", occurred_at, None)
        self._record(run, step, status="paid", outcome=outcome)
        if invoice["amount_due"] == 0:
            run.result.actions.append("paid at finalization (zero total, no charge)")
        else:
            run.result.actions.append("paid")

    def _outcome(
        self,
        run: _InvoiceRun,
        invoice: dict,
        outcome: str,
        occurred_at: datetime,
        failure_code: str | None,
    ) -> PaymentOutcome:
        """The amount is Stripe's (paid, or what remained due when the charge failed), in our
        decimal form: the total less credit notes."""
        minor = invoice["amount_paid"] if outcome == "payment" else invoice["amount_remaining"]
        return PaymentOutcome(
            invoice_number=run.number,
            outcome=outcome,
            amount=Decimal(minor).scaleb(-minor_units(run.doc.currency)),
            currency=run.doc.currency,
            provider_reference=invoice["id"],
            failure_code=failure_code,
            occurred_at=occurred_at,
        )

    def _check_amount_due(self, run: _InvoiceRun, invoice: dict) -> None:
        """Stripe's amount due (and, while open, remaining) must be our total less the
        credit notes Stripe has: what fct_invoices says is still due."""
        total = to_minor_units(run.doc.total, run.doc.currency)
        credited = self._sent_credit_total(run)
        expected = total - credited
        currency = run.doc.currency.lower()
        remaining = invoice["amount_remaining"] if invoice["status"] == "open" else expected
        if (invoice["amount_due"], remaining, invoice["currency"]) != (
            expected,
            expected,
            currency,
        ):
            less = f" less {credited} credited" if credited else ""
            raise StripeDisagrees(
                f"Stripe invoice {invoice['id']} is due {invoice['amount_due']} "
                f"{invoice['currency']} minor units, our total is {total} {currency}{less}; "
                "not charged"
            )

    def _is_due(self, doc: InvoiceDocument) -> bool:
        return self._as_of >= datetime.combine(doc.due_on, time(), tzinfo=UTC)

    def _record(
        self,
        run: _InvoiceRun,
        step: str,
        *,
        status: str | None = None,
        error: str | None = None,
        new_object: StripeObject | None = None,
        outcome: PaymentOutcome | None = None,
    ) -> None:
        """Record an answered request: progress (error cleared unless given), object, outcome."""
        run.progress = InvoiceProgress(
            run.number, run.ids.get("invoice"), step, status or run.progress.status, error
        )
        self._state.record(run.progress, new_object=new_object, outcome=outcome)
        run.result.stripe_invoice_id = run.progress.stripe_invoice_id
        run.result.stripe_status = run.progress.status

    def _fail(self, run: _InvoiceRun, message: str) -> None:
        run.result.error = message
        run.progress = replace(
            run.progress, stripe_invoice_id=run.ids.get("invoice"), error=message
        )
        self._state.record(run.progress)
        _log.warning("%s: %s", run.number, message)

    @staticmethod
    def _our_key(run: _InvoiceRun, request: StripeRequest) -> str:
        """Customers are ours across invoices; other objects are keyed like their request."""
        if request.binds == "customer":
            return customer_key(run.doc.customer_id)
        assert request.idempotency_key is not None
        return request.idempotency_key


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
