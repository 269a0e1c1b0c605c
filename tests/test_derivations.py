"""Whole derivations marked line by line and link by link (derive check --derivation).

Truth comes from outside the code under test: the classic example's figures from ../shared/reference
(PyTorch float64), and for other networks the plain-Python model of tests/reference_model.py (forward pass
in floats, gradients by central finite differences). The students' chains are written here by hand, their
arithmetic done in plain floats on the numbers as they write them (rounded to 4 significant digits).
"""
import csv
import json
import os

import pytest
import yaml
from click.testing import CliRunner

import derive
from derive.check import Judge
from derive.check.lines import kind_of, read_lines
from derive.check.report import mark_derivations
from derive.cli import cli
from derive.render.report import render_report
from reference_model import Model


def r(x: float) -> str:
    """A number as a student writes it: 4 significant digits."""
    return f"{x:.4g}"


@pytest.fixture(scope="module")
def judge():
    return Judge(derive.derive(derive.example("classic")))


def chain_of(verdict):
    return [(link.kind, link.verdict) for link in verdict.links]


# --- reading documents -----------------------------------------------------------------------------------

def test_plain_text_lines_with_an_equals_sign_are_equations_the_rest_prose():
    lines = read_lines("Forward pass\n- net_h1 = 0.3775\n\n2. out_h1 ≈ 0.5933\nso E falls.\n", "txt")
    assert [(line.number, line.kind, line.text) for line in lines] == [
        (1, "prose", "Forward pass"), (2, "equation", "net_h1 = 0.3775"), (4, "equation", "out_h1 ≈ 0.5933"),
        (5, "prose", "so E falls.")]


def test_markdown_mathematics_inline_and_displayed_over_several_lines():
    text = "We get $out_{h1} = 0.5933$, then\n\n$$\n\\delta_{o1} = 0.1385\n$$\n- $E = 0.2984$\n"
    equations = [(line.number, line.text) for line in read_lines(text, "md") if line.kind == "equation"]
    assert equations == [(1, "out_{h1} = 0.5933"), (3, "\\delta_{o1} = 0.1385"), (6, "E = 0.2984")]


def test_latex_align_rows_continue_the_chain_and_comments_labels_are_dropped():
    text = ("\\begin{align}\n"
            "net_{h1} &= w_1 i_1 + w_2 i_2 + b_1 \\\\ % the formula\n"
            "  &= 0.15 \\cdot 0.05 + 0.2 \\cdot 0.1 + 0.35 \\nonumber \\\\\n"
            "  &= 0.3775 \\label{eq:net} \\\\\n"
            "out_{h1} &= 0.5933\n"
            "\\end{align}\n"
            "Hence \\[ E = 0.2984 \\] and \\begin{equation} w_5^{+} = 0.3589 \\end{equation}\n")
    equations = [line for line in read_lines(text, "tex") if line.kind == "equation"]
    assert [(line.number, line.last, line.text) for line in equations] == [
        (2, 4, "net_{h1} = w_1 i_1 + w_2 i_2 + b_1 = 0.15 \\cdot 0.05 + 0.2 \\cdot 0.1 + 0.35 = 0.3775"),
        (5, 5, "out_{h1} = 0.5933"), (7, 7, "E = 0.2984"), (7, 7, "w_5^{+} = 0.3589")]


def test_equations_spaced_apart_by_quad_are_two_and_a_remark_in_words_is_left_out():
    text = ("$$out_{o1} = 0.7514 \\qquad out_{o2} = 0.7729$$\n"
            "$$E = 0.2984 \\quad \\text{(rounded)}$$\n"
            "net_h1 = 0.3775 \\quad out_h1 = 0.5933\n"
            "$$E = \\tfrac{1}{2} \\quad (t - o)^2$$\n")
    equations = [(line.number, line.text) for line in read_lines(text, "md") if line.kind == "equation"]
    assert equations == [(1, "out_{o1} = 0.7514"), (1, "out_{o2} = 0.7729"), (2, "E = 0.2984"),
                         (3, "net_h1 = 0.3775"), (3, "out_h1 = 0.5933"), (4, "E = \\tfrac{1}{2} (t - o)^2")]


def test_a_tanh_network_written_with_tanh_squared_and_a_vulgar_half_is_read():
    """1 − tanh²(net) (tanh′, an identity) and ½(t − o)² (the half squared error) as a page writes them."""
    judge = Judge(derive.derive(derive.load_text(network("tanh", "sigmoid", "half_sse", [0.2, 0.9]))))
    for claim in ("E = ½(t_o1 − out_o1)² + ½(t_o2 − out_o2)²",
                  r"\frac{\partial out_{h1}}{\partial net_{h1}} = 1 - \tanh^2(net_{h1})",
                  r"\frac{\partial out_{h2}}{\partial net_{h2}} = 1 - \tanh^{2}(net_{h2})"):
        assert judge.judge(claim).verdict == "correct", claim


def test_an_equation_after_words_of_prose_is_judged_and_eta_is_never_a_name_of_ones_own(judge):
    """The classic example's givens (i1 = 0.05, η = 0.5) stated after prose, as pages state them."""
    from derive.check.lines import read_lines
    page = "Given: i1 = 0.05\nlearning rate eta = 0.5\nUpdate with $η = 0.5$:\nWe use $η = 0.4$ here.\n"
    verdicts = judge.judge_document(read_lines(page, "md"))
    assert [(v.line, v.verdict) for v in verdicts] == [(1, "correct"), (2, "correct"), (3, "correct"),
                                                      (4, "incorrect")]


def test_words_after_an_equations_last_number_are_a_remark_not_part_of_it(judge, reference):
    """A page's remark after a value (`(rounded)`, `, to four places`, `which we keep`) is left out; a name the
    network knows after a number is still a product (0.5 eta), and a wrong value with a remark stays wrong."""
    forward = reference["forward"]
    page = "\n".join([
        f"out_h1 = {forward['h1']['out']:.9f} (rounded)",
        f"net_h1 = {r(forward['h1']['net'])}, rounded to four places",
        f"out_o1 = {r(forward['o1']['out'])} which we keep",
        f"out_h2 = {r(forward['h2']['out'])} (to 4 d.p.)",
        f"net_o2 = {r(forward['o2']['net'] * 1.1)} (rounded)",
        "w5_new = w5 - 0.5 eta",
    ])
    verdicts = judge.judge_document(read_lines(page, "txt"))
    assert [v.verdict for v in verdicts] == ["correct"] * 4 + ["incorrect", "incorrect"]
    assert [v.claim for v in verdicts][:3] == [f"out_h1 = {forward['h1']['out']:.9f}",
                                               f"net_h1 = {r(forward['h1']['net'])}",
                                               f"out_o1 = {r(forward['o1']['out'])}"]
    assert verdicts[5].claim == "w5_new = w5 - 0.5 eta" and verdicts[5].parts  # read whole, as a product


def test_names_run_together_and_the_d_notation_are_read(judge, reference):
    """Etotal, δh1, outh1, Eo1 (a unit's word run into its unit), dEtotal/dw5, dout_o1/dnet_o1, dnet_o1/dw5,
    dEo1/dout_h1 (d run into the names): the quantities they name, judged against ../shared/reference; a
    wrong value under such a name is marked wrong, not taken for a name of the student's own."""
    forward, delta, gradient = reference["forward"], reference["delta"], reference["gradient"]
    out_o1, out_h1 = forward["o1"]["out"], forward["h1"]["out"]
    loss_o1 = 0.5 * (0.01 - out_o1) ** 2
    page = "\n".join([
        f"Etotal = {reference['loss']:.4f}", f"δh1 = {delta['h1']:.4g}", f"outh1 = {out_h1:.4f}",
        f"Eo1 = {loss_o1:.4f}", f"dEtotal/dw5 = {gradient['w5']:.4g}", f"dout_o1/dnet_o1 = {out_o1 * (1 - out_o1):.4f}",
        f"dnet_o1/dw5 = {out_h1:.4f}", f"dEo1/dout_h1 = {delta['o1'] * 0.40:.4f}",
        f"Etotal = {reference['loss'] + 0.1:.4f}", f"δo1 = {delta['o1'] * 2:.4f}"])
    verdicts = judge.judge_document(read_lines(page, "txt"))
    assert [v.verdict for v in verdicts] == ["correct"] * 8 + ["incorrect"] * 2
    assert [v.quantity.claim_name() for v in verdicts[:4]] == ["E", "delta_h1", "out_h1", "E_o1"]


def test_the_chain_rules_factors_multiply_as_written(judge, reference):
    """dE/dout_o1 * dout_o1/dnet_o1 * dnet_o1/dw5 and ∂E/∂out_h1 · ∂out_h1/∂net_h1 are products of derivatives,
    each factor a quantity (not ((∂E/∂out_o1)·∂out_o1)/∂net_o1); with a factor of the wrong unit the formula
    is wrong."""
    forward, delta, gradient = reference["forward"], reference["delta"], reference["gradient"]
    out_o1, out_h1 = forward["o1"]["out"], forward["h1"]["out"]
    factors = [out_o1 - 0.01, out_o1 * (1 - out_o1), out_h1]
    written = " * ".join(r(f) for f in factors)
    product = float(r(factors[0])) * float(r(factors[1])) * float(r(factors[2]))
    slope_h1 = out_h1 * (1 - out_h1)
    texts = [f"dE/dw5 = dE/dout_o1 * dout_o1/dnet_o1 * dnet_o1/dw5 = {written} = {r(product)}",
             f"δ_h1 = ∂E_total/∂out_h1 · ∂out_h1/∂net_h1 = {delta['h1'] / slope_h1:.5f}·{slope_h1:.5f} = "
             f"{delta['h1']:.5g}",
             "dE/dw5 = dE/dout_o1 * dout_o1/dnet_o1 * dnet_o2/dw5"]
    verdicts = [judge.judge(text) for text in texts]
    assert [v.verdict for v in verdicts] == ["correct", "correct", "incorrect"]
    assert chain_of(verdicts[0]) == [("formula", "correct"), ("substitution", "correct"), ("arithmetic", "correct")]
    assert f"{gradient['w5']:.4g}" == r(product)


def test_a_plain_line_that_starts_with_an_equals_sign_goes_on_with_the_chain_above(judge, reference):
    """As an align's &= rows, and as derive's own text documents write chains; a blank line ends the chain."""
    net = reference["forward"]["o1"]["net"]
    page = ("net_o1 = w5*out_h1 + w6*out_h2 + b2\n"
            "       = 0.4 x 0.593270 + 0.45 x 0.596884 + 0.6\n"
            f"       = {net + 0.045:.6f}\n\n"
            f"= {net:.6f}\n")
    lines = read_lines(page, "txt")
    assert [(line.number, line.last) for line in lines if line.kind == "equation"] == [(1, 3), (5, 5)]
    verdict, = judge.judge_document(lines)[:1]
    assert verdict.verdict == "incorrect" and verdict.first_wrong.index == 2  # the slip in the arithmetic


@pytest.mark.parametrize("example, format_", [("classic", "text"), ("classic", "md"), ("classic", "tex"),
                                             ("softmax", "text"), ("softmax", "tex"), ("fully_connected", "text"),
                                             ("fully_connected", "tex"),
                                             ("deep", "text"), ("linear", "text")])
def test_derives_own_worked_example_marks_as_right_line_by_line(example, format_, judge):
    """The worked example `derive run` writes, read back as a derivation: every chain of numbers and formulas
    is read and right (only the general formulas with Σ over k are not read); in LaTeX the preamble and the
    diagram's TikZ are left out. Softmax (∂out_k/∂net_k along the graph), ReLU (Max, ReLU, (1 if net > 0;
    0 otherwise)), tanh (tanh^{2}{(…)}) included."""
    from derive.render import render
    if example != "classic":
        judge = Judge(derive.derive(derive.example(example)))
    document = render(judge.derivation, format_)
    verdicts = judge.judge_document(read_lines(document, {"text": "txt"}.get(format_, format_)))
    assert not any(v.line < document.split("\n").index("\\begin{document}") + 1 for v in verdicts) \
        if format_ == "tex" else True
    judged = [v for v in verdicts if v.verdict not in ("skipped", "unreadable")]
    assert len(judged) >= 30 and all(v.verdict == "correct" for v in judged), \
        [(v.line, v.claim, v.verdict) for v in judged if v.verdict != "correct"]
    assert all("Σ" in v.claim or "\\sum" in v.claim for v in verdicts if v.verdict == "unreadable")
    assert sum(len(v.links) >= 2 for v in judged) >= 20  # chains, read whole


def test_labels_update_words_and_assignments_open_an_equation_as_pages_write_them(judge, reference):
    """Step 3:, Q2:, Part (b):, => open a line; new w5 / updated weight w5 / w5(new) / w5 ← … / w5 := … are
    w5 after the update; σ'(net_o1) = … is ∂out_o1/∂net_o1; `… and …` lists two equations. Figures from
    ../shared/reference; w5 itself (old w5) stays w5."""
    delta, updated, forward = reference["delta"], reference["updated"], reference["forward"]
    out_o1 = forward["o1"]["out"]
    w5 = f"{updated['w5']:.5g}"
    page = "\n".join([
        f"Step 3: delta_o1 = {delta['o1']:.4g}", f"Q2: delta_o2 = {delta['o2']:.4g}",
        f"Part (b): delta_h1 = {delta['h1']:.4g}", f"=> w5_new = {w5}", f"new w5 = {w5}",
        f"updated weight w5 = {w5}", f"w5(new) = {w5}", f"w5 ← w5 - η ∂E/∂w5 = 0.4 - 0.5 × 0.08217 = {w5}",
        f"w5 := {w5}", "old w5 = 0.4", f"σ'(net_o1) = out_o1(1 - out_o1) = {out_o1 * (1 - out_o1):.4f}",
        f"given out_h1 = {forward['h1']['out']:.6f} and out_h2 = {forward['h2']['out']:.6f}",
        f"new w5 = {updated['w5'] + 0.01:.5g}"])
    verdicts = judge.judge_document(read_lines(page, "txt"))
    assert [v.verdict for v in verdicts] == ["correct"] * 13 + ["incorrect"]
    assert [v.quantity.claim_name() for v in verdicts[3:11]] == ["w5_new"] * 6 + ["w5", "∂out_o1/∂net_o1"]


def test_a_carried_error_with_working_shown_is_consistent_and_its_mistake_not_named_again(judge, reference):
    """Line 1 uses the updated output weights (the mistake, named there); line 2 works on from line 1's number
    with the slope rounded to 5 digits (0.03023·0.24130 = 0.0072945, written 0.007294): consistent with the
    earlier value, the mistake not named a second time. Figures: ../shared/reference and plain floats."""
    delta, updated, out_h1 = reference["delta"], reference["updated"], reference["forward"]["h1"]["out"]
    wrong = float(f"{delta['o1'] * updated['w5'] + delta['o2'] * updated['w7']:.4g}")
    slope = f"{out_h1 * (1 - out_h1):.5f}"
    page = (f"dE/dout_h1 = delta_o1*w5_new + delta_o2*w7_new = {wrong}\n"
            f"delta_h1 = {wrong}*{slope} = {wrong * float(slope):.4g}\n")
    first, second = judge.judge_document(read_lines(page, "txt"))
    assert first.verdict == "incorrect" and first.diagnosis.mistake == "updated_weights_in_hidden_delta"
    assert second.verdict == "incorrect" and second.consistent and second.diagnosis is None
    assert second.carried_from == (1,)


def test_a_rounded_value_that_decides_the_last_digit_is_rounding_carried(judge, reference):
    """net_o1 written 1.1059 (right to 5 digits) moves out_o1 by about 1e-6, less than the half unit of a
    5-digit out, but enough that σ(1.1059) rounds to 0.75136 where the true out rounds to 0.75137: consistent,
    the student's own rounding carried forward."""
    import math
    net = reference["forward"]["o1"]["net"]
    written = f"{net:.5g}"
    out = 1 / (1 + math.exp(-float(written)))
    assert f"{out:.5f}" != f"{reference['forward']['o1']['out']:.5f}"  # the rounding decides the last digit
    page = f"net_o1 = {written}\nout_o1 = σ(net_o1) = {out:.5f}\n"
    verdicts = judge.judge_document(read_lines(page, "txt"))
    assert verdicts[0].verdict == "correct"
    assert verdicts[1].consistent and verdicts[1].diagnosis.mistake == "rounding_carried"


def test_a_primed_name_on_the_left_is_unreadable_with_the_alias_hint_not_skipped(judge):
    """w5' = … means a quantity the spec does not name: the line is judged (unreadable, the hint naming the
    spec's aliases) rather than skipped in silence."""
    verdict, = judge.judge_document(read_lines("w5' = 0.4 - 0.5*0.0822 = 0.3589\n", "txt"))
    assert verdict.verdict == "unreadable" and verdict.hint.key == "hint_alias"


def test_a_side_the_claim_language_cannot_read_is_left_out_and_said_so(judge, reference):
    """E = Σ ½(t − o)² = ½(0.01 − 0.7514)² + ½(0.99 − 0.7729)² = 0.2984: the general formula with Σ is not
    read; the numbers put in and the value still are, and a wrong value is still wrong. Figures from
    ../shared/reference."""
    out = [reference["forward"][u]["out"] for u in ("o1", "o2")]
    numbers = f"½(0.01 - {out[0]:.4f})² + ½(0.99 - {out[1]:.4f})²"
    page = (f"E = Σ ½(t - o)² = {numbers} = {reference['loss']:.4f}\n"
            f"E = Σ ½(t - o)² = {numbers} = {reference['loss'] + 0.01:.4f}\n"
            "E = Σ ½(t - o)²\n")
    right, wrong, alone = judge.judge_document(read_lines(page, "txt"))
    assert right.verdict == "correct" and right.left_out == ("Σ ½(t - o)²",)
    assert [link.kind for link in right.links] == ["substitution", "arithmetic"]
    assert wrong.verdict == "incorrect" and wrong.left_out
    assert alone.verdict == "unreadable" and not alone.left_out


def test_w_plus_scientific_notation_and_so_between_equations(judge, reference):
    """w5+ = … is w5 after the update (w_5^{+} in plain text); 8.7714 x 10^-4 is one number written to 5 digits;
    `E = E_o1 + E_o2 so dE/dout_h1 = …` is two equations. Figures from ../shared/reference."""
    gradient, updated = reference["gradient"], reference["updated"]
    mantissa, exponent = f"{gradient['w2']:.4e}".split("e")
    page = "\n".join([f"w5+ = w5 - eta * dEtotal/dw5 = 0.4 - 0.5 * {gradient['w5']:.4f} = {updated['w5']:.4f}",
                      f"dEtotal/dw2 = {mantissa} x 10^{int(exponent)}",
                      f"dE/dw2 = {float(mantissa) * 1.01:.4f} \\times 10^{{{int(exponent)}}}",
                      "Etotal = Eo1 + Eo2 so dEtotal/dout_h1 = dEo1/dout_h1 + dEo2/dout_h1"])
    verdicts = judge.judge_document(read_lines(page, "txt"))
    assert [v.verdict for v in verdicts] == ["correct", "correct", "incorrect", "correct", "correct"]
    assert verdicts[0].quantity.claim_name() == "w5_new" and verdicts[1].tolerance < 1e-8


def test_equations_in_brackets_after_prose_and_in_bold_markdown_are_read(judge, reference):
    """**Hidden layer** (I already have δ_o1 = …, δ_o2 = …): Markdown's bold is prose, the bracket holds the
    equations. Figures from ../shared/reference."""
    delta = reference["delta"]
    page = f"**Hidden layer** (I already have δ_o1 = {delta['o1']:.4f}, δ_o2 = {delta['o2']:.4f})\n"
    verdicts = judge.judge_document(read_lines(page, "md"))
    assert [(v.quantity.claim_name(), v.verdict) for v in verdicts] == [("delta_o1", "correct"), ("delta_o2", "correct")]


def test_a_parameter_on_both_sides_of_the_equals_sign_is_its_update(judge, reference):
    """w5 = w5 − η·∂E/∂w5 = … (as a program writes an update) states w5 after the update; w5 = 0.4 is w5."""
    gradient, updated = reference["gradient"], reference["updated"]
    page = (f"w5 = w5 - η*∂E/∂w5 = 0.4 - 0.5*{gradient['w5']:.4f} = {updated['w5']:.4f}\n"
            "$w_1 = w_1 - \\eta \\frac{\\partial E}{\\partial w_1}$\nw5 = 0.4\n")
    verdicts = judge.judge_document(read_lines(page, "md"))
    assert [(v.quantity.claim_name(), v.verdict) for v in verdicts] == [
        ("w5_new", "correct"), ("w1_new", "correct"), ("w5", "correct")]


def test_chinese_course_pages_prose_between_equations_full_width_and_after_the_update(judge, reference):
    """As Chinese course pages write: prose before each equation of a line (因为…，所以…；同理…), a piece of prose
    between them, full-width ＋ ＝ （）, 更新后(的) for the value after the update (for every equation the line
    lists), decimal step numbers (3.3), nested subscripts (net_{h_1}) and \\leftarrow. Figures from
    ../shared/reference."""
    forward, delta, updated = reference["forward"], reference["delta"], reference["updated"]
    out_h1, out_h2 = forward["h1"]["out"], forward["h2"]["out"]
    page = "\n".join([
        f"因为net_h1 = 0.3775，所以out_h1 = 1/(1+e^(-0.3775)) = {out_h1:.4f}；同理out_h2 = {out_h2:.4f}。",
        "b1 = 0.35；输出层为归一化，b2 = 0.6",
        f"out_h1 = 1/（1＋e^(−0.3775)）＝ {out_h1:.4f}",
        f"答：更新后w6 = {updated['w6']:.4f}，w8 = {updated['w8']:.4f}",
        f"更新后的总误差E_total = {reference['loss_after_update']:.9f}",
        f"3.3 ∂E/∂w5=δ_o1*out_h1=0.13850*0.59327={0.13850 * 0.59327:.5f}",
        f"$\\mathrm{{net}}_{{h_1}} = 0.3775$",
        f"$w_1 \\leftarrow w_1 - \\eta \\frac{{\\partial E}}{{\\partial w_1}} = {updated['w1']:.5f}$",
        f"更新后的w6 = {updated['w6'] + 0.01:.4f}"])
    verdicts = judge.judge_document(read_lines(page, "md"))
    assert [(v.line, v.quantity.claim_name(), v.verdict) for v in verdicts] == [
        (1, "net_h1", "correct"), (1, "out_h1", "correct"), (1, "out_h2", "correct"), (2, "b1", "correct"),
        (2, "b2", "correct"), (3, "out_h1", "correct"), (4, "w6_new", "correct"), (4, "w8_new", "correct"),
        (5, "E_new", "correct"), (6, "dE/dw5", "correct"), (7, "net_h1", "correct"), (8, "w1_new", "correct"),
        (9, "w6_new", "incorrect")]
    assert f"{delta['o1']:.4f}" == "0.1385"


def test_markdown_table_cells_and_e_total_in_chinese(judge, reference):
    """A Markdown table's cells are items of a list (its rule row is nothing); E总 and E_{总} are E_total."""
    page = ("| 已知 | 数值 |\n|---|:---:|\n| i1 = 0.05 | | target_o1 = 0.01 | |\n\n"
            f"总误差 E总 = E_o1 + E_o2 = {reference['loss']:.4f}\n"
            f"$\\frac{{\\partial E_{{总}}}}{{\\partial w_6}} = {reference['gradient']['w6']:.4f}$\n")
    verdicts = judge.judge_document(read_lines(page, "md"))
    assert [(v.quantity.claim_name(), v.verdict) for v in verdicts] == [
        ("i1", "correct"), ("target_o1", "correct"), ("E", "correct"), ("dE/dw6", "correct")]


def test_a_decimal_step_number_is_a_list_mark_but_a_leading_number_of_a_product_is_not():
    lines = read_lines("1.1 net_h1 = 0.3775\n3.2 δ_o2 = -0.0381\n0.5 * 0.3 = 0.15\n", "txt")
    assert [line.text for line in lines] == ["net_h1 = 0.3775", "δ_o2 = -0.0381", "0.5 * 0.3 = 0.15"]


def test_the_kind_of_a_document_is_its_extension():
    assert [kind_of(name) for name in ("a.tex", "b.MD", "c.txt", "d", "e.latex")] == ["tex", "md", "txt", "txt", "tex"]


# --- the classic network -----------------------------------------------------------------------------------

def classic_derivation(reference) -> list[str]:
    """A correct hand derivation of the classic example, every number rounded to 4 digits as written."""
    f = reference["forward"]
    out_h1, out_h2, out_o1, out_o2 = (float(r(f[u]["out"])) for u in ("h1", "h2", "o1", "o2"))
    net_o1 = 0.4 * out_h1 + 0.45 * out_h2 + 0.6
    d_o1 = (out_o1 - 0.01) * out_o1 * (1 - out_o1)
    d_o2 = reference["delta"]["o2"]
    g5 = float(r(d_o1)) * out_h1
    d_h1 = (float(r(d_o1)) * 0.4 + float(r(d_o2)) * 0.5) * out_h1 * (1 - out_h1)
    return [
        "net_h1 = w1*i1 + w2*i2 + b1 = 0.15*0.05 + 0.2*0.1 + 0.35 = 0.3775",
        f"out_h1 = 1/(1 + exp(-net_h1)) = 1/(1 + exp(-0.3775)) = {r(out_h1)}",
        f"net_o1 = w5*out_h1 + w6*out_h2 + b2 = 0.4*{r(out_h1)} + 0.45*{r(out_h2)} + 0.6 = {r(net_o1)}",
        f"out_o1 = {r(out_o1)}",
        f"E = 1/2*(t_o1 - out_o1)^2 + 1/2*(t_o2 - out_o2)^2 = 1/2*(0.01 - {r(out_o1)})^2 + 1/2*(0.99 - {r(out_o2)})^2"
        f" = {r(0.5 * (0.01 - out_o1) ** 2 + 0.5 * (0.99 - out_o2) ** 2)}",
        f"delta_o1 = (out_o1 - t_o1)*out_o1*(1 - out_o1) = ({r(out_o1)} - 0.01)*{r(out_o1)}*(1 - {r(out_o1)}) = {r(d_o1)}",
        f"delta_o2 = {r(reference['delta']['o2'])}",  # no working shown: the true value, rounded
        f"dE/dw5 = delta_o1*out_h1 = {r(d_o1)}*{r(out_h1)} = {r(g5)}",
        f"w5_new = w5 - eta*dE/dw5 = 0.4 - 0.5*{r(g5)} = {r(0.4 - 0.5 * float(r(g5)))}",
        f"delta_h1 = (delta_o1*w5 + delta_o2*w7)*out_h1*(1 - out_h1) = ({r(d_o1)}*0.4 + ({r(d_o2)})*0.5)*{r(out_h1)}"
        f"*(1 - {r(out_h1)}) = {r(d_h1)}",
        f"dE/dw1 = delta_h1*i1 = {r(d_h1)}*0.05 = {r(float(r(d_h1)) * 0.05)}",
    ]


def test_every_line_of_a_correct_derivation_is_accepted_link_by_link(judge, reference):
    lines = read_lines("\n".join(classic_derivation(reference)), "txt")
    verdicts = judge.judge_document(lines)
    assert [(v.line, v.verdict) for v in verdicts] == [(n, "correct") for n in range(1, len(lines) + 1)]
    assert chain_of(verdicts[0]) == [("formula", "correct"), ("substitution", "correct"), ("arithmetic", "correct")]
    assert chain_of(verdicts[3]) == [("value", "correct")]


def test_the_same_derivation_in_latex_align_and_in_markdown_is_accepted(judge, reference):
    lines = classic_derivation(reference)[:3]
    tex = "\\begin{align}\n" + " \\\\\n".join(
        line.replace(" = ", " &= ", 1).replace("*", " \\cdot ") for line in lines) + "\n\\end{align}\n"
    md = "# Forward\n\n" + "\n".join(f"- ${line}$" for line in lines) + "\n"
    for text, kind in ((tex, "tex"), (md, "md")):
        verdicts = judge.judge_document(read_lines(text, kind))
        assert [v.verdict for v in verdicts] == ["correct"] * 3, (kind, [v.claim for v in verdicts])


@pytest.mark.parametrize("chain, first_wrong, kind", [
    ("delta_o1 = out_o1 - t_o1 = 0.7514 - 0.01 = 0.7414", 1, "formula"),
    ("delta_o1 = (out_o1 - t_o1)*out_o1*(1 - out_o1) = (0.7514 - 0.99)*0.7514*(1 - 0.7514) = -0.04457", 2,
     "substitution"),
    ("delta_o1 = (out_o1 - t_o1)*out_o1*(1 - out_o1) = (0.7514 - 0.01)*0.7514*(1 - 0.7514) = 0.1358", 3,
     "arithmetic"),
    ("net_h1 = w1*i1 + w2*i2 + b1 = 0.15*0.05 + 0.2*0.1 + 0.35 = 0.3875", 3, "arithmetic"),
    ("net_h1 = w1*i1 + w2*i2 + b1 = 0.15*0.05 + 0.25*0.1 + 0.35 = 0.3825", 2, "substitution"),
    ("dE/dw5 = 0.1385*0.5933 = 0.08107", 2, "arithmetic"),
])
def test_a_planted_mistake_is_found_at_its_own_link(judge, chain, first_wrong, kind):
    verdict = judge.judge(chain)
    assert verdict.verdict == "incorrect"
    wrong = verdict.first_wrong
    assert (wrong.index + 1, wrong.kind) == (first_wrong, kind), chain_of(verdict)
    assert all(link.verdict == "correct" for link in verdict.links[:wrong.index])
    assert all(link.verdict in ("follows", "incorrect") for link in verdict.links[wrong.index + 1:])


def test_the_mistake_of_a_wrong_formula_link_is_named(judge):
    verdict = judge.judge("delta_o1 = out_o1 - t_o1 = 0.7514 - 0.01 = 0.7414")
    assert verdict.first_wrong.diagnosis is not None and verdict.first_wrong.diagnosis.mistake == "derivative_left_out"
    assert [link.verdict for link in verdict.links] == ["incorrect", "follows", "follows"]


def test_working_shown_with_the_students_own_earlier_values_is_credited_as_consistent(judge):
    text = ("out_o1 = 0.76\n"
            "delta_o1 = (out_o1 - t_o1)*out_o1*(1 - out_o1) = (0.76 - 0.01)*0.76*0.24 = 0.1368\n"
            "dE/dw5 = delta_o1*out_h1 = 0.1368*0.5933 = 0.08116\n"
            "dE/dw5 = 0.08116\n"
            "dE/dw6 = 0.1368\n")  # a copied number is not a computation: no credit
    verdicts = judge.judge_document(read_lines(text, "txt"))
    assert [(v.verdict, v.consistent) for v in verdicts] == [
        ("incorrect", False), ("incorrect", True), ("incorrect", True), ("incorrect", True), ("incorrect", False)]
    assert verdicts[1].carried_from == (1,) and verdicts[2].carried_from == (1, 2)
    assert chain_of(verdicts[2])[1:] == [("substitution", "consistent"), ("arithmetic", "follows")]


def test_givens_written_as_numbers_are_read_as_the_givens(judge):
    for text in ("net_h1 = 0.15*i1 + 0.2*i2 + 0.35", "w5_new = w5 - 0.5*dE/dw5", "net_h1 = 0.15*0.05 + w2*0.1 + b1"):
        verdict = judge.judge(text)
        assert verdict.verdict == "correct" and verdict.held, text
    assert {str(g) for g in judge.judge("w5_new = w5 - 0.5*dE/dw5").held} == {"eta"}
    for wrong in ("net_h1 = 0.15*i1 + 0.25*i2 + 0.35", "w5_new = w5 - 1*dE/dw5", "net_h1 = 0.2*i1 + 0.15*i2 + 0.35"):
        assert judge.judge(wrong).verdict == "incorrect", wrong


def test_prose_names_of_ones_own_and_unknown_quantities(judge):
    text = ("Let a be the output's share:\n"
            "a = delta_o1*out_h1\n"
            "w5_new = w5 - 0.5*a = 0.3589\n"
            "Then the error falls = good.\n"
            "net_h9 = 1\n")
    verdicts = judge.judge_document(read_lines(text, "txt"))
    assert [(v.line, v.verdict) for v in verdicts] == [(2, "defined"), (3, "correct"), (4, "skipped"), (5, "skipped")]


# --- other networks -----------------------------------------------------------------------------------

NETWORKS = {
    "tanh-relu": ("tanh", "relu", "half_sse", [0.3, 0.7]),
    "softmax-cross-entropy": ("tanh", "softmax", "cross_entropy", [0, 1]),
    "sigmoid-bce": ("relu", "sigmoid", "bce", [0.2, 0.9]),
}


def network(hidden: str, output: str, loss: str, targets: list) -> str:
    return yaml.safe_dump({
        "inputs": ["x1", "x2"],
        "layers": [
            {"units": ["h1", "h2"], "activation": hidden,
             "weights": [[{"a1": 0.4}, {"a2": -0.3}], [{"a3": 0.25}, {"a4": 0.5}]], "bias": {"c1": 0.1}},
            {"units": ["o1", "o2"], "activation": output,
             "weights": [[{"v1": 0.5}, {"v2": -0.45}], [{"v3": 0.35}, {"v4": 0.2}]], "bias": {"c2": 0.05}}],
        "loss": loss, "sample": {"inputs": [0.8, -0.5], "targets": targets}, "learning_rate": 0.1,
    }, sort_keys=False)


def test_numbers_worked_out_on_the_way_may_be_rounded_as_the_student_writes_them(judge, reference):
    """exp(−net) in a sigmoid, each exp(net) of a softmax: values that are no quantity of the network, worked
    out and rounded on the way, give the arithmetic after them the slack of their rounding; a number that is
    no such rounding still does not."""
    import math
    net, out = reference["forward"]["h1"]["net"], reference["forward"]["h1"]["out"]
    e = math.exp(-net)
    right = f"out_h1 = 1/(1 + e^(-{net})) = 1/(1 + {e:.4f}) = 1/{1 + e:.4f} = {out:.4f}"
    wrong = f"out_h1 = 1/(1 + e^(-{net})) = 1/(1 + {e + 3e-4:.4f}) = {1 / (1 + e + 3e-4):.4f}"
    verdicts = [judge.judge(text) for text in (right, wrong)]
    assert verdicts[0].verdict == "correct" and chain_of(verdicts[0])[1:] == [("arithmetic", "correct")] * 3
    assert verdicts[1].verdict == "incorrect" and chain_of(verdicts[1])[1] == ("arithmetic", "incorrect")
    text = network(*NETWORKS["softmax-cross-entropy"])
    _, outs = Model(text).forward()
    nets = [outs[unit][0] for unit in ("o1", "o2")]
    exps = [math.exp(n) for n in nets]
    line = (f"out_o1 = exp({nets[0]:.4f})/(exp({nets[0]:.4f}) + exp({nets[1]:.4f})) = "
            f"{exps[0]:.4f}/({exps[0]:.4f} + {exps[1]:.4f}) = {outs['o1'][1]:.4f}")
    verdict = Judge(derive.derive(derive.load_text(text))).judge(line)
    assert verdict.verdict == "correct", (line, chain_of(verdict))


def test_a_relu_unit_near_its_kink_is_judged_on_the_samples_side_of_it():
    """ReLU units whose nets are 0.05 and −0.05 at the sample (random points move every given by up to a fifth,
    which can carry such a net across 0): the formula for the sample's case, f′ = 1 or f′ = 0, is the one
    judged, for the unit near the kink as for the unit far from it. Truth: central differences of the
    plain-float model (∂E/∂net with the net held at a value of its own)."""
    text = yaml.safe_dump({
        "inputs": ["x1", "x2"],
        "layers": [
            {"units": ["h1", "h2", "h3"], "activation": "relu",
             "weights": [[{"a1": 0.4}, {"a2": -0.3}], [{"a3": 0.25}, {"a4": 0.5}], [{"a5": 0.25}, {"a6": 0.7}]],
             "bias": {"c1": 0.1}},
            {"units": ["o1"], "activation": "sigmoid", "weights": [[{"v1": 0.5}, {"v2": -0.45}, {"v3": 0.3}]],
             "bias": {"c2": 0.05}}],
        "loss": "half_sse", "sample": {"inputs": [0.8, -0.5], "targets": [0.3]}, "learning_rate": 0.1,
    }, sort_keys=False)
    model = Model(text)
    _, outs = model.forward()
    assert [round(outs[u][0], 12) for u in ("h1", "h2", "h3")] == [0.57, 0.05, -0.05]  # far, near, near below
    deltas = {u: model.node_difference(("loss",), ("net", u)) for u in ("h1", "h2", "h3", "o1")}
    assert deltas["h2"] == pytest.approx(deltas["o1"] * -0.45, rel=1e-6) and abs(deltas["h3"]) < 1e-9
    judge = Judge(derive.derive(derive.load_text(text)))
    verdicts = {text: judge.judge(text).verdict for text in (
        "delta_h1 = delta_o1*v1", "delta_h2 = delta_o1*v2", "delta_h2 = delta_o1*v2*1", "delta_h3 = 0",
        "delta_h2 = 0", "delta_h3 = delta_o1*v3")}
    assert verdicts == {"delta_h1 = delta_o1*v1": "correct", "delta_h2 = delta_o1*v2": "correct",
                        "delta_h2 = delta_o1*v2*1": "correct", "delta_h3 = 0": "correct",
                        "delta_h2 = 0": "incorrect", "delta_h3 = delta_o1*v3": "incorrect"}


def test_relu_units_near_their_kinks_still_get_every_random_point_on_the_samples_side():
    """Twelve ReLU units whose nets are all 0.02 at the sample (each bias set so): a point moved by a fifth of
    every given carries some net across 0 nearly every time, so points are drawn nearer the sample; all lie on
    the sample's side of every kink (the float model's nets say which side that is), as many as the judge
    asks for."""
    import random
    rng = random.Random(3)
    inputs = [0.5, -0.3, 0.8, 0.1]
    weights = [[round(rng.uniform(-1, 1), 2) for _ in inputs] for _ in range(12)]
    biases = [round(0.02 - sum(w * x for w, x in zip(row, inputs)), 6) for row in weights]
    units = [f"h{j}" for j in range(1, 13)]
    text = yaml.safe_dump({
        "inputs": ["x1", "x2", "x3", "x4"],
        "layers": [{"units": units, "activation": "relu", "weights": weights, "bias": biases},
                   {"units": ["o1"], "activation": "sigmoid", "weights": [[0.1] * 12], "bias": 0.1}],
        "loss": "half_sse", "sample": {"inputs": inputs, "targets": [0.3]}, "learning_rate": 0.1})
    _, outs = Model(text).forward()
    assert all(abs(outs[u][0] - 0.02) < 1e-9 for u in units)
    judge = Judge(derive.derive(derive.load_text(text)))
    points = judge.points()
    nets = {symbol.subjects[0]: symbol for symbol in judge.values
            if getattr(symbol, "kind", None) is not None and symbol.claim_name().startswith("net_h")}
    assert len(points) == judge.count and len(nets) == 12
    assert all(point[nets[u]] > 0 for point in points for u in units)


def test_a_relu_derivative_followed_by_its_numbers_is_judged():
    """f'(net) of a ReLU unit (a Piecewise) with the numbers put in after it: a verdict (the parts of the
    Piecewise are no values to round to), right against the float model's central differences."""
    text = network(*NETWORKS["tanh-relu"])
    model = Model(text)
    _, outs = model.forward()
    delta_o1 = model.node_difference(("loss",), ("net", "o1"))
    judge = Judge(derive.derive(derive.load_text(text)))
    assert outs["o1"][0] > 0
    verdict = judge.judge(f"delta_o1 = (out_o1 - t_o1)*f'(net_o1) = ({outs['o1'][1]:.5f} - 0.3)*1 = {delta_o1:.4g}")
    assert verdict.verdict == "correct", chain_of(verdict)


@pytest.mark.parametrize("spec", ["softmax", "softmax-cross-entropy"])
def test_the_mse_delta_with_the_jacobians_diagonal_is_named_at_the_targets_unit_too(spec):
    """(o − t)·o(1 − o) for a softmax output with cross-entropy: the half-SSE ∂E/∂out with the Jacobian's
    diagonal only. At the unit whose target is 1 the diagonal alone happens to be right (−t(1 − o) = o − t),
    so the pair is found only when such a mistake is tried with one that moves the value."""
    derivation = derive.derive(derive.example(spec) if spec == "softmax" else derive.load_text(network(*NETWORKS[spec])))
    judge = Judge(derivation)
    for unit in ("o1", "o2"):
        verdict = judge.judge(f"delta_{unit} = (out_{unit} - t_{unit})*out_{unit}*(1 - out_{unit})")
        assert verdict.verdict == "incorrect" and verdict.diagnosis is not None, unit
        assert {verdict.diagnosis.mistake, verdict.diagnosis.also.mistake} == {"wrong_loss_derivative",
                                                                              "jacobian_diagonal_only"}, unit


@pytest.mark.parametrize("name", list(NETWORKS))
def test_a_correct_derivation_of_another_network_is_accepted(name):
    text = network(*NETWORKS[name])
    model = Model(text)
    _, outs = model.forward()
    net_h1, out_h1 = outs["h1"]
    lines = [f"net_h1 = a1*x1 + a2*x2 + c1 = 0.4*0.8 + (-0.3)*(-0.5) + 0.1 = {r(net_h1)}",
             f"out_h1 = {r(out_h1)}"]
    lines += [f"net_{u} = {r(outs[u][0])}" for u in ("h2", "o1", "o2")]
    lines += [f"out_{u} = {outs[u][1]:.6g}" for u in ("h2", "o1", "o2")]
    lines += [f"E = {model.loss():.6g}"]
    for weight in ("v1", "v4", "a1", "c2"):
        gradient = model.finite_difference(weight)
        value = model.params[weight]
        lines.append(f"dE/d{weight} = {gradient:.6g}")
        lines.append(f"{weight}_new = {weight} - eta*dE/d{weight} = {value} - 0.1*({gradient:.6g}) = "
                     f"{value - 0.1 * float(f'{gradient:.6g}'):.6g}")
    report = mark_derivations(derive.derive(derive.load_text(text)), {None: "\n".join(lines)}, kind="txt")
    assert [(v.claim, v.verdict) for v in report.verdicts if v.verdict != "correct"] == []
    assert len(report.verdicts) == len(lines)


# --- the command line -----------------------------------------------------------------------------------

def test_the_command_line_marks_a_derivation_file_or_standard_input(tmp_path, reference):
    lines = classic_derivation(reference)
    lines[5] = lines[5].rsplit("=", 1)[0] + "= 0.1358"  # an arithmetic slip in δ_o1
    document = tmp_path / "work.md"
    document.write_text("# My work\n\n" + "\n".join(f"- {line}" for line in lines) + "\nThat is all.\n",
                        encoding="utf-8")
    runner = CliRunner()
    text = runner.invoke(cli, ["check", "classic", "--derivation", str(document)])
    assert text.exit_code == 1
    assert "[incorrect] line 8: delta_o1" in text.output
    assert "The first wrong link is number 3 (arithmetic)" in text.output
    data = json.loads(runner.invoke(cli, ["check", "classic", "--derivation", "-", "-f", "json"],
                                    input=document.read_text(encoding="utf-8")).output)
    assert set(data) == {"lines", "summary", "passed"} and data["passed"] is False
    wrong = next(line for line in data["lines"] if line["verdict"] == "incorrect")
    assert wrong["line"] == 8 and wrong["first_wrong"] == 3
    assert [link["verdict"] for link in wrong["links"]] == ["correct", "correct", "incorrect"]
    assert wrong["links"][2]["expected_value"] == pytest.approx(reference["delta"]["o1"])
    assert data["summary"]["total"] == len(lines) and data["summary"]["incorrect"] == 1
    zh = runner.invoke(cli, ["check", "classic", "--derivation", str(document), "--lang", "zh"])
    assert "第 8 行" in zh.output and "第一个出错的环节是第 3 个" in zh.output
    both = runner.invoke(cli, ["check", "classic", "--derivation", str(document), "--claim", "E = 0.3"])
    assert both.exit_code == 2 and both.output.startswith("error: ")


def test_the_report_of_a_derivation_in_markdown(judge, reference):
    report = mark_derivations(judge.derivation, {None: "\n".join(classic_derivation(reference)[:2])}, kind="txt")
    markdown = render_report(report, "md")
    assert markdown.startswith("# Marking of a derivation: 2 line(s) judged")
    assert "**correct** (line 1)" in markdown and "Links: formula ✓, numbers put in ✓, arithmetic ✓" in markdown


def test_readme_sample_derivation_report_is_what_derive_prints(tmp_path):
    from conftest import ROOT
    section = (ROOT / "README.md").read_text(encoding="utf-8").split("### Whole derivations")[1]
    page = section.split("````markdown\n")[1].split("````")[0]
    report = section.split("--derivation work.md` prints:\n\n```\n")[1].split("```")[0]
    (tmp_path / "work.md").write_text(page, encoding="utf-8")
    result = CliRunner().invoke(cli, ["check", "classic", "--derivation", str(tmp_path / "work.md")])
    assert result.exit_code == 1
    assert result.output.strip() == report.strip()
    assert "line(s) 4, 8" in report and "→" in report  # the sample shows carried errors


def test_a_line_off_only_through_rounded_right_values_says_so_and_names_no_other_mistake(reference):
    """out_o1 = 0.7514 is right to 4 digits; δ_o1 from it, (0.7514 − 0.01)·0.7514·(1 − 0.7514) = 0.138492…, is
    0.13849 to 5 digits while the true δ_o1 is 0.1384986 (figures from ../shared/reference's classic example):
    the line is consistent, its only mistake rounding carried forward, and the report says why in words."""
    from derive.check.report import mark_derivations
    from derive.render.report import report_data
    truth = reference["delta"]["o1"]
    recomputed = (0.7514 - 0.01) * 0.7514 * (1 - 0.7514)
    assert f"{recomputed:.5g}" != f"{truth:.5g}"  # the page's rounding moves the fifth digit
    page = f"out_o1 = 0.7514\ndelta_o1 = (out_o1 - t_o1)*out_o1*(1 - out_o1) = {recomputed:.5g}\n"
    line = report_data(mark_derivations(derive.derive(derive.example("classic")), {None: page}))["lines"][1]
    assert line["consistent"] and line["diagnosis"]["mistake"] == "rounding_carried"
    assert "rounded values from line(s) 1" in line["method_detail"] and "Wrong" not in line["method_detail"]


def test_a_value_from_right_rounded_numbers_is_said_so_and_its_true_copy_is_credited():
    """deep's out_y rounded right to 4 digits, δ_y worked from it (numbers put in: right, but off in the fifth
    digit from the true δ_y, which the plain-Python model gives), then ∂E/∂g1 = δ_y (a bias: the copy is the
    computation): δ_y is right and says why, ∂E/∂g1 is consistent, not refused as a copied number."""
    from derive.check.report import mark_derivations
    from derive.render.report import report_data
    text = derive.examples.path("deep").read_text(encoding="utf-8")
    model = Model(text)
    out = model.forward()[1]["y"][1]
    rounded = float(f"{out:.4g}")
    delta = (rounded - 0.9) * rounded * (1 - rounded)
    assert f"{delta:.5g}" != f"{(out - 0.9) * out * (1 - out):.5g}"  # the rounding shows in the fifth digit
    page = (f"out_y = {rounded}\n"
            f"delta_y = (out_y - t_y)*out_y*(1 - out_y) = ({rounded} - 0.9)*{rounded}*(1 - {rounded}) = {delta:.5g}\n"
            f"dE/dg1 = delta_y = {delta:.5g}\n")
    lines = report_data(mark_derivations(derive.derive(derive.example("deep")), {None: page}))["lines"]
    assert lines[1]["verdict"] == "correct" and "numbers put in give" in lines[1]["method_detail"]
    assert lines[2]["consistent"] and lines[2]["diagnosis"]["mistake"] == "rounding_carried"


# --- the student's own document, marked -----------------------------------------------------------------

TEX_PAGE = r"""\documentclass{article}
\usepackage{amsmath}
\begin{document}
Forward pass:
\begin{align}
net_{h1} &= w_1 i_1 + w_2 i_2 + b_1 \\
  &= 0.15 \cdot 0.05 + 0.2 \cdot 0.1 + 0.35 \\
  &= 0.3875 % a slip
\end{align}
Then \[ out_{h1} = \frac{1}{1 + e^{-net_{h1}}} = 0.5933 \]
and $E = 0.2984$.
\end{document}
"""


def originals_kept(original: str, marked: str) -> bool:
    """Return True when every line of `original` is in `marked`, unchanged and in order."""
    remaining = iter(marked.split("\n"))
    return all(any(line == candidate for candidate in remaining) for line in original.rstrip("\n").split("\n"))


def test_an_annotated_markdown_page_keeps_every_line_and_marks_each_equation(tmp_path):
    from conftest import ROOT
    page = (ROOT / "README.md").read_text(encoding="utf-8").split("````markdown\n")[1].split("````")[0]
    (tmp_path / "work.md").write_text(page, encoding="utf-8")
    result = CliRunner().invoke(cli, ["check", "classic", "--derivation", str(tmp_path / "work.md"),
                                      "--annotate", str(tmp_path / "work.marked.md"), "-o", str(tmp_path / "r.json")])
    assert result.exit_code == 1, result.output
    marked = (tmp_path / "work.marked.md").read_text(encoding="utf-8")
    assert originals_kept(page, marked)
    marks = [line for line in marked.split("\n") if line.lstrip().startswith("> ")]
    assert [mark.split()[1] for mark in marks] == ["✓", "✗", "→", "=", "→", "**Summary:"]
    # a mark under a list item is indented to the item's text, so that it stays inside the item
    assert "  > ✗ line 4: incorrect — The first wrong link is number 1 (value), “0.76”: it should be 0.7514" in marks
    assert json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["summary"]["consistent"] == 2
    # The README shows this marked page as it is written.
    shown = (ROOT / "README.md").read_text(encoding="utf-8").split("````markdown\n")[2].split("````")[0]
    assert shown == marked


def test_a_mark_never_swallows_the_students_next_line():
    """In Markdown a line after a quote joins it (a lazy continuation): a blank line follows each mark."""
    from derive.check.report import mark_derivations
    from derive.render.annotate import annotate
    page = "1. net_h1 = 0.3775\n2. out_h1 = 0.5933\nout_h2 = 0.5969\nE = 0.2984\n"
    report = mark_derivations(derive.derive(derive.example("classic")), {None: page}, kind="md")
    lines = annotate(page, "md", report).split("\n")
    assert lines[:4] == ["1. net_h1 = 0.3775", "   > ✓ line 1: correct", "", "2. out_h1 = 0.5933"]
    for index, line in enumerate(lines):
        if line.lstrip().startswith(">") and index + 1 < len(lines) and lines[index + 1].strip():
            assert lines[index + 1].lstrip().startswith(">"), lines  # only another mark follows directly


def test_an_annotated_latex_page_compiles_with_its_marks(tmp_path):
    import subprocess
    from conftest import require_tex
    require_tex("pdflatex", ["article.cls", "amsmath.sty"])
    (tmp_path / "work.tex").write_text(TEX_PAGE, encoding="utf-8")
    result = CliRunner().invoke(cli, ["check", "classic", "--derivation", str(tmp_path / "work.tex"),
                                      "--annotate", str(tmp_path / "marked.tex")])
    assert result.exit_code == 1, result.output
    marked = (tmp_path / "marked.tex").read_text(encoding="utf-8")
    assert originals_kept(TEX_PAGE, marked)
    assert marked.index(r"$\times$ line 6") > marked.index(r"\end{align}")  # after the environment, not in it
    subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "marked.tex"], cwd=tmp_path,
                   check=True, capture_output=True, timeout=120)
    text = subprocess.run(["pdftotext", "marked.pdf", "-"], cwd=tmp_path, capture_output=True, text=True,
                          check=True).stdout
    assert "line 6: incorrect — link 3 (arithmetic) is the first wrong one; it should give 0.3775" in " ".join(text.split())
    assert "Summary: 2 of 3 correct" in " ".join(text.split())


def test_a_plain_text_page_is_marked_in_plain_text_and_annotate_needs_a_derivation(tmp_path):
    page = "net_h1 = 0.3775\nout_h1 = 0.5\nwe are done\n"
    (tmp_path / "w.txt").write_text(page, encoding="utf-8")
    runner = CliRunner()
    runner.invoke(cli, ["check", "classic", "--derivation", str(tmp_path / "w.txt"), "--annotate",
                        str(tmp_path / "m.txt"), "--lang", "zh"])
    marked = (tmp_path / "m.txt").read_text(encoding="utf-8").split("\n")
    assert marked[:5] == ["net_h1 = 0.3775", "    ✓ 第 1 行：正确", "out_h1 = 0.5", marked[3], "we are done"]
    assert marked[3].startswith("    ✗ 第 2 行：错误")
    alone = runner.invoke(cli, ["check", "classic", "--claim", "E = 1", "--annotate", str(tmp_path / "x.txt")])
    assert alone.exit_code == 2 and not (tmp_path / "x.txt").exists()


# --- the teacher's policy and a whole class -------------------------------------------------------------

def test_min_digits_and_last_digit_change_what_a_number_must_be():
    from derive.check.judge import Policy
    derivation = derive.derive(derive.example("classic"))  # out_h1 = 0.593269992
    strict, lenient = Judge(derivation, policy=Policy(min_digits=4)), Judge(derivation, policy=Policy(last_digit=1))
    assert Judge(derivation).judge("out_h1 = 0.59").verdict == "correct"
    coarse = strict.judge("out_h1 = 0.59")
    assert coarse.verdict == "incorrect" and coarse.message.key == "judge_not_precise" and coarse.diagnosis is None
    assert strict.judge("out_h1 = 0.5933").verdict == "correct"
    assert [lenient.judge(f"out_h1 = {x}").verdict for x in ("0.5932", "0.5934", "0.5931", "0.5935")] == [
        "correct", "correct", "incorrect", "incorrect"]


def test_a_class_is_marked_with_a_gradebook_and_a_marked_copy_of_every_page(tmp_path, reference):
    import csv
    lines = classic_derivation(reference)
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "ana.md").write_text("\n".join(f"- {line}" for line in lines[:3]) + "\n", encoding="utf-8")
    (tmp_path / "in" / "ben.txt").write_text("net_h1 = w1*i1 + w2*i2 + b1 = 0.15*0.05 + 0.2*0.1 + 0.35 = 0.3875\n"
                                             "out_h1 = 0.59\nnotes on the side\n", encoding="utf-8")
    (tmp_path / "in" / "README").write_text("not a derivation", encoding="utf-8")
    runner = CliRunner()
    arguments = ["check", "classic", "--derivations", str(tmp_path / "in"), "--annotate", str(tmp_path / "marked"),
                 "--gradebook", str(tmp_path / "grades.csv"), "--points", "formula=2,substitution=1,value=1",
                 "--min-digits", "3", "-o", str(tmp_path / "report.json")]
    result = runner.invoke(cli, arguments)
    assert result.exit_code == 1, result.output
    rows = list(csv.DictReader((tmp_path / "grades.csv").open(encoding="utf-8")))
    assert [(row["student"], row["points"], row["possible"]) for row in rows] == [("ana", "12", "12"), ("ben", "3", "5")]
    assert rows[1]["net_h1"] == "3/4" and rows[1]["out_h1"] == "0/1" and rows[0]["net_o1"] == "4/4"
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert report["students"]["ben"]["points"] == 3 and report["students"]["ben"]["possible"] == 5
    assert sorted(path.name for path in (tmp_path / "marked").iterdir()) == [".derive-files", "ana.marked.md",
                                                                               "ben.marked.txt"]
    assert "    ✗ line 1: incorrect — The first wrong link is number 3 (arithmetic)" in \
        (tmp_path / "marked" / "ben.marked.txt").read_text(encoding="utf-8")
    assert runner.invoke(cli, arguments).exit_code == 1  # derive's own marked copies are replaced
    (tmp_path / "marked" / "ana.marked.md").write_text("the student's own notes", encoding="utf-8")
    refused = runner.invoke(cli, arguments)
    assert refused.exit_code == 2 and "ana.marked.md" in refused.output
    assert (tmp_path / "marked" / "ana.marked.md").read_text(encoding="utf-8") == "the student's own notes"


def test_a_class_directory_with_two_files_for_one_student_or_bad_points_is_refused(tmp_path):
    (tmp_path / "s1.md").write_text("E = 1\n", encoding="utf-8")
    (tmp_path / "s1.txt").write_text("E = 1\n", encoding="utf-8")
    runner = CliRunner()
    twice = runner.invoke(cli, ["check", "classic", "--derivations", str(tmp_path)])
    assert twice.exit_code == 2 and "s1" in twice.output
    points = runner.invoke(cli, ["check", "classic", "--derivation", str(tmp_path / "s1.md"), "--points", "style=1"])
    assert points.exit_code == 2 and "style=1" in points.output


# --- expected forms a student can read ------------------------------------------------------------------

@pytest.mark.parametrize("hidden, output, loss, targets", [
    ("tanh", "sigmoid", "bce", [0.2, 0.9]),            # σ with binary cross-entropy: δ = out − t
    ("relu", "softmax", "cross_entropy", [0, 1]),      # softmax with cross-entropy, two outputs: δ = out − t
])
def test_the_delta_a_course_writes_is_the_last_form_and_what_check_expects(hidden, output, loss, targets):
    from derive.quantities import QuantitySymbol as Q
    text = network(hidden, output, loss, targets)
    derivation = derive.derive(derive.load_text(text))
    for unit in ("o1", "o2"):
        step = next(s for s in derivation.steps if s.kind == "delta" and s.subject == unit)
        assert step.forms[-1] == Q("out", unit) - Q("target", unit), step.forms
    verdict = Judge(derivation).judge("delta_o1 = out_o1*(1 - t_o1)")
    report = render_report(mark_derivations(derivation, {None: "delta_o1 = out_o1*(1 - t_o1)"}, kind="txt"), "text")
    assert verdict.verdict == "incorrect" and "Expected: δ_o1 = out_o1 - target_o1 = " in report
    # and the value is the float model's: out − t at the sample
    outputs, _ = Model(text).forward()
    assert float(derivation.values[Q("delta", "o1")]) == pytest.approx(outputs[0] - targets[0], rel=1e-12)


def test_the_students_own_rounded_values_carried_forward_are_named(judge, reference):
    # δ_h1 = 0.00877142… written 0.00877 (right), so ∂E/∂w1 = 0.00877·0.05 = 0.0004385 is right as written;
    # but 0.0004385 is not ∂E/∂w1 = 0.000438568 to 4 digits, and w1⁺ computed from it to 8 digits shows it.
    text = ("delta_h1 = 0.00877\n"
            "dE/dw1 = delta_h1*i1 = 0.00877*0.05 = 0.0004385\n"
            "w1_new = w1 - eta*dE/dw1 = 0.15 - 0.5*0.0004385 = 0.14978075\n"
            "w1_new = w1 - eta*dE/dw1 = 0.15 - 0.5*0.0004385 = 0.1498\n")  # rounded at the end: right
    verdicts = judge.judge_document(read_lines(text, "txt"))
    assert [v.verdict for v in verdicts] == ["correct", "correct", "incorrect", "correct"]
    assert verdicts[2].consistent and verdicts[2].diagnosis.mistake == "rounding_carried"
    assert verdicts[2].carried_from == (1, 2)
    assert f"{reference['updated']['w1']:.8g}" != "0.14978075"  # the true w1⁺, to the digits written


def test_a_class_marked_in_two_processes_gives_the_same_report(tmp_path, reference):
    lines = classic_derivation(reference)
    for index, name in enumerate(("a.txt", "b.md", "c.txt")):
        body = lines[index:index + 6] + ["w5_new = w5 - eta*dE/dw5 = 0.4 - 0.5*0.08217 = 0.3589"]
        (tmp_path / name).write_text("\n".join(body) + "\n", encoding="utf-8")
    runner = CliRunner()
    reports = [runner.invoke(cli, ["check", "classic", "--derivations", str(tmp_path), "-f", "json", "--jobs", jobs]).output
               for jobs in ("1", "2")]
    assert reports[0] == reports[1] and json.loads(reports[0])["students"]["b"]["total"] == 7


def test_the_class_summary_counts_wrong_quantities_and_mistakes_and_draws_them(tmp_path):
    from xml.etree import ElementTree
    pages = {  # δ_o1 with f′ left out by two students, an arithmetic slip in net_h1 by one
        "a": "delta_o1 = out_o1 - t_o1 = 0.7514 - 0.01 = 0.7414\nnet_h1 = 0.15*0.05 + 0.2*0.1 + 0.35 = 0.3875\n",
        "b": "delta_o1 = out_o1 - t_o1\nnet_h1 = 0.3775\n",
        "c": "delta_o1 = 0.1385\n",
    }
    for name, text in pages.items():
        (tmp_path / f"{name}.txt").write_text(text, encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(cli, ["check", "classic", "--derivations", str(tmp_path), "-f", "json",
                                 "--chart", str(tmp_path / "chart.svg")])
    summary = json.loads(result.output)["class"]
    assert summary["students"] == 3
    assert summary["wrong"] == [{"quantity": "delta_o1", "count": 2}, {"quantity": "net_h1", "count": 1}]
    assert {m["mistake"]: m["count"] for m in summary["mistakes"]} == {"derivative_left_out": 2, "arithmetic_slip": 1}
    svg = ElementTree.fromstring((tmp_path / "chart.svg").read_text(encoding="utf-8").split("\n", 2)[2])
    bars = [float(rect.get("width")) for rect in svg.iter("{http://www.w3.org/2000/svg}rect")]
    assert bars == [280.0, 140.0]  # as long as the counts, 2 and 1
    text = runner.invoke(cli, ["check", "classic", "--derivations", str(tmp_path)]).output
    assert "Most often wrong: delta_o1: 2 of 3, net_h1: 1 of 3" in text
    assert "Mistakes: f′ left out of δ (2), arithmetic slip (1)" in text
    refused = runner.invoke(cli, ["check", "classic", "--derivation", str(tmp_path / "a.txt"), "--chart", "x.svg"])
    assert refused.exit_code == 2


def test_the_class_chart_as_png_and_pdf_through_matplotlib(tmp_path):
    import shutil
    import struct
    import subprocess
    from conftest import require_module
    require_module("matplotlib")  # the `plot` extra; the test extra installs it, so CI runs this
    pages = {"a": "delta_o1 = out_o1 - t_o1\n", "b": "delta_o1 = out_o1 - t_o1\nnet_h1 = 0.15*0.05 + 0.2*0.1 + 0.35 = 0.3875\n"}
    klass, out = tmp_path / "class", tmp_path / "out"
    klass.mkdir()
    out.mkdir()
    for name, text in pages.items():
        (klass / f"{name}.txt").write_text(text, encoding="utf-8")
    runner = CliRunner()
    made = {}
    for name in ("one.png", "two.png", "chart.pdf"):
        result = runner.invoke(cli, ["check", "classic", "--derivations", str(klass), "-o", str(out / "r.txt"),
                                     "--chart", str(out / name)])
        assert result.exit_code == 1, result.output
        made[name] = (out / name).read_bytes()
    assert made["one.png"] == made["two.png"]  # the same report, the same bytes: no date, no version
    png = made["one.png"]
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    assert width == 960 and 150 < height < 400  # 8 inches at 120 dpi; two rows of bars
    assert made["chart.pdf"].startswith(b"%PDF")
    if shutil.which("pdftotext") or os.environ.get("DERIVE_REQUIRE_TOOLS"):
        text = subprocess.run(["pdftotext", str(out / "chart.pdf"), "-"], capture_output=True, text=True,
                              check=True).stdout
        assert "left out of" in text and "arithmetic slip" in text and "Mistakes in 2 derivations" in text
    refused = runner.invoke(cli, ["check", "classic", "--derivations", str(klass), "--chart", "x.gif"])
    assert refused.exit_code == 2 and "svg, png, pdf" in refused.output


def test_a_png_chart_without_matplotlib_says_what_to_install(tmp_path, monkeypatch):
    import sys
    (tmp_path / "a.txt").write_text("delta_o1 = out_o1 - t_o1\n", encoding="utf-8")
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now fails
    result = CliRunner().invoke(cli, ["check", "classic", "--derivations", str(tmp_path), "--chart",
                                      str(tmp_path / "c.png"), "-o", str(tmp_path / "r.json")])
    assert result.exit_code == 2 and "derive[plot]" in result.output and len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "c.png").exists() and not (tmp_path / "r.json").exists()  # nothing written


# --- a class that worked a handout's variants ------------------------------------------------------------

def _variant_page(path):
    """A student's page for one variant, its figures from the plain-Python model of that variant's file."""
    from reference_model import Model
    model = Model(path.read_text(encoding="utf-8"))
    _, units = model.forward()
    return [f"net_h1 = {units['h1'][0]:.4f}", f"out_o1 = {units['o1'][1]:.4f}", f"E = {model.loss():.5f}",
            f"dE/dw5 = {model.finite_difference('w5'):.5f}"]


def test_a_class_is_marked_against_the_variants_of_its_handout(tmp_path):
    exam, klass = tmp_path / "exam", tmp_path / "class"
    klass.mkdir()
    result = CliRunner().invoke(cli, ["handout", "classic", "--variants", "3", "--seed", "7", "-f", "md",
                                      "-o", str(exam)])
    assert result.exit_code == 0, result.output
    pages = {variant: _variant_page(exam / f"network-{variant}.yaml") for variant in ("01", "02", "03")}
    (klass / "alice-01.txt").write_text("\n".join(pages["01"]) + "\n", encoding="utf-8")
    (klass / "bob_2.md").write_text("\n".join(pages["02"]) + "\n", encoding="utf-8")
    # carol worked variant 3 but copied variant 1's E: right for another variant is wrong for hers
    (klass / "carol-03.txt").write_text("\n".join(pages["03"][:2] + pages["01"][2:3] + pages["03"][3:]) + "\n",
                                        encoding="utf-8")
    result = CliRunner().invoke(cli, ["check", str(exam), "--derivations", str(klass), "-f", "json",
                                      "--annotate", str(tmp_path / "marked")])
    assert result.exit_code == 1, result.output
    data = json.loads(result.output)
    students = data["students"]
    assert {s: (v["variant"], v["correct"], v["total"]) for s, v in students.items()} == {
        "alice-01": ("01", 4, 4), "bob_2": ("02", 4, 4), "carol-03": ("03", 3, 4)}
    wrong = [line for line in data["lines"] if line["verdict"] == "incorrect"]
    assert [(line["student"], line["line"]) for line in wrong] == [("carol-03", 3)]
    from reference_model import Model
    assert wrong[0]["expected_value"] == pytest.approx(
        Model((exam / "network-03.yaml").read_text(encoding="utf-8")).loss(), rel=1e-12)
    answers = {row["variant"]: row for row in csv.DictReader((exam / "answers.csv").open(encoding="utf-8"))}
    gradient = [line for line in data["lines"] if line["student"] == "bob_2" and line["quantity"] == "∂E/∂w5"]
    assert gradient[0]["expected_value"] == pytest.approx(float(answers["02"]["dE/dw5"]), rel=1e-12)
    marked = (tmp_path / "marked" / "carol-03.marked.txt").read_text(encoding="utf-8")
    assert "✗ line 3" in marked and marked.count("✓") == 3
    text = CliRunner().invoke(cli, ["check", str(exam), "--derivations", str(klass)]).output
    assert "Student bob_2, variant 02" in text


@pytest.mark.parametrize("arguments, message", [
    (["--derivations", "CLASS"], "does not end with the number of a variant"),
    (["--claim", "out_h1 = 0.5"], "--derivations"),
])
def test_a_handout_directory_needs_a_class_named_by_variant(tmp_path, arguments, message):
    exam, klass = tmp_path / "exam", tmp_path / "class"
    klass.mkdir()
    CliRunner().invoke(cli, ["handout", "classic", "--variants", "2", "-f", "md", "-o", str(exam)])
    (klass / "alice.txt").write_text("out_h1 = 0.5\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["check", str(exam)] + [str(klass) if a == "CLASS" else a for a in arguments])
    assert result.exit_code == 2 and message in result.output and len(result.output.strip().splitlines()) == 1
    empty = tmp_path / "empty"
    empty.mkdir()
    result = CliRunner().invoke(cli, ["check", str(empty), "--derivations", str(klass)])
    assert result.exit_code == 2 and "network-NN.yaml" in result.output
