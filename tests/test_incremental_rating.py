"""Re-running a period adds the new loads' events and ends where a full rebuild would;
a re-run that leaves the period without rows empties it.

The per-event models (dbt_project/macros/batch_incremental.sql) keep what they
derived: a re-run derives only the events of newer loads, unless the basis of
the rows (the period's segments, the meters, the model's SQL) changed. Each
test here builds October on real DuckDB with real dbt, in steps, and compares
the four models' October rows with a warehouse that loaded the same files at
once and built once, or, where the period is left without rows, with none.
"""

import json
import shutil
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from loaders import load_landing_files, load_reference_data
from orchestration.dbt_runner import BillingDbt
from tests.conftest import FIXTURES

AS_OF = "2026-11-02 00:00:00"
PER_EVENT_MODELS = (
    "fct_usage_events",
    "int_usage_events_matched_to_meters",
    "int_usage_aggregated_by_segment",
    "fct_usage_daily",
)
EXTRA_METERS = """\
  - {id: compute_hours, name: Compute, unit: hours, event_type: compute_job,
     aggregation: sum, field: properties.hours}
  - {id: active_users, name: Active users, unit: users, event_type: user_login,
     aggregation: unique_count, field: properties.user}
  - {id: seats_used, name: Seats used, unit: seats, event_type: seat_count,
     aggregation: latest, field: properties.seats}
"""


def _event(event_id: str, event_type: str, timestamp: str, **properties: object) -> str:
    return json.dumps(
        {
            "event_id": event_id,
            "customer_id": "acme",
            "event_type": event_type,
            "timestamp": timestamp,
            "properties": properties,
        }
    )


# Every meter's aggregation, on days the late file adds to and on days of its own.
FIRST_FILE = [
    _event("a1", "api_call", "2026-10-12T10:00:00Z"),
    _event("s1", "storage_snapshot", "2026-10-12T00:00:00Z", gb=40),
    _event("c1", "compute_job", "2026-10-12T11:00:00Z", hours=2.5),
    _event("u1", "user_login", "2026-10-12T09:00:00Z", user="ann"),
    _event("u2", "user_login", "2026-10-12T09:30:00Z", user="bob"),
    _event("n1", "seat_count", "2026-10-12T12:00:00Z", seats=7),
    _event("n2", "seat_count", "2026-10-20T12:00:00Z", seats=9),
]
LATE_FILE = [
    _event("a2", "api_call", "2026-10-12T18:00:00Z"),
    _event("s2", "storage_snapshot", "2026-10-12T06:00:00Z", gb=85),
    _event("s3", "storage_snapshot", "2026-10-21T06:00:00Z", gb=10),
    _event("c2", "compute_job", "2026-10-12T19:00:00Z", hours=1.25),
    _event("u3", "user_login", "2026-10-12T20:00:00Z", user="ann"),
    _event("u4", "user_login", "2026-10-12T21:00:00Z", user="cy"),
    _event("n3", "seat_count", "2026-10-12T23:00:00Z", seats=8),
    _event("n4", "seat_count", "2026-10-15T12:00:00Z", seats=3),
]


@pytest.fixture
def company(tmp_path: Path) -> Path:
    """The tiny company with a sum, a unique_count and a latest meter, and no events."""
    data_dir = tmp_path / "company"
    shutil.copytree(FIXTURES / "tiny_company", data_dir)
    catalog = data_dir / "catalog.yml"
    text = catalog.read_text()
    catalog.write_text(text.replace("plans:\n", EXTRA_METERS + "plans:\n", 1))
    for landed in (data_dir / "landing" / "events").iterdir():
        landed.unlink()
    return data_dir


def _land(data_dir: Path, name: str, events: list[str]) -> None:
    (data_dir / "landing" / "events" / name).write_text("\n".join(events) + "\n")


def _load_and_rate(
    data_dir: Path,
    db: Path,
    monkeypatch: pytest.MonkeyPatch,
    period: str = "2026-10",
    models: tuple[str, ...] = PER_EVENT_MODELS,
) -> None:
    """Load reference data and new landing files, then run the period's `models` (the
    per-event ones unless told) and what they read."""
    with duckdb.connect(str(db)) as conn:
        load_reference_data(conn, data_dir)
        load_landing_files(conn, data_dir, datetime.fromisoformat(AS_OF))
    monkeypatch.setenv("BILLING_DB", str(db))
    BillingDbt().run(
        [
            "run",
            "--select",
            *(f"+{model}" for model in models),
            "--vars",
            json.dumps({"period": period, "as_of": AS_OF}),
        ]
    )


def _period_rows(db: Path, period_start: str) -> dict[str, set[tuple]]:
    """Each model's rows of the period, bookkeeping (load_id, basis_fingerprint, through_load_id)
    included, their values in the order of the column names (a column dbt added to a
    table comes last in it)."""
    with duckdb.connect(str(db), read_only=True) as conn:
        return {
            model: _rows_by_column_name(conn, model, period_start) for model in PER_EVENT_MODELS
        }


def _rows_by_column_name(
    conn: duckdb.DuckDBPyConnection, model: str, period_start: str
) -> set[tuple]:
    cursor = conn.execute(
        f"select * from {_schema(model)}.{model} where period_start = ?", [period_start]
    )
    names = [column[0] for column in cursor.description]
    order = sorted(range(len(names)), key=names.__getitem__)
    return {tuple(row[i] for i in order) for row in cursor.fetchall()}


def _october_rows(db: Path) -> dict[str, set[tuple]]:
    return _period_rows(db, "2026-10-01")


def _schema(model: str) -> str:
    return "intermediate" if model.startswith("int_") else "main"


def _built_at_once(data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The same landing files and reference data in a new warehouse, built once
    (named billing.duckdb, as dbt's profile names the catalog)."""
    fresh = tmp_path / "at_once" / "billing.duckdb"
    fresh.parent.mkdir()
    _load_and_rate(data_dir, fresh, monkeypatch)
    return fresh


def _quantities_on_october_12(db: Path) -> dict[str, Decimal]:
    with duckdb.connect(str(db), read_only=True) as conn:
        return dict(
            conn.execute(
                "select meter_id, daily_quantity from main.fct_usage_daily "
                "where usage_date = date '2026-10-12'"
            ).fetchall()
        )


def _tamper_with_a_held_event(db: Path) -> None:
    """Mark load 1's event a1 in fct_usage_events: only a re-derivation restores it."""
    with duckdb.connect(str(db)) as conn:
        conn.execute("update main.fct_usage_events set source_line = -1 where event_id = 'a1'")


def _held_line(db: Path) -> int:
    with duckdb.connect(str(db), read_only=True) as conn:
        return conn.execute(
            "select source_line from main.fct_usage_events where event_id = 'a1'"
        ).fetchone()[0]


def test_a_late_file_is_added_to_what_the_period_held_and_a_rerun_adds_nothing(
    company: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "billing.duckdb"
    _land(company, "2026-10-a.jsonl", FIRST_FILE)
    _load_and_rate(company, db, monkeypatch)
    _tamper_with_a_held_event(db)
    _land(company, "2026-10-b-late.jsonl", LATE_FILE)
    _load_and_rate(company, db, monkeypatch)

    assert _held_line(db) == -1, "load 1's events were derived again, not kept"
    with duckdb.connect(str(db)) as conn:
        conn.execute("update main.fct_usage_events set source_line = 1 where event_id = 'a1'")
    assert _october_rows(db) == _october_rows(_built_at_once(company, tmp_path, monkeypatch))

    assert _quantities_on_october_12(db) == {
        "api_calls": 2,
        "storage_gb": 85,
        "compute_hours": Decimal("3.75"),
        "active_users": 3,
        "seats_used": 8,
    }

    before = _october_rows(db)
    _load_and_rate(company, db, monkeypatch)
    assert _october_rows(db) == before, "a re-run with nothing new changed the period"


def test_a_new_period_is_written_beside_the_periods_held(
    company: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """October after September: every model adds October to the tables September made
    (macros/batch_incremental.sql, period_batches) and leaves September's rows as they were."""
    db = tmp_path / "billing.duckdb"
    _land(
        company,
        "2026-09-a.jsonl",
        [
            _event("p1", "api_call", "2026-09-20T10:00:00Z"),
            _event("p2", "user_login", "2026-09-20T11:00:00Z", user="ann"),
            _event("p3", "seat_count", "2026-09-21T12:00:00Z", seats=4),
        ],
    )
    _land(company, "2026-10-a.jsonl", FIRST_FILE)
    _load_and_rate(company, db, monkeypatch, period="2026-09")
    september = _period_rows(db, "2026-09-01")
    assert all(september.values()), "September's events are missing from a model"
    _load_and_rate(company, db, monkeypatch)

    assert _period_rows(db, "2026-09-01") == september
    assert _october_rows(db) == _october_rows(_built_at_once(company, tmp_path, monkeypatch))


def test_tables_from_before_bases_derive_the_period_again(
    company: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tables an older version wrote, with a text basis_hash instead of basis_fingerprint:
    dbt swaps the columns and the period's rows are replaced, not kept beside new ones."""
    db = tmp_path / "billing.duckdb"
    _land(company, "2026-10-a.jsonl", FIRST_FILE)
    _load_and_rate(company, db, monkeypatch)
    with duckdb.connect(str(db)) as conn:
        for model in PER_EVENT_MODELS:
            table = f"{_schema(model)}.{model}"
            conn.execute(f"alter table {table} drop column basis_fingerprint")
            conn.execute(f"alter table {table} add column basis_hash varchar default md5('old')")
    _land(company, "2026-10-b-late.jsonl", LATE_FILE)
    _load_and_rate(company, db, monkeypatch)

    assert _october_rows(db) == _october_rows(_built_at_once(company, tmp_path, monkeypatch))


def test_a_changed_subscription_derives_the_period_again(
    company: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "billing.duckdb"
    _land(company, "2026-10-a.jsonl", FIRST_FILE)
    _load_and_rate(company, db, monkeypatch)
    _tamper_with_a_held_event(db)
    subscriptions = company / "subscriptions.csv"
    subscriptions.write_text(subscriptions.read_text().replace("2026-10-11T", "2026-10-13T"))
    _land(company, "2026-10-b-late.jsonl", LATE_FILE)
    _load_and_rate(company, db, monkeypatch)

    assert _held_line(db) == 1, "the period was not derived again under its new segments"
    assert _october_rows(db) == _october_rows(_built_at_once(company, tmp_path, monkeypatch))


def test_a_changed_meter_filter_derives_the_period_again(
    company: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "billing.duckdb"
    _land(company, "2026-10-a.jsonl", FIRST_FILE + LATE_FILE)
    _load_and_rate(company, db, monkeypatch)
    catalog = company / "catalog.yml"
    catalog.write_text(
        catalog.read_text().replace(
            "field: properties.user}", "field: properties.user, filters: {user: ann}}"
        )
    )
    _load_and_rate(company, db, monkeypatch)

    assert _quantities_on_october_12(db)["active_users"] == 1
    assert _october_rows(db) == _october_rows(_built_at_once(company, tmp_path, monkeypatch))


def test_a_catalog_change_that_matches_no_event_empties_the_periods_usage(
    company: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every meter's event type renamed: the period's derivation has no rows, and none of
    the old ones may stay (the delete once took the basis to keep from the new rows,
    and there were none). The events themselves stay loaded."""
    db = tmp_path / "billing.duckdb"
    _land(company, "2026-10-a.jsonl", FIRST_FILE)
    _load_and_rate(company, db, monkeypatch)
    catalog = company / "catalog.yml"
    text = catalog.read_text()
    for event_type in ("api_call", "storage_snapshot", "compute_job", "user_login", "seat_count"):
        text = text.replace(f"event_type: {event_type},", f"event_type: {event_type}_v2,")
    catalog.write_text(text)
    _load_and_rate(company, db, monkeypatch)

    rows = _october_rows(db)
    assert len(rows.pop("fct_usage_events")) == len(FIRST_FILE)
    assert rows == {model: set() for model in PER_EVENT_MODELS[1:]}


def test_a_period_a_rerun_leaves_without_subscriptions_keeps_no_invoice_lines(
    company: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every subscription moved to start in December: October's re-run has no invoice
    line, and its draft lines may not stay (dbt's delete+insert deleted only the periods
    of the new rows, and there were none)."""
    db = tmp_path / "billing.duckdb"
    monkeypatch.setenv("BILLING_DB", str(db))
    BillingDbt().run(["seed"])
    _land(company, "2026-10-a.jsonl", FIRST_FILE)
    _load_and_rate(company, db, monkeypatch, models=("fct_invoice_lines",))
    assert _invoice_lines(db, "2026-10-01") > 0
    (company / "subscriptions.csv").write_text(
        "subscription_id,customer_id,plan_id,started_at,ended_at,seats\n"
        "sub_acme_2,acme,growth,2026-12-01T00:00:00Z,,7\n"
        "sub_beta_1,beta,starter,2026-12-01T00:00:00Z,,1\n"
    )
    _load_and_rate(company, db, monkeypatch, models=("fct_invoice_lines",))

    assert _invoice_lines(db, "2026-10-01") == 0


def _invoice_lines(db: Path, period_start: str) -> int:
    with duckdb.connect(str(db), read_only=True) as conn:
        return conn.execute(
            "select count(*) from main.fct_invoice_lines where period_start = ?", [period_start]
        ).fetchone()[0]
