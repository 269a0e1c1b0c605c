"""MathML for the HTML documents: LaTeX converted by latex2mathml, then tidied for the browser.

The browser lays the MathML out itself (MathML Core; no script, no network
access). latex2mathml's output is tidied so that it reads as it would in
print:

* a fence from ``\\left( ... \\right)`` is stretchy only when what it encloses
  is taller than a line (a fraction, a sum, a table, a root): a
  stretchy operator's box in MathML Core is as wide as its widest size
  variant, which shows as a space inside and before the parenthesis, as in
  ``σ ( net )``;
* a sign after an operator (a ``∑_k`` too) or an opening parenthesis, as in
  ``(−0.5)`` or ``= −0.5``, is a prefix operator, not spaced as a binary
  minus;
* a prime ``f'`` follows its base on the line: the character is drawn raised
  already, and as a superscript it would shrink to a speck;
* a function name written ``\\operatorname{ReLU}`` (an ``<mo>``, spaced as an
  operator) becomes an ``<mi>``, and ``\\mathrm{net}`` one ``<mi>net</mi>``
  rather than a letter each;
* the text is serialized with XML escaping (latex2mathml's own serialization
  turns an escaped ``<`` back into markup).

A chain ``lhs = form = ... = value`` becomes one ``<mtable>``: the left-hand
side right-aligned in the first column, each ``= form`` in the second, so
that every ``=`` stands at the same place (the CSS in
templates/html/base.html.j2 aligns the columns, as Chromium ignores
``columnalign``).

The LaTeX that derive's printers write (fractions, scripts, fences, names,
Greek letters, cases) is converted by a small reader here, which builds the
tree latex2mathml would build (a test compares the two on every example's
formulas); anything else it does not know, it hands to latex2mathml, which is
imported only then (its import alone costs more than converting a document).
"""
from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from xml.etree.ElementTree import Element, SubElement, tostring


def _converter():
    """Return latex2mathml's converter, imported on first use: only HTML documents need it, and importing it
    costs more than rendering a whole Markdown document."""
    import latex2mathml.converter
    return latex2mathml.converter


# What makes the content of a fence taller than a line of text: these elements, or a large operator.
_TALL = frozenset({"mfrac", "munder", "mover", "munderover", "mtable", "msqrt", "mroot"})
_LARGE = frozenset("\u2211\u220f\u222b\u22c3\u22c2")
_SIGNS = frozenset("+\u2212-\u00b1")
_CLOSING = frozenset(")]}|\u2016\u27e9")
_PRIMES = frozenset("\u2032\u2033\u2034")
_SCRIPTED = frozenset({"msub", "msup", "msubsup", "munder", "mover", "munderover"})


def mathml(latex: str | Sequence[str], display: bool = False) -> str:
    """Return LaTeX mathematics as MathML, which browsers lay out without any script or network access.

    `latex` is one formula, or a chain (lhs, form, ..., value) written
    lhs = form = ... = value with one ``=`` a row, aligned (a block whatever
    `display` says). Entity references are written as characters and text
    is escaped.
    """
    if isinstance(latex, str):
        return _formula(latex, bool(display))
    return _chain(tuple(latex))


@lru_cache(maxsize=4096)
def _formula(latex: str, display: bool) -> str:
    """Return one formula as MathML (a pure function of its LaTeX: the same name or number is converted once)."""
    return tostring(convert(latex, "block" if display else "inline"), encoding="unicode")


def convert(latex: str, display: str = "inline") -> Element:
    """Return the tidied <math> element of one LaTeX formula (`display` "block" or "inline")."""
    try:
        return _tidy(_Reader(latex, display == "block").math(display), unescape=False)
    except _Unknown:
        return _tidy(_converter().convert_to_element(latex, display=display))


@lru_cache(maxsize=1024)
def _chain(parts: tuple[str, ...]) -> str:
    return tostring(chain(list(parts)), encoding="unicode")


def chain(parts: list[str]) -> Element:
    """Return the block <math> of the chain parts[0] = parts[1] = ...: a table of two columns, one row a `=`."""
    if len(parts) < 2:
        raise ValueError("a chain has a left-hand side and at least one form")
    cells = [convert(part, "block") for part in parts]
    root = Element("math", {"xmlns": "http://www.w3.org/1998/Math/MathML", "display": "block", "class": "chain"})
    table = SubElement(root, "mtable", {"displaystyle": "true"})
    for index, cell in enumerate(cells[1:]):
        row = SubElement(table, "mtr")
        left = SubElement(row, "mtd")
        if index == 0:
            left.extend(list(cells[0]))
        right = SubElement(SubElement(row, "mtd"), "mrow")
        SubElement(right, "mo", {"form": "infix"}).text = "="
        right.extend(list(cell))
    return root


def _tidy(root: Element, unescape: bool = True) -> Element:
    """Return latex2mathml's tree tidied in place (see the module's docstring); latex2mathml writes characters
    as entity references, which `unescape` turns into the characters."""
    for element in root.iter():
        if element.text and unescape:
            element.text = html.unescape(element.text)
    for parent in list(root.iter()):
        children = list(parent)
        for child in children:
            if child.tag == "mo" and child.get("fence") == "true" and child.get("stretchy") == "true" \
                    and not any(e.tag in _TALL or e.text in _LARGE for e in parent.iter() if e is not parent):
                child.set("stretchy", "false")
            elif child.tag == "mo" and child.text and len(child.text) > 1 and child.text.isalpha():
                child.tag = "mi"  # \operatorname{ReLU}: a name, not an operator
            if child.tag == "msup" and len(child) == 2 and len(child[1]) == 0 and child[1].text \
                    and set(child[1].text) <= _PRIMES:
                child.tag, child.attrib = "mrow", {}  # f′: a prime is drawn raised already; as a script it shrinks
                child[1].tag, child[1].attrib = "mo", {"lspace": "0", "rspace": "0"}
        for before, child in zip(children, children[1:]):
            if child.tag == "mo" and child.text in _SIGNS and "form" not in child.attrib \
                    and _operator(before) is not None and _operator(before).text not in _CLOSING:
                child.set("form", "prefix")  # the sign of (−0.5) or = −0.5, not a binary minus
        if parent.tag == "mrow" and len(children) > 1 and all(
                c.tag == "mi" and c.get("mathvariant") == "normal" and len(c) == 0 and c.text and len(c.text) == 1
                and c.text.isalpha() for c in children):
            word = "".join(c.text for c in children)
            for c in children:
                parent.remove(c)
            SubElement(parent, "mi").text = word  # \mathrm{net}: a multi-letter <mi> is upright
    return root


def _operator(element: Element) -> Element | None:
    """Return the <mo> of an operator, embellished (the ∑ of ∑_k) or not; None for anything else."""
    while element.tag in _SCRIPTED and len(element):
        element = element[0]
    return element if element.tag == "mo" else None


# --- the reader of derive's own LaTeX ------------------------------------------------------------------

class _Unknown(Exception):
    """LaTeX the reader does not know: latex2mathml converts it instead."""


_GREEK = ("alpha beta gamma delta zeta eta theta iota kappa lambda mu nu xi pi rho sigma tau upsilon chi psi omega "
          "Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega").split()


def _greek() -> dict[str, str]:
    """Return the Greek letters' commands and characters (ϵ and ϕ, whose forms vary, are left to latex2mathml)."""
    return {name: unicodedata.lookup(f"GREEK {'CAPITAL' if name[0].isupper() else 'SMALL'} LETTER "
                                     f"{name.upper().replace('LAMBDA', 'LAMDA')}") for name in _GREEK}


_IDENTIFIERS = {**_greek(), "_": "_"}  # \delta → <mi>δ</mi>; \_ in a name
_OPERATORS = {"partial": "\u2202", "cdot": "\u00b7", "times": "\u00d7", "sum": "\u2211", "geq": "\u2265",
              "leq": "\u2264", "neq": "\u2260", "approx": "\u2248", "infty": "\u221e", "max": "max", "min": "min"}
_NAMES = frozenset({"sin", "cos", "tan", "sinh", "cosh", "tanh", "arcsin", "arccos", "arctan", "log", "ln", "exp"})
_SPACES = {",": "0.167em", ":": "0.222em", ";": "0.278em", "quad": "1em"}
_CHARACTERS = {"+": "+", "-": "\u2212", "=": "=", ",": ",", "<": "<", ">": ">", "/": "/"}
_FENCES = {"(": "(", ")": ")", "[": "[", "]": "]", "|": "|", r"\{": "{", r"\}": "}"}
_PRIME_MARKS = {1: "\u2032", 2: "\u2033", 3: "\u2034"}
_TOKEN = re.compile(r"\\[A-Za-z]+|\\[^A-Za-z]|[0-9]+(?:\.[0-9]+)?(?![0-9.])|\s+|.", re.DOTALL)


class _Reader:
    """Read derive's LaTeX into the MathML tree latex2mathml builds for it; raise _Unknown for anything else."""

    def __init__(self, latex: str, block: bool):
        self.tokens = _TOKEN.findall(latex)  # spaces are tokens too: they matter only in \text
        self.position = 0
        self.block = block
        self.depth = 0  # braces and fences around the current token: a ∑ takes its limits below only outside them

    def math(self, display: str) -> Element:
        root = Element("math", {"xmlns": "http://www.w3.org/1998/Math/MathML", "display": display})
        row = SubElement(root, "mrow")
        row.extend(self.sequence(()))
        if self.peek() is not None:
            raise _Unknown
        return root

    def peek(self) -> str | None:
        while self.position < len(self.tokens) and self.tokens[self.position].isspace():
            self.position += 1
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self) -> str:
        token = self.peek()
        if token is None:
            raise _Unknown
        self.position += 1
        return token

    def sequence(self, stops: tuple[str, ...]) -> list[Element]:
        elements = []
        while self.peek() is not None and self.peek() not in stops:
            elements.append(self.scripted())
        return elements

    def group(self) -> list[Element]:
        """Return the elements of a {…} group."""
        if self.take() != "{":
            raise _Unknown
        self.depth += 1
        elements = self.sequence(("}",))
        self.depth -= 1
        if self.take() != "}":
            raise _Unknown
        return elements

    def row(self, elements: list[Element], tag: str = "mrow") -> Element:
        element = Element(tag)
        element.extend(elements)
        return element

    def script(self) -> Element:
        return self.row(self.group()) if self.peek() == "{" else self.atom()

    def scripted(self) -> Element:
        base = self.atom()
        sub = sup = None
        primes = 0
        while self.peek() in ("_", "^", "'"):
            token = self.take()
            if token == "'":
                if sub is not None or sup is not None:
                    raise _Unknown
                primes += 1
            elif token == "_" and sub is None and not primes:
                sub = self.script()
            elif token == "^" and sup is None and not primes:
                sup = self.script()
            else:
                raise _Unknown
        if primes:
            if primes not in _PRIME_MARKS:
                raise _Unknown
            return self.row([base, self.leaf("mi", _PRIME_MARKS[primes])], "msup")
        if sub is None and sup is None:
            return base
        if base.tag == "mo" and base.text != "\u2211":
            raise _Unknown
        if base.tag == "mo" and self.block and not self.depth:
            tag = "munderover" if sub is not None and sup is not None else "munder" if sub is not None else "mover"
            if tag != "munder":
                raise _Unknown
        else:
            tag = "msubsup" if sub is not None and sup is not None else "msub" if sub is not None else "msup"
        return self.row([base] + [part for part in (sub, sup) if part is not None], tag)

    @staticmethod
    def leaf(tag: str, text: str, **attributes: str) -> Element:
        element = Element(tag, attributes)
        element.text = text
        return element

    def atom(self) -> Element:
        token = self.take()
        if token == "{":
            self.position -= 1
            return self.row(self.group())
        if token[0].isdigit():
            return self.leaf("mn", token)
        if len(token) == 1 and token.isascii() and token.isalpha():
            return self.leaf("mi", token)
        if token in _CHARACTERS:
            return self.leaf("mo", _CHARACTERS[token])
        if token in "()":
            return self.leaf("mo", token, stretchy="false")
        if not token.startswith("\\"):
            raise _Unknown
        name = token[1:]
        if name in _IDENTIFIERS:
            return self.leaf("mi", _IDENTIFIERS[name])
        if name in _OPERATORS:
            return self.leaf("mo", _OPERATORS[name])
        if name in _NAMES:
            return self.leaf("mi", name)
        if name in _SPACES:
            return Element("mspace", {"width": _SPACES[name]})
        if name == "frac":
            numerator, denominator = self.group(), self.group()
            return self.row([self.row(numerator), self.row(denominator)], "mfrac")
        if name == "sqrt":
            return self.row([self.row(self.group())], "msqrt")
        if name == "left":
            return self.fenced()
        if name in ("mathrm", "operatorname", "text"):
            return self.words(name)
        if name == "begin":
            return self.cases()
        raise _Unknown

    def fenced(self) -> Element:
        opening = self.take()
        if opening not in _FENCES:
            raise _Unknown
        self.depth += 1
        inside = self.sequence((r"\right",))
        self.depth -= 1
        self.take()
        closing = self.take()
        if closing not in _FENCES:
            raise _Unknown
        fence = {"stretchy": "true", "fence": "true"}
        return self.row([self.leaf("mo", _FENCES[opening], **fence, form="prefix"), *inside,
                         self.leaf("mo", _FENCES[closing], **fence, form="postfix")])

    def raw_group(self) -> str:
        """Return the text of a {…} group of letters and digits (\\_ read as _); a space in it is _Unknown."""
        if self.take() != "{":
            raise _Unknown
        text = []
        while self.position < len(self.tokens) and self.tokens[self.position] != "}":
            token = self.tokens[self.position]
            self.position += 1
            if token == r"\_":
                token = "_"
            elif not re.fullmatch(r"[A-Za-z0-9.]+", token):
                raise _Unknown
            text.append(token)
        self.take()
        return "".join(text)

    def words(self, command: str) -> Element:
        if command == "text":
            text = self.raw_group()
            if not text:
                raise _Unknown
            return self.leaf("mtext", text)
        text = self.raw_group()
        if command == "operatorname":
            if not text.isalpha():
                raise _Unknown
            return self.leaf("mo", text)
        if not text or "." in text:
            raise _Unknown
        if len(text) == 1:
            return self.leaf("mn" if text.isdigit() else "mi", text)
        return self.row([self.leaf("mn", part) if part[0].isdigit() else self.leaf("mi", part, mathvariant="normal")
                         for part in re.findall(r"[0-9]+|[^0-9]", text)])

    def cases(self) -> Element:
        if self.raw_group() != "cases":
            raise _Unknown
        table = Element("mtable")
        while True:
            row = SubElement(table, "mtr")
            while True:
                SubElement(row, "mtd", {"columnalign": "left"}).extend(self.sequence(("&", r"\\", r"\end")))
                if self.peek() != "&":
                    break
                self.take()
            token = self.take()
            if token == r"\end":
                break
            if token != r"\\":
                raise _Unknown
        if self.raw_group() != "cases":
            raise _Unknown
        fence = {"stretchy": "true", "fence": "true", "form": "prefix"}
        return self.row([self.leaf("mo", "{", **fence), table])


__all__ = ["mathml", "chain", "convert"]
