"""`billing`: the command line of SPEC "Command line".

    billing run --data-dir DIR --db FILE --period YYYY-MM[..YYYY-MM] [--as-of TIMESTAMP]
    billing sync stripe|quickbooks [quickbooks] --db FILE [--as-of TIMESTAMP]
    billing credit-note --db FILE --invoice INV-000042 [--amount 10.00] --reason TEXT

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
    from orchestration.runs import Deployment, RunFailed, sync_billing_period

    if not args.db.exists():
        raise RunFailed(f"{args.db}: no such warehouse; run `billing run` first")
    deployment = Deployment.beside_database(Path(), args.db)
    periods = _finalized_periods(args.db)
    failures: list[str] = []
    for provider in args.providers:
        for period in periods:
            report = sync_billing_period(deployment, provider, period, args.as_of)
            print(f"{provider} {period}:")
            for line in report.lines:
                print(f"  {line}")
            failures.extend(f"{provider}: {line}" for line in report.failures)
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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    import duckdb

    from orchestration.project import ensure_dbt_manifest

    # The Dagster definitions read dbt's manifest when imported, so the run
    # module is imported only once the manifest exists.
    ensure_dbt_manifest()
    from orchestration.runs import RunFailed

    try:
        args.handler(args)
    except (RunFailed, ValueError, duckdb.Error) as error:
        print(f"billing {args.command}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
