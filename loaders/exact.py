"""Rules every exact number must follow to fit the raw tables' DECIMAL(38, 12)."""

from decimal import Decimal

DECIMAL_SCALE = 12
MAX_INTEGER_DIGITS = 38 - DECIMAL_SCALE


def decimal_problem(value: Decimal) -> str | None:
    """Why `value` cannot be stored exactly in DECIMAL(38, 12), or None if it can.

    DuckDB would silently round extra decimal places on insert; a price like
    0.0000000000001 must be refused instead of becoming zero.
    """
    if not value.is_finite():
        return f"must be a finite number, got {value}"
    exponent = value.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -DECIMAL_SCALE:
        return f"has more than {DECIMAL_SCALE} decimal places: {value}"
    if value.adjusted() >= MAX_INTEGER_DIGITS:
        return f"has more than {MAX_INTEGER_DIGITS} integer digits: {value}"
    return None
