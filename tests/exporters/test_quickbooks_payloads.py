from dataclasses import replace
from decimal import Decimal

import pytest

from exporters.invoice_documents import InvoiceDataError
from exporters.quickbooks.payloads import (
    bind_references,
    build_quickbooks_requests,
    customer_display_name,
)


def by_step(requests):
    return {request.step: request for request in requests}


def test_invoice_carries_doc_number_dates_and_total(usd_invoice):
    invoice = by_step(build_quickbooks_requests(usd_invoice))["create_invoice"]
    body = invoice.body
    assert (invoice.method, invoice.entity, invoice.request_id) == (
        "create",
        "Invoice",
        "INV-000001:create_invoice",
    )
    assert body["DocNumber"] == "INV-000001"
    assert (body["TxnDate"], body["DueDate"]) == ("2026-11-04", "2026-11-09")
    assert body["TotalAmt"] == "635.96"
    assert body["CurrencyRef"]["value"] == "USD"
    assert body["CustomerRef"]["value"] == "{{customer.Id}}"
    assert "ExchangeRate" not in body
    assert sum(Decimal(line["Amount"]) for line in body["Line"]) == usd_invoice.total


def test_one_sales_line_per_invoice_line(usd_invoice):
    lines = by_step(build_quickbooks_requests(usd_invoice))["create_invoice"].body["Line"]
    assert [line["DetailType"] for line in lines] == ["SalesItemLineDetail"] * 7
    assert [line["Amount"] for line in lines][4:] == ["-49.90", "-100.00", "48.47"]
    base, _, api_calls, storage, *_ = (line["SalesItemLineDetail"] for line in lines)
    assert (base["Qty"], base["UnitPrice"]) == ("1", "499")
    assert base["ItemRef"] == {"name": "Base fee", "type": "", "value": "{{item_base_fee.Id}}"}
    assert "Qty" not in api_calls and "UnitPrice" not in api_calls  # tiered: no single price
    assert "Qty" not in storage  # 1234.5 × 0.023 = 28.3935, not the rounded 28.39


def test_one_non_taxable_service_item_per_fee_type_and_meter(usd_invoice):
    creates = [r for r in build_quickbooks_requests(usd_invoice) if r.entity == "Item"]
    items = [r.body for r in creates if r.method == "create"]
    assert [item["Name"] for item in items] == [
        "Base fee",
        "Seat fee",
        "Usage - api_calls",
        "Usage - storage_gb",
        "Discount",
        "Credit applied",
        "Sales tax",
    ]
    assert {(item["Type"], item["Taxable"]) for item in items} == {("Service", False)}
    assert items[0]["IncomeAccountRef"] == {
        "name": "Services",
        "type": "",
        "value": "{{income_account.Id}}",
    }


def test_customer_is_found_by_unique_display_name(usd_invoice):
    requests = by_step(build_quickbooks_requests(usd_invoice))
    assert requests["find_customer"].body == {
        "query": "SELECT * FROM Customer WHERE DisplayName = 'Acme Analytics, Inc. (cus_0001)'"
    }
    customer = requests["create_customer"].body
    assert customer["DisplayName"] == "Acme Analytics, Inc. (cus_0001)"
    assert customer["PrimaryEmailAddr"] == {"Address": "billing@acme.example"}
    assert customer["BillAddr"]["PostalCode"] == "94105"
    assert requests["find_invoice"].body == {
        "query": "SELECT * FROM Invoice WHERE DocNumber = 'INV-000001'"
    }


def test_names_are_cleaned_and_quoted(usd_invoice):
    doc = replace(usd_invoice, customer_name="O'Brien: Labs")
    assert customer_display_name(doc) == "O'Brien  Labs (cus_0001)"
    query = by_step(build_quickbooks_requests(doc))["find_customer"].body["query"]
    assert query == r"SELECT * FROM Customer WHERE DisplayName = 'O\'Brien  Labs (cus_0001)'"


def test_request_ids_are_unique_short_and_stable(documents, usd_invoice):
    ids = [r.request_id for doc in documents for r in build_quickbooks_requests(doc)]
    writes = [request_id for request_id in ids if request_id]
    assert len(writes) == len(set(writes))
    assert ids == [r.request_id for doc in documents for r in build_quickbooks_requests(doc)]
    long_meter = replace(usd_invoice.lines[2], meter_id="a_very_long_meter_identifier_for_tests")
    doc = replace(usd_invoice, lines=(*usd_invoice.lines[:2], long_meter, *usd_invoice.lines[3:]))
    assert all(len(r.request_id or "") <= 50 for r in build_quickbooks_requests(doc))


def test_zero_total_invoice(zero_invoice):
    body = by_step(build_quickbooks_requests(zero_invoice))["create_invoice"].body
    assert (body["DocNumber"], body["TotalAmt"]) == ("INV-000003", "0.00")
    assert [line["Amount"] for line in body["Line"]] == ["99.00", "-99.00", "0.00"]


def test_refuses_what_quickbooks_would_reject(usd_invoice):
    with pytest.raises(InvoiceDataError, match="21-character DocNumber"):
        build_quickbooks_requests(replace(usd_invoice, invoice_number="INV-" + "0" * 20))
    credit_only = replace(
        usd_invoice,
        lines=usd_invoice.lines[5:6],
        subtotal=Decimal("0.00"),
        discount_total=Decimal("0.00"),
        credit_total=Decimal("100.00"),
        tax_total=Decimal("0.00"),
        total=Decimal("-100.00"),
    )
    with pytest.raises(InvoiceDataError, match="negative"):
        build_quickbooks_requests(credit_only)


def test_bind_references_fills_in_ids(usd_invoice):
    invoice = by_step(build_quickbooks_requests(usd_invoice))["create_invoice"]
    ids = {"customer": "58"} | {f"item_{n}": str(i) for i, n in enumerate(
        ["base_fee", "seat_fee", "usage_api_calls", "usage_storage_gb", "discount",
         "credit_applied", "sales_tax"])}  # fmt: skip
    bound = bind_references(invoice, ids)
    assert bound.body["CustomerRef"]["value"] == "58"
    assert [line["SalesItemLineDetail"]["ItemRef"]["value"] for line in bound.body["Line"]] == [
        str(i) for i in range(7)
    ]
