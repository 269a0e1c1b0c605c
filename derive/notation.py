"""How quantities are written: `named` (net_{h1}, w_5, as the classic example) or `index` (net_4, w_{41}, δ_k).

Names reaching here were validated by the spec reader (letters, digits,
underscores), so the only character LaTeX needs escaped is the underscore.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

import sympy

from .rules import HYPERPARAMETERS, RULE_NAMES
from .network import Network
from .quantities import KINDS, STYLES, QuantitySymbol

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


def _rule_name(name: str, latex: bool) -> str:
    """Return a name of an update rule's formulas (a hyper-parameter, a state, a line) as the catalogue writes it."""
    written = HYPERPARAMETERS.get(name) or RULE_NAMES[name]
    return written[0] if latex else written[1]


def text_name(name: str) -> str:
    """Return a name as plain text, Greek names as letters: eta → η."""
    return GREEK.get(name, name)


@dataclass(frozen=True)
class Notation:
    """Writes every quantity of one network in one style, in LaTeX and in plain text.

    The form of each kind of quantity is declared in :mod:`derive.quantities`;
    this fills in its subjects as the style writes them: a unit by its name
    or, in index notation, its number; a parameter by its name or w_{41}.
    """

    network: Network
    style: str = "named"

    def __post_init__(self):
        if self.style not in STYLES:
            raise ValueError(f"unknown notation {self.style!r}; use one of {', '.join(STYLES)}")

    @cached_property
    def _numbers(self) -> dict[str, int]:
        return self.network.numbers()

    @cached_property
    def _places(self) -> dict[str, tuple[str, tuple[str, ...]]]:
        return self.network.single_places()

    # subjects -------------------------------------------------------------
    def _unit(self, name: str, latex: bool) -> str:
        if self.style == "index" and name in self._numbers:  # (not for the index letters of general formulas)
            return str(self._numbers[name])
        return name.replace("_", r"\_") if latex else name

    def _input(self, name: str, latex: bool) -> str:
        if self.style == "index":
            return str(self._numbers[name])
        return latex_name(name) if latex else name

    def _parameter(self, name: str, latex: bool) -> str:
        if self.style == "index" and name in self._places:
            base, indices = self._places[name]
            if latex:
                joined = ("," if any(len(i) > 1 for i in indices) else "").join(indices)
                return f"{base}_{{{joined}}}"
            return f"{base}_{''.join(indices) if all(len(i) == 1 for i in indices) else ','.join(indices)}"
        return latex_name(name) if latex else text_name(name)

    def unit(self, name: str, latex: bool = True) -> str:
        """Return how this style labels a unit or input: its name (h1) or, in index notation, its number (3)."""
        return self._unit(name, latex)

    def generic(self, kind: str, *letters: str, latex: bool = True) -> str:
        """Return a kind of quantity written for index letters rather than units: out_k, t_k, δ_j, w_{kj}."""
        written = KINDS[kind].written(self.style, latex)
        for position, letter in enumerate(letters):
            written = written.replace(f"<{position}>", letter)
        return written

    def index_parameters(self) -> dict[str, tuple[str, tuple[str, ...]]]:
        """Return parameter name -> (w or b, unit numbers) for parameters used in exactly one place."""
        return dict(self._places)

    # symbols --------------------------------------------------------------
    def latex(self, symbol: sympy.Symbol) -> str:
        """Return the LaTeX for a quantity symbol."""
        return self._write(symbol, latex=True)

    def text(self, symbol: sympy.Symbol) -> str:
        """Return the plain-text (Unicode) form of a quantity symbol."""
        return self._write(symbol, latex=False)

    def _write(self, symbol: sympy.Symbol, latex: bool) -> str:
        if not isinstance(symbol, QuantitySymbol):
            # A formula's own variable (x, o, t): local to its formula, renamed when the network uses the letter.
            local = self.local_names().get(symbol.name, symbol.name)
            return latex_name(local) if latex else text_name(local)
        kind = symbol.kind
        writers = {"unit": self._unit, "input": self._input, "param": self._parameter, "quantity": self._write,
                   "rule": _rule_name, "count": lambda count, latex: count}
        written = kind.written(self.style, latex)
        for position, (role, subject) in enumerate(zip(kind.roles, symbol.subjects)):
            written = written.replace(f"<{position}>", writers[role](subject, latex))
        return written

    def names(self) -> set[str]:
        """Return every name the network gives: inputs, units and parameters."""
        network = self.network
        return ({name for name, _ in network.inputs} | {unit.name for unit in network.units}
                | {parameter.name for parameter in network.parameters})

    def local_names(self) -> dict[str, str]:
        """Return how the catalogue's formula variables (x; o and t) are written here: as themselves, or,
        when the network names something x, o or t (or the update rule writes its step number t), as the
        first free letter of _LOCAL_LETTERS."""
        taken, written = self.names(), {}
        if "t" in self.network.rule.uses():  # the update rule writes the number of the update t (Adam)
            taken = taken | {"t"}
        for variable in ("x", "o", "t"):
            letter = next(c for c in (variable, *_LOCAL_LETTERS) if c not in taken and c not in written.values())
            written[variable] = letter
        return written

    def writes_exp_as_e(self) -> bool:
        """Return False when e^{…} could be read as the network's own e (an input or parameter named e)."""
        return "e" not in self.names()
