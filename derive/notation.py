"""How quantities are written: `named` (net_{h1}, w_5, as the classic example) or `index` (net_4, w_{41}, δ_k).

Names reaching here were validated by the spec reader (letters, digits,
underscores), so the only character LaTeX needs escaped is the underscore.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import sympy

from .network import Network, describe

STYLES = ("named", "index")
GREEK = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "zeta": "ζ", "eta": "η",
    "theta": "θ", "kappa": "κ", "lambda": "λ", "mu": "μ", "nu": "ν", "xi": "ξ", "rho": "ρ",
    "sigma": "σ", "tau": "τ", "phi": "φ", "chi": "χ", "psi": "ψ", "omega": "ω",
}
_LOCAL_LETTERS = ("z", "u", "v", "s", "p", "q", "r")
_TRAILING_DIGITS = re.compile(r"([A-Za-z]+?)(\d+)\Z")


def _latex_base(base: str) -> str:
    if base in GREEK:
        return "\\" + base
    return base if len(base) == 1 else r"\mathrm{" + base + "}"


def latex_name(name: str) -> str:
    """Return a name as LaTeX: w5 → w_{5}, w_h1_i1 → w_{h1,i1}, alpha → \\alpha."""
    if "_" in name:
        base, *rest = name.split("_")
        return f"{_latex_base(base)}_{{{','.join(rest)}}}" if base else name.replace("_", r"\_")
    match = _TRAILING_DIGITS.match(name)
    if match:
        return f"{_latex_base(match.group(1))}_{{{match.group(2)}}}"
    return _latex_base(name)


def text_name(name: str) -> str:
    """Return a name as plain text, Greek names as letters: eta → η."""
    return GREEK.get(name, name)


@dataclass(frozen=True)
class Notation:
    """Writes every quantity of one network in one style, in LaTeX and in plain text."""

    network: Network
    style: str = "named"

    def __post_init__(self):
        if self.style not in STYLES:
            raise ValueError(f"unknown notation {self.style!r}; use one of {', '.join(STYLES)}")

    # labels ---------------------------------------------------------------
    def _unit(self, name: str, latex: bool) -> str:
        if self.style == "index":
            return str(self._numbers()[name])
        return name.replace("_", r"\_") if latex else name

    def _numbers(self) -> dict[str, int]:
        numbers = {name: position for position, (name, _) in enumerate(self.network.inputs, start=1)}
        numbers.update({unit.name: unit.number for unit in self.network.units})
        return numbers

    def _parameter(self, name: str, latex: bool) -> str:
        if self.style == "index":
            placed = self.index_parameters().get(name)
            if placed:
                base, indices = placed
                if latex:
                    joined = ("," if any(len(i) > 1 for i in indices) else "").join(indices)
                    return f"{base}_{{{joined}}}"
                return f"{base}_{''.join(indices) if all(len(i) == 1 for i in indices) else ','.join(indices)}"
        return latex_name(name) if latex else text_name(name)

    def index_parameters(self) -> dict[str, tuple[str, tuple[str, ...]]]:
        """Return parameter name -> (w or b, unit numbers) for parameters used in exactly one place."""
        numbers, uses, placed = self._numbers(), {}, {}
        for unit in self.network.units:
            for connection in unit.connections:
                uses.setdefault(connection.weight.name, []).append(
                    ("w", (str(unit.number), str(numbers[connection.source]))))
            if unit.bias:
                uses.setdefault(unit.bias.name, []).append(("b", (str(unit.number),)))
        for name, places in uses.items():
            if len(places) == 1:
                placed[name] = places[0]
        return placed

    def _subject(self, kind: str, subject: str, latex: bool) -> str:
        if kind in ("param", "new", "dE/d"):
            return self._parameter(subject, latex)
        return self._unit(subject, latex)

    # symbols --------------------------------------------------------------
    def latex(self, symbol: sympy.Symbol) -> str:
        """Return the LaTeX for a quantity symbol."""
        return self._write(symbol, latex=True)

    def text(self, symbol: sympy.Symbol) -> str:
        """Return the plain-text (Unicode) form of a quantity symbol."""
        return self._write(symbol, latex=False)

    def _write(self, symbol: sympy.Symbol, latex: bool) -> str:
        name = describe(symbol)
        kind, subjects = name.kind, name.subjects
        word = (lambda w: rf"\mathrm{{{w}}}") if latex else (lambda w: w)
        sub = (lambda body, s: f"{body}_{{{s}}}") if latex else (lambda body, s: f"{body}_{s}")
        unit = lambda s: self._unit(s, latex)  # noqa: E731
        partial = (lambda top, bottom: rf"\frac{{\partial {top}}}{{\partial {bottom}}}") if latex else (
            lambda top, bottom: f"∂{top}/∂{bottom}")
        plus = (lambda body: f"{body}^{{+}}") if latex else (lambda body: f"{body}⁺")
        loss = "E" if self.style == "index" else sub("E", word("total"))
        if kind == "input":
            if self.style == "index":
                return sub("x", unit(subjects[0]))
            return latex_name(subjects[0]) if latex else subjects[0]
        if kind == "param":
            return self._parameter(subjects[0], latex)
        if kind in ("net", "out"):
            return sub(word(kind), unit(subjects[0]))
        if kind == "target":
            return sub("t" if self.style == "index" else word("target"), unit(subjects[0]))
        if kind == "E":
            return sub("E", unit(subjects[0])) if subjects else loss
        if kind == "eta":
            return r"\eta" if latex else "η"
        if kind == "delta":
            return sub(r"\delta" if latex else "δ", unit(subjects[0]))
        if kind == "dE/dout":
            return partial("E", sub(word("out"), unit(subjects[0])))
        if kind == "dout/dnet":
            m, k = (subjects * 2)[:2]
            return partial(sub(word("out"), unit(m)), sub(word("net"), unit(k)))
        if kind == "dnet/dparam":
            return partial(sub(word("net"), unit(subjects[0])), self._parameter(subjects[1], latex))
        if kind == "dE/d":
            return partial("E", self._parameter(subjects[0], latex))
        if kind == "new":
            return plus(self._parameter(subjects[0], latex))
        if kind == "after":
            if subjects[0] == "E":
                return plus(sub("E", unit(subjects[1])) if len(subjects) > 1 else loss)
            return plus(sub(word(subjects[0]), unit(subjects[1])))
        # A formula's own variable (x, o, t): local to its formula, renamed when the network uses the letter.
        local = self.local_names().get(symbol.name, symbol.name)
        return latex_name(local) if latex else text_name(local)

    def names(self) -> set[str]:
        """Return every name the network gives: inputs, units and parameters."""
        network = self.network
        return ({name for name, _ in network.inputs} | {unit.name for unit in network.units}
                | {parameter.name for parameter in network.parameters})

    def local_names(self) -> dict[str, str]:
        """Return how the catalogue's formula variables (x; o and t) are written here: as themselves, or,
        when the network names something x, o or t, as the first free letter of _LOCAL_LETTERS."""
        taken, written = self.names(), {}
        for variable in ("x", "o", "t"):
            letter = next(c for c in (variable, *_LOCAL_LETTERS) if c not in taken and c not in written.values())
            written[variable] = letter
        return written

    def writes_exp_as_e(self) -> bool:
        """Return False when e^{…} could be read as the network's own e (an input or parameter named e)."""
        return "e" not in self.names()

    def activation(self, layer: int, latex: bool) -> str:
        """Return the name of layer `layer`'s activation function (σ, tanh, f, ...)."""
        activation = self.network.layers[layer - 1].activation
        return activation.latex_name if latex else activation.text_name
