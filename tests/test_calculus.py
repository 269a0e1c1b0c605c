"""derive/calculus.py: derivatives in terms of the output (σ' = σ(1 − σ)) and layer-wise Jacobians.

Sources of truth: sympy.diff of expressions built in this test, evaluated numerically at points chosen
here; the textbook forms y(1 − y), 1 − y², 3y(1 − y) written by hand; central finite differences in
plain Python floats for the softmax Jacobian; the README's convention that a kink's derivative is 0.
"""
import math

import pytest
import sympy

from derive.calculus import OUTPUT, derivative_in_output, differentiate, jacobian_in_outputs
from derive.functions import activation

x = sympy.Symbol("x", real=True)
y = OUTPUT
POINTS = (-3.1, -1.2, -0.25, 0.35, 0.8, 2.7)


def sigmoid(z):
    return 1 / (1 + sympy.exp(-z))


def agrees_with_sympy_diff(formula, g):
    """g(f(x)) equals sympy.diff(f, x) at every point, to 25 digits."""
    derivative = sympy.diff(formula, x)
    for point in POINTS:
        at = {x: sympy.Float(point, 40)}
        f = formula.xreplace(at).evalf(40)
        left, right = g.xreplace({y: f}).evalf(40), derivative.xreplace(at).evalf(40)
        if abs(left - right) > sympy.Float("1e-25") * (1 + abs(right)):
            return False
    return True


@pytest.mark.parametrize("formula, expected", [
    (sigmoid(x), y * (1 - y)),
    (sympy.tanh(x), 1 - y ** 2),
    (sigmoid(3 * x), 3 * y * (1 - y)),
    (sympy.exp(x) / (1 + sympy.exp(x)), y * (1 - y)),
    (2 * sigmoid(x), y * (2 - y) / 2),
    (sympy.tanh(2 * x), 2 * (1 - y ** 2)),
    (sympy.exp(x), y),
    (sympy.exp(-x), -y),
])
def test_derivative_in_output(formula, expected):
    g = derivative_in_output(formula, x)
    assert g is not None
    assert g.free_symbols == {y} and g.is_polynomial(y)
    assert agrees_with_sympy_diff(formula, g)
    assert sympy.expand(g - expected) == 0


def test_the_forms_courses_write():
    assert str(derivative_in_output(sigmoid(x), x)) == "y*(1 - y)"
    assert str(derivative_in_output(sympy.tanh(x), x)) == "1 - y**2"


@pytest.mark.parametrize("name, expected", [("sigmoid", y * (1 - y)), ("tanh", 1 - y ** 2)])
def test_catalogue_activations(name, expected):
    formula = activation(name).formula
    variable = next(iter(formula.free_symbols))
    g = derivative_in_output(formula, variable)
    assert sympy.expand(g - expected) == 0


@pytest.mark.parametrize("formula", [
    sympy.Max(0, x),                           # relu
    sympy.log(1 + sympy.exp(x)),               # softplus: f' = 1 − e^(−y), not a polynomial in y
    x,                                         # identity: f' = 1 has no y
    sympy.Max(0, x) + sympy.Min(0, x) / 100,   # leaky relu
    x ** 2,                                    # f' = ±2√y
    sympy.sin(x),
    sympy.atan(x),
    sigmoid(x) ** 2,                           # f' = 2y(1 − √y)
    x / (1 + sympy.Abs(x)),
    sympy.sin(x) ** 64,                        # a search that must end (counted, not timed)
])
def test_no_polynomial_form(formula):
    assert derivative_in_output(formula, x) is None


@pytest.mark.parametrize("name", ["relu", "softplus", "identity", "leaky_relu"])
def test_catalogue_activations_without_an_output_form(name):
    formula = activation(name).formula
    assert derivative_in_output(formula, next(iter(formula.free_symbols))) is None


def test_derivative_at_a_kink_is_zero():
    relu = differentiate(sympy.Max(0, x), x)
    assert [relu.subs(x, v) for v in (-1, 0, 2)] == [0, 0, 1]
    leaky = differentiate(sympy.Max(0, x) + sympy.Min(0, x) / 100, x)
    assert [leaky.subs(x, v) for v in (-1, 0, 2)] == [sympy.Rational(1, 100), 0, 1]
    assert not differentiate(sympy.Max(0, x), x).has(sympy.Heaviside)
    smooth = differentiate(sigmoid(x), x)
    assert sympy.simplify(smooth - sympy.diff(sigmoid(x), x)) == 0


# --- layer-wise (softmax) Jacobians --------------------------------------------------------------------

def softmax_floats(values):
    exps = [math.exp(v) for v in values]
    return [e / sum(exps) for e in exps]


def finite_difference_jacobian(function, at, step=1e-6):
    columns = []
    for k in range(len(at)):
        up, down = list(at), list(at)
        up[k] += step
        down[k] -= step
        columns.append([(a - b) / (2 * step) for a, b in zip(function(up), function(down))])
    return [[columns[k][m] for k in range(len(at))] for m in range(len(at))]  # J[m][k] = ∂out_m/∂net_k


def check_jacobian(jacobian, nets, outs, outputs, function, at):
    expected = finite_difference_jacobian(function, at)
    out_values = function(at)
    values = {**{n: sympy.Float(v, 30) for n, v in zip(nets, at)},
              **{o: sympy.Float(v, 30) for o, v in zip(outs, out_values)}}
    for m in range(len(nets)):
        for k in range(len(nets)):
            entry = float(jacobian[m][k].xreplace(values).evalf(30))
            assert math.isclose(entry, expected[m][k], rel_tol=1e-7, abs_tol=1e-9), (m, k, jacobian[m][k])


@pytest.mark.parametrize("count", [2, 3, 4])
def test_softmax_jacobian_in_the_outputs(count):
    nets = list(sympy.symbols(f"n1:{count + 1}", real=True))
    outs = list(sympy.symbols(f"o1:{count + 1}", real=True))
    total = sympy.Add(*[sympy.exp(n) for n in nets])
    outputs = [sympy.exp(n) / total for n in nets]
    jacobian = jacobian_in_outputs(outputs, nets, outs)
    for row in jacobian:
        for entry in row:
            assert not entry.has(*nets), entry          # written in the outputs only
    at = [0.3, -1.1, 0.8, 2.2][:count]
    check_jacobian(jacobian, nets, outs, outputs, softmax_floats, at)
    # and against sympy.diff of the softmax built here, at the same point
    point = {n: sympy.Float(v, 30) for n, v in zip(nets, at)}
    out_values = {o: e.xreplace(point) for o, e in zip(outs, outputs)}
    for m in range(count):
        for k in range(count):
            direct = sympy.diff(outputs[m], nets[k]).xreplace(point).evalf(30)
            assert abs(jacobian[m][k].xreplace(out_values).evalf(30) - direct) < 1e-25


def test_three_unit_softmax_is_the_textbook_form():
    nets = list(sympy.symbols("n1:4", real=True))
    outs = list(sympy.symbols("o1:4", real=True))
    total = sympy.Add(*[sympy.exp(n) for n in nets])
    jacobian = jacobian_in_outputs([sympy.exp(n) / total for n in nets], nets, outs)
    for m in range(3):
        for k in range(3):
            textbook = outs[m] * ((1 if m == k else 0) - outs[k])   # ∂o_m/∂n_k = o_m(δ_mk − o_k)
            assert sympy.expand(jacobian[m][k] - textbook) == 0


def test_a_layer_that_is_not_softmax_is_left_in_the_nets_and_correct():
    a, b = sympy.symbols("a b", real=True)
    p, q = sympy.symbols("p q", real=True)
    total = sympy.exp(a) + 2 * sympy.exp(b)
    outputs = [sympy.exp(a) / total, 2 * sympy.exp(b) / total]

    def weighted(values):
        first, second = math.exp(values[0]), 2 * math.exp(values[1])
        return [first / (first + second), second / (first + second)]

    jacobian = jacobian_in_outputs(outputs, [a, b], [p, q])
    check_jacobian(jacobian, [a, b], [p, q], outputs, weighted, [0.4, -0.9])
    unit_wise = jacobian_in_outputs([sympy.tanh(a), sympy.tanh(b)], [a, b], [p, q])
    assert unit_wise[0][1] == 0 and unit_wise[1][0] == 0
    check_jacobian(unit_wise, [a, b], [p, q], None, lambda v: [math.tanh(t) for t in v], [0.4, -0.9])
