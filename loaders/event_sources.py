"""Stage one landing file as rows of text, whatever its format, inside DuckDB.

Every format ends in `landing_rows` (a temp table, or for parquet a temp view
over the file), one row per input row:

    source_line   JSONL/CSV: the physical line (a CSV header is line 1);
                  parquet: the 1-based row number
    original      what `landing_payload(original)`, a temp macro each format
                  defines, renders as the row's raw payload: the original line
                  (JSONL, unparseable CSV lines) or a JSON rendering of the row
                  (CSV, parquet). Parquet renders it only for the rows that are
                  quarantined, not for every row.
    malformed     why the row cannot be read at all, else NULL
    event_id, customer_id, event_type, event_time, quantity, properties
                  the fields as text; NULL when absent, JSON null or empty

No Python loop touches an event: Python only reads a CSV header line and a
parquet schema. Blank lines are not rows. Text files are split into lines by
DuckDB's CSV reader with a delimiter no text contains, so a line it cannot
decode (bad UTF-8) is recorded through `store_rejects` with its line number
and becomes a malformed row instead of failing the file. Lines are LF or
CRLF; a file mixing both cannot be split and raises `InputError`. Every temp
object a stager creates is named `landing_*` and dropped with the file.

Known limit: DuckDB parses JSON numbers as doubles, so a JSON number keeps at
most 15 significant digits; send longer quantities as JSON strings ("…").
"""

import csv
import gzip
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from loaders.errors import InputError
from loaders.event_sql import json_kind

REQUIRED_FIELDS = ("event_id", "customer_id", "event_type", "timestamp")
# Four control characters in a row: never part of a real line, so every line is one field.
LINE_DELIMITER = "\x1e\x1f\x1d\x1c"
REJECTS_TABLE = "landing_reject_errors"
REJECTS_SCAN = "landing_reject_scans"
# One RFC 4180 field that stays on its line: quoted (with "" escapes) or bare.
CSV_FIELD = r'("(?:[^"]|"")*"|[^,"]*)'
# A line with more than spaces (DuckDB's trim removes only spaces); trim, slow
# on long lines, only runs on lines that start with one.
NON_BLANK = "(raw <> '' and (not starts_with(raw, ' ') or trim(raw) <> ''))"


def source_label(path: Path) -> str:
    """How messages name a landing file: relative to the data directory."""
    return f"landing/events/{path.name}"


def sql_literal(text: str) -> str:
    """`text` as an SQL string literal, for statements DuckDB takes no parameters in
    (ATTACH, COPY, table functions' arguments, SET)."""
    return "'" + text.replace("'", "''") + "'"


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _empty_to_null(expression: str) -> str:
    return f"nullif({expression}, '')"


@contextmanager
def duckdb_setting(conn: duckdb.DuckDBPyConnection, name: str, value: str) -> Iterator[None]:
    """`SET name = value` for a block, then the connection's own value again."""
    (previous,) = conn.execute("select current_setting(?)", [name]).fetchone()
    conn.execute(f"set {name} = {value}")
    try:
        yield
    finally:
        conn.execute(f"set {name} = {sql_literal(str(previous))}")


def _payload_macro(conn: duckdb.DuckDBPyConnection, body: str) -> None:
    conn.execute(f"create or replace temp macro landing_payload(original) as {body}")


def _stage_lines(conn: duckdb.DuckDBPyConnection, path: Path) -> None:
    """`landing_lines(source_line, raw, rejected)`: every non-blank line with its number.

    DuckDB reports rejected lines by number but numbers only the lines it
    read; the readable lines fill the numbers the rejected ones leave free.
    Without rejected lines (the usual case) a line's number is its ordinal.
    Numbering by `row_number() over ()` needs the reader's order kept.
    """
    for table in (REJECTS_TABLE, REJECTS_SCAN):
        conn.execute(f"drop table if exists {table}")
    with duckdb_setting(conn, "preserve_insertion_order", "true"):
        conn.execute(
            f"""
            create or replace temp table landing_good_lines as
            select row_number() over () as ordinal, raw
            from read_csv({sql_literal(str(path))}, columns = {{'raw': 'VARCHAR'}}, header = false,
                          delim = {sql_literal(LINE_DELIMITER)}, quote = '', escape = '',
                          auto_detect = false, store_rejects = true,
                          rejects_table = {sql_literal(REJECTS_TABLE)},
                          rejects_scan = {sql_literal(REJECTS_SCAN)})
            """
        )
    (rejected_lines,) = conn.execute(f"select count(*) from {REJECTS_TABLE}").fetchone()
    if not rejected_lines:
        conn.execute(
            f"""
            create or replace temp view landing_lines as
            select ordinal as source_line, raw, null::varchar as rejected
            from landing_good_lines
            where {NON_BLANK}
            """
        )
    else:
        conn.execute(
            f"""
            create or replace temp table landing_lines as
            with rejected as (
                select line as source_line,
                       trim(first(csv_line order by column_idx), chr(10) || chr(13)) as raw,
                       first(error_message order by column_idx) as error
                from {REJECTS_TABLE}
                group by line
            ),
            free_numbers as (
                select n as source_line, row_number() over (order by n) as ordinal
                from range(1, (select count(*) from landing_good_lines)
                              + (select count(*) from rejected) + 1) as numbers(n)
                where n not in (select source_line from rejected)
            )
            select free_numbers.source_line, good.raw, null::varchar as rejected
            from landing_good_lines as good
            join free_numbers using (ordinal)
            where {NON_BLANK}
            union all
            select source_line, raw, 'line cannot be read: ' || error from rejected
            """
        )
    for table in (REJECTS_TABLE, REJECTS_SCAN):
        conn.execute(f"drop table {table}")


def _drop_lines(conn: duckdb.DuckDBPyConnection) -> None:
    """Free the lines once `landing_rows` holds them (a big file's lines are gigabytes)."""
    kind = conn.execute(
        "select table_type from information_schema.tables where table_name = 'landing_lines'"
    ).fetchone()[0]
    conn.execute(f"drop {'view' if kind == 'VIEW' else 'table'} landing_lines")
    conn.execute("drop table landing_good_lines")


# One parse per line extracts every field: the text of a scalar (as
# `json_extract_string` gives it) and `properties` as JSON (NULL for JSON null).
JSONL_TYPES = {
    "event_id": "VARCHAR",
    "customer_id": "VARCHAR",
    "event_type": "VARCHAR",
    "timestamp": "VARCHAR",
    "quantity": "VARCHAR",
    "properties": "JSON",
}
JSONL_FIELDS = json.dumps(JSONL_TYPES)
# The keys of a line with every field in SPEC's order, as one serializer writes
# them line after line: such a line repeats no key, which one comparison tells.
# Counting the distinct keys of every line took 2 of a JSONL file's 4.9 s of
# staging at 5M lines; only lines with other keys are counted.
CONTRACT_KEYS = "[" + ", ".join(sql_literal(key) for key in JSONL_TYPES) + "]"


def stage_jsonl(conn: duckdb.DuckDBPyConnection, path: Path) -> None:
    """One JSON object per line."""
    _stage_lines(conn, path)
    conn.execute(
        f"""
        create or replace temp table landing_rows as
        with kinds as (
            select source_line, raw, rejected,
                   case when rejected is null and json_valid(raw) then json_type(raw) end as kind
            from landing_lines
        ),
        keyed as (
            select *, case when kind = 'OBJECT' then json_keys(raw) end as keys from kinds
        ),
        checked as (
            select source_line, raw,
                   case
                       when rejected is not null then rejected
                       when kind is null then 'line is not valid JSON'
                       when kind <> 'OBJECT'
                           then 'line is ' || {json_kind("raw")} || ', not a JSON object'
                       when keys <> {CONTRACT_KEYS} and len(keys) <> list_unique(keys)
                           then 'line repeats a key'
                   end as malformed
            from keyed
        ),
        extracted as (
            select source_line, raw, malformed,
                   case when malformed is null
                        then json_transform(raw, {sql_literal(JSONL_FIELDS)}) end as fields
            from checked
        )
        select source_line, raw as original, malformed,
               {_empty_to_null("fields.event_id")} as event_id,
               {_empty_to_null("fields.customer_id")} as customer_id,
               {_empty_to_null("fields.event_type")} as event_type,
               {_empty_to_null("fields.timestamp")} as event_time,
               {_empty_to_null("fields.quantity")} as quantity,
               fields.properties::varchar as properties
        from extracted
        """
    )
    _drop_lines(conn)
    _payload_macro(conn, "original")


def _csv_header(path: Path) -> list[str] | None:
    """The header's column names, or None for an empty file."""
    opener = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8-sig", newline="") as handle:
            line = handle.readline()
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"{source_label(path)}: line 1: cannot read the header: {error}") from None
    if not line:
        return None
    header = next(csv.reader([line]), [])
    missing = [name for name in REQUIRED_FIELDS if name not in header]
    if missing:
        raise InputError(
            f"{source_label(path)}: line 1: header lacks column(s) {', '.join(missing)}"
        )
    if len(set(header)) != len(header):
        raise InputError(f"{source_label(path)}: line 1: header repeats a column")
    return header


def stage_csv(conn: duckdb.DuckDBPyConnection, path: Path) -> None:
    """A header line, then one event per line (quoted fields may not span lines)."""
    header = _csv_header(path)
    if header is None:
        _stage_empty(conn)
        return
    _stage_lines(conn, path)
    pattern = sql_literal("^" + ",".join([CSV_FIELD] * len(header)) + "$")
    names = [f"f{i}" for i in range(len(header))]
    fields = {
        column: _empty_to_null(
            f"case when starts_with(parts.{name}, '\"') "
            f"then replace(parts.{name}[2:-2], '\"\"', '\"') else parts.{name} end"
        )
        for column, name in zip(header, names, strict=True)
    }

    def field(column: str) -> str:
        return fields.get(column, "null::varchar")

    rendering = ", ".join(f"{sql_literal(column)}, {fields[column]}" for column in header)
    conn.execute(
        f"""
        create or replace temp table landing_rows as
        with split as (
            select source_line, raw, rejected,
                   regexp_full_match(raw, {pattern}) as ok,
                   regexp_extract(raw, {pattern}, {names}) as parts
            from landing_lines
            where source_line > 1
        ),
        parsed as (
            select source_line, raw,
                   case
                       when rejected is not null then rejected
                       when not ok then 'line is not a CSV row of {len(header)} fields'
                   end as malformed,
                   {field("event_id")} as event_id,
                   {field("customer_id")} as customer_id,
                   {field("event_type")} as event_type,
                   {field("timestamp")} as event_time,
                   {field("quantity")} as quantity,
                   {field("properties")} as properties,
                   json_object({rendering})::varchar as rendering
            from split
        )
        select source_line,
               case when malformed is null then rendering else raw end as original,
               malformed,
               case when malformed is null then event_id end as event_id,
               case when malformed is null then customer_id end as customer_id,
               case when malformed is null then event_type end as event_type,
               case when malformed is null then event_time end as event_time,
               case when malformed is null then quantity end as quantity,
               case when malformed is null then properties end as properties
        from parsed
        """
    )
    _drop_lines(conn)
    _payload_macro(conn, "original")


def stage_parquet(conn: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Typed columns; a non-text `properties` (struct or map) is rendered as JSON."""
    source = f"read_parquet({sql_literal(str(path))}, file_row_number = true)"
    types = dict(
        (name, kind)
        for name, kind, *_ in conn.execute(f"describe select * from {source}").fetchall()
    )
    missing = [name for name in REQUIRED_FIELDS if name not in types]
    if missing:
        raise InputError(f"{source_label(path)}: lacks column(s) {', '.join(missing)}")

    def field(column: str) -> str:
        if column not in types:
            return "null::varchar"
        value = _identifier(column)
        if column == "properties" and types[column] not in ("VARCHAR", "JSON"):
            return f"to_json({value})::varchar"
        return _empty_to_null(f"{value}::varchar")

    columns = [name for name in types if name != "file_row_number"]
    packing = ", ".join(f"{_identifier(c)} := {_identifier(c)}" for c in columns)
    conn.execute(
        f"""
        create or replace temp view landing_rows as
        select file_row_number + 1 as source_line,
               struct_pack({packing}) as original,
               null::varchar as malformed,
               {field("event_id")} as event_id,
               {field("customer_id")} as customer_id,
               {field("event_type")} as event_type,
               {field("timestamp")} as event_time,
               {field("quantity")} as quantity,
               {field("properties")} as properties
        from {source}
        """
    )
    _payload_macro(conn, "to_json(original)::varchar")


def _stage_empty(conn: duckdb.DuckDBPyConnection) -> None:
    conn.execute(
        """
        create or replace temp table landing_rows (
            source_line bigint, original varchar, malformed varchar, event_id varchar,
            customer_id varchar, event_type varchar, event_time varchar, quantity varchar,
            properties varchar
        )
        """
    )
    _payload_macro(conn, "original")


STAGERS = {
    ".jsonl": stage_jsonl,
    ".jsonl.gz": stage_jsonl,
    ".csv": stage_csv,
    ".csv.gz": stage_csv,
    ".parquet": stage_parquet,
}
