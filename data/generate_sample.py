"""Write the demo's input directory for "Nimbus API", a SaaS API business.

The pipeline is only as credible as the data it is shown on, so the sample is
built to exercise every rule in SPEC.md on purpose rather than by chance: plan
changes mid-month, a trial across a month end, a churn, a negotiated contract,
grants, discounts, and landing files in every supported format carrying the
mess real producers send (re-sends, a conflict, malformed rows, a late replay).

Everything derives from one `random.Random(seed)`, gzip headers carry no
timestamp and Parquet is written single-threaded, so a seed always gives the
same bytes. That lets tests and docs quote exact counts and amounts.

Run: `python -m data.generate_sample --out data/sample`.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import gzip
import io
import json
import random
import shutil
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import duckdb

DEFAULT_SEED = 2026
EVENTS_START = datetime(2026, 8, 1, tzinfo=UTC)
EVENTS_END = datetime(2026, 11, 1, tzinfo=UTC)
SEPTEMBER = "2026-09"
CUSTOMER_COUNT = 40
LATE_EVENTS = 200
SAME_FILE_RESEND_RATE = 0.006
NEXT_FILE_RESEND_RATE = 0.004
MIN_NEXT_FILE_RESENDS = 3
OFFSET_TIMESTAMP_RATE = 0.002
NAIVE_TIMESTAMP_RATE = 0.002
PLUS_TWO = timezone(timedelta(hours=2))
EVENT_COLUMNS = ("event_id", "customer_id", "event_type", "timestamp", "quantity", "properties")

CATALOG_YML = """\
# Nimbus API, Inc. -- price book for the sample data set.
# Amounts are in the plan's currency; rates are fractions (0.10 is 10 %).
# A period is billed with the plan version in effect at its start.

settings:
  company_name: "Nimbus API, Inc."
  invoice_prefix: INV
  invoice_grace_days: 3
  payment_grace_days: 5
  future_tolerance_minutes: 5

meters:
  - id: api_calls
    name: API calls
    unit: call
    event_type: api_call
    aggregation: count
    field: quantity

  - id: premium_api_calls
    name: Premium API calls
    unit: call
    event_type: api_call
    aggregation: count
    field: quantity
    filters: {tier: premium}

  - id: storage_gb
    name: Storage (peak)
    unit: GB
    event_type: storage_snapshot
    aggregation: max
    field: properties.gb

  - id: compute_minutes
    name: Compute
    unit: minute
    event_type: compute_job
    aggregation: sum
    field: quantity

  - id: active_users
    name: Active users
    unit: user
    event_type: user_login
    aggregation: unique_count
    field: properties.user_id

plans:
  - id: starter
    version: 1
    name: Starter
    effective_from: 2026-01-01
    currency: USD
    base_fee: 29.00
    charges:
      - {meter: api_calls, model: per_unit, unit_price: 0.02}
      - {meter: storage_gb, model: per_unit, unit_price: 0.25}
      - {meter: compute_minutes, model: per_unit, unit_price: 0.06}

  - id: growth
    version: 1
    name: Growth
    effective_from: 2026-01-01
    currency: USD
    base_fee: 499.00
    seat_fee: 20.00
    included_seats: 5
    trial_days: 14
    charges:
      - meter: api_calls
        model: graduated
        tiers:
          - {up_to: 500, unit_price: 0.00}
          - {up_to: null, unit_price: 0.02}
      - {meter: premium_api_calls, model: per_unit, unit_price: 0.01}
      - {meter: storage_gb, model: per_unit, unit_price: 0.20}
      - {meter: compute_minutes, model: per_unit, unit_price: 0.05}

  - id: growth
    version: 2
    name: Growth
    effective_from: 2026-09-01
    currency: USD
    base_fee: 549.00
    seat_fee: 22.00
    included_seats: 5
    trial_days: 14
    charges:
      - meter: api_calls
        model: graduated
        tiers:
          - {up_to: 750, unit_price: 0.00}
          - {up_to: null, unit_price: 0.018}
      - {meter: premium_api_calls, model: per_unit, unit_price: 0.012}
      - {meter: storage_gb, model: per_unit, unit_price: 0.18}
      - {meter: compute_minutes, model: per_unit, unit_price: 0.05}

  - id: scale
    version: 1
    name: Scale
    effective_from: 2026-01-01
    currency: USD
    base_fee: 1500.00
    seat_fee: 15.00
    included_seats: 20
    minimum_commitment: 2500.00
    charges:
      - meter: api_calls
        model: graduated
        tiers:
          - {up_to: 1000, unit_price: 0.00}
          - {up_to: 2500, unit_price: 0.015, flat_fee: 25.00}
          - {up_to: null, unit_price: 0.01}
      - {meter: premium_api_calls, model: per_unit, unit_price: 0.008}
      - {meter: storage_gb, model: per_unit, unit_price: 0.15}
      - {meter: compute_minutes, model: per_unit, unit_price: 0.04}
      - {meter: active_users, model: per_unit, unit_price: 1.50}

overrides:
  # Negotiated contract (signed 2026-07): lower platform fee, flat API rate
  # instead of the free tier. The plan's other charges still apply.
  - customer_id: cus_0013
    plan_id: growth
    base_fee: 399.00
    charges:
      - {meter: api_calls, model: per_unit, unit_price: 0.008}
"""


def _words(text: str) -> tuple[str, ...]:
    """Word lists stay readable as prose rather than one quoted string per line."""
    return tuple(text.split())


COMPANY_WORDS = _words("""
    Acorn Alder Aurora Beacon Birchway Bluefin Brightwave Cedarline Cinder Cobalt Copperleaf
    Cormorant Driftwood Ember Fernhill Fjord Foxglove Granite Harbor Heron Ironbark Juniper
    Kestrel Lantern Lumen Maple Meridian Nettle Northgate Oakridge Orchid Osprey Pinecrest
    Quartz Quillon Redwood Saltmarsh Silverline Stonebridge Sundial Tidewater Umber Vantage
    Willow Yellowtail Zephyr
""")
INDUSTRY_WORDS = _words("""
    Analytics Bio Commerce Energy Foods Health Insurance Labs Learning Logistics Media
    Networks Payments Robotics Security Software Studios Systems Travel
""")
STREET_NAMES = _words("Market Harbour Station Main Mill Park Canal Church Bridge King")
STREET_KINDS = _words("Street Road Avenue Lane")
ENDPOINTS = _words("/v1/search /v1/documents /v1/embeddings /v1/geocode /v1/translate")
JOB_TYPES = ("batch", "etl", "inference", "export")
REGIONS = ("us-east-1", "us-west-2", "eu-west-1")


@dataclass(frozen=True)
class Locale:
    """Where a customer sits: it decides tax rate, legal suffix and address shape."""

    country: str
    city: str
    tax_rate: str
    postal_pattern: str
    legal_suffix: str


# US appears five times so American customers are the largest group, as for a US SaaS.
# '#' is a digit and '@' an upper-case letter in postal patterns.
LOCALES = (
    Locale("US", "Austin", "0.0825", "787##", "Inc."),
    Locale("US", "New York", "0.08875", "100##", "Inc."),
    Locale("US", "Portland", "0", "972##", "LLC"),
    Locale("US", "Seattle", "0.1035", "981##", "Inc."),
    Locale("US", "Denver", "0.0881", "802##", "LLC"),
    Locale("GB", "London", "0.20", "EC1A #@@", "Ltd"),
    Locale("DE", "Berlin", "0.19", "101##", "GmbH"),
    Locale("NL", "Amsterdam", "0.21", "10## @@", "B.V."),
    Locale("FR", "Paris", "0.20", "750##", "SAS"),
    Locale("CA", "Toronto", "0.13", "M5V #@#", "Inc."),
    Locale("AU", "Sydney", "0.10", "20##", "Pty Ltd"),
    Locale("IE", "Dublin", "0", "D02 @###", "Ltd"),
)


@dataclass(frozen=True)
class UsageProfile:
    """How much a customer uses per 30 days; ranges are drawn once per customer."""

    api_calls: tuple[int, int]
    compute_jobs: tuple[int, int]
    storage_gb: tuple[int, int]
    premium_share: float
    logins_per_user: int


PROFILES = {
    "heavy": UsageProfile((1500, 2500), (60, 90), (300, 900), 0.15, 4),
    "medium": UsageProfile((150, 400), (15, 30), (40, 200), 0.10, 3),
    "light": UsageProfile((10, 60), (2, 6), (1, 30), 0.05, 2),
}


@dataclass(frozen=True)
class Story:
    """A customer written by hand so each billing rule has a known example.

    `steps` are (plan_id, started_at, seats); each step ends when the next
    starts, which is how SPEC.md expresses a plan or seat change.
    """

    segment: str
    profile: str
    steps: tuple[tuple[str, str, int], ...]
    ended_at: str | None = None
    api_calls: int | None = None
    """API calls per 30 days when the story needs a given tier reached."""
    note: str = ""


STORIES = {
    "cus_0001": Story(
        "enterprise",
        "heavy",
        (("scale", "2026-03-01T00:00:00Z", 90),),
        api_calls=3200,
        note="heavy user on scale above its minimum; usage limit",
    ),
    "cus_0002": Story(
        "smb",
        "heavy",
        (("growth", "2026-04-06T00:00:00Z", 12), ("growth", "2026-09-15T00:00:00Z", 18)),
        note="seat increase mid-September; 10 % discount Sep-Oct; usage limit",
    ),
    "cus_0003": Story(
        "startup",
        "medium",
        (("starter", "2026-05-03T00:00:00Z", 1), ("growth", "2026-08-11T00:00:00Z", 6)),
        note="upgrade starter -> growth on 2026-08-11 00:00; usage limit",
    ),
    "cus_0004": Story(
        "smb",
        "heavy",
        (("growth", "2026-04-14T00:00:00Z", 9), ("scale", "2026-09-11T12:00:00Z", 25)),
        note="upgrade growth -> scale at noon on 2026-09-11; api_calls discount",
    ),
    "cus_0005": Story(
        "startup",
        "medium",
        (("starter", "2026-06-01T00:00:00Z", 1), ("growth", "2026-10-11T00:00:00Z", 5)),
        note="upgrade starter -> growth on 2026-10-11 00:00",
    ),
    "cus_0006": Story(
        "smb",
        "medium",
        (("growth", "2026-02-09T00:00:00Z", 8), ("starter", "2026-09-18T00:00:00Z", 1)),
        note="downgrade growth -> starter on 2026-09-18; base-fee discount",
    ),
    "cus_0007": Story(
        "smb",
        "light",
        (("growth", "2026-09-24T00:00:00Z", 4),),
        note="new on growth: 14-day trial 2026-09-24 -> 10-08; promo grant",
    ),
    "cus_0008": Story(
        "smb",
        "medium",
        (("growth", "2026-03-10T00:00:00Z", 6),),
        ended_at="2026-10-17T09:30:00Z",
        note="churns on 2026-10-17 09:30",
    ),
    "cus_0009": Story(
        "startup",
        "none",
        (("starter", "2026-06-15T00:00:00Z", 1),),
        note="subscribed but sends no usage events",
    ),
    "cus_0010": Story(
        "startup",
        "light",
        (("starter", "2026-08-14T00:00:00Z", 1),),
        note="starts mid-August; promo grant expiring 2026-10-15; usage limit",
    ),
    "cus_0011": Story(
        "smb",
        "light",
        (("growth", "2026-08-20T15:00:00Z", 3),),
        note="starts mid-August on growth: trial crosses into September",
    ),
    "cus_0012": Story(
        "enterprise",
        "medium",
        (("scale", "2026-02-01T00:00:00Z", 40), ("scale", "2026-10-06T00:00:00Z", 32)),
        note="seat decrease on 2026-10-06; minimum true-up",
    ),
    "cus_0013": Story(
        "smb",
        "heavy",
        (("growth", "2026-07-01T00:00:00Z", 10),),
        note="negotiated contract (catalog override)",
    ),
    "cus_0014": Story(
        "smb",
        "medium",
        (("growth", "2026-01-20T00:00:00Z", 7),),
        note="prepaid credit grant of 5000.00",
    ),
}

DEFAULT_PLAN_BY_SEGMENT = {"startup": "starter", "smb": "growth", "enterprise": "scale"}

CREDIT_GRANTS = (
    ("grt_0001", "cus_0014", "5000.00", "prepaid", "2026-07-15T00:00:00Z", ""),
    (
        "grt_0002",
        "cus_0010",
        "150.00",
        "promotional",
        "2026-08-14T00:00:00Z",
        "2026-10-15T00:00:00Z",
    ),
    (
        "grt_0003",
        "cus_0007",
        "250.00",
        "promotional",
        "2026-09-24T00:00:00Z",
        "2026-12-31T00:00:00Z",
    ),
)
DISCOUNTS = (
    ("dsc_0001", "cus_0002", "percent", "0.10", "all", "2026-09-01", "2"),
    ("dsc_0002", "cus_0006", "amount", "50.00", "base_fee", "2026-08-01", ""),
    ("dsc_0003", "cus_0004", "percent", "0.25", "api_calls", "2026-08-01", "1"),
)
USAGE_LIMITS = (
    ("cus_0001", "api_calls", "3600"),
    ("cus_0002", "api_calls", "2500"),
    ("cus_0003", "compute_minutes", "900"),
    ("cus_0010", "storage_gb", "18.5"),
)


@dataclass(frozen=True)
class Customer:
    """A row of customers.csv plus the usage profile that drives its events."""

    customer_id: str
    name: str
    email: str
    tax_rate: str
    country: str
    segment: str
    address_line1: str
    city: str
    postal_code: str
    profile: str


@dataclass(frozen=True)
class Subscription:
    """A row of subscriptions.csv; `ended_at` None means still open."""

    subscription_id: str
    customer_id: str
    plan_id: str
    started_at: datetime
    ended_at: datetime | None
    seats: int


@dataclass(frozen=True, eq=False)
class Event:
    """One landed row. Malformed rows reuse it with the broken value in place.

    `customer_id` None is an absent field, `quantity` None leaves the default 1,
    a `str` `properties` is not a JSON object, and `raw_line` replaces the
    whole line in JSON Lines files (an unparseable row). Identity equality keeps
    a re-send (the same object twice) apart from an equal-looking conflict.
    """

    event_id: str
    customer_id: str | None
    event_type: str
    at: datetime
    timestamp: str
    quantity: str | None
    properties: dict[str, object] | str
    raw_line: str | None = None


@dataclass(frozen=True)
class FileSpec:
    """A landing file's place in the story.

    `month` is the month of its events, `kind` is api (api_call events), usage
    (the other types) or late (a replay of `month`). `arrives_on` is when a
    producer drops it, so a demo can land files one by one; `resend_from` names
    the files a retrying client re-sends a few events from.
    """

    name: str
    month: str
    kind: str
    arrives_on: date
    resend_from: tuple[str, ...] = ()


@dataclass
class LandingFile:
    """A landing file being assembled, with the mess injected into it."""

    spec: FileSpec
    rows: list[Event] = field(default_factory=list)
    duplicates: int = 0
    conflicts: int = 0
    malformed: list[tuple[str, str]] = field(default_factory=list)
    late: int = 0


# Names sort in arrival order: each month's exports land on the 1st of the
# next month; the replay of September lands on 2026-10-05, after September's
# invoices were finalized (period end + invoice_grace_days = 2026-10-04).
LATE_FILE = "2026-10-05-late-replay.jsonl"
FILE_LAYOUT = (
    FileSpec("2026-08-api.jsonl.gz", "2026-08", "api", date(2026, 9, 1)),
    FileSpec("2026-08-usage.csv", "2026-08", "usage", date(2026, 9, 1)),
    FileSpec("2026-09-api.parquet", "2026-09", "api", date(2026, 10, 1), ("2026-08-api.jsonl.gz",)),
    FileSpec(
        "2026-09-usage.parquet", "2026-09", "usage", date(2026, 10, 1), ("2026-08-usage.csv",)
    ),
    FileSpec(
        LATE_FILE,
        SEPTEMBER,
        "late",
        date(2026, 10, 5),
        ("2026-09-api.parquet", "2026-09-usage.parquet"),
    ),
    FileSpec("2026-10-api.jsonl", "2026-10", "api", date(2026, 11, 1), ("2026-09-api.parquet",)),
    FileSpec(
        "2026-10-usage.csv.gz", "2026-10", "usage", date(2026, 11, 1), ("2026-09-usage.parquet",)
    ),
)

# (file receiving the conflicting row, file holding the original). The
# conflicting row differs from the original only in quantity.
CONFLICTS = (
    ("2026-09-usage.parquet", "2026-08-usage.csv"),
    ("2026-10-usage.csv.gz", "2026-09-usage.parquet"),
)


def _truncated_json(event: Event) -> Event:
    line = _jsonl_line(event)
    return dataclasses.replace(event, raw_line=line[: len(line) * 2 // 3])


# (file, expected quarantine reason, event type of the template row, breakage).
# Each row is a valid event with exactly one thing wrong.
MALFORMED: tuple[tuple[str, str, str, Callable[[Event], Event]], ...] = (
    ("2026-08-api.jsonl.gz", "malformed_row", "api_call", _truncated_json),
    (
        "2026-08-usage.csv",
        "missing_field",
        "compute_job",
        lambda e: dataclasses.replace(e, customer_id=None),
    ),
    (
        "2026-09-api.parquet",
        "invalid_timestamp",
        "api_call",
        lambda e: dataclasses.replace(e, timestamp="yesterday"),
    ),
    (
        "2026-09-usage.parquet",
        "invalid_quantity",
        "compute_job",
        lambda e: dataclasses.replace(e, quantity="abc"),
    ),
    (
        LATE_FILE,
        "invalid_properties",
        "api_call",
        lambda e: dataclasses.replace(e, properties="premium"),
    ),
    (
        "2026-10-api.jsonl",
        "unknown_customer",
        "api_call",
        lambda e: dataclasses.replace(e, customer_id="cus_9999"),
    ),
    (
        "2026-10-usage.csv.gz",
        "invalid_quantity",
        "compute_job",
        lambda e: dataclasses.replace(e, quantity="-12.5"),
    ),
    (
        "2026-10-usage.csv.gz",
        "unknown_event_type",
        "compute_job",
        lambda e: dataclasses.replace(e, event_type="video_transcode"),
    ),
)


@dataclass(frozen=True)
class FileSummary:
    """What one landing file holds, so a loader test can check rows = loaded + dup + quarantined."""

    name: str
    arrives_on: date
    rows: int
    duplicates: int
    conflicts: int
    malformed: int
    late: int


@dataclass(frozen=True)
class SampleSummary:
    """Counts of everything written, including the mess injected on purpose."""

    out_dir: Path
    customers: int
    subscriptions: int
    credit_grants: int
    discounts: int
    usage_limits: int
    files: tuple[FileSummary, ...]
    malformed_rows: tuple[tuple[str, str, str], ...]
    """(file, event_id, expected quarantine reason) per malformed row."""

    @property
    def events_per_file(self) -> dict[str, int]:
        return {f.name: f.rows for f in self.files}

    @property
    def event_rows(self) -> int:
        return sum(f.rows for f in self.files)

    @property
    def duplicates(self) -> int:
        return sum(f.duplicates for f in self.files)

    @property
    def conflicts(self) -> int:
        return sum(f.conflicts for f in self.files)

    @property
    def malformed(self) -> int:
        return sum(f.malformed for f in self.files)

    @property
    def late_events(self) -> int:
        return sum(f.late for f in self.files)

    @property
    def billable_events(self) -> int:
        """Rows that should end up in fct_usage_events."""
        return self.event_rows - self.duplicates - self.conflicts - self.malformed


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def _iso_z(at: datetime) -> str:
    return at.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _fill_pattern(rng: random.Random, pattern: str) -> str:
    return "".join(
        str(rng.randrange(10)) if c == "#" else chr(65 + rng.randrange(26)) if c == "@" else c
        for c in pattern
    )


def _street_address(rng: random.Random) -> str:
    return f"{rng.randint(1, 480)} {rng.choice(STREET_NAMES)} {rng.choice(STREET_KINDS)}"


def _write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> int:
    """Write a small reference CSV with Unix line endings; return its data row count."""
    count = 0
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        for row in rows:
            writer.writerow(row)
            count += 1
    return count


def write_catalog(out_dir: Path) -> None:
    """Write the price book as hand-formatted YAML, the way a person would keep it."""
    (out_dir / "catalog.yml").write_text(CATALOG_YML, encoding="utf-8")


def generate_customers(rng: random.Random) -> list[Customer]:
    """Make CUSTOMER_COUNT customers; the first ones follow STORIES, the rest are random."""
    words = rng.sample(COMPANY_WORDS, CUSTOMER_COUNT)
    customers = []
    for number, word in enumerate(words, start=1):
        customer_id = f"cus_{number:04d}"
        locale = rng.choice(LOCALES)
        industry = rng.choice(INDUSTRY_WORDS)
        story = STORIES.get(customer_id)
        if story:
            segment, profile = story.segment, story.profile
        else:
            segment = rng.choices(("startup", "smb", "enterprise"), weights=(5, 3, 2))[0]
            medium = segment == "enterprise" or (segment == "smb" and rng.random() < 0.3)
            profile = "medium" if medium else "light"
        customers.append(
            Customer(
                customer_id=customer_id,
                name=f"{word} {industry} {locale.legal_suffix}",
                email=f"billing@{word.lower()}-{industry.lower()}.example.com",
                tax_rate=locale.tax_rate,
                country=locale.country,
                segment=segment,
                address_line1=_street_address(rng),
                city=locale.city,
                postal_code=_fill_pattern(rng, locale.postal_pattern),
                profile=profile,
            )
        )
    return customers


def write_customers(out_dir: Path, customers: Sequence[Customer]) -> int:
    header = (
        "customer_id",
        "name",
        "email",
        "currency",
        "tax_rate",
        "country",
        "segment",
        "address_line1",
        "city",
        "postal_code",
    )
    rows = (
        (
            c.customer_id,
            c.name,
            c.email,
            "USD",
            c.tax_rate,
            c.country,
            c.segment,
            c.address_line1,
            c.city,
            c.postal_code,
        )
        for c in customers
    )
    return _write_csv(out_dir / "customers.csv", header, rows)


def _default_steps(rng: random.Random, segment: str) -> tuple[tuple[str, str, int], ...]:
    """One open subscription started in the first half of 2026, its trial long over."""
    plan_id = DEFAULT_PLAN_BY_SEGMENT[segment]
    seats = {"starter": 1, "growth": rng.randint(3, 10), "scale": rng.randint(20, 50)}[plan_id]
    started = datetime(2026, 1, 15, tzinfo=UTC) + timedelta(
        days=rng.randint(0, 160), hours=rng.randint(0, 23)
    )
    return ((plan_id, _iso_z(started), seats),)


def generate_subscriptions(rng: random.Random, customers: Sequence[Customer]) -> list[Subscription]:
    """Chain each customer's steps so one row ends exactly where the next starts."""
    subscriptions: list[Subscription] = []
    for customer in customers:
        story = STORIES.get(customer.customer_id)
        steps = story.steps if story else _default_steps(rng, customer.segment)
        final_end = _utc(story.ended_at) if story and story.ended_at else None
        for index, (plan_id, started_at, seats) in enumerate(steps):
            is_last = index == len(steps) - 1
            ended_at = final_end if is_last else _utc(steps[index + 1][1])
            subscriptions.append(
                Subscription(
                    subscription_id=f"sub_{len(subscriptions) + 1:04d}",
                    customer_id=customer.customer_id,
                    plan_id=plan_id,
                    started_at=_utc(started_at),
                    ended_at=ended_at,
                    seats=seats,
                )
            )
    return subscriptions


def write_subscriptions(out_dir: Path, subscriptions: Sequence[Subscription]) -> int:
    header = ("subscription_id", "customer_id", "plan_id", "started_at", "ended_at", "seats")
    rows = (
        (
            s.subscription_id,
            s.customer_id,
            s.plan_id,
            _iso_z(s.started_at),
            _iso_z(s.ended_at) if s.ended_at else "",
            s.seats,
        )
        for s in subscriptions
    )
    return _write_csv(out_dir / "subscriptions.csv", header, rows)


def write_billing_adjustments(out_dir: Path) -> tuple[int, int, int]:
    """Write credit grants, discounts and usage limits; return their row counts."""
    grants = _write_csv(
        out_dir / "credit_grants.csv",
        ("grant_id", "customer_id", "amount", "currency", "kind", "granted_at", "expires_at"),
        (
            (g, c, amount, "USD", kind, granted, expires)
            for g, c, amount, kind, granted, expires in CREDIT_GRANTS
        ),
    )
    discounts = _write_csv(
        out_dir / "discounts.csv",
        ("discount_id", "customer_id", "kind", "value", "applies_to", "first_period", "cycles"),
        DISCOUNTS,
    )
    limits = _write_csv(
        out_dir / "usage_limits.csv", ("customer_id", "meter_id", "limit_quantity"), USAGE_LIMITS
    )
    return grants, discounts, limits


class EventFactory:
    """Makes events with unique ids and the occasional non-UTC timestamp spelling."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used_ids: set[str] = set()

    def new_id(self) -> str:
        while True:
            event_id = f"evt_{self.rng.getrandbits(64):016x}"
            if event_id not in self.used_ids:
                self.used_ids.add(event_id)
                return event_id

    def timestamp_text(self, at: datetime) -> str:
        """Mostly `Z`; a few `+02:00` (same instant) and a few naive (read as UTC)."""
        draw = self.rng.random()
        if draw < OFFSET_TIMESTAMP_RATE:
            return at.astimezone(PLUS_TWO).isoformat()
        if draw < OFFSET_TIMESTAMP_RATE + NAIVE_TIMESTAMP_RATE:
            return at.replace(tzinfo=None).isoformat()
        return _iso_z(at)

    def make(
        self,
        customer_id: str,
        event_type: str,
        at: datetime,
        quantity: str | None,
        properties: dict[str, object],
    ) -> Event:
        return Event(
            self.new_id(),
            customer_id,
            event_type,
            at,
            self.timestamp_text(at),
            quantity,
            properties,
        )


def _random_instant(rng: random.Random, start: datetime, end: datetime) -> datetime:
    return start + timedelta(seconds=rng.randrange(int((end - start).total_seconds())))


def _count_for(rng: random.Random, per_30_days: float, start: datetime, end: datetime) -> int:
    days = (end - start).total_seconds() / 86400
    return round(per_30_days * days / 30 * rng.uniform(0.85, 1.15))


@dataclass(frozen=True)
class CustomerRates:
    """A customer's usage levels, drawn once so its months look alike."""

    api_calls: int
    compute_jobs: int
    storage_start_gb: int
    premium_share: float
    logins_per_user: int


def _draw_rates(rng: random.Random, profile: UsageProfile) -> CustomerRates:
    return CustomerRates(
        api_calls=rng.randint(*profile.api_calls),
        compute_jobs=rng.randint(*profile.compute_jobs),
        storage_start_gb=rng.randint(*profile.storage_gb),
        premium_share=profile.premium_share,
        logins_per_user=profile.logins_per_user,
    )


def _segment_events(
    factory: EventFactory,
    sub: Subscription,
    rates: CustomerRates,
    start: datetime,
    end: datetime,
) -> list[Event]:
    """API calls, compute jobs and logins for one subscription row clipped to [start, end)."""
    rng = factory.rng
    events = []
    for _ in range(_count_for(rng, rates.api_calls, start, end)):
        premium = sub.plan_id != "starter" and rng.random() < rates.premium_share
        properties = {
            "endpoint": rng.choice(ENDPOINTS),
            "tier": "premium" if premium else "standard",
        }
        quantity = "1" if rng.random() < 0.7 else None
        events.append(
            factory.make(
                sub.customer_id, "api_call", _random_instant(rng, start, end), quantity, properties
            )
        )
    for _ in range(_count_for(rng, rates.compute_jobs, start, end)):
        minutes = str(Decimal(rng.randint(5, 900)) / 10)
        properties = {"job_type": rng.choice(JOB_TYPES), "region": rng.choice(REGIONS)}
        events.append(
            factory.make(
                sub.customer_id,
                "compute_job",
                _random_instant(rng, start, end),
                minutes,
                properties,
            )
        )
    users = max(2, sub.seats) if sub.plan_id != "starter" else 3
    number = sub.customer_id.removeprefix("cus_")
    active = max(1, round(users * rng.uniform(0.6, 1.0)))
    for _ in range(_count_for(rng, active * rates.logins_per_user, start, end)):
        properties = {"user_id": f"usr_{number}_{rng.randrange(active) + 1:03d}"}
        quantity = "1" if rng.random() < 0.5 else None
        events.append(
            factory.make(
                sub.customer_id,
                "user_login",
                _random_instant(rng, start, end),
                quantity,
                properties,
            )
        )
    return events


def _storage_snapshots(
    factory: EventFactory, subs: Sequence[Subscription], rates: CustomerRates
) -> list[Event]:
    """One snapshot a day just before midnight UTC while a subscription is active."""
    rng = factory.rng
    events = []
    gb = Decimal(rates.storage_start_gb)
    day = EVENTS_START
    while day < EVENTS_END:
        gb = max(Decimal("0.5"), gb * Decimal(str(round(rng.uniform(0.995, 1.01), 4))))
        gb = gb.quantize(Decimal("0.01"))
        at = day + timedelta(hours=23, minutes=50, seconds=rng.randrange(540))
        if any(_active(s, at) for s in subs):
            properties = {"gb": float(gb), "bucket": "primary"}
            events.append(
                factory.make(subs[0].customer_id, "storage_snapshot", at, None, properties)
            )
        day += timedelta(days=1)
    return events


def _active(sub: Subscription, at: datetime) -> bool:
    return sub.started_at <= at and (sub.ended_at is None or at < sub.ended_at)


def generate_events(
    factory: EventFactory, customers: Sequence[Customer], subscriptions: Sequence[Subscription]
) -> list[Event]:
    """Every clean event, only inside subscription rows and the three event months."""
    events: list[Event] = []
    for customer in customers:
        if customer.profile == "none":
            continue
        rates = _draw_rates(factory.rng, PROFILES[customer.profile])
        story = STORIES.get(customer.customer_id)
        if story and story.api_calls:
            rates = dataclasses.replace(rates, api_calls=story.api_calls)
        subs = [s for s in subscriptions if s.customer_id == customer.customer_id]
        for sub in subs:
            start = max(sub.started_at, EVENTS_START)
            end = min(sub.ended_at or EVENTS_END, EVENTS_END)
            if start < end:
                events.extend(_segment_events(factory, sub, rates, start, end))
        events.extend(_storage_snapshots(factory, subs, rates))
    return events


def assemble_files(rng: random.Random, events: Sequence[Event]) -> list[LandingFile]:
    """Split events into FILE_LAYOUT, holding back LATE_EVENTS September events for the replay."""
    groups: dict[tuple[str, str], list[Event]] = {}
    for event in events:
        key = (
            f"{event.at.year}-{event.at.month:02d}",
            "api" if event.event_type == "api_call" else "usage",
        )
        groups.setdefault(key, []).append(event)
    september = [
        e
        for kind in ("api", "usage")
        for e in groups[(SEPTEMBER, kind)]
        if e.event_type != "storage_snapshot"
    ]
    late = rng.sample(september, LATE_EVENTS)
    late_ids = {e.event_id for e in late}
    files = [LandingFile(spec) for spec in FILE_LAYOUT]
    for landing in files:
        if landing.spec.kind == "late":
            landing.rows = list(late)
            landing.late = len(late)
        else:
            key = (landing.spec.month, landing.spec.kind)
            landing.rows = [e for e in groups[key] if e.event_id not in late_ids]
        landing.rows.sort(key=lambda e: (e.at, e.event_id))
    return files


def inject_conflicts(rng: random.Random, files: Sequence[LandingFile]) -> set[str]:
    """Re-send a compute job with another quantity; return the ids involved."""
    by_name = {f.spec.name: f for f in files}
    ids = set()
    for target_name, source_name in CONFLICTS:
        original = rng.choice(
            [
                e
                for e in by_name[source_name].rows
                if e.event_type == "compute_job" and e.event_id not in ids
            ]
        )
        changed = str(Decimal(original.quantity or "1") + Decimal("7.5"))
        target = by_name[target_name]
        target.rows.insert(
            rng.randint(0, len(target.rows)), dataclasses.replace(original, quantity=changed)
        )
        target.conflicts += 1
        ids.add(original.event_id)
    return ids


def inject_duplicates(
    rng: random.Random, files: Sequence[LandingFile], excluded_ids: set[str]
) -> None:
    """Exact re-sends: some later in the same file, some in the next file a client sends."""
    originals = {f.spec.name: [e for e in f.rows if e.event_id not in excluded_ids] for f in files}
    for landing in files:
        same_file = rng.sample(
            originals[landing.spec.name], round(len(landing.rows) * SAME_FILE_RESEND_RATE)
        )
        for event in same_file:
            after = landing.rows.index(event) + 1
            landing.rows.insert(rng.randint(after, len(landing.rows)), event)
        resent = 0
        if landing.spec.resend_from:
            pool = [e for name in landing.spec.resend_from for e in originals[name]]
            resent = max(MIN_NEXT_FILE_RESENDS, round(len(landing.rows) * NEXT_FILE_RESEND_RATE))
            for event in rng.sample(pool, resent):
                landing.rows.insert(rng.randint(0, len(landing.rows)), event)
        landing.duplicates += len(same_file) + resent


def inject_malformed(factory: EventFactory, files: Sequence[LandingFile]) -> None:
    """Add MALFORMED rows, each a copy of a real row with a new id and one defect."""
    by_name = {f.spec.name: f for f in files}
    for name, reason, event_type, breakage in MALFORMED:
        landing = by_name[name]
        template = factory.rng.choice([e for e in landing.rows if e.event_type == event_type])
        broken = breakage(dataclasses.replace(template, event_id=factory.new_id()))
        landing.rows.insert(factory.rng.randint(0, len(landing.rows)), broken)
        landing.malformed.append((broken.event_id, reason))


def _json_number(text: str) -> int | float | str:
    """A decimal text as a JSON number with the same digits; anything else stays a string."""
    try:
        value = Decimal(text)
    except ArithmeticError:
        return text
    return int(value) if value == value.to_integral_value() else float(value)


def _jsonl_line(event: Event) -> str:
    if event.raw_line is not None:
        return event.raw_line
    record: dict[str, object] = {"event_id": event.event_id}
    if event.customer_id is not None:
        record["customer_id"] = event.customer_id
    record["event_type"] = event.event_type
    record["timestamp"] = event.timestamp
    if event.quantity is not None:
        record["quantity"] = _json_number(event.quantity)
    record["properties"] = event.properties
    return json.dumps(record, separators=(",", ":"))


def _text_fields(event: Event) -> tuple[str, str | None, str, str, str | None, str]:
    """The row as text for CSV and Parquet; properties become a JSON object's text."""
    if event.raw_line is not None:
        raise ValueError(f"{event.event_id}: an unparseable line only exists in JSON Lines")
    properties = event.properties
    text = (
        properties if isinstance(properties, str) else json.dumps(properties, separators=(",", ":"))
    )
    return (
        event.event_id,
        event.customer_id,
        event.event_type,
        event.timestamp,
        event.quantity,
        text,
    )


def _events_csv_text(rows: Sequence[Event]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(EVENT_COLUMNS)
    for event in rows:
        writer.writerow(["" if v is None else v for v in _text_fields(event)])
    return buffer.getvalue()


def _write_parquet(path: Path, rows: Sequence[Event]) -> None:
    """All columns VARCHAR, so quantities keep their exact digits and bad values survive.

    DuckDB reads a staging CSV and writes Parquet with one thread, which keeps
    row order and row groups, hence the bytes, the same on every run.
    """
    columns = ", ".join(f"'{c}': 'VARCHAR'" for c in EVENT_COLUMNS)
    with tempfile.TemporaryDirectory() as tmp:
        staging = Path(tmp) / "rows.csv"
        with staging.open("w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f, lineterminator="\n", quoting=csv.QUOTE_ALL)
            writer.writerows(["\\N" if v is None else v for v in _text_fields(e)] for e in rows)
        con = duckdb.connect()
        try:
            con.execute("SET threads = 1")
            con.execute(
                f"COPY (SELECT * FROM read_csv({_sql_text(staging)}, header = false, "
                f"quote = '\"', escape = '\"', nullstr = '\\N', columns = {{{columns}}})) "
                f"TO {_sql_text(path)} (FORMAT parquet)"
            )
        finally:
            con.close()


def _sql_text(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def write_landing_file(directory: Path, landing: LandingFile) -> None:
    """Write one file in the format its name says; gzip without a timestamp."""
    name = landing.spec.name
    path = directory / name
    if name.endswith(".parquet"):
        _write_parquet(path, landing.rows)
        return
    stem = name.removesuffix(".gz")
    if stem.endswith(".jsonl"):
        text = "".join(_jsonl_line(e) + "\n" for e in landing.rows)
    elif stem.endswith(".csv"):
        text = _events_csv_text(landing.rows)
    else:
        raise ValueError(f"{name}: unsupported landing file format")
    data = text.encode("utf-8")
    path.write_bytes(gzip.compress(data, mtime=0) if name.endswith(".gz") else data)


def _reset_out_dir(out_dir: Path) -> None:
    """Empty out_dir, refusing to wipe a directory that is not a sample data set."""
    if out_dir.exists():
        if any(out_dir.iterdir()) and not (out_dir / "catalog.yml").exists():
            raise FileExistsError(
                f"{out_dir}: not empty and has no catalog.yml; refusing to delete it"
            )
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)


def generate_sample(out_dir: Path, seed: int = DEFAULT_SEED) -> SampleSummary:
    """Delete and rewrite out_dir with the whole sample data set for `seed`."""
    out_dir = Path(out_dir)
    rng = random.Random(seed)
    _reset_out_dir(out_dir)
    write_catalog(out_dir)
    customers = generate_customers(rng)
    subscriptions = generate_subscriptions(rng, customers)
    write_customers(out_dir, customers)
    write_subscriptions(out_dir, subscriptions)
    grants, discounts, limits = write_billing_adjustments(out_dir)

    factory = EventFactory(rng)
    files = assemble_files(rng, generate_events(factory, customers, subscriptions))
    conflict_ids = inject_conflicts(rng, files)
    inject_duplicates(rng, files, conflict_ids)
    inject_malformed(factory, files)

    landing_dir = out_dir / "landing" / "events"
    landing_dir.mkdir(parents=True)
    for landing in files:
        write_landing_file(landing_dir, landing)
    return SampleSummary(
        out_dir=out_dir,
        customers=len(customers),
        subscriptions=len(subscriptions),
        credit_grants=grants,
        discounts=discounts,
        usage_limits=limits,
        files=tuple(
            FileSummary(
                name=f.spec.name,
                arrives_on=f.spec.arrives_on,
                rows=len(f.rows),
                duplicates=f.duplicates,
                conflicts=f.conflicts,
                malformed=len(f.malformed),
                late=f.late,
            )
            for f in files
        ),
        malformed_rows=tuple(
            (f.spec.name, event_id, reason) for f in files for event_id, reason in f.malformed
        ),
    )


def format_summary(summary: SampleSummary) -> str:
    lines = [
        f"wrote {summary.out_dir}: {summary.customers} customers, "
        f"{summary.subscriptions} subscriptions, {summary.credit_grants} credit grants, "
        f"{summary.discounts} discounts, {summary.usage_limits} usage limits",
        f"{'landing file':<30} {'arrives':<10} {'rows':>6} {'dup':>4} {'conf':>4} {'bad':>4} "
        f"{'late':>5}",
    ]
    lines += [
        f"{f.name:<30} {f.arrives_on.isoformat():<10} {f.rows:>6} {f.duplicates:>4} "
        f"{f.conflicts:>4} {f.malformed:>4} {f.late:>5}"
        for f in summary.files
    ]
    lines.append(
        f"{'total':<30} {'':<10} {summary.event_rows:>6} {summary.duplicates:>4} "
        f"{summary.conflicts:>4} {summary.malformed:>4} {summary.late_events:>5}  "
        f"({summary.billable_events} billable)"
    )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("data/sample"),
        help="directory to (re)write (default: data/sample)",
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    print(format_summary(generate_sample(args.out, args.seed)))


if __name__ == "__main__":
    main()
