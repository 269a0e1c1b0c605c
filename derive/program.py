"""Running a Derivation's program: every quantity computed from its definition, at any values.

The program (see :class:`derive.derivation.Derivation`) defines each quantity
from the ones before it. Running it at other inputs and parameters is how
claims are judged at random points, how a classic mistake is replayed (a few
definitions replaced), and how an error is carried forward (a student's own
values put in place of the true ones).
"""
from __future__ import annotations

from typing import Iterable, Mapping

import sympy

from .numbers import PRECISION, evaluate


def run(program: Iterable[tuple[sympy.Symbol, sympy.Expr]], given: Mapping[sympy.Symbol, sympy.Expr],
        replaced: Mapping[sympy.Symbol, sympy.Expr] | None = None, wanted: Iterable[sympy.Symbol] | None = None,
        precision: int = PRECISION) -> dict[sympy.Symbol, sympy.Expr]:
    """Return the values of `wanted` (default: every quantity) and of all they depend on.

    `given` holds the values of inputs, targets, parameters and the learning
    rate; `replaced` maps quantities to definitions used instead of the
    program's (a constant fixes a value). Only what `wanted` needs is computed,
    in dependency order, so a replaced definition may use any quantity.
    Raises EvaluationError for a value that is not finite and real, or a cycle.
    """
    definitions = dict(program)
    definitions.update(replaced or {})
    values = dict(given)
    for target in (list(wanted) if wanted is not None else list(definitions)):
        stack, visiting = [target], set()
        while stack:
            symbol = stack[-1]
            if symbol in values or symbol not in definitions:
                stack.pop()
                continue
            definition = definitions[symbol]
            missing = [s for s in definition.free_symbols if s not in values and s in definitions]
            if missing:
                if symbol in visiting:
                    raise ValueError(f"the definitions of {symbol} form a cycle")
                visiting.add(symbol)
                stack.extend(missing)
                continue
            values[symbol] = evaluate(definition, values, what=str(symbol), precision=precision)
            stack.pop()
    return values
