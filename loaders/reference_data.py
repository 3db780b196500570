"""Read and validate the reference CSVs against each other and the catalog.

Bad reference data stops the run (SPEC "Reference data errors"): nothing is
billed from a customer list with a duplicated id or a subscription on a plan
priced in another currency. Each rule names the file, the line (header =
line 1), the column and what is wrong.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from loaders.catalog_models import Catalog, Plan
from loaders.csv_rows import CsvRow, read_csv_rows
from loaders.currencies import CURRENCY_MINOR_UNITS
from loaders.errors import InputError

ADDRESS_COLUMNS = ("address_line1", "address_line2", "city", "region", "postal_code")
GRANT_KINDS = ("prepaid", "promotional")
DISCOUNT_KINDS = ("percent", "amount")


@dataclass(frozen=True)
class Customer:
    customer_id: str
    name: str
    email: str
    currency: str
    tax_rate: Decimal
    country: str
    segment: str
    address_line1: str | None
    address_line2: str | None
    city: str | None
    region: str | None
    postal_code: str | None


@dataclass(frozen=True)
class Subscription:
    """`ended_at` None means open-ended; periods are half-open `[started_at, ended_at)`."""

    subscription_id: str
    customer_id: str
    plan_id: str
    started_at: datetime
    ended_at: datetime | None
    seats: int


@dataclass(frozen=True)
class CreditGrant:
    grant_id: str
    customer_id: str
    amount: Decimal
    currency: str
    kind: str
    granted_at: datetime
    expires_at: datetime | None


@dataclass(frozen=True)
class Discount:
    """`first_period` is the first day of a month; `cycles` None means forever."""

    discount_id: str
    customer_id: str
    kind: str
    value: Decimal
    applies_to: str
    first_period: date
    cycles: int | None


@dataclass(frozen=True)
class UsageLimit:
    customer_id: str
    meter_id: str
    limit_quantity: Decimal


@dataclass(frozen=True)
class ReferenceData:
    customers: tuple[Customer, ...]
    subscriptions: tuple[Subscription, ...]
    credit_grants: tuple[CreditGrant, ...]
    discounts: tuple[Discount, ...]
    usage_limits: tuple[UsageLimit, ...]


def _unique(rows: Iterable[CsvRow], column: str) -> None:
    seen: dict[str, int] = {}
    for row in rows:
        value = row.text(column)
        if value in seen:
            row.fail(column, f"duplicate id {value!r} (first on line {seen[value]})")
        seen[value] = row.line


def _one_of(row: CsvRow, column: str, allowed: Iterable[str]) -> str:
    value = row.text(column)
    if value not in allowed:
        row.fail(column, f"must be one of {' | '.join(allowed)}, got {value!r}")
    return value


def _currency(row: CsvRow, column: str) -> str:
    value = row.text(column)
    if value not in CURRENCY_MINOR_UNITS:
        row.fail(column, f"unknown currency {value!r}; known: {', '.join(CURRENCY_MINOR_UNITS)}")
    return value


def _known_customer(row: CsvRow, customers: dict[str, Customer]) -> Customer:
    customer_id = row.text("customer_id")
    if customer_id not in customers:
        row.fail("customer_id", f"unknown customer {customer_id!r} (not in customers.csv)")
    return customers[customer_id]


def _customer(row: CsvRow) -> Customer:
    tax_rate = row.decimal("tax_rate")
    if not 0 <= tax_rate < 1:
        row.fail("tax_rate", f"is a fraction (0.0825 = 8.25 %) in [0, 1), got {tax_rate}")
    email = row.text("email")
    if email.count("@") != 1 or not all(email.split("@")):
        row.fail("email", f"must be an e-mail address, got {email!r}")
    return Customer(
        customer_id=row.text("customer_id"),
        name=row.text("name"),
        email=email,
        currency=_currency(row, "currency"),
        tax_rate=tax_rate,
        country=row.optional_text("country") or "",
        segment=row.optional_text("segment") or "",
        **{column: row.optional_text(column) for column in ADDRESS_COLUMNS},
    )


def _month_start(moment: date) -> date:
    return date(moment.year, moment.month, 1)


def _next_month_start(day: date) -> date:
    """The first period start on or after `day`."""
    if day.day == 1:
        return day
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def billed_versions(versions: Iterable[Plan], first: date, last: date | None) -> list[Plan]:
    """Plan versions in effect at the start of some period in `[first, last]` (None = no end).

    A period uses the version in effect at its start, so a version that takes
    effect mid-month and is replaced before the next month is never billed.
    """
    ordered = sorted(versions, key=lambda plan: plan.effective_from)
    used = []
    for index, plan in enumerate(ordered):
        start = max(first, _next_month_start(plan.effective_from))
        replaced = ordered[index + 1].effective_from if index + 1 < len(ordered) else None
        if (last is None or start <= last) and (replaced is None or start < replaced):
            used.append(plan)
    return used


def _subscription(row: CsvRow, customers: dict[str, Customer], catalog: Catalog) -> Subscription:
    customer = _known_customer(row, customers)
    plan_id = row.text("plan_id")
    versions = catalog.plan_versions(plan_id)
    if not versions:
        row.fail("plan_id", f"unknown plan {plan_id!r} (not in catalog.yml)")
    started_at = row.timestamp("started_at")
    ended_at = row.optional_timestamp("ended_at")
    if ended_at is not None and ended_at <= started_at:
        row.fail("ended_at", f"must be after started_at ({started_at.isoformat()})")
    seats = row.integer("seats")
    if seats < 0:
        row.fail("seats", f"must not be negative, got {seats}")
    first = _month_start(started_at)
    if versions[0].effective_from > first:
        row.fail(
            "started_at",
            f"plan {plan_id!r} has no version in effect at the start of period "
            f"{first:%Y-%m} (its first effective_from is {versions[0].effective_from})",
        )
    last = None if ended_at is None else _month_start(ended_at - timedelta(microseconds=1))
    for plan in billed_versions(versions, first, last):
        if plan.currency != customer.currency:
            row.fail(
                "plan_id",
                f"plan {plan_id!r} version {plan.plan_version} is priced in {plan.currency}, "
                f"customer {customer.customer_id!r} is billed in {customer.currency}",
            )
    return Subscription(
        subscription_id=row.text("subscription_id"),
        customer_id=customer.customer_id,
        plan_id=plan_id,
        started_at=started_at,
        ended_at=ended_at,
        seats=seats,
    )


def _check_overlaps(rows: list[CsvRow], subscriptions: list[Subscription]) -> None:
    """One customer has at most one subscription at any instant (end == next start is fine)."""
    by_customer: dict[str, list[tuple[Subscription, CsvRow]]] = {}
    for subscription, row in zip(subscriptions, rows, strict=True):
        by_customer.setdefault(subscription.customer_id, []).append((subscription, row))
    for entries in by_customer.values():
        entries.sort(key=lambda entry: entry[0].started_at)
        for (earlier, earlier_row), (later, later_row) in zip(entries, entries[1:], strict=False):
            if earlier.ended_at is None or later.started_at < earlier.ended_at:
                later_row.fail(
                    "started_at",
                    f"subscription {later.subscription_id!r} overlaps subscription "
                    f"{earlier.subscription_id!r} (line {earlier_row.line}) of customer "
                    f"{later.customer_id!r}",
                )


def _credit_grant(row: CsvRow, customers: dict[str, Customer]) -> CreditGrant:
    customer = _known_customer(row, customers)
    amount = row.decimal("amount")
    if amount <= 0:
        row.fail("amount", f"must be greater than 0, got {amount}")
    currency = _currency(row, "currency")
    if currency != customer.currency:
        row.fail(
            "currency",
            f"grant is in {currency}, customer {customer.customer_id!r} is billed in "
            f"{customer.currency}",
        )
    granted_at = row.timestamp("granted_at")
    expires_at = row.optional_timestamp("expires_at")
    if expires_at is not None and expires_at <= granted_at:
        row.fail("expires_at", f"must be after granted_at ({granted_at.isoformat()})")
    return CreditGrant(
        grant_id=row.text("grant_id"),
        customer_id=customer.customer_id,
        amount=amount,
        currency=currency,
        kind=_one_of(row, "kind", GRANT_KINDS),
        granted_at=granted_at,
        expires_at=expires_at,
    )


def _first_period(row: CsvRow) -> date:
    """A period as `YYYY-MM` (or the first day of the month, `YYYY-MM-01`)."""
    text = row.text("first_period")
    try:
        day = date.fromisoformat(f"{text}-01" if len(text) == 7 else text)
    except ValueError:
        row.fail("first_period", f"must be a period YYYY-MM, got {text!r}")
    if day.day != 1:
        row.fail("first_period", f"must be a period YYYY-MM (a month's first day), got {text!r}")
    return day


def _discount(row: CsvRow, customers: dict[str, Customer], catalog: Catalog) -> Discount:
    customer = _known_customer(row, customers)
    kind = _one_of(row, "kind", DISCOUNT_KINDS)
    value = row.decimal("value")
    if value <= 0 or (kind == "percent" and value > 1):
        rule = "a fraction in (0, 1] (0.10 = 10 %)" if kind == "percent" else "greater than 0"
        row.fail("value", f"a {kind} discount must be {rule}, got {value}")
    applies_to = row.text("applies_to")
    if applies_to not in ("all", "base_fee") and applies_to not in catalog.meter_ids:
        row.fail("applies_to", f"must be all, base_fee or a meter id, got {applies_to!r}")
    cycles = row.optional_integer("cycles")
    if cycles is not None and cycles < 1:
        row.fail("cycles", f"must be at least 1 (leave empty for forever), got {cycles}")
    return Discount(
        discount_id=row.text("discount_id"),
        customer_id=customer.customer_id,
        kind=kind,
        value=value,
        applies_to=applies_to,
        first_period=_first_period(row),
        cycles=cycles,
    )


def _usage_limit(row: CsvRow, customers: dict[str, Customer], catalog: Catalog) -> UsageLimit:
    customer = _known_customer(row, customers)
    meter_id = row.text("meter_id")
    if meter_id not in catalog.meter_ids:
        row.fail("meter_id", f"unknown meter {meter_id!r} (not in catalog.yml)")
    limit = row.decimal("limit_quantity")
    if limit <= 0:
        row.fail("limit_quantity", f"must be greater than 0, got {limit}")
    return UsageLimit(customer.customer_id, meter_id, limit)


def _check_limits_unique(rows: list[CsvRow]) -> None:
    seen: dict[tuple[str, str], int] = {}
    for row in rows:
        key = (row.text("customer_id"), row.text("meter_id"))
        if key in seen:
            row.fail("meter_id", f"duplicate limit for this customer and meter (line {seen[key]})")
        seen[key] = row.line


def _check_override_customers(catalog: Catalog, customers: dict[str, Customer]) -> None:
    for override in catalog.overrides:
        if override.customer_id not in customers:
            raise InputError(
                f"catalog.yml: overrides[{override.customer_id}/{override.plan_id}].customer_id: "
                f"unknown customer {override.customer_id!r} (not in customers.csv)"
            )


def load_reference_files(data_dir: Path, catalog: Catalog) -> ReferenceData:
    """Validate every reference CSV of `data_dir`; the first problem raises `InputError`."""
    customer_rows = read_csv_rows(
        data_dir / "customers.csv",
        ("customer_id", "name", "email", "currency", "tax_rate", "country", "segment"),
        ADDRESS_COLUMNS,
    )
    _unique(customer_rows, "customer_id")
    customers = {c.customer_id: c for c in map(_customer, customer_rows)}
    _check_override_customers(catalog, customers)

    subscription_rows = read_csv_rows(
        data_dir / "subscriptions.csv",
        ("subscription_id", "customer_id", "plan_id", "started_at", "ended_at", "seats"),
    )
    _unique(subscription_rows, "subscription_id")
    subscriptions = [_subscription(row, customers, catalog) for row in subscription_rows]
    _check_overlaps(subscription_rows, subscriptions)

    grant_rows = read_csv_rows(
        data_dir / "credit_grants.csv",
        ("grant_id", "customer_id", "amount", "currency", "kind", "granted_at", "expires_at"),
        missing_ok=True,
    )
    _unique(grant_rows, "grant_id")

    discount_rows = read_csv_rows(
        data_dir / "discounts.csv",
        ("discount_id", "customer_id", "kind", "value", "applies_to", "first_period", "cycles"),
        missing_ok=True,
    )
    _unique(discount_rows, "discount_id")

    limit_rows = read_csv_rows(
        data_dir / "usage_limits.csv",
        ("customer_id", "meter_id", "limit_quantity"),
        missing_ok=True,
    )
    _check_limits_unique(limit_rows)

    return ReferenceData(
        customers=tuple(customers.values()),
        subscriptions=tuple(subscriptions),
        credit_grants=tuple(_credit_grant(row, customers) for row in grant_rows),
        discounts=tuple(_discount(row, customers, catalog) for row in discount_rows),
        usage_limits=tuple(_usage_limit(row, customers, catalog) for row in limit_rows),
    )
