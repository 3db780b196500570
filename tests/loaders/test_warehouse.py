"""load_reference_data: the raw reference tables hold exactly the validated inputs."""

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from loaders import InputError, load_reference_data, reference_data, warehouse
from loaders.currencies import CURRENCIES_CSV
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


def _reference_tables(conn) -> dict[str, list[tuple]]:
    return {
        t: conn.execute(f"select * from raw.{t} order by all").fetchall() for t in REFERENCE_TABLES
    }


def test_invalid_input_leaves_existing_tables_untouched(inputs, loaded):
    before = _reference_tables(loaded)
    inputs.customers(["hooli", "Hooli", "ap@hooli.test", "USD", "0", "US", "smb"])
    inputs.subscriptions(["s9", "globex", "nope", "2026-01-01", "", "1"])

    with pytest.raises(InputError, match="subscriptions.csv: line 6: plan_id: unknown plan"):
        load_reference_data(loaded, inputs.data_dir)

    assert _reference_tables(loaded) == before


def test_unchanged_inputs_are_kept_without_validating_them_again(inputs, loaded, monkeypatch):
    before = _reference_tables(loaded)

    def not_read_again(*args):
        raise AssertionError("unchanged inputs were read again")

    monkeypatch.setattr(warehouse, "load_catalog", not_read_again)
    summary = load_reference_data(loaded, inputs.data_dir)

    assert not summary.reloaded
    assert summary.table_rows == {table: len(rows) for table, rows in before.items()}
    assert summary.table_rows["customers"] == 3
    assert _reference_tables(loaded) == before


def test_an_edit_that_keeps_the_size_loads_the_inputs_again(inputs, loaded):
    size = (inputs.data_dir / "subscriptions.csv").stat().st_size
    assert inputs.subscriptions(changes=[(3, "seats", "7")]).stat().st_size == size

    assert load_reference_data(loaded, inputs.data_dir).reloaded
    assert loaded.execute("select sum(seats) from raw.subscriptions").fetchone() == (16,)


def test_an_input_file_added_or_removed_loads_the_inputs_again(inputs, loaded):
    limits = inputs.csv(
        "usage_limits.csv",
        ["customer_id", "meter_id", "limit_quantity"],
        [["acme", "api_calls", "5"]],
    )
    assert load_reference_data(loaded, inputs.data_dir).table_rows["usage_limits"] == 1

    limits.unlink()
    summary = load_reference_data(loaded, inputs.data_dir)

    assert summary.reloaded
    assert loaded.execute("select count(*) from raw.usage_limits").fetchone() == (0,)


def test_inputs_made_invalid_after_a_load_fail_on_every_run(inputs, loaded):
    before = _reference_tables(loaded)
    inputs.subscriptions(["s9", "globex", "nope", "2026-01-01", "", "1"])

    for _ in range(2):
        with pytest.raises(InputError, match="subscriptions.csv: line 6: plan_id: unknown plan"):
            load_reference_data(loaded, inputs.data_dir)

    assert _reference_tables(loaded) == before


def test_a_dropped_reference_table_is_loaded_again(inputs, loaded):
    loaded.execute("drop table raw.discounts")

    summary = load_reference_data(loaded, inputs.data_dir)

    assert summary.reloaded
    assert loaded.execute("select count(*) from raw.discounts").fetchone() == (0,)


def test_the_loaders_code_and_currencies_are_inputs_too(
    inputs, loaded, tmp_path_factory, monkeypatch
):
    assert Path(reference_data.__file__).resolve() in warehouse.LOADER_SOURCES
    assert CURRENCIES_CSV in warehouse.LOADER_SOURCES
    upgraded = tmp_path_factory.mktemp("upgrade") / "rules.py"
    upgraded.write_text("# a newer validation rule\n")
    monkeypatch.setattr(warehouse, "LOADER_SOURCES", (*warehouse.LOADER_SOURCES, upgraded))

    assert load_reference_data(loaded, inputs.data_dir).reloaded
    assert not load_reference_data(loaded, inputs.data_dir).reloaded
