"""catalog.yml: a valid catalog parses exactly; each broken rule names its key and rule."""

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from loaders import InputError, load_catalog
from loaders.catalog_models import Charge, MeterFilter, Settings, Tier


def test_valid_catalog_parses_with_exact_decimals_and_defaults(inputs):
    catalog = load_catalog(inputs.data_dir / "catalog.yml")

    assert catalog.settings == Settings(invoice_grace_days=3, invoice_prefix="INV")
    api_calls, storage, payments = catalog.meters
    assert (api_calls.name, api_calls.unit, api_calls.field) == ("api_calls", "units", "quantity")
    assert api_calls.property_name is None
    assert (storage.name, storage.unit, storage.property_name) == ("Storage", "GB", "gb")
    assert storage.filters == (MeterFilter("region", "eu"), MeterFilter("tier", "2"))
    assert payments.property_name == "amount"

    growth_v1 = catalog.plan_versions("growth")[0]
    assert growth_v1.effective_from == date(2026, 1, 1)
    assert growth_v1.base_fee == Decimal("499.00")
    assert growth_v1.charges[0].tiers == (
        Tier(1, Decimal(0), Decimal(100000), Decimal(0), Decimal(0)),
        Tier(2, Decimal(100000), None, Decimal("0.001"), Decimal(5)),
    )
    assert growth_v1.charges[1] == Charge(
        "payments", "percentage", rate=Decimal("0.029"), fixed_fee=Decimal(0)
    )
    package = catalog.plan_versions("growth")[1].charges[0]
    assert package.free_units == Decimal(0)
    euro = catalog.plan_versions("euro")[0]
    assert (euro.name, euro.base_fee, euro.included_seats) == ("euro", Decimal(0), 0)
    # 0.1 is not a binary fraction: only parsing the YAML text keeps it exact.
    assert euro.charges[0].unit_price == Decimal("0.1")

    (override,) = catalog.overrides
    assert override.base_fee == Decimal("399.00")
    assert override.seat_fee is None and override.trial_days is None
    assert override.charges[0].unit_price == Decimal("0.0008")


def _plan(catalog: dict[str, Any], plan_id: str, version: int = 1) -> dict[str, Any]:
    return next(p for p in catalog["plans"] if (p["id"], p["version"]) == (plan_id, version))


def _charge(catalog: dict[str, Any], meter: str, plan_id: str = "growth", version: int = 1):
    return next(c for c in _plan(catalog, plan_id, version)["charges"] if c["meter"] == meter)


def _tiers(catalog: dict[str, Any]) -> list[dict[str, Any]]:
    return _charge(catalog, "api_calls")["tiers"]


GROWTH_API = "plans[growth v1].charges[api_calls]"
BROKEN: dict[str, tuple[Callable[[dict[str, Any]], Any], str]] = {
    "missing required key": (
        lambda c: c["meters"][0].pop("aggregation"),
        "catalog.yml: meters[api_calls].aggregation: required key is missing",
    ),
    "unknown top-level key": (
        lambda c: c.update(discounts=[]),
        "catalog.yml: unknown key(s) discounts",
    ),
    "unknown key in a charge": (
        lambda c: _charge(c, "payments").update(unit_price=Decimal(1)),
        "catalog.yml: plans[growth v1].charges[payments]: unknown key(s) unit_price",
    ),
    "key of another charge model": (
        lambda c: _charge(c, "api_calls").update(package_size=10),
        f"catalog.yml: {GROWTH_API}: unknown key(s) package_size",
    ),
    "charge model key missing": (
        lambda c: _charge(c, "payments").pop("rate"),
        "catalog.yml: plans[growth v1].charges[payments].rate: required key is missing",
    ),
    "unknown aggregation": (
        lambda c: c["meters"][0].update(aggregation="median"),
        "catalog.yml: meters[api_calls].aggregation: must be one of "
        "count | sum | max | unique_count | latest, got 'median'",
    ),
    "field neither quantity nor a property": (
        lambda c: c["meters"][1].update(field="gb"),
        "catalog.yml: meters[storage_gb].field: must be 'quantity' or 'properties.<name>'",
    ),
    "duplicate meter id": (
        lambda c: c["meters"].append(dict(c["meters"][0])),
        "catalog.yml: meters[api_calls]: duplicate meter id",
    ),
    "duplicate plan id and version": (
        lambda c: c["plans"].append(dict(_plan(c, "euro"))),
        "catalog.yml: plans[euro v1]: duplicate plan id and version",
    ),
    "effective_from not a date": (
        lambda c: _plan(c, "euro").update(effective_from="next monday"),
        "catalog.yml: plans[euro v1].effective_from: must be a date (YYYY-MM-DD)",
    ),
    "versions out of order": (
        lambda c: _plan(c, "growth", 2).update(effective_from="2025-12-01"),
        "catalog.yml: plans[growth v2].effective_from: must be after version 1's effective_from",
    ),
    "unknown currency": (
        lambda c: _plan(c, "euro").update(currency="XYZ"),
        "catalog.yml: plans[euro v1].currency: unknown currency 'XYZ'",
    ),
    "unknown charge model": (
        lambda c: _charge(c, "api_calls").update(model="stairstep"),
        f"catalog.yml: {GROWTH_API}.model: must be one of "
        "per_unit | graduated | volume | package | percentage",
    ),
    "tiers not ascending": (
        lambda c: _tiers(c).insert(1, {"up_to": 50, "unit_price": 0}),
        f"catalog.yml: {GROWTH_API}.tiers[2].up_to: tiers must ascend: "
        "50 is not above the previous bound 100000",
    ),
    "unbounded tier before the last": (
        lambda c: _tiers(c)[0].update(up_to=None),
        f"catalog.yml: {GROWTH_API}.tiers[1].up_to: only the last tier may have up_to: null",
    ),
    "bounded last tier": (
        lambda c: _tiers(c)[1].update(up_to=200000),
        f"catalog.yml: {GROWTH_API}.tiers[2].up_to: the last tier must have up_to: null",
    ),
    "tier without up_to": (
        lambda c: _tiers(c)[1].pop("up_to"),
        f"catalog.yml: {GROWTH_API}.tiers[2].up_to: required key is missing",
    ),
    "negative price": (
        lambda c: _tiers(c)[1].update(unit_price=Decimal("-0.001")),
        f"catalog.yml: {GROWTH_API}.tiers[2].unit_price: must not be negative, got -0.001",
    ),
    "price that is text": (
        lambda c: _plan(c, "growth").update(base_fee="499"),
        "catalog.yml: plans[growth v1].base_fee: must be a number, got '499'",
    ),
    "price finer than the warehouse keeps": (
        lambda c: _plan(c, "growth").update(base_fee=Decimal("0.0000000000001")),
        "catalog.yml: plans[growth v1].base_fee: has more than 12 decimal places",
    ),
    "rate above 100 %": (
        lambda c: _charge(c, "payments").update(rate=Decimal("2.9")),
        "catalog.yml: plans[growth v1].charges[payments].rate: is a fraction",
    ),
    "zero package size": (
        lambda c: _charge(c, "api_calls", version=2).update(package_size=0),
        "catalog.yml: plans[growth v2].charges[api_calls].package_size: must be greater than 0",
    ),
    "unknown meter in a charge": (
        lambda c: _charge(c, "payments").update(meter="sms"),
        "catalog.yml: plans[growth v1].charges[sms].meter: unknown meter 'sms'",
    ),
    "meter charged twice": (
        lambda c: _plan(c, "euro")["charges"].append(dict(_charge(c, "api_calls", "euro"))),
        "catalog.yml: plans[euro v1].charges[api_calls]: meter 'api_calls' is charged more than",
    ),
    "override of an unknown plan": (
        lambda c: c["overrides"][0].update(plan_id="enterprise"),
        "catalog.yml: overrides[acme/enterprise].plan_id: unknown plan 'enterprise'",
    ),
    "override charging an unknown meter": (
        lambda c: c["overrides"][0]["charges"][0].update(meter="sms"),
        "catalog.yml: overrides[acme/growth].charges[sms].meter: unknown meter 'sms'",
    ),
    "negative grace days": (
        lambda c: c["settings"].update(payment_grace_days=-1),
        "catalog.yml: settings.payment_grace_days: must be a whole number >= 0",
    ),
    "item without its id": (
        lambda c: c["meters"][2].pop("id"),
        "catalog.yml: meters[#3].id: required key is missing",
    ),
}


@pytest.mark.parametrize("case", BROKEN)
def test_broken_rule_names_key_path_and_rule(inputs, case):
    break_catalog, message = BROKEN[case]
    catalog = inputs.base_catalog()
    break_catalog(catalog)
    path = inputs.catalog(catalog)

    with pytest.raises(InputError) as error:
        load_catalog(path)

    assert str(error.value).startswith(message)


def test_duplicate_yaml_key_is_refused(inputs):
    path = inputs.data_dir / "catalog.yml"
    path.write_text("meters: []\nplans: []\nplans: []\n")

    with pytest.raises(InputError, match=r"catalog.yml: invalid YAML: duplicate key 'plans'"):
        load_catalog(path)


def test_missing_catalog_file(tmp_path):
    with pytest.raises(InputError, match="catalog.yml: file not found"):
        load_catalog(tmp_path / "catalog.yml")
