"""Money for the exporters: minor units, exact conversion and display.

The currency table itself is `loaders.currencies` (dbt's currencies seed).
Amounts are always `Decimal`: a float here would turn 0.1 + 0.2 into a
payment-provider rounding dispute.
"""

from decimal import ROUND_HALF_UP, Decimal

from loaders.currencies import CURRENCY_MINOR_UNITS, CURRENCY_SYMBOLS


def minor_units(currency: str) -> int:
    """Digits after the decimal point for `currency` (ISO 4217, any case)."""
    code = currency.upper()
    if code not in CURRENCY_MINOR_UNITS:
        known = ", ".join(sorted(CURRENCY_MINOR_UNITS))
        raise ValueError(f"unknown currency {currency!r}; known: {known}")
    return CURRENCY_MINOR_UNITS[code]


def to_minor_units(amount: Decimal, currency: str) -> int:
    """Convert `amount` to an integer count of minor units, exactly.

    Payment APIs take integers (cents, yen). Rounding here would hide a bug
    upstream, so an amount finer than the currency allows is an error.
    """
    if not isinstance(amount, Decimal):
        raise TypeError(f"amount must be a Decimal, got {type(amount).__name__}: {amount!r}")
    scaled = amount.scaleb(minor_units(currency))
    if scaled != scaled.to_integral_value():
        raise ValueError(
            f"{amount} {currency.upper()} has more precision than the currency's "
            f"{minor_units(currency)} minor digits"
        )
    return int(scaled)


def format_money(amount: Decimal, currency: str) -> str:
    """Display an amount rounded to the currency's minor unit: "$1,234.50", "-€10.00", "¥1,235".

    Rounds half away from zero, the pipeline's one rounding rule.
    """
    places = minor_units(currency)
    return _format(amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP), currency)


def format_price(amount: Decimal, currency: str) -> str:
    """Display a unit price without hiding its precision: "$0.001", "$20.00", "¥0.5".

    Unit prices are finer than the minor unit; rounding them on an invoice
    would make quantity × price disagree with the line's amount.
    """
    normalized = amount.normalize()
    exponent = normalized.as_tuple().exponent
    decimals = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    places = max(minor_units(currency), decimals)
    return _format(amount.quantize(Decimal(1).scaleb(-places)), currency)


def _format(amount: Decimal, currency: str) -> str:
    sign = "-" if amount < 0 else ""
    symbol = CURRENCY_SYMBOLS[currency.upper()]
    separator = " " if symbol[-1].isalpha() else ""
    return f"{sign}{symbol}{separator}{abs(amount):,f}"
