"""The golden scenarios' inputs, merged into one data directory.

Used by the scenarios' own test (tests/test_scenarios.py explains the merge)
and by the Spark parity test, which bills the same merged inputs on both engines.
"""

import csv
import shutil
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from loaders.decimal_yaml import load_yaml

SCENARIOS = Path(__file__).parent / "scenarios"
REFERENCE_CSVS = ("customers.csv", "subscriptions.csv", "credit_grants.csv", "discounts.csv")


def scenario_dirs() -> list[Path]:
    return sorted(p.parent for p in SCENARIOS.glob("*/expected.yml"))


def expected_results(scenario_dir: Path) -> dict[str, Any]:
    return yaml.safe_load((scenario_dir / "expected.yml").read_text())


class _CatalogDumper(yaml.SafeDumper):
    """Writes Decimals back as YAML numbers, exactly as read."""


_CatalogDumper.add_representer(
    Decimal, lambda dumper, value: dumper.represent_scalar("tag:yaml.org,2002:float", str(value))
)


def _merge_by_key(merged: dict, items: list[dict], key: tuple[str, ...], where: str) -> None:
    for item in items:
        item_key = tuple(item.get(k) for k in key)
        if item_key in merged and merged[item_key] != item:
            raise AssertionError(f"{where}: {item_key} is defined differently in another scenario")
        merged[item_key] = item


def _merge_catalogs(scenario_dirs: list[Path]) -> dict[str, Any]:
    settings: dict | None = None
    meters: dict = {}
    plans: dict = {}
    overrides: dict = {}
    for d in scenario_dirs:
        catalog = load_yaml((d / "catalog.yml").read_text())
        assert settings in (None, catalog["settings"]), f"{d.name}: settings differ"
        settings = catalog["settings"]
        _merge_by_key(meters, catalog["meters"], ("id",), f"{d.name} meters")
        _merge_by_key(plans, catalog["plans"], ("id", "version"), f"{d.name} plans")
        _merge_by_key(
            overrides,
            catalog.get("overrides", []),
            ("customer_id", "plan_id"),
            f"{d.name} overrides",
        )
    return {
        "settings": settings,
        "meters": list(meters.values()),
        "plans": list(plans.values()),
        "overrides": list(overrides.values()),
    }


def _merge_csv(scenario_dirs: list[Path], file_name: str, target: Path) -> None:
    rows: list[dict[str, str]] = []
    columns: list[str] = []
    for d in scenario_dirs:
        if not (d / file_name).exists():
            continue
        with (d / file_name).open(newline="") as f:
            reader = csv.DictReader(f)
            columns += [c for c in reader.fieldnames or [] if c not in columns]
            rows += list(reader)
    if not columns:
        return
    with target.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns, restval="")
        writer.writeheader()
        writer.writerows(rows)


def runs(scenario_dirs: list[Path]) -> list[tuple[str, str]]:
    """Every scenario's (period, as_of), in period order; one as-of per period."""
    as_of_by_period: dict[str, str] = {}
    for d in scenario_dirs:
        for run in expected_results(d)["runs"]:
            period, as_of = str(run["period"]), str(run["as_of"])
            assert as_of_by_period.setdefault(period, as_of) == as_of, (
                f"{d.name}: period {period} runs as of {as_of}, another scenario as of "
                f"{as_of_by_period[period]}"
            )
    return sorted(as_of_by_period.items())


def _landing_period(file_name: str) -> str:
    """Files named YYYY-MM-… land just before that period's run; others before the first."""
    prefix = file_name[:7]
    return prefix if prefix[:4].isdigit() and prefix[4:5] == "-" else ""


def land_files(scenario_dirs: list[Path], landing: Path, up_to_period: str) -> None:
    for d in scenario_dirs:
        for source in sorted((d / "landing" / "events").glob("*")):
            target = landing / f"{d.name}__{source.name}"
            if _landing_period(source.name) <= up_to_period and not target.exists():
                shutil.copy(source, target)


def write_merged_inputs(scenario_dirs: list[Path], data_dir: Path) -> None:
    """catalog.yml and the reference CSVs of every scenario, merged into `data_dir`."""
    (data_dir / "catalog.yml").write_text(
        yaml.dump(_merge_catalogs(scenario_dirs), Dumper=_CatalogDumper, sort_keys=False)
    )
    for file_name in REFERENCE_CSVS:
        _merge_csv(scenario_dirs, file_name, data_dir / file_name)


def bill_merged_scenarios(data_dir: Path, bill: Callable[[str, str], None]) -> None:
    """Merge every scenario's inputs into `data_dir`, then `bill(period, as_of)` each
    period in order, its landing files landed just before its run."""
    landing = data_dir / "landing" / "events"
    landing.mkdir(parents=True)
    dirs = scenario_dirs()
    write_merged_inputs(dirs, data_dir)
    for period, as_of in runs(dirs):
        land_files(dirs, landing, period)
        bill(period, as_of)
