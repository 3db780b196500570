"""The Stripe sync against a Stripe test server, driven by the real `stripe` SDK."""

from dataclasses import replace
from decimal import Decimal

import pytest

from exporters.money import to_minor_units
from exporters.stripe.state import StripeSyncState
from exporters.stripe.sync import StripeSyncAborted, sync_invoices_to_stripe
from tests.exporters.stripe.conftest import BEFORE_DUE

TOTALS_IN_MINOR_UNITS = {"INV-000001": 63596, "INV-000002": 61790, "INV-000003": 0}


class Crash(Exception):
    """The process dying: raised where the sync would wait before a retry."""


def crash(_seconds: float) -> None:
    raise Crash


def invoices_by_number(server) -> dict[str, dict]:
    invoices = [server.account.retrieve_invoice(i) for i in server.account.invoices]
    by_number = {invoice["metadata"]["invoice_number"]: invoice for invoice in invoices}
    assert len(by_number) == len(invoices), "an invoice exists twice in Stripe"
    return by_number


def outcomes(conn) -> list[tuple]:
    return conn.execute(
        """
        select invoice_number, outcome, amount, currency, provider_reference, failure_code
        from sync.payment_outcomes order by invoice_number, outcome
        """
    ).fetchall()


def assert_exactly_once_and_paid(server, documents) -> None:
    """One customer, invoice and item per line of ours, and one charge per non-zero invoice."""
    account = server.account
    assert sorted(c["metadata"]["customer_id"] for c in account.customers.values()) == [
        "cus_0001",
        "cus_0002",
        "cus_0003",
    ]
    invoices = invoices_by_number(server)
    for doc in documents:
        invoice = invoices[doc.invoice_number]
        items = [i for i in account.invoice_items.values() if i["invoice"] == invoice["id"]]
        assert sorted(int(i["metadata"]["line_number"]) for i in items) == [
            line.line_number for line in doc.lines
        ]
        assert invoice["status"] == "paid"
        assert invoice["amount_due"] == TOTALS_IN_MINOR_UNITS[doc.invoice_number]
    assert sorted(c["amount"] for c in account.charges.values()) == [61790, 63596]


def test_happy_path_creates_finalizes_and_charges_each_invoice(
    run_sync, stripe_server, conn, documents
):
    results = run_sync()

    assert [r.summary_line() for r in results] == [
        f"INV-000001: created customer {_customer('cus_0001', stripe_server)}, "
        f"created invoice {results[0].stripe_invoice_id}, added 7 invoice items, "
        f"finalized {results[0].stripe_invoice_id}, paid",
        f"INV-000002: created customer {_customer('cus_0002', stripe_server)}, "
        f"created invoice {results[1].stripe_invoice_id}, added 3 invoice items, "
        f"finalized {results[1].stripe_invoice_id}, paid",
        f"INV-000003: created customer {_customer('cus_0003', stripe_server)}, "
        f"created invoice {results[2].stripe_invoice_id}, added 3 invoice items, "
        f"finalized {results[2].stripe_invoice_id}, "
        "paid at finalization (zero total, no charge)",
    ]
    assert all(r.ok for r in results)
    assert_exactly_once_and_paid(stripe_server, documents)
    posts = [r for r in stripe_server.requests if r.method == "POST"]
    assert {r.idempotency_key.split(":")[1] for r in posts} == {
        "create_customer", "create_invoice", "invoiceitem", "finalize_invoice", "pay_invoice"
    }  # fmt: skip
    invoice = invoices_by_number(stripe_server)["INV-000001"]
    assert invoice["auto_advance"] is False
    assert invoice["collection_method"] == "charge_automatically"
    assert invoice["amount_due"] == to_minor_units(documents[0].total, "USD")
    assert [line["amount"] for line in invoice["lines"]["data"]] == [
        49900, 6000, 15000, 2839, -4990, -10000, 4847
    ]  # fmt: skip
    assert outcomes(conn) == [
        ("INV-000001", "payment", Decimal("635.96"), "USD", invoice["id"], None),
        ("INV-000002", "payment", Decimal("61790.00"), "JPY", results[1].stripe_invoice_id, None),
        ("INV-000003", "payment", Decimal("0.00"), "EUR", results[2].stripe_invoice_id, None),
    ]


def test_sync_state_maps_our_ids_to_stripe_ids(run_sync, conn, stripe_server):
    run_sync()
    objects = dict(conn.execute("select our_key, stripe_id from sync.stripe_objects").fetchall())
    invoices = invoices_by_number(stripe_server)
    assert objects["customer:cus_0002"] == invoices["INV-000002"]["customer"]
    assert objects["INV-000002:create_invoice"] == invoices["INV-000002"]["id"]
    assert objects["INV-000002:invoiceitem:3"].startswith("ii_")
    assert len(objects) == 3 + 3 + 13
    status = conn.execute(
        "select invoice_number, step, status, error from sync.stripe_invoice_status order by 1"
    ).fetchall()
    assert status == [
        ("INV-000001", "pay_invoice", "paid", None),
        ("INV-000002", "pay_invoice", "paid", None),
        ("INV-000003", "finalize_invoice", "paid", None),
    ]


def test_rerun_of_synced_invoices_sends_no_request(run_sync, stripe_server, conn):
    run_sync()
    sent = len(stripe_server.requests)

    results = run_sync()

    assert len(stripe_server.requests) == sent
    assert [r.actions for r in results] == [[], [], []]
    assert results[0].summary_line() == (
        f"INV-000001: nothing to do, {results[0].stripe_invoice_id} is paid"
    )
    assert len(outcomes(conn)) == 3


def test_invoices_are_charged_only_once_due(run_sync, stripe_server, conn, documents):
    early = run_sync(as_of=BEFORE_DUE)

    assert [r.actions[-1] for r in early] == [
        "payment due 2026-11-09",
        "payment due 2026-11-09",
        "paid at finalization (zero total, no charge)",
    ]
    assert not any(r.path.endswith("/pay") for r in stripe_server.requests)
    statuses = {n: i["status"] for n, i in invoices_by_number(stripe_server).items()}
    assert statuses == {"INV-000001": "open", "INV-000002": "open", "INV-000003": "paid"}

    sent = len(stripe_server.requests)
    run_sync(as_of=BEFORE_DUE)
    assert len(stripe_server.requests) == sent, "a re-run before the due date sends nothing"

    due = run_sync()
    assert [r.actions for r in due] == [["paid"], ["paid"], []]
    assert_exactly_once_and_paid(stripe_server, documents)
    assert len(outcomes(conn)) == 3


CRASH_POINTS = {
    "create customer": ("/v1/customers$", 0),
    "create second customer": ("/v1/customers$", 1),
    "create invoice": ("/v1/invoices$", 0),
    "first invoice item": ("/v1/invoiceitems$", 0),
    "last invoice item": ("/v1/invoiceitems$", 6),
    "finalize": ("/finalize$", 0),
    "pay": ("/pay$", 0),
}


@pytest.mark.parametrize("point", CRASH_POINTS.values(), ids=CRASH_POINTS.keys())
def test_crash_after_a_request_was_applied_is_resumed_without_duplicates(
    point, run_sync, stripe_server, documents, conn
):
    pattern, after = point
    stripe_server.faults.lose_reply_after_apply(pattern, after=after)
    with pytest.raises(Crash):
        run_sync(sleep=crash)

    results = run_sync()

    assert all(r.ok for r in results)
    assert_exactly_once_and_paid(stripe_server, documents)
    assert len(outcomes(conn)) == 3


def test_crash_between_paid_and_booking_the_payment_books_it_on_rerun(
    run_sync, stripe_server, conn, documents, monkeypatch
):
    record = StripeSyncState.record

    def crash_when_booking(self, progress, *, new_object=None, outcome=None):
        if outcome is not None:
            raise Crash
        record(self, progress, new_object=new_object, outcome=outcome)

    monkeypatch.setattr(StripeSyncState, "record", crash_when_booking)
    with pytest.raises(Crash):
        run_sync(as_of=BEFORE_DUE, docs=[documents[2]])
    monkeypatch.setattr(StripeSyncState, "record", record)
    writes = len(stripe_server.applied_writes())

    results = run_sync(as_of=BEFORE_DUE, docs=[documents[2]])

    assert results[0].actions == ["paid at finalization (zero total, no charge)"]
    assert len(stripe_server.applied_writes()) == writes
    assert [o[:2] for o in outcomes(conn)] == [("INV-000003", "payment")]


def test_lost_reply_is_retried_with_the_same_key_and_replayed(run_sync, stripe_server, sleeps):
    stripe_server.faults.lose_reply_after_apply("/v1/invoiceitems$", after=2)

    results = run_sync()

    assert all(r.ok for r in results)
    assert sleeps == [0.5]
    replays = [r for r in stripe_server.requests if r.replayed]
    assert [r.idempotency_key for r in replays] == ["INV-000001:invoiceitem:3"]
    assert len(stripe_server.account.invoice_items) == 13


@pytest.mark.parametrize("status", [429, 500, 503])
def test_transient_errors_are_retried_with_backoff(
    status, run_sync, stripe_server, sleeps, documents
):
    stripe_server.faults.fail_next("/finalize$", status=status, times=2)

    results = run_sync()

    assert all(r.ok for r in results)
    assert sleeps == [0.5, 1.0]
    assert_exactly_once_and_paid(stripe_server, documents)


def test_retries_are_bounded_and_other_invoices_still_sync(
    run_sync, stripe_server, sleeps, conn, documents
):
    stripe_server.faults.fail_next("/v1/invoiceitems$", status=500, times=4, after=7)

    first = run_sync()

    assert [r.ok for r in first] == [True, False, True]
    assert first[1].error == (
        "invoiceitem:1: api_error (HTTP 500): An unknown error occurred after 4 attempts"
    )
    assert sleeps == [0.5, 1.0, 2.0]
    row = conn.execute(
        "select step, status, error from sync.stripe_invoice_status where invoice_number = ?",
        ["INV-000002"],
    ).fetchone()
    assert row == ("create_invoice", "draft", first[1].error)

    second = run_sync()

    assert [r.ok for r in second] == [True, True, True]
    assert_exactly_once_and_paid(stripe_server, documents)


def test_card_decline_books_payment_failed_and_others_are_paid(run_sync, stripe_server, conn):
    stripe_server.cards.decline("cus_0001")

    results = run_sync()

    assert results[0].ok
    assert results[0].actions[-1] == "payment_failed: card_declined"
    invoices = invoices_by_number(stripe_server)
    declined = invoices["INV-000001"]
    assert (declined["status"], declined["attempt_count"]) == ("open", 1)
    assert [i["status"] for n, i in sorted(invoices.items())][1:] == ["paid", "paid"]
    assert outcomes(conn)[0] == (
        "INV-000001",
        "payment_failed",
        Decimal("635.96"),
        "USD",
        declined["id"],
        "card_declined",
    )
    row = conn.execute(
        "select status, error from sync.stripe_invoice_status where invoice_number = 'INV-000001'"
    ).fetchone()
    assert row == ("open", "payment_failed: card_declined (generic_decline)")

    writes = len(stripe_server.applied_writes())
    again = run_sync()
    assert len(stripe_server.applied_writes()) == writes, "a declined invoice is not re-charged"
    assert again[0].actions == ["still open after payment_failed, not charged again"]

    stripe_server.account.pay_invoice(declined["id"], {"paid_out_of_band": "true"})
    later = run_sync()
    assert later[0].actions == ["paid"]
    assert [o[1] for o in outcomes(conn)] == ["payment", "payment_failed", "payment", "payment"]


def test_zero_total_invoice_is_paid_at_finalization_without_a_charge(run_sync, stripe_server, conn):
    run_sync()

    invoice = invoices_by_number(stripe_server)["INV-000003"]
    assert (invoice["status"], invoice["amount_due"], invoice["amount_paid"]) == ("paid", 0, 0)
    assert [line["amount"] for line in invoice["lines"]["data"]] == [9900, -9900, 0]
    assert not any(r.path == f"/v1/invoices/{invoice['id']}/pay" for r in stripe_server.requests)
    assert all(c["currency"] != "eur" for c in stripe_server.account.charges.values())


def test_jpy_amounts_are_whole_yen(run_sync, stripe_server, conn):
    run_sync()

    invoice = invoices_by_number(stripe_server)["INV-000002"]
    assert (invoice["currency"], invoice["amount_due"], invoice["amount_paid"]) == (
        "jpy",
        61790,
        61790,
    )
    assert [line["amount"] for line in invoice["lines"]["data"]] == [50000, 6173, 5617]
    assert outcomes(conn)[1][2:4] == (Decimal("61790"), "JPY")


def test_existing_customer_is_found_and_its_pending_items_stay_off_our_invoice(
    run_sync, stripe_server, documents
):
    account = stripe_server.account
    existing = account.create_customer({"name": "Acme", "metadata": {"customer_id": "cus_0001"}})
    stray = account.create_invoice_item(
        {"customer": existing["id"], "amount": "12345", "currency": "usd"}
    )

    results = run_sync()

    assert results[0].actions[0] == f"found customer {existing['id']}"
    assert_exactly_once_and_paid(stripe_server, documents)
    assert account.invoice_items[stray["id"]]["invoice"] is None


def test_changed_request_under_a_used_key_is_a_clear_error(run_sync, stripe_server, documents):
    stripe_server.faults.lose_reply_after_apply("/v1/invoiceitems$")
    with pytest.raises(Crash):
        run_sync(sleep=crash)
    usd = documents[0]
    edited = replace(usd.lines[0], description="Growth plan — base fee (edited)")
    changed = replace(usd, lines=(edited, *usd.lines[1:]))

    results = run_sync(docs=[changed, *documents[1:]])

    assert results[0].error == (
        "invoiceitem:1: idempotency_error: Stripe already saw this idempotency key with "
        "different parameters, so what we would send now differs from what was sent before"
    )
    assert [r.ok for r in results[1:]] == [True, True]
    assert len(stripe_server.account.invoice_items) == 1 + 3 + 3


def test_stripe_amount_differing_from_our_total_is_never_charged(run_sync, stripe_server, conn):
    stripe_server.faults.fail_next("/finalize$", status=500, times=4)
    run_sync()
    draft = invoices_by_number(stripe_server)["INV-000001"]
    stripe_server.account.create_invoice_item(
        {"customer": draft["customer"], "invoice": draft["id"], "amount": "100"}
    )

    results = run_sync()

    assert results[0].error == (
        f"Stripe invoice {draft['id']} is due 63696 usd minor units, "
        "our total is 63596 usd; not charged"
    )
    assert invoices_by_number(stripe_server)["INV-000001"]["status"] == "open"
    assert [o[0] for o in outcomes(conn)] == ["INV-000002", "INV-000003"]
    assert run_sync()[0].error == results[0].error


def test_rejected_api_key_stops_the_sync_without_showing_the_key(conn, documents, stripe_server):
    wrong_key = "sk_test_wrong_" + "x" * 24
    with pytest.raises(StripeSyncAborted) as raised:
        sync_invoices_to_stripe(
            conn, documents, api_key=wrong_key, api_base=stripe_server.api_base, as_of=BEFORE_DUE
        )
    assert str(raised.value) == "Stripe rejected the API key (HTTP 401); stopped at INV-000001"
    assert not stripe_server.applied_writes()


def test_api_key_is_never_written_to_the_warehouse_or_logs(
    run_sync, stripe_server, conn, warehouse_copy, caplog
):
    caplog.set_level("DEBUG")
    stripe_server.cards.decline("cus_0002")
    stripe_server.faults.fail_next("/v1/invoiceitems$", status=500, times=4, after=7)
    stripe_server.faults.lose_reply_after_apply("/finalize$")
    run_sync()
    run_sync()
    conn.close()

    assert "Request to Stripe api" in caplog.text, "the SDK's debug log was captured"
    assert stripe_server.api_key not in caplog.text
    assert stripe_server.api_key.encode() not in warehouse_copy.read_bytes()


def _customer(customer_id: str, server) -> str:
    matches = [
        c["id"]
        for c in server.account.customers.values()
        if c["metadata"]["customer_id"] == customer_id
    ]
    assert len(matches) == 1
    return matches[0]


def test_invoice_voided_in_stripe_is_reported_not_charged(run_sync, stripe_server):
    run_sync(as_of=BEFORE_DUE)
    voided = invoices_by_number(stripe_server)["INV-000002"]
    stripe_server.account.void_invoice(voided["id"])

    results = run_sync()

    assert results[1].error == (
        f"Stripe invoice {voided['id']} is void, ours is finalized; not charged"
    )
    assert [r.actions for r in results] == [["paid"], [], []]
