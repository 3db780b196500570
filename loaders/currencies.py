"""Currencies the pipeline bills in, with their minor units and display symbols.

The one table is dbt's seed `dbt_project/seeds/currencies.csv`: dbt rounds with
it, and validation, invoice display and payment providers' "amount in minor
units" read it from here, so the SQL and the Python can never disagree.
"""

import csv
from pathlib import Path

CURRENCIES_CSV = Path(__file__).resolve().parent.parent / "dbt_project" / "seeds" / "currencies.csv"


def _read_currencies() -> list[dict[str, str]]:
    with CURRENCIES_CSV.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


_ROWS = _read_currencies()

CURRENCY_MINOR_UNITS: dict[str, int] = {row["currency"]: int(row["minor_units"]) for row in _ROWS}
CURRENCY_SYMBOLS: dict[str, str] = {row["currency"]: row["symbol"] for row in _ROWS}
