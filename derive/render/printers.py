"""SymPy printers for our documents: LaTeX and plain Unicode text.

A printer writes quantity symbols by the Notation in use and, when given
`values`, writes each symbol as its number instead: that is how "the same form
with numbers put in" is produced from the one expression, with no string
editing. Negative numbers put in are parenthesised, as one writes by hand.
"""
from __future__ import annotations

from typing import Mapping

import sympy
from sympy.printing.precedence import PRECEDENCE
from sympy.printing.latex import LatexPrinter
from sympy.printing.str import StrPrinter

from ..notation import Notation
from ..numbers import format_number


def latex_number(text: str) -> str:
    """Return a formatted number ("-4.2e-7", "3/40") as LaTeX."""
    sign, body = ("-", text[1:]) if text.startswith("-") else ("", text)
    if "/" in body:
        p, q = body.split("/")
        return rf"{sign}\frac{{{p}}}{{{q}}}"
    if "e" in body:
        mantissa, exponent = body.split("e")
        return rf"{sign}{mantissa} \times 10^{{{int(exponent)}}}"
    return sign + body


def text_number(text: str) -> str:
    """Return a formatted number as plain text (e-notation written as ×10^)."""
    if "e" in text:
        mantissa, exponent = text.split("e")
        return f"{mantissa}×10^{int(exponent)}"
    return text


class _Settings:
    def __init__(self, notation: Notation, values: Mapping | None, digits: int, exact: bool,
                 decimals: bool = False, as_written: bool = False):
        self.notation = notation
        self.as_written = as_written  # an unevaluated product is written in its order, a division where it is
        self.values = values or {}
        self.digits = digits
        self.exact = exact
        self.decimals = decimals
        self.bare = False  # a number put in alone (a whole form, a function's argument) needs no parentheses

    def decimal(self, expr) -> str | None:
        """Return a rational with a finite decimal expansion as that decimal (7/20 → 0.35), when asked to."""
        if not self.decimals or expr.q <= 10:
            return None
        q = int(expr.q)
        for prime in (2, 5):
            while q % prime == 0:
                q //= prime
        return format_number(expr, 40) if q == 1 else None

    @staticmethod
    def function_name(expr, latex: bool) -> str:
        """Return how an applied activation (a derive.functions.ShownBase) is named: σ, tanh, f; σ' for its derivative."""
        activation = expr.func.activation
        name = activation.latex_name if latex else activation.text_name
        return name + "'" if expr.func.prime else name

    def number(self, symbol) -> str | None:
        if symbol not in self.values:
            return None
        return format_number(self.values[symbol], self.digits, self.exact)

    def alone(self, print_, expr, *args):
        """Print with print_(expr, *args), numbers put in for lone symbols (no other term) unparenthesised."""
        arguments = expr.args if expr.args else (expr,)
        before, self.bare = self.bare, all(a.is_Symbol for a in arguments)
        try:
            return print_(expr, *args)
        finally:
            self.bare = before


def _in_order(printer, expr, times: str, over) -> str | None:
    """Return an unevaluated product as it was written, left to right: `times` between factors, over(left, b)
    where it divides by b (a factor b^-1); None when the printer is not writing as written."""
    if not printer.our.as_written:
        return None
    precedence = PRECEDENCE["Mul"]
    written = None
    for factor in expr.args:
        if factor.is_Pow and factor.exp is sympy.S.NegativeOne:
            written = over("1" if written is None else written, factor.base)
        elif written is None and factor is sympy.S.NegativeOne:
            written = "-"
        else:
            text = printer.parenthesize(factor, precedence, strict=True)  # a sum in parentheses, a product not
            written = text if written is None else written + text if written == "-" else written + times + text
    return written


def _leading_minus(term) -> bool:
    """Return True for a product written unevaluated whose first factor is negative (−t/o · out): in a sum
    it is written "a − t/o · out", not "a + −t/o · out"."""
    return term.is_Mul and bool(term.args) and term.args[0].could_extract_minus_sign()


def _signed_sum(printer, expr, minus: str):
    """Return the terms of an unevaluated sum joined by + and −, or None when no term needs its sign
    brought out (the printer's own Add then prints it). `minus` is how the printer writes a leading minus."""
    terms = list(expr.args)
    if not any(_leading_minus(term) for term in terms[1:]):
        return None
    written = printer._print(terms[0])
    for term in terms[1:]:
        text = printer._print(term)
        if _leading_minus(term) and text.startswith(minus):
            written += " - " + text[len(minus):].lstrip()
        else:
            written += " + " + text
    return written


class MathLatexPrinter(LatexPrinter):
    """LaTeX with our notation; with values, numbers in place of symbols, joined by \\cdot."""

    def __init__(self, notation: Notation, values: Mapping | None = None, digits: int = 9, exact: bool = False,
                 decimals: bool = False, as_written: bool = False):
        super().__init__({"order": "none", "mul_symbol": "dot" if values else None, "fold_short_frac": False})
        self.our = _Settings(notation, values, digits, exact, decimals, as_written)

    def _print_Rational(self, expr):
        decimal = self.our.decimal(expr)
        return latex_number(decimal) if decimal is not None else super()._print_Rational(expr)

    def doprint(self, expr):
        return self.our.alone(super().doprint, expr) if expr.is_Symbol else super().doprint(expr)

    def _print_Symbol(self, expr, style="plain"):
        number = self.our.number(expr)
        if number is not None:
            written = latex_number(number)
            return rf"\left({written}\right)" if number.startswith("-") and not self.our.bare else written
        return self.our.notation.latex(expr)

    def _print_Function(self, expr, exp=None):
        return self.our.alone(super()._print_Function, expr, exp)

    def _print_Pow(self, expr):
        # A quantity written as a fraction (∂E/∂w5) is parenthesised under a power, as SymPy does for x^{+}.
        if expr.base.is_Symbol and self.our.number(expr.base) is None and r"\frac" in self._print(expr.base):
            return rf"\left({self._print(expr.base)}\right)^{{{self._print(expr.exp)}}}"
        return super()._print_Pow(expr)

    def _print_Mul(self, expr):
        written = _in_order(self, expr, self._settings["mul_symbol_latex"],
                            lambda left, base: rf"\frac{{{left}}}{{{self._print(base)}}}")
        return super()._print_Mul(expr) if written is None else written

    def _print_ShownBase(self, expr, exp=None):
        argument = self.our.alone(self._print, expr.args[0]) if expr.args[0].is_Symbol else \
            self._print(expr.args[0])
        body = rf"{self.our.function_name(expr, latex=True)}\left({argument}\right)"
        return body if exp is None else rf"{body}^{{{exp}}}"

    def _print_Summed(self, expr, exp=None):
        index, body = expr.args
        return rf"\sum_{{{self._print(index)}}} {self._print(body)}"

    def _print_Add(self, expr, order=None):
        signed = _signed_sum(self, expr, "-")
        return super()._print_Add(expr, order) if signed is None else signed

    def _print_Float(self, expr):
        return latex_number(format_number(expr, self.our.digits))

    def _print_ExpBase(self, expr, exp=None):
        if self.our.notation.writes_exp_as_e():
            return super()._print_ExpBase(expr, exp)
        return self._do_exponent(rf"\exp\left({self._print(expr.args[0])}\right)", exp)

    def _print(self, expr, **kwargs):
        # Euler's number prints itself as e (its own _latex method comes before any _print_ method): where the
        # network names something e, write it exp(1).
        if expr is sympy.E and not self.our.notation.writes_exp_as_e():
            return self._do_exponent(r"\exp\left(1\right)", kwargs.get("exp"))
        return super()._print(expr, **kwargs)


def _unevaluated(product) -> bool:
    """Return True for a product with no number factor (flattening it keeps its value and its signs)."""
    return not any(factor.is_number for factor in product.args)


class MathTextPrinter(StrPrinter):
    """Plain Unicode text with our notation; with values, numbers in place of symbols."""

    def __init__(self, notation: Notation, values: Mapping | None = None, digits: int = 9, exact: bool = False,
                 decimals: bool = False, as_written: bool = False):
        super().__init__({"order": "none"})
        self.our = _Settings(notation, values, digits, exact, decimals, as_written)

    def _print_Rational(self, expr):
        decimal = self.our.decimal(expr)
        return text_number(decimal) if decimal is not None else super()._print_Rational(expr)

    def doprint(self, expr):
        return self.our.alone(super().doprint, expr) if expr.is_Symbol else super().doprint(expr)

    def _print_Symbol(self, expr):
        number = self.our.number(expr)
        if number is not None:
            written = text_number(number)
            return f"({written})" if number.startswith("-") and not self.our.bare else written
        return self.our.notation.text(expr)

    _print_Dummy = _print_Symbol  # a number written in a claim, as a symbol of its own (values: its value)

    def _print_Function(self, expr):
        return self.our.alone(super()._print_Function, expr)

    def _print_ShownBase(self, expr):
        argument = self.our.alone(self._print, expr.args[0]) if expr.args[0].is_Symbol else \
            self._print(expr.args[0])
        return f"{self.our.function_name(expr, latex=False)}({argument})"

    def _print_Summed(self, expr):
        index, body = expr.args
        return f"Σ_{self._print(index)} {self._print(body)}"

    def _print_Add(self, expr, order=None):
        signed = _signed_sum(self, expr, "-")
        return super()._print_Add(expr, order) if signed is None else signed

    def _print_Mul(self, expr):
        written = _in_order(self, expr, "·", lambda left, base: f"{left}/{self.parenthesize(base, PRECEDENCE['Mul'], strict=False)}")
        if written is not None:
            return written
        # A product written unevaluated may hold products: print it flat, a·b·c, not a·(b·c).
        factors = [f for factor in expr.args for f in (factor.args if factor.is_Mul and _unevaluated(factor)
                                                        else (factor,))]
        if len(factors) != len(expr.args):
            expr = sympy.Mul(*factors, evaluate=False)
        return super()._print_Mul(expr).replace("*", "·")

    def _print_Pow(self, expr, rational=False):
        if expr.base.is_Symbol and self.our.number(expr.base) is None and "/" in self._print(expr.base):
            return f"({self._print(expr.base)})^{self.parenthesize(expr.exp, PRECEDENCE['Pow'])}"
        return super()._print_Pow(expr, rational).replace("**", "^")

    def _print_Float(self, expr):
        return text_number(format_number(expr, self.our.digits))

    def _print_Exp1(self, expr):
        # Euler's number: SymPy writes E, which is the loss here.
        return "e" if self.our.notation.writes_exp_as_e() else "exp(1)"

    def _print_Abs(self, expr):
        return f"|{self._print(expr.args[0])}|"

    def _print_Piecewise(self, expr):
        pieces = [f"{self._print(value)} if {self._print(condition)}" for value, condition in expr.args[:-1]]
        last_value, last_condition = expr.args[-1]
        tail = f"{self._print(last_value)} otherwise" if last_condition == sympy.true else \
            f"{self._print(last_value)} if {self._print(last_condition)}"
        return "(" + "; ".join(pieces + [tail]) + ")"
