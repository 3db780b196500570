"""The validated catalog: settings, meters, plans and overrides as frozen values.

Field names match the columns of the raw tables they are written to, so the
warehouse loader can flatten them without a mapping table.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

AGGREGATIONS = ("count", "sum", "max", "unique_count", "latest")


@dataclass(frozen=True)
class Settings:
    """Billing-wide knobs; the defaults are the SPEC's."""

    invoice_grace_days: int = 3
    payment_grace_days: int = 5
    invoice_prefix: str = "INV"
    future_tolerance_minutes: int = 5
    company_name: str = "Example Billing Co"


@dataclass(frozen=True)
class MeterFilter:
    """Property equality filter; the value is kept as text (SPEC: filters compare as text)."""

    property_name: str
    property_value: str


@dataclass(frozen=True)
class Meter:
    """What events of one type add up to in a period."""

    meter_id: str
    name: str
    unit: str
    event_type: str
    aggregation: str
    field: str
    property_name: str | None
    filters: tuple[MeterFilter, ...]


@dataclass(frozen=True)
class Tier:
    """One price tier covering `(lower_bound, up_to]`; `up_to` None means unbounded."""

    tier_index: int
    lower_bound: Decimal
    up_to: Decimal | None
    unit_price: Decimal
    flat_fee: Decimal


@dataclass(frozen=True)
class Charge:
    """How one meter is priced; keys a charge model does not use are None."""

    meter_id: str
    charge_model: str
    unit_price: Decimal | None = None
    package_size: Decimal | None = None
    package_price: Decimal | None = None
    free_units: Decimal | None = None
    rate: Decimal | None = None
    fixed_fee: Decimal | None = None
    tiers: tuple[Tier, ...] = ()


@dataclass(frozen=True)
class Plan:
    """One version of a plan; a period uses the version in effect at its start."""

    plan_id: str
    plan_version: int
    name: str
    effective_from: date
    currency: str
    base_fee: Decimal
    seat_fee: Decimal
    included_seats: int
    trial_days: int
    minimum_commitment: Decimal
    charges: tuple[Charge, ...]


@dataclass(frozen=True)
class Override:
    """A negotiated contract: fee keys left None keep the plan's value."""

    customer_id: str
    plan_id: str
    base_fee: Decimal | None
    seat_fee: Decimal | None
    included_seats: int | None
    trial_days: int | None
    minimum_commitment: Decimal | None
    charges: tuple[Charge, ...]


@dataclass(frozen=True)
class Catalog:
    """Everything `catalog.yml` defines, validated."""

    settings: Settings
    meters: tuple[Meter, ...]
    plans: tuple[Plan, ...]
    overrides: tuple[Override, ...]

    def plan_versions(self, plan_id: str) -> tuple[Plan, ...]:
        """The versions of one plan, oldest first (empty if the plan is unknown)."""
        return tuple(
            sorted((p for p in self.plans if p.plan_id == plan_id), key=lambda p: p.plan_version)
        )

    @property
    def meter_ids(self) -> frozenset[str]:
        return frozenset(m.meter_id for m in self.meters)
