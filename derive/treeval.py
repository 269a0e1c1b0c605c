"""Evaluating a SymPy tree many times, fast and at high precision, by walking it: no code is generated.

The checker compares a student's formula with the true quantity at two dozen
points; SymPy's evalf does that correctly but slowly. :func:`evaluator` turns
a tree into nested closures over an mpmath context of WORKING_DIGITS digits,
once, and each call then costs a few microseconds a node. It is exact enough
wherever it answers: it refuses (:class:`Unsure`) where working precision
could be lost — a sum that cancels more than CANCELLATION_DIGITS digits, the
logarithm of a number near 1, a value that is not real — and the caller then
asks evalf, which adapts its precision. A node it does not know is refused
when the evaluator is made (:class:`Unsupported`).

This is an interpreter of the tree, not a compiler: the student's text never
becomes code; their formula was already turned into SymPy objects by derive's
own grammar, and here each object only selects an mpmath function.
"""
from __future__ import annotations

from typing import Callable, Mapping

import mpmath
from mpmath.libmp import dps_to_prec, mpf_sum
import sympy

WORKING_DIGITS = 60       # digits of every operation
CANCELLATION_DIGITS = 25  # a sum smaller than its largest term by more than this is left to evalf
_CONTEXT = mpmath.MPContext()
_CONTEXT.dps = WORKING_DIGITS
_LIMIT = _CONTEXT.mpf(10) ** CANCELLATION_DIGITS
_SURE_BITS = int(CANCELLATION_DIGITS * 3.321928094887362)  # 2^_SURE_BITS < _LIMIT < 2^(_SURE_BITS + 1)


class Unsupported(Exception):
    """A node the evaluator does not know: evaluate this tree another way."""


class Unsure(Exception):
    """At this point the working precision may not be enough (or the value is not real): ask evalf."""


Evaluator = Callable[[Mapping[sympy.Symbol, object]], object]


def number(value) -> object:
    """Return a SymPy number (Rational, Float) or a Python number as an mpf of the working precision."""
    if isinstance(value, sympy.Float):
        return _CONTEXT.mpf(value._mpf_)
    if isinstance(value, sympy.Rational):
        return _CONTEXT.mpf(int(value.p)) / int(value.q)
    if isinstance(value, sympy.Basic):
        raise Unsupported(type(value).__name__)
    return _CONTEXT.mpf(value)


def close(a, b, relative: str = "1e-14", absolute: str = "1e-25") -> bool:
    """Return True when two mpf values agree to `relative` (of their sizes) plus `absolute`."""
    return abs(a - b) <= _CONTEXT.mpf(relative) * (abs(a) + abs(b)) + _CONTEXT.mpf(absolute)


def evaluator(expression: sympy.Expr) -> Evaluator:
    """Return a function of {symbol: mpf} giving `expression` as an mpf; raises Unsupported for a tree it
    cannot walk. The function raises Unsure where the caller must ask evalf instead (see the module)."""
    return _build(expression)


def _build(node: sympy.Basic) -> Evaluator:
    if node.is_Symbol:
        return lambda values, symbol=node: values[symbol]
    if node.is_Number:
        if not (node.is_Rational or node.is_Float):
            raise Unsupported(type(node).__name__)
        constant = number(node)
        return lambda values: constant
    if node is sympy.E:
        constant = _CONTEXT.e
        return lambda values: constant
    if node is sympy.pi:
        constant = _CONTEXT.pi
        return lambda values: constant
    if isinstance(node, sympy.Piecewise):
        pieces = [(_build(value), _condition(condition)) for value, condition in node.args]

        def piecewise(values):
            for value, condition in pieces:
                if condition(values):
                    return value(values)
            raise Unsure("no piece holds")
        return piecewise
    parts = [_build(argument) for argument in node.args]
    if node.is_Add:
        return lambda values: _sum([part(values) for part in parts])
    if node.is_Mul:
        first, rest = parts[0], parts[1:]

        def product(values):
            result = first(values)  # as 1·first would be: every value is of the working precision already
            for part in rest:
                result *= part(values)
            return result
        return product
    if node.is_Pow:
        base, exponent = parts
        integer = node.exp.is_Integer
        return lambda values: _power(base(values), exponent(values), integer)
    function = _FUNCTIONS.get(type(node).__name__)
    if function is not None and len(parts) == 1:
        (argument,) = parts
        return lambda values: function(argument(values))
    if isinstance(node, (sympy.Max, sympy.Min)):
        pick = max if isinstance(node, sympy.Max) else min
        return lambda values: pick(part(values) for part in parts)
    raise Unsupported(type(node).__name__)


def _sum(terms):
    try:
        raw = [term._mpf_ for term in terms]
    except AttributeError:  # not a real number
        raise Unsure("not real") from None
    total = _CONTEXT.make_mpf(mpf_sum(raw, *_CONTEXT._prec_rounding))  # what fsum does for real terms
    # The largest term's size against the total's, by their binary exponents (an mpf is man·2^exp with
    # bc bits of mantissa: between 2^(exp+bc-1) and 2^(exp+bc)); only a ratio near the limit is divided out.
    largest = max((exponent + bits for _, mantissa, exponent, bits in raw if mantissa), default=None)
    if largest is None:
        return total
    if not total._mpf_[1]:  # zero, or no finite number: as the ratio says
        if not total or max(abs(term) for term in terms) / abs(total) > _LIMIT:
            raise Unsure("the sum cancels")
        return total
    gap = largest - (total._mpf_[2] + total._mpf_[3])
    if gap + 1 <= _SURE_BITS:
        return total
    if gap - 1 >= _SURE_BITS + 1 or max(abs(term) for term in terms) / abs(total) > _LIMIT:
        raise Unsure("the sum cancels")  # its digits may all have been lost
    return total


def _power(base, exponent, integer: bool):
    if integer:
        if not base and exponent < 0:
            raise Unsure("division by zero")
        return base ** int(exponent)
    if base <= 0:
        raise Unsure("not a real power")
    return _CONTEXT.power(base, exponent)


def _log(x):
    if x <= 0 or abs(x - 1) < _CONTEXT.mpf("1e-20"):
        raise Unsure("log near 1 or of a non-positive number")
    return _CONTEXT.log(x)


def _sqrt(x):
    if x < 0:
        raise Unsure("not real")
    return _CONTEXT.sqrt(x)


def _sign(x):
    return _CONTEXT.mpf((x > 0) - (x < 0))


def _condition(condition) -> Callable:
    if condition is sympy.true:
        return lambda values: True
    if condition is sympy.false:
        return lambda values: False
    relations = {"StrictGreaterThan": lambda a, b: a > b, "GreaterThan": lambda a, b: a >= b,
                 "StrictLessThan": lambda a, b: a < b, "LessThan": lambda a, b: a <= b}
    relation = relations.get(type(condition).__name__)
    if relation is None:
        raise Unsupported(type(condition).__name__)
    left, right = _build(condition.args[0]), _build(condition.args[1])

    def holds(values):
        a, b = left(values), right(values)
        if close(a, b, "1e-40", "1e-40"):
            raise Unsure("on the boundary of a piece")
        return relation(a, b)
    return holds


_FUNCTIONS = {
    "exp": _CONTEXT.exp, "log": _log, "tanh": _CONTEXT.tanh, "sinh": _CONTEXT.sinh, "cosh": _CONTEXT.cosh,
    "sin": _CONTEXT.sin, "cos": _CONTEXT.cos, "atan": _CONTEXT.atan, "erf": _CONTEXT.erf, "Abs": abs,
    "sign": _sign, "sqrt": _sqrt,
}


def run(program, given: Mapping, replaced: Mapping | None = None, wanted=None, precision: int = 30) -> dict:
    """Return what derive.program.run returns (SymPy values of `precision` digits), each definition walked
    at WORKING_DIGITS (evalf, through derive.numbers.evaluate, where the walk is not sure or cannot go)."""
    from .numbers import MAX_VALUE, MIN_VALUE, evaluate  # here: numbers.py needs nothing of this module
    from .program import free_symbols, in_order
    definitions = dict(program)
    definitions.update(replaced or {})
    exact = dict(given)
    fast: dict = {}
    for symbol, value in given.items():
        try:
            fast[symbol] = number(value)
        except Unsupported:
            pass
    largest, smallest = number(MAX_VALUE), number(MIN_VALUE)
    bits = dps_to_prec(precision)

    def compute(symbol):
        definition, value = definitions[symbol], None
        walk = _walker(definition)
        if walk is not None:
            try:
                value = walk(fast)
            except (Unsure, KeyError, ZeroDivisionError, ValueError, OverflowError):
                value = None
            if value is not None and (abs(value) > largest or (value and abs(value) < smallest)):
                value = None  # out of range: evaluate says so in its own words
        if value is None:
            exact[symbol] = evaluate(definition, exact, what=str(symbol), precision=precision)
            try:
                fast[symbol] = number(exact[symbol])
            except Unsupported:
                pass
        else:  # sympy.Float(value, precision), made directly from the walk's binary value (the same Float)
            fast[symbol] = value
            exact[symbol] = sympy.Float._new(value._mpf_, bits) if hasattr(value, "_mpf_") else \
                sympy.Float(value, precision)

    in_order(definitions, exact, wanted, lambda symbol: free_symbols(definitions[symbol]), compute)
    return exact


_WALKERS: dict = {}


def _walker(expression):
    """Return the (cached) walker of one of derive's own definitions, or None."""
    walker = _WALKERS.get(expression, False)
    if walker is False:
        try:
            walker = evaluator(expression)
        except (Unsupported, RecursionError):
            walker = None
        if len(_WALKERS) > 8192:
            _WALKERS.clear()
        _WALKERS[expression] = walker
    return walker
