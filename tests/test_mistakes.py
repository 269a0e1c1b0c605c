"""derive/check/mistakes.py: each classic mistake, replayed on the derivation, gives the figure a student
making that mistake gets.

Source of truth: the classic 2-2-2 example computed by hand in plain Python floats below (the forward
pass, the δ recursion and the update written out unit by unit, each mistake made by hand), checked
first against /work/shared/reference/classic-2-2-2.json (PyTorch float64) and against the figure the
published example prints (0.291027924, from the hidden δ computed with updated output weights). For
other networks: the float model of tests/reference_model.py, by central finite differences.
"""
import math

import yaml

import pytest
import sympy

import derive
from derive.check.mistakes import MISTAKES, variants
from derive.program import run
from derive.quantities import QuantitySymbol as Q
from reference_model import Model

# --- the classic example by hand -------------------------------------------------------------------

I1, I2 = 0.05, 0.10
T1, T2 = 0.01, 0.99
ETA = 0.5
PARAMS = dict(w1=0.15, w2=0.20, w3=0.25, w4=0.30, b1=0.35, w5=0.40, w6=0.45, w7=0.50, w8=0.55, b2=0.60)
WEIGHTS = [f"w{k}" for k in range(1, 9)]  # the biases are not updated (update_biases: false)


def sigmoid(x):
    return 1 / (1 + math.exp(-x))


def forward(p):
    f = {}
    f["net_h1"] = p["w1"] * I1 + p["w2"] * I2 + p["b1"]
    f["net_h2"] = p["w3"] * I1 + p["w4"] * I2 + p["b1"]
    f["out_h1"], f["out_h2"] = sigmoid(f["net_h1"]), sigmoid(f["net_h2"])
    f["net_o1"] = p["w5"] * f["out_h1"] + p["w6"] * f["out_h2"] + p["b2"]
    f["net_o2"] = p["w7"] * f["out_h1"] + p["w8"] * f["out_h2"] + p["b2"]
    f["out_o1"], f["out_o2"] = sigmoid(f["net_o1"]), sigmoid(f["net_o2"])
    f["E"] = 0.5 * (T1 - f["out_o1"]) ** 2 + 0.5 * (T2 - f["out_o2"]) ** 2
    return f


F = forward(PARAMS)
OUT = {unit: F[f"out_{unit}"] for unit in ("h1", "h2", "o1", "o2")}
NET = {unit: F[f"net_{unit}"] for unit in ("h1", "h2", "o1", "o2")}
SLOPE = {unit: OUT[unit] * (1 - OUT[unit]) for unit in OUT}  # σ'(net) = out(1 − out)
# the true backward pass
ERROR_O = {"o1": OUT["o1"] - T1, "o2": OUT["o2"] - T2}                     # ∂E/∂out of the outputs
DELTA = {"o1": ERROR_O["o1"] * SLOPE["o1"], "o2": ERROR_O["o2"] * SLOPE["o2"]}
ERROR_H = {"h1": DELTA["o1"] * PARAMS["w5"] + DELTA["o2"] * PARAMS["w7"],
           "h2": DELTA["o1"] * PARAMS["w6"] + DELTA["o2"] * PARAMS["w8"]}
DELTA.update({"h1": ERROR_H["h1"] * SLOPE["h1"], "h2": ERROR_H["h2"] * SLOPE["h2"]})


def gradients(delta):
    return {"w1": delta["h1"] * I1, "w2": delta["h1"] * I2, "w3": delta["h2"] * I1, "w4": delta["h2"] * I2,
            "b1": delta["h1"] + delta["h2"],
            "w5": delta["o1"] * OUT["h1"], "w6": delta["o1"] * OUT["h2"], "w7": delta["o2"] * OUT["h1"],
            "w8": delta["o2"] * OUT["h2"], "b2": delta["o1"] + delta["o2"]}


def updated(gradient, step=lambda p, g: p - ETA * g):
    return {name: (step(value, gradient[name]) if name in WEIGHTS else value) for name, value in PARAMS.items()}


GRADIENT = gradients(DELTA)
NEW = updated(GRADIENT)
E_NEW = forward(NEW)["E"]
PUBLISHED_E_NEW = 0.291027924  # what the published classic example prints for E after the update


def hidden_deltas(error_h, slope=SLOPE):
    return {"h1": error_h["h1"] * slope["h1"], "h2": error_h["h2"] * slope["h2"]}


# --- the code under test ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def classic():
    return derive.derive(derive.example("classic"))


@pytest.fixture(scope="module")
def all_variants(classic):
    return variants(classic)


def variant(all_variants, mistake, **details):
    found = [v for v in all_variants if v.mistake == mistake and dict(v.details) == details]
    assert len(found) == 1, (mistake, details, [(v.mistake, v.details) for v in all_variants])
    return found[0]


def replay(derivation, chosen, *wanted):
    """Run the derivation's program with the variant's definitions; return the wanted values as floats."""
    values = run(derivation.program, derivation.network.given_values(), replaced=chosen.replaced, wanted=wanted)
    return [float(values[symbol]) for symbol in wanted]


def close(ours, hand):
    assert len(ours) == len(hand)
    for a, b in zip(ours, hand):
        assert math.isclose(a, b, rel_tol=1e-11, abs_tol=1e-15), (a, b)


def test_the_hand_calculation_is_the_reference(reference):
    for unit, figures in reference["forward"].items():
        assert math.isclose(NET[unit], figures["net"], rel_tol=1e-13)
        assert math.isclose(OUT[unit], figures["out"], rel_tol=1e-13)
    for unit, delta in reference["delta"].items():
        assert math.isclose(DELTA[unit], delta, rel_tol=1e-12)
    for name, gradient in reference["gradient"].items():
        assert math.isclose(GRADIENT[name], gradient, rel_tol=1e-12)
    assert math.isclose(E_NEW, reference["loss_after_update"], rel_tol=1e-12)


def test_without_a_mistake_the_program_gives_the_hand_figures(classic):
    values = run(classic.program, classic.network.given_values())
    close([float(values[Q("delta", u)]) for u in DELTA], list(DELTA.values()))
    close([float(values[Q("gradient", p)]) for p in GRADIENT], list(GRADIENT.values()))
    close([float(values[Q("after_loss")])], [E_NEW])


def test_the_classic_has_every_mistake(all_variants):
    names = {v.mistake for v in all_variants}
    assert names == {"derivative_left_out", "sign_flipped", "net_for_out", "out_for_net", "transposed_weights",
                     "sum_left_out", "half_dropped", "half_doubled", "update_added", "learning_rate_left_out",
                     "updated_weights_in_hidden_delta", "shared_not_summed", "wrong_activation_derivative",
                     "wrong_loss_derivative", "swapped_weight"}  # jacobian_diagonal_only needs a softmax layer
    assert len(MISTAKES) == 15  # half_dropped and half_doubled are the two variants of one mistake
    assert all(v.replaced for v in all_variants)


# --- one test per mistake, each figure by hand ---------------------------------------------------------

def test_updated_output_weights_in_the_hidden_delta_give_the_published_figure(classic, all_variants):
    # δ_h computed with w5⁺ … w8⁺ in place of w5 … w8
    error_h = {"h1": DELTA["o1"] * NEW["w5"] + DELTA["o2"] * NEW["w7"],
               "h2": DELTA["o1"] * NEW["w6"] + DELTA["o2"] * NEW["w8"]}
    delta = {**DELTA, **hidden_deltas(error_h)}
    wrong_new = updated(gradients(delta))
    wrong_e_new = forward(wrong_new)["E"]
    assert f"{wrong_e_new:.9f}" == f"{PUBLISHED_E_NEW:.9f}"          # the hand calculation is the published slip
    assert f"{E_NEW:.9f}" == "0.291027774"                           # and the true figure differs
    chosen = variant(all_variants, "updated_weights_in_hidden_delta")
    ours = replay(classic, chosen, Q("delta", "h1"), Q("delta", "h2"), Q("update", "w1"), Q("update", "w4"),
                  Q("after_loss"))
    close(ours, [delta["h1"], delta["h2"], wrong_new["w1"], wrong_new["w4"], wrong_e_new])
    # the output layer is untouched by this mistake
    close(replay(classic, chosen, Q("update", "w5")), [NEW["w5"]])


def test_derivative_left_out(classic, all_variants):
    # in the output layer: δ_o = ∂E/∂out = out − t
    chosen = variant(all_variants, "derivative_left_out", layer="2")
    delta = {"o1": ERROR_O["o1"], "o2": ERROR_O["o2"]}
    delta.update(hidden_deltas({"h1": delta["o1"] * PARAMS["w5"] + delta["o2"] * PARAMS["w7"],
                                "h2": delta["o1"] * PARAMS["w6"] + delta["o2"] * PARAMS["w8"]}))
    close(replay(classic, chosen, Q("delta", "o1"), Q("gradient", "w5"), Q("delta", "h1"), Q("gradient", "w1")),
          [delta["o1"], delta["o1"] * OUT["h1"], delta["h1"], delta["h1"] * I1])
    assert f"{delta['o1']:.8f}" == "0.74136507"
    # in the hidden layer only: δ_h = δ_o1·w5 + δ_o2·w7 with the true δ_o
    chosen = variant(all_variants, "derivative_left_out", layer="1")
    close(replay(classic, chosen, Q("delta", "h1"), Q("delta", "h2"), Q("delta", "o1"), Q("gradient", "w3")),
          [ERROR_H["h1"], ERROR_H["h2"], DELTA["o1"], ERROR_H["h2"] * I1])
    # everywhere
    chosen = variant(all_variants, "derivative_left_out")
    everywhere_h1 = ERROR_O["o1"] * PARAMS["w5"] + ERROR_O["o2"] * PARAMS["w7"]
    close(replay(classic, chosen, Q("delta", "h1"), Q("gradient", "b1")),
          [everywhere_h1, everywhere_h1 + ERROR_O["o1"] * PARAMS["w6"] + ERROR_O["o2"] * PARAMS["w8"]])


def test_sign_flipped(classic, all_variants):
    chosen = variant(all_variants, "sign_flipped")
    # (t − o) for (o − t): every δ and every gradient changes sign, so the "update" climbs the gradient
    climbed = updated(GRADIENT, lambda p, g: p + ETA * g)
    close(replay(classic, chosen, Q("dE_dout", "o1"), Q("delta", "o2"), Q("delta", "h1"), Q("gradient", "w2"),
                 Q("update", "w5"), Q("after_loss")),
          [T1 - OUT["o1"], -DELTA["o2"], -DELTA["h1"], -GRADIENT["w2"], climbed["w5"], forward(climbed)["E"]])


def test_net_for_out(classic, all_variants):
    chosen = variant(all_variants, "net_for_out", layer="2")
    close(replay(classic, chosen, Q("gradient", "w5"), Q("gradient", "w6"), Q("gradient", "w7"), Q("gradient", "w8")),
          [DELTA["o1"] * NET["h1"], DELTA["o1"] * NET["h2"], DELTA["o2"] * NET["h1"], DELTA["o2"] * NET["h2"]])
    # the first layer's weights come from the inputs, which have no net: no variant for layer 1
    assert [v.details for v in all_variants if v.mistake == "net_for_out"] == [(("layer", "2"),)]
    close(replay(classic, chosen, Q("gradient", "w1"), Q("gradient", "b2")), [GRADIENT["w1"], GRADIENT["b2"]])


def test_out_for_net(classic, all_variants):
    # f′ evaluated at out: σ′(out_o1) = σ(out_o1)(1 − σ(out_o1))
    chosen = variant(all_variants, "out_for_net", form="derivative_at_out", layer="2")
    slope = sigmoid(OUT["o1"]) * (1 - sigmoid(OUT["o1"]))
    close(replay(classic, chosen, Q("activation_derivative", "o1", "o1"), Q("delta", "o1")),
          [slope, ERROR_O["o1"] * slope])
    # the out-form of f′, out(1 − out), fed net: net_h1(1 − net_h1)
    chosen = variant(all_variants, "out_for_net", form="output_form_at_net", layer="1")
    slope = NET["h1"] * (1 - NET["h1"])
    close(replay(classic, chosen, Q("activation_derivative", "h1", "h1"), Q("delta", "h1"), Q("delta", "o1")),
          [slope, ERROR_H["h1"] * slope, DELTA["o1"]])
    everywhere = variant(all_variants, "out_for_net", form="output_form_at_net")
    slope_o2 = NET["o2"] * (1 - NET["o2"])
    close(replay(classic, everywhere, Q("delta", "o2")), [ERROR_O["o2"] * slope_o2])


def test_transposed_weights(classic, all_variants):
    chosen = variant(all_variants, "transposed_weights", layer="1")
    error_h = {"h1": DELTA["o1"] * PARAMS["w5"] + DELTA["o2"] * PARAMS["w6"],   # w_jk for w_kj: w6 ↔ w7
               "h2": DELTA["o1"] * PARAMS["w7"] + DELTA["o2"] * PARAMS["w8"]}
    delta = hidden_deltas(error_h)
    close(replay(classic, chosen, Q("delta", "h1"), Q("delta", "h2"), Q("gradient", "w4")),
          [delta["h1"], delta["h2"], delta["h2"] * I2])


def test_sum_left_out(classic, all_variants):
    for kept, (first, second) in {"o1": ("w5", "w6"), "o2": ("w7", "w8")}.items():
        chosen = variant(all_variants, "sum_left_out", kept=kept)
        delta = hidden_deltas({"h1": DELTA[kept] * PARAMS[first], "h2": DELTA[kept] * PARAMS[second]})
        close(replay(classic, chosen, Q("delta", "h1"), Q("delta", "h2")), [delta["h1"], delta["h2"]])


def test_half_of_the_loss_dropped_or_doubled(classic, all_variants):
    for name, factor in (("half_dropped", 2.0), ("half_doubled", 0.5)):
        chosen = variant(all_variants, name)
        new = updated({k: factor * g for k, g in GRADIENT.items()})
        close(replay(classic, chosen, Q("loss"), Q("delta", "o1"), Q("delta", "h2"), Q("gradient", "w8"),
                     Q("update", "w1")),
              [factor * F["E"], factor * DELTA["o1"], factor * DELTA["h2"], factor * GRADIENT["w8"], new["w1"]])
    assert f"{2 * F['E']:.9f}" == "0.596742218"


def test_update_added_and_learning_rate_left_out(classic, all_variants):
    added = updated(GRADIENT, lambda p, g: p + ETA * g)
    close(replay(classic, variant(all_variants, "update_added"), Q("update", "w5"), Q("update", "w1"),
                 Q("after_loss")), [added["w5"], added["w1"], forward(added)["E"]])
    assert f"{added['w5']:.9f}" == "0.441083520"                 # 0.4 + 0.5 · 0.0821670406
    plain = updated(GRADIENT, lambda p, g: p - g)
    close(replay(classic, variant(all_variants, "learning_rate_left_out"), Q("update", "w5"), Q("update", "w8"),
                 Q("after_loss")), [plain["w5"], plain["w8"], forward(plain)["E"]])
    assert f"{plain['w5']:.9f}" == "0.317832959"                 # 0.4 − 0.0821670406
    # biases are not trained in the classic example, so neither mistake touches them
    for name in ("update_added", "learning_rate_left_out"):
        assert Q("update", "b1") not in variant(all_variants, name).replaced


def test_shared_bias_not_summed(classic, all_variants):
    for parameter, kept in (("b1", "h1"), ("b1", "h2"), ("b2", "o1"), ("b2", "o2")):
        chosen = variant(all_variants, "shared_not_summed", parameter=parameter, kept=kept)
        close(replay(classic, chosen, Q("gradient", parameter)), [DELTA[kept]])
    assert f"{GRADIENT['b2']:.9f}" != f"{DELTA['o1']:.9f}"


# --- other networks -----------------------------------------------------------------------------------

def test_a_network_without_hidden_layers_has_no_hidden_mistakes():
    spec = derive.load_text("""\
inputs: [a, b]
layers:
  - units: [y, z]
    activation: sigmoid
    weights: [[{u: 0.3}, {v: -0.2}], [{p: 0.1}, {q: 0.4}]]
    bias: {c: 0.1}
loss: half_sse
sample: {inputs: [1, 2], targets: [0.2, 0.7]}
learning_rate: 0.5
""")
    names = {v.mistake for v in variants(derive.derive(spec))}
    assert not names & {"transposed_weights", "sum_left_out", "updated_weights_in_hidden_delta", "net_for_out"}
    assert {"derivative_left_out", "sign_flipped", "shared_not_summed", "update_added"} <= names


@pytest.mark.parametrize("name", ["deep", "fully_connected"])
def test_flipped_sign_and_dropped_half_scale_every_gradient(name):
    """(t − o) for (o − t) negates every gradient; dropping the ½ doubles it: checked by finite differences."""
    derivation = derive.derive(derive.example(name))
    model = Model(derive.examples.path(name).read_text(encoding="utf-8"))
    found = variants(derivation)
    flipped = next(v for v in found if v.mistake == "sign_flipped")
    doubled = next(v for v in found if v.mistake == "half_dropped")
    given = derivation.network.given_values()
    symbols = [Q("gradient", p.name) for p in derivation.network.parameters]
    negated = run(derivation.program, given, replaced=flipped.replaced, wanted=symbols)
    twice = run(derivation.program, given, replaced=doubled.replaced, wanted=symbols)
    for parameter, symbol in zip(derivation.network.parameters, symbols):
        expected = model.finite_difference(parameter.name)
        assert math.isclose(float(negated[symbol]), -expected, rel_tol=1e-6, abs_tol=1e-9), parameter.name
        assert math.isclose(float(twice[symbol]), 2 * expected, rel_tol=1e-6, abs_tol=1e-9), parameter.name


def test_variants_are_the_same_each_time(classic):
    first, second = variants(classic), variants(classic)
    assert [(v.mistake, v.details) for v in first] == [(v.mistake, v.details) for v in second]
    assert all(sympy.simplify(a.replaced[k] - b.replaced[k]) == 0
               for a, b in zip(first, second) for k in a.replaced)


# --- the mistakes a whole derivation shows, each made on purpose on two networks ----------------------------

from test_derivations import network as _network  # the same two-layer network, other activations and losses


CLASSIC_TEXT = derive.examples.path("classic").read_text(encoding="utf-8")
NETWORKS = {  # name -> the network file's text
    "classic": CLASSIC_TEXT,
    "classic-bce": CLASSIC_TEXT.replace("loss: half_sse", "loss: bce"),
    "tanh-sigmoid": _network("tanh", "sigmoid", "half_sse", [0.3, 0.7]),
    "relu-sigmoid-bce": _network("relu", "sigmoid", "bce", [0.2, 0.9]),
    "tanh-softmax-ce": _network("tanh", "softmax", "cross_entropy", [0, 1]),
    "tanh-softmax-sse": _network("tanh", "softmax", "half_sse", [0.25, 0.75]),
}

# (network, a claim written with the mistake made, the mistake it must be named as)
MADE_ON_PURPOSE = [
    ("classic", "delta_o1 = (out_o1 - t_o1)*(1 - out_o1^2)", "wrong_activation_derivative"),  # tanh′ on σ
    ("tanh-sigmoid", "delta_h1 = dE/dout_h1*out_h1*(1 - out_h1)", "wrong_activation_derivative"),  # σ′ on tanh
    ("relu-sigmoid-bce", "delta_o1 = (out_o1 - t_o1)*out_o1*(1 - out_o1)", "wrong_loss_derivative"),  # SSE's δ
    ("classic-bce", "delta_o2 = (out_o2 - t_o2)*out_o2*(1 - out_o2)", "wrong_loss_derivative"),
    ("tanh-softmax-ce", "delta_o1 = -t_o1*(1 - out_o1)", "jacobian_diagonal_only"),  # −t/o · o(1 − o)
    ("tanh-softmax-sse", "delta_o2 = (out_o2 - t_o2)*out_o2*(1 - out_o2)", "jacobian_diagonal_only"),
    ("classic", "w6_new = w7 - eta*dE/dw6", "swapped_weight"),
    ("tanh-sigmoid", "v2_new = v3 - eta*dE/dv2", "swapped_weight"),
    ("classic", "net_h1 = w1*i1 + w3*i2 + b1", "swapped_weight"),          # in the forward pass (a published typo)
    ("tanh-sigmoid", "net_o2 = v2*out_h1 + v4*out_h2 + c2", "swapped_weight"),
]


@pytest.fixture(scope="module")
def judges():
    from derive.check import Judge
    return {name: Judge(derive.derive(derive.load_text(text))) for name, text in NETWORKS.items()}


@pytest.mark.parametrize("network, claim, mistake", MADE_ON_PURPOSE)
def test_a_mistake_made_on_purpose_is_named(judges, network, claim, mistake):
    verdict = judges[network].judge(claim)
    assert verdict.verdict == "incorrect"
    assert verdict.diagnosis is not None and verdict.diagnosis.mistake == mistake, verdict.diagnosis


def test_every_new_mistake_is_made_on_two_networks():
    made = {}
    for network, _, mistake in MADE_ON_PURPOSE:
        made.setdefault(mistake, set()).add(network)
    assert all(len(networks) >= 2 for networks in made.values())


@pytest.mark.parametrize("network, claim, rounded", [
    ("classic", "out_h1 = 0.5932", "0.5933"),      # 0.593269992: cut, not rounded
    ("tanh-sigmoid", None, None),
])
def test_a_truncated_number_is_named(judges, network, claim, rounded):
    if claim is None:  # the tanh network's out_h1 from the float model, cut after 4 decimals
        value = Model(NETWORKS[network]).forward()[1]["h1"][1]
        claim, rounded = f"out_h1 = {math.floor(value * 1e4) / 1e4:.4f}", f"{value:.4f}"
        assert claim.split(" = ")[1] != rounded  # a figure where cutting and rounding differ
    link = judges[network].judge(claim).first_wrong
    assert link.diagnosis.mistake == "truncated" and dict(link.diagnosis.details)["rounded"] == rounded


@pytest.mark.parametrize("network, claim, value", [
    ("classic", "net_h1 = 0.15*0.05 + 0.2*0.1 + 0.35 = 0.3875", 0.3775),
    ("tanh-sigmoid", "net_h1 = a1*x1 + a2*x2 + c1 = 0.4*0.8 + (-0.3)*(-0.5) + 0.1 = 0.67", 0.57),
])
def test_an_arithmetic_slip_is_named_at_its_link(judges, network, claim, value):
    verdict = judges[network].judge(claim)
    link = verdict.first_wrong
    assert link.kind == "arithmetic" and link.diagnosis.mistake == "arithmetic_slip"
    assert float(link.diagnosis.value) == pytest.approx(value)


def test_two_mistakes_made_together_are_both_named(judges, reference):
    # classic: the update with the sign of ∂E/∂out flipped and η left out: w5 + ∂E/∂w5
    w5 = f"{0.40 + reference['gradient']['w5']:.6g}"
    verdict = judges["classic"].judge(f"w5_new = {w5}")
    assert (verdict.diagnosis.mistake, verdict.diagnosis.also.mistake) == ("sign_flipped", "learning_rate_left_out")
    # another network (η = 0.1), the same two mistakes: v1 + ∂E/∂v1, from the float model's gradient
    gradient = Model(NETWORKS["tanh-sigmoid"]).finite_difference("v1")
    verdict = judges["tanh-sigmoid"].judge(f"v1_new = {0.5 + gradient:.6g}")
    assert (verdict.diagnosis.mistake, verdict.diagnosis.also.mistake) == ("sign_flipped", "learning_rate_left_out")
    assert judges["tanh-sigmoid"].judge(f"v1_new = {0.5 + 0.1 * gradient:.6g}").diagnosis.also is None  # one only
    from derive.check.report import Report
    from derive.render.report import render_report
    text = render_report(Report(judges["classic"].derivation, (judges["classic"].judge(f"w5_new = {w5}"),), False), "text")
    assert "Two mistakes together:" in text and "learning rate" in text and "sign" in text


@pytest.mark.parametrize("network, claim, named", [
    # a formula with two mistakes in two definitions: f′ left out and the sign of ∂E/∂out flipped
    ("classic", "delta_o1 = target_o1 - out_o1", ("derivative_left_out", "sign_flipped")),
    ("tanh-sigmoid", "delta_o1 = t_o1 - out_o1", ("derivative_left_out", "sign_flipped")),
    # two mistakes in one definition, composed: (t − o) and the ½ of the loss dropped, 2(t − o)
    ("classic", "dE/dout_o1 = 2*(target_o1 - out_o1)", ("sign_flipped", "half_dropped")),
    ("tanh-sigmoid", "dE/dout_o1 = 2*(t_o1 - out_o1)", ("sign_flipped", "half_dropped")),
])
def test_two_mistakes_in_a_formula_are_both_named(judges, network, claim, named):
    diagnosis = judges[network].judge(claim).diagnosis
    assert diagnosis is not None and diagnosis.also is not None, claim
    assert (diagnosis.mistake, diagnosis.also.mistake) == named


def test_two_mistakes_in_one_definition_compose_for_numbers_too(judges):
    # δ_o1 = 2(t − o)·o(1 − o) from the float model's out_o1: both the sign and the doubled loss
    model = Model(NETWORKS["tanh-sigmoid"])
    out = model.forward()[1]["o1"][1]
    target = float(yaml.safe_load(NETWORKS["tanh-sigmoid"])["sample"]["targets"][0])
    value = 2 * (target - out) * out * (1 - out)
    diagnosis = judges["tanh-sigmoid"].judge(f"delta_o1 = {value:.8g}").diagnosis
    assert (diagnosis.mistake, diagnosis.also.mistake) == ("sign_flipped", "half_dropped")


@pytest.mark.parametrize("network", ["classic", "tanh-sigmoid"])
def test_one_unit_off_in_the_last_digit_is_named(judges, network):
    _, units = Model(NETWORKS[network]).forward()
    value = units["o1"][1]
    rounded = round(value, 6)
    written = f"{rounded + (1e-6 if value - rounded < 0 else -1e-6):.6f}"  # one unit away, on the far side
    link = judges[network].judge(f"out_o1 = {written}").first_wrong
    assert link.diagnosis.mistake == "last_digit" and dict(link.diagnosis.details)["rounded"] == f"{rounded:.6f}"
