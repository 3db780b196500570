"""Credit notes in the Stripe sync: a voided invoice is never charged, a partial credit
lowers the charge, and a crash never duplicates a Stripe credit note or void."""

from dataclasses import replace
from decimal import Decimal

import pytest

from exporters.invoice_documents import CreditNoteRef, InvoiceDocument
from exporters.stripe.state import StripeSyncState
from tests.exporters.stripe.conftest import BEFORE_DUE
from tests.exporters.stripe.test_stripe_sync import Crash, crash, invoices_by_number, outcomes

VOID = CreditNoteRef("CN-000001", Decimal("635.96"), voids_invoice=True)
PARTIAL = CreditNoteRef("CN-000002", Decimal("35.96"), voids_invoice=False)


def with_notes(documents: list[InvoiceDocument], *notes: CreditNoteRef) -> list[InvoiceDocument]:
    """The documents with `notes` issued against the first (USD, 635.96) invoice."""
    return [replace(documents[0], credit_notes=notes), *documents[1:]]


def credit_note_objects(conn) -> list[tuple]:
    return conn.execute(
        "select our_key, kind from sync.stripe_objects "
        "where kind in ('credit_note', 'void') order by our_key"
    ).fetchall()


def test_invoice_voided_before_sync_is_never_created(run_sync, stripe_server, documents, conn):
    docs = with_notes(documents, VOID)

    results = run_sync(docs=docs)

    assert results[0].summary_line() == (
        "INV-000001: void by credit note CN-000001: not sent to Stripe"
    )
    assert results[0].ok
    assert "INV-000001" not in invoices_by_number(stripe_server)
    assert all(
        c["metadata"]["customer_id"] != "cus_0001" for c in stripe_server.account.customers.values()
    )
    assert [o[0] for o in outcomes(conn)] == ["INV-000002", "INV-000003"]
    sent = len(stripe_server.requests)
    assert run_sync(docs=docs)[0].actions == ["void by credit note CN-000001: not sent to Stripe"]
    assert len(stripe_server.requests) == sent


def test_open_invoice_voided_by_a_credit_note_is_voided_and_never_paid(
    run_sync, stripe_server, documents, conn
):
    run_sync(as_of=BEFORE_DUE)
    docs = with_notes(documents, VOID)

    results = run_sync(docs=docs)

    invoice = invoices_by_number(stripe_server)["INV-000001"]
    assert results[0].actions == [f"voided {invoice['id']} (credit note CN-000001), never charged"]
    assert (invoice["status"], invoice["amount_paid"]) == ("void", 0)
    assert not any(r.path == f"/v1/invoices/{invoice['id']}/pay" for r in stripe_server.requests)
    assert sorted(c["amount"] for c in stripe_server.account.charges.values()) == [61790]
    void_posts = [r for r in stripe_server.requests if r.path.endswith("/void")]
    assert [r.idempotency_key for r in void_posts] == ["INV-000001:void_invoice:CN-000001"]
    assert credit_note_objects(conn) == [("INV-000001:void_invoice:CN-000001", "void")]
    status = conn.execute(
        "select step, status from sync.stripe_invoice_status where invoice_number = 'INV-000001'"
    ).fetchone()
    assert status == ("void_invoice", "void")
    assert [o[0] for o in outcomes(conn)] == ["INV-000002", "INV-000003"]

    sent = len(stripe_server.requests)
    again = run_sync(docs=docs)
    assert len(stripe_server.requests) == sent
    assert again[0].summary_line() == f"INV-000001: nothing to do, {invoice['id']} is void"


def test_declined_invoice_voided_later_is_voided_not_charged_again(
    run_sync, stripe_server, documents, conn
):
    stripe_server.cards.decline("cus_0001")
    run_sync()
    writes = len(stripe_server.applied_writes())

    results = run_sync(docs=with_notes(documents, VOID))

    invoice = invoices_by_number(stripe_server)["INV-000001"]
    assert (invoice["status"], invoice["attempt_count"]) == ("void", 1)
    assert results[0].actions == [f"voided {invoice['id']} (credit note CN-000001), never charged"]
    assert len(stripe_server.applied_writes()) == writes + 1


def test_partial_credit_note_lowers_the_charge(run_sync, stripe_server, documents, conn):
    run_sync(as_of=BEFORE_DUE)
    docs = with_notes(documents, PARTIAL)

    results = run_sync(docs=docs)

    invoice = invoices_by_number(stripe_server)["INV-000001"]
    (note,) = stripe_server.account.credit_notes.values()
    assert results[0].actions == [f"credit note {note['id']} for CN-000002 (35.96 USD)", "paid"]
    assert (note["invoice"], note["amount"], note["pre_payment_amount"]) == (
        invoice["id"],
        3596,
        3596,
    )
    assert note["metadata"] == {"invoice_number": "INV-000001", "credit_note_id": "CN-000002"}
    assert (invoice["total"], invoice["pre_payment_credit_notes_amount"]) == (63596, 3596)
    assert (invoice["status"], invoice["amount_due"], invoice["amount_paid"]) == (
        "paid",
        60000,
        60000,
    )
    assert sorted(c["amount"] for c in stripe_server.account.charges.values()) == [60000, 61790]
    assert outcomes(conn)[0] == (
        "INV-000001",
        "payment",
        Decimal("600.00"),
        "USD",
        invoice["id"],
        None,
    )
    assert credit_note_objects(conn) == [("INV-000001:credit_note:CN-000002", "credit_note")]

    sent = len(stripe_server.requests)
    assert [r.actions for r in run_sync(docs=docs)] == [[], [], []]
    assert len(stripe_server.requests) == sent


def test_credit_note_on_an_invoice_not_yet_in_stripe_follows_its_finalization(
    run_sync, stripe_server, documents
):
    results = run_sync(docs=with_notes(documents, PARTIAL))

    assert results[0].actions[-3:-1] == [
        f"finalized {results[0].stripe_invoice_id}",
        f"credit note {next(iter(stripe_server.account.credit_notes))} for CN-000002 (35.96 USD)",
    ]
    assert results[0].actions[-1] == "paid"
    assert sorted(c["amount"] for c in stripe_server.account.charges.values()) == [60000, 61790]


def test_credit_note_before_the_due_date_is_sent_at_once_and_charged_later(
    run_sync, stripe_server, documents, conn
):
    docs = with_notes(documents, PARTIAL)
    early = run_sync(as_of=BEFORE_DUE, docs=docs)
    assert early[0].actions[-1] == "payment due 2026-11-09"
    assert invoices_by_number(stripe_server)["INV-000001"]["amount_remaining"] == 60000

    due = run_sync(docs=docs)

    assert due[0].actions == ["paid"]
    assert len(stripe_server.account.credit_notes) == 1
    assert sorted(c["amount"] for c in stripe_server.account.charges.values()) == [60000, 61790]


def test_crash_after_the_credit_note_request_is_resumed_without_a_second_note(
    run_sync, stripe_server, documents, conn
):
    run_sync(as_of=BEFORE_DUE)
    docs = with_notes(documents, PARTIAL)
    stripe_server.faults.lose_reply_after_apply("/v1/credit_notes$")
    with pytest.raises(Crash):
        run_sync(docs=docs, sleep=crash)
    assert len(stripe_server.account.credit_notes) == 1
    assert credit_note_objects(conn) == []

    results = run_sync(docs=docs)

    assert all(r.ok for r in results)
    (made,) = stripe_server.account.credit_notes.values()
    assert results[0].actions == [
        f"found credit note {made['id']} for CN-000002 (35.96 USD)",
        "paid",
    ]
    posts = [
        r for r in stripe_server.requests if r.path == "/v1/credit_notes" and r.method == "POST"
    ]
    assert [r.applied for r in posts] == [True]
    assert sorted(c["amount"] for c in stripe_server.account.charges.values()) == [60000, 61790]
    assert credit_note_objects(conn) == [("INV-000001:credit_note:CN-000002", "credit_note")]


def test_crash_after_the_void_request_is_resumed_and_recorded(
    run_sync, stripe_server, documents, conn
):
    run_sync(as_of=BEFORE_DUE)
    docs = with_notes(documents, VOID)
    stripe_server.faults.lose_reply_after_apply("/void$")
    with pytest.raises(Crash):
        run_sync(docs=docs, sleep=crash)

    results = run_sync(docs=docs)

    invoice = invoices_by_number(stripe_server)["INV-000001"]
    assert results[0].actions == [
        f"found void {invoice['id']} (credit note CN-000001), never charged"
    ]
    assert invoice["status"] == "void"
    assert credit_note_objects(conn) == [("INV-000001:void_invoice:CN-000001", "void")]
    assert sorted(c["amount"] for c in stripe_server.account.charges.values()) == [61790]


def test_partial_then_voiding_credit_notes_credit_then_void(
    run_sync, stripe_server, documents, conn
):
    run_sync(as_of=BEFORE_DUE)
    rest = CreditNoteRef("CN-000003", Decimal("600.00"), voids_invoice=True)

    results = run_sync(docs=with_notes(documents, PARTIAL, rest))

    invoice = invoices_by_number(stripe_server)["INV-000001"]
    assert [a.split(" ")[0] for a in results[0].actions] == ["credit", "voided"]
    assert (invoice["status"], invoice["amount_remaining"], invoice["amount_paid"]) == (
        "void",
        0,
        0,
    )
    assert sorted(c["amount"] for c in stripe_server.account.charges.values()) == [61790]


def test_credit_note_stripe_did_not_get_is_never_charged_around(
    run_sync, stripe_server, documents, conn
):
    run_sync(as_of=BEFORE_DUE)
    invoice = invoices_by_number(stripe_server)["INV-000001"]
    stripe_server.account.create_credit_note({"invoice": invoice["id"], "amount": "100"})

    results = run_sync()

    assert results[0].error == (
        f"Stripe invoice {invoice['id']} is due 63496 usd minor units, "
        "our total is 63596 usd; not charged"
    )
    assert invoices_by_number(stripe_server)["INV-000001"]["status"] == "open"


def test_draft_left_by_a_failed_finalize_is_not_finalized_once_voided(
    run_sync, stripe_server, documents
):
    stripe_server.faults.fail_next("/finalize$", status=500, times=4)
    assert not run_sync()[0].ok
    draft = invoices_by_number(stripe_server)["INV-000001"]

    results = run_sync(docs=with_notes(documents, VOID))

    assert results[0].actions == [
        f"void by credit note CN-000001: draft {draft['id']} left unfinalized, never charged"
    ]
    assert results[0].ok
    assert invoices_by_number(stripe_server)["INV-000001"]["status"] == "draft"


def test_credit_note_stripe_made_but_we_never_recorded_is_found_not_made_again(
    run_sync, stripe_server, documents, conn, monkeypatch
):
    run_sync(as_of=BEFORE_DUE)
    docs = with_notes(documents, PARTIAL)
    record = StripeSyncState.record

    def crash_when_recording_the_note(self, progress, *, new_object=None, outcome=None):
        if new_object is not None and new_object.kind == "credit_note":
            raise Crash
        record(self, progress, new_object=new_object, outcome=outcome)

    monkeypatch.setattr(StripeSyncState, "record", crash_when_recording_the_note)
    with pytest.raises(Crash):
        run_sync(docs=docs)
    monkeypatch.setattr(StripeSyncState, "record", record)
    (made,) = stripe_server.account.credit_notes.values()
    stripe_server._saved.clear()  # the idempotency keys have expired (24 hours later)

    results = run_sync(docs=docs)

    assert results[0].actions == [
        f"found credit note {made['id']} for CN-000002 (35.96 USD)",
        "paid",
    ]
    assert len(stripe_server.account.credit_notes) == 1
    assert sorted(c["amount"] for c in stripe_server.account.charges.values()) == [60000, 61790]


def test_lost_credit_note_reply_is_retried_with_the_same_key_and_replayed(
    run_sync, stripe_server, documents, sleeps
):
    stripe_server.faults.lose_reply_after_apply("/v1/credit_notes$")

    results = run_sync(docs=with_notes(documents, PARTIAL))

    assert results[0].ok and results[0].actions[-1] == "paid"
    replays = [r for r in stripe_server.requests if r.replayed]
    assert [r.idempotency_key for r in replays] == ["INV-000001:credit_note:CN-000002"]
    assert len(stripe_server.account.credit_notes) == 1
    assert sorted(c["amount"] for c in stripe_server.account.charges.values()) == [60000, 61790]
