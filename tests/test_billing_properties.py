"""Property-based tests: random catalogs, usage, discounts and credits, billed once.

A pipeline run is expensive, so hypothesis does not drive one run per example:
it generates a batch of random customer setups (each example is one setup),
the batch is written into ONE data directory, the real loaders and ONE
`dbt build` bill October 2026 (as drafts: no PDFs, no Dagster, which the
golden scenarios already cover), and every property is checked for every
setup; a second `dbt build` re-runs the draft period and must change nothing.
Each setup becomes three customers on plans of their own:

- `a<i>`: a graduated plan with tier prices that never increase, its events in
  one landing file, and the setup's discounts and credit grants;
- `b<i>`: the same plan, discounts and grants, and the same events (own ids)
  split over two files, with the first file landed a second time under
  another name (all its rows are duplicates);
- `c<i>`: the same base fee, but per_unit at the first (highest) tier price.

Properties: every invoice's total is the sum of its lines and its header adds
up and is never negative; 0 ≤ credits applied ≤ the grant's balance and never
more than the invoice's post-discount subtotal; graduated ≤ per_unit at the
highest tier price (and ≥ per_unit at the lowest); splitting or re-landing
the events changes nothing (a<i> and b<i> get identical invoices).
"""

import csv
import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
import yaml
from dbt.cli.main import dbtRunnerResult
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from exporters.record_tables import ensure_record_tables
from loaders import load_landing_files, load_reference_data
from tests.dbt_cli import dbt_failures, run_dbt

SETUPS = 25
PERIOD = "2026-10"
AS_OF = datetime(2026, 11, 2)  # within October's invoice grace period: drafts
OCTOBER = datetime(2026, 10, 1)


@dataclass(frozen=True)
class Setup:
    currency: str
    tax_rate: Decimal
    base_fee: Decimal
    minimum_commitment: Decimal
    bounds: tuple[Decimal, ...]
    prices: tuple[Decimal, ...]
    quantities: tuple[Decimal, ...]
    seconds: tuple[int, ...]
    discounts: tuple[tuple[str, Decimal, str, str, int | None], ...]
    grants: tuple[tuple[Decimal, str, int, int | None], ...]


def _money(max_value: str) -> st.SearchStrategy[Decimal]:
    return st.decimals(Decimal("0.01"), Decimal(max_value), places=2)


@st.composite
def setups(draw: st.DrawFn) -> Setup:
    tier_count = draw(st.integers(2, 4))
    bounds = sorted(
        draw(st.sets(st.integers(1, 5000), min_size=tier_count - 1, max_size=tier_count - 1))
    )
    prices = sorted(
        draw(
            st.lists(
                st.decimals(Decimal("0"), Decimal("0.5"), places=4),
                min_size=tier_count,
                max_size=tier_count,
            )
        ),
        reverse=True,
    )
    event_count = draw(st.integers(0, 6))
    quantities = draw(
        st.lists(
            st.decimals(Decimal("0"), Decimal("3000"), places=3),
            min_size=event_count,
            max_size=event_count,
        )
    )
    seconds = draw(
        st.lists(st.integers(0, 31 * 86400 - 1), min_size=event_count, max_size=event_count)
    )
    discounts = draw(
        st.lists(
            st.one_of(
                st.tuples(
                    st.just("percent"),
                    st.decimals(Decimal("0.01"), Decimal("1"), places=2),
                    st.sampled_from(["all", "base_fee", "units"]),
                    st.sampled_from(["2026-09", "2026-10", "2026-11"]),
                    st.sampled_from([None, 1, 2]),
                ),
                st.tuples(
                    st.just("amount"),
                    _money("400"),
                    st.sampled_from(["all", "base_fee", "units"]),
                    st.sampled_from(["2026-09", "2026-10", "2026-11"]),
                    st.sampled_from([None, 1, 2]),
                ),
            ),
            max_size=3,
        )
    )
    grants = draw(
        st.lists(
            st.tuples(
                _money("500"),
                st.sampled_from(["prepaid", "promotional"]),
                st.integers(-40, 35),  # granted, in days from October 1
                st.one_of(st.none(), st.integers(1, 90)),  # lifetime in days
            ),
            max_size=3,
        )
    )
    return Setup(
        currency=draw(st.sampled_from(["USD", "USD", "EUR", "JPY"])),
        tax_rate=draw(st.sampled_from([Decimal("0"), Decimal("0.05"), Decimal("0.0825")])),
        base_fee=draw(_money("500") | st.just(Decimal("0"))),
        minimum_commitment=draw(st.just(Decimal("0")) | _money("800")),
        bounds=tuple(Decimal(b) for b in bounds),
        prices=tuple(prices),
        quantities=tuple(quantities),
        seconds=tuple(seconds),
        discounts=tuple(discounts),
        grants=tuple(grants),
    )


def _generate(count: int) -> list[Setup]:
    """`count` setups drawn by hypothesis (its first is the simplest one)."""
    drawn: list[Setup] = []

    @settings(
        max_examples=count,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(setups())
    def collect(setup: Setup) -> None:
        drawn.append(setup)

    collect()
    return drawn


class _CatalogDumper(yaml.SafeDumper):
    """Writes Decimals as YAML numbers, exactly."""


_CatalogDumper.add_representer(
    Decimal, lambda dumper, value: dumper.represent_scalar("tag:yaml.org,2002:float", str(value))
)


def _plan(plan_id: str, setup: Setup, charge: dict) -> dict:
    return {
        "id": plan_id,
        "name": plan_id,
        "version": 1,
        "effective_from": date(2026, 1, 1),
        "currency": setup.currency,
        "base_fee": setup.base_fee,
        "minimum_commitment": setup.minimum_commitment,
        "charges": [charge],
    }


def _event(event_id: str, customer: str, seconds: int, quantity: Decimal) -> str:
    timestamp = (OCTOBER + timedelta(seconds=seconds)).isoformat() + "Z"
    return json.dumps(
        {
            "event_id": event_id,
            "customer_id": customer,
            "event_type": "unit_used",
            "timestamp": timestamp,
            "quantity": str(quantity),
        }
    )


def _write_csv(path: Path, header: list[str], rows: list[list[object]]) -> None:
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(["" if v is None else v for v in row] for row in rows)


def _write_company(data_dir: Path, batch: list[Setup]) -> None:
    landing = data_dir / "landing" / "events"
    landing.mkdir(parents=True)
    plans, customers, subscriptions, discounts, grants = [], [], [], [], []
    one_file, first_half, second_half = [], [], []
    for i, setup in enumerate(batch):
        tiers = [
            {"up_to": bound, "unit_price": price}
            for bound, price in zip(setup.bounds, setup.prices, strict=False)
        ] + [{"up_to": None, "unit_price": setup.prices[-1]}]
        plans.append(
            _plan(f"pg{i}", setup, {"meter": "units", "model": "graduated", "tiers": tiers})
        )
        plans.append(
            _plan(
                f"pu{i}",
                setup,
                {"meter": "units", "model": "per_unit", "unit_price": setup.prices[0]},
            )
        )
        for prefix, plan in (("a", f"pg{i}"), ("b", f"pg{i}"), ("c", f"pu{i}")):
            customer = f"{prefix}{i:02d}"
            customers.append(
                [
                    customer,
                    customer,
                    f"{customer}@x.example",
                    setup.currency,
                    setup.tax_rate,
                    "US",
                    "smb",
                ]
            )
            subscriptions.append(
                [f"s_{customer}", customer, plan, "2026-10-01T00:00:00Z", "2026-11-01T00:00:00Z", 1]
            )
        for n, (kind, value, applies_to, first_period, cycles) in enumerate(setup.discounts):
            for prefix in "ab":
                discounts.append(
                    [
                        f"d{n}_{prefix}{i:02d}",
                        f"{prefix}{i:02d}",
                        kind,
                        value,
                        applies_to,
                        first_period,
                        cycles,
                    ]
                )
        for n, (amount, kind, granted_day, lifetime) in enumerate(setup.grants):
            granted = OCTOBER + timedelta(days=granted_day)
            expires = granted + timedelta(days=lifetime) if lifetime else None
            for prefix in "ab":
                grants.append(
                    [
                        f"g{n}_{prefix}{i:02d}",
                        f"{prefix}{i:02d}",
                        amount,
                        setup.currency,
                        kind,
                        granted.isoformat() + "Z",
                        expires.isoformat() + "Z" if expires else None,
                    ]
                )
        events = list(zip(setup.seconds, setup.quantities, strict=True))
        half = len(events) // 2
        for j, (seconds, quantity) in enumerate(events):
            one_file.append(_event(f"a{i}-{j}", f"a{i:02d}", seconds, quantity))
            one_file.append(_event(f"c{i}-{j}", f"c{i:02d}", seconds, quantity))
            (first_half if j < half else second_half).append(
                _event(f"b{i}-{j}", f"b{i:02d}", seconds, quantity)
            )
    catalog = {
        "settings": {
            "invoice_grace_days": 3,
            "payment_grace_days": 5,
            "invoice_prefix": "INV",
            "company_name": "Random Co",
        },
        "meters": [
            {
                "id": "units",
                "name": "Units",
                "unit": "units",
                "event_type": "unit_used",
                "aggregation": "sum",
                "field": "quantity",
            }
        ],
        "plans": plans,
    }
    (data_dir / "catalog.yml").write_text(
        yaml.dump(catalog, Dumper=_CatalogDumper, sort_keys=False)
    )
    _write_csv(
        data_dir / "customers.csv",
        ["customer_id", "name", "email", "currency", "tax_rate", "country", "segment"],
        customers,
    )
    _write_csv(
        data_dir / "subscriptions.csv",
        ["subscription_id", "customer_id", "plan_id", "started_at", "ended_at", "seats"],
        subscriptions,
    )
    _write_csv(
        data_dir / "discounts.csv",
        ["discount_id", "customer_id", "kind", "value", "applies_to", "first_period", "cycles"],
        discounts,
    )
    _write_csv(
        data_dir / "credit_grants.csv",
        ["grant_id", "customer_id", "amount", "currency", "kind", "granted_at", "expires_at"],
        grants,
    )
    (landing / "2026-10-a.jsonl").write_text("".join(line + "\n" for line in one_file))
    (landing / "2026-10-b1.jsonl").write_text("".join(line + "\n" for line in first_half))
    (landing / "2026-10-b2.jsonl").write_text("".join(line + "\n" for line in second_half))
    (landing / "2026-10-b3-again.jsonl").write_text("".join(line + "\n" for line in first_half))


def _query(db_path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db_path), read_only=True) as conn:
        return conn.execute(sql).fetchall()


def _dbt(db_path: Path, *args: str) -> dbtRunnerResult:
    return run_dbt(db_path, db_path.parent / "target", *args)


def _snapshot(db_path: Path) -> list[list[tuple]]:
    return [
        _query(db_path, f"select * exclude (finalized_at) from main.{table} order by 1")
        if table == "fct_invoices"
        else _query(db_path, f"select * from main.{table} order by 1")
        for table in ("fct_invoices", "fct_invoice_lines", "fct_credit_balances")
    ]


@dataclass(frozen=True)
class Billed:
    db_path: Path
    batch: list[Setup]
    first_run: list[list[tuple]]
    rerun: dbtRunnerResult


@pytest.fixture(scope="module")
def random_company(tmp_path_factory: pytest.TempPathFactory) -> Billed:
    """October billed as drafts, then re-run as drafts again."""
    batch = _generate(SETUPS)
    root = tmp_path_factory.mktemp("random_company")
    data_dir, db_path = root / "data", root / "billing.duckdb"
    _write_company(data_dir, batch)
    with duckdb.connect(str(db_path)) as conn:
        load_reference_data(conn, data_dir)
        load_landing_files(conn, data_dir, as_of=AS_OF)
        ensure_record_tables(conn)
    dbt_vars = json.dumps({"period": PERIOD, "as_of": AS_OF.isoformat(sep=" ")})
    built = _dbt(db_path, "build", "--exclude-resource-type", "unit_test", "--vars", dbt_vars)
    assert built.success, dbt_failures(built)
    first_run = _snapshot(db_path)
    rerun = _dbt(db_path, "build", "--exclude-resource-type", "unit_test", "--vars", dbt_vars)
    return Billed(db_path, batch, first_run, rerun)


def test_rerunning_a_draft_period_changes_nothing(random_company: Billed) -> None:
    """Credits of the period being re-run are never counted twice."""
    assert random_company.rerun.success, dbt_failures(random_company.rerun)
    assert _snapshot(random_company.db_path) == random_company.first_run


def test_every_setup_is_invoiced(random_company: Billed) -> None:
    db_path, batch = random_company.db_path, random_company.batch
    assert _query(db_path, "select count(*) from main.fct_invoices") == [(3 * len(batch),)]
    assert _query(db_path, "select count(*) from raw.quarantined_events") == [(0,)]


def test_total_is_the_sum_of_the_lines(random_company: Billed) -> None:
    db_path = random_company.db_path
    broken = _query(
        db_path,
        """
        select invoices.invoice_id, invoices.total, sum(lines.amount)
        from main.fct_invoices as invoices
        join main.fct_invoice_lines as lines using (invoice_id)
        group by all
        having invoices.total <> sum(lines.amount)
            or invoices.total <> invoices.subtotal - invoices.discount_total
                - invoices.credit_total + invoices.tax_total
            or invoices.total < 0
            or invoices.discount_total < 0 or invoices.credit_total < 0
        """,
    )
    assert broken == []


def test_credits_never_exceed_the_balance_or_the_invoice(
    random_company: Billed,
) -> None:
    db_path = random_company.db_path
    bad_balances = _query(
        db_path,
        """
        select credit_balance_id, opening, applied, expired, closing
        from main.fct_credit_balances
        where applied < 0 or applied > opening or opening > granted_amount
            or expired < 0 or closing < 0 or opening - applied - expired <> closing
        """,
    )
    assert bad_balances == []
    over_credited = _query(
        db_path,
        """
        select invoice_id, subtotal, discount_total, credit_total
        from main.fct_invoices
        where credit_total > subtotal - discount_total
        """,
    )
    assert over_credited == []
    # each invoice's credit lines are what its grants applied
    mismatched = _query(
        db_path,
        """
        select invoices.customer_id, invoices.credit_total, coalesce(sum(balances.applied), 0)
        from main.fct_invoices as invoices
        left join main.fct_credit_balances as balances
            on balances.customer_id = invoices.customer_id
            and balances.period_start = invoices.period_start
        group by all
        having invoices.credit_total <> coalesce(sum(balances.applied), 0)
        """,
    )
    assert mismatched == []


def test_graduated_with_falling_prices_is_at_most_per_unit_at_the_top_price(
    random_company: Billed,
) -> None:
    db_path, batch = random_company.db_path, random_company.batch
    usage = dict(
        _query(
            db_path,
            "select customer_id, amount from main.fct_invoice_lines where line_type = 'usage'",
        )
    )
    quantities = dict(
        _query(
            db_path,
            "select customer_id, quantity from main.fct_invoice_lines where line_type = 'usage'",
        )
    )
    for i, setup in enumerate(batch):
        graduated, per_unit_top = usage[f"a{i:02d}"], usage[f"c{i:02d}"]
        quantity = quantities[f"a{i:02d}"]
        assert quantity == sum(setup.quantities, Decimal(0))
        floor = quantity * setup.prices[-1]
        assert graduated <= per_unit_top, (i, setup)
        assert graduated >= floor.quantize(
            Decimal(1) if setup.currency == "JPY" else Decimal("0.01"), rounding="ROUND_DOWN"
        ), (i, setup)


def test_split_or_relanded_events_change_nothing(
    random_company: Billed,
) -> None:
    db_path, batch = random_company.db_path, random_company.batch

    def invoice_of(customer: str) -> tuple[list[tuple], list[tuple]]:
        header = _query(
            db_path,
            "select subtotal, discount_total, credit_total, tax_total, total "
            f"from main.fct_invoices where customer_id = '{customer}'",
        )
        lines = _query(
            db_path,
            "select line_number, line_type, meter_id, quantity, unit_price, amount "
            f"from main.fct_invoice_lines where customer_id = '{customer}' order by line_number",
        )
        return header, lines

    for i in range(len(batch)):
        assert invoice_of(f"a{i:02d}") == invoice_of(f"b{i:02d}"), (i, batch[i])
    relanded = _query(
        db_path,
        "select row_count, loaded_count, duplicate_count from raw.landed_files "
        "where file_name = '2026-10-b3-again.jsonl'",
    )
    first_half = sum(len(s.quantities) // 2 for s in batch)
    assert relanded == [(first_half, 0, first_half)]
