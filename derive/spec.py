"""Read a network file (YAML or JSON) into a validated, immutable Spec.

Every error names the place it comes from: file, line and field.
"""
from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
import sympy
import yaml

from . import functions
from .errors import SpecError, one_line
from .quantities import index_spellings, reserved_reason, unit_spelling

NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,31}\Z")
TOP_LEVEL = {"title", "inputs", "layers", "loss", "sample", "learning_rate", "update_biases"}
# Descriptive keys: where the example comes from. Keys starting with "x-" are the user's own and ignored.
DESCRIPTIVE = ("description", "source", "author")
LAYER_KEYS = {"units", "activation", "weights", "bias"}

# Bounds on the work a file can ask for: every limit is said in the message that enforces it.
MAX_FILE_BYTES = 1_000_000
MAX_LAYERS = 16
MAX_UNITS_PER_LAYER = 128
MAX_WEIGHTS = 10_000
MAX_LAYER_WISE_UNITS = 32    # a softmax layer of 64 units takes two minutes to derive (its Jacobian simplified)
MAX_NUMBER_CHARACTERS = 40          # a number as written
MAX_SIGNIFICANT_DIGITS = 30
MAX_MAGNITUDE = sympy.Integer(10) ** 12   # largest |value| of a number in the file
MIN_MAGNITUDE = sympy.Rational(1, 10 ** 12)  # smallest non-zero |value|
_DECIMAL = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\Z")
# The tags YAML gives plain and quoted scalars by itself; any other tag was written by hand (!foo, !!binary).
_IMPLICIT_TAGS = {f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null", "timestamp")}
_CONTAINER_TAGS = {"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"}
_NUMBER_TAGS = {f"tag:yaml.org,2002:{name}" for name in ("int", "float", "str")}
_TRUE, _FALSE = {"true", "yes", "on"}, {"false", "no", "off"}


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
    """A validated network file. `source` is where it was read from (for messages); `description`,
    `reference` (the file's `source:` key) and `author` describe the example, when given."""

    title: str
    inputs: tuple[str, ...]
    layers: tuple[LayerSpec, ...]
    loss: functions.Loss
    sample_inputs: tuple[sympy.Rational, ...]
    targets: tuple[sympy.Rational, ...]
    learning_rate: sympy.Rational
    update_biases: bool
    source: str
    description: str = ""
    reference: str = ""
    author: str = ""

    @property
    def outputs(self) -> tuple[str, ...]:
        """The names of the output units."""
        return self.layers[-1].units


class _Reader:
    """Turns a YAML node tree into plain data while remembering each node's line.

    Scalars are read from the text as written, by our own rules, never by
    YAML's implicit typing: `00123` stays the text 00123, a date is not a
    number, `1e-3` is a number, and a hand-written tag is refused.
    """

    def __init__(self, source: str):
        self.source = source

    def where(self, node: yaml.Node | None, field: str) -> str:
        line = f", line {node.start_mark.line + 1}" if node is not None else ""
        return f"{self.source}{line}, {field}" if field else f"{self.source}{line}"

    def fail(self, message: str, node: yaml.Node | None, field: str) -> SpecError:
        return SpecError(message, self.where(node, field))

    def untagged(self, node, field) -> None:
        """Refuse a node with a tag written by hand (!foo, !!binary, and !!int or !!str too)."""
        mark = node.start_mark
        written = mark.buffer is not None and mark.buffer[mark.pointer:mark.pointer + 1] == "!"
        if written or node.tag not in _IMPLICIT_TAGS | _CONTAINER_TAGS:
            raise self.fail(f"YAML tags such as {node.tag[:40]!r} are not supported", node, field)

    def mapping(self, node, field, allowed=None, extensions: bool = False) -> dict[str, yaml.Node]:
        """Return a mapping's value nodes by key; with `extensions`, keys starting with "x-" are skipped."""
        if not isinstance(node, yaml.MappingNode):
            raise self.fail("expected a mapping", node, field)
        self.untagged(node, field)
        result: dict[str, yaml.Node] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise self.fail("keys must be plain names", key_node, field)
            self.untagged(key_node, field)
            key = key_node.value
            if key in result:
                raise self.fail(f"duplicate key {key!r}", key_node, field)
            if extensions and key.startswith("x-"):
                continue
            if allowed is not None and key not in allowed:
                hint = difflib.get_close_matches(key, sorted(allowed), n=1)
                suggestion = f" (did you mean {hint[0]!r}?)" if hint else f" (allowed: {', '.join(sorted(allowed))})"
                raise self.fail(f"unknown key {one_line(key)[:40]!r}{suggestion}", key_node, field)
            result[key] = value_node
        return result

    def sequence(self, node, field, limit: int | None = None, what: str = "entries") -> list[yaml.Node]:
        if not isinstance(node, yaml.SequenceNode):
            raise self.fail("expected a list", node, field)
        self.untagged(node, field)
        if limit is not None and len(node.value) > limit:
            raise self.fail(f"{len(node.value)} {what}: at most {limit} are allowed", node, field)
        return list(node.value)

    def scalar(self, node, field) -> str:
        """Return a scalar's text exactly as written (quotes removed)."""
        if not isinstance(node, yaml.ScalarNode):
            raise self.fail("expected a single value", node, field)
        self.untagged(node, field)
        return node.value

    def is_null(self, node) -> bool:
        return isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null"

    def text(self, node, field) -> str:
        value = "" if self.is_null(node) else self.scalar(node, field)
        bad = next((c for c in value if unicodedata.category(c) == "Cc" and c not in "\n\t"), None)
        if bad is not None:
            raise self.fail(f"control character U+{ord(bad):04X} in the text", node, field)
        return value

    def name(self, node, field) -> str:
        value = self.scalar(node, field)
        if not NAME.match(value):
            raise self.fail(f"invalid name {one_line(value)[:40]!r}: use a letter followed by letters, digits or "
                            "underscores (at most 32)", node, field)
        reason = reserved_reason(value)
        if reason:
            raise self.fail(f"{value!r} cannot name a unit, input or parameter: {reason}", node, field)
        return value

    def boolean(self, node, field) -> bool:
        value = self.scalar(node, field).lower() if node.tag == "tag:yaml.org,2002:bool" else None
        if value not in _TRUE | _FALSE:
            raise self.fail("expected true or false", node, field)
        return value in _TRUE

    def number(self, node, field) -> sympy.Rational:
        """Return a number exactly as written (0.1 is 1/10), within the bounds of MAX_* above."""
        # A number is a plain (unquoted) scalar; YAML 1.1 types 1e-3 as text, so the text decides, not YAML's type.
        plain = isinstance(node, yaml.ScalarNode) and node.style is None and node.tag in _NUMBER_TAGS
        if not plain or (node.tag == "tag:yaml.org,2002:str" and not _DECIMAL.match(node.value)):
            found = one_line(node.value)[:40] if isinstance(node, yaml.ScalarNode) else "a list or mapping"
            raise self.fail(f"expected a number, found {found!r}", node, field)
        self.untagged(node, field)
        text = node.value
        if len(text) > MAX_NUMBER_CHARACTERS:
            raise self.fail(f"a number of {len(text)} characters: at most {MAX_NUMBER_CHARACTERS} are allowed",
                            node, field)
        if not _DECIMAL.match(text):
            raise self.fail(f"expected a finite number written in decimals, found {text!r}", node, field)
        mantissa, _, exponent = text.lower().lstrip("+-").partition("e")
        digits = mantissa.replace(".", "").lstrip("0")
        if len(digits.rstrip("0") if "." in mantissa else digits) > MAX_SIGNIFICANT_DIGITS:
            raise self.fail(f"{text!r} has more than {MAX_SIGNIFICANT_DIGITS} significant digits", node, field)
        if exponent and abs(int(exponent)) > 100:
            raise self.fail(f"{text!r} is beyond the range of numbers allowed (1e-12 to 1e12)", node, field)
        value = sympy.Rational(text)
        if value != 0 and not MIN_MAGNITUDE <= abs(value) <= MAX_MAGNITUDE:
            raise self.fail(f"{text!r} is beyond the range of numbers allowed (1e-12 to 1e12)", node, field)
        return value


def compose(text: str, source: str, error=SpecError) -> yaml.Node | None:
    """Return the YAML node tree of `text` (nothing constructed, so no value is typed by YAML), or raise
    `error` with one line saying what is wrong and where (the claims reader shares this)."""
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as problem:
        mark = problem.problem_mark or problem.context_mark
        line = f", line {mark.line + 1}" if mark else ""
        raise error(f"malformed YAML: {one_line(problem.problem or problem.context)}", f"{source}{line}") from None
    except yaml.reader.ReaderError as problem:
        character = problem.character
        written = f"U+{character:04X}" if isinstance(character, int) else repr(character)
        raise error(f"character {written} at position {problem.position + 1} is not allowed in a YAML file",
                    source) from None
    except yaml.YAMLError as problem:
        raise error(f"malformed YAML: {one_line(problem)}", source) from None
    except RecursionError:
        raise error("nested too deeply", source) from None


def load_text(text: str, source: str = "<spec>") -> Spec:
    """Return the Spec described by YAML or JSON `text`; `source` names it in errors."""
    if len(text) > MAX_FILE_BYTES:
        raise SpecError(f"larger than {MAX_FILE_BYTES // 1000} kB", source)
    root = compose(text, source)
    if root is None:
        raise SpecError("the file is empty", source)
    return _SpecBuilder(_Reader(source)).build(root)


def load(path: str | Path) -> Spec:
    """Return the Spec in the file at `path`."""
    path = Path(path)
    try:
        if path.is_file() and path.stat().st_size > MAX_FILE_BYTES:
            raise SpecError(f"larger than {MAX_FILE_BYTES // 1000} kB", str(path))
        data = path.read_bytes()
    except FileNotFoundError:
        raise SpecError("no such file", str(path)) from None
    except OSError as error:
        raise SpecError(f"cannot read: {error.strerror or error}", str(path)) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise SpecError(f"not UTF-8 text (byte {error.start + 1})", str(path)) from None
    return load_text(text, str(path))


class _SpecBuilder:
    def __init__(self, reader: _Reader):
        self.r = reader
        self.parameters: dict[str, ParameterSpec] = {}
        self.names_seen: dict[str, tuple] = {}   # every name of the network -> (what it names, node, field)
        self.weights = 0

    def build(self, root) -> Spec:
        r = self.r
        top = r.mapping(root, "", TOP_LEVEL | set(DESCRIPTIVE), extensions=True)
        for required in ("inputs", "layers", "loss", "sample", "learning_rate"):
            if required not in top:
                raise r.fail(f"missing {required!r}", root, "")
        described = {key: r.text(top[key], key) if key in top else "" for key in ("title", *DESCRIPTIVE)}
        inputs = self.names(top["inputs"], "inputs", "input")
        layers, previous = [], inputs
        layer_nodes = r.sequence(top["layers"], "layers", MAX_LAYERS, "layers")
        for index, layer_node in enumerate(layer_nodes, start=1):
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
        problem = functions.target_problem(loss, targets, layers[-1].activation)
        if problem:
            raise r.fail(problem, sample["targets"], "sample.targets")
        learning_rate = r.number(top["learning_rate"], "learning_rate")
        if learning_rate <= 0:
            raise r.fail("learning_rate must be positive", top["learning_rate"], "learning_rate")
        update_biases = r.boolean(top["update_biases"], "update_biases") if "update_biases" in top else True
        self.check_spellings(inputs, layers)
        return Spec(described["title"], inputs, tuple(layers), loss, sample_inputs, targets, learning_rate,
                    update_biases, r.source, described["description"], described["source"], described["author"])

    def claim(self, name: str, what: str, node, field) -> None:
        """Record that `name` names `what`; two things of one network never share a name."""
        if name in self.names_seen:
            earlier, earlier_node, _ = self.names_seen[name]
            raise self.r.fail(f"duplicate name {name!r}: it would name {what} and {earlier} "
                              f"(line {earlier_node.start_mark.line + 1})", node, field)
        self.names_seen[name] = (what, node, field)

    def check_spellings(self, inputs, layers) -> None:
        """Refuse an input or parameter name that a claim would also read as another quantity: a unit's
        (net_h1 when h1 is a unit) or another's in index notation (w_63 naming anything but w_{63})."""
        units = [unit for layer in layers for unit in layer.units]
        outputs = set(layers[-1].units)
        weights = [(unit, source, entry.name) for layer, previous in zip(layers, [inputs] + [l.units for l in layers])
                   for unit, row in zip(layer.units, layer.weights) for source, entry in zip(previous, row)]
        biases = [(unit, entry.name) for layer in layers for unit, entry in zip(layer.units, layer.bias)
                  if not layer.bias_shared]
        index = index_spellings(inputs, units, outputs, weights, biases)
        unit_names = set(units)
        for name, (what, node, field) in self.names_seen.items():
            if name in unit_names:
                continue
            also = unit_spelling(name, unit_names, outputs)
            if also is not None:
                raise self.r.fail(f"the name {name!r} of {what} would also read as {also} in claims; rename one",
                                  node, field)
            if name in index and index[name][0] != name:
                raise self.r.fail(f"the name {name!r} of {what} would also read as {index[name][1]} in index "
                                  "notation; rename it", node, field)

    def names(self, node, field, what) -> tuple[str, ...]:
        items = self.r.sequence(node, field, MAX_UNITS_PER_LAYER, "units")
        if not items:
            raise self.r.fail("expected at least one name", node, field)
        names = []
        for position, item in enumerate(items, start=1):
            name = self.r.name(item, f"{field}[{position}]")
            self.claim(name, f"{what} {name}", item, f"{field}[{position}]")
            names.append(name)
        return tuple(names)

    def layer(self, node, index: int, previous: tuple[str, ...]) -> LayerSpec:
        r, field = self.r, f"layers[{index}]"
        data = r.mapping(node, field, LAYER_KEYS)
        for required in ("units", "activation", "weights"):
            if required not in data:
                raise r.fail(f"missing {required!r}", node, field)
        units = self.names(data["units"], f"{field}.units", "unit")
        self.weights += len(units) * len(previous)
        if self.weights > MAX_WEIGHTS:
            raise r.fail(f"the network has more than {MAX_WEIGHTS} weights, the most allowed", data["units"],
                         f"{field}.units")
        activation = functions.activation(r.scalar(data["activation"], f"{field}.activation"),
                                          r.where(data["activation"], f"{field}.activation"))
        if activation.layer_wise and len(units) > MAX_LAYER_WISE_UNITS:
            raise r.fail(f"a {activation.name} layer of {len(units)} units: at most {MAX_LAYER_WISE_UNITS} are "
                         "allowed", data["units"], f"{field}.units")
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
        if node is None or r.is_null(node):
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
        known = self.parameters.get(name)
        if known is not None and known.value != value:
            raise r.fail(f"parameter {name!r} already has the value {known.value} ({known.where})", node, field)
        if known is None:
            self.claim(name, f"parameter {name}", node, field)
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
