"""The matrix form of a derivation's training step: the same program, compiled to NumPy array operations.

For a network of many units, one line of float code per unit loses to array arithmetic. This module
reads the derivation's program layer by layer and proves, definition by definition, that it has the
matrix form seed 002 writes for a fully connected layer:

* net = W·a + b (each unit's definition is the sum over its connections, each weight its own);
* out, f′, δ, the loss terms and ∂E/∂out at the output are one formula for every unit of a layer,
  the program's own definition with the unit's quantities renamed (a *template*);
* ∂E/∂out of a hidden layer is Wᵀ·δ of the next one, and each gradient is δ·aᵀ (δ for a bias);
* the update rule's lines are one template for every parameter.

Only then is each template printed as array code (SymPy's NumPy printer, derive's own trees, every
name a v<number>, checked by derive.safecode like all generated code); where the proof fails (a
shared bias or tied weight, softmax, a formula NumPy code is not written for here, such as max), there
is no matrix form and the scalar plan is used. The result is a :class:`derive.loop.Plan` whose carried
values are arrays.
"""
from __future__ import annotations

import sympy
from sympy.printing.numpy import NumPyPrinter

from .loop import Piece, Plan
from .program import VariablePrinter
from .quantities import QuantitySymbol

X = sympy.Symbol("x_", real=True)   # a template's placeholders: the unit's own quantities
Y = sympy.Symbol("y_", real=True)


class NoMatrixForm(Exception):
    """The program is not of the matrix form (see the module docstring)."""


class _Printer(VariablePrinter, NumPyPrinter):
    """NumPy code for a template, its placeholders written as the array variables they stand for."""


def _template(definitions, renamings, shared) -> sympy.Expr:
    """Return the one formula every definition is, once renamed ({its quantity: placeholder}), or fail; it
    may use the `shared` symbols too (η, the hyper-parameters, t)."""
    first = None
    for definition, renaming in zip(definitions, renamings):
        template = definition.xreplace(renaming)
        if template.free_symbols - set(renaming.values()) - shared:
            raise NoMatrixForm("a definition uses quantities of other units")
        if first is None:
            first = template
        elif template != first:
            raise NoMatrixForm("the units of a layer are not one formula")
    return first


class _Code:
    """Lines of generated code, every variable a fresh v<number> (one counter for a whole plan)."""

    def __init__(self, counter):
        self.counter, self.lines = counter, []

    def emit(self, expression: str) -> str:
        variable = f"v{next(self.counter)}"
        self.lines.append(f"    {variable} = {expression}")
        return variable


def matrix_plan(derivation) -> Plan:
    """Return the training plan of `derivation` in matrix form, or raise NoMatrixForm."""
    network = derivation.network
    spec, rule = network.spec, network.rule
    definitions = dict(derivation.program)
    layers = network.layers
    if any(layer.activation.layer_wise for layer in layers):
        raise NoMatrixForm("a layer-wise activation")
    uses: dict[str, int] = {}
    for unit in network.units:
        for name in [c.weight.name for c in unit.connections] + ([unit.bias.name] if unit.bias else []):
            uses[name] = uses.get(name, 0) + 1
    if any(count > 1 for count in uses.values()):
        raise NoMatrixForm("a parameter used in more than one place")
    if any(bool(u.bias) != bool(layer.units[0].bias) for layer in layers for u in layer.units):
        raise NoMatrixForm("some units of a layer have a bias and others not")

    counter = iter(range(10 ** 9))
    fresh = lambda: f"v{next(counter)}"  # noqa: E731
    # The arguments: each layer's W and b (arrays), the rule's state arrays, the scalars, the sample.
    arrays = []  # (variable, the parameters it holds in order, its initial value as nested lists, shape)
    weights, biases = {}, {}
    for layer in layers:
        weights[layer.index] = fresh()
        arrays.append((weights[layer.index], [c.weight for u in layer.units for c in u.connections],
                       [[float(c.weight.value) for c in u.connections] for u in layer.units]))
        if layer.units[0].bias:
            biases[layer.index] = fresh()
            arrays.append((biases[layer.index], [u.bias for u in layer.units], [float(u.bias.value) for u in layer.units]))
    trained = [entry for entry in arrays if all(p.trainable for p in entry[1])]
    if any(any(p.trainable for p in entry[1]) and entry not in trained for entry in arrays):
        raise NoMatrixForm("an array of parameters partly trained")
    states = [(variable, name, fresh()) for variable, _, _ in trained for name in rule.states]
    given = network.given_values()
    scalars = {symbol: fresh() for symbol in [network.learning_rate,
                                              *[s for s in given if s.kind.name in ("hyper", "step_number")]]}
    inputs = [fresh() for _ in network.inputs]
    targets = [fresh() for _ in network.targets]
    shared = set(scalars)

    def code(template, names) -> str:
        try:
            return _Printer({**names, **scalars}).doprint(template)
        except (NotImplementedError, TypeError, ValueError) as error:  # a function NumPy code is not written for
            raise NoMatrixForm(f"no array code for {template}: {error}") from None

    # Forward: net = W·a + b, out = f(net), layer by layer, each definition checked.
    forward = _Code(counter)
    previous = forward.emit("numpy.array([" + ", ".join(inputs) + "])")
    target_array = forward.emit("numpy.array([" + ", ".join(targets) + "])")
    sources = [symbol for _, symbol in network.inputs]
    activations, nets, outs = {0: previous}, {}, {}
    for layer in layers:
        for unit in layer.units:
            expected = sympy.Add(*[c.weight.symbol * c.source_symbol for c in unit.connections],
                                 *([unit.bias.symbol] if unit.bias else []))
            if definitions[unit.net] != expected or [c.source_symbol for c in unit.connections] != sources:
                raise NoMatrixForm("a net is not W·a + b")
        bias = f" + {biases[layer.index]}" if layer.index in biases else ""
        nets[layer.index] = forward.emit(f"numpy.dot({weights[layer.index]}, {previous}){bias}")
        template = _template([definitions[u.out] for u in layer.units], [{u.net: X} for u in layer.units], shared)
        outs[layer.index] = previous = activations[layer.index] = forward.emit(code(template, {X: nets[layer.index]}))
        sources = [unit.out for unit in layer.units]
    output = layers[-1]
    pairs = [{u.out: X, t: Y} for u, t in zip(output.units, network.targets)]
    term = _template([definitions[s] for s in network.loss_terms], pairs, shared)
    if definitions[network.loss] != sympy.Add(*network.loss_terms):
        raise NoMatrixForm("the loss is not the sum of its terms")
    measured = _Code(counter)  # the loss, for the forward piece only
    loss = measured.emit(f"numpy.sum({code(term, {X: outs[output.index], Y: target_array})})")

    # Backward: δ = ∂E/∂out · f′ for each layer, ∂E/∂out of a hidden layer = Wᵀ·δ, gradients δ·aᵀ.
    backward = _Code(counter)
    gradients, delta = {}, None
    for position in range(len(layers) - 1, -1, -1):
        layer = layers[position]
        units = layer.units
        if layer is output:
            template = _template([definitions[QuantitySymbol("dE_dout", u.name)] for u in units], pairs, shared)
            error = backward.emit(code(template, {X: outs[layer.index], Y: target_array}))
        else:
            following = layers[position + 1]
            for j, unit in enumerate(units):
                expected = sympy.Add(*[QuantitySymbol("delta", k.name) * k.connections[j].weight.symbol
                                       for k in following.units])
                if definitions[QuantitySymbol("dE_dout", unit.name)] != expected:
                    raise NoMatrixForm("a hidden ∂E/∂out is not Wᵀ·δ")
            error = backward.emit(f"numpy.dot(numpy.transpose({weights[following.index]}), {delta})")
        slopes = [QuantitySymbol("activation_derivative", u.name, u.name) for u in units]
        template = _template([definitions[s] for s in slopes], [{u.net: X, u.out: Y} for u in units], shared)
        slope = backward.emit(code(template, {X: nets[layer.index], Y: outs[layer.index]}))
        template = _template([definitions[QuantitySymbol("delta", u.name)] for u in units],
                             [{QuantitySymbol("dE_dout", u.name): X, s: Y} for u, s in zip(units, slopes)], shared)
        delta = backward.emit(code(template, {X: error, Y: slope}))
        for unit in units:
            for c in unit.connections:
                if definitions[QuantitySymbol("gradient", c.weight.name)] != \
                        QuantitySymbol("delta", unit.name) * c.source_symbol:
                    raise NoMatrixForm("a weight's gradient is not δ·a")
            if unit.bias and definitions[QuantitySymbol("gradient", unit.bias.name)] != \
                    QuantitySymbol("delta", unit.name):
                raise NoMatrixForm("a bias's gradient is not δ")
        gradients[weights[layer.index]] = backward.emit(f"numpy.outer({delta}, {activations[layer.index - 1]})")
        if layer.index in biases:
            gradients[biases[layer.index]] = delta

    # The update rule's lines: one template for every parameter, each the program's own definitions.
    names = [name for name, _ in rule.lines]
    placeholders = {name: sympy.Symbol(f"{name}_line", real=True) for name in names}
    before = {name: sympy.Symbol(f"{name}_before", real=True) for name in rule.states}
    p_, g_ = sympy.Symbol("p_", real=True), sympy.Symbol("g_", real=True)

    def result(name, parameter):
        if name == "p":
            return parameter.symbol.after
        kind = "after_state" if name in rule.states else "rule_term"
        return QuantitySymbol(kind, name, parameter.name)

    every = [parameter for _, held, _ in trained for parameter in held]
    templates = {}
    for line in names:
        renamings = [{p.symbol: p_, QuantitySymbol("gradient", p.name): g_,
                      **{QuantitySymbol("state", s, p.name): before[s] for s in rule.states},
                      **{result(n, p): placeholders[n] for n in names if n != line}} for p in every]
        templates[line] = _template([definitions[result(line, p)] for p in every], renamings,
                                    shared | set(placeholders.values()))

    def update(code_lines: _Code, gradient_of) -> list[str]:
        """Emit the rule's lines for every trained array; return the new arrays, then the new states."""
        new_arrays, new_states = [], {}
        for variable, _, _ in trained:
            values = {p_: variable, g_: gradient_of[variable],
                      **{before[s]: v for a, s, v in states if a == variable}}
            for line in names:
                values[placeholders[line]] = code_lines.emit(code(templates[line], values))
            new_arrays.append(values[placeholders["p"]])
            new_states.update({(variable, s): values[placeholders[s]] for s in rule.states})
        return new_arrays + [new_states[(a, s)] for a, s, _ in states]

    array_arguments = [variable for variable, _, _ in arrays]
    state_arguments = [v for _, _, v in states]
    scalar_arguments = list(scalars.values())
    sample_arguments = inputs + targets
    fused = _Code(counter)
    fused.lines = forward.lines + backward.lines
    fused_results = update(fused, gradients)
    signature = array_arguments + state_arguments + scalar_arguments + sample_arguments
    values = {symbol: float(value) for symbol, value in given.items()}
    initial_arrays = {variable: value for variable, _, value in arrays}

    def piece(lines, arguments, results, gradient_arguments=()) -> Piece:
        source = "def program(" + ", ".join(arguments) + "):\n" + "\n".join(lines) + \
            "\n    return (" + "".join(r + ", " for r in results) + ")\n"
        at = {variable: index for index, variable in enumerate(arguments)}
        start = [initial_arrays.get(a, 0.0) for a in arguments]
        for symbol, variable in scalars.items():
            if variable in at:
                start[at[variable]] = values[symbol]
        carried = [variable for variable, _, _ in trained] + state_arguments
        starting_states = {v: _zeros(initial_arrays[a]) for a, _, v in states}
        for variable, value in starting_states.items():
            if variable in at:
                start[at[variable]] = value
        step = QuantitySymbol("step_number")
        try:
            return Piece(source, tuple(start), tuple(at.get(v) for v in carried),
                         tuple(at.get(v) for v in sample_arguments), at.get(scalars[step]) if step in scalars else None,
                         tuple(at.get(g) for g in gradient_arguments)).compiled()
        except ValueError as error:  # a name derive.safecode does not let through (numpy.heaviside): no matrix form
            raise NoMatrixForm(str(error)) from None

    single = max(len(batch) for batch in _batch_order(spec)) == 1
    gradient_piece = None
    if single:
        update_piece = piece(fused.lines, signature, fused_results)
    else:
        gradient_piece = piece(forward.lines + backward.lines, array_arguments + scalar_arguments + sample_arguments,
                               [gradients[variable] for variable, _, _ in trained])
        incoming = {variable: fresh() for variable, _, _ in trained}
        rule_code = _Code(counter)
        results = update(rule_code, incoming)
        update_piece = piece(rule_code.lines, array_arguments + state_arguments + scalar_arguments +
                             list(incoming.values()), results, list(incoming.values()))
    forward_piece = piece(forward.lines + measured.lines, array_arguments + sample_arguments,
                          [loss] + [f"{outs[output.index]}[{k}]" for k in range(len(output.units))])
    place = {}
    for position, (variable, held, value) in enumerate(trained):
        for number, parameter in enumerate(held):
            place[parameter.name] = [position, *divmod(number, len(value[0]))] if isinstance(value[0], list) \
                else [position, number]
    initial = tuple(initial_arrays[v] for v, _, _ in trained) + tuple(_zeros(initial_arrays[a]) for a, _, _ in states)
    return Plan(rule.name, str(_decimal(spec.learning_rate)), spec.batch, spec.batch_loss, spec.seed,
                tuple(tuple(float(v) for v in ins + outs_) for ins, outs_ in spec.samples),
                tuple((p.name, place.get(p.name), float(p.value)) for p in network.parameters),
                tuple(unit.name for unit in output.units), initial, update_piece, forward_piece, gradient_piece,
                form="matrix")


def _zeros(value):
    """Return nested lists of zeros shaped as `value` (a state starts at 0)."""
    return [_zeros(v) for v in value] if isinstance(value, list) else 0.0


def _batch_order(spec):
    from .loop import batch_order
    return batch_order(spec)


def _decimal(value):
    from .numbers import to_decimal
    return to_decimal(value)
