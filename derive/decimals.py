"""How a number is written, for any Decimal or float: no SymPy here (a training run's output needs none)."""
from __future__ import annotations

from decimal import Decimal, ROUND_HALF_EVEN, localcontext

PRECISION = 50  # significant decimal digits of every computed value
NEGLIGIBLE = Decimal(10) ** -(PRECISION - 8)  # a computed value this close to 0 is noise, written 0


def format_decimal(number: Decimal, digits: int) -> str:
    """Return `number` written with `digits` significant digits (half to even), trailing zeros dropped;
    very large or small magnitudes in e-notation ("4.2e-7")."""
    with localcontext() as context:
        context.prec = digits
        context.rounding = ROUND_HALF_EVEN
        rounded = +number
    exponent = rounded.adjusted()
    if -5 <= exponent < 10:
        text = f"{rounded:f}"
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return "0" if text in ("-0", "") else text
    mantissa = f"{rounded.scaleb(-exponent):f}"
    if "." in mantissa:
        mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa}e{exponent}"


def format_float(value: float, digits: int) -> str:
    """Return a computed double as the documents write numbers: its exact value rounded to `digits`
    significant digits, and noise below NEGLIGIBLE written 0."""
    number = Decimal(value)
    return "0" if abs(number) < NEGLIGIBLE else format_decimal(number, digits)
