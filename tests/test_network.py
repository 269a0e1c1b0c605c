"""derive/network.py: a Spec as SymPy symbols and expressions.

Sources of truth: each unit's net written out by hand from the network file (Σ w·out + b), the file's
numbers as hand-made fractions, hand arithmetic (0.15·0.05 + 0.20·0.10 + 0.35 = 0.3775), the math module
for the activations, and the README's naming and numbering rules.
"""
import math
from fractions import Fraction

import pytest
import sympy

import derive
from derive.network import build
from derive.quantities import QuantitySymbol

CLASSIC = derive.example("classic")


def param(name):
    return QuantitySymbol("param", name)


def inp(name):
    return QuantitySymbol("input", name)


def out(name):
    return QuantitySymbol("out", name)


@pytest.fixture(scope="module")
def classic():
    return build(CLASSIC)


def test_net_definitions_are_the_weighted_sums(classic):
    w = {f"w{k}": param(f"w{k}") for k in range(1, 9)}
    b1, b2 = param("b1"), param("b2")
    expected = {  # written out from the network file
        "h1": w["w1"] * inp("i1") + w["w2"] * inp("i2") + b1,
        "h2": w["w3"] * inp("i1") + w["w4"] * inp("i2") + b1,
        "o1": w["w5"] * out("h1") + w["w6"] * out("h2") + b2,
        "o2": w["w7"] * out("h1") + w["w8"] * out("h2") + b2,
    }
    units = {unit.name: unit for unit in classic.units}
    assert set(units) == set(expected)
    for name, expression in expected.items():
        assert sympy.expand(units[name].net_definition - expression) == 0, name
        assert sympy.expand(units[name].net_display - expression) == 0, name


def test_net_values_by_hand(classic):
    values = classic.given_values()
    h1, h2 = classic.layers[0].units
    assert h1.net_definition.xreplace(values) == sympy.Rational("0.3775")  # 0.15·0.05 + 0.20·0.10 + 0.35
    assert h2.net_definition.xreplace(values) == sympy.Rational("0.3925")  # 0.25·0.05 + 0.30·0.10 + 0.35


def test_net_display_keeps_the_course_order(classic):
    h1 = classic.layers[0].units[0]
    terms = h1.net_display.args
    assert len(terms) == 3
    assert terms[0].args == (param("w1"), inp("i1"))
    assert terms[1].args == (param("w2"), inp("i2"))
    assert terms[2] == param("b1")


def test_symbols_carry_their_kind_and_unit(classic):
    for unit in classic.units:
        assert (unit.net.kind.name, unit.net.subjects) == ("net", (unit.name,))
        assert (unit.out.kind.name, unit.out.subjects) == ("out", (unit.name,))
    assert [t.subjects for t in classic.targets] == [("o1",), ("o2",)]
    assert classic.loss.kind.name == "loss" and classic.learning_rate.kind.name == "eta"
    assert [term.subjects for term in classic.loss_terms] == [("o1",), ("o2",)]
    assert classic.output_layer is classic.layers[-1]


def test_given_values_are_the_files_fractions(classic):
    values = classic.given_values()
    expected = {inp("i1"): Fraction(1, 20), inp("i2"): Fraction(1, 10),
                QuantitySymbol("target", "o1"): Fraction(1, 100), QuantitySymbol("target", "o2"): Fraction(99, 100),
                param("w1"): Fraction(3, 20), param("w2"): Fraction(1, 5), param("w3"): Fraction(1, 4),
                param("w4"): Fraction(3, 10), param("w5"): Fraction(2, 5), param("w6"): Fraction(9, 20),
                param("w7"): Fraction(1, 2), param("w8"): Fraction(11, 20), param("b1"): Fraction(7, 20),
                param("b2"): Fraction(3, 5), QuantitySymbol("eta"): Fraction(1, 2)}
    assert {symbol: Fraction(int(v.p), int(v.q)) for symbol, v in values.items()} == expected


def test_parameters_once_each_in_order_of_first_use(classic):
    assert [p.name for p in classic.parameters] == ["w1", "w2", "w3", "w4", "b1", "w5", "w6", "w7", "w8", "b2"]
    assert {p.name for p in classic.parameters if p.is_bias} == {"b1", "b2"}
    # update_biases: false in the classic example: the biases are not trained, the weights are
    assert {p.name for p in classic.parameters if not p.trainable} == {"b1", "b2"}
    trained = build(derive.load_text(open(derive.examples.path("classic")).read()
                                     .replace("update_biases: false", "update_biases: true")))
    assert all(p.trainable for p in trained.parameters)


def test_shared_bias_is_one_parameter(classic):
    h1, h2 = classic.layers[0].units
    assert h1.bias == h2.bias and h1.bias.value == sympy.Rational(7, 20)
    assert h1.bias.symbol == h2.bias.symbol == param("b1")
    assert classic.layers[0].bias_shared is True


TIED = """\
inputs: [a, b]
layers:
  - units: [h, k]
    activation: tanh
    weights:
      - [{u: 0.5}, {v: -0.25}]
      - [{v: -0.25}, 0.75]
    bias: [0.1, {u: 0.5}]
  - units: [y]
    activation: identity
    weights:
      - [{u: 0.5}, 2]
loss: half_sse
sample: {inputs: [1, 2], targets: [0.5]}
learning_rate: 0.1
"""


def test_tied_parameters_are_one_symbol_used_everywhere():
    network = build(derive.load_text(TIED))
    names = [p.name for p in network.parameters]
    assert names == ["u", "v", "w_k_b", "b_h", "w_y_k"]  # README: bare numbers are w_<unit>_<source>, b_<unit>
    h, k, y = network.units
    expected = {
        "h": param("u") * inp("a") + param("v") * inp("b") + param("b_h"),
        "k": param("v") * inp("a") + param("w_k_b") * inp("b") + param("u"),
        "y": param("u") * out("h") + param("w_y_k") * out("k"),
    }
    for unit in (h, k, y):
        assert sympy.expand(unit.net_definition - expected[unit.name]) == 0, unit.name
    assert y.bias is None
    # Index notation numbers a parameter only where it is used once: u and v are used 4 and 2 times.
    assert network.single_places() == {"w_k_b": ("w", ("4", "2")), "b_h": ("b", ("3",)), "w_y_k": ("w", ("5", "4"))}


def test_numbers_inputs_first_then_units(classic):
    assert classic.numbers() == {"i1": 1, "i2": 2, "h1": 3, "h2": 4, "o1": 5, "o2": 6}
    assert [(u.name, u.layer, u.number) for u in classic.units] == [
        ("h1", 1, 3), ("h2", 1, 4), ("o1", 2, 5), ("o2", 2, 6)]


def test_single_places_of_the_classic_weights(classic):
    places = classic.single_places()
    assert places == {"w1": ("w", ("3", "1")), "w2": ("w", ("3", "2")), "w3": ("w", ("4", "1")),
                      "w4": ("w", ("4", "2")), "w5": ("w", ("5", "3")), "w6": ("w", ("5", "4")),
                      "w7": ("w", ("6", "3")), "w8": ("w", ("6", "4"))}  # the shared biases are used twice


def test_per_unit_biases_are_numbered():
    network = build(derive.example("fully_connected"))
    places = network.single_places()
    assert places["b4"] == ("b", ("4",)) and places["b7"] == ("b", ("7",))
    assert places["w41"] == ("w", ("4", "1")) and places["w75"] == ("w", ("7", "5"))


def test_connections_name_their_sources(classic):
    o1 = classic.layers[1].units[0]
    assert [(c.weight.name, c.source, c.source_symbol) for c in o1.connections] == [
        ("w5", "h1", out("h1")), ("w6", "h2", out("h2"))]


def test_activation_outputs_against_math(classic):
    layer = classic.layers[0]
    outputs = layer.outputs()
    for unit, expression in zip(layer.units, outputs):
        for net in (-2.5, 0.0, 0.3775, 4.0):
            value = float(expression.xreplace({unit.net: sympy.Float(net, 30)}))
            assert math.isclose(value, 1 / (1 + math.exp(-net)), rel_tol=1e-14)


def test_softmax_layer_outputs_by_hand():
    network = build(derive.example("softmax"))
    layer = network.output_layer
    nets = [0.3, -1.2, 2.0]
    at = {unit.net: sympy.Float(n, 30) for unit, n in zip(layer.units, nets)}
    ours = [float(expression.xreplace(at).evalf(30)) for expression in layer.outputs()]
    theirs = [math.exp(n) / sum(math.exp(m) for m in nets) for n in nets]
    assert all(math.isclose(a, b, rel_tol=1e-13) for a, b in zip(ours, theirs))


@pytest.mark.parametrize("loss, per_term", [
    ("half_sse", lambda o, t: (t - o) ** 2 / 2),
    ("sse", lambda o, t: (t - o) ** 2),
    ("mse", lambda o, t: (t - o) ** 2 / 2),      # the mean over the two outputs: each term halved
    ("bce", lambda o, t: -(t * sympy.log(o) + (1 - t) * sympy.log(1 - o))),
    ("(t-o)^4/4", lambda o, t: (t - o) ** 4 / 4),
])
def test_loss_terms(loss, per_term):
    text = open(derive.examples.path("classic")).read().replace("loss: half_sse", f"loss: '{loss}'")
    network = build(derive.load_text(text))
    for unit, target, term in zip(network.output_layer.units, network.targets, network.loss_term_definitions()):
        at = {unit.out: sympy.Rational(3, 4), target: sympy.Rational(1, 10)}
        expected = per_term(sympy.Rational(3, 4), sympy.Rational(1, 10))
        assert sympy.simplify(term.xreplace(at) - expected) == 0, (loss, term)
