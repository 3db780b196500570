"""`billing`: the command line of SPEC "Command line".

    billing run --data-dir DIR --db FILE --period YYYY-MM[..YYYY-MM] [--as-of TIMESTAMP]
    billing sync stripe|quickbooks [quickbooks] --db FILE [--as-of TIMESTAMP]
    billing credit-note --db FILE --invoice INV-000042 [--amount 10.00] --reason TEXT
    billing portal --db FILE [--out DIR] [--period YYYY-MM]
    billing simulate --candidate FILE --periods YYYY-MM[..YYYY-MM] [--db FILE] [--data-dir DIR]

Exit status 0 on success; otherwise one line naming what went wrong.

Only the standard library is imported at module level: PDF rendering spawns
worker processes, and each one re-imports this entry module, so Dagster, dbt
and DuckDB are imported inside the commands that use them.
"""

import argparse
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

# Dagster's beta/preview notices are for pipeline authors, not for finance at a terminal.
warnings.filterwarnings("ignore", module="dagster")

INVOICE_TABLE_QUERY = """
    select i.customer_id, c.name, coalesce(i.invoice_number, '(draft)'), i.status,
           i.currency, i.total
    from main.fct_invoices i
    join main.dim_customers c using (customer_id)
    where i.period_start = ?
    order by i.invoice_sequence nulls last, i.customer_id
"""


def _print_invoices(db_path: Path, period: str) -> None:
    import duckdb

    with duckdb.connect(str(db_path), read_only=True) as conn:
        rows = conn.execute(INVOICE_TABLE_QUERY, [f"{period}-01"]).fetchall()
    print(f"\nInvoices for {period} ({len(rows)}):")
    print(f"  {'customer':<10} {'name':<32} {'number':<11} {'status':<9} {'total':>12}")
    for customer_id, name, number, status, currency, total in rows:
        print(
            f"  {customer_id:<10} {name[:32]:<32} {number:<11} {status:<9} {total:>12} {currency}"
        )


def _finalized_periods(db_path: Path) -> list[str]:
    import duckdb

    with duckdb.connect(str(db_path), read_only=True) as conn:
        rows = conn.execute(
            "select distinct strftime(period_start, '%Y-%m') from main.fct_invoices "
            "where status <> 'draft' order by 1"
        ).fetchall()
    return [row[0] for row in rows]


def _run(args: argparse.Namespace) -> None:
    from orchestration.partitions import periods_in
    from orchestration.runs import Deployment, run_billing_period

    deployment = Deployment.beside_database(args.data_dir, args.db)
    for period in periods_in(args.period):
        run_billing_period(deployment, period, args.as_of)
        _print_invoices(args.db, period)
    print(f"\nWarehouse: {args.db}\nInvoice PDFs: {deployment.output_dir / 'invoices'}")
    print(f"Run logs (incl. dbt): {deployment.output_dir / 'logs'}")


def _sync(args: argparse.Namespace) -> None:
    from orchestration.runs import Deployment, RunFailed, book_billing_period, sync_billing_period

    if not args.db.exists():
        raise RunFailed(f"{args.db}: no such warehouse; run `billing run` first")
    deployment = Deployment.beside_database(Path(), args.db)
    periods = _finalized_periods(args.db)
    failures: list[str] = []
    synced_live: set[str] = set()
    for provider in args.providers:
        for period in periods:
            report = sync_billing_period(deployment, provider, period, args.as_of)
            print(f"{provider} {period}:")
            for line in report.lines:
                print(f"  {line}")
            failures.extend(f"{provider}: {line}" for line in report.failures)
            if report.mode == "live":
                synced_live.add(period)
    for period in sorted(synced_live):
        book_billing_period(deployment, period, args.as_of)
    if synced_live:
        print(f"Booked in fct_revenue_ledger and fct_invoices: {', '.join(sorted(synced_live))}")
    if failures:
        raise RunFailed(f"{len(failures)} invoice(s) could not be synced; first: {failures[0]}")


def _credit_note(args: argparse.Namespace) -> None:
    from decimal import Decimal, InvalidOperation

    from orchestration.runs import Deployment, RunFailed, credit_invoice

    if not args.db.exists():
        raise RunFailed(f"{args.db}: no such warehouse; run `billing run` first")
    try:
        amount = Decimal(args.amount) if args.amount else None
    except InvalidOperation:
        raise ValueError(f"--amount {args.amount!r} is not a number") from None
    deployment = Deployment.beside_database(Path(), args.db)
    note = credit_invoice(
        deployment, args.invoice, amount=amount, reason=args.reason, as_of=args.as_of
    )
    effect = "voids it" if note.voids_invoice else "credits part of it"
    print(
        f"{note.credit_note_id}: {note.amount} {note.currency} on {note.invoice_number} "
        f"({note.customer_id}) {effect}; booked in fct_revenue_ledger"
    )


def _portal(args: argparse.Namespace) -> None:
    import duckdb

    from exporters.portal import build_portal
    from orchestration.failures import RunFailed
    from orchestration.partitions import partition_key_of, period_start_of

    if not args.db.exists():
        raise RunFailed(f"{args.db}: no such warehouse; run `billing run` first")
    period_start = period_start_of(partition_key_of(args.period)) if args.period else None
    with duckdb.connect(str(args.db), read_only=True) as conn:
        summary = build_portal(conn, args.out or args.db.parent, period_start)
    print(f"Usage portal: {summary.index} ({summary.customer_pages} customer pages)")


SIMULATION_SUMMARY_QUERY = """
    select plan_id, currency, customers, current_revenue, candidate_revenue, difference,
           percent_change, customers_over_threshold
    from simulation.pricing_comparison_by_plan order by plan_id, currency
"""


def _simulate(args: argparse.Namespace) -> None:
    import duckdb

    from orchestration.runs import RunFailed
    from orchestration.simulation import run_pricing_simulation

    if not args.db.exists():
        raise RunFailed(f"{args.db}: no such warehouse; run `billing run` first")
    report_dir = run_pricing_simulation(
        db_path=args.db,
        candidate=args.candidate,
        periods=args.periods,
        threshold_percent=args.threshold,
        data_dir=args.data_dir,
    )
    with duckdb.connect(str(args.db), read_only=True) as conn:
        plans = conn.execute(SIMULATION_SUMMARY_QUERY).fetchall()
    print(f"Pricing simulation of {args.candidate.name} over {args.periods} (vs invoiced):")
    print(f"  {'plan':<12} {'customers':>9} {'current':>12} {'candidate':>12} {'change':>9}")
    for plan, currency, customers, now, then, _, percent, over in plans:
        change = "n/a" if percent is None else f"{percent:+.2f}%"
        print(
            f"  {plan:<12} {customers:>9} {now:>12} {then:>12} {change:>9} {currency}"
            f"  ({over} paying more than {args.threshold:g} %)"
        )
    print(f"\nTable: simulation.pricing_comparison in {args.db}")
    print(f"Report: {report_dir / 'pricing_simulation.html'} (+ CSVs)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="billing", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="load, rate and invoice one billing period")
    run.add_argument(
        "--data-dir", type=Path, required=True, help="inputs (catalog.yml, CSVs, landing/)"
    )
    run.add_argument("--db", type=Path, required=True, help="the DuckDB warehouse file")
    run.add_argument(
        "--period",
        required=True,
        help="billing period YYYY-MM, or a range YYYY-MM..YYYY-MM run in order",
    )
    run.add_argument("--as-of", default="", help="the run's 'now' (ISO 8601, UTC if naive)")
    run.set_defaults(handler=_run)

    sync = commands.add_parser("sync", help="push finalized invoices to providers, in order")
    sync.add_argument("providers", nargs="+", choices=["stripe", "quickbooks"])
    sync.add_argument("--db", type=Path, required=True, help="the DuckDB warehouse file")
    sync.add_argument("--as-of", default="", help="the run's 'now' (ISO 8601, UTC if naive)")
    sync.set_defaults(handler=_sync)

    credit = commands.add_parser("credit-note", help="void or partially credit a finalized invoice")
    credit.add_argument("--db", type=Path, required=True, help="the DuckDB warehouse file")
    credit.add_argument("--invoice", required=True, help="invoice number, e.g. INV-000042")
    credit.add_argument(
        "--amount", default="", help="amount to credit; default: all still due (voids it)"
    )
    credit.add_argument("--reason", required=True, help="why, as finance will read it")
    credit.add_argument("--as-of", default="", help="the note's date (ISO 8601, UTC if naive)")
    credit.set_defaults(handler=_credit_note)
    portal = commands.add_parser(
        "portal", help="write the customer usage portal and finance dashboard (static HTML)"
    )
    portal.add_argument("--db", type=Path, required=True, help="the DuckDB warehouse file")
    portal.add_argument(
        "--out",
        type=Path,
        default=None,
        help="output folder (default: beside --db); pages go to OUT/portal/",
    )
    portal.add_argument(
        "--period", default="", help="billing period YYYY-MM (default: the latest invoiced)"
    )
    portal.set_defaults(handler=_portal, runs_dagster=False)

    simulate = commands.add_parser(
        "simulate", help="re-rate billed periods under a candidate catalog and compare revenue"
    )
    simulate.add_argument("--candidate", type=Path, required=True, help="the candidate catalog.yml")
    simulate.add_argument(
        "--periods", required=True, help="billed periods YYYY-MM or YYYY-MM..YYYY-MM"
    )
    simulate.add_argument(
        "--db",
        type=Path,
        default=Path("data/output/billing.duckdb"),
        help="the DuckDB warehouse file (default: data/output/billing.duckdb)",
    )
    simulate.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="reference CSVs to validate the candidate with (default: the warehouse's raw tables)",
    )
    simulate.add_argument(
        "--threshold",
        type=float,
        default=10.0,
        help="flag customers whose revenue would rise by more than this percent (default 10)",
    )
    simulate.set_defaults(handler=_simulate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    import duckdb

    from orchestration.failures import RunFailed

    if getattr(args, "runs_dagster", True):
        from orchestration.project import ensure_dbt_manifest

        # The Dagster definitions read dbt's manifest when imported, so the run
        # module is imported only once the manifest exists.
        ensure_dbt_manifest()

    try:
        args.handler(args)
    except (RunFailed, ValueError, duckdb.Error) as error:
        print(f"billing {args.command}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
