"""Read a small reference CSV into rows whose typed getters fail with a precise message.

Messages read `customers.csv: line 4: tax_rate: must be ...`, where the line
number counts the header as line 1 (so it is the line an editor shows, as
long as no value spans several lines). Values are stripped of surrounding
spaces; an empty value is a missing value.
"""

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import NoReturn

from loaders.errors import InputError
from loaders.exact import decimal_problem


@dataclass(frozen=True)
class CsvRow:
    """One data row of a reference file, with its file name and line for errors."""

    file: str
    line: int
    values: dict[str, str]

    def fail(self, column: str, rule: str) -> NoReturn:
        raise InputError(f"{self.file}: line {self.line}: {column}: {rule}")

    def optional_text(self, column: str) -> str | None:
        return self.values.get(column) or None

    def text(self, column: str) -> str:
        value = self.optional_text(column)
        if value is None:
            self.fail(column, "a value is required")
        return value

    def decimal(self, column: str) -> Decimal:
        """An exact decimal that fits DECIMAL(38, 12), parsed from its text (never via float)."""
        text = self.text(column)
        try:
            value = Decimal(text)
        except InvalidOperation:
            self.fail(column, f"must be a decimal number, got {text!r}")
        problem = decimal_problem(value)
        if problem:
            self.fail(column, problem)
        return value

    def optional_integer(self, column: str) -> int | None:
        text = self.optional_text(column)
        if text is None:
            return None
        try:
            return int(text)
        except ValueError:
            self.fail(column, f"must be a whole number, got {text!r}")

    def integer(self, column: str) -> int:
        value = self.optional_integer(column)
        if value is None:
            self.fail(column, "a value is required")
        return value

    def optional_timestamp(self, column: str) -> datetime | None:
        """An ISO 8601 timestamp as naive UTC: naive input is UTC, offsets are converted."""
        text = self.optional_text(column)
        if text is None:
            return None
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            self.fail(column, f"must be an ISO 8601 timestamp, got {text!r}")
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value

    def timestamp(self, column: str) -> datetime:
        value = self.optional_timestamp(column)
        if value is None:
            self.fail(column, "a value is required")
        return value


def read_csv_rows(
    path: Path, required: Sequence[str], optional: Sequence[str] = (), *, missing_ok: bool = False
) -> list[CsvRow]:
    """Rows of `path`, after checking its header; an absent optional file has no rows."""
    file = path.name
    if not path.exists():
        if missing_ok:
            return []
        raise InputError(f"{file}: file not found at {path}")
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            lines = list(csv.reader(handle))
    except UnicodeDecodeError as error:
        raise InputError(f"{file}: is not UTF-8 text ({error.reason})") from None
    except csv.Error as error:
        raise InputError(f"{file}: cannot be read as CSV: {error}") from None
    if not lines:
        raise InputError(f"{file}: line 1: the header is missing")
    header = [name.strip() for name in lines[0]]
    _check_header(file, header, required, optional)
    rows = []
    for line, fields in enumerate(lines[1:], 2):
        if not any(field.strip() for field in fields):
            continue
        if len(fields) != len(header):
            raise InputError(
                f"{file}: line {line}: has {len(fields)} fields, the header has {len(header)}"
            )
        values = {name: field.strip() for name, field in zip(header, fields, strict=True)}
        rows.append(CsvRow(file=file, line=line, values=values))
    return rows


def _check_header(
    file: str, header: list[str], required: Sequence[str], optional: Sequence[str]
) -> None:
    missing = [name for name in required if name not in header]
    if missing:
        raise InputError(f"{file}: line 1: missing column(s) {', '.join(missing)}")
    unknown = [name for name in header if name not in required and name not in optional]
    if unknown:
        raise InputError(
            f"{file}: line 1: unknown column(s) {', '.join(unknown)}; "
            f"allowed: {', '.join([*required, *optional])}"
        )
    duplicated = sorted({name for name in header if header.count(name) > 1})
    if duplicated:
        raise InputError(f"{file}: line 1: duplicate column(s) {', '.join(duplicated)}")
