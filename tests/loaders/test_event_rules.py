"""Event rows: every quarantine reason, validation order, parsing, dedup and conflicts."""

from datetime import datetime
from decimal import Decimal

import duckdb
import pytest

from loaders import load_landing_files, load_reference_data

GOOD = {"endpoint": "/v1/things"}


def quarantined(conn):
    return conn.execute(
        "select source_file, source_line, reason, detail, event_id "
        "from raw.quarantined_events order by source_file, source_line"
    ).fetchall()


def usage(conn, columns="event_id"):
    return conn.execute(f"select {columns} from raw.usage_events order by event_id").fetchall()


REASONS = {
    "malformed_row": ('{"event_id": "e1", ', "line is not valid JSON"),
    "malformed_row (array)": ('["e1"]', "line is an array, not a JSON object"),
    "missing_field": (
        {"event_id": "e1", "event_type": "api_call"},
        "missing required field(s): customer_id, timestamp",
    ),
    "missing_field (empty)": (
        {
            "event_id": "",
            "customer_id": "acme",
            "event_type": "api_call",
            "timestamp": "2026-09-10",
        },
        "missing required field(s): event_id",
    ),
    "invalid_timestamp": (
        {"timestamp": "10/09/2026 12:00"},
        "timestamp '10/09/2026 12:00' is not an ISO 8601 timestamp",
    ),
    "invalid_timestamp (infinity)": (
        {"timestamp": "infinity"},
        "timestamp 'infinity' is not an ISO 8601 timestamp",
    ),
    "future_timestamp": (
        {"timestamp": "2026-10-01T00:05:01Z"},
        "timestamp 2026-10-01 00:05:01 UTC is more than 5 minutes after as-of "
        "2026-10-01 00:00:00 UTC",
    ),
    "invalid_quantity": ({"quantity": "abc"}, "quantity 'abc' is not a number"),
    "invalid_quantity (negative)": ({"quantity": -2}, "quantity -2 is negative"),
    "invalid_quantity (boolean)": ({"quantity": True}, "quantity 'true' is not a number"),
    "malformed_row (repeated key)": (
        '{"event_id": "e1", "event_id": "e2", "customer_id": "acme"}',
        "line repeats a key",
    ),
    "malformed_row (every field in order, then a repeat)": (
        '{"event_id": "e1", "customer_id": "acme", "event_type": "api_call", '
        '"timestamp": "2026-09-10", "quantity": 1, "properties": {}, "event_id": "e2"}',
        "line repeats a key",
    ),
    "invalid_properties": (
        {"properties": [1, 2]},
        "properties must be a JSON object, got an array",
    ),
    "invalid_properties (text)": (
        {"properties": "x=1"},
        "properties must be a JSON object, got a string",
    ),
    "invalid_properties (repeated key)": (
        '{"event_id": "r", "customer_id": "acme", "event_type": "api_call", '
        '"timestamp": "2026-09-10", "properties": {"a": 1, "a": 2}}',
        "properties repeats a key",
    ),
    "unknown_customer": ({"customer_id": "hooli"}, "customer 'hooli' is not in customers.csv"),
    "unknown_event_type": (
        {"event_type": "sms"},
        "event_type 'sms' is not the event type of any meter",
    ),
    "no_active_subscription": (
        {"customer_id": "globex", "timestamp": "2026-03-14T23:59:59.999999Z"},
        "customer 'globex' has no subscription active at 2026-03-14 23:59:59.999999 UTC",
    ),
}


@pytest.fixture(scope="module")
def one_row_per_reason(module_inputs):
    """One file: a good row, then one row breaking each rule (line 2 onwards), then a good row."""
    bad_rows = [
        row if isinstance(row, str) or "event_id" in row else module_inputs.event(f"e{i}", **row)
        for i, (row, _) in enumerate(REASONS.values())
    ]
    module_inputs.jsonl(
        "events.jsonl", [module_inputs.event("first"), *bad_rows, module_inputs.event("last")]
    )
    conn = duckdb.connect()
    load_reference_data(conn, module_inputs.data_dir)
    (result,) = load_landing_files(conn, module_inputs.data_dir, datetime(2026, 10, 1))
    yield conn, result
    conn.close()


def test_bad_rows_do_not_stop_the_rest_of_the_file(one_row_per_reason):
    conn, result = one_row_per_reason

    assert usage(conn) == [("first",), ("last",)]
    assert (result.row_count, result.quarantined_count) == (len(REASONS) + 2, len(REASONS))


@pytest.mark.parametrize("case", REASONS)
def test_each_reason_is_recorded_with_file_line_and_detail(one_row_per_reason, case):
    conn, _ = one_row_per_reason
    line = 2 + list(REASONS).index(case)

    ((reason, detail),) = conn.execute(
        "select reason, detail from raw.quarantined_events "
        "where source_file = 'events.jsonl' and source_line = ?",
        [line],
    ).fetchall()

    assert reason == case.split(" ")[0]
    assert detail.startswith(REASONS[case][1])


def test_boundaries_that_are_still_billable(inputs, load_events, loaded):
    inputs.jsonl(
        "events.jsonl",
        [
            inputs.event("at-start", customer_id="globex", timestamp="2026-03-15T00:00:00Z"),
            inputs.event("in-tolerance", timestamp="2026-10-01T00:05:00Z"),
            inputs.event("switch", timestamp="2026-06-01T00:00:00Z"),  # s1 ends, s2 starts
            inputs.event("zero", quantity=0),
            inputs.event("no-properties", properties=None),
        ],
    )

    load_events()

    assert quarantined(loaded) == []
    assert len(usage(loaded)) == 5


def test_validation_follows_the_spec_order(inputs, load_events, loaded):
    inputs.jsonl(
        "events.jsonl",
        [
            inputs.event("a", customer_id=None, quantity="x"),
            inputs.event("b", timestamp="soon", customer_id="hooli"),
            inputs.event("c", quantity=-1, event_type="sms"),
            inputs.event("d", customer_id="hooli", event_type="sms"),
        ],
    )

    load_events()

    assert [row[2] for row in quarantined(loaded)] == [
        "missing_field",
        "invalid_timestamp",
        "invalid_quantity",
        "unknown_customer",
    ]


def test_fields_are_parsed_exactly(inputs, load_events, loaded):
    inputs.jsonl(
        "events.jsonl",
        [
            inputs.event("default-quantity", quantity=None),
            inputs.event("decimal-text", quantity="0.000000000001"),
            inputs.event("decimal-number", quantity=2.5),
            inputs.event("offset", timestamp="2026-09-10T12:00:00+02:00"),
            inputs.event("naive", timestamp="2026-09-10 12:00:00"),
            inputs.event("sorted", properties={"b": 1.50, "a": {"z": None}}),
        ],
    )

    load_events()

    assert usage(loaded, "event_id, event_timestamp, quantity, properties") == [
        ("decimal-number", datetime(2026, 9, 10, 12), Decimal("2.5"), '{"endpoint":"/v1/things"}'),
        ("decimal-text", datetime(2026, 9, 10, 12), Decimal("1E-12"), '{"endpoint":"/v1/things"}'),
        ("default-quantity", datetime(2026, 9, 10, 12), Decimal(1), '{"endpoint":"/v1/things"}'),
        ("naive", datetime(2026, 9, 10, 12), Decimal(1), '{"endpoint":"/v1/things"}'),
        ("offset", datetime(2026, 9, 10, 10), Decimal(1), '{"endpoint":"/v1/things"}'),
        ("sorted", datetime(2026, 9, 10, 12), Decimal(1), '{"a":{"z":null},"b":1.5}'),
    ]


def test_a_quarantined_row_never_claims_its_event_id(inputs, load_events, loaded):
    inputs.jsonl(
        "events.jsonl",
        [inputs.event("e1", customer_id="hooli"), inputs.event("e1", quantity=3)],
    )

    load_events()

    assert usage(loaded, "event_id, source_line, quantity") == [("e1", 2, Decimal(3))]
    assert [row[2] for row in quarantined(loaded)] == ["unknown_customer"]


def test_same_payload_by_value_is_a_duplicate(inputs, load_events, loaded):
    inputs.jsonl(
        "events.jsonl",
        [
            inputs.event("e1", quantity=1, properties={"a": 1, "b": "x"}),
            inputs.event("e1", quantity="1.000", properties={"b": "x", "a": 1.0}),
            inputs.event(
                "e1", timestamp="2026-09-10T14:00:00+02:00", properties={"b": "x", "a": 1}
            ),
        ],
    )

    (result,) = load_events()

    assert (result.loaded_count, result.duplicate_count, result.quarantined_count) == (1, 2, 0)
    assert loaded.execute(
        "select event_id, source_file, source_line from raw.duplicate_events order by source_line"
    ).fetchall() == [("e1", "events.jsonl", 2), ("e1", "events.jsonl", 3)]


def test_different_payload_is_a_conflict_naming_the_winner(inputs, load_events, loaded):
    inputs.jsonl("a.jsonl", [inputs.event("e1"), inputs.event("e1", quantity=2)])
    inputs.jsonl("b.jsonl", [inputs.event("e1", properties={"endpoint": "/v2"})])

    load_events()

    assert quarantined(loaded) == [
        (
            "a.jsonl",
            2,
            "conflict",
            "event_id 'e1' was first loaded from a.jsonl line 1 with a different payload",
            "e1",
        ),
        (
            "b.jsonl",
            1,
            "conflict",
            "event_id 'e1' was first loaded from a.jsonl line 1 with a different payload",
            "e1",
        ),
    ]
    assert usage(loaded, "event_id, quantity") == [("e1", Decimal(1))]


def test_duplicates_across_files_and_formats(inputs, load_events, loaded):
    inputs.jsonl("a.jsonl", [inputs.event("e1"), inputs.event("e2")])
    inputs.events_csv("b.csv", [inputs.event("e2"), inputs.event("e3")])

    first, second = load_events()

    assert (first.loaded_count, first.duplicate_count) == (2, 0)
    assert (second.loaded_count, second.duplicate_count) == (1, 1)
    assert loaded.execute("select * exclude (loaded_at) from raw.duplicate_events").fetchall() == [
        ("e2", "b.csv", 2)
    ]


def test_future_tolerance_comes_from_settings(inputs, loaded, load_events):
    catalog = inputs.base_catalog()
    catalog["settings"]["future_tolerance_minutes"] = 60
    inputs.catalog(catalog)
    load_reference_data(loaded, inputs.data_dir)
    inputs.jsonl("events.jsonl", [inputs.event("e1", timestamp="2026-10-01T00:59:00Z")])

    load_events()

    assert usage(loaded) == [("e1",)]


def test_quantities_beyond_eighteen_digits_stay_exact(inputs, load_events, loaded):
    inputs.jsonl(
        "events.jsonl",
        [
            inputs.event("large", quantity="12345678901234.000000000001"),
            inputs.event("fine", quantity="1.0000000000005"),
            inputs.event("million", quantity="1000000"),
        ],
    )

    load_events()

    assert usage(loaded, "event_id, quantity") == [
        ("fine", Decimal("1.000000000001")),
        ("large", Decimal("12345678901234.000000000001")),
        ("million", Decimal(1000000)),
    ]


def test_a_conflict_with_an_earlier_file_compares_parsed_values(inputs, load_events, loaded):
    inputs.jsonl("a.jsonl", [inputs.event("e1", quantity=2, properties={"n": 1, "a": "x"})])
    inputs.events_csv(
        "b.csv",
        [
            inputs.event("e1", quantity="2.0", properties={"a": "x", "n": 1.0}),
            inputs.event("e1", quantity=2, timestamp="2026-09-10T12:00:00.000001Z"),
        ],
    )

    first, second = load_events()

    assert (second.duplicate_count, second.quarantined_count) == (1, 1)
    assert [row[:3] for row in quarantined(loaded)] == [("b.csv", 3, "conflict")]
