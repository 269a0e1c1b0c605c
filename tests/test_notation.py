"""derive/notation.py: how each kind of quantity is written, in named and index notation.

Source of truth: the README's notation (net_{h1}, w_5, target_{o1}, E_total; x_1, net_4, w_{41}, δ_6,
t_6; bare numbers named w_<unit>_<source>, written w_{h1,i1}; the formula variables x, o, t renamed
where the network uses the letter; exp(…) where the network names something e), written out by hand
below for one small network with bare-number weights, a shared bias, a per-unit bias and a unit
name with an underscore.
"""
import pytest
import sympy

import derive
from derive.network import build
from derive.notation import Notation, latex_name, text_name
from derive.quantities import KINDS, QuantitySymbol

SPEC = """\
inputs: [i1, i2]
layers:
  - units: [h1, hid_a]
    activation: sigmoid
    weights: [[0.15, 0.20], [0.25, 0.30]]
    bias: 0.35
  - units: [o1]
    activation: sigmoid
    weights: [[0.40, 0.45]]
    bias: [0.60]
loss: half_sse
sample: {inputs: [0.05, 0.10], targets: [0.01]}
learning_rate: 0.5
"""
# Numbers in index notation: i1 1, i2 2, h1 3, hid_a 4, o1 5. Parameters: w_h1_i1 … (bare numbers),
# b1 (the shared bias of layer 1, used twice), b_o1 (a per-unit bias, used once).

# (kind, subjects) -> (named LaTeX, named text, index LaTeX, index text)
EXPECTED = {
    ("input", ("i1",)): ("i_{1}", "i1", "x_{1}", "x_1"),
    ("param", ("w_h1_i1",)): ("w_{h1,i1}", "w_h1_i1", "w_{31}", "w_31"),
    ("param", ("b1",)): ("b_{1}", "b1", "b_{1}", "b1"),           # shared: written by its name in both
    ("param", ("b_o1",)): ("b_{o1}", "b_o1", "b_{5}", "b_5"),
    ("target", ("o1",)): (r"\mathrm{target}_{o1}", "target_o1", "t_{5}", "t_5"),
    ("eta", ()): (r"\eta", "η", r"\eta", "η"),
    ("net", ("h1",)): (r"\mathrm{net}_{h1}", "net_h1", r"\mathrm{net}_{3}", "net_3"),
    ("net", ("hid_a",)): (r"\mathrm{net}_{hid\_a}", "net_hid_a", r"\mathrm{net}_{4}", "net_4"),
    ("out", ("o1",)): (r"\mathrm{out}_{o1}", "out_o1", r"\mathrm{out}_{5}", "out_5"),
    ("loss_term", ("o1",)): ("E_{o1}", "E_o1", "E_{5}", "E_5"),
    ("loss", ()): (r"E_{\mathrm{total}}", "E_total", "E", "E"),
    ("dE_dout", ("h1",)): (r"\frac{\partial E}{\partial \mathrm{out}_{h1}}", "∂E/∂out_h1",
                           r"\frac{\partial E}{\partial \mathrm{out}_{3}}", "∂E/∂out_3"),
    ("activation_derivative", ("hid_a", "hid_a")): (
        r"\frac{\partial \mathrm{out}_{hid\_a}}{\partial \mathrm{net}_{hid\_a}}", "∂out_hid_a/∂net_hid_a",
        r"\frac{\partial \mathrm{out}_{4}}{\partial \mathrm{net}_{4}}", "∂out_4/∂net_4"),
    ("delta", ("o1",)): (r"\delta_{o1}", "δ_o1", r"\delta_{5}", "δ_5"),
    ("dnet_dparam", ("h1", "w_h1_i1")): (
        r"\frac{\partial \mathrm{net}_{h1}}{\partial w_{h1,i1}}", "∂net_h1/∂w_h1_i1",
        r"\frac{\partial \mathrm{net}_{3}}{\partial w_{31}}", "∂net_3/∂w_31"),
    ("partial", (("loss_term", "o1"), ("out", "hid_a"))): (  # subjects that are quantities, written as such
        r"\frac{\partial E_{o1}}{\partial \mathrm{out}_{hid\_a}}", "∂E_o1/∂out_hid_a",
        r"\frac{\partial E_{5}}{\partial \mathrm{out}_{4}}", "∂E_5/∂out_4"),
    ("gradient", ("b1",)): (r"\frac{\partial E}{\partial b_{1}}", "∂E/∂b1",
                            r"\frac{\partial E}{\partial b_{1}}", "∂E/∂b1"),
    ("gradient", ("w_o1_h1",)): (r"\frac{\partial E}{\partial w_{o1,h1}}", "∂E/∂w_o1_h1",
                                 r"\frac{\partial E}{\partial w_{53}}", "∂E/∂w_53"),
    ("update", ("w_h1_i1",)): ("w_{h1,i1}^{+}", "w_h1_i1⁺", "w_{31}^{+}", "w_31⁺"),
    ("update", ("b_o1",)): ("b_{o1}^{+}", "b_o1⁺", "b_{5}^{+}", "b_5⁺"),
    ("after_net", ("h1",)): (r"\mathrm{net}_{h1}^{+}", "net_h1⁺", r"\mathrm{net}_{3}^{+}", "net_3⁺"),
    ("after_out", ("o1",)): (r"\mathrm{out}_{o1}^{+}", "out_o1⁺", r"\mathrm{out}_{5}^{+}", "out_5⁺"),
    ("after_loss_term", ("o1",)): ("E_{o1}^{+}", "E_o1⁺", "E_{5}^{+}", "E_5⁺"),
    ("after_loss", ()): (r"E_{\mathrm{total}}^{+}", "E_total⁺", "E^{+}", "E⁺"),
    # An update rule's quantities: as the catalogue writes the rule's names, the parameter as the style does.
    ("hyper", ("beta1",)): (r"\beta_{1}", "β₁", r"\beta_{1}", "β₁"),
    ("step_number", ()): ("t", "t", "t", "t"),
    ("state", ("m", "w_h1_i1")): ("m_{w_{h1,i1}}", "m_w_h1_i1", "m_{w_{31}}", "m_w_31"),
    ("after_state", ("v", "b_o1")): ("v_{b_{o1}}^{+}", "v_b_o1⁺", "v_{b_{5}}^{+}", "v_b_5⁺"),
    ("rule_term", ("mhat", "b1")): (r"\hat{m}_{b_{1}}", "m̂_b1", r"\hat{m}_{b_{1}}", "m̂_b1"),
    ("trained", (("out", "o1"), "100")): (r"\mathrm{out}_{o1}^{(100)}", "out_o1_after_100",
                                          r"\mathrm{out}_{5}^{(100)}", "out_5_after_100"),
}


@pytest.fixture(scope="module")
def network():
    return build(derive.load_text(SPEC))


def test_the_network_is_as_described(network):
    assert [p.name for p in network.parameters] == ["w_h1_i1", "w_h1_i2", "w_hid_a_i1", "w_hid_a_i2", "b1",
                                                    "w_o1_h1", "w_o1_hid_a", "b_o1"]


def test_every_kind_is_covered():
    assert {kind for kind, _ in EXPECTED} == set(KINDS)


@pytest.mark.parametrize("kind, subjects", sorted(EXPECTED))
def test_named_and_index_forms(network, kind, subjects):
    named_latex, named_text, index_latex, index_text = EXPECTED[(kind, subjects)]
    symbol = QuantitySymbol(kind, *(QuantitySymbol(*s) if isinstance(s, tuple) else s for s in subjects))
    named, index = Notation(network, "named"), Notation(network, "index")
    assert named.latex(symbol) == named_latex
    assert named.text(symbol) == named_text
    assert index.latex(symbol) == index_latex
    assert index.text(symbol) == index_text


def test_default_style_is_named(network):
    assert Notation(network).latex(QuantitySymbol("net", "h1")) == r"\mathrm{net}_{h1}"


def test_unknown_style_is_refused(network):
    with pytest.raises(ValueError, match="unknown notation"):
        Notation(network, "greek")


def test_index_parameters_are_those_used_once(network):
    assert Notation(network, "index").index_parameters() == {
        "w_h1_i1": ("w", ("3", "1")), "w_h1_i2": ("w", ("3", "2")), "w_hid_a_i1": ("w", ("4", "1")),
        "w_hid_a_i2": ("w", ("4", "2")), "w_o1_h1": ("w", ("5", "3")), "w_o1_hid_a": ("w", ("5", "4")),
        "b_o1": ("b", ("5",))}


def test_index_numbers_of_two_digits_are_separated():
    inputs = [f"a{k}" for k in range(1, 10)]  # inputs 1…9, so the unit is 10
    text = (f"inputs: [{', '.join(inputs)}]\nlayers:\n  - units: [y]\n    activation: identity\n"
            f"    weights: [[{', '.join(['0.5'] * 9)}]]\nloss: half_sse\n"
            f"sample: {{inputs: [{', '.join(['1'] * 9)}], targets: [1]}}\nlearning_rate: 0.1\n")
    notation = Notation(build(derive.load_text(text)), "index")
    weight = QuantitySymbol("param", "w_y_a1")
    assert notation.latex(weight) == "w_{10,1}"
    assert notation.text(weight) == "w_10,1"
    assert notation.latex(QuantitySymbol("net", "y")) == r"\mathrm{net}_{10}"


@pytest.mark.parametrize("name, latex, text", [
    ("w5", "w_{5}", "w5"), ("w_h1_i1", "w_{h1,i1}", "w_h1_i1"), ("alpha", r"\alpha", "α"),
    ("beta2", r"\beta_{2}", "beta2"), ("bias", r"\mathrm{bias}", "bias"), ("x", "x", "x"),
    ("h12", "h_{12}", "h12"), ("w41", "w_{41}", "w41"),
])
def test_latex_and_text_names(name, latex, text):
    assert latex_name(name) == latex
    assert text_name(name) == text


def test_greek_parameter_names_in_documents():
    text = SPEC.replace("bias: 0.35", "bias: {alpha: 0.35}")
    notation = Notation(build(derive.load_text(text)))
    assert notation.latex(QuantitySymbol("param", "alpha")) == r"\alpha"
    assert notation.text(QuantitySymbol("gradient", "alpha")) == "∂E/∂α"


# --- the formula variables are local to their formula -------------------------------------------

X, O, T = (sympy.Symbol(name, real=True) for name in "xot")


def test_formula_variables_unchanged_when_free(network):
    notation = Notation(network)
    assert notation.local_names() == {"x": "x", "o": "o", "t": "t"}
    assert notation.latex(X) == "x" and notation.text(O) == "o" and notation.text(T) == "t"


def test_formula_variables_renamed_where_the_network_uses_the_letter():
    text = SPEC.replace("inputs: [i1, i2]", "inputs: [x, i2]").replace("[h1, hid_a]", "[o, hid_a]")
    text = text.replace("bias: 0.35", "bias: {t: 0.35}")
    network = build(derive.load_text(text))
    notation = Notation(network)
    assert notation.names() >= {"x", "o", "t"}
    # the first free letters of z, u, v, s, p, q, r, in that order
    assert notation.local_names() == {"x": "z", "o": "u", "t": "v"}
    assert (notation.latex(X), notation.text(O), notation.text(T)) == ("z", "u", "v")
    # the network's own x, o, t keep their names
    assert notation.text(QuantitySymbol("input", "x")) == "x"
    assert notation.latex(QuantitySymbol("net", "o")) == r"\mathrm{net}_{o}"
    assert notation.text(QuantitySymbol("param", "t")) == "t"


def test_renaming_skips_letters_the_network_also_uses():
    text = SPEC.replace("inputs: [i1, i2]", "inputs: [x, z]").replace("[h1, hid_a]", "[u, o]")
    notation = Notation(build(derive.load_text(text)))
    assert notation.local_names() == {"x": "v", "o": "s", "t": "t"}


def test_exp_written_as_exp_where_the_network_names_e():
    assert Notation(build(derive.load_text(SPEC))).writes_exp_as_e() is True
    for text in (SPEC.replace("inputs: [i1, i2]", "inputs: [e, i2]"),
                 SPEC.replace("bias: 0.35", "bias: {e: 0.35}")):
        assert Notation(build(derive.load_text(text))).writes_exp_as_e() is False
