"""derive/check/vocabulary.py: the names a claim may use, resolved to the network's quantities.

Source of truth: the README's claim language (net_h1, delta_h1, dE/dw5, w5_new, E_total, E_new; index
spellings x_1, net_4, δ_6, t_6, w_{41}) and the index numbering worked out by hand for each network
(classic: i1 1, i2 2, h1 3, h2 4, o1 5, o2 6, so w_{41} is w3, the weight into h2 from i1).
"""
import pytest
import sympy

import derive
from derive.check import ClaimError, Vocabulary, parse_claim
from derive.check.vocabulary import Written
from derive.network import build
from derive.quantities import QuantitySymbol as Q


@pytest.fixture(scope="module")
def classic():
    return Vocabulary(build(derive.example("classic")))


@pytest.fixture(scope="module")
def numbered():
    return Vocabulary(build(derive.example("fully_connected")))


def written(text, updated=False, position=1):
    base, *subscripts = text.split("_")
    return Written(base, tuple(subscripts), position, updated)


CLASSIC_NAMES = {
    "net_h1": Q("net", "h1"), "out_o2": Q("out", "o2"), "delta_h1": Q("delta", "h1"),
    "target_o1": Q("target", "o1"), "t_o2": Q("target", "o2"),
    "E": Q("loss"), "E_total": Q("loss"), "E_o1": Q("loss_term", "o1"),
    "w5": Q("param", "w5"), "w_5": Q("param", "w5"), "b1": Q("param", "b1"), "b_2": Q("param", "b2"),
    "w5_new": Q("update", "w5"), "b1_new": Q("update", "b1"), "E_new": Q("after_loss"),
    "out_o1_new": Q("after_out", "o1"), "net_h2_new": Q("after_net", "h2"), "E_o2_new": Q("after_loss_term", "o2"),
    "eta": Q("eta"), "i1": Q("input", "i1"),
    # index notation: inputs 1, 2; units 3…6; weights used once w_{unit source}
    "x_1": Q("input", "i1"), "x_2": Q("input", "i2"), "net_3": Q("net", "h1"), "out_6": Q("out", "o2"),
    "delta_6": Q("delta", "o2"), "t_5": Q("target", "o1"), "target_6": Q("target", "o2"), "E_5": Q("loss_term", "o1"),
    "w_41": Q("param", "w3"), "w_53": Q("param", "w5"), "w_64": Q("param", "w8"), "w_4_1": Q("param", "w3"),
    "out_5_new": Q("after_out", "o1"),
}


@pytest.mark.parametrize("text", sorted(CLASSIC_NAMES))
def test_every_spelling_resolves(classic, text):
    assert classic.resolve(written(text)) == CLASSIC_NAMES[text]


def test_marked_as_updated(classic):
    assert classic.resolve(written("w5", updated=True)) == Q("update", "w5")
    assert classic.resolve(written("E", updated=True)) == Q("after_loss")
    assert classic.resolve(written("out_h1", updated=True)) == Q("after_out", "h1")


def test_constants(classic):
    assert classic.resolve(written("e")) == sympy.E
    assert classic.resolve(written("pi")) == sympy.pi


def test_a_network_name_comes_before_the_constant():
    vocabulary = Vocabulary(build(derive.load_text(
        open(derive.examples.path("classic")).read().replace("inputs: [i1, i2]", "inputs: [e, i2]"))))
    assert vocabulary.resolve(written("e")) == Q("input", "e")


@pytest.mark.parametrize("text, message", [
    ("foo", "unknown name 'foo'"),
    ("net_h9", "unknown name"),
    ("target_h1", "unknown name"),       # only output units have targets
    ("E_h1", "unknown name"),            # and loss terms
    ("x_3", "unknown name"),             # two inputs only
    ("net_7", "unknown name"),           # six numbers only
    ("b_3", "unknown name"),             # the biases are shared: no index name
    ("w_35", "unknown name"),            # no weight into unit 3 from unit 5
    ("delta_h1_new", "has no value after the update"),
    ("eta_new", "has no value after the update"),
    ("i1_new", "has no value after the update"),
    ("e_new", "unknown name"),
])
def test_unknown_names_raise_claim_error(classic, text, message):
    with pytest.raises(ClaimError, match=message) as caught:
        classic.resolve(written(text, position=7))
    assert caught.value.position == 7
    if "unknown" in message:
        assert "i1" in caught.value.hint and "net_h1" in caught.value.hint


def test_derivatives(classic):
    e = written("E")
    assert classic.derivative(e, written("w5")) == Q("gradient", "w5")
    assert classic.derivative(e, written("b1")) == Q("gradient", "b1")
    assert classic.derivative(e, written("out_h1")) == Q("dE_dout", "h1")
    assert classic.derivative(e, written("net_o2")) == Q("delta", "o2")
    assert classic.derivative(written("E_total"), written("net_3")) == Q("delta", "h1")
    assert classic.derivative(written("out_h1"), written("net_h1")) == Q("activation_derivative", "h1", "h1")
    # Any other derivative of a forward quantity by a node before it is one along the graph (test_graph).
    assert classic.derivative(written("out_h1"), written("net_h2")) == Q("partial", Q("out", "h1"), Q("net", "h2"))
    assert classic.derivative(e, written("i1")) == Q("partial", Q("loss"), Q("input", "i1"))
    for top, bottom in (("w5", "E"), ("E", "delta_h1"), ("E", "e"), ("out_h1", "out_h1"), ("E", "t_o1")):
        with pytest.raises(ClaimError, match="not a quantity of the derivation"):
            classic.derivative(written(top), written(bottom))


def test_index_spellings_in_a_numbered_network(numbered):
    # fully_connected: inputs x1 x2 x3 (1-3), units n4 n5 (hidden), n6 n7 (outputs), one bias per unit
    assert numbered.resolve(Written("w", ("41",), 1)) == Q("param", "w41")
    assert numbered.resolve(Written("w", ("4", "1"), 1)) == Q("param", "w41")
    assert numbered.resolve(Written("w", ("7", "5"), 1)) == Q("param", "w75")
    assert numbered.resolve(Written("b", ("4",), 1)) == Q("param", "b4")
    assert numbered.resolve(Written("x", ("1",), 1)) == Q("input", "x1")
    assert numbered.resolve(Written("x1", (), 1)) == Q("input", "x1")
    assert numbered.resolve(Written("net", ("4",), 1)) == Q("net", "n4")
    assert numbered.resolve(Written("delta", ("n7",), 1)) == Q("delta", "n7")
    assert numbered.resolve(Written("t", ("6",), 1)) == Q("target", "n6")
    with pytest.raises(ClaimError):
        numbered.resolve(Written("t", ("4",), 1))


def test_bare_number_names():
    vocabulary = Vocabulary(build(derive.load_text("""\
inputs: [i1, i2]
layers:
  - units: [h1]
    activation: tanh
    weights: [[0.5, -0.5]]
    bias: [0.1]
loss: half_sse
sample: {inputs: [1, 2], targets: [0.5]}
learning_rate: 0.1
""")))
    assert vocabulary.resolve(Written("w", ("h1", "i1"), 1)) == Q("param", "w_h1_i1")
    assert vocabulary.resolve(Written("w", ("31",), 1)) == Q("param", "w_h1_i1")
    assert vocabulary.resolve(Written("w", ("32",), 1)) == Q("param", "w_h1_i2")
    assert vocabulary.resolve(Written("b", ("h1",), 1)) == Q("param", "b_h1")
    assert vocabulary.resolve(Written("b", ("3",), 1)) == Q("param", "b_h1")
    assert vocabulary.resolve(Written("w", ("h1", "i2", "new"), 1)) == Q("update", "w_h1_i2")


# --- the same names as claims are written -----------------------------------------------------------

CLAIMS = {
    "net_h1": Q("net", "h1"), "delta_h1": Q("delta", "h1"), "δ_h1": Q("delta", "h1"),
    r"\delta_{h1}": Q("delta", "h1"), "dE/dw5": Q("gradient", "w5"), "∂E/∂w5": Q("gradient", "w5"),
    r"\frac{\partial E}{\partial w_5}": Q("gradient", "w5"), "dE/dnet_o1": Q("delta", "o1"),
    "dE_total/dout_h2": Q("dE_dout", "h2"), "∂out_h1/∂net_h1": Q("activation_derivative", "h1", "h1"),
    "w5_new": Q("update", "w5"), "w_5^{new}": Q("update", "w5"), "w5⁺": Q("update", "w5"),
    "E_total": Q("loss"), r"E_{\mathrm{total}}": Q("loss"), "E_new": Q("after_loss"),
    "out_o1^+": Q("after_out", "o1"), "x_1": Q("input", "i1"), "w_{41}": Q("param", "w3"),
    "w_{4,1}": Q("param", "w3"), r"\mathrm{net}_{h2}": Q("net", "h2"), "t_{o2}": Q("target", "o2"),
    "η": Q("eta"),
}


@pytest.mark.parametrize("text", sorted(CLAIMS))
def test_claims_name_the_quantity(classic, text):
    assert parse_claim(f"{text} = 0.5", classic).quantity == CLAIMS[text]


def test_a_claim_with_an_unknown_name_is_unreadable(classic):
    with pytest.raises(ClaimError, match="unknown name 'net_h9'") as caught:
        parse_claim("delta_h1 = net_h9 * 2", classic)
    assert caught.value.position == len("delta_h1 = ") + 1


def test_new_run_into_a_name_is_its_value_after_the_update(classic):
    assert classic.resolve(written("w5new")) == Q("update", "w5")
    assert classic.resolve(written("w_1new")) == Q("update", "w1")          # w_{1new}
    assert classic.resolve(written("out_o1new")) == Q("after_out", "o1")
    assert not classic.is_free("w5new") and classic.is_free("renew")
    with pytest.raises(ClaimError):
        classic.resolve(written("new"))                                       # the word alone names nothing
