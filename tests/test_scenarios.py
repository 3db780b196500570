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

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from orchestration.runs import Deployment, run_billing_period
from tests.scenario_inputs import bill_merged_scenarios, expected_results, scenario_dirs


@dataclass(frozen=True)
class Case:
    scenario: str
    name: str
    spec: dict[str, Any]


def _cases() -> list[Case]:
    return [
        Case(d.name, name, spec)
        for d in scenario_dirs()
        for name, spec in expected_results(d)["cases"].items()
    ]


@pytest.fixture(scope="session")
def billed_scenarios(tmp_path_factory: pytest.TempPathFactory) -> Deployment:
    root = tmp_path_factory.mktemp("scenarios")
    data_dir = root / "data"
    deployment = Deployment.beside_database(data_dir, root / "output" / "billing.duckdb")
    bill_merged_scenarios(
        data_dir, lambda period, as_of: run_billing_period(deployment, period, as_of)
    )
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


@pytest.mark.parametrize("scenario_dir", scenario_dirs(), ids=lambda d: d.name)
def test_invoice_numbers_follow_the_standalone_order(
    billed_scenarios: Deployment, scenario_dir: Path
) -> None:
    """The merged run numbers a scenario's invoices in the order it numbers them alone."""
    expected = [
        (inv["invoice_number"], case["customer_id"], str(inv["period"]))
        for case in expected_results(scenario_dir)["cases"].values()
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
