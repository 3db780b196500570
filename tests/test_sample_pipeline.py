"""The demo's sample company, billed for its three months as `make demo` does.

Checks the promises of the walking skeleton on realistic, messy data: every
landed row is loaded, counted as a duplicate or quarantined; every loaded event
is billed in its period; every invoice adds up; nothing is numbered twice.
"""

import duckdb
import pytest
from pypdf import PdfReader

from data.generate_sample import SampleSummary, generate_sample
from exporters.money import format_money
from orchestration.runs import Deployment, run_billing_period
from tests.pdf_pages import ink_fraction, rasterize

AS_OF = "2026-11-05T00:00:00Z"


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[SampleSummary, Deployment]:
    root = tmp_path_factory.mktemp("sample")
    summary = generate_sample(root / "sample")
    deployment = Deployment.beside_database(root / "sample", root / "output" / "billing.duckdb")
    for period in ("2026-08", "2026-09", "2026-10"):
        run_billing_period(deployment, period, AS_OF)
    return summary, deployment


def _query(deployment: Deployment, sql: str) -> list[tuple]:
    with duckdb.connect(str(deployment.db_path), read_only=True) as conn:
        return conn.execute(sql).fetchall()


def test_every_landed_row_is_loaded_duplicated_or_quarantined(sample) -> None:
    summary, deployment = sample
    manifest = _query(
        deployment,
        "select file_name, row_count, loaded_count + duplicate_count + quarantined_count, "
        "duplicate_count from raw.landed_files order by file_name",
    )
    assert [(name, rows) for name, rows, _, _ in manifest] == [
        (f.name, f.rows) for f in sorted(summary.files, key=lambda f: f.name)
    ]
    assert all(rows == accounted for _, rows, accounted, _ in manifest)
    planted_duplicates = sum(f.duplicates for f in summary.files)
    assert sum(duplicates for *_, duplicates in manifest) == planted_duplicates


def test_planted_bad_rows_are_quarantined_with_their_reason(sample) -> None:
    summary, deployment = sample
    quarantined = set(
        _query(deployment, "select source_file, event_id, reason from main.quarantined_events")
    )
    for file_name, event_id, reason in summary.malformed_rows:
        matches = {r for f, e, r in quarantined if f == file_name and (e == event_id or e is None)}
        assert reason in matches, (file_name, event_id, reason)
    conflicts = [r for r in quarantined if r[2] == "conflict"]
    assert len(conflicts) == sum(f.conflicts for f in summary.files)


def test_every_loaded_event_is_billed_in_its_period(sample) -> None:
    _, deployment = sample
    unbilled = _query(
        deployment,
        "select count(*) from raw.usage_events e "
        "left join main.fct_usage_events f using (event_id) "
        "where f.event_id is null or f.segment_id is null",
    )
    assert unbilled == [(0,)]
    rated_without_usage = _query(
        deployment,
        "select count(*) from main.fct_usage_events f "
        "left join main.fct_rated_usage r on r.segment_id = f.segment_id "
        "where r.segment_id is null",
    )
    assert rated_without_usage == [(0,)]


def test_every_invoice_adds_up_and_is_numbered_once(sample) -> None:
    _, deployment = sample
    mismatched = _query(
        deployment,
        "select i.invoice_id from main.fct_invoices i "
        "join (select invoice_id, sum(amount) as lines from main.fct_invoice_lines group by 1) l "
        "using (invoice_id) where i.total <> l.lines or i.total < 0",
    )
    assert mismatched == []
    numbers = _query(
        deployment,
        "select count(*), count(distinct invoice_number), min(invoice_sequence), "
        "max(invoice_sequence) from main.fct_invoices where status = 'finalized'",
    )
    assert numbers == [(119, 119, 1, 119)]


def test_each_finalized_invoice_has_one_pdf(sample) -> None:
    _, deployment = sample
    pdfs = list((deployment.output_dir / "invoices").glob("INV-*.pdf"))
    assert len(pdfs) == 119
    assert all(path.stat().st_size > 5_000 for path in pdfs)


def test_the_largest_sample_invoice_renders_with_its_number_and_total(sample, tmp_path) -> None:
    """The sample's PDF with the most to show, drawn as an image and read back as text."""
    _, deployment = sample
    ((number, total, currency),) = _query(
        deployment,
        "select invoice_number, total, currency from main.fct_invoice_register "
        "where status = 'finalized' order by line_count desc, total desc limit 1",
    )
    pdf = deployment.output_dir / "invoices" / f"{number}.pdf"
    (page, *_) = rasterize(pdf)
    page.save(tmp_path / f"{number}.png")
    assert 0.02 < ink_fraction(page) < 0.4
    text = " ".join(page_text.extract_text() for page_text in PdfReader(pdf).pages)
    assert number in text
    assert format_money(total, currency) in text
