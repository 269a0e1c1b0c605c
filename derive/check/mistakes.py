"""The library of classic backpropagation mistakes, each a transformation of the true derivation.

A mistake is a function from a Derivation to its variants: each variant
replaces a few definitions of the derivation's program (δ without f′, the
sign of ∂E/∂out flipped, ...). Running the program with those definitions
(:func:`derive.program.run`) gives the figure a student making that mistake
would get, on any network. Nothing here knows an answer; adding a mistake is
adding one function to MISTAKES, and its explanation to the message catalogue
(key ``mistake_<name>``).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Callable, Iterator

import sympy

from .. import calculus
from ..derivation import Derivation
from ..program import Program
from ..functions import ACTIVATIONS, LOSSES, O, T, X, activation, loss
from ..quantities import QuantitySymbol


@dataclass(frozen=True)
class Variant:
    """One way of making a mistake: the definitions it replaces, and details for the explanation."""

    mistake: str
    replaced: dict = field(hash=False)
    details: tuple[tuple[str, str], ...] = ()
    made_by: Callable | None = field(default=None, compare=False, repr=False)  # the function of MISTAKES


def _definitions(derivation: Derivation) -> dict:
    return dict(derivation.program)


def _hidden_layers(derivation: Derivation):
    """Yield (layer, next layer) for every layer that feeds another."""
    layers = derivation.network.layers
    return zip(layers[:-1], layers[1:])


def _terms(expression: sympy.Expr, symbol: sympy.Symbol) -> sympy.Expr:
    """Return the part of a sum made of the terms that contain `symbol`."""
    return sympy.Add(*[term for term in sympy.Add.make_args(expression) if term.has(symbol)])


def _per_layer(derivation: Derivation, mistake: str, change: Callable, details=()) -> Iterator[Variant]:
    """Yield the variant of `mistake` made in each layer, then made in every layer.

    `change(unit)` returns the definitions the mistake replaces for one unit.
    A mistake in one layer is what a formula claim shows (it uses the true
    values of the other layers); a mistake everywhere is what a student's
    own chain of numbers shows.
    """
    everywhere, layers = {}, 0
    for layer in derivation.network.layers:
        replaced = {}
        for unit in layer.units:
            replaced.update(change(unit))
        if replaced:
            layers += 1
            everywhere.update(replaced)
            yield Variant(mistake, replaced, tuple(details) + (("layer", str(layer.index)),))
    if layers > 1:
        yield Variant(mistake, everywhere, tuple(details))


def derivative_left_out(derivation: Derivation) -> Iterator[Variant]:
    """δ = ∂E/∂out: the activation derivative f′(net) forgotten."""
    yield from _per_layer(derivation, "derivative_left_out",
                          lambda unit: {QuantitySymbol("delta", unit.name): QuantitySymbol("dE_dout", unit.name)})


def sign_flipped(derivation: Derivation) -> Iterator[Variant]:
    """∂E/∂out of the output units with the wrong sign: (t − o) in place of (o − t)."""
    definitions = _definitions(derivation)
    symbols = [QuantitySymbol("dE_dout", u.name) for u in derivation.network.output_layer.units]
    yield Variant("sign_flipped", {s: -definitions[s] for s in symbols})


def net_for_out(derivation: Derivation) -> Iterator[Variant]:
    """net where out belongs: ∂E/∂w = δ·net of the source unit."""
    definitions, units = _definitions(derivation), derivation.network.units
    swap = {u.out: u.net for u in units}

    def change(unit):
        gradients = [QuantitySymbol("gradient", c.weight.name) for c in unit.connections]
        return {s: definitions[s].xreplace(swap) for s in gradients if definitions[s].xreplace(swap) != definitions[s]}

    yield from _per_layer(derivation, "net_for_out", change)


def out_for_net(derivation: Derivation) -> Iterator[Variant]:
    """out where net belongs: f′ evaluated at out, or the out-form of f′ (out(1 − out)) fed net."""
    steps = {step.subject: step for step in derivation.section("backward") if step.kind == "activation_derivative"}

    def at_out(unit):
        step = steps.get(unit.name)
        return {step.lhs: step.forms[0].xreplace({unit.net: unit.out})} if step else {}  # forms[0]: f′ in net

    def output_form_at_net(unit):
        step = steps.get(unit.name)
        return {step.lhs: step.forms[-1].xreplace({unit.out: unit.net})} if step and len(step.forms) > 1 else {}

    yield from _per_layer(derivation, "out_for_net", at_out, (("form", "derivative_at_out"),))
    yield from _per_layer(derivation, "out_for_net", output_form_at_net, (("form", "output_form_at_net"),))


def transposed_weights(derivation: Derivation) -> Iterator[Variant]:
    """Hidden δ_j built with w_jk in place of w_kj (the weight matrix read the wrong way round)."""
    definitions = _definitions(derivation)
    for layer, following in _hidden_layers(derivation):
        matrix = [[c.weight.symbol for c in unit.connections] for unit in following.units]
        rows, columns = len(matrix), len(matrix[0]) if matrix else 0
        if rows < 2 or rows != columns:
            continue
        swap = {matrix[a][b]: matrix[b][a] for a in range(rows) for b in range(columns)}
        replaced = {QuantitySymbol("dE_dout", u.name): definitions[QuantitySymbol("dE_dout", u.name)].xreplace(swap)
                    for u in layer.units}
        yield Variant("transposed_weights", replaced, (("layer", str(layer.index)),))


def sum_left_out(derivation: Derivation) -> Iterator[Variant]:
    """Hidden δ_j with one term δ_k·w_kj only, the sum over k forgotten (one variant per k)."""
    definitions = _definitions(derivation)
    for layer, following in _hidden_layers(derivation):
        if len(following.units) < 2:
            continue
        for kept in following.units:
            delta = QuantitySymbol("delta", kept.name)
            replaced = {QuantitySymbol("dE_dout", u.name): _terms(definitions[QuantitySymbol("dE_dout", u.name)], delta)
                        for u in layer.units}
            yield Variant("sum_left_out", replaced, (("kept", kept.name),))


def loss_scaled(derivation: Derivation) -> Iterator[Variant]:
    """The ½ of the loss dropped (everything doubled) or applied twice (everything halved)."""
    definitions = _definitions(derivation)
    symbols = [QuantitySymbol("loss_term", u.name) for u in derivation.network.output_layer.units]
    symbols += [QuantitySymbol("dE_dout", u.name) for u in derivation.network.output_layer.units]
    for name, factor in (("half_dropped", 2), ("half_doubled", sympy.Rational(1, 2))):
        yield Variant(name, {s: factor * definitions[s] for s in symbols})


def _updates(derivation: Derivation, build: Callable) -> dict:
    """Return every trainable parameter's update replaced by build(p, η, its update as the rule defines it)."""
    network, definitions = derivation.network, _definitions(derivation)
    return {QuantitySymbol("update", p.name): build(p.symbol, network.learning_rate,
                                                    definitions[QuantitySymbol("update", p.name)])
            for p in network.parameters if p.trainable}


def update_added(derivation: Derivation) -> Iterator[Variant]:
    """p⁺ = p + η·∂E/∂p: the rule's step taken up the gradient (p + (p − p⁺), for any update rule)."""
    yield Variant("update_added", _updates(derivation, lambda p, eta, update: 2 * p - update))


def learning_rate_left_out(derivation: Derivation) -> Iterator[Variant]:
    """p⁺ = p − ∂E/∂p: the learning rate forgotten (the rule's step with η = 1)."""
    yield Variant("learning_rate_left_out", _updates(derivation, lambda p, eta, update: update.xreplace({eta: 1})))


def updated_weights_in_hidden_delta(derivation: Derivation) -> Iterator[Variant]:
    """Hidden δ computed with the following layer's weights already updated."""
    definitions, replaced = _definitions(derivation), {}
    for layer, following in _hidden_layers(derivation):
        new = {c.weight.symbol: QuantitySymbol("update", c.weight.name) for u in following.units for c in u.connections
               if c.weight.trainable}
        for unit in layer.units:
            symbol = QuantitySymbol("dE_dout", unit.name)
            replaced[symbol] = definitions[symbol].xreplace(new)
    if replaced:
        yield Variant("updated_weights_in_hidden_delta", replaced)


def shared_not_summed(derivation: Derivation) -> Iterator[Variant]:
    """The gradient of a parameter used by several units (a shared bias) taken from one unit only."""
    definitions, uses = _definitions(derivation), {}
    for unit in derivation.network.units:
        for parameter in [c.weight for c in unit.connections] + ([unit.bias] if unit.bias else []):
            uses.setdefault(parameter.name, {})[unit.name] = None
    for name, units in uses.items():
        if len(units) < 2:
            continue
        symbol = QuantitySymbol("gradient", name)
        for kept in units:
            yield Variant("shared_not_summed", {symbol: _terms(definitions[symbol], QuantitySymbol("delta", kept))},
                          (("parameter", name), ("kept", kept)))


def wrong_activation_derivative(derivation: Derivation) -> Iterator[Variant]:
    """The derivative of another built-in activation used on a unit: σ′ on a tanh unit, as f′(net) or in the
    output form σ′ = out(1 − out) with the unit's own out."""
    network = derivation.network
    for layer in network.layers:
        if layer.activation.layer_wise:
            continue
        for name in ACTIVATIONS:
            other = activation(name)
            if other.formula == layer.activation.formula:
                continue
            derivative = calculus.differentiate(other.formula, X)
            in_output = calculus.derivative_in_output(other.formula, X)
            forms = [("derivative_at_net", lambda unit, d=derivative: d.xreplace({X: unit.net}))]
            if in_output is not None:
                forms.append(("output_form", lambda unit, g=in_output: g.xreplace({calculus.OUTPUT: unit.out})))
            for form, written in forms:
                replaced = {QuantitySymbol("activation_derivative", u.name, u.name): written(u) for u in layer.units}
                yield Variant("wrong_activation_derivative", replaced,
                              (("used", other.text_name), ("activation", layer.activation.text_name), ("form", form),
                               ("layer", str(layer.index))))


def wrong_loss_derivative(derivation: Derivation) -> Iterator[Variant]:
    """∂E/∂out of the output units taken from another built-in loss: the (o − t) of squared error used with
    cross-entropy or BCE, or the reverse."""
    network = derivation.network
    current = network.spec.loss.term
    for name in LOSSES:
        other = loss(name)
        if other.term == current:
            continue
        scale = sympy.Rational(1, len(network.targets)) if other.reduction == "mean" else 1
        derivative = calculus.differentiate(other.term, O)
        replaced = {QuantitySymbol("dE_dout", unit.name): scale * derivative.xreplace({O: unit.out, T: target})
                    for unit, target in zip(network.output_layer.units, network.targets)}
        yield Variant("wrong_loss_derivative", replaced, (("used", name), ("loss", network.spec.loss.name)))


def jacobian_diagonal_only(derivation: Derivation) -> Iterator[Variant]:
    """A softmax unit's δ from its own output only: δ_k = ∂E/∂out_k · ∂out_k/∂net_k, the Jacobian's
    off-diagonal terms (every other output's dependence on net_k) left out."""
    definitions = _definitions(derivation)
    for layer in derivation.network.layers:
        if not layer.activation.layer_wise:
            continue
        replaced = {}
        for unit in layer.units:
            delta = QuantitySymbol("delta", unit.name)
            kept = _terms(definitions[delta], QuantitySymbol("dE_dout", unit.name))
            if kept != definitions[delta]:
                replaced[delta] = kept
        if replaced:
            yield Variant("jacobian_diagonal_only", replaced, (("layer", str(layer.index)),))


def _swaps(layer):
    """Yield (a, b, weight, other) for each weight of `layer`'s square weight matrix off its diagonal (unit a,
    source b) and the weight in the transposed place (unit b, source a), when the two differ."""
    matrix = [[c.weight for c in unit.connections] for unit in layer.units]
    if len(matrix) < 2 or any(len(row) != len(matrix) for row in matrix):
        return
    for a, row in enumerate(matrix):
        for b, weight in enumerate(row):
            other = matrix[b][a]
            if a != b and other.symbol != weight.symbol:
                yield a, b, weight, other


def swapped_weight(derivation: Derivation) -> Iterator[Variant]:
    """One weight's indices swapped: w_jk for w_kj in one term of a net, of a hidden δ, or in one update."""
    definitions = _definitions(derivation)

    def swapped(symbol, weight, other) -> Variant:
        return Variant("swapped_weight", {symbol: definitions[symbol].xreplace({weight.symbol: other.symbol})},
                       (("weight", weight.name), ("used", other.name)))

    for layer in derivation.network.layers:  # the forward pass: net_j = … + w_kj·x_k + … with w_jk instead
        for a, _, weight, other in _swaps(layer):
            yield swapped(layer.units[a].net, weight, other)
    for layer, following in _hidden_layers(derivation):
        for _, b, weight, other in _swaps(following):
            yield swapped(QuantitySymbol("dE_dout", layer.units[b].name), weight, other)
            update = QuantitySymbol("update", weight.name)
            if update in definitions:
                yield swapped(update, weight, other)


# In the order they are tried: the first variant that reproduces a claim names its mistake.
MISTAKES: tuple[Callable[[Derivation], Iterator[Variant]], ...] = (
    derivative_left_out,
    sign_flipped,
    net_for_out,
    out_for_net,
    transposed_weights,
    sum_left_out,
    loss_scaled,
    update_added,
    learning_rate_left_out,
    updated_weights_in_hidden_delta,
    shared_not_summed,
    wrong_activation_derivative,
    wrong_loss_derivative,
    jacobian_diagonal_only,
    swapped_weight,
)


def variants(derivation: Derivation) -> list[Variant]:
    """Return every variant of every mistake for this derivation, in the order they are tried."""
    return [dataclasses.replace(variant, made_by=mistake) for mistake in MISTAKES for variant in mistake(derivation)
            if variant.replaced]


def changed(derivation: Derivation, variant: Variant) -> Derivation:
    """Return the derivation with `variant`'s definitions in its program (its values and steps as they were)."""
    program = Program(tuple((symbol, variant.replaced.get(symbol, expression)) for symbol, expression in derivation.program))
    return dataclasses.replace(derivation, program=program)


def composed(derivation: Derivation, first: Variant, second: Variant, made=None) -> dict | None:
    """Return the definitions replaced when both mistakes are made: `second` made on the derivation that
    `first` has already changed (so two mistakes in one definition compose: (t − o) with the ½ dropped);
    None when `second` cannot be made there. `made(function)`, when given, returns that mistake function's
    variants of the changed derivation (kept by the caller for the other pairs with `first`)."""
    if set(first.replaced).isdisjoint(second.replaced):
        return {**first.replaced, **second.replaced}
    if second.made_by is None:
        return None
    made = made or (lambda function: list(function(changed(derivation, first))))
    for variant in made(second.made_by):
        if variant.mistake == second.mistake and variant.details == second.details and variant.replaced:
            return {**first.replaced, **variant.replaced}
    return None
