"""Golden scenarios: hand-computed invoices, billed through the real pipeline.

Each `tests/scenarios/<name>/` is a small data directory in SPEC format (it can
be billed on its own with `billing run`) plus `expected.yml`: the periods to
run with their as-of, and per named case the customer's invoices, each with
its number, total and every line (line_type, meter_id, amount), computed by hand
in the comments.

A Dagster run of the pipeline costs ~15 s, so the scenarios are billed
together: one session fixture merges every scenario into one data directory
(customer, plan and event ids are unique across scenarios; shared meters are
identical) and runs each period once, in order, landing each period's files
just before its run. Amounts do not depend on the other scenarios; invoice
numbers do (finalized invoices of a period are numbered in customer_id order
across all customers), so `invoice_number` in expected.yml is the number the
scenario gets when billed alone, and the test checks that the merged run
numbers the scenario's invoices in that same order, gap-free overall.
"""

import csv
import shutil
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from loaders.decimal_yaml import load_yaml
from orchestration.runs import Deployment, run_billing_period

SCENARIOS = Path(__file__).parent / "scenarios"
REFERENCE_CSVS = ("customers.csv", "subscriptions.csv", "credit_grants.csv", "discounts.csv")


@dataclass(frozen=True)
class Case:
    scenario: str
    name: str
    spec: dict[str, Any]


def _scenario_dirs() -> list[Path]:
    return sorted(p.parent for p in SCENARIOS.glob("*/expected.yml"))


def _expected(scenario_dir: Path) -> dict[str, Any]:
    return yaml.safe_load((scenario_dir / "expected.yml").read_text())


def _cases() -> list[Case]:
    return [
        Case(d.name, name, spec)
        for d in _scenario_dirs()
        for name, spec in _expected(d)["cases"].items()
    ]


class _CatalogDumper(yaml.SafeDumper):
    """Writes Decimals back as YAML numbers, exactly as read."""


_CatalogDumper.add_representer(
    Decimal, lambda dumper, value: dumper.represent_scalar("tag:yaml.org,2002:float", str(value))
)


def _merge_by_key(merged: dict, items: list[dict], key: tuple[str, ...], where: str) -> None:
    for item in items:
        item_key = tuple(item.get(k) for k in key)
        if item_key in merged and merged[item_key] != item:
            raise AssertionError(f"{where}: {item_key} is defined differently in another scenario")
        merged[item_key] = item


def _merge_catalogs(scenario_dirs: list[Path]) -> dict[str, Any]:
    settings: dict | None = None
    meters: dict = {}
    plans: dict = {}
    overrides: dict = {}
    for d in scenario_dirs:
        catalog = load_yaml((d / "catalog.yml").read_text())
        assert settings in (None, catalog["settings"]), f"{d.name}: settings differ"
        settings = catalog["settings"]
        _merge_by_key(meters, catalog["meters"], ("id",), f"{d.name} meters")
        _merge_by_key(plans, catalog["plans"], ("id", "version"), f"{d.name} plans")
        _merge_by_key(
            overrides,
            catalog.get("overrides", []),
            ("customer_id", "plan_id"),
            f"{d.name} overrides",
        )
    return {
        "settings": settings,
        "meters": list(meters.values()),
        "plans": list(plans.values()),
        "overrides": list(overrides.values()),
    }


def _merge_csv(scenario_dirs: list[Path], file_name: str, target: Path) -> None:
    rows: list[dict[str, str]] = []
    columns: list[str] = []
    for d in scenario_dirs:
        if not (d / file_name).exists():
            continue
        with (d / file_name).open(newline="") as f:
            reader = csv.DictReader(f)
            columns += [c for c in reader.fieldnames or [] if c not in columns]
            rows += list(reader)
    if not columns:
        return
    with target.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns, restval="")
        writer.writeheader()
        writer.writerows(rows)


def _runs(scenario_dirs: list[Path]) -> list[tuple[str, str]]:
    """Every scenario's (period, as_of), in period order; one as-of per period."""
    as_of_by_period: dict[str, str] = {}
    for d in scenario_dirs:
        for run in _expected(d)["runs"]:
            period, as_of = str(run["period"]), str(run["as_of"])
            assert as_of_by_period.setdefault(period, as_of) == as_of, (
                f"{d.name}: period {period} runs as of {as_of}, another scenario as of "
                f"{as_of_by_period[period]}"
            )
    return sorted(as_of_by_period.items())


def _landing_period(file_name: str) -> str:
    """Files named YYYY-MM-… land just before that period's run; others before the first."""
    prefix = file_name[:7]
    return prefix if prefix[:4].isdigit() and prefix[4:5] == "-" else ""


def _land_files(scenario_dirs: list[Path], landing: Path, up_to_period: str) -> None:
    for d in scenario_dirs:
        for source in sorted((d / "landing" / "events").glob("*")):
            target = landing / f"{d.name}__{source.name}"
            if _landing_period(source.name) <= up_to_period and not target.exists():
                shutil.copy(source, target)


@pytest.fixture(scope="session")
def billed_scenarios(tmp_path_factory: pytest.TempPathFactory) -> Deployment:
    root = tmp_path_factory.mktemp("scenarios")
    data_dir = root / "data"
    landing = data_dir / "landing" / "events"
    landing.mkdir(parents=True)
    scenario_dirs = _scenario_dirs()
    (data_dir / "catalog.yml").write_text(
        yaml.dump(_merge_catalogs(scenario_dirs), Dumper=_CatalogDumper, sort_keys=False)
    )
    for file_name in REFERENCE_CSVS:
        _merge_csv(scenario_dirs, file_name, data_dir / file_name)
    deployment = Deployment.beside_database(data_dir, root / "output" / "billing.duckdb")
    for period, as_of in _runs(scenario_dirs):
        _land_files(scenario_dirs, landing, period)
        run_billing_period(deployment, period, as_of)
    return deployment


def _query(db_path: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(db_path), read_only=True) as conn:
        return conn.execute(sql, params or []).fetchall()


CASES = _cases()


@pytest.mark.parametrize("case", CASES, ids=[f"{c.scenario}/{c.name}" for c in CASES])
def test_invoices_match_the_hand_computation(billed_scenarios: Deployment, case: Case) -> None:
    db = billed_scenarios.db_path
    customer_id = case.spec["customer_id"]
    expected = case.spec["invoices"]
    actual = _query(
        db,
        "select strftime(period_start, '%Y-%m'), status, total, subtotal, discount_total, "
        "credit_total, tax_total, invoice_id from main.fct_invoices where customer_id = ? "
        "order by period_start",
        [customer_id],
    )
    assert [row[0] for row in actual] == [str(inv["period"]) for inv in expected], (
        "the customer's invoices are not exactly the expected periods"
    )
    for invoice, row in zip(expected, actual, strict=True):
        period, status, total, subtotal, discounts, credits, tax, invoice_id = row
        assert status == invoice.get("status", "finalized"), period
        assert total == Decimal(invoice["total"]), f"{period} total"
        for column, value in (
            ("subtotal", subtotal),
            ("discount_total", discounts),
            ("credit_total", credits),
            ("tax_total", tax),
        ):
            if column in invoice:
                assert value == Decimal(invoice[column]), f"{period} {column}"
        lines = _query(
            db,
            "select line_type, meter_id, amount from main.fct_invoice_lines "
            "where invoice_id = ? order by line_number",
            [invoice_id],
        )
        assert lines == [
            (line_type, meter_id, Decimal(amount))
            for line_type, meter_id, amount in invoice["lines"]
        ], f"{period} lines"


@pytest.mark.parametrize(
    "case",
    [c for c in CASES if "credit_balances" in c.spec],
    ids=[f"{c.scenario}/{c.name}" for c in CASES if "credit_balances" in c.spec],
)
def test_credit_balances_match_the_hand_computation(
    billed_scenarios: Deployment, case: Case
) -> None:
    actual = _query(
        billed_scenarios.db_path,
        "select grant_id, strftime(period_start, '%Y-%m'), opening, applied, expired, closing "
        "from main.fct_credit_balances where customer_id = ? order by period_start, payment_rank",
        [case.spec["customer_id"]],
    )
    assert actual == [
        (grant, str(period), *(Decimal(v) for v in amounts))
        for grant, period, *amounts in case.spec["credit_balances"]
    ]


@pytest.mark.parametrize("scenario_dir", _scenario_dirs(), ids=lambda d: d.name)
def test_invoice_numbers_follow_the_standalone_order(
    billed_scenarios: Deployment, scenario_dir: Path
) -> None:
    """The merged run numbers a scenario's invoices in the order it numbers them alone."""
    expected = [
        (inv["invoice_number"], case["customer_id"], str(inv["period"]))
        for case in _expected(scenario_dir)["cases"].values()
        for inv in case["invoices"]
        if inv.get("invoice_number")
    ]
    standalone = sorted(expected)
    assert [number for number, _, _ in standalone] == [
        f"INV-{n:06d}" for n in range(1, len(standalone) + 1)
    ], "standalone numbers are not gap-free from INV-000001"
    in_number_order = [(c, p) for _, c, p in standalone]
    assert in_number_order == sorted(in_number_order, key=lambda cp: (cp[1], cp[0])), (
        "standalone numbers must follow period, then customer_id"
    )
    merged = _query(
        billed_scenarios.db_path,
        "select customer_id, strftime(period_start, '%Y-%m') from main.fct_invoices "
        "where invoice_sequence is not null and customer_id in "
        f"({', '.join('?' for _ in expected)}) order by invoice_sequence",
        [c for _, c, _ in expected],
    )
    assert merged == [(c, p) for _, c, p in standalone]


def test_merged_run_is_clean(billed_scenarios: Deployment) -> None:
    """Every scenario row loaded (none quarantined or duplicated), numbers gap-free overall."""
    db = billed_scenarios.db_path
    assert _query(db, "select count(*) from raw.quarantined_events") == [(0,)]
    assert _query(db, "select count(*) from raw.duplicate_events") == [(0,)]
    issued, highest = _query(
        db, "select count(invoice_sequence), max(invoice_sequence) from main.fct_invoices"
    )[0]
    assert issued == highest
    expected_customers = {c.spec["customer_id"] for c in CASES}
    invoiced = {row[0] for row in _query(db, "select distinct customer_id from main.fct_invoices")}
    assert invoiced <= expected_customers, "an invoice no scenario expects"
