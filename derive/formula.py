"""A small, safe grammar for formulas typed into network files.

Text is tokenised and parsed by a precedence-climbing parser that builds SymPy
objects directly: nothing is passed to ``eval``, ``sympify`` or ``parse_expr``.
Only the variables the caller allows and a whitelist of functions are accepted.

Grammar (usual precedence; ``^`` and ``**`` bind right to left)::

    expr    := term (('+' | '-') term)*
    term    := unary (('*' | '/') unary)*
    unary   := ('-' | '+') unary | power
    power   := atom (('^' | '**') unary)?
    atom    := NUMBER | NAME | NAME '(' expr (',' expr)* ')' | '(' expr ')'
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Mapping

import sympy

from .errors import FormulaError, Phrase

MAX_LENGTH = 500
MAX_DEPTH = 40
MAX_EXPONENT = 100
# Every number a formula writes or builds from numbers alone (10^6, exp(3)) lies within ±MAX_NUMBER, so
# no formula asks for numbers too large to compute with; how large values get at the sample is
# bounded where they are evaluated (derive.numbers).
MAX_NUMBER = sympy.Integer(10) ** 12
_MAX_LITERAL_EXPONENT = 100


def _sigmoid(x):
    return 1 / (1 + sympy.exp(-x))


# name -> (number of arguments, builder). Each builder returns an ordinary SymPy
# expression, so SymPy differentiates it like any other.
FUNCTIONS: Mapping[str, tuple[int, Callable]] = {
    "exp": (1, sympy.exp),
    "log": (1, sympy.log),
    "ln": (1, sympy.log),
    "sqrt": (1, sympy.sqrt),
    "abs": (1, sympy.Abs),
    "sign": (1, sympy.sign),
    "tanh": (1, sympy.tanh),
    "sinh": (1, sympy.sinh),
    "cosh": (1, sympy.cosh),
    "sech": (1, sympy.sech),
    "sin": (1, sympy.sin),
    "cos": (1, sympy.cos),
    "atan": (1, sympy.atan),
    "arctan": (1, sympy.atan),
    "erf": (1, sympy.erf),
    "sigmoid": (1, _sigmoid),
    "max": (2, sympy.Max),
    "min": (2, sympy.Min),
}
CONSTANTS: Mapping[str, sympy.Expr] = {"pi": sympy.pi, "e": sympy.E}

_TOKEN = re.compile(r"\s*(?:(\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)|([A-Za-z_][A-Za-z0-9_]*)|(\*\*|[-+*/^(),]))")


@dataclass(frozen=True)
class _Token:
    kind: str  # "number", "name", "op", "end"
    text: str
    position: int


def _tokenise(text: str) -> list[_Token]:
    tokens, position = [], 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if not match:
            character = text[position:].lstrip()[:1]
            raise FormulaError("error_formula_character", character=character, position=position + 1, formula=text)
        number, name, op = match.groups()
        kind, value = ("number", number) if number else ("name", name) if name else ("op", op)
        tokens.append(_Token(kind, value, match.start(match.lastindex) + 1))
        position = match.end()
    tokens.append(_Token("end", "", len(text) + 1))
    return tokens


class _Parser:
    def __init__(self, text: str, variables: Mapping[str, sympy.Symbol]):
        self.text = text
        self.tokens = _tokenise(text)
        self.index = 0
        self.variables = variables
        self.depth = 0

    def fail(self, key: str, **fields) -> FormulaError:
        """Return the error `key` (a catalogue key, filled in with `fields`) at the current token."""
        token = self.tokens[self.index]
        return FormulaError("error_formula_at", problem=Phrase(key, **fields), position=token.position,
                            formula=self.text)

    @property
    def current(self) -> _Token:
        return self.tokens[self.index]

    def take(self, text: str | None = None) -> _Token | None:
        token = self.current
        if token.kind != "end" and (text is None or token.text == text):
            self.index += 1
            return token
        return None

    def expect(self, text: str) -> None:
        if not self.take(text):
            found = self.current.text or Phrase("error_formula_end")
            raise self.fail("error_formula_expected", expected=text, found=found)

    def parse(self) -> sympy.Expr:
        result = self.expression()
        if self.current.kind != "end":
            raise self.fail("error_formula_unexpected", token=self.current.text)
        return result

    def expression(self) -> sympy.Expr:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.fail("error_formula_too_deep")
        result = self.term()
        while self.current.text in ("+", "-"):
            op = self.take().text
            right = self.term()
            result = self.bounded(result + right if op == "+" else result - right)
        self.depth -= 1
        return result

    def term(self) -> sympy.Expr:
        result = self.unary()
        while self.current.text in ("*", "/"):
            op = self.take().text
            right = self.unary()
            if op == "/" and right == 0:
                raise self.fail("error_formula_division_by_zero")
            result = self.bounded(result * right if op == "*" else result / right)
        return result

    def unary(self) -> sympy.Expr:
        if self.take("-"):
            return -self.unary()
        if self.take("+"):
            return self.unary()
        return self.power()

    def power(self) -> sympy.Expr:
        base = self.atom()
        if self.current.text in ("^", "**"):
            self.take()
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise self.fail("error_formula_too_deep")
            exponent = self.unary()
            self.depth -= 1
            if exponent.is_number and abs(exponent) > MAX_EXPONENT:
                raise self.fail("error_formula_exponent", limit=MAX_EXPONENT)
            return self.bounded(base ** exponent)
        return base

    def bounded(self, value: sympy.Expr) -> sympy.Expr:
        """Return a number the formula built, or fail when it is not a finite real within ±MAX_NUMBER."""
        if value.is_number:
            approximate = value.evalf(15)
            if not (approximate.is_real and approximate.is_finite) or abs(approximate) > MAX_NUMBER:
                raise self.fail("error_formula_out_of_bounds")
        return value

    def atom(self) -> sympy.Expr:
        token = self.current
        if token.kind == "number":
            self.take()
            _, _, exponent = token.text.lower().partition("e")
            if exponent and abs(int(exponent)) > _MAX_LITERAL_EXPONENT:
                raise self.fail("error_formula_number_range", number=token.text[:20])
            return self.bounded(sympy.Rational(token.text))
        if token.text == "(":
            self.take()
            inner = self.expression()
            self.expect(")")
            return inner
        if token.kind == "name":
            self.take()
            if self.current.text == "(":
                return self.call(token)
            if token.text in self.variables:
                return self.variables[token.text]
            if token.text in CONSTANTS:
                return CONSTANTS[token.text]
            allowed = ", ".join(sorted(self.variables))
            raise FormulaError("error_formula_unknown_name", name=token.text, position=token.position,
                               formula=self.text, allowed=allowed)
        raise self.fail("error_formula_unexpected", token=token.text or Phrase("error_formula_end"))

    def call(self, name: _Token) -> sympy.Expr:
        if name.text not in FUNCTIONS:
            known = ", ".join(sorted(FUNCTIONS))
            raise FormulaError("error_formula_unknown_function", name=name.text, position=name.position,
                               formula=self.text, known=known)
        arity, build = FUNCTIONS[name.text]
        self.expect("(")
        arguments = [self.expression()]
        while self.take(","):
            arguments.append(self.expression())
        self.expect(")")
        if len(arguments) != arity:
            raise FormulaError("error_formula_arguments", name=name.text, arity=arity, count=len(arguments),
                               formula=self.text)
        return self.bounded(build(*arguments))


def parse_formula(text: str, variables: Mapping[str, sympy.Symbol]) -> sympy.Expr:
    """Return the SymPy expression for `text`, using only `variables` and the whitelisted functions.

    Raises FormulaError, with the position, for anything outside the grammar.
    """
    if not isinstance(text, str) or not text.strip():
        raise FormulaError("error_formula_empty")
    if len(text) > MAX_LENGTH:
        raise FormulaError("error_formula_too_long", limit=MAX_LENGTH)
    return _Parser(text, variables).parse()
