"""derive/numbers.py: evaluation at 50 digits, its bounds, rounding and how numbers are written.

Sources of truth: expectations written by hand (1/3 to 9 significant digits is 0.333333333), Python's
decimal module at 60 digits for transcendental values, and the README's bounds (computed values within
±1e100 and, unless 0, at least 1e-300 in size).
"""
from decimal import Decimal, localcontext

import pytest
import sympy

from derive.numbers import EvaluationError, evaluate, format_number, round_to, to_decimal, to_float

R = sympy.Rational
x, y = sympy.symbols("x y", real=True)


# --- format_number ---------------------------------------------------------------------------------

@pytest.mark.parametrize("value, digits, written", [
    (R(1, 3), 9, "0.333333333"),
    (R(2, 3), 9, "0.666666667"),
    (R(2, 3), 3, "0.667"),
    (R(-1, 7), 9, "-0.142857143"),
    (R(1, 7), 20, "0.14285714285714285714"),
    (R(-3, 40), 9, "-0.075"),
    (R(5933, 10000), 9, "0.5933"),            # trailing zeros dropped
    (R(5, 2), 9, "2.5"),
    (R(1, 10), 9, "0.1"),
    (R(0), 9, "0"),
    (R(5), 9, "5"),
    (R(100), 1, "100"),
    (R(-42), 9, "-42"),
    (R(1999999999, 2000000000), 9, "1"),      # 0.9999999995 rounds up to 1
    (R(1234567890), 9, "1234567890"),          # up to 10 integer digits without e-notation
    (R(12345678901), 9, "1.23456789e10"),
    (R(123456789012), 9, "1.23456789e11"),
    (R(-3, 10 ** 12) * 10 ** 24, 9, "-3e12"),
    (R(1, 10 ** 5), 9, "0.00001"),             # down to 1e-5 without e-notation
    (R(1, 10 ** 6), 9, "1e-6"),
    (R(-5, 10 ** 7), 9, "-5e-7"),
    (R(12345, 10 ** 9), 3, "0.0000123"),
    (R(12345, 10 ** 10), 3, "1.23e-6"),
    (R(12345, 10 ** 11), 3, "1.23e-7"),
    (R(42, 10 ** 8), 9, "4.2e-7"),
    (sympy.Float("0.00001", 30), 9, "0.00001"),
    (sympy.Float("0.59326999210718723", 50), 9, "0.593269992"),
    (sympy.Float("0.59326999210718723", 50), 4, "0.5933"),
    (sympy.Float("-1e-45", 50), 9, "0"),       # noise far below the working precision: 0, never -1e-45
    (sympy.Float("1e-43", 50), 9, "0"),
    (sympy.Float("1e-30", 50), 9, "1e-30"),
])
def test_format_number(value, digits, written):
    assert format_number(value, digits) == written


@pytest.mark.parametrize("value, written", [
    (R(-3, 40), "-3/40"), (R(1, 3), "1/3"), (R(7), "7"), (R(0), "0"), (R(-5, 1), "-5"),
    (R(123456789012345, 7), "123456789012345/7"),
])
def test_exact_writes_fractions(value, written):
    assert format_number(value, 9, exact=True) == written


def test_exact_leaves_floats_as_decimals():
    assert format_number(sympy.Float("0.25", 30), 9, exact=True) == "0.25"
    assert format_number(sympy.exp(sympy.Integer(1)).evalf(50), 6, exact=True) == "2.71828"


def test_default_is_nine_significant_digits():
    assert format_number(R(22, 7)) == "3.14285714"


# --- round_to: half away from zero, exactly --------------------------------------------------------

@pytest.mark.parametrize("value, decimals, rounded", [
    (R(5, 100), 1, R(1, 10)), (R(-5, 100), 1, R(-1, 10)),
    (R(25, 1000), 2, R(3, 100)), (R(-25, 1000), 2, R(-3, 100)),
    (R(5, 2), 0, R(3)), (R(-5, 2), 0, R(-3)), (R(1, 3), 0, R(0)),
    (R(1, 3), 4, R(3333, 10000)), (R(2, 3), 4, R(6667, 10000)),
    (R(3775, 10000), 4, R(3775, 10000)),
    (sympy.Float("0.59326999210718723", 50), 4, R(5933, 10000)),
    (sympy.Float("0.75136507", 50), 4, R(7514, 10000)),
])
def test_round_to(value, decimals, rounded):
    result = round_to(value, decimals)
    assert result == rounded and result.is_Rational


# --- conversions ---------------------------------------------------------------------------------------

def test_to_float_and_to_decimal():
    assert to_float(R(1, 3)) == 1 / 3
    assert to_float(R(1, 10)) == 0.1
    assert to_float(R(-3, 40)) == -0.075
    third = to_decimal(R(1, 3))
    assert str(third).startswith("0." + "3" * 50)
    assert to_decimal(R(12)) == Decimal(12)


# --- evaluate --------------------------------------------------------------------------------------

def decimal_e(digits: int) -> Decimal:
    with localcontext() as context:
        context.prec = digits
        return Decimal(1).exp()


def test_exact_values_stay_rational():
    result = evaluate(x * y + 1, {x: R(3, 20), y: R(1, 20)})
    assert result == R(403, 400) and result.is_Rational


def test_transcendental_values_at_fifty_digits():
    result = evaluate(sympy.exp(x), {x: R(1)})
    assert result.is_Float
    assert abs(Decimal(str(result)) - decimal_e(60)) < Decimal("1e-48")
    low = evaluate(sympy.exp(x), {x: R(1)}, precision=20)
    assert abs(Decimal(str(low)) - decimal_e(60)) < Decimal("1e-18")


def test_sigmoid_of_the_classic_net():
    # σ(0.3775) = 1/(1 + e^-0.3775), by the decimal module at 60 digits
    with localcontext() as context:
        context.prec = 60
        expected = 1 / (1 + (-Decimal("0.3775")).exp())
    result = evaluate(1 / (1 + sympy.exp(-x)), {x: R(3775, 10000)})
    assert abs(Decimal(str(result)) - expected) < Decimal("1e-48")


@pytest.mark.parametrize("expression, at, message", [
    (1 / x, R(0), "undefined at the sample"),
    (sympy.log(x), R(0), "undefined at the sample"),
    (sympy.sqrt(x), R(-1), "undefined at the sample"),
    (sympy.log(x), R(-2), "undefined at the sample"),
    (x * sympy.Integer(10) ** 101, R(1), "beyond ±1e100"),
    (-x * sympy.Integer(10) ** 101, R(1), "beyond ±1e100"),
    (sympy.exp(1000 * x), R(1), "beyond ±1e100"),
    (x ** x, R(1000), "beyond ±1e100"),
    (x ** 2, R(1, 10 ** 151), "smaller than 1e-300"),
    (x, R(1, 10 ** 301), "smaller than 1e-300"),
])
def test_values_out_of_bounds_or_undefined(expression, at, message):
    with pytest.raises(EvaluationError, match=message) as caught:
        evaluate(expression, {x: at}, what="net of h1")
    assert "net of h1" in caught.value.message


def test_huge_variable_power_is_refused_not_computed():
    # 1000^123456789 has 370 million digits; it must be refused as out of range, not computed exactly
    with pytest.raises(EvaluationError, match="beyond ±1e100"):
        evaluate(x ** y, {x: R(1000), y: R(123456789)})


@pytest.mark.parametrize("expression, at", [
    (x * sympy.Integer(10) ** 100, R(1)),   # exactly 1e100: within the bound
    (x, R(1, 10 ** 300)),                  # exactly 1e-300
    (x - x, R(5)),                         # 0 is allowed however small
    (x * 0, R(1, 10 ** 400)),
])
def test_values_on_the_bounds_are_accepted(expression, at):
    evaluate(expression, {x: at})


def test_missing_values_are_named():
    with pytest.raises(EvaluationError, match="depends on quantities without a value: y"):
        evaluate(x + y, {x: R(1)})


def test_tiny_exact_values_are_not_written_as_zero():
    assert format_number(R(1, 10 ** 45), 9) == "1e-45"
    assert format_number(R(-3, 10 ** 60), 9) == "-3e-60"
