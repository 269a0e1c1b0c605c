"""Read a network file (YAML or JSON) into a validated, immutable Spec.

Every error names the place it comes from: file, line and field.
"""
from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sympy
import yaml

from . import functions
from .errors import SpecError
from .formula import CONSTANTS, FUNCTIONS

NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,31}\Z")
# Names that would read as something else in a formula or a document.
RESERVED = {"E", "e", "pi", "eta", "x", "o", "t", "net", "out", "delta", "target"} | set(FUNCTIONS) | set(CONSTANTS)
TOP_LEVEL = {"title", "inputs", "layers", "loss", "sample", "learning_rate", "update_biases"}
LAYER_KEYS = {"units", "activation", "weights", "bias"}


@dataclass(frozen=True)
class ParameterSpec:
    """One weight or bias occurrence: its name (given or generated) and exact value."""

    name: str
    value: sympy.Rational
    where: str


@dataclass(frozen=True)
class LayerSpec:
    """One layer: unit names, activation, one weight row per unit, and its biases.

    `bias` holds one ParameterSpec per unit (the same one repeated when the
    layer shares a bias), or is empty when the layer has none.
    """

    units: tuple[str, ...]
    activation: functions.Activation
    weights: tuple[tuple[ParameterSpec, ...], ...]
    bias: tuple[ParameterSpec, ...]
    bias_shared: bool


@dataclass(frozen=True)
class Spec:
    """A validated network file."""

    title: str
    inputs: tuple[str, ...]
    layers: tuple[LayerSpec, ...]
    loss: functions.Loss
    sample_inputs: tuple[sympy.Rational, ...]
    targets: tuple[sympy.Rational, ...]
    learning_rate: sympy.Rational
    update_biases: bool
    source: str

    @property
    def outputs(self) -> tuple[str, ...]:
        """The names of the output units."""
        return self.layers[-1].units


class _Reader:
    """Turns a YAML node tree into plain data while remembering each node's line."""

    def __init__(self, source: str):
        self.source = source

    def where(self, node: yaml.Node | None, field: str) -> str:
        line = f", line {node.start_mark.line + 1}" if node is not None else ""
        return f"{self.source}{line}, {field}" if field else f"{self.source}{line}"

    def fail(self, message: str, node: yaml.Node | None, field: str) -> SpecError:
        return SpecError(message, self.where(node, field))

    def mapping(self, node, field, allowed=None) -> dict[str, yaml.Node]:
        if not isinstance(node, yaml.MappingNode):
            raise self.fail("expected a mapping", node, field)
        result: dict[str, yaml.Node] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(key, str):
                raise self.fail("keys must be plain names", key_node, field)
            if key in result:
                raise self.fail(f"duplicate key {key!r}", key_node, field)
            if allowed is not None and key not in allowed:
                hint = difflib.get_close_matches(key, sorted(allowed), n=1)
                suggestion = f" (did you mean {hint[0]!r}?)" if hint else f" (allowed: {', '.join(sorted(allowed))})"
                raise self.fail(f"unknown key {key!r}{suggestion}", key_node, field)
            result[key] = value_node
        return result

    def sequence(self, node, field) -> list[yaml.Node]:
        if not isinstance(node, yaml.SequenceNode):
            raise self.fail("expected a list", node, field)
        return list(node.value)

    def scalar(self, node, field) -> Any:
        if not isinstance(node, yaml.ScalarNode):
            raise self.fail("expected a single value", node, field)
        return _construct(node)

    def text(self, node, field) -> str:
        value = self.scalar(node, field)
        if not isinstance(value, str):
            raise self.fail("expected text", node, field)
        return value

    def name(self, node, field) -> str:
        value = self.scalar(node, field)
        if not isinstance(value, str) or not NAME.match(value):
            raise self.fail(
                f"invalid name {value!r}: use a letter followed by letters, digits or underscores (at most 32)", node, field
            )
        if value in RESERVED:
            raise self.fail(f"{value!r} is reserved; choose another name", node, field)
        return value

    def number(self, node, field) -> sympy.Rational:
        value = self.scalar(node, field)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(f"expected a number, found {value!r}", node, field)
        if isinstance(value, float) and not math.isfinite(value):
            raise self.fail(f"expected a finite number, found {value!r}", node, field)
        # repr() gives the shortest decimal that reads back as the same float:
        # the figure the teacher typed, kept exact.
        return sympy.Rational(repr(value)) if isinstance(value, float) else sympy.Integer(value)


def _construct(node: yaml.ScalarNode) -> Any:
    loader = yaml.SafeLoader("")
    return loader.construct_object(node, deep=True)


def load_text(text: str, source: str = "<spec>") -> Spec:
    """Return the Spec described by YAML or JSON `text`; `source` names it in errors."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = f", line {mark.line + 1}" if mark else ""
        raise SpecError(f"malformed YAML: {error.problem or error.context}", f"{source}{line}") from None
    except yaml.YAMLError as error:
        raise SpecError(f"malformed YAML: {error}", source) from None
    if root is None:
        raise SpecError("the file is empty", source)
    return _SpecBuilder(_Reader(source)).build(root)


def load(path: str | Path) -> Spec:
    """Return the Spec in the file at `path`."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError("no such file", str(path)) from None
    except (OSError, UnicodeDecodeError) as error:
        raise SpecError(f"cannot read: {error}", str(path)) from None
    return load_text(text, str(path))


class _SpecBuilder:
    def __init__(self, reader: _Reader):
        self.r = reader
        self.parameters: dict[str, ParameterSpec] = {}
        self.unit_names: set[str] = set()

    def build(self, root) -> Spec:
        r = self.r
        top = r.mapping(root, "", TOP_LEVEL)
        for required in ("inputs", "layers", "loss", "sample", "learning_rate"):
            if required not in top:
                raise r.fail(f"missing {required!r}", root, "")
        title = r.text(top["title"], "title") if "title" in top else ""
        inputs = self.names(top["inputs"], "inputs")
        self.unit_names.update(inputs)
        layers, previous = [], inputs
        for index, layer_node in enumerate(r.sequence(top["layers"], "layers"), start=1):
            layer = self.layer(layer_node, index, previous)
            layers.append(layer)
            previous = layer.units
        if not layers:
            raise r.fail("at least one layer is needed", top["layers"], "layers")
        loss = functions.loss(r.scalar(top["loss"], "loss"), r.where(top["loss"], "loss"))
        sample = r.mapping(top["sample"], "sample", {"inputs", "targets"})
        for required in ("inputs", "targets"):
            if required not in sample:
                raise r.fail(f"missing {required!r}", top["sample"], "sample")
        sample_inputs = self.values_for(sample["inputs"], inputs, "sample.inputs", "inputs")
        targets = self.values_for(sample["targets"], layers[-1].units, "sample.targets", "output units")
        learning_rate = r.number(top["learning_rate"], "learning_rate")
        if learning_rate <= 0:
            raise r.fail("learning_rate must be positive", top["learning_rate"], "learning_rate")
        update_biases = True
        if "update_biases" in top:
            update_biases = r.scalar(top["update_biases"], "update_biases")
            if not isinstance(update_biases, bool):
                raise r.fail("expected true or false", top["update_biases"], "update_biases")
        return Spec(title, inputs, tuple(layers), loss, sample_inputs, targets, learning_rate, update_biases, r.source)

    def names(self, node, field) -> tuple[str, ...]:
        items = self.r.sequence(node, field)
        if not items:
            raise self.r.fail("expected at least one name", node, field)
        names = []
        for position, item in enumerate(items, start=1):
            name = self.r.name(item, f"{field}[{position}]")
            if name in names or name in self.unit_names:
                raise self.r.fail(f"duplicate unit name {name!r}", item, f"{field}[{position}]")
            names.append(name)
        return tuple(names)

    def layer(self, node, index: int, previous: tuple[str, ...]) -> LayerSpec:
        r, field = self.r, f"layers[{index}]"
        data = r.mapping(node, field, LAYER_KEYS)
        for required in ("units", "activation", "weights"):
            if required not in data:
                raise r.fail(f"missing {required!r}", node, field)
        units = self.names(data["units"], f"{field}.units")
        self.unit_names.update(units)
        activation = functions.activation(r.scalar(data["activation"], f"{field}.activation"),
                                          r.where(data["activation"], f"{field}.activation"))
        rows = r.sequence(data["weights"], f"{field}.weights")
        if len(rows) != len(units):
            raise r.fail(f"layer {index} has {len(units)} units but {len(rows)} weight rows", data["weights"], f"{field}.weights")
        weights = []
        for row_index, (unit, row_node) in enumerate(zip(units, rows), start=1):
            row_field = f"{field}.weights[{row_index}]"
            entries = r.sequence(row_node, row_field)
            if len(entries) != len(previous):
                raise r.fail(
                    f"layer {index}, row {row_index} (unit {unit}) has {len(entries)} weights; "
                    f"it needs one per unit of the previous layer ({len(previous)}: {', '.join(previous)})",
                    row_node, row_field)
            weights.append(tuple(
                self.parameter(entry, f"{row_field}[{column}]", f"w_{unit}_{source}")
                for column, (source, entry) in enumerate(zip(previous, entries), start=1)))
        bias, shared = self.bias(data.get("bias"), index, units, field)
        return LayerSpec(units, activation, tuple(weights), bias, shared)

    def bias(self, node, index, units, field) -> tuple[tuple[ParameterSpec, ...], bool]:
        r = self.r
        if node is None or (isinstance(node, yaml.ScalarNode) and _construct(node) is None):
            return (), False
        if isinstance(node, yaml.SequenceNode):
            entries = r.sequence(node, f"{field}.bias")
            if len(entries) != len(units):
                raise r.fail(f"layer {index} has {len(units)} units but {len(entries)} biases", node, f"{field}.bias")
            return tuple(self.parameter(entry, f"{field}.bias[{position}]", f"b_{unit}")
                         for position, (unit, entry) in enumerate(zip(units, entries), start=1)), False
        shared = self.parameter(node, f"{field}.bias", f"b{index}")
        return (shared,) * len(units), True

    def parameter(self, node, field, default_name) -> ParameterSpec:
        r = self.r
        if isinstance(node, yaml.MappingNode):
            entry = r.mapping(node, field)
            if len(entry) != 1:
                raise r.fail("a weight or bias is one 'name: number' pair or a bare number", node, field)
            (key, value_node), = entry.items()
            name = r.name(node.value[0][0], field)
            value = r.number(value_node, f"{field}.{key}")
        else:
            name, value = default_name, r.number(node, field)
        if name in self.unit_names:
            raise r.fail(f"{name!r} is already the name of a unit", node, field)
        known = self.parameters.get(name)
        if known is not None and known.value != value:
            raise r.fail(f"parameter {name!r} already has the value {known.value} ({known.where})", node, field)
        parameter = ParameterSpec(name, value, r.where(node, field))
        self.parameters.setdefault(name, parameter)
        return parameter

    def values_for(self, node, names, field, what) -> tuple[sympy.Rational, ...]:
        r = self.r
        if isinstance(node, yaml.MappingNode):
            entries = r.mapping(node, field, set(names))
            missing = [name for name in names if name not in entries]
            if missing:
                raise r.fail(f"missing value for {', '.join(missing)}", node, field)
            return tuple(r.number(entries[name], f"{field}.{name}") for name in names)
        items = r.sequence(node, field)
        if len(items) != len(names):
            raise r.fail(f"{len(items)} values given for {len(names)} {what} ({', '.join(names)})", node, field)
        return tuple(r.number(item, f"{field}[{position}]") for position, item in enumerate(items, start=1))
