"""Parse and validate `catalog.yml` into a `Catalog`.

Prices live in this file, so a mistake here is a billing mistake: every rule
broken stops the run with an `InputError` that names the key path, e.g.
`catalog.yml: plans[growth v2].charges[api_calls].tiers[2].up_to: ...`.
List items are named by their id where they have one; tiers by their 1-based
position (the same number as `raw.charge_tiers.tier_index`); anything else by
`#position`. Unknown keys are refused everywhere: a misspelled `base_fe`
silently billing zero is worse than a stopped run.
"""

import re
from dataclasses import fields
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from loaders.catalog_models import (
    AGGREGATIONS,
    Catalog,
    Charge,
    Meter,
    MeterFilter,
    Override,
    Plan,
    Settings,
    Tier,
)
from loaders.catalog_nodes import (
    CATALOG_FILE,
    Node,
    amount_value,
    count_value,
    date_value,
    named_by,
    or_default,
    positive_value,
    text_value,
)
from loaders.currencies import CURRENCY_MINOR_UNITS
from loaders.decimal_yaml import load_yaml
from loaders.errors import InputError

# Required and optional keys per charge model (SPEC "Charge keys").
CHARGE_KEYS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "per_unit": (frozenset({"unit_price"}), frozenset()),
    "graduated": (frozenset({"tiers"}), frozenset()),
    "volume": (frozenset({"tiers"}), frozenset()),
    "package": (frozenset({"package_size", "package_price"}), frozenset({"free_units"})),
    "percentage": (frozenset({"rate"}), frozenset({"fixed_fee"})),
}
ALL_CHARGE_KEYS = frozenset().union(*(req | opt for req, opt in CHARGE_KEYS.values()))
FEE_KEYS = ("base_fee", "seat_fee", "minimum_commitment")
COUNT_KEYS = ("included_seats", "trial_days")
# Property names end up in JSON paths (`$.name`) in the dbt models.
PROPERTY_NAME = re.compile(r"[A-Za-z0-9_\-]+")


def _settings(node: Node) -> Settings:
    defaults = Settings()
    keys = [f.name for f in fields(Settings)]
    if node.value is None:
        return defaults
    node.mapping(required=(), optional=keys)
    return Settings(
        **{
            key: or_default(
                node.child(key),
                text_value if isinstance(getattr(defaults, key), str) else count_value,
                getattr(defaults, key),
            )
            for key in keys
        }
    )


def _filters(node: Node) -> tuple[MeterFilter, ...]:
    if node.value is None:
        return ()
    if not isinstance(node.value, dict):
        node.fail("must be a mapping of property name to value")
    filters = []
    for name, value in node.value.items():
        entry = Node(value, f"{node.path}.{name}")
        if not isinstance(name, str) or not PROPERTY_NAME.fullmatch(name):
            entry.fail("property name must use only letters, digits, '_' or '-'")
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, str | int | Decimal):
            text = str(value)
        else:
            entry.fail(f"must be a text, number or boolean, got {value!r}")
        filters.append(MeterFilter(property_name=name, property_value=text))
    return tuple(filters)


def _meter(node: Node) -> Meter:
    node.mapping(
        required=("id", "event_type", "aggregation"),
        optional=("name", "unit", "field", "filters"),
    )
    meter_id = text_value(node.child("id"))
    aggregation = text_value(node.child("aggregation"))
    if aggregation not in AGGREGATIONS:
        node.child("aggregation").fail(
            f"must be one of {' | '.join(AGGREGATIONS)}, got {aggregation!r}"
        )
    field = or_default(node.child("field"), text_value, "quantity")
    property_name = None
    if field != "quantity":
        property_name = field.removeprefix("properties.")
        if not field.startswith("properties.") or not PROPERTY_NAME.fullmatch(property_name):
            node.child("field").fail(
                f"must be 'quantity' or 'properties.<name>' (letters, digits, '_', '-'), "
                f"got {field!r}"
            )
    return Meter(
        meter_id=meter_id,
        name=or_default(node.child("name"), text_value, meter_id),
        unit=or_default(node.child("unit"), text_value, "units"),
        event_type=text_value(node.child("event_type")),
        aggregation=aggregation,
        field=field,
        property_name=property_name,
        filters=_filters(node.child("filters")),
    )


def _tiers(node: Node) -> tuple[Tier, ...]:
    items = node.items(lambda _item, position: str(position))
    if not items:
        node.fail("must list at least one tier")
    tiers: list[Tier] = []
    lower = Decimal(0)
    for index, item in enumerate(items, 1):
        item.mapping(required=("unit_price",), optional=("up_to", "flat_fee"))
        if "up_to" not in item.value:
            item.child("up_to").fail("required key is missing (use null on the last tier)")
        last = index == len(items)
        up_to_node = item.child("up_to")
        if last and up_to_node.value is not None:
            up_to_node.fail("the last tier must have up_to: null")
        if not last and up_to_node.value is None:
            up_to_node.fail("only the last tier may have up_to: null")
        up_to = None if last else positive_value(up_to_node)
        if up_to is not None and up_to <= lower:
            up_to_node.fail(f"tiers must ascend: {up_to} is not above the previous bound {lower}")
        tiers.append(
            Tier(
                tier_index=index,
                lower_bound=lower,
                up_to=up_to,
                unit_price=amount_value(item.child("unit_price")),
                flat_fee=or_default(item.child("flat_fee"), amount_value, Decimal(0)),
            )
        )
        lower = up_to if up_to is not None else lower
    return tuple(tiers)


def _charge(node: Node, meter_ids: frozenset[str]) -> Charge:
    node.mapping(required=("meter", "model"), optional=ALL_CHARGE_KEYS)
    model = text_value(node.child("model"))
    if model not in CHARGE_KEYS:
        node.child("model").fail(f"must be one of {' | '.join(CHARGE_KEYS)}, got {model!r}")
    model_required, model_optional = CHARGE_KEYS[model]
    node.mapping(required={"meter", "model", *model_required}, optional=model_optional)
    meter_id = text_value(node.child("meter"))
    if meter_id not in meter_ids:
        node.child("meter").fail(
            f"unknown meter {meter_id!r}; meters: {', '.join(sorted(meter_ids))}"
        )
    if model in ("graduated", "volume"):
        return Charge(meter_id, model, tiers=_tiers(node.child("tiers")))
    if model == "per_unit":
        return Charge(meter_id, model, unit_price=amount_value(node.child("unit_price")))
    if model == "package":
        return Charge(
            meter_id,
            model,
            package_size=positive_value(node.child("package_size")),
            package_price=amount_value(node.child("package_price")),
            free_units=or_default(node.child("free_units"), amount_value, Decimal(0)),
        )
    rate = amount_value(node.child("rate"))
    if rate > 1:
        node.child("rate").fail(f"is a fraction (0.029 = 2.9 %) and must be at most 1, got {rate}")
    return Charge(
        meter_id,
        model,
        rate=rate,
        fixed_fee=or_default(node.child("fixed_fee"), amount_value, Decimal(0)),
    )


def _charges(node: Node, meter_ids: frozenset[str]) -> tuple[Charge, ...]:
    charges: list[Charge] = []
    for item in node.items(named_by("meter")):
        charge = _charge(item, meter_ids)
        if any(c.meter_id == charge.meter_id for c in charges):
            item.fail(f"meter {charge.meter_id!r} is charged more than once")
        charges.append(charge)
    return tuple(charges)


def _plan(node: Node, meter_ids: frozenset[str]) -> Plan:
    node.mapping(
        required=("id", "version", "effective_from", "currency"),
        optional=("name", "charges", *FEE_KEYS, *COUNT_KEYS),
    )
    plan_id = text_value(node.child("id"))
    version = node.child("version")
    if isinstance(version.value, bool) or not isinstance(version.value, int) or version.value < 1:
        version.fail(f"must be a whole number >= 1, got {version.value!r}")
    currency = node.child("currency")
    if currency.value not in CURRENCY_MINOR_UNITS:
        currency.fail(
            f"unknown currency {currency.value!r}; known: {', '.join(CURRENCY_MINOR_UNITS)}"
        )
    return Plan(
        plan_id=plan_id,
        plan_version=version.value,
        name=or_default(node.child("name"), text_value, plan_id),
        effective_from=date_value(node.child("effective_from")),
        currency=currency.value,
        base_fee=or_default(node.child("base_fee"), amount_value, Decimal(0)),
        seat_fee=or_default(node.child("seat_fee"), amount_value, Decimal(0)),
        included_seats=or_default(node.child("included_seats"), count_value, 0),
        trial_days=or_default(node.child("trial_days"), count_value, 0),
        minimum_commitment=or_default(node.child("minimum_commitment"), amount_value, Decimal(0)),
        charges=_charges(node.child("charges"), meter_ids),
    )


def _check_versions(plans: list[tuple[Node, Plan]]) -> None:
    """(id, version) is unique and later versions take effect later."""
    seen: dict[tuple[str, int], Plan] = {}
    for node, plan in plans:
        if (plan.plan_id, plan.plan_version) in seen:
            node.fail("duplicate plan id and version")
        seen[(plan.plan_id, plan.plan_version)] = plan
    for node, plan in plans:
        for other in seen.values():
            earlier = other.plan_id == plan.plan_id and other.plan_version < plan.plan_version
            if earlier and other.effective_from >= plan.effective_from:
                node.child("effective_from").fail(
                    f"must be after version {other.plan_version}'s effective_from "
                    f"{other.effective_from}: versions take effect in version order"
                )


def _override(node: Node, plan_ids: frozenset[str], meter_ids: frozenset[str]) -> Override:
    node.mapping(
        required=("customer_id", "plan_id"),
        optional=("charges", *FEE_KEYS, *COUNT_KEYS),
    )
    plan_id = text_value(node.child("plan_id"))
    if plan_id not in plan_ids:
        node.child("plan_id").fail(f"unknown plan {plan_id!r}")
    return Override(
        customer_id=text_value(node.child("customer_id")),
        plan_id=plan_id,
        base_fee=or_default(node.child("base_fee"), amount_value, None),
        seat_fee=or_default(node.child("seat_fee"), amount_value, None),
        included_seats=or_default(node.child("included_seats"), count_value, None),
        trial_days=or_default(node.child("trial_days"), count_value, None),
        minimum_commitment=or_default(node.child("minimum_commitment"), amount_value, None),
        charges=_charges(node.child("charges"), meter_ids),
    )


def parse_catalog(document: Any) -> Catalog:
    """Validate an already-parsed YAML document (exact decimals) into a `Catalog`."""
    root = Node(document, "")
    root.mapping(required=("meters", "plans"), optional=("settings", "overrides"))
    settings = _settings(root.child("settings"))

    meters: list[Meter] = []
    for item in root.child("meters").items(named_by("id")):
        meter = _meter(item)
        if any(m.meter_id == meter.meter_id for m in meters):
            item.fail("duplicate meter id")
        meters.append(meter)
    meter_ids = frozenset(m.meter_id for m in meters)

    plan_nodes = [
        (item, _plan(item, meter_ids))
        for item in root.child("plans").items(named_by("id", "version", template="{} v{}"))
    ]
    _check_versions(plan_nodes)
    plan_ids = frozenset(plan.plan_id for _, plan in plan_nodes)

    overrides: list[Override] = []
    for item in root.child("overrides").items(named_by("customer_id", "plan_id")):
        override = _override(item, plan_ids, meter_ids)
        if any(
            (o.customer_id, o.plan_id) == (override.customer_id, override.plan_id)
            for o in overrides
        ):
            item.fail("duplicate override for this customer and plan")
        overrides.append(override)

    return Catalog(
        settings=settings,
        meters=tuple(meters),
        plans=tuple(plan for _, plan in plan_nodes),
        overrides=tuple(overrides),
    )


def load_catalog(path: Path) -> Catalog:
    """Read and validate a catalog file; every problem raises `InputError`."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{CATALOG_FILE}: file not found at {path}") from None
    try:
        document = load_yaml(text)
    except yaml.YAMLError as error:
        raise InputError(f"{CATALOG_FILE}: invalid YAML: {error}".replace("\n", " ")) from None
    return parse_catalog(document)
