"""Read and validate billing inputs and write DuckDB's raw tables (no Dagster here)."""

from loaders.catalog import load_catalog
from loaders.currencies import CURRENCY_MINOR_UNITS
from loaders.errors import InputError
from loaders.events import FileLoadResult, load_landing_files
from loaders.reference_data import load_reference_files
from loaders.warehouse import ReferenceSummary, load_reference_data

__all__ = [
    "CURRENCY_MINOR_UNITS",
    "FileLoadResult",
    "InputError",
    "ReferenceSummary",
    "load_catalog",
    "load_landing_files",
    "load_reference_data",
    "load_reference_files",
]
