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
"""
from __future__ import annotations

import html
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
    element = _tidy(_converter().convert_to_element(latex, display="block" if display else "inline"))
    return tostring(element, encoding="unicode")


@lru_cache(maxsize=1024)
def _chain(parts: tuple[str, ...]) -> str:
    return tostring(chain(list(parts)), encoding="unicode")


def chain(parts: list[str]) -> Element:
    """Return the block <math> of the chain parts[0] = parts[1] = ...: a table of two columns, one row a `=`."""
    if len(parts) < 2:
        raise ValueError("a chain has a left-hand side and at least one form")
    cells = [_tidy(_converter().convert_to_element(part, display="block")) for part in parts]
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


def _tidy(root: Element) -> Element:
    """Return latex2mathml's tree tidied in place (see the module's docstring)."""
    for element in root.iter():
        if element.text:
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


__all__ = ["mathml", "chain"]
