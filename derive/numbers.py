"""Working precision, evaluation, and how numbers are written.

Values are exact rationals while they can be (sums and products of the
figures in the file) and high-precision floats once a transcendental function
enters. Display rounds only at the end, to a number of significant digits.
"""
from __future__ import annotations

from decimal import Decimal, ROUND_HALF_UP, localcontext
from typing import Mapping

import sympy
from mpmath.libmp import dps_to_prec, prec_to_dps, to_str

from .decimals import NEGLIGIBLE, PRECISION, format_decimal
from .errors import DeriveError, Phrase

_BITS = dps_to_prec(PRECISION)  # the binary precision of a Float of PRECISION digits
MAX_VALUE = sympy.Integer(10) ** 100  # a computed value beyond this is out of range (an overflowing network)
MIN_VALUE = sympy.Rational(1, 10 ** 300)  # and one closer to 0 than this, but not 0, too (beyond a double's range)


class EvaluationError(DeriveError):
    """A quantity that has no finite real value at the sample (ln 0, division by zero, ...)."""


def evaluate(expression: sympy.Expr, values: Mapping[sympy.Symbol, sympy.Expr], what: str | None = None,
             precision: int = PRECISION) -> sympy.Expr:
    """Return the value of `expression` at `values`: a Rational when exact, else a Float of `precision` digits."""
    values = values if isinstance(values, dict) else dict(values)
    if any(power.exp.free_symbols for power in expression.atoms(sympy.Pow)):
        # A power with a variable exponent (x^x, 1000^x) would be computed exactly, digit by digit, at an
        # exact value: 1000^123456789 has 370 million digits. At a float of `precision` digits it is quick,
        # and one beyond MAX_VALUE is refused below.
        values = {symbol: sympy.Float(value, precision) if getattr(value, "is_Rational", False) else value
                  for symbol, value in values.items() if symbol in expression.free_symbols}
    result = expression.xreplace(values)
    if not result.is_Rational:
        result = result.evalf(precision)
    if result.free_symbols:
        missing = ", ".join(sorted(s.name for s in result.free_symbols))
        raise EvaluationError("error_value_missing", what=_what(what), missing=missing)
    if not (result.is_Rational or (result.is_Float and result.is_finite)):
        raise EvaluationError("error_value_undefined", what=_what(what), result=str(result.evalf(6))[:40])
    if abs(result) > MAX_VALUE or (result != 0 and abs(result) < MIN_VALUE):
        raise EvaluationError("error_value_too_large" if abs(result) > MAX_VALUE else "error_value_too_small",
                              what=_what(what))
    return result


def _what(what):
    """Return what an error names: the quantity given, or "a value" (made only when there is an error)."""
    return Phrase("error_what_value") if what is None else what


def to_decimal(value: sympy.Expr) -> Decimal:
    """Return `value` as a Decimal carrying its full working precision."""
    if value.is_Integer:
        return Decimal(int(value))
    with localcontext() as context:
        context.prec = PRECISION + 10
        if value.is_Rational:
            return Decimal(int(value.p)) / Decimal(int(value.q))
        number = value if value.is_Float and value._prec == _BITS else sympy.Float(value, PRECISION)
        if not number.is_Float:  # oo, nan: as str() writes them
            return Decimal(str(number))
        # str(number) without SymPy's printer machinery: its digits, exactly as its _print_Float writes them.
        text = to_str(number._mpf_, 0 if number._prec < 5 else prec_to_dps(number._prec), strip_zeros=False)
        if text.startswith("-.0"):
            text = "-0." + text[3:]
        elif text.startswith(".0"):
            text = "0." + text[2:]
        return Decimal(text.removeprefix("+"))


def round_to(value: sympy.Expr, decimals: int) -> sympy.Rational:
    """Return `value` rounded to `decimals` decimals, half away from zero (as a calculator does), exactly."""
    with localcontext() as context:
        context.prec = PRECISION + 10
        rounded = to_decimal(value).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    return sympy.Rational(str(rounded))


def to_float(value: sympy.Expr) -> float:
    """Return `value` as the nearest double."""
    return float(to_decimal(value))


def format_number(value: sympy.Expr, digits: int = 9, exact: bool = False) -> str:
    """Return `value` written with `digits` significant digits, trailing zeros dropped.

    Very large or small magnitudes use e-notation ("4.2e-7"); with `exact`, a
    rational value is written as a fraction ("-3/40"). Noise far below the
    working precision (in a computed, inexact value) is written as 0, never as
    -5.55e-17.
    """
    if exact and value.is_Rational:
        return str(value.p) if value.q == 1 else f"{value.p}/{value.q}"
    number = to_decimal(value)
    if abs(number) < NEGLIGIBLE and not value.is_Rational:  # an exact value is never noise
        return "0"
    return format_decimal(number, digits)
