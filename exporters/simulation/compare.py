"""Current vs candidate revenue per customer and plan, over the simulated periods.

Revenue is what fct_customer_mrr counts: base fee, seat fee, usage and minimum
true-up lines after discounts (no tax, credits or late adjustments), from the
real marts (what was invoiced) and from the simulation's (schema sim_main). A
line goes to the plan of its subscription segment; a discount line (no
segment) to the customer's last plan of the period.
"""

from collections.abc import Sequence
from dataclasses import astuple, dataclass, fields
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import duckdb

from exporters.simulation.staging import SIM_SCHEMA_PREFIX

RESULT_SCHEMA = "simulation"
REVENUE_LINE_TYPES = ("base_fee", "seat_fee", "usage", "minimum_true_up", "discount")


@dataclass(frozen=True)
class ComparisonRow:
    """One customer on one plan over the simulated periods."""

    customer_id: str
    customer_name: str
    segment: str
    plan_id: str
    currency: str
    current_revenue: Decimal
    candidate_revenue: Decimal
    difference: Decimal
    percent_change: Decimal | None
    pays_more_than_threshold: bool


@dataclass(frozen=True)
class PlanRow:
    plan_id: str
    currency: str
    customers: int
    current_revenue: Decimal
    candidate_revenue: Decimal
    difference: Decimal
    percent_change: Decimal | None
    customers_over_threshold: int


@dataclass(frozen=True)
class PricingComparison:
    periods: tuple[str, ...]
    threshold_percent: Decimal
    customers: tuple[ComparisonRow, ...]
    plans: tuple[PlanRow, ...]


def _revenue_by_customer_plan(schema: str, raw_schema: str) -> str:
    line_types = ", ".join(f"'{t}'" for t in REVENUE_LINE_TYPES)
    return f"""
        with lines as (
            select customer_id, period_start, segment_id, currency, amount
            from {schema}.fct_invoice_lines
            where period_start in (select unnest($periods))
                and line_type in ({line_types})
        ),
        segment_plans as (
            select
                concat(subscription_id, '@', strftime(p.period_start, '%Y-%m')) as segment_id,
                s.customer_id,
                p.period_start,
                s.plan_id,
                row_number() over (
                    partition by s.customer_id, p.period_start
                    order by s.started_at desc, s.subscription_id desc
                ) as recency
            from {raw_schema}.subscriptions as s
            cross join (select unnest($periods) as period_start) as p
            where s.started_at < p.period_start + interval 1 month
                and (s.ended_at is null or s.ended_at > p.period_start)
        )
        select
            lines.customer_id,
            coalesce(by_segment.plan_id, last_plan.plan_id, '(none)') as plan_id,
            lines.currency,
            sum(lines.amount) as revenue
        from lines
        left join segment_plans as by_segment on by_segment.segment_id = lines.segment_id
        left join segment_plans as last_plan
            on last_plan.customer_id = lines.customer_id
            and last_plan.period_start = lines.period_start
            and last_plan.recency = 1
        group by 1, 2, 3
    """


def _percent(difference: Decimal, base: Decimal) -> Decimal | None:
    if base == 0:
        return None
    return (difference * 100 / base).quantize(Decimal("0.01"), ROUND_HALF_UP)


def _pays_more(current: Decimal, candidate: Decimal, threshold: Decimal) -> bool:
    if current == 0:
        return candidate > 0
    return (candidate - current) * 100 > threshold * current


def _check_billed(conn: duckdb.DuckDBPyConnection, period_starts: list[date]) -> None:
    billed = {
        row[0]
        for row in conn.execute(
            "select distinct period_start from main.fct_invoices where period_start in "
            "(select unnest(?))",
            [period_starts],
        ).fetchall()
    }
    missing = [p.strftime("%Y-%m") for p in period_starts if p not in billed]
    if missing:
        raise ValueError(
            f"period(s) {', '.join(missing)} have no invoices in the warehouse; "
            "run `billing run` for them first"
        )


def compare_revenue(
    conn: duckdb.DuckDBPyConnection, periods: Sequence[str], threshold_percent: Decimal
) -> PricingComparison:
    """Compare main (invoiced) with sim_main (candidate) over `periods` ('YYYY-MM')."""
    period_starts = [date.fromisoformat(f"{p}-01") for p in periods]
    _check_billed(conn, period_starts)
    params = {"periods": period_starts}
    current = {
        (c, p, cur): r
        for c, p, cur, r in conn.execute(
            _revenue_by_customer_plan("main", "raw"), params
        ).fetchall()
    }
    candidate = {
        (c, p, cur): r
        for c, p, cur, r in conn.execute(
            _revenue_by_customer_plan(f"{SIM_SCHEMA_PREFIX}main", f"{SIM_SCHEMA_PREFIX}raw"),
            params,
        ).fetchall()
    }
    customers = {
        customer_id: (name, segment)
        for customer_id, name, segment in conn.execute(
            "select customer_id, name, segment from raw.customers"
        ).fetchall()
    }
    rows = []
    for key in sorted(current.keys() | candidate.keys()):
        customer_id, plan_id, currency = key
        now, then = current.get(key, Decimal(0)), candidate.get(key, Decimal(0))
        name, segment = customers.get(customer_id, (customer_id, ""))
        rows.append(
            ComparisonRow(
                customer_id=customer_id,
                customer_name=name,
                segment=segment,
                plan_id=plan_id,
                currency=currency,
                current_revenue=now,
                candidate_revenue=then,
                difference=then - now,
                percent_change=_percent(then - now, now),
                pays_more_than_threshold=_pays_more(now, then, threshold_percent),
            )
        )
    return PricingComparison(
        periods=tuple(periods),
        threshold_percent=threshold_percent,
        customers=tuple(rows),
        plans=_by_plan(rows),
    )


def _by_plan(rows: list[ComparisonRow]) -> tuple[PlanRow, ...]:
    groups: dict[tuple[str, str], list[ComparisonRow]] = {}
    for row in rows:
        groups.setdefault((row.plan_id, row.currency), []).append(row)
    plans = []
    for (plan_id, currency), members in sorted(groups.items()):
        now = sum((m.current_revenue for m in members), Decimal(0))
        then = sum((m.candidate_revenue for m in members), Decimal(0))
        plans.append(
            PlanRow(
                plan_id=plan_id,
                currency=currency,
                customers=len(members),
                current_revenue=now,
                candidate_revenue=then,
                difference=then - now,
                percent_change=_percent(then - now, now),
                customers_over_threshold=sum(m.pays_more_than_threshold for m in members),
            )
        )
    return tuple(plans)


_SQL_TYPES = {
    "current_revenue": "decimal(18, 2)",
    "candidate_revenue": "decimal(18, 2)",
    "difference": "decimal(18, 2)",
    "percent_change": "decimal(18, 2)",
    "pays_more_than_threshold": "boolean",
    "customers": "bigint",
    "customers_over_threshold": "bigint",
}


def _replace_table(conn: duckdb.DuckDBPyConnection, name: str, cls: type, rows: Sequence) -> None:
    columns = [f.name for f in fields(cls)]
    definition = ", ".join(f"{c} {_SQL_TYPES.get(c, 'varchar')}" for c in columns)
    conn.execute(f"create or replace table {RESULT_SCHEMA}.{name} ({definition})")
    if rows:
        placeholders = ", ".join("?" for _ in columns)
        conn.executemany(
            f"insert into {RESULT_SCHEMA}.{name} values ({placeholders})",
            [list(astuple(row)) for row in rows],
        )


def save_comparison(conn: duckdb.DuckDBPyConnection, comparison: PricingComparison) -> None:
    """Tables simulation.pricing_comparison (customer × plan) and ..._by_plan, replaced."""
    conn.execute(f"create schema if not exists {RESULT_SCHEMA}")
    _replace_table(conn, "pricing_comparison", ComparisonRow, comparison.customers)
    _replace_table(conn, "pricing_comparison_by_plan", PlanRow, comparison.plans)
