"""The QuickBooks sync, through the real python-quickbooks SDK, against the test server."""

from dataclasses import replace
from decimal import Decimal

import pytest

from exporters.quickbooks.errors import QuickBooksAuthError
from exporters.quickbooks.payloads import customer_display_name


def counts(qbo) -> dict[str, int]:
    return {
        entity: len(qbo.company.all(entity))
        for entity in ("Customer", "Item", "Invoice", "Payment")
    }


def invoice_by_number(qbo, number: str) -> dict:
    (invoice,) = [row for row in qbo.company.all("Invoice") if row["DocNumber"] == number]
    return invoice


def stored_objects(conn) -> dict[str, str]:
    return dict(conn.execute("select our_key, qbo_id from sync.quickbooks_objects").fetchall())


def test_happy_path_books_customers_items_and_invoices(qbo, run_sync, conn, documents):
    results = run_sync()

    assert [(r.invoice_number, r.error) for r in results] == [
        ("INV-000001", None),
        ("INV-000002", None),
        ("INV-000003", None),
    ]
    assert counts(qbo) == {"Customer": 3, "Item": 7, "Invoice": 3, "Payment": 0}
    for doc, result in zip(documents, results, strict=True):
        invoice = invoice_by_number(qbo, doc.invoice_number)
        customer = qbo.company.read("Customer", invoice["CustomerRef"]["value"])
        assert customer["DisplayName"] == customer_display_name(doc)
        assert invoice["TotalAmt"] == doc.total
        assert invoice["CurrencyRef"]["value"] == doc.currency
        assert result.qbo_invoice_id == invoice["Id"]
    items = {item["Name"]: item for item in qbo.company.all("Item")}
    assert {item["Type"] for item in items.values()} == {"Service"}
    assert {item["IncomeAccountRef"]["value"] for item in items.values()} == {
        qbo.income_account["Id"]
    }
    status = conn.execute(
        "select invoice_number, status, error from sync.quickbooks_invoice_status order by 1"
    ).fetchall()
    assert status == [(r.invoice_number, "synced", None) for r in results]
    assert results[0].summary_line().startswith("INV-000001: created customer 'Acme Analytics")


def test_lines_match_ours_and_negative_lines_are_accepted(qbo, run_sync, usd_invoice):
    run_sync([usd_invoice])

    invoice = invoice_by_number(qbo, "INV-000001")
    sales = [line for line in invoice["Line"] if line["DetailType"] == "SalesItemLineDetail"]
    assert [line["Amount"] for line in sales] == [line.amount for line in usd_invoice.lines]
    assert [line["Description"] for line in sales] == [
        line.description for line in usd_invoice.lines
    ]
    base_fee = sales[0]["SalesItemLineDetail"]
    assert (base_fee["Qty"], base_fee["UnitPrice"]) == (Decimal(1), Decimal(499))
    assert "Qty" not in sales[2]["SalesItemLineDetail"]  # tiered: no single unit price
    assert min(line["Amount"] for line in sales) == Decimal("-100.00")
    assert invoice["TotalAmt"] == invoice["Balance"] == Decimal("635.96")
    items = {item["Id"]: item["Name"] for item in qbo.company.all("Item")}
    assert items[sales[-1]["SalesItemLineDetail"]["ItemRef"]["value"]] == "Sales tax"


def test_rerun_creates_nothing_and_sends_nothing(qbo, run_sync):
    run_sync()
    before, sent = counts(qbo), len(qbo.requests)

    results = run_sync()

    assert counts(qbo) == before
    assert len(qbo.requests) == sent
    assert [r.actions for r in results] == [(), (), ()]
    assert results[0].summary_line() == (
        f"INV-000001: already in QuickBooks (invoice {results[0].qbo_invoice_id})"
    )


def test_crash_after_customer_created_then_rerun_books_exactly_one_of_each(
    qbo, run_sync, usd_invoice, sleeps
):
    qbo.fail_next(503, on="Item", times=3)

    (failed,) = run_sync([usd_invoice])

    assert "gave up after 3 attempts" in failed.error
    assert failed.actions[0].startswith("created customer")
    assert sleeps == [0.5, 1.0]
    assert counts(qbo) == {"Customer": 1, "Item": 0, "Invoice": 0, "Payment": 0}

    (rerun,) = run_sync([usd_invoice])

    assert rerun.error is None
    assert not any("customer" in action for action in rerun.actions)
    assert counts(qbo) == {"Customer": 1, "Item": 7, "Invoice": 1, "Payment": 0}


def test_lost_reply_on_invoice_create_is_retried_with_the_same_requestid(
    qbo, run_sync, usd_invoice
):
    qbo.lose_reply(on="Invoice")

    (result,) = run_sync([usd_invoice])

    assert result.error is None
    assert counts(qbo)["Invoice"] == 1
    creates = [r for r in qbo.requests if r.target == "Invoice"]
    assert [r.params["requestid"] for r in creates] == ["INV-000001:create_invoice"] * 2
    assert result.qbo_invoice_id == invoice_by_number(qbo, "INV-000001")["Id"]


def test_lost_replies_until_giving_up_then_rerun_finds_the_invoice_by_doc_number(
    qbo, run_sync, usd_invoice, conn
):
    qbo.lose_reply(on="Invoice", times=3)

    (failed,) = run_sync([usd_invoice])
    assert "network error" in failed.error
    assert "invoice:INV-000001" not in stored_objects(conn)

    (rerun,) = run_sync([usd_invoice])

    assert rerun.error is None
    assert rerun.actions == (f"found invoice INV-000001 ({rerun.qbo_invoice_id})",)
    assert counts(qbo) == {"Customer": 1, "Item": 7, "Invoice": 1, "Payment": 0}


def test_customer_whose_create_reply_was_lost_is_found_by_display_name(qbo, run_sync, jpy_invoice):
    qbo.lose_reply(on="Customer", times=3)

    (failed,) = run_sync([jpy_invoice])
    assert failed.error is not None
    (rerun,) = run_sync([jpy_invoice])

    assert rerun.error is None
    assert rerun.actions[0].startswith("found customer 'Kaito Robotics K.K. (cus_0002)'")
    assert counts(qbo)["Customer"] == 1


def test_duplicate_display_name_of_an_inactive_customer_is_reactivated_and_mapped(
    qbo, run_sync, usd_invoice, conn
):
    inactive = qbo.company.insert(
        "Customer",
        {
            "DisplayName": customer_display_name(usd_invoice).upper(),
            "Active": False,
            "CurrencyRef": {"value": "USD"},
        },
    )

    (result,) = run_sync([usd_invoice])

    assert result.error is None
    assert result.actions[0] == (
        f"reactivated customer 'Acme Analytics, Inc. (cus_0001)' ({inactive['Id']})"
    )
    assert counts(qbo)["Customer"] == 1
    assert qbo.company.read("Customer", inactive["Id"])["Active"] is True
    assert stored_objects(conn)["customer:cus_0001"] == inactive["Id"]
    assert invoice_by_number(qbo, "INV-000001")["CustomerRef"]["value"] == inactive["Id"]


def test_stale_sync_token_on_a_customer_update_is_reread_and_retried(
    qbo, run_sync, conn, documents, usd_invoice
):
    run_sync([usd_invoice])
    customer_id = stored_objects(conn)["customer:cus_0001"]
    qbo.company.edit("Customer", customer_id, Notes="edited by the accountant")
    changed = [replace(usd_invoice, customer_email="ap@acme.example")]

    (result,) = run_sync(changed)

    assert result.error is None
    assert result.actions == (f"updated customer ({customer_id})",)
    customer = qbo.company.read("Customer", customer_id)
    assert customer["PrimaryEmailAddr"] == {"Address": "ap@acme.example"}
    assert customer["Notes"] == "edited by the accountant"
    assert [r.answered for r in qbo.requests if r.target == "Customer"][-3:] == [400, 200, 200]
    (token,) = conn.execute(
        "select sync_token from sync.quickbooks_objects where our_key = 'customer:cus_0001'"
    ).fetchone()
    assert token == customer["SyncToken"]
    assert run_sync(changed)[0].actions == ()


def test_expired_token_used_as_is_stops_with_a_clear_error(qbo, run_sync, usd_invoice):
    qbo.expire_token()

    with pytest.raises(QuickBooksAuthError, match="QBO_ACCESS_TOKEN .*401.* used as is"):
        run_sync([usd_invoice])

    assert counts(qbo)["Customer"] == 0


def test_oauth_mode_refreshes_the_token_once_when_it_expires_mid_run(
    qbo, run_sync, oauth_settings, documents
):
    qbo.expire_token(on="Invoice")

    results = run_sync(settings=oauth_settings)

    assert [r.error for r in results] == [None, None, None]
    assert counts(qbo)["Invoice"] == 3
    assert [r.target for r in qbo.requests if r.target == "token"] == ["token", "token"]
    assert [r.answered for r in qbo.requests if r.target == "Invoice"][:2] == [401, 200]


def test_oauth_refresh_refused_stops_with_a_clear_error(qbo, run_sync, oauth_settings):
    refused = replace(oauth_settings, refresh_token="revoked-refresh-token")

    with pytest.raises(QuickBooksAuthError, match="HTTP 400 invalid_grant") as raised:
        run_sync(settings=refused)

    assert "revoked-refresh-token" not in str(raised.value)
    assert qbo.client_secret not in str(raised.value)


def test_throttling_and_server_errors_are_retried_with_backoff(qbo, run_sync, zero_invoice, sleeps):
    qbo.fail_next(429, on="query")
    qbo.fail_next(500, on="Customer")

    (result,) = run_sync([zero_invoice])

    assert result.error is None
    assert sleeps == [0.5, 0.5]
    assert counts(qbo) == {"Customer": 1, "Item": 3, "Invoice": 1, "Payment": 0}


def test_a_permanent_error_is_recorded_and_the_other_invoices_still_sync(qbo, run_sync, conn):
    squatter = qbo.company.insert(
        "Customer", {"DisplayName": "Someone else", "Active": True, "CurrencyRef": {"value": "JPY"}}
    )
    qbo.company.insert(
        "Invoice",
        {"DocNumber": "INV-000002", "CustomerRef": {"value": squatter["Id"]},
         "TotalAmt": Decimal(5), "Balance": Decimal(5), "Line": []},
    )  # fmt: skip

    results = run_sync()

    assert [r.error is None for r in results] == [True, False, True]
    assert "already has invoice" in results[1].error
    assert results[1].summary_line().startswith("INV-000002: FAILED: QuickBooks already has")
    assert counts(qbo)["Invoice"] == 3  # ours two, plus the one holding INV-000002
    status = conn.execute(
        "select invoice_number, status from sync.quickbooks_invoice_status order by 1"
    ).fetchall()
    assert status == [("INV-000001", "synced"), ("INV-000002", "failed"), ("INV-000003", "synced")]


def add_payment_outcomes(conn, *rows) -> None:
    """The table another exporter fills with what the payment provider reported."""
    conn.execute("create schema if not exists sync")
    conn.execute(
        """
        create table if not exists sync.payment_outcomes (
            invoice_number varchar, provider varchar, outcome varchar, amount decimal(18, 2),
            currency varchar, provider_reference varchar, failure_code varchar,
            occurred_at timestamp, recorded_at timestamp
        )
        """
    )
    columns = "invoice_number, provider, outcome, amount, currency, provider_reference, occurred_at"
    for row in rows:
        conn.execute(
            f"insert into sync.payment_outcomes ({columns}) values (?, ?, ?, ?, ?, ?, ?)", list(row)
        )


def test_paid_outcomes_become_payments_applied_to_the_invoice(qbo, run_sync, conn, usd_invoice):
    run_sync([usd_invoice])
    add_payment_outcomes(
        conn,
        ("INV-000001", "stripe", "payment_failed", "635.96", "usd", "pi_3QfailedAttempt000001",
         "2026-11-09 10:00:00"),
        ("INV-000001", "stripe", "payment", "635.96", "usd", "pi_3QpaidAttempt00000000002",
         "2026-11-10 10:00:00"),
    )  # fmt: skip

    (result,) = run_sync([usd_invoice])

    (payment,) = qbo.company.all("Payment")
    assert result.actions == (f"applied payment ({payment['Id']}) of 635.96 USD",)
    assert payment["TotalAmt"] == Decimal("635.96")
    assert payment["TxnDate"] == "2026-11-10"
    assert payment["PaymentRefNum"] == "pi_3QpaidAttempt00000"
    assert "pi_3QpaidAttempt00000000002" in payment["PrivateNote"]
    assert payment["Line"][0]["LinkedTxn"][0]["TxnId"] == result.qbo_invoice_id
    assert invoice_by_number(qbo, "INV-000001")["Balance"] == Decimal(0)
    assert run_sync([usd_invoice])[0].actions == ()
    assert counts(qbo)["Payment"] == 1


def test_a_payment_whose_reply_was_lost_is_booked_once(qbo, run_sync, conn, jpy_invoice):
    add_payment_outcomes(
        conn, ("INV-000002", "stripe", "payment", "61790", "JPY", "pi_jpy", "2026-11-10 09:00:00")
    )
    qbo.lose_reply(on="Payment")

    (result,) = run_sync([jpy_invoice])

    assert result.error is None
    assert counts(qbo)["Payment"] == 1
    assert invoice_by_number(qbo, "INV-000002")["Balance"] == Decimal(0)


def test_without_a_payment_outcomes_table_nothing_is_paid(qbo, run_sync, conn):
    run_sync()

    assert counts(qbo)["Payment"] == 0
    assert all(invoice["Balance"] == invoice["TotalAmt"] for invoice in qbo.company.all("Invoice"))


def test_secrets_never_reach_the_warehouse(qbo, run_sync, oauth_settings, warehouse_copy, conn):
    with pytest.raises(QuickBooksAuthError):
        run_sync(settings=replace(oauth_settings, refresh_token="wrong-refresh-token"))
    qbo.expire_token(on="Invoice")
    assert all(result.ok for result in run_sync(settings=oauth_settings))
    conn.close()

    content = warehouse_copy.read_bytes()
    secrets = (qbo.client_secret, qbo.refresh_token, qbo.access_token, "wrong-refresh-token")
    assert not [secret for secret in secrets if secret.encode() in content]
    assert "test-access-token" not in repr(oauth_settings)
    assert qbo.client_secret not in repr(oauth_settings)
