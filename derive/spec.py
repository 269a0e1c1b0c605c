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
from .errors import Phrase, SpecError, one_line
from .quantities import index_spellings, reserved_reason, unit_spelling

NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,31}\Z")
TOP_LEVEL = {"title", "inputs", "layers", "loss", "sample", "samples", "batch", "batch_loss", "seed", "learning_rate",
             "optimizer", "update_biases", "aliases"}
MAX_SAMPLES = 10_000     # entries of `samples`
BATCH_LOSSES = ("mean", "sum")  # how a batch's loss is made of its samples' losses
MAX_ALIASES = 500        # entries of `aliases`
MAX_ALIAS_LENGTH = 80    # characters of each side of one
MAX_MEANINGS = 4         # quantities one alias may stand for
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
    aliases: tuple["Alias", ...] = ()
    optimizer: functions.UpdateRule = None  # type: ignore[assignment]  # the catalogue's sgd unless given
    samples: tuple[tuple[tuple[sympy.Rational, ...], tuple[sympy.Rational, ...]], ...] = ()
    batch: str | int = "full"   # full, each, or the size of a mini-batch
    batch_loss: str = "mean"    # a batch's loss: the mean or the sum of its samples' losses
    seed: int = 0               # the order of mini-batches

    def __post_init__(self):
        if self.optimizer is None:
            object.__setattr__(self, "optimizer", functions.update_rule())
        if not self.samples:
            object.__setattr__(self, "samples", ((self.sample_inputs, self.targets),))

    @property
    def outputs(self) -> tuple[str, ...]:
        """The names of the output units."""
        return self.layers[-1].units

    def with_sample(self, number: int) -> "Spec":
        """Return this spec with its sample `number` (from 1) as the one a derivation uses."""
        from dataclasses import replace
        inputs, targets = self.samples[number - 1]
        return replace(self, sample_inputs=inputs, targets=targets)


@dataclass(frozen=True)
class Alias:
    """One entry of a spec's `aliases`: a name as a page or a class writes it (`a_1'`, `z^{[1]}_1`) and the
    quantity it stands for, in the claim language (`out_h1`, `w5`, `dE/dw5`), or a list of them when the
    page writes one name for several (`H1: [net_h1, out_h1]`); read by the checker, which says where
    (`where`) when a side cannot be read."""

    written: str
    meaning: str
    where: str
    also: tuple[str, ...] = ()  # further meanings of a page that writes one name for two quantities (H1)


class _Reader:
    """Turns a YAML node tree into plain data while remembering each node's line.

    Scalars are read from the text as written, by our own rules, never by
    YAML's implicit typing: `00123` stays the text 00123, a date is not a
    number, `1e-3` is a number, and a hand-written tag is refused.
    """

    def __init__(self, source: str):
        self.source = source

    def where(self, node: yaml.Node | None, field: str) -> str:
        return where(self.source, node.start_mark.line + 1 if node is not None else None, field)

    def fail(self, key: str, node: yaml.Node | None, field: str, **fields) -> SpecError:
        return SpecError(key, self.where(node, field), **fields)

    def untagged(self, node, field) -> None:
        """Refuse a node with a tag written by hand (!foo, !!binary, and !!int or !!str too)."""
        mark = node.start_mark
        written = mark.buffer is not None and mark.buffer[mark.pointer:mark.pointer + 1] == "!"
        if written or node.tag not in _IMPLICIT_TAGS | _CONTAINER_TAGS:
            raise self.fail("error_yaml_tag", node, field, tag=node.tag[:40])

    def mapping(self, node, field, allowed=None, extensions: bool = False) -> dict[str, yaml.Node]:
        """Return a mapping's value nodes by key; with `extensions`, keys starting with "x-" are skipped."""
        if not isinstance(node, yaml.MappingNode):
            raise self.fail("error_expected_mapping", node, field)
        self.untagged(node, field)
        result: dict[str, yaml.Node] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise self.fail("error_keys_plain", key_node, field)
            self.untagged(key_node, field)
            key = key_node.value
            if key in result:
                raise self.fail("error_duplicate_key", key_node, field, name=key)
            if extensions and key.startswith("x-"):
                continue
            if allowed is not None and key not in allowed:
                hint = difflib.get_close_matches(key, sorted(allowed), n=1)
                suggestion = (Phrase("error_did_you_mean", name=hint[0]) if hint
                              else Phrase("error_allowed_keys", allowed=", ".join(sorted(allowed))))
                raise self.fail("error_unknown_key", key_node, field, name=one_line(key)[:40], suggestion=suggestion)
            result[key] = value_node
        return result

    def sequence(self, node, field, limit: int | None = None, too_many: str = "error_too_many_entries"
                 ) -> list[yaml.Node]:
        """Return a list's nodes; `too_many` is the catalogue key saying there are more than `limit`."""
        if not isinstance(node, yaml.SequenceNode):
            raise self.fail("error_expected_list", node, field)
        self.untagged(node, field)
        if limit is not None and len(node.value) > limit:
            raise self.fail(too_many, node, field, count=len(node.value), limit=limit)
        return list(node.value)

    def scalar(self, node, field) -> str:
        """Return a scalar's text exactly as written (quotes removed)."""
        if not isinstance(node, yaml.ScalarNode):
            raise self.fail("error_expected_single_value", node, field)
        self.untagged(node, field)
        return node.value

    def is_null(self, node) -> bool:
        return isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null"

    def text(self, node, field) -> str:
        value = "" if self.is_null(node) else self.scalar(node, field)
        bad = next((c for c in value if unicodedata.category(c) == "Cc" and c not in "\n\t"), None)
        if bad is not None:
            raise self.fail("error_control_character", node, field, code=ord(bad))
        return value

    def name(self, node, field) -> str:
        value = self.scalar(node, field)
        if not NAME.match(value):
            raise self.fail("error_invalid_name", node, field, name=one_line(value)[:40])
        reason = reserved_reason(value)
        if reason:
            raise self.fail("error_reserved_name", node, field, name=value, reason=reason)
        return value

    def boolean(self, node, field) -> bool:
        value = self.scalar(node, field).lower() if node.tag == "tag:yaml.org,2002:bool" else None
        if value not in _TRUE | _FALSE:
            raise self.fail("error_expected_boolean", node, field)
        return value in _TRUE

    def number(self, node, field) -> sympy.Rational:
        """Return a number exactly as written (0.1 is 1/10), within the bounds of MAX_* above."""
        # A number is a plain (unquoted) scalar; YAML 1.1 types 1e-3 as text, so the text decides, not YAML's type.
        plain = isinstance(node, yaml.ScalarNode) and node.style is None and node.tag in _NUMBER_TAGS
        if not plain or (node.tag == "tag:yaml.org,2002:str" and not _DECIMAL.match(node.value)):
            found = one_line(node.value)[:40] if isinstance(node, yaml.ScalarNode) else Phrase("error_list_or_mapping")
            raise self.fail("error_expected_number", node, field, found=found)
        self.untagged(node, field)
        text = node.value
        if len(text) > MAX_NUMBER_CHARACTERS:
            raise self.fail("error_number_too_long", node, field, length=len(text), limit=MAX_NUMBER_CHARACTERS)
        if not _DECIMAL.match(text):
            raise self.fail("error_not_decimal", node, field, text=text)
        mantissa, _, exponent = text.lower().lstrip("+-").partition("e")
        digits = mantissa.replace(".", "").lstrip("0")
        if len(digits.rstrip("0") if "." in mantissa else digits) > MAX_SIGNIFICANT_DIGITS:
            raise self.fail("error_too_many_digits", node, field, text=text, limit=MAX_SIGNIFICANT_DIGITS)
        if exponent and abs(int(exponent)) > 100:
            raise self.fail("error_number_range", node, field, text=text)
        value = sympy.Rational(text)
        if value != 0 and not MIN_MAGNITUDE <= abs(value) <= MAX_MAGNITUDE:
            raise self.fail("error_number_range", node, field, text=text)
        return value


def hyperparameter(name: str, value: sympy.Rational, where_: str | None = None) -> sympy.Rational:
    """Return `value` for the hyper-parameter `name` when it lies in the parameter's range
    (functions.HYPERPARAMETERS), else SpecError saying the range."""
    if name not in functions.HYPERPARAMETERS:
        raise SpecError("error_unknown_hyperparameter_name", where_, name=name,
                        known=", ".join(functions.HYPERPARAMETERS))
    _, _, low, low_allowed, high, high_allowed = functions.HYPERPARAMETERS[name]
    low_ok = value >= sympy.Rational(low) if low_allowed else value > sympy.Rational(low)
    high_ok = high is None or (value <= sympy.Rational(high) if high_allowed else value < sympy.Rational(high))
    if not (low_ok and high_ok):
        written = ("[" if low_allowed else "(") + low + ", " + (high or "∞") + ("]" if high_allowed else ")")
        raise SpecError("error_hyperparameter_range", where_, name=name, range=written)
    return value


def batch_value(text: str, count: int) -> str | int | None:
    """Return a batch as written (in the file or after --batch): full, each, or the size of a mini-batch
    from 1 to `count` (the number of samples); None for anything else."""
    if text in ("full", "each"):
        return text
    return int(text) if re.fullmatch(r"\d{1,12}", text) and 1 <= int(text) <= count else None


def number_text(text: str, where_: str) -> sympy.Rational:
    """Return a number typed on the command line exactly as written (0.9 is 9/10), by the spec's rules."""
    text = text.strip()
    if len(text) > MAX_NUMBER_CHARACTERS or not _DECIMAL.match(text):
        raise SpecError("error_expected_number", where_, found=one_line(text)[:40])
    return sympy.Rational(text)


def where(source: str, line: int | None = None, field: str = "") -> str:
    """Return where something is: the source, then the line (1-based) and the field when known."""
    if line is not None:
        return Phrase("error_where_line_field", source=source, line=line, field=field) if field else \
            Phrase("error_where_line", source=source, line=line)
    return Phrase("error_where_field", source=source, field=field) if field else source


def compose(text: str, source: str, error=SpecError) -> yaml.Node | None:
    """Return the YAML node tree of `text` (nothing constructed, so no value is typed by YAML), or raise
    `error` with one line saying what is wrong and where (the claims reader shares this)."""
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as problem:
        mark = problem.problem_mark or problem.context_mark
        raise error("error_malformed_yaml", where(source, mark.line + 1 if mark else None),
                    problem=one_line(problem.problem or problem.context)) from None
    except yaml.reader.ReaderError as problem:
        character = problem.character
        written = f"U+{character:04X}" if isinstance(character, int) else repr(character)
        raise error("error_yaml_character", source, character=written, position=problem.position + 1) from None
    except yaml.YAMLError as problem:
        raise error("error_malformed_yaml", source, problem=one_line(problem)) from None
    except RecursionError:
        raise error("error_nested_too_deeply", source) from None


def load_text(text: str, source: str = "<spec>") -> Spec:
    """Return the Spec described by YAML or JSON `text`; `source` names it in errors."""
    if len(text) > MAX_FILE_BYTES:
        raise SpecError("error_file_too_large_kb", source, limit=MAX_FILE_BYTES // 1000)
    root = compose(text, source)
    if root is None:
        raise SpecError("error_file_empty", source)
    return _SpecBuilder(_Reader(source)).build(root)


def load(path: str | Path) -> Spec:
    """Return the Spec in the file at `path`."""
    path = Path(path)
    try:
        if path.is_file() and path.stat().st_size > MAX_FILE_BYTES:
            raise SpecError("error_file_too_large_kb", str(path), limit=MAX_FILE_BYTES // 1000)
        data = path.read_bytes()
    except FileNotFoundError:
        raise SpecError("error_no_such_file", str(path)) from None
    except OSError as error:
        raise SpecError("error_cannot_read", str(path), reason=error.strerror or error) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise SpecError("error_not_utf8_at", str(path), byte=error.start + 1) from None
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
        for required in ("inputs", "layers", "loss", "learning_rate"):
            if required not in top:
                raise r.fail("error_missing_key", root, "", name=required)
        if "sample" not in top and "samples" not in top:
            raise r.fail("error_missing_key", root, "", name="sample")
        if "sample" in top and "samples" in top:
            raise r.fail("error_sample_and_samples", top["samples"], "samples")
        described = {key: r.text(top[key], key) if key in top else "" for key in ("title", *DESCRIPTIVE)}
        inputs = self.names(top["inputs"], "inputs", "error_name_input")
        layers, previous = [], inputs
        layer_nodes = r.sequence(top["layers"], "layers", MAX_LAYERS, "error_too_many_layers")
        for index, layer_node in enumerate(layer_nodes, start=1):
            layer = self.layer(layer_node, index, previous)
            layers.append(layer)
            previous = layer.units
        if not layers:
            raise r.fail("error_no_layers", top["layers"], "layers")
        loss = functions.loss(r.scalar(top["loss"], "loss"), r.where(top["loss"], "loss"))
        if "sample" in top:
            samples = (self.sample(top["sample"], "sample", inputs, layers, loss),)
        else:
            nodes = r.sequence(top["samples"], "samples", MAX_SAMPLES)
            if not nodes:
                raise r.fail("error_no_samples", top["samples"], "samples")
            samples = tuple(self.sample(node, f"samples[{position}]", inputs, layers, loss)
                            for position, node in enumerate(nodes, start=1))
        batch = self.batch(top["batch"], len(samples)) if "batch" in top else "full"
        batch_loss = r.scalar(top["batch_loss"], "batch_loss") if "batch_loss" in top else "mean"
        if batch_loss not in BATCH_LOSSES:
            raise r.fail("error_batch_loss", top["batch_loss"], "batch_loss", known=", ".join(BATCH_LOSSES))
        seed = self.whole(top["seed"], "seed", 0, 2 ** 32 - 1) if "seed" in top else 0
        optimizer = self.optimizer(top["optimizer"]) if "optimizer" in top else functions.update_rule()
        sample_inputs, targets = samples[0]
        learning_rate = r.number(top["learning_rate"], "learning_rate")
        if learning_rate <= 0:
            raise r.fail("error_learning_rate_positive", top["learning_rate"], "learning_rate")
        update_biases = r.boolean(top["update_biases"], "update_biases") if "update_biases" in top else True
        self.check_spellings(inputs, layers)
        aliases = self.aliases(top["aliases"]) if "aliases" in top else ()
        return Spec(described["title"], inputs, tuple(layers), loss, sample_inputs, targets, learning_rate,
                    update_biases, r.source, described["description"], described["source"], described["author"],
                    aliases, optimizer, samples, batch, batch_loss, seed)

    def sample(self, node, field, inputs, layers, loss) -> tuple[tuple[sympy.Rational, ...], tuple[sympy.Rational, ...]]:
        """Read one sample: {inputs, targets}, each a list or a mapping by name."""
        r = self.r
        sample = r.mapping(node, field, {"inputs", "targets"})
        for required in ("inputs", "targets"):
            if required not in sample:
                raise r.fail("error_missing_key", node, field, name=required)
        values = self.values_for(sample["inputs"], inputs, f"{field}.inputs", "error_value_count_inputs")
        targets = self.values_for(sample["targets"], layers[-1].units, f"{field}.targets", "error_value_count_outputs")
        problem = functions.target_problem(loss, targets, layers[-1].activation)
        if problem:
            raise r.fail("error_targets", sample["targets"], f"{field}.targets", problem=problem)
        return values, targets

    def whole(self, node, field, lowest: int, highest: int) -> int:
        """Return a whole number written in the file, between `lowest` and `highest`."""
        text = self.r.scalar(node, field)
        if not re.fullmatch(r"\d{1,12}", text) or not lowest <= int(text) <= highest:
            raise self.r.fail("error_whole_number", node, field, lowest=lowest, highest=highest)
        return int(text)

    def batch(self, node, count: int) -> str | int:
        """Read `batch` (see :func:`batch_value`)."""
        value = batch_value(self.r.scalar(node, "batch"), count)
        if value is None:
            raise self.r.fail("error_batch", node, "batch", count=count)
        return value

    def optimizer(self, node) -> functions.UpdateRule:
        """Read `optimizer`: a rule's name, or {name: …, and hyper-parameters: momentum, beta1, beta2, …}."""
        r = self.r
        if isinstance(node, yaml.ScalarNode):
            return functions.update_rule(r.scalar(node, "optimizer"), r.where(node, "optimizer"))
        entries = r.mapping(node, "optimizer")
        if "name" not in entries:
            raise r.fail("error_missing_key", node, "optimizer", name="name")
        name = r.scalar(entries["name"], "optimizer.name")
        values = {}
        for key, value_node in entries.items():
            if key != "name":
                values[key] = hyperparameter(key, r.number(value_node, f"optimizer.{key}"),
                                             r.where(value_node, f"optimizer.{key}"))
        return functions.update_rule(name, r.where(entries["name"], "optimizer.name"), **values)

    def aliases(self, node) -> tuple[Alias, ...]:
        """Read `aliases`: written name -> quantity, each side one line of text (the checker reads them)."""
        r = self.r
        entries = r.mapping(node, "aliases") if not r.is_null(node) else {}
        if len(entries) > MAX_ALIASES:
            raise r.fail("error_too_many_entries", node, "aliases", count=len(entries), limit=MAX_ALIASES)
        aliases = []
        for written, value in entries.items():
            field = f"aliases.{one_line(written)[:40]}"
            nodes = r.sequence(value, field, MAX_MEANINGS) if isinstance(value, yaml.SequenceNode) else [value]
            if not nodes:
                raise r.fail("error_alias_text", value, field, limit=MAX_ALIAS_LENGTH)
            meanings = [r.text(node, field).strip() for node in nodes]
            for side in (written, *meanings):
                if (not side.strip() or len(side) > MAX_ALIAS_LENGTH
                        or any(unicodedata.category(c) == "Cc" for c in side)):
                    raise r.fail("error_alias_text", value, field, limit=MAX_ALIAS_LENGTH)
            aliases.append(Alias(written.strip(), meanings[0], r.where(value, field), tuple(meanings[1:])))
        return tuple(aliases)

    def claim(self, name: str, what: str, node, field) -> None:
        """Record that `name` names `what`; two things of one network never share a name."""
        if name in self.names_seen:
            earlier, earlier_node, _ = self.names_seen[name]
            raise self.r.fail("error_duplicate_name", node, field, name=name, what=what, earlier=earlier,
                              line=earlier_node.start_mark.line + 1)
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
                raise self.r.fail("error_name_reads_as", node, field, name=name, what=what, also=also)
            if name in index and index[name][0] != name:
                raise self.r.fail("error_name_reads_as_index", node, field, name=name, what=what, also=index[name][1])

    def names(self, node, field, what) -> tuple[str, ...]:
        items = self.r.sequence(node, field, MAX_UNITS_PER_LAYER, "error_too_many_units")
        if not items:
            raise self.r.fail("error_no_names", node, field)
        names = []
        for position, item in enumerate(items, start=1):
            name = self.r.name(item, f"{field}[{position}]")
            self.claim(name, Phrase(what, name=name), item, f"{field}[{position}]")
            names.append(name)
        return tuple(names)

    def layer(self, node, index: int, previous: tuple[str, ...]) -> LayerSpec:
        r, field = self.r, f"layers[{index}]"
        data = r.mapping(node, field, LAYER_KEYS)
        for required in ("units", "activation", "weights"):
            if required not in data:
                raise r.fail("error_missing_key", node, field, name=required)
        units = self.names(data["units"], f"{field}.units", "error_name_unit")
        self.weights += len(units) * len(previous)
        if self.weights > MAX_WEIGHTS:
            raise r.fail("error_too_many_weights", data["units"], f"{field}.units", limit=MAX_WEIGHTS)
        activation = functions.activation(r.scalar(data["activation"], f"{field}.activation"),
                                          r.where(data["activation"], f"{field}.activation"))
        if activation.layer_wise and len(units) > MAX_LAYER_WISE_UNITS:
            raise r.fail("error_layer_wise_too_large", data["units"], f"{field}.units", activation=activation.name,
                         count=len(units), limit=MAX_LAYER_WISE_UNITS)
        rows = r.sequence(data["weights"], f"{field}.weights")
        if len(rows) != len(units):
            raise r.fail("error_weight_rows", data["weights"], f"{field}.weights", index=index, units=len(units),
                         rows=len(rows))
        weights = []
        for row_index, (unit, row_node) in enumerate(zip(units, rows), start=1):
            row_field = f"{field}.weights[{row_index}]"
            entries = r.sequence(row_node, row_field)
            if len(entries) != len(previous):
                raise r.fail("error_weight_row_length", row_node, row_field, index=index, row=row_index, unit=unit,
                             count=len(entries), needed=len(previous), previous=", ".join(previous))
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
                raise r.fail("error_bias_count", node, f"{field}.bias", index=index, units=len(units),
                             count=len(entries))
            return tuple(self.parameter(entry, f"{field}.bias[{position}]", f"b_{unit}")
                         for position, (unit, entry) in enumerate(zip(units, entries), start=1)), False
        shared = self.parameter(node, f"{field}.bias", f"b{index}")
        return (shared,) * len(units), True

    def parameter(self, node, field, default_name) -> ParameterSpec:
        r = self.r
        if isinstance(node, yaml.MappingNode):
            entry = r.mapping(node, field)
            if len(entry) != 1:
                raise r.fail("error_parameter_form", node, field)
            (key, value_node), = entry.items()
            name = r.name(node.value[0][0], field)
            value = r.number(value_node, f"{field}.{key}")
        else:
            name, value = default_name, r.number(node, field)
        known = self.parameters.get(name)
        if known is not None and known.value != value:
            raise r.fail("error_parameter_conflict", node, field, name=name, value=known.value, place=known.where)
        if known is None:
            self.claim(name, Phrase("error_name_parameter", name=name), node, field)
        parameter = ParameterSpec(name, value, r.where(node, field))
        self.parameters.setdefault(name, parameter)
        return parameter

    def values_for(self, node, names, field, wrong_count: str) -> tuple[sympy.Rational, ...]:
        """Return the values of `names`; `wrong_count` is the catalogue key saying a list has too few or many."""
        r = self.r
        if isinstance(node, yaml.MappingNode):
            entries = r.mapping(node, field, set(names))
            missing = [name for name in names if name not in entries]
            if missing:
                raise r.fail("error_missing_values", node, field, names=", ".join(missing))
            return tuple(r.number(entries[name], f"{field}.{name}") for name in names)
        items = r.sequence(node, field)
        if len(items) != len(names):
            raise r.fail(wrong_count, node, field, count=len(items), needed=len(names), names=", ".join(names))
        return tuple(r.number(item, f"{field}[{position}]") for position, item in enumerate(items, start=1))
