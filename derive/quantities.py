"""What a quantity is, declared once: its kind, how it is written in each notation and in claims.

Every value a derivation computes or is given is a :class:`QuantitySymbol`: a
SymPy symbol that carries its :class:`Kind` and its subjects (the unit or parameter
it is about). Code asks a quantity what it is (``q.kind is NET``,
``q.subjects``); nothing parses a symbol's name. A kind declares

* its subjects' roles (a unit, an input, a parameter),
* how it is written in each notation style (LaTeX and text, with ``<0>``,
  ``<1>`` standing for the subjects as that style writes them),
* how it is written in the claim language (``net_<0>``, ``dE/d<0>``) and the
  words a claim may use for it,
* the section and step kind of the derivation step that computes it, and
* the kind of its value after the update (``net`` → ``after_net``).

Adding a kind of quantity is one :func:`_declare` call here. The claim words
and the names reserved for them (refused as unit, input or parameter names,
with a reason) are below the registry.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import sympy

from .formula import CONSTANTS, FUNCTIONS
from .functions import ACTIVATION_ALIASES, ACTIVATIONS

STYLES = ("named", "index")


@dataclass(frozen=True, eq=False)
class Kind:
    """A kind of quantity. See the module docstring; `latex` and `text` map a style to its written form."""

    name: str
    roles: tuple[str, ...]
    latex: Mapping[str, str]
    text: Mapping[str, str]
    claim: str | None = None
    words: tuple[str, ...] = ()
    section: str | None = None
    updated: str | None = None     # the kind of this quantity's value after the update
    updates: str | None = None     # for an updated kind: the kind it is the updated value of
    what: str = ""                 # what it is, for messages: "the net"
    ask: str | None = None         # the word `derive handout --ask` uses for every quantity of this kind

    def __repr__(self) -> str:
        return f"Kind({self.name!r})"

    def written(self, style: str, latex: bool) -> str:
        """Return the written form in `style` (LaTeX or text), with <0>, <1> for the subjects."""
        return (self.latex if latex else self.text)[style]

    @property
    def after(self) -> "Kind | None":
        """Return the kind of this kind's value after the update, or None."""
        return KINDS[self.updated] if self.updated else None


KINDS: dict[str, Kind] = {}


def _declare(name: str, roles: tuple[str, ...], latex, text, **details) -> Kind:
    styles = lambda form: form if isinstance(form, dict) else {style: form for style in STYLES}  # noqa: E731
    kind = Kind(name, roles, styles(latex), styles(text), **details)
    KINDS[name] = kind
    return kind


def _updated_kind(of: Kind, name: str, section: str | None, claim: str | None, ask: str | None = None) -> Kind:
    """Declare the kind of `of`'s value after the update: written as `of` with a superscript +."""
    return _declare(name, of.roles, {s: f"{f}^{{+}}" for s, f in of.latex.items()},
                    {s: f"{f}⁺" for s, f in of.text.items()}, claim=claim, section=section, updates=of.name,
                    what=f"{of.what} after the update", ask=ask)


# The given quantities.
INPUT = _declare("input", ("input",), {"named": "<0>", "index": "x_{<0>}"}, {"named": "<0>", "index": "x_<0>"},
                 claim="<0>", what="the input")
PARAM = _declare("param", ("param",), "<0>", "<0>", claim="<0>", updated="update", what="the parameter")
TARGET = _declare("target", ("unit",), {"named": r"\mathrm{target}_{<0>}", "index": "t_{<0>}"},
                  {"named": "target_<0>", "index": "t_<0>"}, claim="target_<0>", words=("target", "t"),
                  what="the target")
ETA = _declare("eta", (), r"\eta", "η", claim="eta", what="the learning rate")
# The forward pass and the loss.
NET = _declare("net", ("unit",), r"\mathrm{net}_{<0>}", "net_<0>", claim="net_<0>", words=("net",),
               section="forward", updated="after_net", what="the net", ask="net")
OUT = _declare("out", ("unit",), r"\mathrm{out}_{<0>}", "out_<0>", claim="out_<0>", words=("out",),
               section="forward", updated="after_out", what="the output", ask="out")
LOSS_TERM = _declare("loss_term", ("unit",), "E_{<0>}", "E_<0>", claim="E_<0>", words=("E",), section="loss",
                     updated="after_loss_term", what="the loss term")
LOSS = _declare("loss", (), {"named": r"E_{\mathrm{total}}", "index": "E"}, {"named": "E_total", "index": "E"},
                claim="E", section="loss", updated="after_loss", what="the loss E", ask="E")
# The backward pass.
ERROR = _declare("dE_dout", ("unit",), r"\frac{\partial E}{\partial \mathrm{out}_{<0>}}", "∂E/∂out_<0>",
                 claim="dE/dout_<0>", section="backward", what="∂E/∂out")
SLOPE = _declare("activation_derivative", ("unit", "unit"),
                 r"\frac{\partial \mathrm{out}_{<0>}}{\partial \mathrm{net}_{<1>}}", "∂out_<0>/∂net_<1>",
                 claim="∂out_<0>/∂net_<1>", section="backward", what="∂out/∂net")
DELTA = _declare("delta", ("unit",), r"\delta_{<0>}", "δ_<0>", claim="delta_<0>", words=("delta",),
                 section="backward", what="the δ", ask="delta")
LOCAL = _declare("dnet_dparam", ("unit", "param"), r"\frac{\partial \mathrm{net}_{<0>}}{\partial <1>}",
                 "∂net_<0>/∂<1>", claim="dnet_<0>/d<1>", what="∂net/∂p")
# ∂A/∂B for any two quantities of the forward pass (∂net_o1/∂w5, ∂E_o1/∂out_h1): the derivative through
# the computational graph, B taken as a node of its own (derive.graph); its subjects are the two symbols.
PARTIAL = _declare("partial", ("quantity", "quantity"), r"\frac{\partial <0>}{\partial <1>}", "∂<0>/∂<1>",
                   claim="∂<0>/∂<1>", what="the derivative")
GRADIENT = _declare("gradient", ("param",), r"\frac{\partial E}{\partial <0>}", "∂E/∂<0>", claim="dE/d<0>",
                    section="backward", what="the gradient", ask="gradient")
# The update, and the forward pass after it.
UPDATE = _updated_kind(PARAM, "update", "update", "<0>_new", ask="update")
AFTER_NET = _updated_kind(NET, "after_net", None, "net_<0>_new")
AFTER_OUT = _updated_kind(OUT, "after_out", "after", "out_<0>_new")
AFTER_LOSS_TERM = _updated_kind(LOSS_TERM, "after_loss_term", None, "E_<0>_new")
AFTER_LOSS = _updated_kind(LOSS, "after_loss", "after", "E_new")
# An update rule's own quantities (derive.functions.UPDATE_RULES): its hyper-parameters and the number t of
# the update (given), each parameter's state (given before the update, 0 at the start; computed after it)
# and the values its lines compute on the way (m̂ of Adam). A "rule" subject is a name of the rule's
# formulas, written as the catalogue writes it (RULE_NAMES, HYPERPARAMETERS).
HYPER = _declare("hyper", ("rule",), "<0>", "<0>", claim="<0>", what="the hyper-parameter")
STEP_NUMBER = _declare("step_number", (), "t", "t", claim="t", what="the number of the update")
STATE = _declare("state", ("rule", "param"), "<0>_{<1>}", "<0>_<1>", claim="<0>_<1>", updated="after_state",
                 what="the optimizer's state")
AFTER_STATE = _updated_kind(STATE, "after_state", "update", "<0>_<1>_new")
# A quantity after some updates of training (derive.train): the loss, an output or a parameter after the
# number of updates its second subject gives (E_after_100); the checker computes it by a training run.
TRAINED = _declare("trained", ("quantity", "count"), "<0>^{(<1>)}", "<0>_after_<1>", claim="<0>_after_<1>",
                   what="the value after training")
RULE_TERM = _declare("rule_term", ("rule", "param"), "<0>_{<1>}", "<0>_<1>", claim="<0>_<1>", section="update",
                     what="the update rule's value")


MAX_INTERNED = 200_000  # quantities kept for reuse (then forgotten; equal ones stay equal)
_INTERNED: dict[tuple, "QuantitySymbol"] = {}


class QuantitySymbol(sympy.Symbol):
    """A quantity of a network as a SymPy symbol (real), carrying its kind and subjects.

    Two quantities are equal when their kind and subjects are. The symbol's
    name is unique to them but is never read back.

    SymPy orders the terms of sums and products by the names of their
    classes, so this class carries the name "Symbol" (``__name__``): the
    derivation's expressions are ordered, and dispatched to printers'
    ``_print_Symbol``, exactly as plain symbols are.
    """

    __slots__ = ("kind", "subjects")

    def __new__(cls, kind: Kind | str, *subjects: "str | QuantitySymbol") -> "QuantitySymbol":
        kind = KINDS[kind] if isinstance(kind, str) else kind
        if len(subjects) != len(kind.roles):
            raise ValueError(f"{kind.name} is about {len(kind.roles)} subject(s), got {len(subjects)}")
        if any(isinstance(subject, QuantitySymbol) != (role == "quantity") for role, subject in zip(kind.roles, subjects)):
            raise ValueError(f"{kind.name}: a 'quantity' subject is a QuantitySymbol, any other a name")
        key = (kind.name, *subjects)
        obj = _INTERNED.get(key)
        if obj is None:  # one object per quantity: dictionaries keyed by quantities find it by identity
            names = (f"({subject.name})" if isinstance(subject, QuantitySymbol) else subject for subject in subjects)
            obj = sympy.Symbol.__xnew__(cls, ":".join((kind.name, *names)), real=True)
            obj.kind, obj.subjects = kind, tuple(subjects)
            if len(_INTERNED) >= MAX_INTERNED:
                _INTERNED.clear()
            obj = _INTERNED.setdefault(key, obj)
        return obj

    def __getnewargs_ex__(self):
        return ((self.kind.name, *self.subjects), {})

    @property
    def after(self) -> "QuantitySymbol":
        """Return this quantity's value after the update (w5 → w5⁺, out_h1 → out_h1⁺)."""
        if self.kind.after is None:
            raise ValueError(f"{self.kind.what} has no value after the update")
        return QuantitySymbol(self.kind.after, *self.subjects)

    def claim_name(self) -> str:
        """Return how the claim language writes this quantity: net_h1, dE/dw5, w5_new."""
        written = self.kind.claim or self.kind.name
        for position, subject in enumerate(self.subjects):
            written = written.replace(f"<{position}>", subject.claim_name() if isinstance(subject, QuantitySymbol)
                                      else subject)
        return written


QuantitySymbol.__name__ = "Symbol"


ASKABLE = {kind.ask: kind for kind in KINDS.values() if kind.ask}

# How claims name quantities ------------------------------------------------------------------------

# word written before a unit's name -> the kind of quantity it names
UNIT_WORDS = {word: kind for kind in KINDS.values() for word in kind.words}
UPDATED_WORDS = ("new",)      # w5_new: the parameter after the update
TOTAL_WORDS = ("total",)      # E_total: the whole loss
# Function names the claim language reads as functions: the formula grammar's, every activation of the
# catalogue (and its aliases), and σ spelled out.
CLAIM_FUNCTIONS = (*ACTIVATIONS, *ACTIVATION_ALIASES, "sigma")

# name -> why it cannot name a unit, input or parameter
RESERVED = {
    "E": "it is the loss",
    "eta": "it is the learning rate",
    "pi": "it is the constant π",
    "delta": "it is the word for δ",
    "d": "claims read 'd' before a name as a derivative (dE/dw5)",
    **{word: "claims read it as 'after the update' (w5_new)" for word in UPDATED_WORDS},
    **{word: "claims read it as the whole loss (E_total)" for word in TOTAL_WORDS},
    **{name: "it is a function name" for name in (*FUNCTIONS, *CLAIM_FUNCTIONS)},
}
assert "e" in CONSTANTS  # e may still name something: a network's own name is read before the constant


def reserved_reason(name: str) -> str | None:
    """Return why `name` cannot be used for a unit, input or parameter, or None when it can."""
    if name.rpartition("_")[2] in UPDATED_WORDS and "_" in name:
        return "claims read a name ending in _new as the value after the update"
    return RESERVED.get(name)


def _output_only(kind: Kind) -> bool:
    """Return True for a unit kind only output units have (a target, a loss term)."""
    return kind.section == "loss" or kind is TARGET


def unit_spelling(name: str, units: set[str], outputs: set[str]) -> str | None:
    """Return the unit quantity a bare name (of an input or parameter) would also read as, or None.

    `net_h1` names the net of unit h1 when h1 is a unit; `E_o1` the loss term
    of output o1; `w5_new` is the updated w5 (checked by the caller, who knows
    the parameters).
    """
    word, separator, rest = name.partition("_")
    if not separator or word not in UNIT_WORDS:
        return None
    kind = UNIT_WORDS[word]
    if kind is LOSS_TERM and rest in TOTAL_WORDS:
        return LOSS.what
    if rest in (outputs if _output_only(kind) else units):
        return f"{kind.what} of unit {rest}"
    return None


def single_places(numbers: Mapping[str, int], weights, biases) -> dict[str, tuple[str, tuple[str, ...]]]:
    """Return parameter -> ("w", (unit, source)) or ("b", (unit,)) numbers, for parameters used in one place.

    Index notation writes such a parameter w_{41} (into unit 4 from unit 1) or
    b_4. `numbers` numbers the inputs 1…n and the units after them; `weights`
    holds (unit, source, parameter) and `biases` (unit, parameter) for every use.
    """
    uses: dict[str, list] = {}
    for unit, source, parameter in weights:
        uses.setdefault(parameter, []).append(("w", (str(numbers[unit]), str(numbers[source]))))
    for unit, parameter in biases:
        uses.setdefault(parameter, []).append(("b", (str(numbers[unit]),)))
    return {parameter: places[0] for parameter, places in uses.items() if len(places) == 1}


def index_spellings(inputs, units, outputs, weights, biases) -> dict[str, tuple[str, str]]:
    """Return spelling -> (the name it stands for, what it is) for every quantity's index-notation name.

    Index notation numbers the inputs 1…n and the units after them (x_1, net_4, δ_6); a weight or a bias
    used in exactly one place is w_{41} or b_4 (see :func:`single_places`). Only spellings with the
    underscore count: a name run together (w5, b2) is the network's own, and claims read the network's
    names first.
    """
    number = {name: position for position, name in enumerate([*inputs, *units], start=1)}
    spellings = {}
    for name in inputs:
        spellings[f"x_{number[name]}"] = (name, f"x_{number[name]}, the input {name}")
    for name in units:
        for word, kind in UNIT_WORDS.items():
            if not _output_only(kind) or name in outputs:
                spellings[f"{word}_{number[name]}"] = (None, f"{word}_{number[name]}, of unit {name}")
    for parameter, (base, indices) in single_places(number, weights, biases).items():
        written = f"{base}_{''.join(indices)}"
        for spelling in (written, "_".join((base, *indices))):
            spellings[spelling] = (parameter, f"{written}, the parameter {parameter}")
    return spellings
