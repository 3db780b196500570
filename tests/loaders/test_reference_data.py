"""Reference CSVs: valid files parse; each broken rule names file, line, column and rule."""

from datetime import datetime
from decimal import Decimal

import pytest

from loaders import InputError, load_catalog, load_reference_files
from loaders.reference_data import CreditGrant, Discount, UsageLimit

GRANTS_HEADER = [
    "grant_id",
    "customer_id",
    "amount",
    "currency",
    "kind",
    "granted_at",
    "expires_at",
]
GRANT = ["g1", "acme", "100.50", "USD", "prepaid", "2026-01-01", "2027-01-01T00:00:00-05:00"]
DISCOUNTS_HEADER = [
    "discount_id",
    "customer_id",
    "kind",
    "value",
    "applies_to",
    "first_period",
    "cycles",
]
DISCOUNT = ["d1", "acme", "percent", "0.10", "api_calls", "2026-09", ""]
LIMITS_HEADER = ["customer_id", "meter_id", "limit_quantity"]
LIMIT = ["acme", "api_calls", "100000"]


def _load(inputs):
    return load_reference_files(inputs.data_dir, load_catalog(inputs.data_dir / "catalog.yml"))


def test_valid_files_parse_and_optional_files_may_be_absent(inputs):
    reference = _load(inputs)

    assert [c.customer_id for c in reference.customers] == ["acme", "globex", "initech"]
    assert reference.customers[0].tax_rate == Decimal("0.0825")
    assert reference.customers[0].city is None
    globex = reference.subscriptions[2]
    assert globex.started_at == datetime(2026, 3, 15)  # 02:00+02:00 is midnight UTC
    assert globex.ended_at is None
    assert reference.credit_grants == reference.discounts == reference.usage_limits == ()


def test_optional_files_and_address_columns(inputs):
    inputs.csv("credit_grants.csv", GRANTS_HEADER, [GRANT, ["g2", *GRANT[1:-1], ""]])
    inputs.csv("discounts.csv", DISCOUNTS_HEADER, [DISCOUNT])
    inputs.csv("usage_limits.csv", LIMITS_HEADER, [LIMIT])
    inputs.csv(
        "customers.csv",
        [*inputs.customers_header, "city", "postal_code"],
        [[*row, "Springfield", "12345"] for row in inputs.base_customers],
    )

    reference = _load(inputs)

    assert reference.credit_grants[0] == CreditGrant(
        "g1",
        "acme",
        Decimal("100.50"),
        "USD",
        "prepaid",
        datetime(2026, 1, 1),
        datetime(2027, 1, 1, 5),
    )
    assert reference.credit_grants[1].expires_at is None
    assert reference.discounts[0] == Discount(
        "d1", "acme", "percent", Decimal("0.10"), "api_calls", datetime(2026, 9, 1).date(), None
    )
    assert reference.usage_limits[0] == UsageLimit("acme", "api_calls", Decimal(100000))
    assert (reference.customers[0].city, reference.customers[0].postal_code) == (
        "Springfield",
        "12345",
    )


BROKEN = {
    "customer id duplicated": (
        lambda i: i.customers(["acme", "Acme again", "x@acme.test", "USD", "0", "US", "smb"]),
        "customers.csv: line 5: customer_id: duplicate id 'acme' (first on line 2)",
    ),
    "customer id missing": (
        lambda i: i.customers(["", "Nobody", "x@acme.test", "USD", "0", "US", "smb"]),
        "customers.csv: line 5: customer_id: a value is required",
    ),
    "customer column missing": (
        lambda i: i.csv(
            "customers.csv", i.customers_header[:-1], [row[:-1] for row in i.base_customers]
        ),
        "customers.csv: line 1: missing column(s) segment",
    ),
    "customer column unknown": (
        lambda i: i.csv(
            "customers.csv", [*i.customers_header, "vat"], [[*r, "1"] for r in i.base_customers]
        ),
        "customers.csv: line 1: unknown column(s) vat",
    ),
    "row with too many fields": (
        lambda i: i.customers(["hooli", "Hooli", "a@hooli.test", "USD", "0", "US", "smb", "extra"]),
        "customers.csv: line 5: has 8 fields, the header has 7",
    ),
    "tax rate not a decimal": (
        lambda i: i.customers(["hooli", "Hooli", "a@hooli.test", "USD", "8.25%", "US", "smb"]),
        "customers.csv: line 5: tax_rate: must be a decimal number, got '8.25%'",
    ),
    "tax rate of 100 %": (
        lambda i: i.customers(["hooli", "Hooli", "a@hooli.test", "USD", "1", "US", "smb"]),
        "customers.csv: line 5: tax_rate: is a fraction (0.0825 = 8.25 %) in [0, 1), got 1",
    ),
    "customer currency unknown": (
        lambda i: i.customers(["hooli", "Hooli", "a@hooli.test", "usd", "0", "US", "smb"]),
        "customers.csv: line 5: currency: unknown currency 'usd'",
    ),
    "customer email invalid": (
        lambda i: i.customers(["hooli", "Hooli", "hooli.test", "USD", "0", "US", "smb"]),
        "customers.csv: line 5: email: must be an e-mail address",
    ),
    "subscription id duplicated": (
        lambda i: i.subscriptions(["s1", "globex", "growth", "2027-01-01", "", "1"]),
        "subscriptions.csv: line 6: subscription_id: duplicate id 's1' (first on line 2)",
    ),
    "subscription of an unknown customer": (
        lambda i: i.subscriptions(["s5", "hooli", "growth", "2026-01-01", "", "1"]),
        "subscriptions.csv: line 6: customer_id: unknown customer 'hooli'",
    ),
    "subscription to an unknown plan": (
        lambda i: i.subscriptions(changes=[(3, "plan_id", "enterprise")]),
        "subscriptions.csv: line 5: plan_id: unknown plan 'enterprise'",
    ),
    "subscription start not a timestamp": (
        lambda i: i.subscriptions(changes=[(3, "started_at", "01/02/2026")]),
        "subscriptions.csv: line 5: started_at: must be an ISO 8601 timestamp, got '01/02/2026'",
    ),
    "subscription ending when it starts": (
        lambda i: i.subscriptions(changes=[(3, "ended_at", "2026-01-01T00:00:00Z")]),
        "subscriptions.csv: line 5: ended_at: must be after started_at (2026-01-01T00:00:00)",
    ),
    "negative seats": (
        lambda i: i.subscriptions(changes=[(3, "seats", "-1")]),
        "subscriptions.csv: line 5: seats: must not be negative, got -1",
    ),
    "overlapping subscriptions": (
        lambda i: i.subscriptions(["s5", "acme", "growth", "2026-05-31T23:00Z", "2026-06-01", "1"]),
        "subscriptions.csv: line 6: started_at: subscription 's5' overlaps subscription 's1' "
        "(line 2) of customer 'acme'",
    ),
    "subscription after an open-ended one": (
        lambda i: i.subscriptions(["s5", "initech", "euro", "2030-01-01", "", "1"]),
        "subscriptions.csv: line 6: started_at: subscription 's5' overlaps subscription 's4'",
    ),
    "customer and plan currencies differ": (
        lambda i: i.subscriptions(changes=[(3, "plan_id", "growth")]),
        "subscriptions.csv: line 5: plan_id: plan 'growth' version 1 is priced in USD, "
        "customer 'initech' is billed in EUR",
    ),
    "subscription before the plan's first version": (
        lambda i: i.subscriptions(
            ["s5", "globex", "growth", "2026-01-01T01:00+02:00", "2026-02-01", "1"]
        ),
        "subscriptions.csv: line 6: started_at: plan 'growth' has no version in effect at the "
        "start of period 2025-12",
    ),
    "grant in another currency": (
        lambda i: i.csv("credit_grants.csv", GRANTS_HEADER, [[*GRANT[:3], "EUR", *GRANT[4:]]]),
        "credit_grants.csv: line 2: currency: grant is in EUR, customer 'acme' is billed in USD",
    ),
    "grant kind unknown": (
        lambda i: i.csv("credit_grants.csv", GRANTS_HEADER, [[*GRANT[:4], "gift", *GRANT[5:]]]),
        "credit_grants.csv: line 2: kind: must be one of prepaid | promotional, got 'gift'",
    ),
    "grant amount not a decimal": (
        lambda i: i.csv("credit_grants.csv", GRANTS_HEADER, [[*GRANT[:2], "1,000", *GRANT[3:]]]),
        "credit_grants.csv: line 2: amount: must be a decimal number, got '1,000'",
    ),
    "grant id duplicated": (
        lambda i: i.csv("credit_grants.csv", GRANTS_HEADER, [GRANT, GRANT]),
        "credit_grants.csv: line 3: grant_id: duplicate id 'g1' (first on line 2)",
    ),
    "discount applies to an unknown line": (
        lambda i: i.csv("discounts.csv", DISCOUNTS_HEADER, [[*DISCOUNT[:4], "sms", *DISCOUNT[5:]]]),
        "discounts.csv: line 2: applies_to: must be all, base_fee or a meter id, got 'sms'",
    ),
    "discount kind unknown": (
        lambda i: i.csv("discounts.csv", DISCOUNTS_HEADER, [["d1", "acme", "bogo", *DISCOUNT[3:]]]),
        "discounts.csv: line 2: kind: must be one of percent | amount, got 'bogo'",
    ),
    "percent discount above 100 %": (
        lambda i: i.csv("discounts.csv", DISCOUNTS_HEADER, [[*DISCOUNT[:3], "10", *DISCOUNT[4:]]]),
        "discounts.csv: line 2: value: a percent discount must be a fraction in (0, 1]",
    ),
    "discount first period not a month": (
        lambda i: i.csv("discounts.csv", DISCOUNTS_HEADER, [[*DISCOUNT[:5], "2026-09-15", ""]]),
        "discounts.csv: line 2: first_period: must be a period YYYY-MM",
    ),
    "discount for an unknown customer": (
        lambda i: i.csv("discounts.csv", DISCOUNTS_HEADER, [["d1", "hooli", *DISCOUNT[2:]]]),
        "discounts.csv: line 2: customer_id: unknown customer 'hooli'",
    ),
    "limit on an unknown meter": (
        lambda i: i.csv("usage_limits.csv", LIMITS_HEADER, [["acme", "sms", "10"]]),
        "usage_limits.csv: line 2: meter_id: unknown meter 'sms'",
    ),
    "limit duplicated": (
        lambda i: i.csv("usage_limits.csv", LIMITS_HEADER, [LIMIT, LIMIT]),
        "usage_limits.csv: line 3: meter_id: duplicate limit for this customer and meter (line 2)",
    ),
}


@pytest.mark.parametrize("case", BROKEN)
def test_broken_rule_names_file_line_column_and_rule(inputs, case):
    write, message = BROKEN[case]
    write(inputs)

    with pytest.raises(InputError) as error:
        _load(inputs)

    assert str(error.value).startswith(message)


def test_adjacent_subscriptions_do_not_overlap(inputs):
    # s1 ends at 2026-06-01 00:00 UTC and s2 starts then, written with an offset here.
    inputs.subscriptions(changes=[(1, "started_at", "2026-05-31T20:00:00-04:00")])

    assert len(_load(inputs).subscriptions) == 4


def test_a_plan_version_in_another_currency_matters_only_if_billed(inputs):
    catalog = inputs.base_catalog()
    catalog["plans"].append(
        {"id": "growth", "version": 3, "effective_from": "2027-01-01", "currency": "EUR"}
    )
    inputs.catalog(catalog)
    closed = [(1, "ended_at", "2027-01-01"), (2, "ended_at", "2027-01-01")]
    inputs.subscriptions(changes=closed)

    assert len(_load(inputs).subscriptions) == 4

    inputs.subscriptions(changes=closed[:1])
    with pytest.raises(
        InputError, match="line 4: plan_id: plan 'growth' version 3 is priced in EU"
    ):
        _load(inputs)


def test_override_for_an_unknown_customer(inputs):
    catalog = inputs.base_catalog()
    catalog["overrides"][0]["customer_id"] = "hooli"
    inputs.catalog(catalog)

    with pytest.raises(
        InputError,
        match=r"catalog.yml: overrides\[hooli/growth\].customer_id: unknown customer 'hooli'",
    ):
        _load(inputs)


def test_missing_required_file(inputs):
    (inputs.data_dir / "subscriptions.csv").unlink()

    with pytest.raises(InputError, match="subscriptions.csv: file not found"):
        _load(inputs)
