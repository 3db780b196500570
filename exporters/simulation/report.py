"""The simulation's CSV files and HTML report (autoescaped Jinja2, inline SVG chart)."""

import csv
from dataclasses import astuple, fields
from decimal import Decimal
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from exporters.money import format_money
from exporters.portal.charts import PALETTE, bar_chart
from exporters.simulation.compare import ComparisonRow, PlanRow, PricingComparison

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates"
REPORT_TEMPLATE = "pricing_simulation_v1.html.j2"


def _write_csv(path: Path, cls: type, rows: tuple) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([f.name for f in fields(cls)])
        for row in rows:
            writer.writerow(["" if value is None else value for value in astuple(row)])


def _percent(value: Decimal | None) -> str:
    return "–" if value is None else f"{value:+,.2f} %"


def _plan_chart(comparison: PricingComparison):
    labels, values, titles, colors = [], [], [], []
    for plan in comparison.plans:
        for kind, amount, color in (
            ("current", plan.current_revenue, PALETTE[0]),
            ("candidate", plan.candidate_revenue, PALETTE[1]),
        ):
            labels.append(f"{plan.plan_id} {kind}")
            values.append(amount)
            titles.append(f"{plan.plan_id}, {kind}: {format_money(amount, plan.currency)}")
            colors.append(color)
    return bar_chart(
        "Revenue per plan: current (blue) vs candidate (orange)", labels, values, titles, colors
    )


def write_reports(comparison: PricingComparison, out_dir: Path, candidate_name: str) -> Path:
    """pricing_comparison.csv, pricing_comparison_by_plan.csv and pricing_simulation.html."""
    out_dir.mkdir(parents=True, exist_ok=True)
    _write_csv(out_dir / "pricing_comparison.csv", ComparisonRow, comparison.customers)
    _write_csv(out_dir / "pricing_comparison_by_plan.csv", PlanRow, comparison.plans)
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(enabled_extensions=("html", "html.j2"), default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(money=format_money, percent=_percent)
    report = out_dir / "pricing_simulation.html"
    report.write_text(
        env.get_template(REPORT_TEMPLATE).render(
            comparison=comparison,
            candidate_name=candidate_name,
            chart=_plan_chart(comparison),
            flagged=[row for row in comparison.customers if row.pays_more_than_threshold],
        ),
        encoding="utf-8",
    )
    return report
