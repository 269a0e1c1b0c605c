"""Derivatives along the computational graph (derive/graph.py) and the page notation a checker reads:
∂A/∂B claims (∂net_o1/∂w5, ∂E_o1/∂out_h1), a spec's `aliases` for a page's own names (a_1', w'_{11},
z^{[1]}_1), several equations listed on one line, and the one-unit-in-the-last-digit slip.

Truth comes from outside the code under test: central finite differences of the plain-Python model in
tests/reference_model.py (which holds a node at a value of its own to differentiate with respect to it),
and the figures of a published worked example (Matt Mazur's, the classic network) written out by hand.
"""

import pytest
import yaml
from click.testing import CliRunner

import derive
from derive import graph
from derive.check import Judge
from derive.check.lines import read_lines
from derive.cli import cli
from derive.quantities import QuantitySymbol as Q
from conftest import ROOT
from reference_model import Model

NETWORKS = {
    "tanh_bce": """
inputs: [x1, x2]
layers:
  - units: [h1, h2, h3]
    activation: tanh
    weights: [[0.3, -0.2], [0.5, 0.1], [-0.4, 0.6]]
    bias: [0.1, -0.1, 0.05]
  - units: [o1]
    activation: sigmoid
    weights: [[0.7, -0.5, 0.2]]
    bias: {b2: 0.2}
loss: bce
sample: {inputs: [0.6, -0.3], targets: [1]}
learning_rate: 0.1
""",
    "relu_softmax": """
inputs: [x1, x2]
layers:
  - units: [h1, h2]
    activation: relu
    weights: [[0.4, 0.3], [-0.2, 0.8]]
    bias: {b1: 0.1}
  - units: [o1, o2, o3]
    activation: softmax
    weights: [[0.5, -0.3], [0.2, 0.4], [-0.6, 0.1]]
loss: cross_entropy
sample: {inputs: [1.0, 0.5], targets: [0, 1, 0]}
learning_rate: 0.5
""",
}


def classic_text():
    from importlib import resources
    return resources.files("derive.examples").joinpath("classic.yaml").read_text(encoding="utf-8")


NETWORKS["classic"] = classic_text()


def key(symbol):
    return (symbol.kind.name, *symbol.subjects)


def pairs(network):
    """(top, bottom) pairs of the forward graph: every net, out and loss term over every parameter, input,
    net and out before it."""
    units = [unit for layer in network.layers for unit in layer.units]
    nodes = [Q(kind, unit.name) for unit in units for kind in ("net", "out")]
    tops = nodes + [Q("loss_term", unit.name) for unit in network.output_layer.units] + [network.loss]
    bottoms = nodes + [p.symbol for p in network.parameters] + [symbol for _, symbol in network.inputs]
    return [(top, bottom) for top in tops for bottom in bottoms if top != bottom]


@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_derivatives_along_the_graph_equal_finite_differences(name):
    derivation = derive.derive(derive.load_text(NETWORKS[name]))
    model, definitions = Model(NETWORKS[name]), dict(derivation.program)
    checked = 0
    for top, bottom in pairs(derivation.network):
        expression = graph.derivative(definitions, top, bottom)
        value = float(expression.xreplace(derivation.values))
        bottom_key = ("param", bottom.subjects[0]) if bottom.kind.name == "param" else key(bottom)
        expected = model.node_difference(key(top) if top.subjects else ("loss",), bottom_key)
        assert value == pytest.approx(expected, rel=1e-5, abs=1e-7), (top, bottom)
        checked += value != 0
    assert checked > 10  # not a graph of zeros


def test_a_node_not_computed_from_another_has_derivative_zero_and_itself_one():
    derivation = derive.derive(derive.example("classic"))
    definitions = dict(derivation.program)
    assert graph.derivative(definitions, Q("net", "h1"), Q("param", "w5")) == 0
    assert graph.derivative(definitions, Q("out", "h1"), Q("out", "h1")) == 1
    # the lower node is a node of its own: ∂out_o1/∂out_h1 does not go back through net_h1
    through = graph.derivative(definitions, Q("out", "o1"), Q("out", "h1"))
    assert Q("param", "w1") not in through.free_symbols


# --- claims about derivatives along the graph: a published worked example, line by line ------------------

# Matt Mazur's "A Step by Step Backpropagation Example" (the classic network), its figures as published.
MAZUR = r"""
$$\frac{\partial E_{total}}{\partial out_{o1}} = -(target_{o1} - out_{o1}) = -(0.01 - 0.75136507) = 0.74136507$$
$$\frac{\partial out_{o1}}{\partial net_{o1}} = out_{o1}(1 - out_{o1}) = 0.75136507(1 - 0.75136507) = 0.186815602$$
$$\frac{\partial net_{o1}}{\partial w_{5}} = 1 * out_{h1} * w_5^{(1 - 1)} + 0 + 0 = out_{h1} = 0.593269992$$
$$\frac{\partial E_{o1}}{\partial net_{o1}} = \frac{\partial E_{o1}}{\partial out_{o1}} * \frac{\partial out_{o1}}{\partial net_{o1}} = 0.74136507 * 0.186815602 = 0.138498562$$
$$\frac{\partial net_{o1}}{\partial out_{h1}} = w_5 = 0.40$$
$$\frac{\partial E_{o1}}{\partial out_{h1}} = \frac{\partial E_{o1}}{\partial net_{o1}} * \frac{\partial net_{o1}}{\partial out_{h1}} = 0.138498562 * 0.40 = 0.055399425$$
$$\frac{\partial E_{o2}}{\partial out_{h1}} = -0.019049119$$
$$\frac{\partial E_{total}}{\partial out_{h1}} = \frac{\partial E_{o1}}{\partial out_{h1}} + \frac{\partial E_{o2}}{\partial out_{h1}} = 0.055399425 + -0.019049119 = 0.036350306$$
$$\frac{\partial net_{h1}}{\partial w_1} = i_1 = 0.05$$
"""


@pytest.fixture(scope="module")
def classic_judge():
    return Judge(derive.derive(derive.example("classic")))


def test_a_published_chain_of_graph_derivatives_is_marked_link_by_link(classic_judge, reference):
    verdicts = classic_judge.judge_document(read_lines(MAZUR, "md"))
    assert [v.verdict for v in verdicts] == ["correct"] * 6 + ["incorrect"] + ["correct"] * 2
    # The true value rounds to -0.019049118: the published last digit comes from rounded values the page
    # did not write.
    slip = verdicts[6]
    assert slip.links[0].diagnosis.mistake == "last_digit"
    truth = reference["delta"]["o2"] * 0.5   # ∂E_o2/∂out_h1 = δ_o2 · w7, w7 = 0.5
    assert float(slip.expected_value) == pytest.approx(truth, rel=1e-12)
    assert round(truth, 9) == -0.019049118


@pytest.mark.parametrize("claim, wrong_link", [
    (r"\frac{\partial net_{o1}}{\partial w_{5}} = out_{h2} = 0.596884378", 0),   # the other hidden unit
    (r"\frac{\partial E_{o1}}{\partial out_{h1}} = 0.138498562 * 0.45 = 0.062324353", 0),  # w6 for w5
    (r"\frac{\partial E_{o1}}{\partial net_{o1}} = 0.74136507 * 0.186815602 = 0.13849", 1),  # cut short
])
def test_a_wrong_graph_derivative_is_flagged_at_its_own_link(classic_judge, claim, wrong_link):
    verdict = classic_judge.judge(claim)
    assert verdict.verdict == "incorrect"
    assert [link.index for link in verdict.links if link.verdict == "incorrect"][0] == wrong_link


def test_a_derivative_that_is_not_a_quantity_of_the_graph_is_unreadable(classic_judge):
    for claim in ["∂delta_o1/∂w5 = 1", "∂w5/∂net_o1 = 1", "∂net_o1/∂net_o1 = 1"]:
        assert classic_judge.judge(claim).verdict == "unreadable", claim


def test_the_number_of_graph_derivatives_a_judge_adds_is_bounded(monkeypatch):
    from derive.check import judge as judge_module
    monkeypatch.setattr(judge_module, "MAX_EXTENDED", 2)
    judge = Judge(derive.derive(derive.example("classic")))
    verdicts = [judge.judge(f"∂net_o1/∂{name} = 0.5") for name in ("w5", "w6", "out_h1")]
    assert [v.verdict for v in verdicts[:2]] == ["incorrect", "incorrect"]
    assert verdicts[2].verdict == "undecided" and verdicts[2].message.key == "claim_too_many_derivatives"


# --- a page's own names: aliases ----------------------------------------------------------------------------

# A published page (seed 004, a Zhihu answer): inputs a_1..a_3, a linear hidden layer a_1', a_2' without
# biases, one linear output a_1''; output weights written w'_{11}, w'_{21}.
PAGE_SPEC = """
inputs: [a_1, a_2, a_3]
layers:
  - units: [h1, h2]
    activation: identity
    weights:
      - [{w11: 0.5}, {w21: 0.4}, {w31: 0.3}]
      - [{w12: 0.6}, {w22: 0.3}, {w32: 0.2}]
  - units: [o1]
    activation: identity
    weights:
      - [{v11: 0.7}, {v21: 0.8}]
loss: half_sse
sample: {inputs: [1, 2, 3], targets: [3.2]}
learning_rate: 0.1
aliases:
  "a_1'": out_h1
  "a_2'": out_h2
  "a_1''": out_o1
  "w'_{11}": v11
  "w_{21}'": v21
"""
PAGE = r"""
$$a_1' = 1 * 0.5 + 2 * 0.4 + 3 * 0.3 = 2.2$$
$$a_2' = 1 * 0.6 + 2 * 0.3 + 3 * 0.2 = 1.8$$
$$a_1'' = 2.2 * 0.7 + 1.8 * 0.8 = 2.98$$
输入为 $a_1=1, a_2=2, a_3=3$，输出权重 $$w'_{11} = 0.7, w'_{21} = 0.8$$
$$a_1'' = 2.2 * 0.7 + 1.8 * 0.8 = 2.89$$
"""


def test_a_pages_own_names_are_read_through_the_specs_aliases():
    judge = Judge(derive.derive(derive.load_text(PAGE_SPEC)))
    verdicts = judge.judge_document(read_lines(PAGE, "md"))
    marked = [(v.claim, v.verdict) for v in verdicts]
    assert marked == [
        ("a_1' = 1 * 0.5 + 2 * 0.4 + 3 * 0.3 = 2.2", "correct"),
        ("a_2' = 1 * 0.6 + 2 * 0.3 + 3 * 0.2 = 1.8", "correct"),
        ("a_1'' = 2.2 * 0.7 + 1.8 * 0.8 = 2.98", "correct"),
        ("a_1=1", "correct"), ("a_2=2", "correct"), ("a_3=3", "correct"),
        ("w'_{11} = 0.7", "correct"), ("w'_{21} = 0.8", "correct"),   # w'_{21} and w_{21}' are one name
        ("a_1'' = 2.2 * 0.7 + 1.8 * 0.8 = 2.89", "incorrect")]
    last = verdicts[-1]
    assert [link.verdict for link in last.links] == ["correct", "incorrect"]   # the arithmetic is wrong
    assert last.links[1].diagnosis.mistake == "arithmetic_slip"
    assert last.quantity == Q("out", "o1")


@pytest.mark.parametrize("written", ["z^{[1]}_1", "z_1^{(1)}", "z^[1]_1"])
def test_a_layer_superscript_is_part_of_a_name(written):
    text = classic_text() + 'aliases:\n  "z^{[1]}_1": net_h1\n'
    judge = Judge(derive.derive(derive.load_text(text)))
    assert judge.judge(f"{written} = 0.3775").verdict == "correct"
    assert judge.judge(f"{written} = 0.3875").verdict == "incorrect"


def test_a_name_with_primes_and_no_alias_is_unknown_with_a_hint(classic_judge):
    verdict = classic_judge.judge("a_1' = 2.2")
    assert verdict.verdict == "unreadable" and verdict.hint.key == "hint_alias"
    assert classic_judge.judge("out_h1 = sigmoid'(net_h1) + 0.35").verdict == "incorrect"  # f'(x) still derives


@pytest.mark.parametrize("aliases, key", [
    ('"a_1 +": out_h1', "error_alias_not_a_name"),
    ('"a_1\'": gamma_h1', "error_alias_meaning"),
    ('"a_1\'": out_h1\n  "a\'_1": out_h2', "error_alias_twice"),
    ('"w5": out_h1', "error_alias_taken"),
])
def test_a_bad_alias_is_one_line_naming_it_with_exit_code_2(tmp_path, aliases, key):
    spec = tmp_path / "page.yaml"
    spec.write_text(classic_text() + "aliases:\n  " + aliases + "\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["check", str(spec), "--claim", "out_h1 = 0.5933"])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1
    english = yaml.safe_load((ROOT / "templates" / "i18n" / "en.yaml").read_text(encoding="utf-8"))[key]
    assert english.split("{")[0].strip().split()[0] in result.output   # the message of `key`
    assert "line" in result.output


def test_aliases_leave_the_documents_alone():
    plain = derive.derive(derive.example("classic")).render("md")
    aliased = derive.derive(derive.load_text(classic_text() + 'aliases:\n  "a_1\'": out_h1\n')).render("md")
    assert aliased == plain


# --- several equations on one line ---------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("w_1 = 0.15, w_2 = 0.2; b_1 = 0.35", ["w_1 = 0.15", "w_2 = 0.2", "b_1 = 0.35"]),
    ("i1 = 0.05，i2 = 0.10", ["i1 = 0.05", "i2 = 0.10"]),
    ("w_{1,1} = 0.15", ["w_{1,1} = 0.15"]),                       # a comma in a subscript
    ("out_h1 = max(0, net_h1) = 0.3775", ["out_h1 = max(0, net_h1) = 0.3775"]),
    ("net_h1 = 0.3775, so out_h1 is larger", ["net_h1 = 0.3775, so out_h1 is larger"]),  # words after it
])
def test_equations_listed_on_one_line_are_split(text, expected):
    for kind, written in (("txt", text), ("md", f"${text}$")):
        assert [line.text for line in read_lines(written, kind) if line.kind == "equation"] == expected
