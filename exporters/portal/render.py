"""Write the portal: static, autoescaped HTML pages with inline SVG charts.

    <out>/portal/index.html                 finance overview
    <out>/portal/customers/<customer>.html  one page per customer

No server and no internet: open index.html from disk.
"""

import functools
import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from exporters.money import format_money
from exporters.portal.charts import Chart, bar_chart, line_chart
from exporters.portal.data import CustomerPage, Overview, PortalData

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates"
OVERVIEW_TEMPLATE = "portal_overview_v1.html.j2"
CUSTOMER_TEMPLATE = "portal_customer_v1.html.j2"
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


@dataclass(frozen=True)
class PortalSummary:
    index: Path
    customer_pages: int


def page_name(customer_id: str) -> str:
    """A customer's page file: its id with anything unsafe in a path replaced."""
    return f"{_UNSAFE.sub('_', customer_id)}.html"


def format_quantity(quantity: Decimal | None) -> str:
    if quantity is None:
        return "–"
    return f"{quantity.normalize():,f}"


def format_percent(value: Decimal | None) -> str:
    return "–" if value is None else f"{value:,.1f} %"


def _money(amount: Decimal | None, currency: str) -> str:
    return "–" if amount is None else format_money(amount, currency)


@functools.cache
def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(enabled_extensions=("html", "html.j2"), default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        money=_money, quantity=format_quantity, percent=format_percent, page=page_name
    )
    return env


def _days(period_start: date, period_end: date) -> list[date]:
    return [period_start + timedelta(days=i) for i in range((period_end - period_start).days)]


def customer_charts(page: CustomerPage, period_start: date, period_end: date) -> list[Chart]:
    """One bar chart per metered meter: the daily quantity over the period's days."""
    days = _days(period_start, period_end)
    names = {m.meter_id: (m.meter_name, m.unit) for m in page.usage}
    charts = []
    for meter_id, points in sorted(page.daily.items()):
        by_day = dict(points)
        values = [by_day.get(day, Decimal(0)) for day in days]
        name, unit = names.get(meter_id, (meter_id, ""))
        charts.append(
            bar_chart(
                f"{name} per day ({unit})" if unit else f"{name} per day",
                [f"{day.day}" for day in days],
                values,
                [
                    f"{day.isoformat()}: {format_quantity(v)} {unit}"
                    for day, v in zip(days, values, strict=True)
                ],
            )
        )
    return charts


def overview_charts(overview: Overview) -> list[Chart]:
    charts = []
    currencies = sorted({currency for _, currency, *_ in overview.revenue_by_period})
    for currency in currencies:
        rows = [r for r in overview.revenue_by_period if r[1] == currency]
        charts.append(
            bar_chart(
                f"Monthly recurring revenue ({currency})",
                [period.strftime("%b %Y") for period, *_ in rows],
                [mrr for _, _, _, mrr, _, _ in rows],
                [
                    f"{period:%b %Y}: {format_money(mrr, currency)}"
                    for period, _, _, mrr, _, _ in rows
                ],
            )
        )
    days = sorted({day for series in overview.daily_events.values() for day in series})
    if days:
        series = {
            meter_id: [Decimal(by_day.get(day, 0)) for day in days]
            for meter_id, by_day in sorted(overview.daily_events.items())
        }
        charts.append(
            line_chart("Usage events per day, by meter", [f"{d:%b %-d}" for d in days], series)
        )
    return charts


def _write(path: Path, html: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")


def render_portal(data: PortalData, output_dir: Path) -> PortalSummary:
    """Write index.html and one page per customer under output_dir/portal."""
    portal_dir = output_dir / "portal"
    overview = data.overview
    env = _environment()
    index = portal_dir / "index.html"
    _write(
        index,
        env.get_template(OVERVIEW_TEMPLATE).render(
            overview=overview, charts=overview_charts(overview)
        ),
    )
    customer_template = env.get_template(CUSTOMER_TEMPLATE)
    for page in data.customers:
        _write(
            portal_dir / "customers" / page_name(page.customer_id),
            customer_template.render(
                page=page,
                overview=overview,
                charts=customer_charts(page, overview.period_start, overview.period_end),
            ),
        )
    return PortalSummary(index=index, customer_pages=len(data.customers))
