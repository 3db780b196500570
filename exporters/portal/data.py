"""What the portal shows, read from the warehouse's marts (read-only).

One period at a time: usage to date per meter (fct_rated_usage), limits
(usage_limits), the month-end forecast (rpt_usage_forecast, when it was made
for this period), credits left (fct_credit_balances), the period's invoice
(fct_invoices, fct_invoice_lines); and, for finance, revenue and usage over
every billed period.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

import duckdb

from exporters.money import minor_units

Row = tuple


@dataclass(frozen=True)
class MeterUsage:
    meter_id: str
    meter_name: str
    unit: str
    aggregation: str
    usage_to_date: Decimal
    limit_quantity: Decimal | None
    forecast_quantity: Decimal | None
    forecast_method: str | None
    rated_amount_to_date: Decimal | None
    projected_amount: Decimal | None

    @property
    def percent_of_limit(self) -> Decimal | None:
        return _percent(self.usage_to_date, self.limit_quantity)

    @property
    def forecast_percent_of_limit(self) -> Decimal | None:
        if self.forecast_quantity is None:
            return None
        return _percent(self.forecast_quantity, self.limit_quantity)


@dataclass(frozen=True)
class InvoiceLine:
    line_type: str
    description: str
    quantity: Decimal | None
    amount: Decimal


@dataclass(frozen=True)
class CreditGrant:
    grant_id: str
    kind: str
    closing: Decimal
    expires_at: datetime | None


@dataclass(frozen=True)
class Invoice:
    number: str | None
    status: str
    subtotal: Decimal
    total: Decimal
    lines: tuple[InvoiceLine, ...]


@dataclass(frozen=True)
class CustomerPage:
    customer_id: str
    name: str
    segment: str
    currency: str
    tax_rate: Decimal
    plan_id: str | None
    usage: tuple[MeterUsage, ...]
    daily: dict[str, list[tuple[date, Decimal]]]
    invoice: Invoice | None
    credits: tuple[CreditGrant, ...]
    forecast_as_of: datetime | None
    period_complete: bool

    @property
    def credits_left(self) -> Decimal:
        return sum((grant.closing for grant in self.credits), Decimal(0))

    @property
    def expected_further_usage(self) -> Decimal | None:
        """Usage charges still expected by month end at the run rate (see rpt_usage_forecast)."""
        if self.forecast_as_of is None:
            return None
        return sum(
            (
                (m.projected_amount or Decimal(0)) - (m.rated_amount_to_date or Decimal(0))
                for m in self.usage
            ),
            Decimal(0),
        )

    @property
    def projected_total(self) -> Decimal | None:
        """The invoice to date plus expected further usage and its tax (credits not re-applied)."""
        further = self.expected_further_usage
        if further is None or self.invoice is None:
            return None
        exact = self.invoice.total + further * (1 + self.tax_rate)
        return exact.quantize(Decimal(1).scaleb(-minor_units(self.currency)), ROUND_HALF_UP)


@dataclass(frozen=True)
class Overview:
    company_name: str
    period_start: date
    period_end: date
    revenue_by_period: list[Row]
    daily_events: dict[str, dict[date, int]]
    mrr_by_plan: list[Row]
    retention: list[Row]
    revenue_by_meter: list[Row]
    top_customers: list[Row]
    gaps: list[Row]
    flagged_files: list[Row]
    customers: list[Row]


@dataclass(frozen=True)
class PortalData:
    overview: Overview
    customers: tuple[CustomerPage, ...]


def _percent(part: Decimal, whole: Decimal | None) -> Decimal | None:
    if whole is None or whole == 0:
        return None
    return (part * 100 / whole).quantize(Decimal("0.1"), ROUND_HALF_UP)


def latest_period(conn: duckdb.DuckDBPyConnection) -> date:
    (period_start,) = conn.execute("select max(period_start) from main.fct_invoices").fetchone()
    if period_start is None:
        raise ValueError("the warehouse has no invoices yet; run `billing run` first")
    return period_start


USAGE_QUERY = """
    with rated as (
        select
            customer_id,
            meter_id,
            sum(case when tier_index = 1 then quantity else 0 end) as quantity_summed,
            max(case when tier_index = 1 then quantity end) as quantity_largest
        from main.fct_rated_usage
        where period_start = $period
        group by customer_id, meter_id
    ),
    pairs as (
        select customer_id, meter_id from rated
        union
        select customer_id, meter_id from staging.stg_usage_limits
    )
    select
        pairs.customer_id,
        pairs.meter_id,
        meters.meter_name,
        meters.meter_unit,
        meters.aggregation,
        case
            when meters.aggregation in ('max', 'latest') then coalesce(rated.quantity_largest, 0)
            else coalesce(rated.quantity_summed, 0)
        end as usage_to_date,
        limits.limit_quantity,
        forecast.forecast_quantity,
        forecast.forecast_method,
        forecast.rated_amount_to_date,
        forecast.projected_amount
    from pairs
    inner join staging.stg_meters as meters on meters.meter_id = pairs.meter_id
    left join rated
        on rated.customer_id = pairs.customer_id and rated.meter_id = pairs.meter_id
    left join staging.stg_usage_limits as limits
        on limits.customer_id = pairs.customer_id and limits.meter_id = pairs.meter_id
    left join main.rpt_usage_forecast as forecast
        on forecast.customer_id = pairs.customer_id
        and forecast.meter_id = pairs.meter_id
        and forecast.period_start = $period
    order by pairs.customer_id, pairs.meter_id
"""


def _usage_by_customer(conn, period_start: date) -> dict[str, list[MeterUsage]]:
    usage: dict[str, list[MeterUsage]] = defaultdict(list)
    for customer_id, *fields in conn.execute(USAGE_QUERY, {"period": period_start}).fetchall():
        usage[customer_id].append(MeterUsage(*fields))
    return usage


def _daily_by_customer(conn, period_start: date) -> dict[str, dict[str, list]]:
    rows = conn.execute(
        "select customer_id, meter_id, usage_date, daily_quantity from main.fct_usage_daily "
        "where period_start = ? order by customer_id, meter_id, usage_date",
        [period_start],
    ).fetchall()
    daily: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for customer_id, meter_id, day, quantity in rows:
        daily[customer_id][meter_id].append((day, quantity))
    return daily


def _invoices(conn, period_start: date) -> dict[str, Invoice]:
    lines: dict[str, list[InvoiceLine]] = defaultdict(list)
    for invoice_id, *fields in conn.execute(
        "select invoice_id, line_type, description, quantity, amount from main.fct_invoice_lines "
        "where period_start = ? order by invoice_id, line_number",
        [period_start],
    ).fetchall():
        lines[invoice_id].append(InvoiceLine(*fields))
    return {
        customer_id: Invoice(number, status, subtotal, total, tuple(lines[invoice_id]))
        for invoice_id, customer_id, number, status, subtotal, total in conn.execute(
            "select invoice_id, customer_id, invoice_number, status, subtotal, total "
            "from main.fct_invoices where period_start = ?",
            [period_start],
        ).fetchall()
    }


def _credits(conn, period_start: date) -> dict[str, list[CreditGrant]]:
    credits: dict[str, list[CreditGrant]] = defaultdict(list)
    for customer_id, *fields in conn.execute(
        "select customer_id, grant_id, grant_kind, closing, expires_at "
        "from main.fct_credit_balances where period_start = ? order by customer_id, payment_rank",
        [period_start],
    ).fetchall():
        credits[customer_id].append(CreditGrant(*fields))
    return credits


def _forecast_clock(conn, period_start: date) -> tuple[datetime | None, bool]:
    row = conn.execute(
        "select max(as_of), bool_and(is_period_complete) from main.rpt_usage_forecast "
        "where period_start = ?",
        [period_start],
    ).fetchone()
    return (row[0], bool(row[1])) if row and row[0] is not None else (None, False)


def _customer_pages(conn, period_start: date) -> tuple[CustomerPage, ...]:
    usage = _usage_by_customer(conn, period_start)
    daily = _daily_by_customer(conn, period_start)
    invoices = _invoices(conn, period_start)
    credits = _credits(conn, period_start)
    as_of, complete = _forecast_clock(conn, period_start)
    plans = dict(
        conn.execute(
            "select customer_id, plan_id from main.fct_customer_mrr where period_start = ?",
            [period_start],
        ).fetchall()
    )
    customers = conn.execute(
        "select customer_id, name, segment, currency, tax_rate from main.dim_customers "
        "order by customer_id"
    ).fetchall()
    return tuple(
        CustomerPage(
            customer_id=customer_id,
            name=name,
            segment=segment,
            currency=currency,
            tax_rate=tax_rate,
            plan_id=plans.get(customer_id),
            usage=tuple(usage.get(customer_id, ())),
            daily=dict(daily.get(customer_id, {})),
            invoice=invoices.get(customer_id),
            credits=tuple(credits.get(customer_id, ())),
            forecast_as_of=as_of,
            period_complete=complete,
        )
        for customer_id, name, segment, currency, tax_rate in customers
    )


def _overview(conn, period_start: date, period_end: date) -> Overview:
    def rows(sql: str, params: list | None = None) -> list[Row]:
        return conn.execute(sql, params or []).fetchall()

    daily_events: dict[str, dict[date, int]] = defaultdict(dict)
    for day, meter_id, events in rows(
        "select usage_date, meter_id, sum(event_count) from main.fct_usage_daily "
        "group by 1, 2 order by 1, 2"
    ):
        daily_events[meter_id][day] = int(events)
    (company_name,) = conn.execute("select company_name from staging.stg_settings").fetchone()
    return Overview(
        company_name=company_name,
        period_start=period_start,
        period_end=period_end,
        revenue_by_period=rows(
            "select m.period_start, m.currency, count(*), sum(m.mrr), sum(m.usage_revenue), "
            "sum(i.total) from main.fct_customer_mrr m join main.fct_invoices i using (invoice_id) "
            "group by 1, 2 order by 1, 2"
        ),
        daily_events=dict(daily_events),
        mrr_by_plan=rows(
            "select plan_id, currency, sum(customers), sum(mrr), sum(arr) "
            "from main.rpt_mrr_by_plan_segment where period_start = ? "
            "group by 1, 2 order by 4 desc",
            [period_start],
        ),
        retention=rows(
            "select period_start, currency, starting_mrr, ending_mrr, "
            "net_revenue_retention_percent, gross_revenue_retention_percent "
            "from main.rpt_net_revenue_retention order by 1, 2"
        ),
        revenue_by_meter=rows(
            "select meter_name, meter_unit, currency, quantity, revenue, "
            "share_of_usage_revenue_percent from main.rpt_revenue_by_meter "
            "where period_start = ? order by revenue desc",
            [period_start],
        ),
        top_customers=rows(
            "select revenue_rank, customer_id, customer_name, currency, total_revenue, "
            "share_of_revenue_percent from main.rpt_top_customers "
            "where revenue_rank <= 10 order by currency, revenue_rank"
        ),
        gaps=rows(
            "select cast(usage_date as varchar), customer_id, customer_name, meter_id, gap_kind, "
            "event_count, baseline_daily_events from main.rpt_usage_gaps "
            "where period_start = ? order by usage_date, customer_id",
            [period_start],
        ),
        flagged_files=rows(
            "select file_name, row_count, duplicate_rate_percent, quarantine_rate_percent, "
            "quarantine_reasons from main.rpt_source_file_quality where is_flagged order by 1"
        ),
        customers=rows(
            "select c.customer_id, c.name, m.plan_id, i.status, i.currency, i.total "
            "from main.dim_customers c "
            "left join main.fct_invoices i on i.customer_id = c.customer_id and i.period_start = ? "
            "left join main.fct_customer_mrr m on m.invoice_id = i.invoice_id "
            "order by c.customer_id",
            [period_start],
        ),
    )


def read_portal_data(
    conn: duckdb.DuckDBPyConnection, period_start: date | None = None
) -> PortalData:
    """Everything the portal pages show for one period (default: the latest invoiced)."""
    period_start = period_start or latest_period(conn)
    next_month = date(period_start.year + period_start.month // 12, period_start.month % 12 + 1, 1)
    return PortalData(
        overview=_overview(conn, period_start, next_month),
        customers=_customer_pages(conn, period_start),
    )
