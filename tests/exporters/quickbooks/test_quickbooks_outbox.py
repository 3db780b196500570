"""Outbox mode is unchanged, and the live sync sends exactly what the outbox shows."""

import json

from exporters.outbox_sync import write_invoice_outbox


def test_outbox_mode_writes_the_requests_and_sends_nothing(tmp_path, documents, qbo):
    report = write_invoice_outbox(documents, tmp_path, "quickbooks")

    assert report.invoice_numbers == ("INV-000001", "INV-000002", "INV-000003")
    assert "QuickBooks Online is NOT configured" in report.message
    first = sorted(path.name for path in (tmp_path / "quickbooks" / "INV-000001").iterdir())
    assert first[:3] == ["001-find_customer.json", "002-create_customer.json",
                         "003-find_income_account.json"]  # fmt: skip
    assert first[-1] == "019-create_invoice.json"
    assert qbo.requests == []


def test_the_sync_sends_the_outbox_bodies(tmp_path, documents, qbo, run_sync):
    write_invoice_outbox(documents, tmp_path, "quickbooks")
    run_sync()

    sent = {
        request.params["requestid"]: json.loads(request.body)
        for request in qbo.requests
        if "requestid" in request.params
    }
    compared = 0
    for path in sorted((tmp_path / "quickbooks").glob("*/*-create_*.json")):
        planned = json.loads(path.read_text())
        if planned["request_id"] in sent:  # items are created once, by the first invoice
            body = sent[planned["request_id"]]
            assert _with_placeholders(body, planned["body"]) == planned["body"], path.name
            compared += 1
    assert compared == len(sent) == 3 + 7 + 3  # customers, items, invoices


def _with_placeholders(sent: object, planned: object) -> object:
    """`sent` with the ids bound to the outbox's `{{x.Id}}` placeholders put back."""
    if isinstance(planned, str) and planned.startswith("{{"):
        return planned
    if isinstance(sent, dict) and isinstance(planned, dict):
        return {key: _with_placeholders(item, planned.get(key)) for key, item in sent.items()}
    if isinstance(sent, list) and isinstance(planned, list) and len(sent) == len(planned):
        return [_with_placeholders(a, b) for a, b in zip(sent, planned, strict=True)]
    return sent
