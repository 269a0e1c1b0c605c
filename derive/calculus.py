"""The little calculus the derivation needs, all of it done by SymPy.

`differentiate` is SymPy's derivative with one convention made explicit: a
step function's derivative at its jump is taken as 0 (the subgradient courses
use for ReLU), written as cases rather than as a Heaviside function.
"""
from __future__ import annotations

from fractions import Fraction
from functools import lru_cache

import sympy

from .budget import within

_Y = sympy.Symbol("y", real=True)
_MAX_OPERATIONS = 40  # do not try to invert formulas larger than this
# Finding a course's form of a derivative (σ' = σ(1 − σ)) is a search; past this many Python calls
# (derive.budget: a count, never a time) the derivative is written in its plain form instead.
SEARCH_CALLS = 3_000_000


def _as_cases(expression: sympy.Expr) -> sympy.Expr:
    return expression.replace(
        lambda e: isinstance(e, sympy.Heaviside),
        lambda e: sympy.Piecewise((1, e.args[0] > 0), (0, True)),
    )


def differentiate(expression: sympy.Expr, variable: sympy.Symbol) -> sympy.Expr:
    """Return d(expression)/d(variable), with step functions written as cases."""
    return _as_cases(sympy.diff(expression, variable))


@lru_cache(maxsize=256)
def derivative_in_output(formula: sympy.Expr, variable: sympy.Symbol) -> sympy.Expr | None:
    """Return g with f'(x) = g(f(x)) as a polynomial in a symbol y = f(x), or None.

    This is how σ' = σ(1−σ) and tanh' = 1 − tanh² are found: either f' is
    already written in f (SymPy's tanh' is 1 − tanh²), or it is a polynomial
    in f of low degree, whose coefficients are found from f and f' at a few
    points and which SymPy then proves equal to f' (the difference is 0 over a
    common denominator). Only polynomial results are kept: they are the forms
    courses write. None too when a search takes more than SEARCH_CALLS calls.

    Differentiating and evaluating a formula of at most _MAX_OPERATIONS operations at a few points is
    the work every derivation does anyway; only the open-ended symbolic steps (matching f in f', the
    proof, factoring) are counted against the budget, which doubles the cost of what it counts.
    """
    if sympy.count_ops(formula) > _MAX_OPERATIONS:
        return None
    derivative = differentiate(formula, variable)
    if not derivative.has(variable):
        return None
    candidate = within(SEARCH_CALLS, lambda: _written_in_output(formula, derivative, variable), None)
    if candidate is None:
        samples = _samples(formula, derivative, variable)
        if samples is None:
            return None
        candidate = within(SEARCH_CALLS, lambda: _polynomial_in(formula, derivative, samples), None)
    if candidate is None or not candidate.has(_Y):
        return None
    return within(SEARCH_CALLS, lambda: _shortest(candidate), candidate)


_POINTS = (-2.3, -0.7, 0.4, 1.9, 1.3, -1.6, 0.9)  # where f and f' are compared (never a jump at 0)
_MAX_DEGREE = 3


def _written_in_output(formula: sympy.Expr, derivative: sympy.Expr, variable: sympy.Symbol) -> sympy.Expr | None:
    """Return f' as SymPy wrote it in f itself (tanh' = 1 − tanh²), expanded, or None."""
    written = derivative.subs(formula, _Y)
    if written.has(variable) or not written.has(_Y) or not written.is_polynomial(_Y):
        return None
    candidate = sympy.expand(written)
    # subs matches algebraically, so check it.
    return candidate if _agrees(candidate.xreplace({_Y: formula}), derivative, variable) else None


def _samples(formula: sympy.Expr, derivative: sympy.Expr, variable: sympy.Symbol) -> list[tuple[float, float]] | None:
    """Return (f, f') at _POINTS (evaluated at 20 digits), or None where one is not a real number."""
    samples = []
    for point in _POINTS:
        at = {variable: sympy.Float(point, 20)}
        try:
            value, slope = formula.xreplace(at).evalf(20), derivative.xreplace(at).evalf(20)
        except (ValueError, TypeError, ArithmeticError):  # SymPy cannot evaluate it there
            return None
        if not (value.is_Float and slope.is_Float):  # not a real number there (a pole, a complex value)
            return None
        samples.append((float(value), float(slope)))
    return samples


def _polynomial_in(formula: sympy.Expr, derivative: sympy.Expr,
                   samples: list[tuple[float, float]]) -> sympy.Expr | None:
    """Return the polynomial p of lowest degree (at most _MAX_DEGREE) with derivative = p(formula), or None.

    The coefficients are solved for (in floats) from the `samples` of f and f' at the first degree + 1
    points and read as simple rationals; p is kept only when it matches at the other points and SymPy
    proves the identity exactly: f' − p(f) is 0 over a common denominator (see _vanishes).
    """
    for degree in range(1, _MAX_DEGREE + 1):
        coefficients = _solve([[value ** k for k in range(degree + 1)] for value, _ in samples[:degree + 1]],
                              [s for _, s in samples[:degree + 1]])
        if coefficients is None:
            continue
        rationals = [sympy.Rational(Fraction(c).limit_denominator(1000)) for c in coefficients]
        fitted = lambda value: sum(float(c) * value ** k for k, c in enumerate(rationals))  # noqa: E731
        if any(abs(fitted(value) - s) > 1e-9 * (1 + abs(s)) for value, s in samples):
            continue
        polynomial = sympy.Add(*[c * _Y ** k for k, c in enumerate(rationals)])
        if _vanishes(derivative - polynomial.xreplace({_Y: formula})):
            return polynomial
    return None


def _vanishes(expression: sympy.Expr) -> bool:
    """Return True when SymPy shows `expression` is identically 0: its numerator over a common denominator
    expands to 0 (quick, and enough for σ' = σ(1 − σ)), or else it cancels to 0. False proves nothing."""
    return sympy.expand(sympy.fraction(sympy.together(expression))[0]) == 0 or sympy.cancel(expression) == 0


def _solve(matrix: list[list[float]], vector: list[float]) -> list[float] | None:
    """Return x with matrix·x = vector (Gaussian elimination with partial pivoting), or None when singular."""
    n = len(vector)
    rows = [row[:] + [value] for row, value in zip(matrix, vector)]
    for column in range(n):
        pivot = max(range(column, n), key=lambda r: abs(rows[r][column]))
        if abs(rows[pivot][column]) < 1e-12:
            return None
        rows[column], rows[pivot] = rows[pivot], rows[column]
        for r in range(column + 1, n):
            factor = rows[r][column] / rows[column][column]
            rows[r] = [a - factor * b for a, b in zip(rows[r], rows[column])]
    solution = [0.0] * n
    for r in range(n - 1, -1, -1):
        solution[r] = (rows[r][n] - sum(rows[r][c] * solution[c] for c in range(r + 1, n))) / rows[r][r]
    return solution


def _factor(expression: sympy.Expr) -> sympy.Expr:
    """Return `expression` factored, a leading minus sign moved into a factor: y(1 − y), not −y(y − 1)."""
    factored = sympy.factor(expression)
    coefficient, factors = factored.as_coeff_mul()
    if coefficient < 0:
        for index, factor in enumerate(factors):
            if factor.is_Add:
                return sympy.Mul(-coefficient, *(factors[:index] + (-factor,) + factors[index + 1:]))
    return factored


def shortest_form(expression: sympy.Expr) -> sympy.Expr:
    """Return the shorter of the expanded and factored forms of an expression (a leading minus sign moved
    into a factor): how a course writes a result it has simplified."""
    return _shortest(expression)


def _shortest(polynomial: sympy.Expr) -> sympy.Expr:
    """Return the shorter of the expanded and factored forms, a leading minus sign moved into a factor."""
    factored = _factor(polynomial)
    expanded = sympy.expand(polynomial)
    return expanded if sympy.count_ops(expanded) < sympy.count_ops(factored) else factored


def _agrees(left: sympy.Expr, right: sympy.Expr, variable: sympy.Symbol) -> bool:
    for point in ("-2.3", "-0.7", "0.4", "1.9"):
        at = {variable: sympy.Float(point, 30)}
        a, b = left.xreplace(at).evalf(30), right.xreplace(at).evalf(30)
        if not (a.is_number and b.is_number) or abs(a - b) > sympy.Float("1e-20") * (1 + abs(b)):
            return False
    return True


OUTPUT = _Y


@lru_cache(maxsize=64)
def output_total(outputs: tuple[sympy.Expr, ...]) -> sympy.Expr | None:
    """Return the constant Σ out_m of a layer-wise activation's outputs as SymPy simplifies it (1 for
    softmax), or None when the sum is not constant."""
    total = sympy.simplify(sympy.Add(*outputs))
    return None if total.free_symbols else total


def jacobian_in_outputs(outputs: list[sympy.Expr], nets: list[sympy.Symbol],
                        out_symbols: list[sympy.Symbol]) -> list[list[sympy.Expr]]:
    """Return J[m][k] = ∂out_m/∂net_k for a layer-wise activation, in the out symbols where SymPy can.

    Each exponential e^{net_j} is written as out_j·Z (Z a common scale) and the
    result simplified; an identity Σ out_m = c that SymPy derives from the
    activation itself is used, and every entry is checked numerically. An entry
    that cannot be written in the outputs is left in the nets.
    """
    scale = sympy.Symbol("Z", positive=True)
    total = output_total(tuple(outputs))
    identity = {sympy.Add(*out_symbols): total} if total is not None else {}
    by_net = dict(zip(nets, out_symbols))

    def in_outputs(power: sympy.Expr) -> sympy.Expr:
        coefficients = power.args[0].as_coefficients_dict()
        if not set(coefficients) <= set(by_net):
            return power
        return sympy.Mul(*[(by_net[net] * scale) ** c for net, c in coefficients.items()])

    def entry(m: int, k: int) -> sympy.Expr:
        derivative = differentiate(outputs[m], nets[k])
        candidate = derivative.replace(lambda e: isinstance(e, sympy.exp), in_outputs)
        candidate = _fewest_outputs(sympy.simplify(sympy.simplify(candidate).subs(identity)), identity)
        keep = not candidate.has(scale, *nets) and _agrees_at_nets(
            candidate.xreplace(dict(zip(out_symbols, outputs))), derivative, nets)
        return candidate if keep else derivative

    count = len(nets)
    if count > 2 and equivariant([list(nets)], outputs):
        # Permuting the units permutes the outputs (softmax does): two entries give all the others.
        diagonal, off_diagonal = entry(0, 0), entry(0, 1)
        families = [list(nets), list(out_symbols)]
        return [[(diagonal if m == k else off_diagonal).xreplace(renaming(families, permutation(count, m, k)))
                 for k in range(count)] for m in range(count)]
    return [[entry(m, k) for k in range(count)] for m in range(count)]


def permutation(count: int, *images: int) -> list[int]:
    """Return a permutation π of range(count) (as the list of images) with π(0), π(1), … = `images`."""
    images = list(dict.fromkeys(images))
    chosen = list(range(count))
    for position, image in enumerate(images):
        other = chosen.index(image)
        chosen[position], chosen[other] = chosen[other], chosen[position]
    return chosen


def renaming(families: list[list[sympy.Symbol]], chosen: list[int]) -> dict:
    """Return the renaming that sends each family's i-th symbol to its π(i)-th (all families at once)."""
    return {family[i]: family[chosen[i]] for family in families for i in range(len(chosen))}


def equivariant(families: list[list[sympy.Symbol]], expressions: list[sympy.Expr]) -> bool:
    """Return True when renaming the units by any permutation π sends expression i to expression π(i).

    Checked for one transposition and one cycle, which together generate every permutation; the
    comparison is SymPy's structural equality, so False only costs the shortcut, never correctness.
    """
    count = len(expressions)
    for chosen in ([1, 0] + list(range(2, count)), list(range(1, count)) + [0]):
        mapping = renaming(families, chosen)
        if any(expressions[i].xreplace(mapping) != expressions[chosen[i]] for i in range(count)):
            return False
    return True


def _fewest_outputs(entry: sympy.Expr, identity: dict) -> sympy.Expr:
    """Return `entry` rewritten, by the identity Σ out = c, to use as few outputs as it can."""
    candidates = [_factor(entry)]
    for total, constant in identity.items():
        for symbol in total.args:
            if not entry.has(symbol):  # substituting a symbol the entry lacks changes nothing
                continue
            rest = sympy.Add(*[s for s in total.args if s != symbol])
            candidates.append(_factor(sympy.simplify(entry.subs(symbol, constant - rest))))
    return min(candidates, key=lambda e: (len(e.free_symbols), sympy.count_ops(e)))


def _agrees_at_nets(left: sympy.Expr, right: sympy.Expr, nets: list[sympy.Symbol]) -> bool:
    points = ("0.3", "-1.1", "0.8", "2.2", "-0.4")
    at = {net: sympy.Float(points[i % len(points)], 30) for i, net in enumerate(nets)}
    a, b = left.xreplace(at).evalf(30), right.xreplace(at).evalf(30)
    return bool(a.is_number and b.is_number and abs(a - b) <= sympy.Float("1e-20") * (1 + abs(b)))
