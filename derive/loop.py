"""The training loop over a compiled plan: floats only, no SymPy (a cached plan runs without it).

A :class:`Plan` is what :func:`derive.train.plan` makes of a derivation: the generated float code of
one update (or, for batches of several samples, of each sample's gradients and of the update rule's
lines apart), of the forward pass and loss, where each value goes in, the samples, the batch mode and
the starting values. It is plain data (:meth:`Plan.to_data` / :meth:`Plan.from_data`), so a training
run's plan can be kept on disk (derive.cache) and run again without deriving; its code is compiled
only after derive.safecode has checked it, whether it was just generated or read back.

Several samples are taken in batches: `full` (every sample in every update), `each` (one per update,
in order) or a mini-batch size N (each epoch, the samples in the order the next shuffle of one
``random.Random(seed)`` gives, N at a time, the last batch holding what is left). A batch's gradient
is the mean (or, with `batch_loss: sum`, the sum) of its samples' gradients, and the loss reported is
the mean (sum) of every sample's loss.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Callable, Iterator

from .errors import DeriveError
from .safecode import compile_checked

MAX_STEPS = 10_000_000  # updates one run may make
MAX_HISTORY = 100_000   # losses one run keeps (every K steps)
PLAN_FORMAT = 1         # the version of Plan.to_data's layout


class TrainingError(DeriveError):
    """A run that cannot go on: a loss or parameter that is no longer a finite number."""


@dataclass(frozen=True)
class Run:
    """A training run: the loss, outputs and parameters after `steps` updates, and the loss every `every`
    steps (`history`: (step, loss) pairs, step 0 the loss before any update). `outputs` holds each sample's
    output values (one mapping per sample); `optimizer` is the update rule's name; `learning_rate` (exact,
    as a decimal), `batch` and `samples` describe the run for its report."""

    steps: int
    loss: float
    outputs: tuple[dict[str, float], ...]
    params: dict[str, float]
    history: tuple[tuple[int, float], ...]
    every: int
    optimizer: str = "sgd"
    batches: int = 1  # updates in one epoch (one pass over the samples)
    learning_rate: str = ""
    batch: str | int = "full"
    samples: int = 1


@dataclass(frozen=True)
class Piece:
    """One compiled function of a plan: its generated `source` (a function `program`), the `arguments` it
    starts from, and where each carried value, sample value and combined gradient goes in (None: not an
    argument of this function), and the update's number t (`step_at`)."""

    source: str
    arguments: tuple[float, ...]
    carried_at: tuple[int | None, ...]
    sample_at: tuple[int | None, ...]
    step_at: int | None = None
    gradient_at: tuple[int | None, ...] = ()
    function: Callable = field(default=None, repr=False, compare=False)

    def compiled(self) -> "Piece":
        """Return this piece with its source compiled (checked by derive.safecode first)."""
        function = compile_checked(self.source, "<derive training>")["program"]
        arity = function.__code__.co_argcount
        places = [p for p in (*self.carried_at, *self.sample_at, *self.gradient_at, self.step_at) if p is not None]
        if len(self.arguments) != arity or any(not 0 <= p < arity for p in places):
            raise ValueError("a piece's arguments do not fit its function")
        return Piece(self.source, self.arguments, self.carried_at, self.sample_at, self.step_at, self.gradient_at,
                     function)


@dataclass(frozen=True)
class Plan:
    """A training run's compiled step, as data (see the module docstring). `carried` counts the values each
    update changes (the trainable parameters, then the rule's state); `params` is every parameter as
    (name, its place among the carried values or None when it is not trained, its value); `gradient` is
    None when every batch holds one sample (the update piece then computes the whole step)."""

    optimizer: str
    learning_rate: str
    batch: str | int
    batch_loss: str
    seed: int
    samples: tuple[tuple[float, ...], ...]
    params: tuple[tuple[str, int | None, float], ...]
    outputs: tuple[str, ...]
    initial: tuple[float, ...]
    update: Piece
    forward: Piece
    gradient: Piece | None = None
    form: str = "scalar"  # or "matrix": the carried values are arrays (derive.matrix), given as nested lists

    def to_data(self) -> dict:
        """Return the plan as JSON-ready data."""
        def piece(p: Piece | None):
            return None if p is None else {"source": p.source, "arguments": list(p.arguments),
                                           "carried_at": list(p.carried_at), "sample_at": list(p.sample_at),
                                           "step_at": p.step_at, "gradient_at": list(p.gradient_at)}
        return {"format": PLAN_FORMAT, "optimizer": self.optimizer, "learning_rate": self.learning_rate,
                "batch": self.batch, "batch_loss": self.batch_loss, "seed": self.seed,
                "samples": [list(s) for s in self.samples], "params": [list(p) for p in self.params],
                "outputs": list(self.outputs), "initial": list(self.initial), "update": piece(self.update),
                "forward": piece(self.forward), "gradient": piece(self.gradient), "form": self.form}

    @classmethod
    def from_data(cls, data) -> "Plan":
        """Return the plan `data` describes, its code compiled; ValueError when it is not one (a cache entry
        from elsewhere, or damaged), whatever it holds."""
        try:
            if data["format"] != PLAN_FORMAT:
                raise ValueError("another format")

            form = data.get("form", "scalar")
            if form not in ("scalar", "matrix"):
                raise ValueError("another form")

            def number(value, depth=0):  # a float, or (the matrix form) nested lists of floats
                if type(value) in (int, float):
                    return float(value)
                if form == "matrix" and type(value) is list and depth < 2 and value:
                    return [number(v, depth + 1) for v in value]
                raise ValueError("not a number")

            def numbers(values):
                return tuple(number(v) for v in list(values))

            def places(values):
                values = list(values)
                if not all(v is None or type(v) is int for v in values):
                    raise ValueError("not places")
                return tuple(values)

            def piece(entry):
                if entry is None:
                    return None
                step = entry["step_at"]
                if not (step is None or type(step) is int) or not isinstance(entry["source"], str):
                    raise ValueError("not a piece")
                return Piece(entry["source"], numbers(entry["arguments"]), places(entry["carried_at"]),
                             places(entry["sample_at"]), step, places(entry["gradient_at"])).compiled()

            params = tuple((str(name), place, float(value)) for name, place, value in data["params"])
            if not all(place is None or type(place) is int or (type(place) is list and 1 <= len(place) <= 3
                                                               and all(type(i) is int for i in place))
                       for _, place, _ in params):
                raise ValueError("not places")
            batch = data["batch"]
            if batch not in ("full", "each") and not (type(batch) is int and batch >= 1):
                raise ValueError("not a batch")
            plan = cls(str(data["optimizer"]), str(data["learning_rate"]), batch, str(data["batch_loss"]),
                       int(data["seed"]), tuple(numbers(s) for s in data["samples"]), params,
                       tuple(str(o) for o in data["outputs"]), numbers(data["initial"]), piece(data["update"]),
                       piece(data["forward"]), piece(data["gradient"]), form)
        except (KeyError, TypeError, IndexError, AttributeError) as error:
            raise ValueError(f"not a plan: {error}") from None
        if plan.update is None or plan.forward is None or not plan.samples:
            raise ValueError("not a plan: a piece is missing")
        return plan

    def compiled(self) -> "Plan":
        """Return the plan with every piece's code compiled."""
        from dataclasses import replace
        return replace(self, update=self.update.compiled(), forward=self.forward.compiled(),
                       gradient=self.gradient.compiled() if self.gradient is not None else None)


def batches_per_epoch(spec) -> int:
    """Return how many updates make one pass over the samples (of a spec or a plan), by its `batch`."""
    count = len(spec.samples)
    return 1 if spec.batch == "full" else count if spec.batch == "each" else -(-count // spec.batch)


def batch_order(spec, rng: random.Random | None = None) -> list[list[int]]:
    """Return the batches of one epoch (sample indices from 0): every sample (full), one at a time in order
    (each), or mini-batches in the order `rng` draws (a new ``random.Random(spec.seed)`` unless given)."""
    count = len(spec.samples)
    if spec.batch == "full":
        return [list(range(count))]
    if spec.batch == "each":
        return [[index] for index in range(count)]
    order = list(range(count))
    (rng or random.Random(spec.seed)).shuffle(order)
    return [order[start:start + spec.batch] for start in range(0, count, spec.batch)]


def batches(spec) -> Iterator[list[int]]:
    """Yield the batches of every update in turn, epoch after epoch: each epoch's mini-batch order is the
    next shuffle of one ``random.Random(spec.seed)``, so a run is the same on every machine."""
    rng = random.Random(spec.seed)
    while True:
        yield from batch_order(spec, rng)


def _finite(results) -> bool:
    """Return True when every result is a finite real number (or, in the matrix form, an array of them)."""
    for value in results:
        if isinstance(value, float):
            if not math.isfinite(value):
                return False
        elif not (getattr(value, "dtype", None) is not None and value.dtype.kind == "f" and _all_finite(value)):
            return False  # a complex number, or an array that is not all finite reals
    return True


def _all_finite(array) -> bool:
    import numpy
    return bool(numpy.isfinite(array).all())


def _value(value):
    """Return a starting value as the code takes it: a float, or (the matrix form) a float64 array."""
    if isinstance(value, list):
        import numpy
        return numpy.array(value, dtype=numpy.float64)
    return value


def _parameter(current: list, place) -> float:
    """Return a trained parameter's value: current[place], or an entry of an array (place a list)."""
    if isinstance(place, list):
        value = current[place[0]]
        for index in place[1:]:
            value = value[index]
        return float(value)
    return float(current[place])


PROGRESS_POINTS = 200  # how often, at most, a run reports its progress


def run(plan: Plan, steps: int, every: int | None = None, progress: Callable[[int], None] | None = None) -> Run:
    """Return the run of `steps` updates by `plan`, keeping the loss every `every` steps (default: about a
    hundred points of the curve); `progress(n)` is told of every n updates made (a progress bar)."""
    if not 0 <= steps <= MAX_STEPS:
        raise ValueError(f"steps must be between 0 and {MAX_STEPS}")
    every = every or max(1, steps // 100)
    if steps // every > MAX_HISTORY:
        raise ValueError(f"at most {MAX_HISTORY} losses are kept: choose a larger every")
    if plan.update.function is None:
        plan = plan.compiled()
    update, gradient, mean = plan.update, plan.gradient, plan.batch_loss == "mean"
    update_args, function = [_value(a) for a in update.arguments], update.function
    current = [_value(v) for v in plan.initial]
    history = [(0, _loss(plan, current, mean)[0])]
    schedule = batches(plan)
    if gradient is not None:
        gradient_args, gradient_function = [_value(a) for a in gradient.arguments], gradient.function
        gradient_carried = [(argument, position) for position, argument in enumerate(gradient.carried_at)
                            if argument is not None]
    chunk = max(1, steps // PROGRESS_POINTS)
    for step in range(1, steps + 1):
        batch = next(schedule)
        if progress is not None and step % chunk == 0:
            progress(chunk)
        try:
            if gradient is None:
                for position, value in zip(update.sample_at, plan.samples[batch[0]]):
                    if position is not None:
                        update_args[position] = value
            else:
                for argument, position in gradient_carried:
                    gradient_args[argument] = current[position]
                total = None
                for index in batch:
                    for position, value in zip(gradient.sample_at, plan.samples[index]):
                        if position is not None:
                            gradient_args[position] = value
                    results = gradient_function(*gradient_args)
                    total = list(results) if total is None else [a + b for a, b in zip(total, results)]
                scale = 1.0 / len(batch) if mean else 1.0
                for position, value in zip(update.gradient_at, total):
                    if position is not None:
                        update_args[position] = value * scale
            if update.step_at is not None:
                update_args[update.step_at] = float(step)
            results = function(*update_args)
        except (ValueError, OverflowError, ZeroDivisionError, TypeError):
            raise TrainingError("error_training_diverged", step=step) from None
        for position, (argument, value) in enumerate(zip(update.carried_at, results)):
            current[position] = value
            if argument is not None:
                update_args[argument] = value
        if step % every == 0 or step == steps:
            if not _finite(results):
                raise TrainingError("error_training_diverged", step=step)
            if step % every == 0:
                history.append((step, _loss(plan, current, mean, step)[0]))
    loss, outputs = _loss(plan, current, mean, steps)
    params = {name: _parameter(current, place) if place is not None else value for name, place, value in plan.params}
    return Run(steps, loss, tuple(outputs), params, tuple(history), every, plan.optimizer, batches_per_epoch(plan),
               plan.learning_rate, plan.batch, len(plan.samples))


def _loss(plan: Plan, current: list[float], mean: bool, step: int = 0) -> tuple[float, list[dict[str, float]]]:
    """Return the loss over every sample (the mean or the sum of theirs) at the carried values `current`, and
    each sample's outputs."""
    forward = plan.forward
    arguments = [_value(a) for a in forward.arguments]
    for position, argument in enumerate(forward.carried_at):
        if argument is not None:
            arguments[argument] = current[position]
    total, outputs = 0.0, []
    for sample in plan.samples:
        for position, value in zip(forward.sample_at, sample):
            if position is not None:
                arguments[position] = value
        try:
            results = forward.function(*arguments)
        except (ValueError, OverflowError, ZeroDivisionError, TypeError):
            raise TrainingError("error_training_diverged", step=step) from None
        if not _finite(results):
            raise TrainingError("error_training_diverged", step=step)
        total += float(results[0])
        outputs.append(dict(zip(plan.outputs, map(float, results[1:]))))
    return (total / len(plan.samples) if mean else total), outputs
