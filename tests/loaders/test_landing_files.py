"""Landing files: formats, line numbers, exactly-once tracking and all-or-nothing loads."""

import gzip
import json
import os
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import duckdb
import pytest

from loaders import InputError, load_landing_files
from loaders import events as events_loader


def quarantined(conn):
    return conn.execute(
        "select source_file, source_line, reason, detail, raw_payload "
        "from raw.quarantined_events order by source_file, source_line"
    ).fetchall()


def loaded_events(conn):
    return conn.execute(
        "select event_id, source_file, source_line, event_timestamp, quantity, properties "
        "from raw.usage_events order by source_file, source_line"
    ).fetchall()


def manifest(conn):
    return conn.execute(
        "select file_name, row_count, loaded_count, duplicate_count, quarantined_count "
        "from raw.landed_files order by loaded_at, file_name"
    ).fetchall()


def test_gzipped_jsonl(inputs, load_events, loaded):
    inputs.jsonl("events.jsonl.gz", [inputs.event("e1"), "oops"])

    load_events()

    assert [row[:3] for row in loaded_events(loaded)] == [("e1", "events.jsonl.gz", 1)]
    assert [row[:3] for row in quarantined(loaded)] == [("events.jsonl.gz", 2, "malformed_row")]


def test_csv_rows_with_quoting_and_a_malformed_line(inputs, load_events, loaded):
    inputs.events_csv(
        "events.csv",
        [
            inputs.event("e1", properties={"note": 'a, "quoted" value'}),
            'e2,acme,api_call,2026-09-10T12:00:00Z,1,"{""unterminated": 1}',
            inputs.event("e3", quantity=None, properties=None),
            "e4,acme,api_call,2026-09-10T12:00:00Z",
        ],
    )

    (result,) = load_events()

    assert (result.row_count, result.loaded_count, result.quarantined_count) == (4, 2, 2)
    e1, e3 = loaded_events(loaded)
    assert e1[:3] == ("e1", "events.csv", 2)
    assert e1[5] == '{"note":"a, \\"quoted\\" value"}'
    assert (e3[:3], e3[4], e3[5]) == (("e3", "events.csv", 4), Decimal(1), "{}")
    assert quarantined(loaded) == [
        (
            "events.csv",
            3,
            "malformed_row",
            "line is not a CSV row of 6 fields",
            'e2,acme,api_call,2026-09-10T12:00:00Z,1,"{""unterminated": 1}',
        ),
        (
            "events.csv",
            5,
            "malformed_row",
            "line is not a CSV row of 6 fields",
            "e4,acme,api_call,2026-09-10T12:00:00Z",
        ),
    ]


def test_csv_with_columns_in_any_order_and_optional_ones_absent(inputs, load_events, loaded):
    path = inputs.landing_path("events.csv.gz")
    text = "timestamp,event_type,customer_id,event_id\n2026-09-10T12:00:00Z,api_call,acme,e1\n"
    path.write_bytes(gzip.compress(text.encode()))

    load_events()

    assert loaded_events(loaded) == [
        ("e1", "events.csv.gz", 2, datetime(2026, 9, 10, 12), Decimal(1), "{}")
    ]


def test_csv_raw_payload_is_a_json_rendering_of_the_row(inputs, load_events, loaded):
    inputs.events_csv("events.csv", [inputs.event("e1", customer_id="hooli", quantity=None)])

    load_events()

    ((*_, raw_payload),) = quarantined(loaded)
    assert raw_payload == (
        '{"event_id":"e1","customer_id":"hooli","event_type":"api_call",'
        '"timestamp":"2026-09-10T12:00:00Z","quantity":null,'
        '"properties":"{\\"endpoint\\": \\"/v1/things\\"}"}'
    )


def test_csv_header_without_a_required_column(inputs, load_events):
    inputs.landing_path("events.csv").write_text("event_id,customer_id,timestamp\ne1,acme,2026\n")

    with pytest.raises(InputError, match="events.csv: line 1: header lacks column.s. event_type"):
        load_events()


def write_parquet(conn, path, select):
    conn.execute(f"copy ({select}) to '{path}' (format parquet)")


def test_parquet_with_struct_text_and_missing_properties(inputs, load_events, loaded):
    write_parquet(
        loaded,
        inputs.landing_path("a.parquet"),
        "select 'p1' as event_id, 'acme' as customer_id, 'api_call' as event_type, "
        "timestamptz '2026-09-10 12:00:00+02' as timestamp, 2.5::decimal(10, 2) as quantity, "
        "{'plan': 'pro', 'n': 2} as properties "
        "union all select 'p2', 'acme', 'api_call', timestamptz '2026-09-10 13:00:00+00', "
        "-1, {'plan': 'x', 'n': 1}",
    )
    write_parquet(
        loaded,
        inputs.landing_path("b.parquet"),
        "select 'p3' as event_id, 'acme' as customer_id, 'api_call' as event_type, "
        "timestamp '2026-09-10 12:00:00' as timestamp, '{\"z\": 1}' as properties",
    )
    write_parquet(
        loaded,
        inputs.landing_path("c.parquet"),
        "select 7 as event_id, 'acme' as customer_id, 'api_call' as event_type, "
        "'2026-09-10T12:00:00Z' as timestamp",
    )

    load_events()

    assert loaded_events(loaded) == [
        ("p1", "a.parquet", 1, datetime(2026, 9, 10, 10), Decimal("2.5"), '{"n":2,"plan":"pro"}'),
        ("p3", "b.parquet", 1, datetime(2026, 9, 10, 12), Decimal(1), '{"z":1}'),
        ("7", "c.parquet", 1, datetime(2026, 9, 10, 12), Decimal(1), "{}"),
    ]
    ((source_file, line, reason, _, raw_payload),) = quarantined(loaded)
    assert (source_file, line, reason) == ("a.parquet", 2, "invalid_quantity")
    assert raw_payload.startswith('{"event_id":"p2","customer_id":"acme"')


def test_unreadable_line_is_quarantined_with_its_number(inputs, load_events, loaded):
    good = inputs.event("e1")
    path = inputs.landing_path("events.jsonl")
    lines = [b'{"event_id": "bad", "note": "\xff"}', json.dumps(good).encode()]
    path.write_bytes(b"\n".join(lines) + b"\n")

    load_events()

    ((source_file, line, reason, detail, _),) = quarantined(loaded)
    assert (source_file, line, reason) == ("events.jsonl", 1, "malformed_row")
    assert detail.startswith("line cannot be read: Invalid unicode")
    assert [row[:3] for row in loaded_events(loaded)] == [("e1", "events.jsonl", 2)]


def test_blank_lines_are_not_rows_but_keep_line_numbers(inputs, load_events, loaded):
    path = inputs.landing_path("events.jsonl")
    body = "\r\n".join(["", json.dumps(inputs.event("e1")), "  ", json.dumps(inputs.event("e2"))])
    path.write_bytes((body + "\r\n\r\n").encode())

    (result,) = load_events()

    assert result.row_count == 2
    assert [row[:3] for row in loaded_events(loaded)] == [
        ("e1", "events.jsonl", 2),
        ("e2", "events.jsonl", 4),
    ]


def test_a_file_mixing_line_endings_is_refused(inputs, load_events, loaded):
    path = inputs.landing_path("events.jsonl")
    path.write_bytes(b'{"a": 1}\r\n{"a": 2}\n{"a": 3}\n')

    with pytest.raises(InputError, match="landing/events/events.jsonl: cannot be read"):
        load_events()

    assert manifest(loaded) == []
    assert loaded.execute(
        "select count(*) from duckdb_tables() where table_name like 'landing_%'"
    ).fetchone() == (0,)

    inputs.jsonl("events.jsonl", [inputs.event("e1")])
    (retried,) = load_events()

    assert retried.loaded_count == 1


def test_same_file_twice_is_skipped(inputs, load_events, loaded):
    inputs.jsonl("events.jsonl", [inputs.event("e1"), inputs.event("e1")])

    load_events()
    (again,) = load_events(datetime(2026, 11, 1))

    assert again.skipped
    assert manifest(loaded) == [("events.jsonl", 2, 1, 1, 0)]
    assert len(loaded_events(loaded)) == 1


def test_a_file_loaded_and_unchanged_is_not_read_again(inputs, load_events, monkeypatch):
    inputs.jsonl("events.jsonl", [inputs.event("e1")])
    load_events()

    def read_again(path):
        raise AssertionError(f"{path.name} was read again")

    monkeypatch.setattr(events_loader, "content_hash", read_again)
    (again,) = load_events(datetime(2026, 11, 1))

    assert again.skipped


def test_a_touched_file_is_recognized_by_content_and_its_signature_recorded(
    inputs, load_events, loaded
):
    """Also how a warehouse from before signatures were recorded gets them."""
    path = inputs.jsonl("events.jsonl", [inputs.event("e1")])
    load_events()
    loaded.execute("alter table raw.landed_files drop column file_signature")
    os.utime(path, ns=(1_700_000_000_000_000_000, 1_700_000_000_000_000_000))

    (again,) = load_events(datetime(2026, 11, 1))

    assert again.skipped
    assert loaded.execute("select file_signature from raw.landed_files").fetchall() == [
        (events_loader.file_signature(path),)
    ]


def test_a_rewrite_of_the_same_size_and_modification_time_is_loaded_again(
    inputs, load_events, loaded
):
    """The change time tells it: writing sets it, and no tool sets it back."""
    path = inputs.jsonl("events.jsonl", [inputs.event("e1", quantity=1)])
    load_events()
    before = path.stat()
    inputs.jsonl("events.jsonl", [inputs.event("e1", quantity=2)])
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_size == before.st_size

    (again,) = load_events(datetime(2026, 11, 1))

    assert not again.skipped
    assert [row[2] for row in quarantined(loaded)] == ["conflict"]


def test_same_name_with_new_content_is_loaded_again_and_dedups(inputs, load_events, loaded):
    inputs.jsonl("events.jsonl", [inputs.event("e1"), inputs.event("e2")])
    load_events()
    inputs.jsonl(
        "events.jsonl",
        [inputs.event("e1"), inputs.event("e2", quantity=5), inputs.event("e3")],
    )

    (result,) = load_events(datetime(2026, 10, 2))

    assert not result.skipped
    assert manifest(loaded) == [("events.jsonl", 2, 2, 0, 0), ("events.jsonl", 3, 1, 1, 1)]
    assert [row[0] for row in loaded_events(loaded)] == ["e1", "e2", "e3"]
    assert [row[2] for row in quarantined(loaded)] == ["conflict"]


def test_a_fault_mid_load_leaves_nothing_of_the_file(inputs, loaded):
    """A real database fault after usage_events got rows: the insert into quarantined_events
    breaks a constraint, so the whole file must roll back, manifest row included."""
    loaded.execute(
        "create table raw.quarantined_events (source_file varchar not null, "
        "source_line bigint not null, reason varchar not null check (reason <> 'conflict'), "
        "detail varchar not null, event_id varchar, raw_payload varchar not null, "
        "quarantined_at timestamp not null)"
    )
    inputs.jsonl("a.jsonl", [inputs.event("a1")])
    inputs.jsonl("b.jsonl", [inputs.event("b1"), inputs.event("b1", quantity=2)])

    with pytest.raises(duckdb.ConstraintException):
        load_landing_files(loaded, inputs.data_dir, datetime(2026, 10, 1))

    assert [row[0] for row in loaded_events(loaded)] == ["a1"]
    assert manifest(loaded) == [("a.jsonl", 1, 1, 0, 0)]
    assert loaded.execute("select count(*) from raw.duplicate_events").fetchone() == (0,)
    assert loaded.execute(
        "select count(*) from duckdb_tables() where table_name like 'landing_%'"
    ).fetchone() == (0,)

    loaded.execute("alter table raw.quarantined_events rename to broken")
    (skipped, retried) = load_landing_files(loaded, inputs.data_dir, datetime(2026, 10, 1))

    assert (skipped.skipped, retried.loaded_count, retried.quarantined_count) == (True, 1, 1)


def test_as_of_with_an_offset_is_converted_to_utc(inputs, load_events, loaded):
    inputs.jsonl("events.jsonl", [inputs.event("e1", timestamp="2026-10-01T00:05:01Z")])

    load_events(datetime(2026, 10, 1, 2, 0, 1, tzinfo=timezone(timedelta(hours=2))))

    assert loaded_events(loaded)[0][0] == "e1"
    assert loaded.execute("select loaded_at from raw.landed_files").fetchone() == (
        datetime(2026, 10, 1, 0, 0, 1),
    )


def test_unsupported_file_is_refused_before_anything_loads(inputs, load_events, loaded):
    load_events()  # creates the event tables
    inputs.jsonl("a.jsonl", [inputs.event("e1")])
    inputs.landing_path("b.json").write_text("{}")

    with pytest.raises(InputError, match="landing/events/b.json: unsupported file type"):
        load_events()

    assert loaded.execute("select count(*) from raw.landed_files").fetchone() == (0,)


def test_hidden_files_and_empty_files(inputs, load_events, loaded):
    inputs.landing_path(".upload.tmp").write_text("partial")
    inputs.landing_path("empty.csv").write_text("")
    inputs.landing_path("empty.jsonl").write_text("")

    results = load_events()

    assert [(r.file_name, r.row_count) for r in results] == [("empty.csv", 0), ("empty.jsonl", 0)]


def test_no_landing_folder_means_nothing_to_load(loaded, inputs):
    assert load_landing_files(loaded, inputs.data_dir, datetime.now(UTC)) == []


def test_a_line_that_starts_with_spaces_is_a_row(inputs, load_events, loaded):
    path = inputs.landing_path("events.jsonl")
    path.write_text("   " + json.dumps(inputs.event("e1")) + "\n \n")

    (result,) = load_events()

    assert result.row_count == 1
    assert [row[:3] for row in loaded_events(loaded)] == [("e1", "events.jsonl", 1)]


def test_a_warehouse_from_before_value_comparison_loses_its_payload_hash(inputs, loaded):
    loaded.execute(
        "create table raw.usage_events (event_id varchar not null, customer_id varchar not null, "
        "event_type varchar not null, event_timestamp timestamp not null, "
        "quantity decimal(38, 12) not null, properties varchar not null, "
        "payload_hash varchar not null, source_file varchar not null, "
        "source_line bigint not null, loaded_at timestamp not null)"
    )
    inputs.jsonl("events.jsonl", [inputs.event("e1")])

    (result,) = load_landing_files(loaded, inputs.data_dir, datetime(2026, 10, 1))

    assert result.loaded_count == 1
    columns = [row[0] for row in loaded.execute("describe raw.usage_events").fetchall()]
    assert "payload_hash" not in columns


def test_each_file_loaded_is_a_new_load_id_even_with_an_earlier_as_of(inputs, load_events, loaded):
    inputs.jsonl("a.jsonl", [inputs.event("e1")])
    inputs.jsonl("b.jsonl", [inputs.event("e2")])
    load_events()
    inputs.jsonl("c.jsonl", [inputs.event("e3"), inputs.event("e1")])
    inputs.jsonl("a.jsonl", [inputs.event("e1"), inputs.event("e4")])

    load_events(as_of=datetime(2026, 9, 30))

    assert loaded.execute(
        "select file_name, load_id from raw.landed_files order by load_id"
    ).fetchall() == [("a.jsonl", 1), ("b.jsonl", 2), ("a.jsonl", 3), ("c.jsonl", 4)]
    assert loaded.execute(
        "select event_id, load_id from raw.usage_events order by event_id"
    ).fetchall() == [("e1", 1), ("e2", 2), ("e3", 4), ("e4", 3)]


def test_a_warehouse_from_before_load_ids_gets_load_0_for_what_it_holds(inputs, loaded):
    loaded.execute(
        "create table raw.usage_events (event_id varchar not null, customer_id varchar not null, "
        "event_type varchar not null, event_timestamp timestamp not null, "
        "quantity decimal(38, 12) not null, properties varchar not null, "
        "source_file varchar not null, source_line bigint not null, "
        "loaded_at timestamp not null)"
    )
    loaded.execute(
        "insert into raw.usage_events values ('e0', 'acme', 'api_call', "
        "timestamp '2026-09-10 12:00:00', 1, '{}', 'old.jsonl', 1, timestamp '2026-09-11')"
    )
    inputs.jsonl("events.jsonl", [inputs.event("e1")])

    load_landing_files(loaded, inputs.data_dir, datetime(2026, 10, 1))

    assert loaded.execute(
        "select event_id, load_id from raw.usage_events order by event_id"
    ).fetchall() == [("e0", 0), ("e1", 1)]
    nullable = loaded.execute(
        "select is_nullable from information_schema.columns "
        "where table_schema = 'raw' and column_name = 'load_id'"
    ).fetchall()
    assert nullable == [("NO",), ("NO",)]
