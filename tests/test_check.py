"""derive check: claims judged against independent figures, in plain text, LaTeX and Unicode.

Figures come from ../shared/reference (classic network) and from the separate
float model in tests/reference_model.py (other networks); formulas are written
here by hand, as a student would, never taken from the code under test.
"""
import json

import pytest
from click.testing import CliRunner

from derive import example
from derive import derive as derive_network
from derive.check import Judge, mark
from derive.cli import cli
from derive.examples import path as example_path
from reference_model import Model


@pytest.fixture(scope="module")
def classic():
    return Judge(derive_network(example("classic")))


@pytest.fixture(scope="module")
def relu_net():
    return Judge(derive_network(example("fully_connected")))


@pytest.fixture(scope="module")
def deep():
    return Judge(derive_network(example("deep")))


@pytest.fixture(scope="module")
def softmax_net():
    return Judge(derive_network(example("softmax")))


def verdict_of(judge, claim):
    return judge.judge(claim).verdict


def rounded(value, decimals):
    return f"{value:.{decimals}f}"


# --- numbers, against the reference figures -------------------------------------------------

def test_every_quantity_kind_as_numbers(classic, reference):
    claims = []
    for unit, figures in reference["forward"].items():
        claims += [f"net_{unit} = {rounded(figures['net'], 6)}", f"out_{unit} = {rounded(figures['out'], 6)}"]
    for unit, delta in reference["delta"].items():
        claims += [f"delta_{unit} = {rounded(delta, 7)}", f"dE/dnet_{unit} = {delta:.6e}"]
    for name, gradient in reference["gradient"].items():
        claims.append(f"dE/d{name} = {gradient:.5e}")
    for name, value in reference["updated"].items():
        claims.append(f"{name}_new = {rounded(value, 8)}")
    claims += [f"E = {rounded(reference['loss'], 9)}", f"E_total = {rounded(reference['loss'], 4)}",
               f"E_new = {rounded(reference['loss_after_update'], 9)}"]
    for claim in claims:
        assert verdict_of(classic, claim) == "correct", claim


@pytest.mark.parametrize("claim, verdict", [
    ("out_h1 = 0.5933", "correct"),          # rounded to 4 decimals
    ("out_h1 = 0.5932", "incorrect"),        # truncated: not the value to 4 decimals
    ("out_h1 = 0.59", "correct"),
    ("out_h1 = 0.6", "correct"),
    ("out_h1 = 0.593269992", "correct"),
    ("out_h1 = 0.593269993", "incorrect"),
    ("out_h1 = 5.93270e-1", "correct"),
    ("dE/dw1 = 4.3857e-4", "correct"),
    ("dE/dw1 = 4.3856e-4", "incorrect"),
    ("dE/dw1 = 0.0004", "correct"),
    ("dE/dw1 = 0", "incorrect"),             # an integer is taken as exact
    ("delta_o2 = -0.0381", "correct"),
    ("delta_o2 = 0.0381", "incorrect"),
    ("net_h1 = 0.3775", "correct"),
    ("net_h1 = 3775/10000", "correct"),
])
def test_numbers_are_judged_to_the_precision_written(classic, claim, verdict):
    assert verdict_of(classic, claim) == verdict


def test_relative_tolerance_overrides_the_written_precision():
    judge = Judge(derive_network(example("classic")), rel_tol=0.01)
    assert judge.judge("out_h1 = 0.59").verdict == "correct"
    assert judge.judge("out_h1 = 0.5").verdict == "incorrect"
    strict = Judge(derive_network(example("classic")), rel_tol=1e-9)
    assert strict.judge("out_h1 = 0.5933").verdict == "incorrect"


# --- formulas in three spellings ----------------------------------------------------------------

SPELLINGS = {
    "net": ["net_h1 = w1*i1 + w2*i2 + b1",
            r"net_{h1} = w_1 \cdot i_1 + w_2 \cdot i_2 + b_1",
            "net_h1 = w1·i1 + w2·i2 + b1"],
    "out": ["out_o1 = 1/(1 + exp(-net_o1))",
            r"out_{o1} = \frac{1}{1 + e^{-net_{o1}}}",
            "out_o1 = σ(net_o1)"],
    "E": ["E = 1/2*(target_o1 - out_o1)^2 + 1/2*(target_o2 - out_o2)^2",
          r"E_{total} = \frac{1}{2}\left(t_{o1} - out_{o1}\right)^{2} + \frac{1}{2}\left(t_{o2} - out_{o2}\right)^{2}",
          "E_total = ½(t_o1 − out_o1)² + ½(t_o2 − out_o2)²".replace("½", "0.5")],
    "delta_output": ["delta_o1 = (out_o1 - target_o1)*out_o1*(1 - out_o1)",
                     r"\delta_{o1} = -\left(t_{o1} - out_{o1}\right) \sigma(net_{o1})\left(1-\sigma(net_{o1})\right)",
                     "δ_o1 = (out_o1 − t_o1)·e^(−net_o1)/(1 + e^(−net_o1))²"],
    "delta_hidden": ["delta_h1 = (delta_o1*w5 + delta_o2*w7) * out_h1*(1 - out_h1)",
                     r"\delta_{h1} = \left(\delta_{o1} w_{5} + \delta_{o2} w_{7}\right) \sigma'(net_{h1})",
                     "δ_h1 = (δ_o1·w5 + δ_o2·w7)·f′(net_h1)"],
    "gradient": ["dE/dw5 = delta_o1*out_h1",
                 r"\frac{\partial E}{\partial w_5} = \delta_{o1} \times out_{h1}",
                 "∂E/∂w5 = δ_o1·out_h1"],
    "gradient_chain": ["dE/dw5 = dE/dout_o1 * out_o1*(1-out_o1) * out_h1",
                       r"\frac{\partial E_{total}}{\partial w_{5}} = \frac{\partial E}{\partial out_{o1}} out_{o1}(1-out_{o1}) out_{h1}",
                       "∂E/∂w5 = (out_o1 − target_o1)·out_o1·(1 − out_o1)·out_h1"],
    "shared_bias": ["dE/db2 = delta_o1 + delta_o2",
                    r"\frac{\partial E}{\partial b_2} = \delta_{o1} + \delta_{o2}",
                    "∂E/∂b2 = δ_o2 + δ_o1"],
    "update": ["w5_new = w5 - eta*dE/dw5",
               r"w_5^{+} = w_5 - \eta \frac{\partial E}{\partial w_5}",
               "w5⁺ = w5 − η·δ_o1·out_h1"],
    "dE_dout": ["dE/dout_o1 = out_o1 - target_o1",
                r"\frac{\partial E}{\partial out_{o1}} = -(target_{o1} - out_{o1})",
                "∂E/∂out_o1 = −(t_o1 − out_o1)"],
}


@pytest.mark.parametrize("kind", sorted(SPELLINGS))
@pytest.mark.parametrize("spelling", [0, 1, 2], ids=["plain", "latex", "unicode"])
def test_formula_spellings_are_correct(classic, kind, spelling):
    claim = SPELLINGS[kind][spelling]
    verdict = classic.judge(claim)
    assert verdict.verdict == "correct", (claim, verdict.message)
    assert verdict.method in ("symbolic", "numeric")


@pytest.mark.parametrize("claim", [
    "delta_o1 = out_o1*(1 - out_o1)*(out_o1 - target_o1)",
    "delta_o1 = (1 - out_o1)*(out_o1 - t_o1)*out_o1",
    "delta_o1 = sigmoid(net_o1)*(1 - sigmoid(net_o1))*(out_o1 - t_o1)",
    "delta_o1 = exp(-net_o1)/(1 + exp(-net_o1))^2 * (out_o1 - t_o1)",
    "delta_o1 = (out_o1^2 - out_o1^3) - t_o1*out_o1 + t_o1*out_o1^2",
    "delta_o1 = -(t_o1 - out_o1) f'(net_o1)",
    "delta_o1 = dE/dout_o1 * out_o1 (1 - out_o1)",
    "dE/dw1 = delta_h1 * i1",
    "dE/dw1 = (delta_o1 w5 + delta_o2 w7) out_h1 (1 - out_h1) i1",
    "E_new = 0.5*(t_o1 - out_o1_new)^2 + 0.5*(t_o2 - out_o2^+)^2",
])
def test_algebraically_different_forms_are_correct(classic, claim):
    assert verdict_of(classic, claim) == "correct", claim


def test_chained_claims_judge_every_part(classic):
    assert verdict_of(classic, "delta_o1 = (out_o1 - t_o1) out_o1 (1 - out_o1) = 0.1385") == "correct"
    assert verdict_of(classic, "delta_o1 = (out_o1 - t_o1) out_o1 (1 - out_o1) ≈ 0.1384") == "incorrect"
    assert verdict_of(classic, "delta_o1 = (t_o1 - out_o1) out_o1 (1 - out_o1) = 0.1385") == "incorrect"


def test_the_claim_is_echoed_as_read(classic):
    report = mark(derive_network(example("classic")), {None: [r"\delta_{o1} = (out_{o1} - t_{o1}) \cdot f'(net_{o1})"]})
    from derive.render.report import report_data
    view = report_data(report)["claims"][0]
    assert "δ_o1" in view["read_as"] and "σ'(net_o1)" in view["read_as"]
    assert r"\delta_{o1}" in view["read_as_latex"] and r"\sigma'" in view["read_as_latex"]


@pytest.mark.parametrize("claim, read_as", [
    # The student's order of terms and factors, and their divisions where they wrote them (the expected forms
    # are written here by hand from the claims, names as the report writes them).
    ("net_h1 = w1*i1 + w2*i2 + b1", "net_h1 = w1·i1 + w2·i2 + b1"),
    ("E = 1/2*(t_o1 - out_o1)^2 + 1/2*(t_o2 - out_o2)^2",
     "E_total = 1/2·(target_o1 - out_o1)^2 + 1/2·(target_o2 - out_o2)^2"),
    ("δ_o1 = (out_o1 − t_o1)·e^(−net_o1)/(1 + e^(−net_o1))²",
     "δ_o1 = (out_o1 - target_o1)·e^(-net_o1)/(1 + e^(-net_o1))^2"),
    ("w5_new = w5 - eta*delta_o1*out_h1 = 0.4 - 0.5*0.0822", "w5⁺ = w5 - η·δ_o1·out_h1 = 0.4 - 0.5·0.0822"),
    (r"\frac{\partial E}{\partial w_5} = \frac{\partial E}{\partial out_{o1}} \cdot out_{o1}(1 - out_{o1}) \cdot out_{h1}",
     "∂E/∂w5 = ∂E/∂out_o1·out_o1·(1 - out_o1)·out_h1"),
])
def test_read_as_keeps_the_students_order(claim, read_as):
    from derive.render.report import report_data
    view = report_data(mark(derive_network(example("classic")), {None: [claim]}))["claims"][0]
    assert view["read_as"] == read_as
    assert view["verdict"] == "correct" or "0.0822" in claim


def test_a_loss_written_for_the_samples_one_hot_target_is_right_and_says_so():
    """softmax's sample has targets (0, 1, 0): −Σ t ln o is −ln(out_o2) there, as pages write it; the terms a zero
    target removes are the student's to drop, the report names the targets held. Another unit's log is wrong."""
    from derive.render.report import report_data
    report = report_data(mark(derive_network(example("softmax")), {None: ["E = -ln(out_o2)", "E = -ln(out_o1)"]}))
    right, wrong = report["claims"]
    assert right["verdict"] == "correct" and right["method"] == "numeric" and "target_o2 = 1" in right["method_detail"]
    assert wrong["verdict"] == "incorrect"


# --- classic mistakes, made on purpose ---------------------------------------------------------

MISTAKES = [
    ("delta_o1 = out_o1 - target_o1", "derivative_left_out"),
    ("delta_h1 = delta_o1*w5 + delta_o2*w7", "derivative_left_out"),
    ("delta_o1 = (target_o1 - out_o1)*out_o1*(1 - out_o1)", "sign_flipped"),
    ("dE/dout_o2 = t_o2 - out_o2", "sign_flipped"),
    ("dE/dw5 = delta_o1 * net_h1", "net_for_out"),
    ("delta_h1 = (delta_o1*w5 + delta_o2*w7) * net_h1*(1 - net_h1)", "out_for_net"),
    ("delta_o1 = (out_o1 - t_o1) * sigmoid'(out_o1)", "out_for_net"),
    ("delta_h1 = (delta_o1*w5 + delta_o2*w6) * out_h1*(1 - out_h1)", "transposed_weights"),
    ("delta_h1 = delta_o1*w5 * out_h1*(1 - out_h1)", "sum_left_out"),
    ("delta_h2 = delta_o2*w8 * out_h2*(1 - out_h2)", "sum_left_out"),
    ("E = (t_o1 - out_o1)^2 + (t_o2 - out_o2)^2", "half_dropped"),
    ("dE/dout_o1 = 2*(out_o1 - t_o1)", "half_dropped"),
    ("E = 1/4*(t_o1 - out_o1)^2 + 1/4*(t_o2 - out_o2)^2", "half_doubled"),
    ("w5_new = w5 + eta*dE/dw5", "update_added"),
    ("w1_new = w1 - dE/dw1", "learning_rate_left_out"),
    ("dE/db2 = delta_o1", "shared_not_summed"),
    ("dE/db1 = delta_h2", "shared_not_summed"),
]


@pytest.mark.parametrize("claim, mistake", MISTAKES)
def test_classic_mistakes_are_named(classic, claim, mistake):
    verdict = classic.judge(claim)
    assert verdict.verdict == "incorrect"
    assert verdict.diagnosis is not None and verdict.diagnosis.mistake == mistake, verdict.diagnosis


@pytest.mark.parametrize("claim, wrong, right", [
    ("delta_h1 = (delta_o1*w5 + delta_o2*w7) * net_h1*(1 - net_h1)", "net", "out"),  # net put into out(1 − out)
    ("delta_o1 = (out_o1 - t_o1) * sigmoid'(out_o1)", "out", "net"),                 # f′ taken of out
])
def test_the_explanation_says_which_was_used_for_which(claim, wrong, right):
    from derive.render.report import report_data
    view = report_data(mark(derive_network(example("classic")), {None: [claim]}))["claims"][0]
    assert view["diagnosis"]["explanation"].startswith(f"{wrong} was used where {right} belongs")


def test_mistakes_named_from_numbers(classic, reference):
    # The figure seed 000 prints for the error after one update: hidden δ with updated output weights.
    published = reference["published_vs_correct"]["E after one update"]["published in seed 000"]
    verdict = classic.judge(f"E_new = {published}")
    assert verdict.verdict == "incorrect"
    assert verdict.diagnosis.mistake == "updated_weights_in_hidden_delta"
    # The same mistake seen in a hidden gradient, and a sign error seen in a number.
    model = Model(example_path("classic").read_text())
    flipped = -reference["delta"]["o1"]
    assert classic.judge(f"delta_o1 = {flipped:.6f}").diagnosis.mistake == "sign_flipped"
    doubled = 2 * reference["gradient"]["w5"]
    assert classic.judge(f"dE/dw5 = {doubled:.6f}").diagnosis.mistake == "half_dropped"
    up = model.params["w5"] + 0.5 * reference["gradient"]["w5"]
    assert classic.judge(f"w5_new = {up:.8f}").diagnosis.mistake == "update_added"


def test_a_wrong_claim_no_mistake_explains_says_so(classic, reference):
    verdict = classic.judge("delta_o1 = 0.2")
    assert verdict.verdict == "incorrect" and verdict.diagnosis is None
    assert abs(float(verdict.expected_value) - reference["delta"]["o1"]) < 1e-12
    assert verdict.expected  # the formula is shown


# --- other networks: relu, tanh + softmax, three layers --------------------------------------------

def figures(name):
    model = Model(example_path(name).read_text())
    _, outs = model.forward()
    gradients = {p: model.finite_difference(p) for p in model.params}
    return model, outs, gradients


def test_relu_network_numbers_and_formulas(relu_net):
    model, outs, gradients = figures("fully_connected")
    for unit, (net, out) in outs.items():
        assert verdict_of(relu_net, f"net_{unit} = {net:.6f}") == "correct"
        assert verdict_of(relu_net, f"out_{unit} = {out:.6f}") == "correct"
    for name, gradient in gradients.items():
        assert verdict_of(relu_net, f"dE/d{name} = {gradient:.5e}") == "correct", name
    assert verdict_of(relu_net, f"E = {model.loss():.7f}") == "correct"
    # relu' is 1 where net > 0 and 0 where net < 0: both readings are correct at this sample.
    active = [u for u in ("n4", "n5") if outs[u][0] > 0]
    assert active, "the example should have an active relu unit"
    unit = active[0]
    sources = {"n4": ("w64", "w74"), "n5": ("w65", "w75")}[unit]
    assert verdict_of(relu_net, f"delta_{unit} = delta_n6*{sources[0]} + delta_n7*{sources[1]}") == "correct"
    assert verdict_of(relu_net, f"delta_{unit} = (delta_n6*{sources[0]} + delta_n7*{sources[1]}) f'(net_{unit})") == "correct"
    assert verdict_of(relu_net, f"out_{unit} = max(0, net_{unit})") == "correct"
    verdict = relu_net.judge(f"delta_{unit} = delta_n6*{sources[0]}")
    assert verdict.diagnosis and verdict.diagnosis.mistake == "sum_left_out"
    verdict = relu_net.judge("dE/dw64 = delta_n6 * net_n4")
    assert outs["n4"][0] == outs["n4"][1] or verdict.diagnosis.mistake == "net_for_out"


def test_tanh_and_softmax_network(softmax_net):
    model, outs, gradients = figures("softmax")
    for name, gradient in gradients.items():
        assert verdict_of(softmax_net, f"dE/d{name} = {gradient:.5e}") == "correct", name
    for claim in ["delta_o2 = out_o2 - target_o2", r"\delta_{o2} = out_{o2} - t_{o2}",
                  "delta_h1 = (delta_o1*v1 + delta_o2*v4 + delta_o3*v7) * (1 - out_h1^2)",
                  "delta_h1 = (delta_o1*v1 + delta_o2*v4 + delta_o3*v7) * (1 - tanh(net_h1)^2)",
                  "delta_h1 = (δ_o1·v1 + δ_o2·v4 + δ_o3·v7)·tanh'(net_h1)",
                  "out_o1 = exp(net_o1)/(exp(net_o1) + exp(net_o2) + exp(net_o3))",
                  "E = -(t_o1 ln(out_o1) + t_o2 ln(out_o2) + t_o3 ln(out_o3))"]:
        assert verdict_of(softmax_net, claim) == "correct", claim
    verdict = softmax_net.judge("delta_h1 = (delta_o1*v1 + delta_o2*v4 + delta_o3*v7) * (1 - out_h1)*out_h1")
    assert verdict.verdict == "incorrect"
    assert softmax_net.judge("delta_o1 = (out_o1 - t_o1) f'(net_o1)").verdict == "unreadable"


def test_deeper_network(deep):
    model, outs, gradients = figures("deep")
    for unit, (net, out) in outs.items():
        assert verdict_of(deep, f"out_{unit} = {out:.7f}") == "correct"
    for name, gradient in gradients.items():
        assert verdict_of(deep, f"dE/d{name} = {gradient:.5e}") == "correct", name
    # δ of a bias-fed unit is the gradient of its own bias.
    for unit, bias in (("a1", "c1"), ("b2", "d2"), ("y", "g1")):
        assert verdict_of(deep, f"delta_{unit} = {gradients[bias]:.6e}") == "correct"
    assert verdict_of(deep, "delta_a1 = (delta_b1*v11 + delta_b2*v21) * out_a1*(1 - out_a1)") == "correct"
    assert verdict_of(deep, "delta_b1 = delta_y*z1*out_b1*(1 - out_b1)") == "correct"
    lr = float(model.data["learning_rate"])
    assert verdict_of(deep, f"u1_new = {model.params['u1'] - lr * gradients['u1']:.8f}") == "correct"
    for claim, mistake in [("delta_a1 = (delta_b1*v11 + delta_b2*v12) * out_a1*(1 - out_a1)", "transposed_weights"),
                           ("delta_a1 = delta_b1*v11 * out_a1*(1 - out_a1)", "sum_left_out"),
                           ("delta_a1 = delta_b1*v11 + delta_b2*v21", "derivative_left_out"),
                           ("dE/dv21 = delta_b2 * net_a1", "net_for_out")]:
        verdict = deep.judge(claim)
        assert verdict.verdict == "incorrect" and verdict.diagnosis and verdict.diagnosis.mistake == mistake, claim


def test_index_notation_names(classic):
    # The names of `--notation index`: inputs 1-2, h1 = 3, h2 = 4, o1 = 5, o2 = 6; w_{kj} from j to k.
    assert verdict_of(classic, "delta_5 = (out_5 - t_5) out_5 (1 - out_5)") == "correct"
    assert verdict_of(classic, "dE/dw_{53} = delta_5 out_3") == "correct"
    assert verdict_of(classic, "net_3 = w_{31} x_1 + w_{32} x_2 + b1") == "correct"


# --- carrying an error forward -----------------------------------------------------------------------

def test_carry_forward_credits_a_genuine_computation(classic, reference):
    judge = Judge(derive_network(example("classic")))
    wrong_out_h1 = 0.7
    net_o1 = 0.40 * wrong_out_h1 + 0.45 * reference["forward"]["h2"]["out"] + 0.60
    claims = [f"out_h1 = {wrong_out_h1}", f"net_o1 = {net_o1:.6f}", "net_o2 = 1.2249"]
    plain = judge.judge_all(claims, carry_forward=False)
    carried = judge.judge_all(claims, carry_forward=True)
    assert [v.verdict for v in plain] == ["incorrect", "incorrect", "correct"]
    assert [v.verdict for v in carried] == ["incorrect", "incorrect", "correct"]
    assert not plain[1].consistent and carried[1].consistent
    assert carried[1].method == "carried_forward"


def test_carry_forward_chain_and_no_credit_for_trivial_claims(classic, reference):
    import math
    judge = Judge(derive_network(example("classic")))
    out_h1 = 0.7
    net_o1 = 0.40 * out_h1 + 0.45 * reference["forward"]["h2"]["out"] + 0.60
    out_o1 = 1 / (1 + math.exp(-float(f"{net_o1:.6f}")))
    verdicts = judge.judge_all([f"out_h1 = {out_h1}", f"net_o1 = {net_o1:.6f}", f"out_o1 = {out_o1:.6f}",
                                "dE/dw1 = 0"], carry_forward=True)
    assert [v.consistent for v in verdicts] == [False, True, True, False]
    # Copying a wrong value into a quantity that equals it earns nothing.
    linear = Judge(derive_network(example("linear")))
    copied = linear.judge_all(["net_h1 = 3.0", "out_h1 = 3.0"], carry_forward=True)
    assert copied[1].verdict == "incorrect" and not copied[1].consistent


# --- unreadable claims ----------------------------------------------------------------------------------

@pytest.mark.parametrize("claim, position", [
    ("out_h1 = 0.59 +", 16),
    ("out_h1 == 0.59", 9),
    ("out_h1 = (0.59", 15),
    ("out_h1 = 0.59 @ 2", 15),
    (r"out_h1 = \input{x}", 10),
])
def test_unreadable_claims_give_position_and_hint(classic, claim, position):
    verdict = classic.judge(claim)
    assert verdict.verdict == "unreadable"
    assert verdict.position == position, verdict
    assert verdict.hint


@pytest.mark.parametrize("claim", ["out_h9 = 0.5", "foo = 1", "delta_o1 = gamma * 2", "0.5 = out_h1",
                                   "out_h1 + 1 = 2", "target_h1 = 0.1", "", "dE/dfoo = 1"])
def test_unknown_names_and_malformed_sides_are_unreadable(classic, claim):
    verdict = classic.judge(claim)
    assert verdict.verdict == "unreadable" and verdict.message


def test_other_claims_are_judged_when_one_is_unreadable(classic):
    verdicts = classic.judge_all(["out_h1 = 0.5933", "out_h1 = )", "out_h2 = 0.5969"])
    assert [v.verdict for v in verdicts] == ["correct", "unreadable", "correct"]


# --- the command line ----------------------------------------------------------------------------------

def test_cli_exit_codes_and_json(tmp_path):
    runner = CliRunner()
    ok = runner.invoke(cli, ["check", "classic", "--claim", "out_h1 = 0.5933", "--format", "json"])
    assert ok.exit_code == 0, ok.output
    data = json.loads(ok.output)
    claim = data["claims"][0]
    for key in ("claim", "quantity", "read_as", "verdict", "expected", "expected_value", "method", "diagnosis"):
        assert key in claim
    wrong = runner.invoke(cli, ["check", "classic", "--claim", "delta_o1 = (t_o1 - out_o1) out_o1 (1 - out_o1)",
                                "--format", "json"])
    assert wrong.exit_code == 1
    assert json.loads(wrong.output)["claims"][0]["diagnosis"]["mistake"] == "sign_flipped"
    missing = runner.invoke(cli, ["check", str(tmp_path / "nope.yaml"), "--claim", "E = 1"])
    assert missing.exit_code == 2 and missing.output.startswith("error:")


def test_cli_claims_file_by_student(tmp_path):
    claims = tmp_path / "claims.yaml"
    claims.write_text("students:\n  alice:\n    - 'out_h1 = 0.5933'\n    - 'E = 0.2984'\n"
                      "  bob:\n    - 'out_h1 = 0.7'\n    - 'E_new = 0.291027924'\n", encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(cli, ["check", "classic", "--claims", str(claims), "-o", str(tmp_path / "r.json")])
    assert result.exit_code == 1
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["students"]["alice"]["correct"] == 2 and data["students"]["bob"]["incorrect"] == 2
    text = runner.invoke(cli, ["check", "classic", "--claims", str(claims)])
    assert "alice" in text.output and "2 of 2 correct" in text.output
    md = runner.invoke(cli, ["check", "classic", "--claims", str(claims), "--format", "md"])
    assert "updated" in md.output  # the named mistake, explained


def test_readme_sample_report_is_what_derive_prints(tmp_path):
    from conftest import ROOT
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Checking a hand derivation")[1]
    claims_yaml = section.split("```yaml\n")[1].split("```")[0]
    report = section.split("The text report for that file:\n\n```\n")[1].split("```")[0]
    (tmp_path / "claims.yaml").write_text(claims_yaml, encoding="utf-8")
    result = CliRunner().invoke(cli, ["check", "classic", "--claims", str(tmp_path / "claims.yaml")])
    assert result.exit_code == 1
    assert result.output.strip() == report.strip()


# --- every quantity kind in three spellings, on the other networks --------------------------------------

def _safe_figure(value):
    """Return `value` to as many significant digits (6 down to 3) as keep it clear of a rounding boundary,
    so that the small error of the finite differences cannot flip the last digit."""
    import math
    for digits in (6, 5, 4, 3):
        scaled = abs(value) / 10 ** (math.floor(math.log10(abs(value))) - digits + 1)
        if abs(scaled - math.floor(scaled) - 0.5) > 0.1:
            return f"{value:.{digits}g}"
    return f"{value:.2g}"


def _spell(kind, subject, value):
    """Return the claim `kind(subject) = value` written plainly, in LaTeX and in Unicode."""
    number = _safe_figure(value)
    unicode_number = number.replace("-", "−")
    base, digits = subject.rstrip("0123456789"), subject[len(subject.rstrip("0123456789")):]
    latex_param = f"{base}_{{{digits}}}" if digits and base else subject
    return {
        "net": [f"net_{subject} = {number}", rf"\mathrm{{net}}_{{{subject}}} = {number}", f"net_{subject} = {unicode_number}"],
        "out": [f"out_{subject} = {number}", rf"\mathrm{{out}}_{{{subject}}} = {number}", f"out_{subject} = {unicode_number}"],
        "delta": [f"delta_{subject} = {number}", rf"\delta_{{{subject}}} = {number}", f"δ_{subject} = {unicode_number}"],
        "dnet": [f"dE/dnet_{subject} = {number}", rf"\frac{{\partial E}}{{\partial net_{{{subject}}}}} = {number}",
                 f"∂E/∂net_{subject} = {unicode_number}"],
        "gradient": [f"dE/d{subject} = {number}", rf"\frac{{\partial E_{{total}}}}{{\partial {latex_param}}} = {number}",
                     f"∂E/∂{subject} = {unicode_number}"],
        "update": [f"{subject}_new = {number}", rf"{latex_param}^{{+}} = {number}", f"{subject}⁺ = {unicode_number}"],
        "E": [f"E = {number}", rf"E_{{total}} = {number}", f"E_total = {unicode_number}"],
        "E_new": [f"E_new = {number}", rf"E_{{total}}^{{+}} = {number}", f"E⁺ = {unicode_number}"],
    }[kind]


@pytest.mark.parametrize("name", ["deep", "fully_connected", "softmax"])
def test_every_quantity_kind_in_three_spellings_on_other_networks(name):
    judge = Judge(derive_network(example(name)))
    model = Model(example_path(name).read_text())
    _, outs = model.forward()
    rate = float(model.data["learning_rate"])
    gradients = {p: model.finite_difference(p, step=1e-7) for p in model.params}
    updated = {p: v - rate * gradients[p] if not (p.startswith(("b", "c", "d", "g")) and
                                                    model.data.get("update_biases") is False) else v
               for p, v in model.params.items()}
    figures = [("E", "", model.loss()), ("E_new", "", model.loss(updated))]
    for unit, (net, out) in outs.items():
        figures += [("net", unit, net), ("out", unit, out)]
    for units, _, _, bias_names in model.layout:
        for unit, bias in zip(units, bias_names):
            if bias and bias_names.count(bias) == 1:  # δ of a unit with its own bias is that bias's gradient
                figures += [("delta", unit, gradients[bias]), ("dnet", unit, gradients[bias])]
    for parameter in list(model.params)[:6]:
        figures += [("gradient", parameter, gradients[parameter]), ("update", parameter, updated[parameter])]
    assert any(kind == "delta" for kind, _, _ in figures)
    for kind, subject, value in figures:
        for claim in _spell(kind, subject, value):
            verdict = judge.judge(claim)
            assert verdict.verdict == "correct", (claim, verdict.verdict, verdict.message, verdict.expected_value)


def test_report_in_chinese():
    result = CliRunner().invoke(cli, ["check", "classic", "--lang", "zh", "--claim", "dE/dw5 = delta_o1 * net_h1"])
    assert result.exit_code == 1
    assert "错误" in result.output and "Likely mistake" not in result.output
