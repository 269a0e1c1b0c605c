"""Spec -> Network: a symbol for every quantity and each unit's defining expression.

Every unit keeps its own net and out symbol; a unit's net is defined in terms of
the out symbols of the layer before it, so derivatives are local and the cost of
the derivation grows with the number of weights, not with depth.
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy

from .functions import Activation, O, T, softmax
from .quantities import QuantitySymbol, single_places
from .spec import Spec


@dataclass(frozen=True)
class Parameter:
    """A weight or bias: one symbol however many connections use it (a shared bias, a tied weight)."""

    name: str
    symbol: QuantitySymbol
    value: sympy.Rational
    is_bias: bool
    trainable: bool


@dataclass(frozen=True)
class Connection:
    """One term of a unit's net: `weight` times the output `source` of a unit of the previous layer."""

    weight: Parameter
    source: str
    source_symbol: QuantitySymbol


@dataclass(frozen=True)
class Unit:
    """A unit: net = Σ weight·source (+ bias), out = activation(net)."""

    name: str
    layer: int
    number: int
    net: QuantitySymbol
    out: QuantitySymbol
    connections: tuple[Connection, ...]
    bias: Parameter | None

    @property
    def net_definition(self) -> sympy.Expr:
        """Return net as an expression of the weights, the previous layer's outputs and the bias."""
        terms = [c.weight.symbol * c.source_symbol for c in self.connections]
        return sympy.Add(*terms, *([self.bias.symbol] if self.bias else []))

    @property
    def net_display(self) -> sympy.Expr:
        """Return net in the order a course writes it: w1·i1 + w2·i2 + b1."""
        with sympy.evaluate(False):
            terms = [sympy.Mul(c.weight.symbol, c.source_symbol) for c in self.connections]
            if self.bias:
                terms.append(self.bias.symbol)
            return sympy.Add(*terms) if len(terms) > 1 else terms[0]


@dataclass(frozen=True)
class Layer:
    """A layer of units sharing one activation; `index` counts from 1 at the first hidden layer."""

    index: int
    units: tuple[Unit, ...]
    activation: Activation
    bias_shared: bool

    def outputs(self) -> list[sympy.Expr]:
        """Return out of each unit as an expression of the nets of this layer."""
        nets = [unit.net for unit in self.units]
        if self.activation.layer_wise:
            return softmax(nets)
        return [self.activation(net) for net in nets]


@dataclass(frozen=True)
class Network:
    """The network of a Spec as SymPy symbols and expressions, with the sample's values."""

    spec: Spec
    inputs: tuple[tuple[str, QuantitySymbol], ...]
    layers: tuple[Layer, ...]
    parameters: tuple[Parameter, ...]
    targets: tuple[QuantitySymbol, ...]
    learning_rate: QuantitySymbol
    loss: QuantitySymbol
    loss_terms: tuple[QuantitySymbol, ...]

    @property
    def rule(self):
        """The update rule (spec.optimizer): a :class:`derive.functions.UpdateRule`."""
        return self.spec.optimizer

    def rule_values(self) -> dict[QuantitySymbol, sympy.Rational]:
        """Return the given values the update rule uses: its hyper-parameters, the number of the update (1,
        the first) and every trainable parameter's state before it (0); none for SGD without weight decay."""
        rule = self.rule
        used = rule.uses()
        values = {QuantitySymbol("hyper", name): value for name, value in rule.hyper if name in used}
        if "t" in used:
            values[QuantitySymbol("step_number")] = sympy.Integer(1)
        values.update({QuantitySymbol("state", state, p.name): sympy.Integer(0)
                       for p in self.parameters if p.trainable for state in rule.states})
        return values

    @property
    def output_layer(self) -> Layer:
        return self.layers[-1]

    @property
    def units(self) -> list[Unit]:
        return [unit for layer in self.layers for unit in layer.units]

    def numbers(self) -> dict[str, int]:
        """Return the number of every input and unit in index notation: inputs 1…n, then the units in order."""
        numbers = {name: position for position, (name, _) in enumerate(self.inputs, start=1)}
        numbers.update({unit.name: unit.number for unit in self.units})
        return numbers

    def single_places(self) -> dict[str, tuple[str, tuple[str, ...]]]:
        """Return parameter -> ("w", (unit, source)) or ("b", (unit,)) numbers for parameters used in one place."""
        weights = [(u.name, c.source, c.weight.name) for u in self.units for c in u.connections]
        biases = [(u.name, u.bias.name) for u in self.units if u.bias]
        return single_places(self.numbers(), weights, biases)

    def loss_term_definitions(self) -> list[sympy.Expr]:
        """Return each output unit's term of E, in its out and target symbols (already divided for 'mean')."""
        loss = self.spec.loss
        scale = sympy.Rational(1, len(self.targets)) if loss.reduction == "mean" else 1
        return [scale * loss.term.xreplace({O: unit.out, T: target})
                for unit, target in zip(self.output_layer.units, self.targets)]

    def given_values(self) -> dict[QuantitySymbol, sympy.Rational]:
        """Return the exact value of every input, target, parameter, the learning rate and the rule's givens."""
        values = {symbol: value for (_, symbol), value in zip(self.inputs, self.spec.sample_inputs)}
        values.update(zip(self.targets, self.spec.targets))
        values.update({p.symbol: p.value for p in self.parameters})
        values[self.learning_rate] = self.spec.learning_rate
        values.update(self.rule_values())
        return values


def build(spec: Spec) -> Network:
    """Return the Network for `spec`."""
    inputs = tuple((name, QuantitySymbol("input", name)) for name in spec.inputs)
    sources = list(inputs)
    parameters: dict[str, Parameter] = {}

    def parameter(entry, is_bias: bool) -> Parameter:
        if entry.name not in parameters:
            trainable = spec.update_biases or not is_bias
            parameters[entry.name] = Parameter(entry.name, QuantitySymbol("param", entry.name), entry.value, is_bias, trainable)
        return parameters[entry.name]

    layers, number = [], len(inputs)
    for index, layer_spec in enumerate(spec.layers, start=1):
        rows = [tuple(Connection(parameter(entry, False), source, symbol) for entry, (source, symbol) in zip(row, sources))
                for row in layer_spec.weights]
        biases = [parameter(entry, True) for entry in layer_spec.bias] or [None] * len(rows)
        units = []
        for name, connections, bias in zip(layer_spec.units, rows, biases):
            number += 1
            units.append(Unit(name, index, number, QuantitySymbol("net", name), QuantitySymbol("out", name), connections, bias))
        layers.append(Layer(index, tuple(units), layer_spec.activation, layer_spec.bias_shared))
        sources = [(unit.name, unit.out) for unit in units]
    outputs = layers[-1].units
    return Network(
        spec=spec,
        inputs=inputs,
        layers=tuple(layers),
        parameters=tuple(parameters.values()),
        targets=tuple(QuantitySymbol("target", unit.name) for unit in outputs),
        learning_rate=QuantitySymbol("eta"),
        loss=QuantitySymbol("loss"),
        loss_terms=tuple(QuantitySymbol("loss_term", unit.name) for unit in outputs),
    )
