import json
import os
from dataclasses import replace
from pathlib import Path

import pytest

from exporters.outbox import SecretInOutboxError, write_outbox_request
from exporters.outbox_sync import write_invoice_outbox
from exporters.quickbooks.payloads import build_quickbooks_requests
from exporters.stripe.payloads import build_stripe_requests

FAKE_KEY = "sk_test_FAKEFAKEFAKE1234567890"


def test_request_is_pretty_sorted_json(tmp_path: Path):
    request = {"step": "invoiceitem:3", "params": {"b": 1, "a": "€"}, "method": "POST"}
    path = write_outbox_request(tmp_path, "stripe", "INV-000001", 4, request)
    assert path == tmp_path / "stripe" / "INV-000001" / "004-invoiceitem-3.json"
    assert path.read_text() == (
        '{\n  "method": "POST",\n  "params": {\n    "a": "€",\n    "b": 1\n  },\n'
        '  "step": "invoiceitem:3"\n}\n'
    )


def test_same_content_leaves_the_file_alone(tmp_path: Path):
    request = {"step": "create_customer", "params": {"name": "Acme"}}
    path = write_outbox_request(tmp_path, "stripe", "INV-000001", 2, request)
    os.utime(path, ns=(1_000_000_000, 1_000_000_000))
    write_outbox_request(tmp_path, "stripe", "INV-000001", 2, request)
    assert path.stat().st_mtime_ns == 1_000_000_000
    changed = {"step": "create_customer", "params": {"name": "Acme Ltd"}}
    write_outbox_request(tmp_path, "stripe", "INV-000001", 2, changed)
    assert json.loads(path.read_text()) == changed


def test_requests_are_checked_for_secrets(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("STRIPE_API_KEY", FAKE_KEY)
    with pytest.raises(SecretInOutboxError, match=r"\$STRIPE_API_KEY"):
        write_outbox_request(tmp_path, "stripe", "INV-1", 1, {"step": "x", "key": FAKE_KEY})
    assert not list(tmp_path.rglob("*.json"))


@pytest.mark.parametrize(
    ("provider", "build"),
    [("stripe", build_stripe_requests), ("quickbooks", build_quickbooks_requests)],
)
def test_invoice_outbox_writes_every_request_and_no_secret(
    documents, tmp_path: Path, monkeypatch, provider, build
):
    monkeypatch.setenv("STRIPE_API_KEY", FAKE_KEY)
    monkeypatch.setenv("QBO_CLIENT_SECRET", FAKE_KEY + "qbo")
    report = write_invoice_outbox(documents, tmp_path, provider)

    expected = [request for doc in documents for request in build(doc)]
    assert len(report.files) == len(expected)
    assert json.loads(report.files[-1].read_text())["step"] == expected[-1].step
    assert report.invoice_numbers == ("INV-000001", "INV-000002", "INV-000003")
    assert sorted(p.name for p in (tmp_path / provider).iterdir()) == list(report.invoice_numbers)
    for path in tmp_path.rglob("*"):
        assert path.is_dir() or FAKE_KEY not in path.read_text()

    assert "NOT configured" in report.message
    assert "nothing was sent" in report.message
    assert f"requests for 3 invoices ({len(expected)} files)" in report.message
    assert str(tmp_path / provider) in report.message


def test_stripe_outbox_files_hold_the_requests(usd_invoice, tmp_path: Path):
    report = write_invoice_outbox([usd_invoice], tmp_path, "stripe")
    folder = tmp_path / "stripe" / "INV-000001"
    assert report.files[0] == folder / "001-find_customer.json"
    item = json.loads((folder / "006-invoiceitem-3.json").read_text())
    assert item["idempotency_key"] == "INV-000001:invoiceitem:3"
    assert item["params"]["amount"] == 15000
    assert item["method"] == "POST" and item["path"] == "/v1/invoiceitems"
    assert report.message == (
        "Stripe is NOT configured: nothing was sent to Stripe. The requests for 1 invoice "
        f"(11 files) were written to {tmp_path / 'stripe'}. To sync, set STRIPE_API_KEY."
    )


def test_rerun_changes_nothing(documents, tmp_path: Path):
    first = write_invoice_outbox(documents, tmp_path, "quickbooks")
    snapshot = {path: path.read_bytes() for path in first.files}
    second = write_invoice_outbox(documents, tmp_path, "quickbooks")
    assert second.files == first.files
    assert {path: path.read_bytes() for path in second.files} == snapshot


def test_refuses_drafts_and_unknown_providers(usd_invoice, tmp_path: Path):
    draft = replace(usd_invoice, status="draft", invoice_number=None)
    with pytest.raises(ValueError, match="only finalized"):
        write_invoice_outbox([usd_invoice, draft], tmp_path, "stripe")
    assert not tmp_path.joinpath("stripe").exists()
    with pytest.raises(ValueError, match="unknown provider 'xero'"):
        write_invoice_outbox([usd_invoice], tmp_path, "xero")
