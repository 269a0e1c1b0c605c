"""Training runs: the derivation's own program, compiled once to float code, stepped many times.

One step is what the derivation derives for one update (forward pass, loss, every δ and gradient, the
update rule of the derivation, default SGD): the program computes every trainable parameter's value after
the update, and the loss and outputs at those values (the after_… quantities). :func:`train` compiles the
program for exactly those quantities (common subexpressions eliminated, derive's own SymPy trees only,
see :func:`derive.program.compile_program`) and feeds each step's updated parameters into the next. The
numbers are the formulas the documents print, in float64; nothing is written twice by hand.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from .derivation import Derivation
from .errors import DeriveError

MAX_STEPS = 10_000_000  # updates one run may make
MAX_HISTORY = 100_000   # losses one run keeps (every K steps)


class TrainingError(DeriveError):
    """A run that cannot go on: a loss or parameter that is no longer a finite number."""


@dataclass(frozen=True)
class Run:
    """A training run: the loss, outputs and parameters after `steps` updates, and the loss every `every`
    steps (`history`: (step, loss) pairs, step 0 the loss before any update)."""

    steps: int
    loss: float
    outputs: dict[str, float]
    params: dict[str, float]
    history: tuple[tuple[int, float], ...]
    every: int


def train(derivation: Derivation, steps: int, every: int | None = None) -> Run:
    """Return the run of `steps` updates of `derivation`'s network from its given values (one sample),
    keeping the loss every `every` steps (default: about a hundred points of the curve)."""
    if not 0 <= steps <= MAX_STEPS:
        raise ValueError(f"steps must be between 0 and {MAX_STEPS}")
    every = every or max(1, steps // 100)
    if steps // every > MAX_HISTORY:
        raise ValueError(f"at most {MAX_HISTORY} losses are kept: choose a larger every")
    network = derivation.network
    trainable = [p for p in network.parameters if p.trainable]
    outputs = list(network.output_layer.units)
    after = [p.symbol.after for p in trainable]
    wanted = after + [network.loss, network.loss.after] + [unit.out.after for unit in outputs]
    compiled = derivation.program.compile(wanted)
    values = {symbol: float(value) for symbol, value in network.given_values().items()}
    arguments = [values[symbol] for symbol in compiled.inputs]
    position = {symbol: index for index, symbol in enumerate(compiled.inputs)}
    slots = [position[p.symbol] for p in trainable]  # where each trainable parameter goes in
    count, function = len(after), compiled.function
    before = float(derivation.values[network.loss])
    history, loss = [(0, before)], before
    final = {unit.name: float(derivation.values[unit.out]) for unit in outputs}
    for step in range(1, steps + 1):
        try:
            results = function(*arguments)
        except (ValueError, OverflowError, ZeroDivisionError):
            raise TrainingError("error_training_diverged", step=step) from None
        for slot, value in zip(slots, results[:count]):
            arguments[slot] = value
        loss = results[count + 1]  # at the parameters after this update
        if step % every == 0 or step == steps:
            if not all(isinstance(value, float) and math.isfinite(value) for value in results):  # not complex
                raise TrainingError("error_training_diverged", step=step)
            if step % every == 0:
                history.append((step, loss))
            if step == steps:
                final = {unit.name: value for unit, value in zip(outputs, results[count + 2:])}
    params = {p.name: arguments[position[p.symbol]] if p.symbol in position else float(p.value)
              for p in network.parameters}
    return Run(steps, loss, final, params, tuple(history), every)

