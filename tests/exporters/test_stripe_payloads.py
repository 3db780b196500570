from dataclasses import replace
from decimal import Decimal

import pytest

from exporters.invoice_documents import InvoiceDataError
from exporters.money import to_minor_units
from exporters.stripe.payloads import bind_references, build_stripe_requests


def items(requests):
    return [r for r in requests if r.path == "/v1/invoiceitems"]


def test_sequence_finds_or_creates_customer_then_invoice_items_and_finalizes(usd_invoice):
    requests = build_stripe_requests(usd_invoice)
    steps = [r.step for r in requests]
    assert steps == [
        "find_customer",
        "create_customer",
        "create_invoice",
        *(f"invoiceitem:{n}" for n in range(1, 8)),
        "finalize_invoice",
    ]
    find, customer, invoice = requests[:3]
    assert (find.method, find.path) == ("GET", "/v1/customers/search")
    assert find.params == {"query": "metadata['customer_id']:'cus_0001'"}
    assert find.binds == customer.binds == "customer"
    assert customer.params["metadata"] == {"customer_id": "cus_0001"}
    assert customer.params["address"] == {
        "line1": "500 Market Street",
        "line2": "Suite 1200",
        "city": "San Francisco",
        "state": "CA",
        "postal_code": "94105",
        "country": "US",
    }
    assert invoice.params | {"metadata": None} == {
        "customer": "{{customer.id}}",
        "currency": "usd",
        "collection_method": "charge_automatically",
        "auto_advance": False,
        "pending_invoice_items_behavior": "exclude",
        "description": "Invoice INV-000001",
        "metadata": None,
    }
    assert invoice.params["metadata"] == {
        "invoice_number": "INV-000001",
        "customer_id": "cus_0001",
        "period_start": "2026-10-01",
    }
    assert requests[-1].path == "/v1/invoices/{{invoice.id}}/finalize"


def test_one_item_per_line_including_tax_and_negative_lines(usd_invoice):
    amounts = [r.params["amount"] for r in items(build_stripe_requests(usd_invoice))]
    assert amounts == [49900, 6000, 15000, 2839, -4990, -10000, 4847]
    assert sum(amounts) == to_minor_units(usd_invoice.total, "USD") == 63596
    item = items(build_stripe_requests(usd_invoice))[2]
    assert item.params["invoice"] == "{{invoice.id}}"
    assert item.params["currency"] == "usd"
    assert item.params["description"].startswith("API calls — Growth plan")
    assert item.params["metadata"]["invoice_number"] == "INV-000001"
    assert item.params["metadata"]["line_number"] == "3"
    assert item.idempotency_key == "INV-000001:invoiceitem:3"


def test_jpy_amounts_have_no_minor_digits(jpy_invoice):
    requests = build_stripe_requests(jpy_invoice)
    assert [r.params["amount"] for r in items(requests)] == [50000, 6173, 5617]
    assert {r.params["currency"] for r in items(requests)} == {"jpy"}


def test_zero_total_invoice_items_sum_to_zero(zero_invoice):
    assert [r.params["amount"] for r in items(build_stripe_requests(zero_invoice))] == [
        9900,
        -9900,
        0,
    ]


def test_idempotency_keys_are_unique_and_stable(documents):
    keys = [r.idempotency_key for doc in documents for r in build_stripe_requests(doc)]
    writes = [key for key in keys if key is not None]
    assert len(writes) == len(set(writes)) == len(keys) - len(documents)
    again = [r.idempotency_key for doc in documents for r in build_stripe_requests(doc)]
    assert keys == again
    assert all(key.startswith("INV-00000") for key in writes)


def test_items_that_disagree_with_the_total_are_refused(usd_invoice, jpy_invoice):
    with pytest.raises(InvoiceDataError, match="lines sum to"):
        build_stripe_requests(replace(usd_invoice, total=Decimal("600.00")))
    fractional_yen = replace(
        jpy_invoice.lines[2], amount=jpy_invoice.lines[2].amount + Decimal("0.5")
    )
    odd = replace(
        jpy_invoice,
        lines=(*jpy_invoice.lines[:2], fractional_yen),
        tax_total=jpy_invoice.tax_total + Decimal("0.5"),
        total=jpy_invoice.total + Decimal("0.5"),
    )
    with pytest.raises(ValueError, match="more precision"):
        build_stripe_requests(odd)


def test_drafts_are_not_sent(usd_invoice):
    with pytest.raises(InvoiceDataError, match="only finalized"):
        build_stripe_requests(replace(usd_invoice, status="draft", invoice_number=None))


def test_bind_references_fills_in_ids(usd_invoice):
    requests = build_stripe_requests(usd_invoice)
    item = bind_references(requests[3], {"customer": "cus_Stripe1", "invoice": "in_Stripe1"})
    assert (item.params["customer"], item.params["invoice"]) == ("cus_Stripe1", "in_Stripe1")
    assert bind_references(requests[-1], {"invoice": "in_X"}).path == "/v1/invoices/in_X/finalize"
    with pytest.raises(LookupError, match=r"invoiceitem:1: no id bound yet for \{\{invoice.id\}\}"):
        bind_references(requests[3], {"customer": "cus_Stripe1"})
