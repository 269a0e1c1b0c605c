"""How quantities are named where people write them: the words of the claim language, declared once.

A unit's quantities are written with a word and the unit's name (net_h1,
out_o, delta_x, target_o / t_o, E_o); inputs and parameters by their own names.
The spec reader uses these tables to refuse only the names that would make a
claim or a document ambiguous, and to say which two things clash; the claim
vocabulary uses the same tables to read names back.
"""
from __future__ import annotations

from .formula import CONSTANTS, FUNCTIONS

# word written before a unit's name -> the kind of quantity it names
UNIT_WORDS = {"net": "net", "out": "out", "delta": "delta", "target": "target", "t": "target", "E": "E"}
UPDATED_WORDS = ("new",)      # w5_new: the parameter after the update
TOTAL_WORDS = ("total",)      # E_total: the whole loss
# Function names the claim language reads as functions (beyond the formula grammar's own).
CLAIM_FUNCTIONS = ("sigmoid", "sigma", "relu", "softplus")

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
    if kind == "E" and rest in TOTAL_WORDS:
        return "the loss E"
    if rest in (outputs if kind in ("target", "E") else units):
        return f"{_DESCRIBED[kind]} of unit {rest}"
    return None


_DESCRIBED = {"net": "the net", "out": "the output", "delta": "the δ", "target": "the target", "E": "the loss term"}


def index_spellings(inputs, units, outputs, weights, biases) -> dict[str, tuple[str, str]]:
    """Return spelling -> (the name it stands for, what it is) for every quantity's index-notation name.

    Index notation numbers the inputs 1…n and the units after them (x_1, net_4, δ_6); a weight or a bias
    used in exactly one place is w_{41} (into unit 4 from unit 1) or b_4. `weights` holds (unit, source,
    parameter) and `biases` (unit, parameter) for every use. Only spellings with the underscore count: a
    name run together (w5, b2) is the network's own, and claims read the network's names first.
    """
    number = {name: position for position, name in enumerate([*inputs, *units], start=1)}
    spellings = {}
    for name in inputs:
        spellings[f"x_{number[name]}"] = (name, f"x_{number[name]}, the input {name}")
    for name in units:
        for word, kind in UNIT_WORDS.items():
            if kind not in ("target", "E") or name in outputs:
                spellings[f"{word}_{number[name]}"] = (None, f"{word}_{number[name]}, of unit {name}")
    uses = {}
    for unit, source, parameter in weights:
        uses.setdefault(parameter, []).append(("w", f"{number[unit]}", f"{number[source]}"))
    for unit, parameter in biases:
        uses.setdefault(parameter, []).append(("b", f"{number[unit]}"))
    for parameter, places in uses.items():
        if len(places) == 1:
            base, *indices = places[0]
            written = f"{base}_{''.join(indices)}"
            for spelling in (written, "_".join((base, *indices))):
                spellings[spelling] = (parameter, f"{written}, the parameter {parameter}")
    return spellings
