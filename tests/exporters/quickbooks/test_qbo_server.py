"""The test server answers python-quickbooks the way QuickBooks Online does."""

import json
from collections.abc import Iterator
from decimal import Decimal

import pytest
import requests
from quickbooks.exceptions import QuickbooksException
from quickbooks.objects.customer import Customer
from quickbooks.objects.invoice import Invoice

from exporters.quickbooks.auth import StaticToken
from exporters.quickbooks.client import QuickBooksClient
from exporters.quickbooks.errors import TokenRejected, TransientError


@pytest.fixture
def qb(qbo) -> Iterator[QuickBooksClient]:
    with requests.Session() as session:
        yield QuickBooksClient(
            api_base=qbo.api_base,
            realm_id=qbo.realm_id,
            tokens=StaticToken(qbo.access_token),
            session=session,
            timeout_seconds=5,
        )


def create(qb, entity: str, body: dict, request_id: str | None = None) -> dict:
    return qb.create_object(entity, json.dumps(body), request_id=request_id)[entity]


def fault_of(call) -> QuickbooksException:
    with pytest.raises(QuickbooksException) as raised:
        call()
    return raised.value


def item(qb, qbo, name: str = "Usage") -> dict:
    return create(
        qb,
        "Item",
        {"Name": name, "Type": "Service", "IncomeAccountRef": {"value": qbo.income_account["Id"]}},
    )


def invoice_body(customer: dict, item_: dict, *amounts: str, doc_number: str = "INV-1") -> dict:
    lines = [
        {
            "DetailType": "SalesItemLineDetail",
            "Amount": amount,
            "SalesItemLineDetail": {"ItemRef": {"value": item_["Id"]}},
        }
        for amount in amounts
    ]
    return {"DocNumber": doc_number, "CustomerRef": {"value": customer["Id"]}, "Line": lines}


def test_create_read_and_query_return_quickbooks_envelopes(qb):
    created = create(qb, "Customer", {"DisplayName": "Acme (c1)"})

    assert (created["SyncToken"], created["Active"]) == ("0", True)
    assert Customer.get(created["Id"], qb=qb).DisplayName == "Acme (c1)"
    response = qb.query("SELECT * FROM Customer WHERE DisplayName = 'acme (c1)'")
    assert response["QueryResponse"]["Customer"][0]["Id"] == created["Id"]
    assert response["QueryResponse"]["startPosition"] == 1
    assert qb.query("SELECT * FROM Customer WHERE DisplayName = 'nobody'")["QueryResponse"] == {}
    assert Customer.filter(DisplayName="Acme (c1)", qb=qb)[0].Id == created["Id"]


def test_queries_skip_inactive_names_unless_asked(qb, qbo):
    qbo.company.insert("Customer", {"DisplayName": "Gone", "Active": False})

    assert Customer.filter(DisplayName="Gone", qb=qb) == []
    found = Customer.query(
        "SELECT * FROM Customer WHERE Active IN (true, false) AND DisplayName = 'Gone'", qb=qb
    )
    assert [customer.Active for customer in found] == [False]
    assert fault_of(lambda: qb.query("SELECT Id FROM Customer")).error_code == 4000


def test_duplicate_display_name_is_fault_6240_even_for_inactive_customers(qb, qbo):
    qbo.company.insert("Customer", {"DisplayName": "Gone", "Active": False})

    error = fault_of(lambda: create(qb, "Customer", {"DisplayName": "GONE"}))

    assert (error.error_code, error.message) == (6240, "Duplicate Name Exists Error")


def test_invoice_total_is_computed_from_lines_and_doc_numbers_are_unique(qb, qbo):
    customer = create(qb, "Customer", {"DisplayName": "Acme"})
    usage = item(qb, qbo)

    invoice = create(qb, "Invoice", {**invoice_body(customer, usage, "100.00", "-20.50"),
                                     "TotalAmt": "1"})  # fmt: skip

    assert invoice["TotalAmt"] == invoice["Balance"] == Decimal("79.50")
    assert invoice["Line"][-1]["DetailType"] == "SubTotalLineDetail"
    error = fault_of(lambda: create(qb, "Invoice", invoice_body(customer, usage, "5")))
    assert error.error_code == 6140
    assert f"TxnId={invoice['Id']}" in error.detail


def test_negative_invoice_totals_and_wrong_unit_prices_are_refused(qb, qbo):
    customer = create(qb, "Customer", {"DisplayName": "Acme"})
    usage = item(qb, qbo)

    negative = fault_of(lambda: create(qb, "Invoice", invoice_body(customer, usage, "5", "-6")))
    body = invoice_body(customer, usage, "10")
    body["Line"][0]["SalesItemLineDetail"] |= {"Qty": "3", "UnitPrice": "3"}
    mispriced = fault_of(lambda: create(qb, "Invoice", body))

    assert (negative.error_code, mispriced.error_code) == (6000, 6070)
    assert "cannot be negative" in negative.detail
    assert qbo.company.all("Invoice") == []


def test_service_items_need_an_existing_income_account(qb):
    missing = fault_of(lambda: create(qb, "Item", {"Name": "Usage", "Type": "Service"}))
    unknown = fault_of(
        lambda: create(
            qb, "Item", {"Name": "Usage", "Type": "Service", "IncomeAccountRef": {"value": "99"}}
        )
    )

    assert (missing.error_code, unknown.error_code) == (2020, 2500)


def test_sparse_update_checks_the_sync_token(qb):
    created = create(qb, "Customer", {"DisplayName": "Acme", "Notes": "keep"})
    update = {"Id": created["Id"], "SyncToken": "0", "sparse": True, "CompanyName": "Acme Inc"}

    updated = qb.update_object("Customer", json.dumps(update))["Customer"]
    stale = fault_of(lambda: qb.update_object("Customer", json.dumps(update)))

    assert (updated["SyncToken"], updated["Notes"], updated["CompanyName"]) == (
        "1",
        "keep",
        "Acme Inc",
    )
    assert (stale.error_code, stale.message) == (5010, "Stale Object Error")


def test_requestid_replays_the_first_successful_response(qb, qbo):
    first = create(qb, "Customer", {"DisplayName": "Acme"}, request_id="INV-1:create_customer")
    again = create(qb, "Customer", {"DisplayName": "Acme"}, request_id="INV-1:create_customer")

    assert again == first
    assert len(qbo.company.all("Customer")) == 1
    assert qbo.requests[-1].params == {"minorversion": "75", "requestid": "INV-1:create_customer"}


def test_payments_reduce_the_balance_of_linked_invoices(qb, qbo):
    customer = create(qb, "Customer", {"DisplayName": "Acme"})
    invoice = create(qb, "Invoice", invoice_body(customer, item(qb, qbo), "100.00"))
    line = {"Amount": "60.00", "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]}

    payment = create(
        qb, "Payment", {"CustomerRef": {"value": customer["Id"]}, "TotalAmt": "60", "Line": [line]}
    )
    too_much = fault_of(
        lambda: create(
            qb, "Payment",
            {"CustomerRef": {"value": customer["Id"]}, "TotalAmt": "50",
             "Line": [{**line, "Amount": "50"}]},
        )
    )  # fmt: skip

    after = Invoice.get(invoice["Id"], qb=qb)
    assert (after.Balance, after.SyncToken) == (Decimal(40), "1")
    assert after.LinkedTxn[0].TxnId == payment["Id"]
    assert too_much.error_code == 6000


def test_injected_faults_and_expired_tokens(qb, qbo):
    qbo.fail_next(503, on="Customer")
    qbo.fail_next(429)
    with pytest.raises(TransientError, match="HTTP 503"):
        create(qb, "Customer", {"DisplayName": "Acme"})
    with pytest.raises(TransientError, match="HTTP 429"):
        qb.query("SELECT * FROM Customer")
    qbo.expire_token()
    with pytest.raises(TokenRejected):
        qb.query("SELECT * FROM Customer")

    assert [request.answered for request in qbo.requests] == [503, 429, 401]
    assert qbo.company.all("Customer") == []


def test_a_lost_reply_is_applied_but_never_answered(qb, qbo):
    qbo.lose_reply(on="Customer")

    with pytest.raises(TransientError, match="network error"):
        create(qb, "Customer", {"DisplayName": "Acme"}, request_id="r1")

    assert [customer["DisplayName"] for customer in qbo.company.all("Customer")] == ["Acme"]
    assert create(qb, "Customer", {"DisplayName": "Acme"}, request_id="r1")["Id"]
