"""Builders for small, valid loader inputs that each test bends in one place."""

import copy
import csv
import gzip
import json
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from loaders import FileLoadResult, load_landing_files, load_reference_data


class _CatalogDumper(yaml.SafeDumper):
    """Writes Decimal as a plain YAML number, so the file reads like a hand-written one."""


_CatalogDumper.add_representer(
    Decimal, lambda dumper, value: dumper.represent_scalar("tag:yaml.org,2002:float", str(value))
)

BASE_CATALOG: dict[str, Any] = {
    "settings": {"invoice_grace_days": 3, "invoice_prefix": "INV"},
    "meters": [
        {"id": "api_calls", "event_type": "api_call", "aggregation": "count"},
        {
            "id": "storage_gb",
            "name": "Storage",
            "unit": "GB",
            "event_type": "storage",
            "aggregation": "max",
            "field": "properties.gb",
            "filters": {"region": "eu", "tier": 2},
        },
        {
            "id": "payments",
            "event_type": "payment",
            "aggregation": "sum",
            "field": "properties.amount",
        },
    ],
    "plans": [
        {
            "id": "growth",
            "version": 1,
            "effective_from": "2026-01-01",
            "currency": "USD",
            "base_fee": Decimal("499.00"),
            "seat_fee": Decimal("20.00"),
            "included_seats": 5,
            "trial_days": 14,
            "minimum_commitment": Decimal("1000.00"),
            "charges": [
                {
                    "meter": "api_calls",
                    "model": "graduated",
                    "tiers": [
                        {"up_to": 100000, "unit_price": 0},
                        {"up_to": None, "unit_price": Decimal("0.001"), "flat_fee": 5},
                    ],
                },
                {"meter": "payments", "model": "percentage", "rate": Decimal("0.029")},
            ],
        },
        {
            "id": "growth",
            "version": 2,
            "effective_from": "2026-09-01",
            "currency": "USD",
            "base_fee": Decimal("549.00"),
            "charges": [
                {
                    "meter": "api_calls",
                    "model": "package",
                    "package_size": 1000,
                    "package_price": Decimal("5.00"),
                },
                {
                    "meter": "storage_gb",
                    "model": "volume",
                    "tiers": [
                        {"up_to": 10, "unit_price": Decimal("0.50")},
                        {"up_to": None, "unit_price": Decimal("0.25")},
                    ],
                },
            ],
        },
        {
            "id": "euro",
            "version": 1,
            "effective_from": "2026-01-01",
            "currency": "EUR",
            "charges": [{"meter": "api_calls", "model": "per_unit", "unit_price": Decimal("0.1")}],
        },
    ],
    "overrides": [
        {
            "customer_id": "acme",
            "plan_id": "growth",
            "base_fee": Decimal("399.00"),
            "charges": [
                {"meter": "api_calls", "model": "per_unit", "unit_price": Decimal("0.0008")}
            ],
        }
    ],
}

CUSTOMERS_HEADER = ["customer_id", "name", "email", "currency", "tax_rate", "country", "segment"]
CUSTOMERS = [
    ["acme", "Acme Corp", "billing@acme.test", "USD", "0.0825", "US", "enterprise"],
    ["globex", "Globex", "ap@globex.test", "USD", "0", "US", "smb"],
    ["initech", "Initech", "ap@initech.test", "EUR", "0.19", "DE", "smb"],
]
SUBSCRIPTIONS_HEADER = [
    "subscription_id",
    "customer_id",
    "plan_id",
    "started_at",
    "ended_at",
    "seats",
]
SUBSCRIPTIONS = [
    ["s1", "acme", "growth", "2026-01-01T00:00:00Z", "2026-06-01T00:00:00Z", "3"],
    ["s2", "acme", "growth", "2026-06-01T00:00:00Z", "", "5"],
    ["s3", "globex", "growth", "2026-03-15T02:00:00+02:00", "", "1"],
    ["s4", "initech", "euro", "2026-01-01", "", "0"],
]
EVENT_FIELDS = ["event_id", "customer_id", "event_type", "timestamp", "quantity", "properties"]


class LoaderInputs:
    """Writes inputs into one data directory; a test changes only what it is about."""

    customers_header = CUSTOMERS_HEADER
    base_customers = CUSTOMERS

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir

    @staticmethod
    def base_catalog() -> dict[str, Any]:
        """A deep copy of the valid catalog, for a test to break in one place."""
        return copy.deepcopy(BASE_CATALOG)

    @staticmethod
    def event(event_id: str, **fields: Any) -> dict[str, Any]:
        """A valid api_call of acme (subscribed since 2026-01-01); keywords replace fields."""
        return {
            "event_id": event_id,
            "customer_id": "acme",
            "event_type": "api_call",
            "timestamp": "2026-09-10T12:00:00Z",
            "quantity": 1,
            "properties": {"endpoint": "/v1/things"},
        } | fields

    def catalog(self, catalog: dict[str, Any]) -> Path:
        path = self.data_dir / "catalog.yml"
        path.write_text(yaml.dump(catalog, Dumper=_CatalogDumper, sort_keys=False))
        return path

    def csv(self, name: str, header: Sequence[str], rows: Sequence[Sequence[str]]) -> Path:
        path = self.data_dir / name
        with path.open("w", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(header)
            writer.writerows(rows)
        return path

    def customers(self, *extra_rows: Sequence[str]) -> Path:
        """The valid customers plus `extra_rows`."""
        return self.csv("customers.csv", CUSTOMERS_HEADER, [*CUSTOMERS, *extra_rows])

    def subscriptions(
        self, *extra_rows: Sequence[str], changes: Sequence[tuple[int, str, str]] = ()
    ) -> Path:
        """The valid subscriptions with `(row index, column, value)` changes, plus `extra_rows`."""
        rows = [list(row) for row in SUBSCRIPTIONS]
        for index, column, value in changes:
            rows[index][SUBSCRIPTIONS_HEADER.index(column)] = value
        return self.csv("subscriptions.csv", SUBSCRIPTIONS_HEADER, [*rows, *extra_rows])

    def landing_path(self, name: str) -> Path:
        folder = self.data_dir / "landing" / "events"
        folder.mkdir(parents=True, exist_ok=True)
        return folder / name

    def jsonl(self, name: str, lines: Sequence[dict[str, Any] | str]) -> Path:
        """Events as JSON lines (gzipped for a .gz name); a str is written verbatim."""
        text = "".join(
            (line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines
        )
        path = self.landing_path(name)
        path.write_bytes(gzip.compress(text.encode()) if name.endswith(".gz") else text.encode())
        return path

    def events_csv(self, name: str, lines: Sequence[dict[str, Any] | str]) -> Path:
        """Events as CSV rows under the standard header; a str is written verbatim."""
        path = self.landing_path(name)
        with path.open("w", newline="") as handle:
            handle.write(",".join(EVENT_FIELDS) + "\n")
            writer = csv.writer(handle, lineterminator="\n")
            for line in lines:
                if isinstance(line, str):
                    handle.write(line + "\n")
                    continue
                properties = line.get("properties")
                writer.writerow(
                    [line.get(field, "") for field in EVENT_FIELDS[:-1]]
                    + ["" if properties is None else json.dumps(properties)]
                )
        return path


def valid_inputs(data_dir: Path) -> LoaderInputs:
    """A data directory with a valid catalog, customers and subscriptions."""
    builder = LoaderInputs(data_dir)
    builder.catalog(builder.base_catalog())
    builder.customers()
    builder.subscriptions()
    return builder


@pytest.fixture
def inputs(tmp_path: Path) -> LoaderInputs:
    return valid_inputs(tmp_path)


@pytest.fixture(scope="module")
def module_inputs(tmp_path_factory: pytest.TempPathFactory) -> LoaderInputs:
    """Valid inputs shared by a module's tests that only read one load's results."""
    return valid_inputs(tmp_path_factory.mktemp("inputs"))


@pytest.fixture
def conn() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    yield connection
    connection.close()


@pytest.fixture
def loaded(inputs: LoaderInputs, conn: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """A connection whose reference tables hold the valid data directory."""
    load_reference_data(conn, inputs.data_dir)
    return conn


AS_OF = datetime(2026, 10, 1)


@pytest.fixture
def load_events(
    inputs: LoaderInputs, loaded: duckdb.DuckDBPyConnection
) -> Callable[..., list[FileLoadResult]]:
    """Load the landing folder (as-of 2026-10-01 by default) and check nothing was dropped."""

    def run(as_of: datetime = AS_OF) -> list[FileLoadResult]:
        results = load_landing_files(loaded, inputs.data_dir, as_of)
        manifest = loaded.execute(
            "select file_name, row_count, loaded_count + duplicate_count + quarantined_count "
            "from raw.landed_files"
        ).fetchall()
        for file_name, row_count, accounted in manifest:
            assert row_count == accounted, file_name
        return results

    return run
