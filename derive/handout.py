"""Exercise sheets and answer keys: which quantities are asked, randomised variants, the answer table.

A handout is a derivation seen twice: the sheet shows the network and asks
for chosen quantities; the key is the full worked derivation with those
answers listed first. Variants draw new 'nice' numbers (a fixed number of
decimals) for the same structure, rejecting degenerate draws, from a seeded
generator, so the same seed always gives the same variants.
"""
from __future__ import annotations

import csv
import io
import random
import re
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Mapping

import sympy
import yaml

from . import calculus
from .derivation import Derivation, derive
from .errors import DeriveError, SpecError
from .functions import X
from .quantities import ASKABLE
from .numbers import EvaluationError, format_number
from .spec import ParameterSpec, Spec

KINDS = tuple(ASKABLE)
MAX_DRAWS = 500


class HandoutError(DeriveError):
    """A handout that cannot be made: an unknown quantity asked, or no usable variant found."""


@dataclass(frozen=True)
class Question:
    """One asked quantity: its symbol and its name in the claim language (what `derive check` reads)."""

    symbol: sympy.Symbol
    name: str


def questions(derivation: Derivation, ask: str) -> list[Question]:
    """Return the quantities `ask` names, in document order.

    `ask` is a comma-separated list of kinds (net, out, E, delta, gradient,
    update) and of single quantities in the claim language (delta_h1, w5_new).
    """
    from .check.parse import parse_claim
    from .check.vocabulary import ClaimError, Vocabulary
    network, chosen = derivation.network, []
    vocabulary = Vocabulary(network)
    untrained = {p.name for p in network.parameters if not p.trainable}
    by_kind = {word: [step.lhs for step in derivation.steps if step.lhs.kind is kind
                      and not ("param" in kind.roles and step.lhs.subjects[0] in untrained)]
               for word, kind in ASKABLE.items()}
    for item in (part.strip() for part in ask.split(",")):
        if not item:
            continue
        if item in by_kind:
            chosen.extend(by_kind[item])
            continue
        try:
            symbol = parse_claim(f"{item} = 0", vocabulary).quantity
        except ClaimError as error:
            raise HandoutError("error_ask_unreadable", item=item, problem=error.message, kinds=", ".join(KINDS)) from None
        if symbol not in derivation.values:
            raise HandoutError("error_ask_not_computed", item=item)
        chosen.append(symbol)
    if not chosen:
        raise HandoutError("error_ask_nothing", kinds=", ".join(KINDS))
    order = {step.lhs: index for index, step in enumerate(derivation.steps)}
    unique = sorted(dict.fromkeys(chosen), key=lambda s: order.get(s, len(order)))
    return [Question(symbol, symbol.claim_name()) for symbol in unique]


# variants ----------------------------------------------------------------------------------
def _nice(rng: random.Random, low: float, high: float, decimals: int) -> sympy.Rational:
    """Return a number drawn from [low, high], rounded to `decimals` decimals, never 0."""
    step = Decimal(1).scaleb(-decimals)
    while True:
        value = Decimal(str(rng.uniform(low, high))).quantize(step)
        if value != 0:
            return sympy.Rational(str(value))


def _draw_like(rng, original: sympy.Rational, scale: float, decimals: int) -> sympy.Rational:
    """Return a nice number of the size of the file's values, with the original's sign (any sign for 0)."""
    if original == 0:
        return _nice(rng, -scale, scale, decimals)
    magnitude = _nice(rng, max(scale * 0.1, 10.0 ** -decimals), scale, decimals)
    return magnitude if original > 0 else -magnitude


def _targets(rng, spec: Spec, decimals: int) -> tuple[sympy.Rational, ...]:
    targets = spec.targets
    if sorted(targets) == [0] * (len(targets) - 1) + [1]:  # one-hot: move the 1
        hot = rng.randrange(len(targets))
        return tuple(sympy.Integer(int(i == hot)) for i in range(len(targets)))
    if all(0 <= t <= 1 for t in targets):
        return tuple(_nice(rng, 0.01, 0.99, decimals) for _ in targets)
    scale = float(max(abs(t) for t in targets)) or 1.0
    return tuple(_draw_like(rng, t, scale, decimals) for t in targets)


def draw_variant(spec: Spec, rng: random.Random, decimals: int = 2) -> Spec:
    """Return `spec` with new inputs, parameters and targets drawn as nice numbers (same structure)."""
    parameters = [p for layer in spec.layers for row in layer.weights for p in row] + \
                 [p for layer in spec.layers for p in layer.bias]
    scale = float(max((abs(p.value) for p in parameters), default=1)) or 1.0
    drawn: dict[str, sympy.Rational] = {}
    for parameter in parameters:  # a tied parameter (one name, several places) is drawn once
        if parameter.name not in drawn:
            drawn[parameter.name] = _draw_like(rng, parameter.value, scale, decimals)

    def renamed(parameter: ParameterSpec) -> ParameterSpec:
        return replace(parameter, value=drawn[parameter.name])

    layers = tuple(replace(layer, weights=tuple(tuple(renamed(p) for p in row) for row in layer.weights),
                           bias=tuple(renamed(p) for p in layer.bias)) for layer in spec.layers)
    input_scale = float(max((abs(v) for v in spec.sample_inputs), default=1)) or 1.0
    inputs = tuple(_draw_like(rng, v, input_scale, decimals) for v in spec.sample_inputs)
    return replace(spec, layers=layers, sample_inputs=inputs, targets=_targets(rng, spec, decimals))


def degenerate(derivation: Derivation, decimals: int) -> bool:
    """Return True for a draw no exercise should use: a unit at a kink (net = 0), saturated or dead (f′ ≈ 0)."""
    for layer in derivation.network.layers:
        if layer.activation.layer_wise:
            continue
        slope = calculus.differentiate(layer.activation.formula, X)
        for unit in layer.units:
            net = derivation.values[unit.net]
            if abs(net) < sympy.Rational(1, 10 ** (decimals + 2)):
                return True
            if abs(slope.xreplace({X: net}).evalf(30)) < sympy.Float("1e-3"):
                return True
    return False


def variants(spec: Spec, count: int, seed: int, decimals: int = 2, round_steps: int | None = None,
             progress=None) -> list[tuple[Spec, Derivation]]:
    """Return `count` variants of `spec` with their derivations; the same seed gives the same variants."""
    result = []
    for index in range(1, count + 1):
        rng = random.Random(f"derive:{seed}:{index}")
        for _ in range(MAX_DRAWS):
            candidate = replace(draw_variant(spec, rng, decimals), title=spec.title)
            try:
                derivation = derive(candidate, round_steps=round_steps)
            except (EvaluationError, SpecError):
                continue
            if not degenerate(derivation, decimals):
                result.append((candidate, derivation))
                break
        else:
            raise HandoutError("error_no_variant", draws=MAX_DRAWS)
        if progress is not None:
            progress(index)
    return result


# files --------------------------------------------------------------------------------------
def _number(value: sympy.Expr) -> object:
    text = format_number(value, 40)
    return int(text) if text.lstrip("-").isdigit() else float(text) if "/" not in text else text


def spec_yaml(spec: Spec) -> str:
    """Return a network file (YAML) that reads back as `spec`."""
    def entry(parameter: ParameterSpec) -> dict:
        return {parameter.name: _number(parameter.value)}

    layers = []
    for layer in spec.layers:
        data = {"units": list(layer.units), "activation": layer.activation.name,
                "weights": [[entry(p) for p in row] for row in layer.weights]}
        if layer.bias:
            data["bias"] = entry(layer.bias[0]) if layer.bias_shared else [entry(p) for p in layer.bias]
        layers.append(data)
    document = {"title": spec.title, "inputs": list(spec.inputs), "layers": layers, "loss": spec.loss.name,
                "sample": {"inputs": [_number(v) for v in spec.sample_inputs],
                           "targets": [_number(t) for t in spec.targets]},
                "learning_rate": _number(spec.learning_rate), "update_biases": spec.update_biases}
    if spec.aliases:
        document["aliases"] = {alias.written: [alias.meaning, *alias.also] if alias.also else alias.meaning
                               for alias in spec.aliases}
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, default_flow_style=None, width=100)


VARIANT_FILE = re.compile(r"network-(\d{1,9})\.yaml\Z")
_STUDENT_VARIANT = re.compile(r"(?:\A|[-_.])(\d{1,9})\Z")


def variant_files(directory: Path) -> dict[str, Path]:
    """Return {variant id ("07"): its network file} of a directory `derive handout --variants` wrote."""
    return {match.group(1): path for path in sorted(directory.iterdir())
            if path.is_file() and (match := VARIANT_FILE.match(path.name))}


def variant_of(student: str, variants: Mapping[str, object]) -> str | None:
    """Return the variant a student's id names (`07`, `alice-07`, `alice_7`: the number at its end, after
    - _ or .), or None when it names none of `variants`."""
    match = _STUDENT_VARIANT.search(student)
    if match is None:
        return None
    return next((variant for variant in variants if int(variant) == int(match.group(1))), None)


def answer_rows(variants_: list[tuple[str, Derivation]], asked: list[Question]) -> list[dict]:
    """Return one row per variant: its id and the value of every asked quantity (full double precision)."""
    return [{"variant": name, **{q.name: float(format_number(d.values[q.symbol], 17)) for q in asked}}
            for name, d in variants_]


def documents(derivation: Derivation, asked: list[Question], format_: str, name: str | None, options,
              compile: bool = True) -> list[tuple[Path, object]]:
    """Return the sheet and the key of one derivation (and the diagram of a Markdown pair) as
    (relative path, text or bytes); `options` are the documents' render Options (the sheet leaves
    options.space centimetres of working space under each question).

    With format pdf and compile=False the PDFs are PendingPDF entries (derive.render.pdf), for
    compile_pending to build together with others, in parallel.
    """
    from .render import FORMATS, document_files
    suffix = f"-{name}" if name else ""
    extension = "pdf" if format_ == "pdf" else FORMATS[format_]
    diagram = Path(f"network{suffix}.svg") if format_ == "md" else None
    # The sheet's diagram never shows what it asks for: gradients and updated values stay in the key.
    given = options.but(edge_labels=options.edge_labels if options.edge_labels in ("weights", "values", "none")
                        else "values", unit_values=False)
    sheet = document_files(derivation, format_, Path(f"sheet{suffix}.{extension}"), given, sheet=asked, variant=name,
                           diagram=diagram, compile=compile)
    key = document_files(derivation, format_, Path(f"key{suffix}.{extension}"), options, answers=asked, variant=name,
                         diagram_file=diagram.name if diagram else None, compile=compile)
    return sheet[:1] + key + sheet[1:]  # sheet, key, then the diagram both link to


def answers_csv(rows: list[dict]) -> str:
    """Return the answer table as CSV: one row per variant, one column per asked quantity."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()
