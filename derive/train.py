"""Training runs: the derivation's own program, compiled once to float code, stepped many times.

One step is what the derivation derives for one update: the forward pass, the loss, every δ and gradient,
and the update rule's lines (derive.functions.UPDATE_RULES: SGD, momentum, Adam, …), which compute every
trainable parameter's value after the update and the rule's state after it. :func:`train` compiles the
program for exactly those quantities (common subexpressions eliminated, derive's own SymPy trees only,
see :func:`derive.program.compile_program`) and feeds each step's parameters and state into the next, with
t, the number of the update, counted up. The numbers are the formulas the documents print, in float64;
nothing is written twice by hand.

Several samples (the spec's `samples`) are taken in batches (`batch`): `full` (every sample in every
update), `each` (one sample per update, in order) or a mini-batch size N (each epoch, the samples in an
order drawn by ``random.Random(seed)``, taken N at a time, the last batch of an epoch holding what is left).
A batch's gradient is the mean (or, with `batch_loss: sum`, the sum) of its samples' gradients, and the loss
reported is the mean (sum) of every sample's loss.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Iterator

from .derivation import Derivation
from .errors import DeriveError
from .quantities import QuantitySymbol

MAX_STEPS = 10_000_000  # updates one run may make
MAX_HISTORY = 100_000   # losses one run keeps (every K steps)


class TrainingError(DeriveError):
    """A run that cannot go on: a loss or parameter that is no longer a finite number."""


@dataclass(frozen=True)
class Run:
    """A training run: the loss, outputs and parameters after `steps` updates, and the loss every `every`
    steps (`history`: (step, loss) pairs, step 0 the loss before any update). `outputs` holds each sample's
    output values (one mapping per sample); `optimizer` is the update rule's name."""

    steps: int
    loss: float
    outputs: tuple[dict[str, float], ...]
    params: dict[str, float]
    history: tuple[tuple[int, float], ...]
    every: int
    optimizer: str = "sgd"
    batches: int = 1  # updates in one epoch (one pass over the samples)


def batches_per_epoch(spec) -> int:
    """Return how many updates make one pass over the spec's samples, by its `batch`."""
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


def train(derivation: Derivation, steps: int, every: int | None = None) -> Run:
    """Return the run of `steps` updates of `derivation`'s network from its given values, over the spec's
    samples in its batches, keeping the loss every `every` steps (default: about a hundred points)."""
    if not 0 <= steps <= MAX_STEPS:
        raise ValueError(f"steps must be between 0 and {MAX_STEPS}")
    every = every or max(1, steps // 100)
    if steps // every > MAX_HISTORY:
        raise ValueError(f"at most {MAX_HISTORY} losses are kept: choose a larger every")
    return _Trainer(derivation).run(steps, every)


class _Trainer:
    """The compiled pieces of one network's training step, and the loop that runs them."""

    def __init__(self, derivation: Derivation):
        network = self.network = derivation.network
        self.spec, rule = network.spec, network.rule
        trainable = [p for p in network.parameters if p.trainable]
        self.states = [QuantitySymbol("state", name, p.name) for p in trainable for name in rule.states]
        self.carried = [p.symbol for p in trainable] + self.states  # what each update changes
        self.step = QuantitySymbol("step_number") if "t" in rule.uses() else None
        self.sample = [symbol for _, symbol in network.inputs] + list(network.targets)
        self.outputs = [unit.out for unit in network.output_layer.units]
        self.values = {symbol: float(value) for symbol, value in network.given_values().items()}
        program = derivation.program
        after = [symbol.after for symbol in self.carried]
        self.single = max(len(batch) for batch in batch_order(self.spec)) == 1
        if self.single:  # one sample per update: the whole step is one function
            self.update = program.compile(after)
        else:  # a batch: each sample's gradients, combined, then the rule's lines
            self.gradients = [QuantitySymbol("gradient", p.name) for p in trainable]
            self.gradient = program.compile(self.gradients)
            rule_part = [(s, d) for s, d in program if s.kind.section == "update"]
            from .program import compile_program
            self.update = compile_program(rule_part, after)
        self.forward = program.compile([network.loss, *self.outputs])

    def arguments(self, compiled) -> tuple[list[float], dict]:
        return [self.values.get(symbol, 0.0) for symbol in compiled.inputs], \
            {symbol: index for index, symbol in enumerate(compiled.inputs)}

    def run(self, steps: int, every: int) -> Run:
        spec, values = self.spec, self.values
        samples = [[float(v) for v in inputs + targets] for inputs, targets in spec.samples]
        mean = spec.batch_loss == "mean"
        update_args, update_at = self.arguments(self.update)
        carried_in = [update_at.get(s) for s in self.carried]
        step_at = update_at.get(self.step)
        if self.single:
            sample_at = [update_at.get(s) for s in self.sample]
        else:
            gradient_args, gradient_at = self.arguments(self.gradient)
            gradient_sample = [gradient_at.get(s) for s in self.sample]
            gradient_params = [(gradient_at[s], position) for position, s in enumerate(self.carried) if s in gradient_at]
            gradient_in = [update_at.get(g) for g in self.gradients]
        current = [values.get(s, 0.0) for s in self.carried]
        history, loss = [(0, self.loss(current, samples, mean)[0])], None
        schedule = batches(spec)
        function = self.update.function
        for step in range(1, steps + 1):
            batch = next(schedule)
            try:
                if self.single:
                    for position, value in zip(sample_at, samples[batch[0]]):
                        if position is not None:
                            update_args[position] = value
                else:
                    for argument, position in gradient_params:
                        gradient_args[argument] = current[position]
                    total = None
                    for index in batch:
                        for position, value in zip(gradient_sample, samples[index]):
                            if position is not None:
                                gradient_args[position] = value
                        results = self.gradient.function(*gradient_args)
                        total = list(results) if total is None else [a + b for a, b in zip(total, results)]
                    scale = 1.0 / len(batch) if mean else 1.0
                    for position, value in zip(gradient_in, total):
                        if position is not None:
                            update_args[position] = value * scale
                if step_at is not None:
                    update_args[step_at] = float(step)
                results = function(*update_args)
            except (ValueError, OverflowError, ZeroDivisionError, TypeError):
                raise TrainingError("error_training_diverged", step=step) from None
            for position, (argument, value) in enumerate(zip(carried_in, results)):
                current[position] = value
                if argument is not None:
                    update_args[argument] = value
            if step % every == 0 or step == steps:
                if not all(isinstance(value, float) and math.isfinite(value) for value in results):  # not complex
                    raise TrainingError("error_training_diverged", step=step)
                loss, _ = self.loss(current, samples, mean, step)
                if step % every == 0:
                    history.append((step, loss))
        loss, outputs = self.loss(current, samples, mean, steps)
        params = dict(zip((p.name for p in self.network.parameters if p.trainable), current))
        params = {p.name: params.get(p.name, float(p.value)) for p in self.network.parameters}
        return Run(steps, loss, tuple(outputs), params, tuple(history), every, self.network.rule.name,
                   batches_per_epoch(spec))

    def loss(self, current: list[float], samples: list[list[float]], mean: bool, step: int = 0
             ) -> tuple[float, list[dict[str, float]]]:
        """Return the loss over every sample (the mean or the sum of theirs) at the parameters `current`, and
        each sample's outputs."""
        arguments, at = self.arguments(self.forward)
        for position, symbol in enumerate(self.carried):
            if symbol in at:
                arguments[at[symbol]] = current[position]
        sample_at = [at.get(s) for s in self.sample]
        total, outputs = 0.0, []
        names = [unit.name for unit in self.network.output_layer.units]
        for sample in samples:
            for position, value in zip(sample_at, sample):
                if position is not None:
                    arguments[position] = value
            try:
                results = self.forward.function(*arguments)
            except (ValueError, OverflowError, ZeroDivisionError, TypeError):
                raise TrainingError("error_training_diverged", step=step) from None
            if not all(isinstance(value, float) and math.isfinite(value) for value in results):
                raise TrainingError("error_training_diverged", step=step)
            total += results[0]
            outputs.append(dict(zip(names, results[1:])))
        return (total / len(samples) if mean else total), outputs
