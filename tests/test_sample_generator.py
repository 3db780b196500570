"""The sample data set is the demo's ground truth, so it is checked from the files.

The files are read here with a small independent reader (not the loader, not
the generator's own writers) so a bug in either cannot hide in its own tests.
"""

from __future__ import annotations

import csv
import gzip
import importlib
import io
import json
import shutil
import sys
from collections import Counter
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from types import ModuleType

import duckdb
import pytest
import yaml

EVENT_HEADER = ["event_id", "customer_id", "event_type", "timestamp", "quantity", "properties"]


def _import_generator() -> ModuleType:
    """`data` is not an installed package: import it from the checkout if pytest's path lacks it."""
    try:
        return importlib.import_module("data.generate_sample")
    except ModuleNotFoundError:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        return importlib.import_module("data.generate_sample")


generator = _import_generator()
SampleSummary = generator.SampleSummary
generate_sample = generator.generate_sample


@dataclass(frozen=True)
class Row:
    """A landed row as read from disk: `record` is None when the line is not parseable."""

    file: str
    line: int
    record: dict[str, object] | None


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> SampleSummary:
    return generate_sample(tmp_path_factory.mktemp("sample") / "out")


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _landing_text(path: Path) -> str:
    data = path.read_bytes()
    return (gzip.decompress(data) if path.name.endswith(".gz") else data).decode("utf-8")


def read_landing(directory: Path) -> list[Row]:
    """Every row of every landing file, files in name order, lines from 1."""
    rows: list[Row] = []
    for path in sorted(directory.iterdir()):
        if path.name.endswith(".parquet"):
            con = duckdb.connect()
            result = con.execute(f"SELECT * FROM read_parquet('{path}')")
            names = [d[0] for d in result.description]
            records = [dict(zip(names, values, strict=True)) for values in result.fetchall()]
            con.close()
        elif ".jsonl" in path.name:
            records = []
            for text in _landing_text(path).splitlines():
                try:
                    records.append(json.loads(text, parse_float=Decimal))
                except json.JSONDecodeError:
                    records.append(None)
        else:
            reader = csv.DictReader(io.StringIO(_landing_text(path)))
            assert reader.fieldnames == EVENT_HEADER, path.name
            records = [{k: v or None for k, v in r.items()} for r in reader]
        rows += [Row(path.name, n, r) for n, r in enumerate(records, start=1)]
    return rows


def _instant(text: str) -> datetime:
    at = datetime.fromisoformat(text)
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


@dataclass(frozen=True)
class Reference:
    customers: set[str]
    event_types: set[str]
    subscriptions: dict[str, list[tuple[datetime, datetime]]]


def _reference(out_dir: Path) -> Reference:
    catalog = yaml.safe_load((out_dir / "catalog.yml").read_text())
    spans: dict[str, list[tuple[datetime, datetime]]] = {}
    for s in _read_csv(out_dir / "subscriptions.csv"):
        end = _instant(s["ended_at"]) if s["ended_at"] else datetime.max.replace(tzinfo=UTC)
        spans.setdefault(s["customer_id"], []).append((_instant(s["started_at"]), end))
    return Reference(
        customers={c["customer_id"] for c in _read_csv(out_dir / "customers.csv")},
        event_types={m["event_type"] for m in catalog["meters"]},
        subscriptions=spans,
    )


def reject_reason(row: Row, ref: Reference) -> str | None:
    """SPEC's quarantine reasons, checked the plain way."""
    r = row.record
    if r is None:
        return "malformed_row"
    if any(not r.get(k) for k in ("event_id", "customer_id", "event_type", "timestamp")):
        return "missing_field"
    try:
        at = _instant(str(r["timestamp"]))
    except ValueError:
        return "invalid_timestamp"
    try:
        quantity = Decimal(str(r.get("quantity") or 1))
    except InvalidOperation:
        return "invalid_quantity"
    if quantity < 0:
        return "invalid_quantity"
    properties = r.get("properties")
    if isinstance(properties, str):
        try:
            properties = json.loads(properties, parse_float=Decimal)
        except json.JSONDecodeError:
            return "invalid_properties"
    if not isinstance(properties, dict):
        return "invalid_properties"
    if r["customer_id"] not in ref.customers:
        return "unknown_customer"
    if r["event_type"] not in ref.event_types:
        return "unknown_event_type"
    if not any(start <= at < end for start, end in ref.subscriptions.get(r["customer_id"], [])):
        return "no_active_subscription"
    return None


def payload(r: dict[str, object]) -> tuple[object, ...]:
    """The parsed values that decide duplicate versus conflict."""
    properties = r.get("properties")
    if isinstance(properties, str):
        properties = json.loads(properties, parse_float=Decimal)
    return (
        r["customer_id"],
        r["event_type"],
        _instant(str(r["timestamp"])),
        Decimal(str(r.get("quantity") or 1)),
        json.dumps(properties, sort_keys=True, default=str),
    )


@dataclass(frozen=True)
class Classified:
    loaded: dict[str, Row]
    duplicates: list[tuple[Row, Row]]
    conflicts: list[Row]
    rejected: list[tuple[Row, str]]


def classify(out_dir: Path) -> Classified:
    """Validate, then dedup on event_id in landing order, as SPEC describes."""
    ref = _reference(out_dir)
    loaded: dict[str, Row] = {}
    duplicates, conflicts, rejected = [], [], []
    for row in read_landing(out_dir / "landing" / "events"):
        reason = reject_reason(row, ref)
        if reason:
            rejected.append((row, reason))
            continue
        first = loaded.get(str(row.record["event_id"]))
        if first is None:
            loaded[str(row.record["event_id"])] = row
        elif payload(first.record) == payload(row.record):
            duplicates.append((first, row))
        else:
            conflicts.append(row)
    return Classified(loaded, duplicates, conflicts, rejected)


@pytest.fixture(scope="module")
def classified(sample: SampleSummary) -> Classified:
    return classify(sample.out_dir)


def _tree(directory: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(directory)): p.read_bytes()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


def test_same_seed_rewrites_identical_bytes(sample: SampleSummary, tmp_path: Path) -> None:
    """Regenerating over an old sample replaces it fully and reproduces every byte."""
    out = tmp_path / "again"
    shutil.copytree(sample.out_dir, out)
    (out / "landing/events/stale.jsonl").write_text("{}\n")
    again = generate_sample(out)
    first, second = _tree(sample.out_dir), _tree(out)
    assert list(first) == list(second)
    assert [name for name in first if first[name] != second[name]] == []
    assert again == replace(sample, out_dir=out)


def test_another_seed_gives_other_events(sample: SampleSummary, tmp_path: Path) -> None:
    other = generate_sample(tmp_path / "other", seed=7)
    name = "2026-10-api.jsonl"
    assert (other.out_dir / "landing/events" / name).read_bytes() != (
        sample.out_dir / "landing/events" / name
    ).read_bytes()


def test_refuses_to_wipe_a_directory_that_is_not_a_sample(tmp_path: Path) -> None:
    (tmp_path / "precious.txt").write_text("keep me")
    with pytest.raises(FileExistsError):
        generate_sample(tmp_path)
    assert (tmp_path / "precious.txt").exists()


def test_summary_counts_match_the_files(sample: SampleSummary) -> None:
    out = sample.out_dir
    assert len(_read_csv(out / "customers.csv")) == sample.customers == 40
    assert len(_read_csv(out / "subscriptions.csv")) == sample.subscriptions
    assert len(_read_csv(out / "credit_grants.csv")) == sample.credit_grants
    assert len(_read_csv(out / "discounts.csv")) == sample.discounts
    assert len(_read_csv(out / "usage_limits.csv")) == sample.usage_limits
    on_disk = Counter(row.file for row in read_landing(out / "landing" / "events"))
    assert dict(on_disk) == sample.events_per_file
    assert 30_000 <= sample.event_rows <= 60_000


def test_catalog_is_yaml_with_the_contract_keys(sample: SampleSummary) -> None:
    catalog = yaml.safe_load((sample.out_dir / "catalog.yml").read_text())
    assert set(catalog) == {"settings", "meters", "plans", "overrides"}
    assert catalog["settings"] == {
        "invoice_grace_days": 3,
        "payment_grace_days": 5,
        "invoice_prefix": "INV",
        "future_tolerance_minutes": 5,
        "company_name": "Nimbus API, Inc.",
    }
    for meter in catalog["meters"]:
        assert {"id", "name", "unit", "event_type", "aggregation", "field"} <= set(meter)
    assert [m["id"] for m in catalog["meters"] if m.get("filters")] == ["premium_api_calls"]
    versions = [(p["id"], p["version"]) for p in catalog["plans"]]
    assert versions == [("starter", 1), ("growth", 1), ("growth", 2), ("scale", 1)]
    meter_ids = {m["id"] for m in catalog["meters"]}
    for plan in catalog["plans"]:
        assert plan["currency"] == "USD"
        for charge in plan["charges"]:
            assert charge["meter"] in meter_ids
            assert charge["model"] in {"per_unit", "graduated"}
            if charge["model"] == "graduated":
                assert charge["tiers"][-1]["up_to"] is None
    assert any(
        "flat_fee" in t for p in catalog["plans"] for c in p["charges"] for t in c.get("tiers", [])
    )
    (override,) = catalog["overrides"]
    assert (
        override["plan_id"] == "growth"
        and override["customer_id"] in _reference(sample.out_dir).customers
    )


def test_every_format_appears_in_arrival_order(sample: SampleSummary) -> None:
    names = [f.name for f in sample.files]
    assert names == sorted(names)
    arrivals = [f.arrives_on for f in sample.files]
    assert arrivals == sorted(arrivals)
    suffixes = {n.split(".", 1)[1] for n in names}
    assert suffixes == {"jsonl", "jsonl.gz", "csv", "csv.gz", "parquet"}
    for name in names:
        if name.endswith(".parquet"):
            con = duckdb.connect()
            schema = con.execute(f"DESCRIBE SELECT * FROM '{sample.out_dir}/landing/events/{name}'")
            assert [(c[0], c[1]) for c in schema.fetchall()] == [
                (c, "VARCHAR") for c in EVENT_HEADER
            ]
            con.close()


def test_reference_data_is_consistent(sample: SampleSummary) -> None:
    out = sample.out_dir
    customers = {c["customer_id"]: c for c in _read_csv(out / "customers.csv")}
    assert {c["currency"] for c in customers.values()} == {"USD"}
    assert len({c["name"] for c in customers.values()}) == len(customers)
    by_customer: dict[str, list[dict[str, str]]] = {}
    for s in _read_csv(out / "subscriptions.csv"):
        assert s["customer_id"] in customers
        by_customer.setdefault(s["customer_id"], []).append(s)
    for rows in by_customer.values():
        rows.sort(key=lambda s: _instant(s["started_at"]))
        for before, after in zip(rows, rows[1:], strict=False):
            assert before["ended_at"], "only the last row of a customer may be open"
            assert _instant(before["ended_at"]) <= _instant(after["started_at"])
    for table in ("credit_grants", "discounts", "usage_limits"):
        assert {r["customer_id"] for r in _read_csv(out / f"{table}.csv")} <= set(customers)


def test_plan_changes_trial_and_churn_are_present(sample: SampleSummary) -> None:
    subs = _read_csv(sample.out_dir / "subscriptions.csv")
    by_customer: dict[str, list[dict[str, str]]] = {}
    for s in subs:
        by_customer.setdefault(s["customer_id"], []).append(s)
    changes = [
        (a["plan_id"], b["plan_id"])
        for rows in by_customer.values()
        for a, b in zip(rows, rows[1:], strict=False)
        if a["ended_at"] == b["started_at"]
    ]
    assert ("starter", "growth") in changes and ("growth", "scale") in changes
    assert ("growth", "starter") in changes
    assert any(a == b for a, b in changes), "a seat change keeps the plan"
    assert any(
        rows[0]["plan_id"] == "growth" and rows[0]["started_at"] >= "2026-09-15"
        for rows in by_customer.values()
    ), "a new customer in a growth trial"
    churned = [rows[-1] for rows in by_customer.values() if rows[-1]["ended_at"]]
    assert [r["ended_at"][:7] for r in churned] == ["2026-10"]
    assert sum(rows[0]["started_at"][:7] == "2026-08" for rows in by_customer.values()) >= 2


def test_every_clean_event_falls_inside_a_subscription(
    sample: SampleSummary, classified: Classified
) -> None:
    reasons = Counter(reason for _, reason in classified.rejected)
    assert "no_active_subscription" not in reasons
    subscribed = set(_reference(sample.out_dir).subscriptions)
    silent = subscribed - {str(r.record["customer_id"]) for r in classified.loaded.values()}
    assert len(silent) == 1, "exactly one subscribed customer sends no events"
    instants = [_instant(str(r.record["timestamp"])) for r in classified.loaded.values()]
    assert min(instants) >= datetime(2026, 8, 1, tzinfo=UTC)
    assert max(instants) < datetime(2026, 11, 1, tzinfo=UTC)


def test_timestamps_come_in_three_spellings(classified: Classified) -> None:
    texts = [str(r.record["timestamp"]) for r in classified.loaded.values()]
    assert sum(t.endswith("Z") for t in texts) > 0.95 * len(texts)
    assert 5 <= sum(t.endswith("+02:00") for t in texts) <= 0.01 * len(texts)
    assert 5 <= sum(t[-1].isdigit() and "+" not in t for t in texts) <= 0.01 * len(texts)


def test_about_one_percent_exact_duplicates(sample: SampleSummary, classified: Classified) -> None:
    assert len(classified.duplicates) == sample.duplicates
    assert 0.005 <= sample.duplicates / sample.event_rows <= 0.015
    same_file = sum(first.file == again.file for first, again in classified.duplicates)
    assert 0 < same_file < len(classified.duplicates), "re-sends in the same and later files"


def test_conflicts_differ_only_in_quantity(sample: SampleSummary, classified: Classified) -> None:
    assert 1 <= len(classified.conflicts) == sample.conflicts <= 2
    for row in classified.conflicts:
        first = classified.loaded[str(row.record["event_id"])]
        assert first.file < row.file
        diff = [
            i
            for i, (a, b) in enumerate(zip(payload(first.record), payload(row.record), strict=True))
            if a != b
        ]
        assert diff == [3]


def test_malformed_rows_are_spread_across_formats(
    sample: SampleSummary, classified: Classified
) -> None:
    assert 5 <= sample.malformed <= 10
    found = sorted((row.file, reason) for row, reason in classified.rejected)
    assert found == sorted((file, reason) for file, _, reason in sample.malformed_rows)
    assert {reason for _, reason in found} >= {
        "malformed_row",
        "missing_field",
        "invalid_timestamp",
        "invalid_quantity",
        "unknown_customer",
        "unknown_event_type",
    }
    assert len({file.split(".", 1)[1] for file, _ in found}) >= 4


def test_late_file_replays_september_after_it_closed(
    sample: SampleSummary, classified: Classified
) -> None:
    (late,) = [f for f in sample.files if f.late]
    names = [f.name for f in sample.files]
    assert max(n for n in names if n.startswith("2026-09")) < late.name < "2026-10-api.jsonl"
    catalog = yaml.safe_load((sample.out_dir / "catalog.yml").read_text())
    september_final = date(2026, 10, 1) + timedelta(catalog["settings"]["invoice_grace_days"])
    assert late.arrives_on > september_final
    fresh = [r for r in classified.loaded.values() if r.file == late.name]
    assert len(fresh) == late.late == sample.late_events == 200
    assert {_instant(str(r.record["timestamp"])).strftime("%Y-%m") for r in fresh} == {"2026-09"}
    assert sample.billable_events == len(classified.loaded)
