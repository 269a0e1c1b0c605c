"""Judging claims against a Derivation: correct, incorrect, undecided or unreadable, and why.

A number is judged to the precision the student wrote it with. A formula is
judged as a function of the network's inputs, targets, parameters and
learning rate: first numerically, at the sample and at random points near it
(30 digits), then, where it is quick, proved equal by SymPy. A wrong claim is
matched against the library of classic mistakes (:mod:`derive.check.mistakes`).
"""
from __future__ import annotations

import dataclasses
import itertools
import math
import os
import random
import re
import threading
from dataclasses import dataclass
from typing import Iterable

import sympy

from .. import calculus, graph, treeval
from ..budget import paused, within
from ..derivation import Derivation
from ..functions import ShownBase, X
from ..errors import DeriveError
from ..quantities import NET, PARTIAL, TRAINED, QuantitySymbol
from ..program import FloatProgram, free_symbols
from ..numbers import EvaluationError, PRECISION, evaluate, format_number, round_to
from .messages import Message
from .mistakes import Variant, changed, composed, variants
from .parse import EQUALS_SIGN, Claim, ClaimError, ClaimTooLarge, Part, half_unit, parse_claim, sides
from .vocabulary import Vocabulary

POINTS = 24               # random points a formula must agree at
INTERNAL_ERROR = "judge_internal_error"  # a line derive failed on (its report says so; the command exits 3)
POINT_PRECISION = 30      # digits at the random points
MAX_KINKS = 256           # places where the functions change form that the random points keep to the sample's side of
CONFIRM_POINTS = 4        # random points that confirm a mistake found at the sample
MAX_PAIRED = 24           # of the variants that move a quantity, the first this many are tried in pairs
MIN_DIAGNOSED_DIGITS = 3  # a number written with fewer significant digits is not traced to a mistake
MAX_COMPOSED = 4          # of the pairs of mistakes in one definition, the first this many are tried
MAX_EXTENDED = 256       # derivatives along the graph (∂net_o1/∂w5) added to one judge's program
MAX_KEPT = 4096          # claims read and formulas made walkable kept per judge (then forgotten, and made again)
# Open-ended work is counted in Python calls (derive.budget), never in seconds, so a verdict cannot depend
# on the machine or its load; everything else a claim asks for is bounded by the parser's size limits.
PROOF_CALLS = 3_000_000     # the symbolic proof of one formula (the largest hand-written ones take about 1e6)
ROUNDING_CALLS = 2_000_000  # bounding the rounding of a computed number; past it, held to the working precision
MAX_EXACT_OPS = 400       # larger formulas are not simplified symbolically
DIRECT_ROUNDING_NODES = 200  # a computed number of at most this many nodes is bounded without a call budget
MAX_STEPWISE_OPS = 120    # a step of the stepwise proof cancels a difference of at most this size,
STEPWISE_CANCELS = 2      # and at most this many times
# A number written with fewer significant digits than this cannot be told to be a rounding of a value of the
# derivation (two digits match too many of them): it gets no rounding slack. As a scale: 10^(digits − 1).
MIN_ROUNDED_DIGITS_SCALE = 100
_AGREE = sympy.Float("1e-14")


LINK_POINTS = ("formula", "substitution", "value")  # what a line's points are given for (see Policy.points)


@dataclass(frozen=True)
class Policy:
    """How a teacher marks: `min_digits` (a number written with fewer significant digits is not precise
    enough), `last_digit` (accept that many units off in the last digit written, as well as half a unit),
    and `points` for each kind of link a line shows: the formula, the numbers put in, and the value (the
    last number, by arithmetic or alone; consistent with the student's earlier values counts)."""

    min_digits: int | None = None
    last_digit: int = 0
    points: tuple[tuple[str, float], ...] = (("formula", 1.0), ("substitution", 1.0), ("value", 1.0))

    def __post_init__(self):
        if self.min_digits is not None and not 1 <= self.min_digits <= 40:
            raise ValueError("min_digits must be between 1 and 40")
        if not 0 <= self.last_digit <= 9:
            raise ValueError("last_digit must be between 0 and 9")
        unknown = [name for name, _ in self.points if name not in LINK_POINTS]
        if unknown:
            raise ValueError(f"points are given for {', '.join(LINK_POINTS)}, not {unknown[0]}")


def significant_digits(literal: str) -> int | None:
    """Return how many significant digits a number is written with (0.0075: 2, 1.10: 3), None for a whole
    number without a decimal point or exponent (taken as exact)."""
    mantissa, _, exponent = literal.lower().lstrip("+-").partition("e")
    if "." not in mantissa and not exponent:
        return None
    digits = mantissa.replace(".", "").lstrip("0")
    return max(len(digits), 1)


@dataclass(frozen=True)
class Diagnosis:
    """The classic mistake that reproduces a wrong claim, and the value it gives; `also`, a second mistake
    made with it when only the two together reproduce the claim."""

    mistake: str
    details: tuple[tuple[str, str], ...]
    value: sympy.Expr
    also: "Diagnosis | None" = None


LINK_KINDS = ("formula", "substitution", "arithmetic", "value")


@dataclass(frozen=True)
class Link:
    """The judgement of one link of a chain: the step from the side before it to part `index` (for the first
    part, from the quantity itself).

    `kind` says what the link does: formula (a formula for the quantity, judged as a function of the
    givens), substitution (numbers put into the formula before it), arithmetic (a number computed from
    the numbers before it) or value (a number for the quantity, the chain's first part). `verdict` is
    correct, incorrect, undecided, follows (wrong, but the right step from a wrong side before it) or
    consistent (wrong, but what the student's own earlier numbers give). `expected` is the form derive
    writes for this kind of link (the quantity's formula, or its formula with the numbers put in) and
    `expected_value` the value the part should have.
    """

    index: int
    kind: str
    verdict: str
    expected: sympy.Expr | None = None
    expected_value: sympy.Expr | None = None
    value: sympy.Expr | None = None
    diagnosis: "Diagnosis | None" = None


@dataclass(frozen=True)
class Verdict:
    """The judgement of one claim.

    `verdict` is correct, incorrect, undecided or unreadable. `method` says how
    it was decided: symbolic, numeric (agreement at `points` random points),
    number (to `tolerance`, the precision written) or carried_forward.
    `consistent` marks a wrong number that follows correctly from the
    student's own earlier wrong numbers. `message` (why a claim is unreadable
    or undecided, or why a part has no value) and `hint` are Messages: a
    catalogue key and its fields, written out by the report in its language.
    """

    claim: str
    verdict: str
    quantity: sympy.Symbol | None = None
    parts: tuple[Part, ...] = ()
    expected: tuple[sympy.Expr, ...] = ()
    expected_value: sympy.Expr | None = None
    method: str | None = None
    points: int = 0
    tolerance: sympy.Expr | None = None
    diagnosis: Diagnosis | None = None
    consistent: bool = False
    carried_value: sympy.Expr | None = None
    claimed_value: sympy.Expr | None = None
    message: Message | None = None
    position: int | None = None
    hint: Message | None = None
    student: str | None = None
    links: tuple[Link, ...] = ()
    line: int | None = None
    held: tuple = ()  # givens (symbols) a formula wrote as their numbers: it is judged with them held there
    carried_from: tuple[int, ...] = ()  # in a derivation, the lines whose wrong values this one was judged with
    left_out: tuple[str, ...] = ()  # in a derivation, sides of the chain the claim language cannot read (Σ …)

    @property
    def first_wrong(self) -> Link | None:
        """Return the first link that is wrong (not following from a wrong side before it), or None."""
        return next((link for link in self.links if link.verdict == "incorrect"), None)


@dataclass(frozen=True)
class _Judgement:
    correct: bool | None
    method: str | None = None
    points: int = 0
    tolerance: sympy.Expr | None = None
    message: Message | None = None
    value: sympy.Expr | None = None  # a number part's value
    held: tuple = ()  # givens the student wrote as numbers (see Judge._held_givens)


def _fixed(value: sympy.Rational, decimals: int) -> str:
    """Return a number that has at most `decimals` decimals written with exactly that many (0.570820)."""
    units = int(abs(value) * sympy.Integer(10) ** decimals)
    whole, fraction = divmod(units, 10 ** decimals)
    return ("-" if value < 0 else "") + str(whole) + ("." + str(fraction).rjust(decimals, "0") if decimals else "")


def _close(a: sympy.Expr, b: sympy.Expr) -> bool:
    return abs(a - b) <= _AGREE * (abs(a) + abs(b)) + sympy.Float("1e-25")


def _state(values: dict) -> tuple:
    """Return a student's earlier values (symbol -> number) as a key: the same values, the same key."""
    return tuple(sorted(values.items(), key=lambda item: str(item[0])))


def _finite(values: dict | None, symbol: sympy.Symbol) -> float | None:
    """Return `symbol`'s float in `values` when it is a finite number, else None."""
    value = values.get(symbol) if values else None
    return value if value is not None and math.isfinite(value) else None


def expand_calls(expression: sympy.Expr) -> sympy.Expr:
    """Return `expression` with our display functions (σ(x), f'(net_U)) replaced by their formulas."""
    def formula(applied):
        body = applied.func.activation.formula
        if applied.func.prime:
            body = calculus.differentiate(body, X)
        return body.xreplace({X: applied.args[0]})

    return expression.replace(lambda e: isinstance(e, ShownBase), formula)


class Judge:
    """Judges claims about one derivation. Work shared between claims (random points, mistakes) is cached."""

    def __init__(self, derivation: Derivation, rel_tol: float | None = None, points: int = POINTS, seed: int = 0,
                 policy: Policy | None = None):
        self.derivation = derivation
        self.policy = policy or Policy()
        self.vocabulary = Vocabulary(derivation.network)
        # The derivation's program and values, extended by the derivatives along its graph that claims name
        # (∂net_o1/∂w5: see _extend); each extension replaces them whole, so a reader never sees one half made.
        self.program: tuple = tuple(derivation.program)
        self.values: dict = derivation.values
        self.definitions = dict(derivation.program)
        self.given = derivation.network.given_values()
        self.rel_tol = None if rel_tol is None else sympy.Float(rel_tol, PRECISION)
        self.count, self.seed = points, seed
        self.steps = {step.lhs: step for step in derivation.steps}
        # Work shared between claims (and threads): each cache is filled whole, under the lock, and its
        # filling is not counted in any one claim's budget.
        self._lock = threading.RLock()
        self._points: tuple[dict, ...] | None = None
        self._held_points: dict[tuple, tuple[dict, ...]] = {}
        self._known: list[float] | None = None
        self._kink_places: tuple | None = None
        self._inner: dict = {}  # the values of the sub-expressions of a quantity's definition and of sides
        self._walkers: dict = {}
        self._claims: dict = {}
        self._dependencies: dict = {}
        self._verdicts: dict = {}
        self._kept: dict = {}  # first differences and mistakes found, per formula (see _differs_at, _diagnose)
        self._mpf_points: dict = {}
        self._float_program: FloatProgram | None = None
        self._float_base: dict | None = None
        self._float_replaced: dict = {}
        self._pair_floats: dict = {}
        self._variant_floats: dict = {}
        self._variants: tuple[Variant, ...] | None = None
        self._variant_values: dict = {}
        self._exact: dict = {}

    # shared work ------------------------------------------------------------------
    def points(self, held: tuple = ()) -> tuple[dict, ...]:
        """Return the values of every quantity at random points near the sample (drawn once, seeded); with
        `held` givens, at the same points with those givens kept at their sample values."""
        if self._points is None:
            with paused(), self._lock:
                if self._points is None:
                    self._points = self._draw_points()
        if not held:
            return self._points
        if held not in self._held_points:
            with paused(), self._lock:
                if held not in self._held_points:
                    self._held_points[held] = self._hold(held)
        return self._held_points[held]

    def _hold(self, held: tuple) -> tuple[dict, ...]:
        points = (self._point_at({s: (self.given[s] if s in held else values[s]) for s in self.given})
                  for values in self._points)
        return tuple(point for point in points if point is not None)

    def _point_at(self, given: dict) -> dict | None:
        """Return every quantity at the givens `given`, or None where the program has no value there or a
        place the functions change form is on the other side of it than at the sample (see _draw_points)."""
        try:
            point = treeval.run(self.program, given, precision=POINT_PRECISION)
        except EvaluationError:
            return None
        return point if self._on_the_samples_side(point) else None

    def _draw_points(self) -> tuple[dict, ...]:
        """Draw the random points: each given moved by up to a fifth of its value (0.05 for 0), the program
        run there. A point on the other side of a place where the network's functions change form (a ReLU
        unit's net = 0) than the sample is drawn again: there the true formula is another one (f′ = 0, not 1),
        so a student's formula for the sample's case (δ_o·w·1) would be found to differ, or not, by chance.
        Where most points fall beyond such a place, later ones are drawn nearer the sample."""
        rng, drawn, scale = random.Random(self.seed), [], 1.0
        for attempt in range(self.count * 6):
            if len(drawn) == self.count:
                break
            if attempt and attempt % self.count == 0 and len(drawn) < attempt // 2:
                scale /= 4  # most points fell beyond a kink (many ReLU units): draw nearer the sample
            given = {s: sympy.Float(float(v) + rng.uniform(-1, 1) * scale * (0.2 * abs(float(v)) or 0.05),
                                    POINT_PRECISION) for s, v in self.given.items()}
            self._keep_target_sum(given)
            point = self._point_at(given)
            if point is not None:
                drawn.append(point)
        return tuple(drawn)

    def _on_the_samples_side(self, point: dict) -> bool:
        """Return True when every place the network's functions change form is on the same side at `point` as
        at the sample (see :meth:`_kinks`)."""
        for place, side in self._kinks():
            try:
                value = evaluate(place, point, precision=POINT_PRECISION)
            except EvaluationError:
                return False
            if value == 0 or (1 if value > 0 else -1) != side:
                return False
        return True

    def _kinks(self) -> tuple[tuple[sympy.Expr, int], ...]:
        """Return where the derivation's functions change form, as (expression, its sign at the sample): the
        conditions of each Piecewise (x > 0: x), the differences of Max's and Min's arguments, the argument
        of Abs, sign and Heaviside; those that are 0 at the sample (it sits on the kink) are left out, and
        at most MAX_KINKS are kept."""
        if self._kink_places is None:
            places: dict = {}
            for _, definition in self.program:
                if len(places) >= MAX_KINKS:
                    break
                for node in sympy.preorder_traversal(definition):
                    found = []
                    if isinstance(node, sympy.Piecewise):
                        found = [c.lhs - c.rhs for _, c in node.args if isinstance(c, sympy.core.relational.Relational)]
                    elif isinstance(node, (sympy.Max, sympy.Min)):
                        found = [a - b for a, b in itertools.combinations(node.args, 2)]
                    elif isinstance(node, (sympy.Abs, sympy.sign, sympy.Heaviside)):
                        found = [node.args[0]]
                    for place in found:
                        places.setdefault(place, None)
                    if len(places) >= MAX_KINKS:
                        break
            kept = []
            for place in itertools.islice(places, MAX_KINKS):
                try:
                    value = evaluate(place, self.values, precision=POINT_PRECISION)
                except EvaluationError:
                    continue
                if value != 0:
                    kept.append((place, 1 if value > 0 else -1))
            self._kink_places = tuple(kept)
        return self._kink_places

    def _keep_target_sum(self, given: dict) -> None:
        """Keep Σ targets = 1 at the random points when the sample has it: the derivation may rely on it."""
        targets = self.derivation.network.targets
        if sum(self.given[t] for t in targets) == 1:
            total = sum(given[t] for t in targets)
            for target in targets:
                given[target] = given[target] / total

    def variants(self) -> tuple[Variant, ...]:
        """Return the classic mistakes' variants of the derivation (made once)."""
        if self._variants is None:
            with paused(), self._lock:
                if self._variants is None:
                    self._variants = tuple(variants(self.derivation))
        return self._variants

    def variant_float(self, index: int, symbol: sympy.Symbol) -> float | None:
        """Return `symbol` under variant `index` at the sample in floats (None where floats have no value:
        the exact replay then decides). Each variant is replayed once, for every quantity."""
        if index not in self._variant_floats:
            self._replay_variant(index)
        return _finite(self._variant_floats[index], symbol)

    def _replay_variant(self, index: int) -> dict | None:
        """Return (and keep) every quantity in floats under variant `index` (None where floats cannot)."""
        with paused(), self._lock:
            if index not in self._variant_floats:
                replaced = self._float_replacements(index)
                self._variant_floats[index] = None if replaced is None else self._float_replay(replaced)
            return self._variant_floats[index]

    def _earliest(self, index: int) -> int:
        """Return the place in the program of the first quantity variant `index` replaces."""
        self._float_setup()
        position = self._float_program.position
        return min((position.get(symbol, len(position)) for symbol in self.variants()[index].replaced), default=0)

    def _float_replacements(self, index: int) -> dict | None:
        """Return variant `index`'s definitions compiled to floats (all variants' at once), None where floats
        cannot compute them."""
        if not self._float_replaced:  # every variant's, compiled in one piece (None: floats cannot compute one)
            self._float_replaced = dict(enumerate(FloatProgram.compile_all(v.replaced for v in self.variants())))
        return self._float_replaced[index]

    def _float_replay(self, replaced: dict, base: dict | None = None, changed=None) -> dict | None:
        """Return every quantity in floats with `replaced` (compiled) definitions, or None (a cycle); from
        `base` (a replay of the other replacements) recomputing only what `changed` changes, when given."""
        self._float_setup()
        if self._float_base is None:
            return None
        try:
            if base is not None and changed is not None:
                return self._float_program.replay(base, replaced, changed)
            return self._float_program.replay(self._float_base, replaced)
        except ValueError:
            return None

    def _float_setup(self) -> None:
        """Make the float program and its base values (the derivation's own, exact) once."""
        if self._float_program is None:
            self._float_program = FloatProgram(self.program)
            # The program's own values are the derivation's, exact: only what a variant changes is replayed.
            base = {**self.given, **{s: self.values[s] for s in self.definitions}}
            try:
                self._float_base = {symbol: float(value) for symbol, value in base.items()}
            except TypeError:  # a value that is no real number
                self._float_base = None

    def variant_value(self, index: int, symbol: sympy.Symbol, point: int | None = None) -> sympy.Expr | None:
        """Return `symbol` under variant `index`, at the sample (point None) or at a random point."""
        key = (index, symbol, point)
        if key not in self._variant_values:
            with paused(), self._lock:
                if key not in self._variant_values:
                    self._variant_values[key] = self._run_variant(index, symbol, point)
        return self._variant_values[key]

    def _run_variant(self, index: int, symbol: sympy.Symbol, point: int | None) -> sympy.Expr | None:
        given = self.given if point is None else {s: self.points()[point][s] for s in self.given}
        precision = PRECISION if point is None else POINT_PRECISION
        try:
            values = treeval.run(self.program, given, self.variants()[index].replaced, [symbol], precision)
        except EvaluationError:
            return None
        return values.get(symbol)

    # judging ---------------------------------------------------------------------
    def judge(self, text: str, carried: dict | None = None, student: str | None = None,
              vocabulary: Vocabulary | None = None, right: frozenset = frozenset()) -> Verdict:
        """Return the Verdict on one claim; `carried` holds the student's own earlier numbers (their wrong
        ones; in a whole derivation their right ones as they rounded them too, the quantities of `right`),
        `vocabulary` (this network's, with a student's own names) what the names mean.

        A class writes the same lines: the verdict on a text is kept, with the student's earlier numbers
        it was judged with, and given again to whoever writes the same text after the same numbers."""
        carried, vocabulary = carried or {}, vocabulary or self.vocabulary
        key = (text, id(vocabulary), _state(carried), right)
        kept = self._verdicts.get(key)
        if kept is None or kept[0] is not vocabulary:
            verdict = self._verdict(text, carried, vocabulary, right)
            if verdict.verdict != "correct":
                # A page that writes one name for two quantities (H1 for net and out): the first reading that
                # makes the line right, if one does.
                readings = (self._verdict(text, carried, reading, right) for reading in vocabulary.readings(text))
                verdict = next((v for v in readings if v.verdict == "correct"), verdict)
            kept = (vocabulary, verdict)
            with self._lock:
                if len(self._verdicts) > MAX_KEPT:
                    self._verdicts.clear()
                self._verdicts[key] = kept
        return kept[1] if student is None else dataclasses.replace(kept[1], student=student)

    def _verdict(self, text: str, carried: dict, vocabulary: Vocabulary, right: frozenset = frozenset()) -> Verdict:
        try:
            return self._judge(text, carried, None, vocabulary, right)
        except ClaimTooLarge as error:
            return Verdict(text, "undecided", message=error.message, position=error.position)
        except ClaimError as error:
            return Verdict(text, "unreadable", message=error.message, position=error.position, hint=error.hint)
        except RecursionError:
            return Verdict(text, "undecided", message=Message("claim_too_deep_to_judge"))
        except Exception as error:  # a failure of derive's own: this line undecided, the rest of the class marked
            if os.environ.get("DERIVE_DEBUG"):
                raise
            return Verdict(text, "undecided", message=Message("judge_internal_error", error=type(error).__name__))

    def judge_all(self, texts: Iterable[str], carry_forward: bool = False, student: str | None = None) -> list[Verdict]:
        """Return the verdicts on a student's claims, in order; with `carry_forward`, errors are carried."""
        carried: dict = {}
        verdicts = []
        for text in texts:
            verdict = self.judge(text, carried if carry_forward else None, student)
            if carry_forward and verdict.verdict == "incorrect" and verdict.claimed_value is not None:
                carried[verdict.quantity] = verdict.claimed_value
            verdicts.append(verdict)
        return verdicts

    def judge_document(self, lines: Iterable, student: str | None = None) -> list[Verdict]:
        """Return the verdicts on the equations of a whole derivation (derive.check.lines.Line), in order.

        Errors are carried forward over the whole document, and so are the student's own rounded values: a
        line that is off only because it used them is consistent, its mistake "rounding carried forward".
        A line whose left-hand side names no quantity of
        this network is "skipped"; one that gives a name of the student's own a value (a = δ_o1·out_h1) is
        "defined", and later lines may use the name. Prose lines are left out."""
        carried: dict = {}
        carried_lines: dict = {}  # quantity -> the line its carried value comes from
        written: dict = {}  # quantity -> the value a line judged correct gave it, as the student wrote it
        written_lines: dict = {}
        vocabulary = self.vocabulary
        verdicts = []
        for line in lines:
            if line.kind != "equation":
                continue
            name, definition = self._own_definition(line.text, vocabulary)
            if definition is not None:
                vocabulary = vocabulary.with_names({name: definition})
                verdicts.append(Verdict(line.text, "defined", parts=(Part(definition, None),), student=student,
                                        line=line.number))
                continue
            reading = self._reading(line.text, vocabulary)
            text, left_out = reading if reading is not None else (None, ())
            if text is None:
                verdicts.append(Verdict(line.text, "skipped", student=student, line=line.number))
                continue
            own = {**written, **carried}  # the student's own figures: the wrong ones, and the right ones rounded
            verdict = self.judge(text, own, student, vocabulary, frozenset(written))
            used = self._depends_on(verdict.quantity) if verdict.quantity is not None else frozenset()
            # The lines it was judged with: the wrong values it used, or else the rounded right ones.
            sources = tuple(sorted({carried_lines[q] for q in carried if q in used})) or \
                tuple(sorted({written_lines[q] for q in written if q in used}))
            carries = verdict.consistent or any(link.verdict == "consistent" for link in verdict.links)
            if carries and not any(q in used for q in carried) and (verdict.consistent or verdict.diagnosis is None):
                # Nothing wrong was carried: the student's own rounded values, used in place of the exact ones,
                # moved the result (round at the end, or keep more digits). A line they explain whole has no
                # other mistake, whatever else happens to give its number.
                verdict = dataclasses.replace(verdict, diagnosis=Diagnosis(
                    "rounding_carried", (("lines", ", ".join(map(str, sources))),), verdict.expected_value))
            if verdict.claimed_value is not None and verdict.verdict in ("correct", "incorrect"):
                keep, drop = (written, carried) if verdict.verdict == "correct" else (carried, written)
                keep[verdict.quantity] = verdict.claimed_value
                drop.pop(verdict.quantity, None)
                (written_lines if verdict.verdict == "correct" else carried_lines)[verdict.quantity] = line.number
            verdicts.append(dataclasses.replace(verdict, line=line.number, carried_from=sources if carries else (),
                                                left_out=left_out))
        return verdicts

    def restored(self, verdict: Verdict) -> Verdict:
        """Return a verdict that came from another process with the derivation's own forms put back: they are
        kept as written (unevaluated), and pickling rebuilds them in SymPy's order."""
        step = self.steps.get(verdict.quantity)
        if step is None:
            return verdict
        links = tuple(dataclasses.replace(link, expected=(step.forms[-1] if step.forms else None)
                                          if link.kind == "formula" else step.numbers if link.kind == "substitution"
                                          else None) for link in verdict.links)
        return dataclasses.replace(verdict, expected=step.forms, links=links)

    def _reading(self, text: str, vocabulary: Vocabulary) -> tuple[str, tuple[str, ...]] | None:
        """Return how a line of a page is read: the equation it states about a quantity (see _named,
        _as_update, _without_remark) and the sides left out of it (see _readable_sides); None when it names
        no quantity."""
        named = self._named(text, vocabulary)
        if named is None:
            return None
        return self._readable_sides(self._without_remark(self._as_update(named, vocabulary), vocabulary), vocabulary)

    def _named(self, text: str, vocabulary: Vocabulary) -> str | None:
        """Return the equation a line states about a quantity of the network: the line itself, or the line
        without the words and labels it opens with (`Given: i1 = 0.05`, `learning rate eta = 0.5`, `Step 3:`,
        `Q2:`, `Part (b):`), the quantity after the update where those words say so (`new w5 = …`, `updated
        w5 = …`); an assignment (`w5 ← …`, `w5 := …`) of a parameter gives its value after the update. None
        when it names none."""
        assigned = _ASSIGNED.match(text)
        if assigned is not None:
            name, rest = assigned.group("name").strip(), text[assigned.end():]
            updated = f"{name}_new = {rest}"
            if self._names_a_quantity(updated, vocabulary):  # (only a parameter has a name_new)
                return updated
            text = f"{name} = {rest}"
        text = _UPDATED_MARK.sub(r"\1_new", text, count=1)  # w5(new)
        if self._names_a_quantity(text, vocabulary):
            return text
        sign = EQUALS_SIGN.search(text)
        words = text[:sign.start()].split() if sign is not None else []
        for count in range(1, len(words)):
            word = words[count - 1]
            if not (_PROSE_WORD.fullmatch(word) or _LABEL.fullmatch(word) or count > 1 and word.isdigit()):
                break
            left = " ".join(words[count:])
            if any(w.lower().strip(":,") in _UPDATE_WORDS for w in words[:count]):
                updated = f"{left}_new {text[sign.start():]}"
                if self._names_a_quantity(updated, vocabulary):
                    return updated
            shorter = f"{left} {text[sign.start():]}"
            if self._names_a_quantity(shorter, vocabulary):
                return shorter
        return None

    def _as_update(self, text: str, vocabulary: Vocabulary) -> str:
        """Return `w5 = w5 − η·∂E/∂w5 = …` as the update it states, `w5_new = …`: a parameter on both sides of
        the first = (as a program writes an update) is never the parameter itself. Else the line."""
        try:
            claim = self._parse(text, vocabulary)
        except ClaimError:  # ClaimTooLarge too
            return text
        quantity = claim.quantity
        if not (isinstance(quantity, QuantitySymbol) and quantity.kind.after is not None and claim.parts
                and quantity in claim.parts[0].expression.free_symbols):
            return text
        sign = EQUALS_SIGN.search(text)
        updated = f"{text[:sign.start()].rstrip()}_new {text[sign.start():]}"
        return updated if self._names_a_quantity(updated, vocabulary) else text

    def _without_remark(self, text: str, vocabulary: Vocabulary) -> str:
        """Return an equation line without the words a page writes after its last number (`= 0.5933 (rounded)`,
        `= 0.3775, to four places`, `= 0.3925 which we keep`) when the line reads only without them, their first
        word meaning nothing to this network (a name it knows, `= 0.5 eta`, is a product); else the line."""
        match = _REMARK.search(text)
        if match is None or not vocabulary.is_free(match.group("word") or match.group("bracketed")):
            return text
        shorter = text[:match.start("remark")].rstrip(" ,;:")
        for candidate in (text, shorter):
            try:
                self._parse(candidate, vocabulary)
            except ClaimError:  # ClaimTooLarge too
                continue
            return candidate
        return text

    def _readable_sides(self, text: str, vocabulary: Vocabulary) -> tuple[str, tuple[str, ...]]:
        """Return the chain without the sides between its quantity and its last side that are general formulas
        the claim language cannot read (a sum over an index: `E = Σ ½(t − o)² = ½(0.01 − 0.7514)² + … = 0.2984`),
        and those sides, when the rest reads; else the line and (). The report names what was left out. A side
        unreadable for any other reason (words: `… = E_o1 + E_o2 so dE/dout_h1 = …`) leaves the line unreadable."""
        try:
            self._parse(text, vocabulary)
            return text, ()
        except ClaimTooLarge:
            return text, ()
        except ClaimError:
            pieces = sides(text)
        if len(pieces) < 3:
            return text, ()
        kept, left_out = [pieces[0]], []
        for index, piece in enumerate(pieces[1:], start=1):
            try:
                readable = index == len(pieces) - 1 or self._parse(f"{pieces[0]} = {piece}", vocabulary) is not None
            except ClaimError:  # ClaimTooLarge too
                readable = False
            if not readable and not _SUMMATION.search(piece):
                return text, ()
            (kept if readable else left_out).append(piece)
        if not left_out or len(kept) < 2:
            return text, ()
        shorter = " = ".join(kept)
        try:
            self._parse(shorter, vocabulary)
        except ClaimError:
            return text, ()
        return shorter, tuple(left_out)

    def _names_a_quantity(self, text: str, vocabulary: Vocabulary) -> bool:
        """Return True when the line's left-hand side reads as a quantity of the network (computed or not:
        one it does not compute is still judged, and reported so), or is a marked name (w5', a^{(2)}_1) that
        only the spec's aliases could make one: judged, it is unreadable with the hint that says so."""
        sign = EQUALS_SIGN.search(text)
        if sign is None:
            return False
        try:
            self._parse(f"{text[:sign.start()]} = 0", vocabulary)
        except ClaimTooLarge:
            return True
        except ClaimError as error:
            return error.hint is not None and error.hint.key == "hint_alias"
        return True

    def _own_definition(self, text: str, vocabulary: Vocabulary) -> tuple[str | None, sympy.Expr | None]:
        """Return (name, what it stands for) when the line defines a name of the student's own, else (None, None).
        What it stands for is the first side: the formula (or number) the student gave the name."""
        sign = EQUALS_SIGN.search(text)
        if sign is None:
            return None, None
        name = text[:sign.start()].strip()
        if not vocabulary.is_free(name) or self._names_a_quantity(f"{name} = 0", vocabulary):
            return None, None  # (η is a name the claim language reads as eta)
        try:
            claim = self._parse(f"E {text[sign.start():]}", vocabulary)
        except ClaimError:  # ClaimTooLarge too
            return None, None
        return name, claim.parts[0].expression

    def _judge(self, text: str, carried: dict, student: str | None, vocabulary: Vocabulary,
               right: frozenset = frozenset()) -> Verdict:
        claim = self._parse(text, vocabulary)
        symbol = claim.quantity
        if symbol not in self.values:
            raise ClaimError("claim_not_computed", 1, quantity=text.split("=")[0].strip())
        truth = self.values[symbol]
        step = self.steps.get(symbol)
        expressions = [expand_calls(part.expression) for part in claim.parts]
        judgements = [self._judge_part(claim, index, expression, truth)
                      for index, expression in enumerate(expressions)]
        for index in range(1, len(judgements)):
            # Arithmetic done right from a right side before it is right, though the student's rounding of
            # the numbers put in moved the result a little from the true value.
            if judgements[index].correct is False and judgements[index - 1].correct \
                    and self._link_kind(claim, expressions, index) == "arithmetic":
                value, before = (self._value(expressions[i], self.values) for i in (index, index - 1))
                if value is not None and self._matches(claim, index, value, before):
                    judgements[index] = dataclasses.replace(judgements[index], correct=True, method="from_rounded")
        wrong = next((i for i, j in enumerate(judgements) if j.correct is False), None)
        undecided = next((j for j in judgements if j.correct is None), None)
        verdict = "incorrect" if wrong is not None else "undecided" if undecided else "correct"
        shown = judgements[wrong] if wrong is not None else undecided or judgements[-1]
        diagnosis = consistent = carried_value = None
        if wrong is not None and judgements[wrong].message is None:  # not a number too imprecise to judge
            diagnosis = self._diagnose(claim.parts[wrong], expressions[wrong], symbol, truth, judgements[wrong].tolerance)
        links = self._links(claim, expressions, judgements, step, truth, carried, diagnosis, right)
        if wrong is not None and links[-1].verdict == "correct" and judgements[-1].correct \
                and all(link.verdict in ("correct", "consistent") for link in links):
            # Every step right from the student's own numbers, and the value right: the line is right.
            verdict, wrong, diagnosis, shown = "correct", None, None, judgements[-1]
        if wrong is not None and carried and judgements[-1].value is not None \
                and all(link.verdict in ("correct", "follows", "consistent") for link in links):
            carried_value = self._carried(claim, len(claim.parts) - 1, judgements[-1].value, truth, carried, right)
            following = max((i for i, link in enumerate(links) if link.verdict == "consistent"), default=None)
            if carried_value is None and following is not None and judgements[following].value is not None \
                    and all(link.verdict == "follows" for link in links[following + 1:]):
                # A side that follows from the student's own numbers, then arithmetic done right from it
                # (0.03023·0.24130 = 0.007294): the chain is consistent, whatever the last rounding.
                carried_value = self._carried(claim, following, judgements[following].value, truth, carried, right)
            consistent = carried_value is not None
            if consistent and diagnosis is not None:
                diagnosis = None  # the mistake is the earlier line's, carried here: not named again
        return Verdict(
            text, verdict, symbol, claim.parts,
            expected=step.forms if step else (), expected_value=truth,
            method="carried_forward" if consistent else shown.method, points=shown.points,
            tolerance=shown.tolerance, diagnosis=diagnosis, consistent=bool(consistent),
            carried_value=carried_value, claimed_value=judgements[-1].value, message=shown.message, student=student,
            links=links, held=tuple(dict.fromkeys(g for j in judgements for g in j.held)),
        )

    def _links(self, claim: Claim, expressions: list, judgements: list, step, truth: sympy.Expr, carried: dict,
               diagnosis, right: frozenset = frozenset()) -> tuple[Link, ...]:
        """Return the judgement of each link of the chain (see :class:`Link`)."""
        links: list[Link] = []
        values = {**self.values, **carried}  # the student's own earlier numbers stand for theirs
        for index, (part, expression, judgement) in enumerate(zip(claim.parts, expressions, judgements)):
            kind = self._link_kind(claim, expressions, index)
            expected = (step.forms[-1] if step is not None and step.forms else None) if kind == "formula" else \
                (step.numbers if step is not None and kind == "substitution" else None)
            verdict = "correct" if judgement.correct else "undecided" if judgement.correct is None else "incorrect"
            value = self._value(expression, values)
            if verdict == "incorrect" and kind != "formula" and value is not None:
                previous = links[-1] if links else None
                if previous is not None and previous.verdict != "correct" and previous.value is not None \
                        and self._matches(claim, index, value, previous.value):
                    verdict = "follows"  # the right step from a wrong side
                elif carried and self._carried(claim, index, value, truth, carried, right) is not None:
                    verdict = "consistent"  # what the student's own earlier numbers give
            first = verdict == "incorrect" and not any(link.verdict == "incorrect" for link in links)
            found = None
            if first and kind in ("value", "arithmetic") and value is not None:
                previous = links[-1] if links else None
                right_before = previous is not None and previous.verdict == "correct" and previous.value is not None
                found = self._slip(part, value, previous.value if right_before else truth, kind == "arithmetic"
                                   and right_before)
            links.append(Link(index, kind, verdict, expected, truth, value, (found or diagnosis) if first else None))
        return tuple(links)

    @staticmethod
    def _slip(part: Part, value: sympy.Expr, target: sympy.Expr, after_right_side: bool) -> Diagnosis | None:
        """Return the slip a wrong number shows against what it should be (`target`): the value truncated
        rather than rounded, one unit off in its last digit, or, after a right side, an arithmetic slip;
        None when none of these."""
        literal = part.literal
        if literal is not None and "e" not in literal.lower() and "." in literal:
            decimals = len(literal.partition(".")[2])
            scale = sympy.Integer(10) ** decimals
            truncated = sympy.Integer(int(abs(target) * scale)) / scale * (1 if target >= 0 else -1)
            rounded = round_to(target, decimals)
            written = (("rounded", _fixed(rounded, decimals)),)  # with as many decimals as the number written
            if truncated != rounded and value == truncated:
                return Diagnosis("truncated", written, target)
            if value != rounded and abs(value - rounded) * scale == 1 and significant_digits(literal) >= 3:
                # One unit off in the last place: what rounding earlier values before using them leaves.
                return Diagnosis("last_digit", written, target)
        if after_right_side and not (literal is not None and abs(value - target) <= half_unit(literal)):
            return Diagnosis("arithmetic_slip", (("value", format_number(target, 9)),), target)
        return None

    @staticmethod
    def _link_kind(claim: Claim, expressions: list, index: int) -> str:
        """formula (symbols left), value (a first part that is a number), substitution (numbers put into a
        formula), or arithmetic (a number from numbers)."""
        if expressions[index].free_symbols:
            return "formula"
        before_is_formula = index == 0 or bool(expressions[index - 1].free_symbols)
        if claim.parts[index].literal is not None:
            return "value" if index == 0 else "arithmetic"
        return "substitution" if before_is_formula else "arithmetic"

    @staticmethod
    def _value(expression: sympy.Expr, values: dict) -> sympy.Expr | None:
        try:
            return evaluate(expression, values)
        except EvaluationError:
            return None

    def _matches(self, claim: Claim, index: int, value: sympy.Expr, target: sympy.Expr | None,
                 carried: dict | None = None) -> bool:
        """Return True when part `index` (of `value`) equals `target` to the precision it is written with
        (its numbers roundings of the derivation's values or of the student's `carried` ones)."""
        if target is None:
            return False
        part = claim.parts[index]
        tolerance = self._tolerance(part, target)
        if part.literal is None and self.rel_tol is None:
            tolerance += self._rounding_effect(claim, index, carried)
        return bool(abs(value - target) <= tolerance)


    def _judge_part(self, claim: Claim, index: int, expression: sympy.Expr, truth: sympy.Expr) -> _Judgement:
        """Judge part `index` of a claim; `expression` is that part with σ(x), f'(net) written out."""
        part = claim.parts[index]
        if part.is_number:
            try:
                value = evaluate(expression, {})
            except EvaluationError:
                return _Judgement(False, "number", message=Message("judge_number_not_real"))
            digits = significant_digits(part.literal) if part.literal is not None else None
            if self.policy.min_digits is not None and digits is not None and digits < self.policy.min_digits:
                return _Judgement(False, "number", tolerance=self._tolerance(part, truth), value=value,
                                  message=Message("judge_not_precise", written=digits, digits=self.policy.min_digits))
            tolerance = self._tolerance(part, truth)
            if part.literal is None and self.rel_tol is None:
                tolerance += self._rounding_effect(claim, index)
            return _Judgement(bool(abs(value - truth) <= tolerance), "number", tolerance=tolerance, value=value)
        try:
            at_sample = evaluate(expression, self.values, precision=POINT_PRECISION)
        except EvaluationError:
            return _Judgement(False, "numeric", message=Message("judge_formula_not_real"))
        if not _close(at_sample, truth):
            return _Judgement(False, "numeric", points=1)
        differs = self._differs_at(expression, claim.quantity, self.points())
        if differs is not None:
            held = self._held_givens(claim, index, expression)
            # Targets the quantity uses and the formula leaves out were put in too: −ln(out_o2) for a one-hot
            # target drops the terms its zeros make vanish, as a page does.
            used = self._depends_on(claim.quantity)
            dropped = tuple(t for t in self.derivation.network.targets if t in used and t not in expression.free_symbols)
            for hold in dict.fromkeys((held, tuple(sorted({*held, *dropped}, key=str)))):
                if hold and self._differs_at(expression, claim.quantity, self.points(hold)) is None:
                    return _Judgement(True, "numeric", points=len(self.points(hold)) + 1, held=hold)
            return _Judgement(False, "numeric", points=differs)
        if self._proved(expression, claim.quantity):
            return _Judgement(True, "symbolic")
        return _Judgement(True, "numeric", points=len(self.points()) + 1)

    def _differs_at(self, expression: sympy.Expr, symbol: sympy.Symbol, points) -> int | None:
        """Return the number (2, 3, …: the sample is 1) of the first point where `expression` is not `symbol`.

        The tree is walked at high precision (derive.treeval) where that is sure to decide as evalf would;
        evalf decides the rest. Kept per formula: a class writes one formula in many spellings."""
        key = ("differs", expression, symbol, id(points))
        kept = self._kept.get(key)
        if kept is None or kept[0] is not points:
            kept = (points, self._first_difference(expression, symbol, points))
            self._keep(key, kept)
        return kept[1]

    def _keep(self, key, value) -> None:
        with self._lock:
            if len(self._kept) > MAX_KEPT:
                self._kept.clear()
            self._kept[key] = value

    def _first_difference(self, expression: sympy.Expr, symbol: sympy.Symbol, points) -> int | None:
        walk = self._walker(expression)
        fast = self._fast_points(points) if walk is not None else None
        for number, values in enumerate(points, start=2):
            if walk is not None and symbol in fast[number - 2]:
                try:
                    if not treeval.close(walk(fast[number - 2]), fast[number - 2][symbol]):
                        return number
                    continue
                except (treeval.Unsure, KeyError, ZeroDivisionError, ValueError, OverflowError):
                    pass  # evalf decides this point
            try:
                if not _close(evaluate(expression, values, precision=POINT_PRECISION), values[symbol]):
                    return number
            except EvaluationError:
                return number
        return None

    def _parse(self, text: str, vocabulary: Vocabulary, trace_numbers: bool = False) -> Claim:
        """Return parse_claim(text, vocabulary, trace_numbers), read once per text and vocabulary (a class
        writes the same lines); its ClaimError or ClaimTooLarge is raised again each time. The derivatives
        along the graph it names (∂net_o1/∂w5) are added to the program first (see _extend)."""
        key = (text, id(vocabulary), trace_numbers)
        kept = self._claims.get(key)
        if kept is None or kept[0] is not vocabulary:
            try:
                result = parse_claim(text, vocabulary, trace_numbers)
                self._extend(result)
            except (ClaimError, ClaimTooLarge) as error:
                result = error
            kept = (vocabulary, result)
            with self._lock:
                if len(self._claims) > MAX_KEPT:
                    self._claims.clear()
                self._claims[key] = kept
        if isinstance(kept[1], Exception):
            raise kept[1]
        return kept[1]

    def _extend(self, claim: Claim) -> None:
        """Add to the program every derivative along its graph that `claim` names and the derivation does
        not compute (∂net_o1/∂w5 = out_h1, ∂E_o1/∂out_h1), defined by :func:`derive.graph.derivative` in the
        program's own symbols, with its value at the sample and at the random points drawn so far. The
        float program and the variants' float replays are made again, with it."""
        named = [symbol for symbol in (claim.quantity, *(s for part in claim.parts for s in part.expression.free_symbols))
                 if isinstance(symbol, QuantitySymbol) and symbol.kind in (PARTIAL, TRAINED)]
        if all(symbol in self.values for symbol in named):
            return
        with paused(), self._lock:
            for symbol in dict.fromkeys(named):
                if symbol in self.values:
                    continue
                if len(self.definitions) - len(self.derivation.program) >= MAX_EXTENDED:
                    raise ClaimTooLarge("claim_too_many_derivatives", limit=MAX_EXTENDED)
                if symbol.kind is TRAINED:
                    definition = self._trained(symbol)
                else:
                    top, bottom = symbol.subjects
                    definition = graph.derivative(self.definitions, top, bottom)
                try:
                    value = treeval.run(((symbol, definition),), self.values, precision=PRECISION)[symbol]
                except EvaluationError:
                    raise ClaimError("claim_not_computed", 1, quantity=symbol.claim_name()) from None
                self.definitions = {**self.definitions, symbol: definition}
                self.program = self.program + ((symbol, definition),)
                self.values = {**self.values, symbol: value}
                if self._points is not None:
                    self._points = self._extended(self._points, symbol, definition)
                    self._held_points = {held: self._extended(points, symbol, definition)
                                         for held, points in self._held_points.items()}
                self._float_program, self._float_base = None, None
                self._variant_floats, self._pair_floats, self._known, self._inner = {}, {}, None, {}

    def _trained(self, symbol: QuantitySymbol) -> sympy.Float:
        """Return the value of E_after_N (an output, a parameter) by a training run of N updates of the
        derivation (derive.train, float64: every digit a claim can write), the same at every random point."""
        from ..train import train
        quantity, count = symbol.subjects
        steps = int(count)
        runs = self.__dict__.setdefault("_runs", {})
        run = runs.get(steps)
        if run is None:
            try:
                run = runs[steps] = train(self.derivation, steps, every=max(1, steps))
            except DeriveError:
                raise ClaimError("claim_not_computed", 1, quantity=symbol.claim_name()) from None
        value = run.loss if quantity.kind.name == "loss" else run.outputs[0][quantity.subjects[0]] \
            if quantity.kind.name == "out" else run.params[quantity.subjects[0]]
        return sympy.Float(repr(value), 17)

    @staticmethod
    def _extended(points: tuple[dict, ...], symbol: sympy.Symbol, definition: sympy.Expr) -> tuple[dict, ...]:
        extended = []
        for values in points:
            try:
                value = treeval.run(((symbol, definition),), values, precision=POINT_PRECISION)[symbol]
            except EvaluationError:
                value = sympy.nan
            extended.append({**values, symbol: value})
        return tuple(extended)

    def _walker(self, expression: sympy.Expr):
        """Return the tree-walking evaluator of `expression` (made once), or None for a tree it cannot walk."""
        walker = self._walkers.get(expression, False)
        if walker is False:
            try:
                walker = treeval.evaluator(expression)
            except (treeval.Unsupported, RecursionError):
                walker = None
            with self._lock:
                if len(self._walkers) > MAX_KEPT:
                    self._walkers.clear()
                self._walkers[expression] = walker
        return walker

    def _fast_points(self, points) -> list[dict]:
        """Return the random points' values as mpmath numbers, for the tree-walking evaluator (made once)."""
        key = id(points)
        kept = self._mpf_points.get(key)
        if kept is None or kept[0] is not points:
            with paused(), self._lock:
                converted = []
                for values in points:
                    row = {}
                    for symbol, value in values.items():
                        try:
                            row[symbol] = treeval.number(value)
                        except treeval.Unsupported:
                            continue
                    converted.append(row)
                kept = self._mpf_points[key] = (points, converted)
        return kept[1]

    def _held_givens(self, claim: Claim, index: int, expression: sympy.Expr) -> tuple:
        """Return the givens (weights, inputs, targets, η) part `index` writes as numbers: each given that is
        not in the formula as a symbol while one of its numbers equals the given's value to the precision
        it is written with (0.15 for w1 = 0.15). Sorted by name; () when there are none."""
        try:
            traced = self._parse(claim.text, claim.vocabulary or self.vocabulary, trace_numbers=True)
        except (ClaimError, ClaimTooLarge):
            return ()
        numbers = [traced.numbers[s] for s in traced.parts[index].expression.free_symbols if s in traced.numbers]
        present, used = expression.free_symbols, self._depends_on(claim.quantity)

        def written_as(value) -> bool:  # the given's own figure, or it rounded to the digits written
            return any(number == value or abs(number - value) < unit for number, unit in numbers)

        return tuple(sorted((given for given, value in self.given.items()
                             if given in used and given not in present and written_as(value)), key=str))

    def _depends_on(self, symbol: sympy.Symbol) -> frozenset:
        """Return every symbol the definition of `symbol` uses, directly or through other quantities."""
        kept = self._dependencies.get(symbol)
        if kept is None:
            seen, frontier = set(), [symbol]
            while frontier:
                for used in self.definitions.get(frontier.pop(), sympy.Integer(0)).free_symbols:
                    if used not in seen:
                        seen.add(used)
                        frontier.append(used)
            kept = self._dependencies[symbol] = frozenset(seen)
        return kept

    def _moves(self, variant: Variant, symbol: sympy.Symbol) -> bool:
        """Return False when `variant` replaces neither `symbol` nor anything it depends on: it leaves the
        quantity's value as it is, so it cannot be the mistake behind a wrong value of it."""
        return symbol in variant.replaced or not self._depends_on(symbol).isdisjoint(variant.replaced)

    def _tolerance(self, part: Part, truth: sympy.Expr) -> sympy.Expr:
        """The precision a number claim is held to: --rel-tol, else half a unit in the last place written."""
        slack = sympy.Float("1e-12", PRECISION) * abs(truth) + sympy.Float("1e-40", PRECISION)
        if self.rel_tol is not None:
            return self.rel_tol * abs(truth) + slack
        unit = half_unit(part.literal) if part.literal is not None else 0
        return unit * (1 + 2 * self.policy.last_digit) + slack

    def _rounding_effect(self, claim: Claim, index: int, carried: dict | None = None) -> sympy.Expr:
        """Return how far computed part `index` may move when each number in it is off by half a unit in
        its last place (first order: Σ |∂f/∂x|·u), counting only the numbers that are roundings of a value
        of the derivation or of the student's `carried` numbers; the problem's own figures are exact, and a
        number that is no rounding of anything, or has fewer than 3 significant digits, is held as written
        (0.76 for an out of 0.7514 carries no slack that would excuse it)."""
        try:
            traced = self._parse(claim.text, claim.vocabulary or self.vocabulary, trace_numbers=True)
        except ClaimTooLarge:  # not a hand calculation: held to the working precision
            return sympy.Integer(0)
        expression = expand_calls(traced.parts[index].expression)
        given = {abs(value) for value in self.given.values()}
        values = {symbol: value for symbol, (value, _) in traced.numbers.items()}
        known = self._rounded_values() + self._inner_values(claim, index) + \
            sorted({abs(float(v)) for v in (carried or {}).values()})

        def rounds(value, unit) -> bool:
            number, slack = abs(float(value)), float(unit) * (1 + 1e-9)
            if number < 2 * float(unit) * MIN_ROUNDED_DIGITS_SCALE:  # too few digits to tell what it rounds
                return False
            return any(abs(number - v) <= slack for v in known)

        def bound() -> sympy.Expr:
            total = sympy.Integer(0)
            for symbol, (value, unit) in traced.numbers.items():
                if unit != 0 and abs(value) not in given and expression.has(symbol) and rounds(value, unit):
                    total += abs(evaluate(calculus.differentiate(expression, symbol), values)) * unit
            return total

        if _nodes_at_most(expression, DIRECT_ROUNDING_NODES):
            return bound()  # a hand calculation's size bounds the work: no call budget (whose counting costs)
        return within(ROUNDING_CALLS, bound, sympy.Integer(0))

    def _inner_values(self, claim: Claim, index: int) -> list[float]:
        """Return |v| of every compound sub-expression, at the network's values, of the quantity's definition and
        of the claim's sides before part `index`: the numbers worked out on the way, which a student rounds
        too (0.6856 for exp(−net_h1) in `= 1/(1 + 0.6856)`, each exp(net) of a softmax). Sides too large for a
        hand calculation add none."""
        sides = tuple(part.expression for part in claim.parts[:index])
        key = (claim.quantity, sides)
        found = self._inner.get(key)
        if found is None:
            values: set[float] = set()
            for expression in (self.definitions.get(claim.quantity), *sides):
                if expression is None:
                    continue
                expression = expand_calls(expression)
                if not _nodes_at_most(expression, DIRECT_ROUNDING_NODES):
                    continue
                for node in sympy.preorder_traversal(expression):
                    if not isinstance(node, sympy.Expr) or node.is_Atom:
                        continue  # (a Piecewise's condition pairs and relations are not values)
                    try:
                        values.add(abs(float(evaluate(node, self.values))))
                    except (EvaluationError, TypeError, ValueError, ArithmeticError):
                        pass  # a part with no real value at the sample gives no slack
            found = sorted(values)
            with self._lock:
                if len(self._inner) > MAX_KEPT:
                    self._inner.clear()
                self._inner[key] = found
        return found

    def _rounded_values(self) -> list[float]:
        """Return |v| of every value of the derivation: the numbers a student rounds."""
        if self._known is None:
            self._known = sorted({abs(float(v)) for v in self.values.values() if v.is_number})
        return self._known

    # symbolic proof --------------------------------------------------------------------
    def _proved(self, expression: sympy.Expr, symbol: sympy.Symbol) -> bool:
        """Return True when SymPy shows expression == symbol's definition quickly; False when it cannot."""
        key = (expression, symbol)
        if key not in self._exact:
            try:
                proved = within(PROOF_CALLS, lambda: self._prove(expression, symbol), False)
            except RecursionError:
                proved = False
            self._exact[key] = proved
        return self._exact[key]

    def _prove(self, expression: sympy.Expr, symbol: sympy.Symbol) -> bool:
        if self._prove_stepwise(expression, symbol):
            return True
        for keep_nets in (True, False):
            left, right = self._expanded(expression, keep_nets), self._expanded(symbol, keep_nets)
            if right == symbol and keep_nets and symbol in self.definitions:
                continue  # a net kept as a variable is no identity to prove: expanded, it may be one
            if sympy.count_ops(left) + sympy.count_ops(right) > MAX_EXACT_OPS:
                continue
            difference = left - right
            if difference == 0 or sympy.cancel(difference) == 0:
                return True
            # simplify() on a Piecewise (a ReLU's f′) spends seconds on its conditions and seldom decides:
            # such a formula is held to the random points on the sample's side (see _draw_points) instead.
            if not difference.has(sympy.Piecewise) and sympy.simplify(difference) == 0:
                return True
        return False

    def _prove_stepwise(self, expression: sympy.Expr, symbol: sympy.Symbol) -> bool:
        """Return True when expression − the definition of `symbol` vanishes once some quantities are replaced by
        their definitions, one at a time: the latest in the program of those only one side uses (else of those
        either side uses), so what both sides share stays one variable. A student's δ_h1 = (δ_o1·w5 + δ_o2·w7)·
        out_h1·(1 − out_h1) against δ_h1 = (δ_o1·w5 + δ_o2·w7)·f′(net_h1) needs f′ and out replaced, never the
        δ_o: a small cancellation where expanding everything makes a large one. False when this finds no proof
        (the full expansion may still find one)."""
        definition = self.definitions.get(symbol)
        if definition is None:
            return False
        place = {s: index for index, (s, _) in enumerate(self.program)}
        left, right, cancelled = expression, definition, 0
        for _ in range(len(place) + 1):
            difference = left - right
            if difference == 0:
                return True
            used_left = {s for s in free_symbols(left) if s in place}
            used_right = {s for s in free_symbols(right) if s in place}
            candidates = used_left ^ used_right
            if not candidates:  # both sides in the same quantities: cancel, if small
                if cancelled < STEPWISE_CANCELS and sympy.count_ops(difference) <= MAX_STEPWISE_OPS:
                    cancelled += 1
                    if sympy.cancel(difference) == 0:
                        return True
                candidates = used_left | used_right
                if not candidates:
                    return False
            latest = max(candidates, key=place.__getitem__)
            # A quantity one side uses that the other's uses in its definition (net_o1 and out_o1 = σ(net_o1)):
            # replace the user, which brings it to that side, rather than the used, which leads away from it.
            other = used_right if latest in used_left else used_left
            users = [s for s in other if latest in free_symbols(self.definitions[s])]
            if users:
                latest = max(users, key=place.__getitem__)
            replace = {latest: self.definitions[latest]}
            left, right = left.xreplace(replace), right.xreplace(replace)
        return False

    def _expanded(self, expression: sympy.Expr, keep_nets: bool) -> sympy.Expr:
        """Return `expression` with every quantity replaced by its definition (nets kept as variables if asked)."""
        replace = {s: d for s, d in self.definitions.items() if not (keep_nets and s.kind is NET)}
        for _ in range(len(self.definitions) + 1):
            expanded = expression.xreplace(replace)
            if expanded == expression:
                break
            expression = expanded
        return expression

    # mistakes and carried errors ---------------------------------------------------------
    def _diagnose(self, part: Part, expression: sympy.Expr, symbol: sympy.Symbol, truth: sympy.Expr,
                  tolerance) -> Diagnosis | None:
        """Return the mistake that reproduces a wrong part; of several, the one made nearest the quantity.
        Kept per formula, and per number and precision."""
        if part.literal is not None and (significant_digits(part.literal) or MIN_DIAGNOSED_DIGITS) < MIN_DIAGNOSED_DIGITS:
            return None  # 0.76: so many values round to it that naming the mistake behind it would be a guess
        try:
            claimed = evaluate(expression, self.values)
        except EvaluationError:
            return None
        key = ("diagnosis", symbol, part.is_number, claimed if part.is_number else expression,
               tolerance if part.is_number else None)
        kept = self._kept.get(key)
        if kept is None:
            kept = (self._find_mistake(part, expression, symbol, truth, tolerance, claimed),)
            self._keep(key, kept)
        return kept[0]

    def _find_mistake(self, part: Part, expression: sympy.Expr, symbol: sympy.Symbol, truth: sympy.Expr,
                      tolerance, claimed: sympy.Expr) -> Diagnosis | None:
        found = []
        claimed_float = float(claimed)
        for index, variant in enumerate(self.variants()):
            if not self._moves(variant, symbol):
                continue
            # A float replay first (compiled from the variant's definitions): a variant it puts clearly
            # away from the claim cannot reproduce it; the exact replay below decides for the others.
            screened = self.variant_float(index, symbol)
            slack = (float(tolerance) if part.is_number else 0.0) + 1e-9 * (abs(claimed_float) + abs(screened or 0)) \
                + 1e-12
            if screened is not None and abs(screened - claimed_float) > slack:
                continue
            value = self.variant_value(index, symbol)
            if value is None:
                continue
            if part.is_number:
                matches = abs(value - truth) > tolerance and abs(value - claimed) <= tolerance
            else:
                matches = not _close(value, truth) and _close(value, claimed) and all(
                    self._agrees_at(expression, index, symbol, point) for point in range(CONFIRM_POINTS))
            if matches:
                found.append((self._distance(symbol, variant), index, Diagnosis(variant.mistake, variant.details, value)))
        if found:
            return min(found, key=lambda entry: entry[:2])[2]
        return self._pair(symbol, claimed, truth, tolerance, None if part.is_number else expression)

    def _pair(self, symbol: sympy.Symbol, claimed: sympy.Expr, truth: sympy.Expr, tolerance,
              formula: sympy.Expr | None = None) -> Diagnosis | None:
        """Return two mistakes made together that reproduce a wrong part (tried only when no single one
        does): of the variants that move the quantity, the first pair in their order whose float replay
        lands on the claim (a number, or a `formula`'s value at the sample) and whose exact replay confirms
        it (for a formula, at CONFIRM_POINTS random points too); None when none does. Two mistakes in one
        definition are composed, the second made on what the first made (see mistakes.composed)."""
        truth_float, claimed_float = float(truth), float(claimed)
        slack = float(tolerance) if formula is None else 1e-9 * abs(claimed_float)
        variants = self.variants()
        touching = [index for index, variant in enumerate(variants) if self._moves(variant, symbol)
                    and self.variant_float(index, symbol) is not None]
        moving = [index for index in touching if abs(self.variant_float(index, symbol) - truth_float) > slack]
        # Then, for a formula (confirmed at random points, so no coincidence), a mistake that touches the
        # quantity but happens to leave its value with one that moves it: softmax's diagonal-only Jacobian
        # with cross-entropy is right at the target's unit, not with the wrong loss's ∂E/∂out.
        still = [index for index in touching if index not in moving] if formula is not None else []
        pairs = []
        for candidates in (list(itertools.combinations(moving[:MAX_PAIRED], 2)),
                           [tuple(sorted((a, b))) for b in still[:MAX_PAIRED] for a in moving[:MAX_PAIRED]]):
            candidates = [(a, b) for a, b in candidates if variants[a].mistake != variants[b].mistake]
            # Mistakes in two definitions first, then the first MAX_COMPOSED pairs in one definition
            # (composed: each is a mistake made again on a changed program, the costliest to try).
            apart = [pair for pair in candidates if set(variants[pair[0]].replaced).isdisjoint(variants[pair[1]].replaced)]
            pairs += apart + [pair for pair in candidates if pair not in apart][:MAX_COMPOSED]
        for a, b in pairs:
            first, second = variants[a], variants[b]
            screened = self._pair_float(a, b, symbol)
            if screened is None or abs(screened - claimed_float) > slack + 1e-9 * abs(claimed_float) + 1e-12:
                continue
            replaced = self._pair_replaced(a, b)
            try:
                value = treeval.run(self.program, self.given, replaced, [symbol], PRECISION)[symbol]
            except (EvaluationError, ValueError):
                continue
            if formula is None:
                found = abs(value - truth) > tolerance and abs(value - claimed) <= tolerance
            else:
                found = not _close(value, truth) and _close(value, claimed) and all(
                    self._pair_agrees_at(formula, replaced, symbol, point) for point in range(CONFIRM_POINTS))
            if found:
                return Diagnosis(first.mistake, first.details, value,
                                 also=Diagnosis(second.mistake, second.details, value))
        return None

    def _pair_replaced(self, a: int, b: int) -> dict | None:
        """Return the definitions variants a and b replace when both are made (kept; None: they cannot be)."""
        key = ("pair", a, b)
        kept = self._kept.get(key)
        if kept is None:
            variants = self.variants()

            def made(function):  # the mistake's variants on top of variant a, made once for every b
                made_key = ("made", a, function)
                found = self._kept.get(made_key)
                if found is None:
                    found = list(function(changed(self.derivation, variants[a])))
                    self._keep(made_key, found)
                return found

            with paused():
                kept = (composed(self.derivation, variants[a], variants[b], made),)
            self._keep(key, kept)
        return kept[0]

    def _pair_agrees_at(self, formula: sympy.Expr, replaced: dict, symbol: sympy.Symbol, point: int) -> bool:
        values = self.points()[point]
        try:
            expected = treeval.run(self.program, {s: values[s] for s in self.given}, replaced, [symbol],
                                   POINT_PRECISION)[symbol]
            return _close(evaluate(formula, values, precision=POINT_PRECISION), expected)
        except (EvaluationError, ValueError):
            return False

    def _pair_float(self, a: int, b: int, symbol: sympy.Symbol) -> float | None:
        """Return `symbol` with variants a and b made together, in floats (every quantity replayed once a pair)."""
        key = (a, b)
        if key not in self._pair_floats:
            with paused(), self._lock:
                if key not in self._pair_floats:
                    first, second = self._float_replacements(a), self._float_replacements(b)
                    variants = self.variants()
                    if set(variants[a].replaced).isdisjoint(variants[b].replaced):
                        merged = None if first is None or second is None else {**first, **second}
                        # From the replay of the variant whose change starts earlier, only what the other
                        # changes is computed again.
                        early, late = sorted((a, b), key=self._earliest)
                        base, changed = self._replay_variant(early), variants[late].replaced
                    else:  # one definition changed by both: the composition, compiled for this pair
                        replaced = self._pair_replaced(a, b)
                        try:
                            merged = None if replaced is None else FloatProgram.compile(replaced)
                        except ValueError:
                            merged = None
                        base = changed = None
                    self._pair_floats[key] = None if merged is None else self._float_replay(merged, base, changed)
        return _finite(self._pair_floats[key], symbol)

    def _distance(self, symbol: sympy.Symbol, variant: Variant) -> int:
        """Return how many definitions lie between `symbol` and the nearest one `variant` replaces."""
        frontier, seen, distance = [symbol], {symbol}, 0
        while frontier:
            if any(s in variant.replaced for s in frontier):
                return distance
            following = []
            for s in frontier:
                for used in self.definitions.get(s, sympy.Integer(0)).free_symbols:
                    if used not in seen:
                        seen.add(used)
                        following.append(used)
            frontier, distance = following, distance + 1
        return distance

    def _agrees_at(self, expression: sympy.Expr, index: int, symbol: sympy.Symbol, point: int) -> bool:
        expected = self.variant_value(index, symbol, point)
        try:
            return expected is not None and _close(evaluate(expression, self.points()[point], precision=POINT_PRECISION),
                                                   expected)
        except EvaluationError:
            return False

    def _carried(self, claim: Claim, index: int, claimed: sympy.Expr, truth: sympy.Expr,
                 carried: dict, right: frozenset = frozenset()) -> sympy.Expr | None:
        """Return the quantity recomputed from the student's earlier numbers, when part `index` of the claim
        (of value `claimed`) follows from them to the precision it is written with.

        No credit when the recomputed value equals the true one (nothing was
        carried), is zero, or equals one of the carried numbers (a copy, not
        a computation), unless that number was judged right (of `right`) and
        the quantity is its copy in truth too (∂E/∂b = δ, ∂E/∂w = δ·1).
        """
        carried = {symbol: value for symbol, value in carried.items() if symbol != claim.quantity}  # not itself
        try:
            recomputed = treeval.run(self.program, self.given, carried, [claim.quantity], PRECISION)
        except (EvaluationError, ValueError):
            return None
        value = recomputed[claim.quantity]
        tolerance = self._tolerance(claim.parts[index], value)
        trivial = abs(value) <= tolerance or any(
            abs(value - c) <= tolerance and not (q in right and abs(truth - self.values.get(q, truth + 1)) <= tolerance)
            for q, c in carried.items())
        # The numbers put in may be roundings of the student's own values and of what follows from them. Nothing
        # was carried when the student's numbers leave the quantity as it is (to the working precision; a
        # rounded input that moves it by less than the written precision may still decide its last digit).
        unmoved = abs(value - truth) <= sympy.Float("1e-12", PRECISION) * abs(truth) + sympy.Float("1e-40", PRECISION)
        if unmoved or trivial or not self._matches(claim, index, claimed, value, recomputed):
            return None
        return value


_SUMMATION = re.compile(r"[Σ∑]|\\sum(?![A-Za-z])")  # a general formula over an index (Σ_k δ_k w_kj)
_PROSE_WORD = re.compile(r"\(?(?:[A-Za-z]{2,}|I):?")  # a word of prose opening an equation's line (Given:, rate, (I)
_LABEL = re.compile(r"(?:\(?[A-Za-z]?\d{1,3}[a-z]?\)?|\(?[a-z]\)|[A-Za-z]\d{1,3}):")  # 3:, Q2:, (b):, 2a:
_UPDATE_WORDS = {"new", "updated", "update"}  # opening words that make the quantity the one after the update
_ASSIGNED = re.compile(r"^\s*(?P<name>[^=←:\\]+?)\s*(?:←|:=|<-|\\leftarrow(?![A-Za-z]))\s*")  # w5 ← …, w5 := …
_UPDATED_MARK = re.compile(r"^\s*([A-Za-z][A-Za-z0-9_{}]*)\s*\(\s*(?:new|updated)\s*\)")  # w5(new) = …
# Words after an equation's last number: a remark in brackets, or a run of words; prose only (letters, digits,
# spaces and light punctuation: no operator, bracket, quote or underscore of code).
_PROSE = r"[A-Za-z0-9\s.,;:'’\-]*"
_REMARK = re.compile(rf"[=≈][^=≈]*\d\.?\s*[,;:]?\s*(?P<remark>\(\s*(?P<bracketed>[A-Za-z]{{2,}}){_PROSE}\)"
                     rf"|(?P<word>[A-Za-z]{{2,}})(?![A-Za-z0-9_({{]){_PROSE})$")


def _nodes_at_most(expression: sympy.Expr, limit: int) -> bool:
    """Return True when the tree has at most `limit` nodes (counting stops past it)."""
    return sum(1 for _ in itertools.islice(sympy.preorder_traversal(expression), limit + 1)) <= limit


def check(derivation: Derivation, claims: Iterable[str], carry_forward: bool = False,
          rel_tol: float | None = None) -> list[Verdict]:
    """Return the verdicts on `claims` (one student's, in order) about `derivation` (or a Spec)."""
    if not isinstance(derivation, Derivation):
        from ..derivation import derive
        derivation = derive(derivation)
    return Judge(derivation, rel_tol).judge_all(claims, carry_forward)
