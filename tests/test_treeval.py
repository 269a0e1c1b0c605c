"""derive/treeval.py: walking a SymPy tree at 60 digits gives what SymPy's own evalf gives (at 50 digits),
and refuses (Unsure) exactly where a fixed precision could be wrong, so the caller can ask evalf."""
import pytest
import sympy

from derive import treeval

x, y = sympy.symbols("x y", real=True)
VALUES = {x: sympy.Rational(3, 7), y: sympy.Float("-1.25", 50)}


@pytest.mark.parametrize("expression", [
    x + y, x * y - 3, x ** 3 / (1 + y ** 2), sympy.exp(-x) / (1 + sympy.exp(-x)) ** 2, sympy.log(1 + sympy.exp(y)),
    sympy.tanh(x) * (1 - sympy.tanh(x) ** 2), sympy.Max(0, y) + sympy.Min(0, x), sympy.Abs(y) + sympy.sign(y),
    sympy.sqrt(x + 2), sympy.erf(x) + sympy.atan(y) + sympy.cosh(x) - sympy.sinh(y) + sympy.sin(x) * sympy.cos(y),
    sympy.Piecewise((1, x > 0), (0, True)) * y, x ** sympy.Rational(1, 3), sympy.E * sympy.pi + x,
])
def test_the_walk_agrees_with_evalf(expression):
    walked = treeval.evaluator(expression)({s: treeval.number(v) for s, v in VALUES.items()})
    exact = expression.xreplace(VALUES).evalf(50)
    assert abs(sympy.Float(walked, 50) - exact) <= sympy.Float("1e-45") * (1 + abs(exact))


@pytest.mark.parametrize("expression, values", [
    (sympy.Add(x, 10 ** 40, -10 ** 40, evaluate=False), {x: 1}),  # a sum that cancels 40 digits
    (sympy.log(x), {x: sympy.Rational(1) + sympy.Rational(1, 10 ** 30)}),  # log next to 1
    (sympy.log(x), {x: -1}),                          # not real
    (x ** sympy.Rational(1, 2), {x: -4}),
    (1 / x, {x: 0}),
    (sympy.Piecewise((1, x > 0), (0, True)), {x: 0}),  # on the boundary of a piece
])
def test_the_walk_refuses_where_a_fixed_precision_could_be_wrong(expression, values):
    walk = treeval.evaluator(expression)
    with pytest.raises((treeval.Unsure, ZeroDivisionError)):
        walk({s: treeval.number(v) for s, v in values.items()})


def test_a_node_it_does_not_know_is_refused_when_the_walker_is_made():
    with pytest.raises(treeval.Unsupported):
        treeval.evaluator(sympy.gamma(x))


def test_the_program_walked_gives_the_programs_values():
    import derive
    derivation = derive.derive(derive.example("softmax"))
    given = derivation.network.given_values()
    walked = treeval.run(derivation.program, given, precision=30)
    exact = derivation.program.run(given, precision=30)
    assert set(walked) == set(exact)
    for symbol, value in exact.items():
        assert abs(walked[symbol] - value) <= sympy.Float("1e-28") * (1 + abs(value)), symbol
