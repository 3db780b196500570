from decimal import Decimal

import pytest

from exporters.money import format_money, format_price, minor_units, to_minor_units


def test_minor_units_follow_iso_4217():
    assert minor_units("USD") == 2
    assert minor_units("jpy") == 0
    with pytest.raises(ValueError, match="unknown currency 'XXX'"):
        minor_units("XXX")


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("1234.5", "USD", "$1,234.50"),
        ("1234.5", "JPY", "¥1,235"),
        ("10", "EUR", "€10.00"),
        ("-49.90", "USD", "-$49.90"),
        ("0.005", "GBP", "£0.01"),
        ("-0.00", "USD", "$0.00"),
        ("1000000", "CHF", "CHF 1,000,000.00"),
    ],
)
def test_format_money_rounds_half_away_from_zero(amount, currency, expected):
    assert format_money(Decimal(amount), currency) == expected


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("0.001000000000", "USD", "$0.001"),
        ("20.000000000000", "USD", "$20.00"),
        ("0.5", "JPY", "¥0.5"),
        ("50000", "JPY", "¥50,000"),
    ],
)
def test_format_price_keeps_precision_beyond_the_minor_unit(amount, currency, expected):
    assert format_price(Decimal(amount), currency) == expected


def test_to_minor_units_is_exact():
    assert to_minor_units(Decimal("635.96"), "USD") == 63596
    assert to_minor_units(Decimal("-49.90"), "USD") == -4990
    assert to_minor_units(Decimal("61790.00"), "JPY") == 61790
    assert to_minor_units(Decimal("0.00"), "EUR") == 0


def test_to_minor_units_refuses_what_it_would_have_to_round():
    with pytest.raises(ValueError, match="more precision"):
        to_minor_units(Decimal("0.5"), "JPY")
    with pytest.raises(ValueError, match="more precision"):
        to_minor_units(Decimal("1.001"), "USD")
    with pytest.raises(TypeError, match="Decimal"):
        to_minor_units(1.1, "USD")
