"""derive/render/printers.py: SymPy's LaTeX and text printers in our notation, with numbers put in.

Sources of truth: the README's worked excerpt (δ_h1 with its numbers: "0.138498562 \\cdot 0.4 +
\\left(-0.0380982365\\right) \\cdot 0.5"), the reference figures in /work/shared/reference (typed here as
literals and rounded by hand to 9 significant digits), and hand-written expected strings.
"""
import pytest
import sympy

import derive
from derive.functions import activation, shown
from derive.network import build
from derive.notation import Notation
from derive.quantities import QuantitySymbol as Q
from derive.render.printers import MathLatexPrinter, MathTextPrinter, latex_number, text_number

CLASSIC_TEXT = open(derive.examples.path("classic"), encoding="utf-8").read()

DELTA_O1, DELTA_O2, W5, W7 = Q("delta", "o1"), Q("delta", "o2"), Q("param", "w5"), Q("param", "w7")
OUT_H1, NET_H1 = Q("out", "h1"), Q("net", "h1")
# Reference figures (PyTorch float64, /work/shared/reference/classic-2-2-2.json), typed in.
VALUES = {DELTA_O1: sympy.Float("0.13849856162855695", 30), DELTA_O2: sympy.Float("-0.03809823651655623", 30),
          W5: sympy.Rational(2, 5), W7: sympy.Rational(1, 2), OUT_H1: sympy.Float("0.5932699921071872", 30)}


def as_written(*terms):
    return sympy.Add(*terms, evaluate=False)


def product(*factors):
    return sympy.Mul(*factors, evaluate=False)


# δ_h1's error term as the derivation writes it: δ_o1·w5 + δ_o2·w7, then times out_h1·(1 − out_h1)
ERROR_H1 = as_written(product(DELTA_O1, W5), product(DELTA_O2, W7))
DELTA_H1 = product(ERROR_H1, OUT_H1, as_written(sympy.Integer(1), -OUT_H1))


@pytest.fixture(scope="module")
def notation():
    return Notation(build(derive.example("classic")))


@pytest.fixture(scope="module")
def names_e():
    """The classic network with its first input named e."""
    return Notation(build(derive.load_text(CLASSIC_TEXT.replace("inputs: [i1, i2]", "inputs: [e, i2]"))))


def test_symbols_in_our_notation(notation):
    assert MathLatexPrinter(notation).doprint(ERROR_H1) == r"\delta_{o1} w_{5} + \delta_{o2} w_{7}"
    assert MathTextPrinter(notation).doprint(ERROR_H1) == "δ_o1·w5 + δ_o2·w7"
    index = Notation(notation.network, "index")
    assert MathLatexPrinter(index).doprint(ERROR_H1) == r"\delta_{5} w_{53} + \delta_{6} w_{63}"
    assert MathTextPrinter(index).doprint(ERROR_H1) == "δ_5·w_53 + δ_6·w_63"


def test_numbers_put_in_with_negative_values_parenthesised(notation):
    # the README's excerpt, digit for digit
    assert MathLatexPrinter(notation, VALUES).doprint(DELTA_H1) == (
        r"\left(0.138498562 \cdot 0.4 + \left(-0.0380982365\right) \cdot 0.5\right) \cdot 0.593269992 \cdot "
        r"\left(1 - 0.593269992\right)")
    assert MathTextPrinter(notation, VALUES).doprint(DELTA_H1) == (
        "(0.138498562·0.4 + (-0.0380982365)·0.5)·0.593269992·(1 - 0.593269992)")


def test_digits(notation):
    assert MathTextPrinter(notation, VALUES, digits=4).doprint(ERROR_H1) == "0.1385·0.4 + (-0.0381)·0.5"
    assert MathLatexPrinter(notation, VALUES, digits=3).doprint(ERROR_H1) == (
        r"0.138 \cdot 0.4 + \left(-0.0381\right) \cdot 0.5")


def test_a_negative_value_squared_is_parenthesised(notation):
    values = {OUT_H1: sympy.Rational(-1, 2)}
    assert MathTextPrinter(notation, values).doprint(OUT_H1 ** 2) == "(-0.5)^2"
    assert MathLatexPrinter(notation, values).doprint(OUT_H1 ** 2) == r"\left(-0.5\right)^{2}"


def test_exact_fractions_and_e_notation(notation):
    # A negative number put in is parenthesised inside a product, not when it stands alone.
    negative = {W5: sympy.Rational(-3, 40), OUT_H1: sympy.Rational(1, 2)}
    assert r"\left(-\frac{3}{40}\right)" in MathLatexPrinter(notation, negative, exact=True).doprint(W5 * OUT_H1)
    assert "(-3/40)" in MathTextPrinter(notation, negative, exact=True).doprint(W5 * OUT_H1)
    assert MathLatexPrinter(notation, negative, exact=True).doprint(W5) == r"-\frac{3}{40}"
    assert MathTextPrinter(notation, negative, exact=True).doprint(W5) == "-3/40"
    assert MathTextPrinter(notation, {W5: sympy.Rational(3, 40)}, exact=True).doprint(W5) == "3/40"
    tiny = {W5: sympy.Rational(-42, 10 ** 8), OUT_H1: sympy.Rational(1, 2)}
    assert r"\left(-4.2 \times 10^{-7}\right)" in MathLatexPrinter(notation, tiny).doprint(W5 * OUT_H1)
    assert MathTextPrinter(notation, {W5: sympy.Rational(42, 10 ** 8)}).doprint(W5) == "4.2×10^-7"


def test_a_functions_lone_argument_is_not_parenthesised_twice(notation):
    values = {NET_H1: sympy.Rational(-1, 5)}
    assert MathLatexPrinter(notation, values).doprint(sympy.tanh(NET_H1)) == r"\tanh{\left(-0.2 \right)}"
    assert MathTextPrinter(notation, values).doprint(sympy.tanh(NET_H1)) == "tanh(-0.2)"
    assert MathTextPrinter(notation, values).doprint(sympy.tanh(2 * NET_H1)) == "tanh(2·(-0.2))"


def test_floats_in_an_expression_are_rounded(notation):
    expression = sympy.Float("0.5932699921071872", 30) * OUT_H1
    assert MathTextPrinter(notation, digits=4).doprint(expression) == "0.5933·out_h1"
    assert MathLatexPrinter(notation, digits=4).doprint(expression) == r"0.5933 \mathrm{out}_{h1}"


def test_decimals_writes_finite_fractions_as_decimals(notation):
    text = MathTextPrinter(notation, decimals=True)
    assert text.doprint(sympy.Rational(7, 20)) == "0.35"
    assert text.doprint(sympy.Rational(1, 3)) == "1/3"       # no finite decimal
    assert text.doprint(sympy.Rational(1, 2)) == "1/2"       # small denominators stay fractions
    assert MathLatexPrinter(notation, decimals=True).doprint(sympy.Rational(7, 20)) == "0.35"
    assert MathTextPrinter(notation).doprint(sympy.Rational(7, 20)) == "7/20"


@pytest.mark.parametrize("text, latex, plain", [
    ("-4.2e-7", r"-4.2 \times 10^{-7}", "-4.2×10^-7"),
    ("1e12", r"1 \times 10^{12}", "1×10^12"),
    ("-3/40", r"-\frac{3}{40}", "-3/40"),
    ("0.5", "0.5", "0.5"),
])
def test_number_spellings(text, latex, plain):
    assert latex_number(text) == latex
    assert text_number(text) == plain


def test_applied_activations_by_name(notation):
    sigma, sigma_prime = shown(activation("sigmoid"))(NET_H1), shown(activation("sigmoid"), prime=True)(NET_H1)
    latex, text = MathLatexPrinter(notation), MathTextPrinter(notation)
    assert latex.doprint(sigma) == r"\sigma\left(\mathrm{net}_{h1}\right)"
    assert latex.doprint(sigma_prime) == r"\sigma'\left(\mathrm{net}_{h1}\right)"
    assert latex.doprint(sigma ** 2) == r"\sigma\left(\mathrm{net}_{h1}\right)^{2}"
    assert text.doprint(sigma) == "σ(net_h1)" and text.doprint(sigma_prime) == "σ'(net_h1)"
    assert text.doprint(shown(activation("tanh"))(NET_H1)) == "tanh(net_h1)"
    assert text.doprint(shown(activation("x/(1+abs(x))"))(NET_H1)) == "f(net_h1)"


def test_abs_and_cases_in_text(notation):
    text = MathTextPrinter(notation)
    assert text.doprint(sympy.Abs(NET_H1)) == "|net_h1|"
    assert text.doprint(sympy.Piecewise((1, NET_H1 > 0), (0, True))) == "(1 if net_h1 > 0; 0 otherwise)"


def test_exponentials_as_powers_of_e(notation):
    assert MathLatexPrinter(notation).doprint(sympy.exp(-NET_H1)) == r"e^{- \mathrm{net}_{h1}}"
    assert MathLatexPrinter(notation).doprint(1 / (1 + sympy.exp(-NET_H1))) == r"\frac{1}{1 + e^{- \mathrm{net}_{h1}}}"
    assert MathTextPrinter(notation).doprint(sympy.exp(-NET_H1)) == "exp(-net_h1)"


def test_exp_where_the_network_names_e(names_e):
    latex = MathLatexPrinter(names_e)
    assert latex.doprint(sympy.exp(-NET_H1)) == r"\exp\left(- \mathrm{net}_{h1}\right)"
    assert latex.doprint(1 / (1 + sympy.exp(-NET_H1))) == r"\frac{1}{1 + \exp\left(- \mathrm{net}_{h1}\right)}"
    assert latex.doprint(sympy.exp(NET_H1) * Q("input", "e")) == r"e \exp\left(\mathrm{net}_{h1}\right)"
    assert "e^" not in latex.doprint(sympy.exp(2 * NET_H1) + sympy.exp(NET_H1) ** 3)
    assert MathTextPrinter(names_e).doprint(sympy.exp(-NET_H1)) == "exp(-net_h1)"


def test_eulers_number_is_not_written_as_the_loss_in_text(notation):
    written = MathTextPrinter(notation).doprint(sympy.E * NET_H1)
    assert "E" not in written.replace("net_h1", "")


def test_eulers_number_is_told_apart_from_a_network_named_e(names_e):
    latex = MathLatexPrinter(names_e)
    assert latex.doprint(sympy.E) != names_e.latex(Q("input", "e"))


def test_a_written_sum_brings_out_the_sign_of_a_negative_product(notation):
    t, o, x = Q("target", "o1"), Q("out", "o1"), Q("out", "h1")
    term = sympy.Mul(-t / o, x, evaluate=False)           # −t/o · out_h1, kept as written
    written = sympy.Add(x, term, evaluate=False)
    latex = MathLatexPrinter(notation).doprint(written)
    assert latex == r"\mathrm{out}_{h1} - \frac{\mathrm{target}_{o1}}{\mathrm{out}_{o1}} \mathrm{out}_{h1}"
    assert "+ -" not in latex
    plain = sympy.Add(x, sympy.Mul(2, x, evaluate=False), evaluate=False)  # nothing to bring out
    assert MathLatexPrinter(notation).doprint(plain) == r"\mathrm{out}_{h1} + 2 \mathrm{out}_{h1}"
