"""Training runs: the derivation's own program, compiled once to float code, stepped many times.

One step is what the derivation derives for one update: the forward pass, the loss, every δ and gradient,
and the update rule's lines (derive.functions.UPDATE_RULES: SGD, momentum, Adam, …), which compute every
trainable parameter's value after the update and the rule's state after it. :func:`plan` compiles the
program for exactly those quantities (common subexpressions eliminated, derive's own SymPy trees only,
see :func:`derive.program.compile_program`) into a :class:`derive.loop.Plan`, and derive.loop steps it,
feeding each step's parameters and state into the next, with t, the number of the update, counted up.
The numbers are the formulas the documents print, in float64; nothing is written twice by hand. Batches
of several samples: see derive.loop.
"""
from __future__ import annotations

from decimal import Decimal

from .derivation import Derivation
from .loop import (MAX_HISTORY, MAX_STEPS, Piece, Plan, Run, TrainingError, batch_order, batches,  # noqa: F401
                   batches_per_epoch, run)
from .quantities import QuantitySymbol


def train(derivation: Derivation, steps: int, every: int | None = None) -> Run:
    """Return the run of `steps` updates of `derivation`'s network from its given values, over the spec's
    samples in its batches, keeping the loss every `every` steps (default: about a hundred points)."""
    if not 0 <= steps <= MAX_STEPS:
        raise ValueError(f"steps must be between 0 and {MAX_STEPS}")
    return run(plan(derivation), steps, every)


MATRIX_FROM = 200  # weights from which the matrix form (derive.matrix) is faster than one line a unit


def plan(derivation: Derivation, form: str = "auto") -> Plan:
    """Return the training plan of `derivation`: its program compiled for one update (see derive.loop), as
    float code a quantity a line ("scalar") or as NumPy array operations ("matrix", derive.matrix: only for a
    program of the matrix form, else NoMatrixForm); "auto" takes the matrix form from MATRIX_FROM weights
    on, where it is faster, when the program has it and NumPy (pip install 'derive[train]') is installed."""
    from .matrix import NoMatrixForm, matrix_plan
    weights = sum(len(unit.connections) for unit in derivation.network.units)
    if form == "matrix" or (form == "auto" and weights >= MATRIX_FROM and _have_numpy()):
        try:
            return matrix_plan(derivation)
        except NoMatrixForm:
            if form == "matrix":
                raise
    return _scalar_plan(derivation)


def _have_numpy() -> bool:
    """Return True when NumPy (the `train` extra) is installed: the matrix form needs it."""
    from importlib.util import find_spec
    return find_spec("numpy") is not None


def _scalar_plan(derivation: Derivation) -> Plan:
    """Return the plan with one line of float code a quantity (common subexpressions computed once)."""
    from .program import compile_program
    network = derivation.network
    spec, rule = network.spec, network.rule
    trainable = [p for p in network.parameters if p.trainable]
    states = [QuantitySymbol("state", name, p.name) for p in trainable for name in rule.states]
    carried = [p.symbol for p in trainable] + states  # what each update changes
    step = QuantitySymbol("step_number") if "t" in rule.uses() else None
    sample = [symbol for _, symbol in network.inputs] + list(network.targets)
    values = {symbol: float(value) for symbol, value in network.given_values().items()}
    program = derivation.program
    after = [symbol.after for symbol in carried]

    def piece(compiled, gradients=()) -> Piece:
        at = {symbol: index for index, symbol in enumerate(compiled.inputs)}
        return Piece(compiled.source, tuple(values.get(symbol, 0.0) for symbol in compiled.inputs),
                     tuple(at.get(s) for s in carried), tuple(at.get(s) for s in sample), at.get(step),
                     tuple(at.get(g) for g in gradients)).compiled()

    single = max(len(batch) for batch in batch_order(spec)) == 1
    gradient = None
    if single:  # one sample per update: the whole step is one function
        update = piece(program.compile(after))
    else:  # a batch: each sample's gradients, combined, then the rule's lines apart
        gradients = [QuantitySymbol("gradient", p.name) for p in trainable]
        gradient = piece(program.compile(gradients))
        update = piece(compile_program([(s, d) for s, d in program if s.kind.section == "update"], after),
                       gradients)
    forward = piece(program.compile([network.loss, *(unit.out for unit in network.output_layer.units)]))
    place = {p.name: index for index, p in enumerate(trainable)}
    return Plan(rule.name, str(_decimal(spec.learning_rate)), spec.batch, spec.batch_loss, spec.seed,
                tuple(tuple(float(v) for v in inputs + targets) for inputs, targets in spec.samples),
                tuple((p.name, place.get(p.name), float(p.value)) for p in network.parameters),
                tuple(unit.name for unit in network.output_layer.units),
                tuple(values.get(s, 0.0) for s in carried), update, forward, gradient)


def _decimal(value) -> Decimal:
    """Return an exact rational of the spec (a decimal as written) as a Decimal."""
    from .numbers import to_decimal
    return to_decimal(value)


MAX_EXACT_STEPS = 1_000  # updates a --precision exact run may make (each at 50 digits)


def train_exact(derivation: Derivation, steps: int, every: int | None = None) -> Run:
    """Return the run of `steps` updates computed at 50 significant digits by the program itself
    (:meth:`derive.program.Program.run`, no float code): the same formulas as :func:`train`, to check it.
    At most MAX_EXACT_STEPS updates; the figures are reported as the nearest doubles."""
    from .numbers import to_float
    if not 0 <= steps <= MAX_EXACT_STEPS:
        raise TrainingError("error_exact_steps", limit=MAX_EXACT_STEPS)
    every = every or max(1, steps // 100)
    network, program = derivation.network, derivation.program
    spec, rule = network.spec, network.rule
    trainable = [p for p in network.parameters if p.trainable]
    carried = [p.symbol for p in trainable] + [QuantitySymbol("state", name, p.name)
                                               for p in trainable for name in rule.states]
    gradients = [QuantitySymbol("gradient", p.name) for p in trainable]
    sample_symbols = [symbol for _, symbol in network.inputs] + list(network.targets)
    outputs = [unit.out for unit in network.output_layer.units]
    values = dict(network.given_values())
    mean = spec.batch_loss == "mean"

    def at(sample):
        inputs, targets = sample
        return {**values, **dict(zip(sample_symbols, (*inputs, *targets)))}

    def loss():
        runs = [program.run(at(sample), wanted=[network.loss, *outputs]) for sample in spec.samples]
        total = sum(result[network.loss] for result in runs)
        return (total / len(runs) if mean else total), [{unit.subjects[0]: to_float(result[unit]) for unit in outputs}
                                                        for result in runs]

    history, schedule = [(0, to_float(loss()[0]))], batches(spec)
    for step in range(1, steps + 1):
        batch = next(schedule)
        if "t" in rule.uses():
            values[QuantitySymbol("step_number")] = step
        if len(batch) == 1:
            result = program.run(at(spec.samples[batch[0]]), wanted=[s.after for s in carried])
        else:
            per_sample = [program.run(at(spec.samples[index]), wanted=gradients) for index in batch]
            combined = {g: sum(result[g] for result in per_sample) / (len(batch) if mean else 1) for g in gradients}
            result = program.run({**values, **combined}, wanted=[s.after for s in carried])
        values.update({symbol: result[symbol.after] for symbol in carried})
        if step % every == 0:
            history.append((step, to_float(loss()[0])))
    final, outputs_after = loss()
    params = {p.name: to_float(values[p.symbol]) for p in network.parameters}
    return Run(steps, to_float(final), tuple(outputs_after), params, tuple(history), every, rule.name,
               batches_per_epoch(spec), str(_decimal(spec.learning_rate)), spec.batch, len(spec.samples))
