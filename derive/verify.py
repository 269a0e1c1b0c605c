"""The self-check of `derive run --verify`: every gradient computed two more ways, neither by the δ recursion.

1. Forward mode: the derivative of each forward definition (net, out, loss) with respect to each
   quantity it uses is taken by SymPy and evaluated at the sample once; the derivative of the loss
   with respect to a parameter is then carried forward through the program by the chain rule
   (dv/dp = Σ_u ∂v/∂u · du/dp), in exact decimal arithmetic at 60 digits. This is the direct
   derivative of the loss without ever expanding it, so its cost grows with the network, not
   exponentially with its depth.
2. Central finite differences of the forward program at 50 digits, step 1e-12, recomputing only what
   the parameter changes.

Both are compared with the δ recursion's gradient relative to the larger of the two, or to an
absolute floor when both are (nearly) zero: a true gradient of 0 against a forward-mode value of
-2e-168 agrees.
"""
from __future__ import annotations

from decimal import Decimal, localcontext
from typing import Iterable

import sympy

from . import calculus, program
from .numbers import PRECISION, evaluate, to_decimal

DIRECT_TOLERANCE = 1e-12
FINITE_TOLERANCE = 1e-9
DIRECT_FLOOR = Decimal("1e-30")   # |gradient| below this counts as 0 for the forward-mode comparison
FINITE_FLOOR = Decimal("1e-20")   # and for finite differences (their own error is about 1e-24 here)
FINITE_STEP = sympy.Float("1e-12", PRECISION)
_DIGITS = PRECISION + 10


def relative(a, b, floor: Decimal) -> float:
    """Return |a − b| relative to the larger of |a| and |b|, or to `floor` when both are smaller."""
    with localcontext() as context:
        context.prec = _DIGITS
        a, b = to_decimal(a), to_decimal(b)
        return float(abs(a - b) / max(abs(a), abs(b), floor))


def forward_mode(forward: list[tuple[sympy.Symbol, sympy.Expr]], values, parameters: Iterable[sympy.Symbol],
                 loss: sympy.Symbol) -> dict[sympy.Symbol, Decimal]:
    """Return dE/dp for each parameter p, carried forward through `forward` (the program up to the loss)."""
    partials = {}  # quantity -> [(quantity or parameter it uses, ∂definition/∂it at the sample)]
    with localcontext() as context:
        context.prec = _DIGITS
        for symbol, definition in forward:
            uses = sorted(definition.free_symbols, key=lambda s: s.name)
            partials[symbol] = [(used, to_decimal(evaluate(calculus.differentiate(definition, used), values,
                                                           what=f"∂{symbol}/∂{used}")))
                                for used in uses]
        gradients = {}
        for parameter in parameters:
            tangent = {parameter: Decimal(1)}
            for symbol, _ in forward:
                total = sum((slope * tangent[used] for used, slope in partials[symbol] if used in tangent),
                            Decimal(0))
                if total:
                    tangent[symbol] = total
            gradients[parameter] = tangent.get(loss, Decimal(0))
    return gradients


def finite_difference(forward: list[tuple[sympy.Symbol, sympy.Expr]], values, parameter: sympy.Symbol,
                      value: sympy.Expr, loss: sympy.Symbol) -> sympy.Expr:
    """Return (E(p + h) − E(p − h)) / 2h, recomputing only the quantities that depend on p."""
    downstream, changed = set(), {parameter}
    for symbol, definition in forward:
        if definition.free_symbols & changed:
            downstream.add(symbol)
            changed.add(symbol)
    kept = {symbol: v for symbol, v in values.items() if symbol not in downstream}
    shifted = []
    for sign in (1, -1):
        given = {**kept, parameter: value + sign * FINITE_STEP}
        shifted.append(program.run(forward, given, wanted=[loss])[loss])
    return (shifted[0] - shifted[1]) / (2 * FINITE_STEP)
