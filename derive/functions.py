"""The catalogue of activations, losses and update rules: a name and a formula, nothing more.

Every entry is a formula in the safe grammar of :mod:`derive.formula`; SymPy
derives everything else. Adding an activation or a loss is one line here; an update rule is one
entry of derive.rules.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

import sympy

from .errors import DeriveError, Phrase, SpecError
from .formula import parse_formula
from .rules import HYPERPARAMETERS, RULE_NAMES, UPDATE_RULES, WEIGHT_DECAY  # noqa: F401  (update rules: derive.rules)

# The variables formulas are written in. They are real, so SymPy differentiates
# abs() and max() the way a course does.
X = sympy.Symbol("x", real=True)
O = sympy.Symbol("o", real=True)
T = sympy.Symbol("t", real=True)

# name -> (formula in x, LaTeX name, plain-text name)
ACTIVATIONS: dict[str, tuple[str, str, str]] = {
    "sigmoid": ("1/(1+exp(-x))", r"\sigma", "σ"),
    "tanh": ("tanh(x)", r"\tanh", "tanh"),
    "relu": ("max(0, x)", r"\operatorname{ReLU}", "ReLU"),
    "leaky_relu": ("max(0, x) + 0.01*min(0, x)", r"\operatorname{LeakyReLU}", "LeakyReLU"),
    "identity": ("x", r"\operatorname{id}", "id"),
    "softplus": ("log(1 + exp(x))", r"\operatorname{softplus}", "softplus"),
}
ACTIVATION_ALIASES = {"linear": "identity"}
LAYER_ACTIVATIONS = ("softmax",)

P = sympy.Symbol("p", real=True)
G = sympy.Symbol("g", real=True)
ETA = sympy.Symbol("eta", real=True)

# name -> (formula in o and t for one output unit, reduction over the outputs, what the targets must be)
# Targets: None (any number); "probability" (each in [0, 1]); "distribution" (each in [0, 1], and summing
# to 1 when the output layer is layer-wise, as softmax outputs do).
LOSSES: dict[str, tuple[str, str, str | None]] = {
    "half_sse": ("1/2*(t - o)^2", "sum", None),
    "sse": ("(t - o)^2", "sum", None),
    "mse": ("(t - o)^2", "mean", None),
    "cross_entropy": ("-t*ln(o)", "sum", "distribution"),
    "bce": ("-(t*ln(o) + (1 - t)*ln(1 - o))", "sum", "probability"),
}


STEP = sympy.Symbol("step", real=True)  # t in an update rule's formulas: the number of this update


@dataclass(frozen=True)
class UpdateRule:
    """An update rule of the catalogue (UPDATE_RULES) with its hyper-parameters' values.

    `lines` are (name, formula) in the placeholders of :func:`rule_symbol` (P, G, ETA, STEP and a symbol
    for each hyper-parameter, state and earlier line); `written` the same formulas unevaluated, in the
    catalogue's order (β₁ m + (1 − β₁) g); `hyper` every hyper-parameter's value.
    """

    name: str
    hyper: tuple[tuple[str, sympy.Rational], ...]
    states: tuple[str, ...]
    lines: tuple[tuple[str, sympy.Expr], ...]
    written: tuple[sympy.Expr, ...]

    @property
    def values(self) -> dict[str, sympy.Rational]:
        return dict(self.hyper)

    def uses(self) -> set[str]:
        """Return the names of the hyper-parameters the lines use, and "t" when they use the update's number."""
        used = set().union(*(formula.free_symbols for _, formula in self.lines))
        return {name for name, _ in self.hyper if rule_symbol(name) in used} | ({"t"} if STEP in used else set())

    def apply(self, symbols: Callable[[str], sympy.Expr], results: Callable[[str], sympy.Expr]
              ) -> list[tuple[sympy.Expr, sympy.Expr, sympy.Expr]]:
        """Return the rule for one parameter: (what a line computes, its formula as written, its definition).

        `symbols(name)` is what a name of the formulas stands for before any line (p, g, eta, t, a
        hyper-parameter, a state's value before the update); `results(name)` what a line computes (the
        line named p: the parameter after the update; a state's line: the state after it). A line's
        formulas use what the lines before it computed."""
        given = sorted({"p", "g", "eta", "t", *self.values, *self.states})
        mapping = {rule_symbol(name): symbols(name) for name in given}
        applied = []
        for (name, formula), written in zip(self.lines, self.written):
            result = results(name)
            applied.append((result, _as_written(written, mapping), formula.xreplace(mapping)))
            mapping[rule_symbol(name)] = result
        return applied


def rule_symbol(name: str) -> sympy.Symbol:
    """Return the placeholder a rule's formulas write `name` as (p, g, eta, a hyper-parameter, a state)."""
    return {"p": P, "g": G, "eta": ETA, "t": STEP}.get(name) or sympy.Symbol(name, real=True)


def _as_written(formula: sympy.Expr, mapping) -> sympy.Expr:
    """Return `formula` with `mapping` applied, unevaluated, in the formula's own order: w5 − η ∂E/∂w5."""
    if formula in mapping:
        return mapping[formula]
    if not formula.args:
        return formula
    return formula.func(*[_as_written(argument, mapping) for argument in formula.args], evaluate=False)


def update_rule(name: str = "sgd", where: str | None = None, **values: sympy.Rational) -> UpdateRule:
    """Return the UpdateRule of the catalogue named `name`, with `values` for some of its hyper-parameters
    (the others take their defaults); SpecError for an unknown rule or a hyper-parameter it does not take."""
    if name not in UPDATE_RULES:
        raise SpecError("error_unknown_update_rule", where, name=name, known=_names(UPDATE_RULES))
    defaults, states, lines = UPDATE_RULES[name]
    taken = {**{key: sympy.Rational(value) for key, value in defaults.items()}, "weight_decay": sympy.Integer(0)}
    for key, value in values.items():
        if key not in taken:
            raise SpecError("error_unknown_hyperparameter", where, name=key, rule=name, known=", ".join(taken))
        taken[key] = sympy.Rational(value)
    every = ((WEIGHT_DECAY,) if taken["weight_decay"] != 0 else ()) + lines
    names = tuple(sorted({"p", "g", "eta", "t", *states, *taken, *(line for line, _ in lines)}))
    parsed = [(line, _parsed_line(formula, names, True)) for line, formula in every]
    return UpdateRule(name, tuple(taken.items()), states, tuple(parsed),
                      tuple(_parsed_line(formula, names, False) for _, formula in every))


@lru_cache(maxsize=None)
def _parsed_line(formula: str, names: tuple[str, ...], evaluated: bool) -> sympy.Expr:
    """Return a rule's formula in its placeholders: evaluated (to compute with) or as the catalogue writes it."""
    with sympy.evaluate(evaluated):
        return parse_formula(formula, {name: rule_symbol(name) for name in names})


@dataclass(frozen=True)
class Activation:
    """An activation: `formula` in X for a unit-wise one; `layer_wise` for softmax."""

    name: str
    formula: sympy.Expr | None
    latex_name: str
    text_name: str
    layer_wise: bool = False

    def __call__(self, argument: sympy.Expr) -> sympy.Expr:
        """Return f(argument) for a unit-wise activation."""
        return self.formula.xreplace({X: argument})


class ShownBase(sympy.Function):
    """An activation applied and kept as written, σ(net_h1), or its derivative, σ'(net_h1).

    Printers write it by the activation's name (``_print_ShownBase``: SymPy's
    printers dispatch a renamed subclass of a function only to methods of
    classes whose names end in Base); the checker replaces it by the
    activation's formula. Its class, from :func:`shown`, carries
    `activation` and `prime`.
    """

    nargs = 1
    activation: Activation
    prime: bool

    def __reduce_ex__(self, protocol):
        return _applied, (self.activation, self.prime, self.args[0])


def shown(activation: Activation, prime: bool = False) -> type[ShownBase]:
    """Return the function class that writes `activation` (or, with `prime`, its derivative) applied.

    One class per activation and prime, so that equal applications are equal expressions.
    """
    return _shown_class(activation, bool(prime))


@lru_cache(maxsize=None)
def _shown_class(activation: Activation, prime: bool) -> type[ShownBase]:
    name = f"activation {activation.name}" + ("'" if prime else "")
    return type(name, (ShownBase,), {"activation": activation, "prime": prime, "__module__": __name__})


def _applied(activation: Activation, prime: bool, argument: sympy.Expr) -> ShownBase:
    return shown(activation, prime)(argument)


class Summed(sympy.Function):
    """Σ_k body, kept as written: Summed(k, body), for general formulas over an index (δ_j = (Σ_k δ_k w_kj) f'(net_j)).

    Printers write it as a sum over its index (``_print_Summed``), parenthesised in a product as a sum is.
    """

    nargs = 2
    precedence = 40  # sympy.printing.precedence.PRECEDENCE["Add"]


GENERIC = Activation("f", None, "f", "f")  # "the activation" in general formulas: f, f'


@dataclass(frozen=True)
class Loss:
    """A loss: `term` in O and T for one output unit, combined by `reduction` ('sum' or 'mean')."""

    name: str
    term: sympy.Expr
    reduction: str
    targets: str | None = None


def _names(known) -> str:
    return ", ".join(sorted(known))


def activation(text: str, where: str | None = None) -> Activation:
    """Return the Activation for a built-in name or a formula in x."""
    if not isinstance(text, str) or not text.strip():
        raise SpecError("error_activation_type", where)
    name = ACTIVATION_ALIASES.get(text.strip(), text.strip())
    if name in ACTIVATIONS:
        formula, latex_name, text_name = ACTIVATIONS[name]
        return Activation(name, parse_formula(formula, {"x": X}), latex_name, text_name)
    if name in LAYER_ACTIVATIONS:
        return Activation(name, None, r"\operatorname{softmax}", "softmax", layer_wise=True)
    if name.isidentifier() and name != "x":
        known = _names(list(ACTIVATIONS) + list(ACTIVATION_ALIASES) + list(LAYER_ACTIVATIONS))
        raise SpecError("error_unknown_activation", where, name=name, known=known)
    try:
        formula = parse_formula(name, {"x": X})
    except DeriveError as error:
        raise SpecError("error_activation_formula", where, problem=Phrase(error.key, **error.fields)) from None
    return Activation(name, formula, "f", "f")


def loss(text: str, where: str | None = None) -> Loss:
    """Return the Loss for a built-in name or a formula in o and t (summed over the outputs)."""
    if not isinstance(text, str) or not text.strip():
        raise SpecError("error_loss_type", where)
    name = text.strip()
    if name in LOSSES:
        formula, reduction, targets = LOSSES[name]
        return Loss(name, parse_formula(formula, {"o": O, "t": T}), reduction, targets)
    if name.isidentifier() and name not in ("o", "t"):
        raise SpecError("error_unknown_loss", where, name=name, known=_names(LOSSES))
    try:
        term = parse_formula(name, {"o": O, "t": T})
    except DeriveError as error:
        raise SpecError("error_loss_formula", where, problem=Phrase(error.key, **error.fields)) from None
    if not term.has(O):
        raise SpecError("error_loss_without_o", where)
    return Loss(name, term, "sum")


def target_problem(loss: Loss, targets, output_activation: Activation) -> str | None:
    """Return what is wrong with `targets` for `loss` (a target outside [0, 1], a sum that is not 1), or None."""
    if loss.targets is None:
        return None
    outside = [_decimal(target) for target in targets if not 0 <= target <= 1]
    if outside:
        return f"{loss.name} needs targets between 0 and 1; found {', '.join(outside)}"
    if loss.targets == "distribution" and output_activation.layer_wise and sum(targets) != 1:
        return (f"{loss.name} over a {output_activation.name} layer needs targets that sum to 1; "
                f"they sum to {_decimal(sum(targets))}")
    return None


def _decimal(value: sympy.Rational) -> str:
    """Return a number from a spec as it would be written there: 0.5, not 1/2."""
    from .numbers import format_number
    return format_number(value, 30)


def softmax(nets: list[sympy.Expr]) -> list[sympy.Expr]:
    """Return the softmax of `nets`, one expression per unit."""
    total = sympy.Add(*[sympy.exp(net) for net in nets])
    return [sympy.exp(net) / total for net in nets]
