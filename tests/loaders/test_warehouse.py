"""load_reference_data: the raw reference tables hold exactly the validated inputs."""

from datetime import date, datetime
from decimal import Decimal

import pytest

from loaders import InputError, load_reference_data
from loaders.raw_schema import REFERENCE_TABLES


def test_every_reference_table_is_written(inputs, conn):
    summary = load_reference_data(conn, inputs.data_dir)

    assert set(summary.table_rows) == set(REFERENCE_TABLES)
    for table, count in summary.table_rows.items():
        assert conn.execute(f"select count(*) from raw.{table}").fetchone()[0] == count
    assert summary.table_rows["customers"] == 3
    assert summary.table_rows["credit_grants"] == 0
    assert conn.execute("select * from raw.settings").fetchall() == [
        (3, 5, "INV", 5, "Example Billing Co")
    ]


def test_catalog_is_flattened_with_plan_or_customer_keys(loaded):
    charges = loaded.execute(
        "select plan_id, plan_version, customer_id, meter_id, charge_model, unit_price "
        "from raw.plan_charges where meter_id = 'api_calls' order by all"
    ).fetchall()
    assert charges == [
        ("euro", 1, None, "api_calls", "per_unit", Decimal("0.1")),
        ("growth", 1, None, "api_calls", "graduated", None),
        ("growth", 2, None, "api_calls", "package", None),
        ("growth", None, "acme", "api_calls", "per_unit", Decimal("0.0008")),
    ]
    tiers = loaded.execute(
        "select plan_version, customer_id, tier_index, lower_bound, up_to, unit_price, flat_fee "
        "from raw.charge_tiers where meter_id = 'api_calls' order by tier_index"
    ).fetchall()
    assert tiers == [
        (1, None, 1, Decimal(0), Decimal(100000), Decimal(0), Decimal(0)),
        (1, None, 2, Decimal(100000), None, Decimal("0.001"), Decimal(5)),
    ]
    assert loaded.execute("select * from raw.plan_overrides").fetchall() == [
        ("acme", "growth", Decimal("399.00"), None, None, None, None)
    ]
    assert loaded.execute("select * from raw.meter_filters order by all").fetchall() == [
        ("storage_gb", "region", "eu"),
        ("storage_gb", "tier", "2"),
    ]
    assert loaded.execute(
        "select effective_from from raw.plans where plan_id = 'growth' and plan_version = 2"
    ).fetchone() == (date(2026, 9, 1),)


def test_timestamps_are_naive_utc(loaded):
    assert loaded.execute(
        "select started_at from raw.subscriptions where subscription_id = 's3'"
    ).fetchone() == (datetime(2026, 3, 15),)


def test_reloading_replaces_rows(inputs, loaded):
    inputs.customers(["hooli", "Hooli", "ap@hooli.test", "USD", "0", "US", "smb"])

    load_reference_data(loaded, inputs.data_dir)

    assert loaded.execute("select count(*) from raw.customers").fetchone() == (4,)


def test_invalid_input_leaves_existing_tables_untouched(inputs, loaded):
    before = {t: loaded.execute(f"select * from raw.{t}").fetchall() for t in REFERENCE_TABLES}
    inputs.customers(["hooli", "Hooli", "ap@hooli.test", "USD", "0", "US", "smb"])
    inputs.subscriptions(["s9", "globex", "nope", "2026-01-01", "", "1"])

    with pytest.raises(InputError, match="subscriptions.csv: line 6: plan_id: unknown plan"):
        load_reference_data(loaded, inputs.data_dir)

    after = {t: loaded.execute(f"select * from raw.{t}").fetchall() for t in REFERENCE_TABLES}
    assert after == before
