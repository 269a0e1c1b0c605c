"""derive/handout.py: asked quantities, seeded variants and the answer table.

Sources of truth: the README (--ask kinds net, out, E, delta, gradient, update and single quantities in
the claim language; variants drawn with --decimals decimals, signs and sizes like the file's, one-hot
targets kept one-hot, degenerate draws rejected; the same seed gives the same variants), the order of
a hand derivation (the backward pass from the outputs inwards), and PyTorch autograd in float64 for
every figure of the answer table, computed from each variant's network file read by the independent
reader in tests/reference_model.py.
"""
import csv
import io
import math

import pytest

import derive
from derive.check import Vocabulary, parse_claim
from derive.handout import (HandoutError, answer_rows, answers_csv, degenerate, draw_variant, questions, spec_yaml,
                            variants)
from derive.quantities import QuantitySymbol as Q
from reference_model import Model

CLASSIC_TEXT = open(derive.examples.path("classic"), encoding="utf-8").read()
ALL = "net,out,E,delta,gradient,update,E_new"


@pytest.fixture(scope="module")
def classic():
    return derive.derive(derive.example("classic"))


def names(derivation, ask):
    return [question.name for question in questions(derivation, ask)]


# --- questions ------------------------------------------------------------------------------------

def test_kinds_in_document_order(classic):
    assert names(classic, "net") == ["net_h1", "net_h2", "net_o1", "net_o2"]
    assert names(classic, "out") == ["out_h1", "out_h2", "out_o1", "out_o2"]
    assert names(classic, "E") == ["E"]
    # the backward pass runs from the output layer inwards
    assert names(classic, "delta") == ["delta_o1", "delta_o2", "delta_h1", "delta_h2"]
    # the biases are not trained in the classic example (update_biases: false)
    assert names(classic, "gradient") == ["dE/dw5", "dE/dw6", "dE/dw7", "dE/dw8",
                                          "dE/dw1", "dE/dw2", "dE/dw3", "dE/dw4"]
    assert names(classic, "update") == [f"w{k}_new" for k in range(1, 9)]


def test_trained_biases_are_asked_too():
    derivation = derive.derive(derive.load_text(CLASSIC_TEXT.replace("update_biases: false", "update_biases: true")))
    assert "dE/db1" in names(derivation, "gradient") and "dE/db2" in names(derivation, "gradient")
    assert {"b1_new", "b2_new"} <= set(names(derivation, "update"))


def test_single_quantities(classic):
    asked = questions(classic, "delta_h1,w5_new,E_new")
    assert [(q.name, q.symbol) for q in asked] == [
        ("delta_h1", Q("delta", "h1")), ("w5_new", Q("update", "w5")), ("E_new", Q("after_loss"))]
    # in the order of the derivation: δ_o1, then (in the hidden layer) ∂E/∂out_h2, then ∂E/∂w1
    assert [q.symbol for q in questions(classic, "∂E/∂w1, dE/dout_h2 ,δ_o1")] == [
        Q("delta", "o1"), Q("dE_dout", "h2"), Q("gradient", "w1")]


def test_kinds_and_quantities_mixed_without_repeats(classic):
    assert names(classic, "delta_h1,delta,E_new,E") == ["E", "delta_o1", "delta_o2", "delta_h1", "delta_h2", "E_new"]


@pytest.mark.parametrize("ask, message", [
    ("delta_zz", "delta_zz"), ("nets", "nets"), ("", "names no quantity"), (" , ,", "names no quantity"),
    ("dE/di1", "dE/di1"),
])
def test_bad_questions(classic, ask, message):
    with pytest.raises(HandoutError, match=message):
        questions(classic, ask)


def test_question_names_are_read_by_derive_check(classic):
    vocabulary = Vocabulary(classic.network)
    for question in questions(classic, ALL + ",dE/dout_h1,target_o1,out_o1_new"):
        assert parse_claim(f"{question.name} = 0", vocabulary).quantity == question.symbol, question.name


def test_the_name_of_an_asked_slope_is_read_by_derive_check(classic):
    (question,) = questions(classic, "∂out_h1/∂net_h1")
    assert parse_claim(f"{question.name} = 0", Vocabulary(classic.network)).quantity == question.symbol


# --- variants -----------------------------------------------------------------------------------

def numbers_of(spec):
    parameters = [(p.name, p.value) for layer in spec.layers for row in layer.weights for p in row]
    parameters += [(p.name, p.value) for layer in spec.layers for p in layer.bias]
    return parameters, spec.sample_inputs, spec.targets, spec.learning_rate


@pytest.fixture(scope="module")
def seven():
    return variants(derive.example("classic"), 3, seed=7)


def test_the_same_seed_gives_the_same_variants(seven):
    again = variants(derive.example("classic"), 3, seed=7)
    assert [numbers_of(spec) for spec, _ in again] == [numbers_of(spec) for spec, _ in seven]
    asked = questions(seven[0][1], ALL)
    table = answers_csv(answer_rows([(f"{i:02d}", d) for i, (_, d) in enumerate(seven, 1)], asked))
    assert answers_csv(answer_rows([(f"{i:02d}", d) for i, (_, d) in enumerate(again, 1)], asked)) == table


def test_another_seed_gives_other_variants(seven):
    eight = variants(derive.example("classic"), 3, seed=8)
    drawn = {str(numbers_of(spec)) for spec, _ in seven + eight}
    assert len(drawn) == 6  # six different networks
    classic_numbers = numbers_of(derive.example("classic"))
    assert all(numbers_of(spec) != classic_numbers for spec, _ in seven + eight)


def test_variants_keep_the_structure_and_draw_nice_numbers(seven):
    original = derive.example("classic")
    scale = max(abs(p.value) for layer in original.layers for row in layer.weights for p in row)  # 0.6: b2
    scale = max(scale, max(abs(p.value) for layer in original.layers for p in layer.bias))
    for spec, _ in seven:
        assert spec.inputs == original.inputs and spec.outputs == original.outputs
        assert spec.learning_rate == original.learning_rate and spec.loss == original.loss
        assert [l.activation for l in spec.layers] == [l.activation for l in original.layers]
        for layer, before in zip(spec.layers, original.layers):
            assert [[p.name for p in row] for row in layer.weights] == [[p.name for p in row] for row in before.weights]
            assert layer.bias_shared == before.bias_shared
            assert len({p.value for p in layer.bias}) == 1  # a shared bias is one number
            drawn = [p.value for row in layer.weights for p in row] + [layer.bias[0].value]
            given = [p.value for row in before.weights for p in row] + [before.bias[0].value]
            for value, old in zip(drawn, given):
                assert (value * 100).is_Integer                 # two decimals
                assert value != 0 and (value > 0) == (old > 0)  # the file's signs
                assert abs(value) <= scale                      # and sizes
        for value in spec.sample_inputs:
            assert (value * 100).is_Integer and 0 < value <= max(original.sample_inputs)
        for target in spec.targets:
            assert (target * 100).is_Integer and 0 < target < 1


def test_decimals():
    for spec, _ in variants(derive.example("classic"), 2, seed=3, decimals=3):
        values = [p.value for layer in spec.layers for row in layer.weights for p in row] + list(spec.sample_inputs)
        assert all((v * 1000).is_Integer for v in values)
        assert not all((v * 100).is_Integer for v in values)


def test_one_hot_targets_stay_one_hot():
    original = derive.example("softmax")
    assert sorted(original.targets) == [0, 0, 1]
    for spec, _ in variants(original, 3, seed=5):
        assert sorted(spec.targets) == [0, 0, 1]


def test_draw_variant_is_seeded_by_its_generator():
    import random
    original = derive.example("deep")
    first = draw_variant(original, random.Random("x"), 2)
    assert numbers_of(first) == numbers_of(draw_variant(original, random.Random("x"), 2))
    assert numbers_of(first) != numbers_of(draw_variant(original, random.Random("y"), 2))


def sigmoid_slope(net):
    s = 1 / (1 + math.exp(-net))
    return s * (1 - s)


def test_variants_are_not_degenerate(seven):
    for spec, _ in seven:
        model = Model(spec_yaml(spec))
        _, outs = model.forward()
        for unit, (net, _) in outs.items():
            assert abs(net) >= 1e-4 and sigmoid_slope(net) >= 1e-3, unit
    for spec, _ in variants(derive.example("fully_connected"), 3, seed=2):
        _, outs = Model(spec_yaml(spec)).forward()
        assert all(outs[unit][0] > 0 for unit in ("n4", "n5"))  # no dead ReLU unit


def test_degenerate_draws_are_recognised():
    at_zero = CLASSIC_TEXT.replace("{b1: 0.35}", "{b1: -0.0275}")   # net_h1 = 0.0075 + 0.02 − 0.0275 = 0
    saturated = CLASSIC_TEXT.replace("{b2: 0.60}", "{b2: 9}")        # σ′(≈ 9.6) < 0.001
    dead = derive.examples.path("fully_connected").read_text().replace("{b4: 0.1}", "{b4: -2}")
    for text in (at_zero, saturated, dead):
        assert degenerate(derive.derive(derive.load_text(text)), 2) is True
    assert degenerate(derive.derive(derive.example("classic")), 2) is False


def test_spec_yaml_reads_back_as_the_variant(seven):
    for spec, _ in seven:
        again = derive.load_text(spec_yaml(spec))
        assert numbers_of(again) == numbers_of(spec)
        assert again.update_biases == spec.update_biases and again.title == spec.title


# --- the answer table against PyTorch ----------------------------------------------------------

def torch_figures(text):
    """Every asked figure of a network file by PyTorch autograd (float64), from tests/reference_model's reading."""
    torch = pytest.importorskip("torch")
    model = Model(text)
    data = model.data
    trained_biases = data.get("update_biases", True)
    bias_names = {b for _, _, _, biases in model.layout for b in biases if b}
    activations = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu, "identity": lambda v: v,
                   "linear": lambda v: v, "softplus": torch.nn.functional.softplus}

    def run(params, keep=None):
        values = [torch.tensor(float(v), dtype=torch.float64) for v in data["sample"]["inputs"]]
        for units, activation, rows, biases in model.layout:
            nets = []
            for row, bias in zip(rows, biases):
                net = sum(params[w] * v for w, v in zip(row, values)) + (params[bias] if bias else 0.0)
                nets.append(net)
            if activation == "softmax":
                outs = list(torch.softmax(torch.stack(nets), dim=0))
            else:
                outs = [activations[activation](net) for net in nets]
            if keep is not None:
                for unit, net, out in zip(units, nets, outs):
                    net.retain_grad()
                    keep[unit] = (net, out)
            values = outs
        targets = [float(t) for t in data["sample"]["targets"]]
        name = data["loss"]
        if name == "half_sse":
            return sum(0.5 * (t - o) ** 2 for o, t in zip(values, targets))
        if name == "cross_entropy":
            return sum(-t * torch.log(o) for o, t in zip(values, targets))
        raise NotImplementedError(name)

    params = {n: torch.tensor(v, dtype=torch.float64, requires_grad=True) for n, v in model.params.items()}
    kept = {}
    loss = run(params, kept)
    loss.backward()
    figures = {"E": loss.item()}
    for unit, (net, out) in kept.items():
        figures[f"net_{unit}"], figures[f"out_{unit}"], figures[f"delta_{unit}"] = net.item(), out.item(), net.grad.item()
    rate = float(data["learning_rate"])
    after = {}
    for name, tensor in params.items():
        trainable = trained_biases or name not in bias_names
        figures[f"dE/d{name}"] = tensor.grad.item()
        after[name] = (tensor - rate * tensor.grad if trainable else tensor).detach()
        if trainable:
            figures[f"{name}_new"] = after[name].item()
    with torch.no_grad():
        figures["E_new"] = run(after).item()
    return figures


@pytest.mark.parametrize("name", ["classic", "fully_connected", "softmax"])
def test_answer_table_equals_pytorch(name):
    drawn = variants(derive.example(name), 2, seed=11)
    asked = questions(drawn[0][1], ALL)
    text = answers_csv(answer_rows([(f"{i:02d}", d) for i, (_, d) in enumerate(drawn, 1)], asked))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [row["variant"] for row in rows] == ["01", "02"]
    assert list(rows[0]) == ["variant"] + [q.name for q in asked]
    for row, (spec, _) in zip(rows, drawn):
        expected = torch_figures(spec_yaml(spec))
        for question in asked:
            value, truth = float(row[question.name]), expected[question.name]
            assert math.isclose(value, truth, rel_tol=1e-12, abs_tol=1e-15), (name, question.name, value, truth)


def test_answer_rows_carry_full_double_precision(classic, reference):
    (row,) = answer_rows([("01", classic)], questions(classic, "E_new,dE/dw5"))
    assert row["variant"] == "01"
    assert math.isclose(row["E_new"], reference["loss_after_update"], rel_tol=1e-15)
    assert math.isclose(row["dE/dw5"], reference["gradient"]["w5"], rel_tol=1e-15)
