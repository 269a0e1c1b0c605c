"""Formula activations and losses: parsed by the safe grammar, derived by SymPy like built-ins."""
import math

import pytest
import sympy

import derive
from derive.errors import FormulaError
from derive.formula import parse_formula
from derive.functions import X, activation

MISH = """\
inputs: [i1]
layers:
  - units: [h1]
    activation: "x*tanh(log(1+exp(x)))"
    weights: [[0.7]]
    bias: [0.1]
  - units: [o1]
    activation: "x/(1+abs(x))"
    weights: [[-0.9]]
loss: "(t-o)^4/4"
sample: {inputs: [0.5], targets: [0.3]}
learning_rate: 0.2
"""


def test_formula_activation_is_fully_derived():
    derivation = derive.derive(derive.load_text(MISH), verify=True)
    assert derivation.verified
    slopes = [s for s in derivation.steps if s.kind == "activation_derivative"]
    assert len(slopes) == 2
    x = sympy.Symbol("x", real=True)
    mish = x * sympy.tanh(sympy.log(1 + sympy.exp(x)))
    net = derivation.value("net", "h1")
    expected = sympy.diff(mish, x).subs(x, net).evalf(30)
    assert abs(derivation.value("activation_derivative", "h1", "h1") - expected) < 1e-25
    text = derivation.render("text")
    assert "tanh" in text and "∂out_h1/∂net_h1" in text


def test_formula_loss_gradient_matches_finite_difference():
    from reference_model import Model
    model = Model(MISH)
    data = derive.derive(derive.load_text(MISH)).to_data()
    for name in model.params:
        assert math.isclose(data["gradient"][name], model.finite_difference(name), rel_tol=1e-6, abs_tol=1e-9)


@pytest.mark.parametrize("text", [
    "__import__('os')", "x.__class__", "lambda: 1", "exec('1')", "eval(x)", "x; import os", "os.system",
    "x" + "^x" * 60, "(" * 100 + "x" + ")" * 100, "x" * 1000, "2^10^10", "x ^ 1000", "\\input{x}", "x[0]",
    "getattr(x, 'y')", "open('f')", "x if x else 0",
])
def test_hostile_formulas_are_rejected(text):
    with pytest.raises(FormulaError):
        parse_formula(text, {"x": X})


def test_grammar_precedence():
    x = X
    assert parse_formula("-x^2", {"x": x}) == -x ** 2
    assert parse_formula("2^3^2", {"x": x}) == 512
    assert parse_formula("1/2*x", {"x": x}) == x / 2
    assert parse_formula("max(0, x) + 1e-2*min(0, x)", {"x": x}) == sympy.Max(0, x) + sympy.Min(0, x) / 100


def test_sigmoid_derivative_found_in_output_form():
    from derive.calculus import OUTPUT, derivative_in_output
    y = OUTPUT
    assert sympy.expand(derivative_in_output(activation("sigmoid").formula, X) - y * (1 - y)) == 0
    assert sympy.expand(derivative_in_output(activation("tanh").formula, X) - (1 - y ** 2)) == 0
