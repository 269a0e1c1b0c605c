"""derive/spec.py: reading a network file into a Spec.

Sources of truth: the README's description of the file format (written down here as expectations),
exact fractions computed by hand (0.15 is 3/20), and line numbers found in the test's own text.
Every error must be a SpecError whose text names the file, the line and the field.
"""
from fractions import Fraction

import pytest
import sympy

from derive.errors import SpecError
from derive.spec import load, load_text

BASE = """\
title: A small network
inputs: [i1, i2]
layers:
  - units: [h1, h2]
    activation: sigmoid
    weights:
      - [{w1: 0.15}, {w2: 0.20}]
      - [{w3: 0.25}, {w4: 0.30}]
    bias: {b1: 0.35}
  - units: [o1, o2]
    activation: sigmoid
    weights:
      - [{w5: 0.40}, {w6: 0.45}]
      - [{w7: 0.50}, {w8: 0.55}]
    bias: {b2: 0.60}
loss: half_sse
sample:
  inputs: [0.05, 0.10]
  targets: [0.01, 0.99]
learning_rate: 0.5
update_biases: false
"""
SOURCE = "net.yaml"


def line_of(text: str, fragment: str, occurrence: int = 1) -> int:
    """The 1-based line of the `occurrence`-th line of `text` containing `fragment` (found by the test itself)."""
    found = [number for number, line in enumerate(text.splitlines(), start=1) if fragment in line]
    assert len(found) >= occurrence, (fragment, text)
    return found[occurrence - 1]


def spec_of(text: str):
    return load_text(text, SOURCE)


def error_of(text: str) -> SpecError:
    with pytest.raises(SpecError) as caught:
        load_text(text, SOURCE)
    return caught.value


def replaced(old: str, new: str, text: str = BASE) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def assert_error(text: str, message: str, fragment: str | None, field: str | None):
    """The error names the file, the line holding `fragment`, and `field`; its message contains `message`."""
    error = error_of(text)
    where = error.where or ""
    assert where.startswith(SOURCE), str(error)
    if fragment is not None:
        assert f", line {line_of(text, fragment)}" in where, (str(error), line_of(text, fragment))
    if field is not None:
        assert where.endswith(f", {field}"), str(error)
    assert message in error.message, str(error)
    assert "\n" not in str(error)
    assert str(error) == f"{where}: {error.message}"


# --- numbers are read exactly as written ------------------------------------------------------------

def test_numbers_are_exact_rationals():
    spec = spec_of(BASE)
    first = spec.layers[0]
    assert [[p.value for p in row] for row in first.weights] == [[Fraction(3, 20), Fraction(1, 5)],
                                                                [Fraction(1, 4), Fraction(3, 10)]]
    assert all(isinstance(p.value, sympy.Rational) for row in first.weights for p in row)
    assert first.weights[0][0].value == sympy.Rational(15, 100)  # not the double nearest 0.15
    assert first.weights[0][0].value != sympy.Float(0.15)
    assert spec.sample_inputs == (Fraction(1, 20), Fraction(1, 10))
    assert spec.targets == (Fraction(1, 100), Fraction(99, 100))
    assert spec.learning_rate == Fraction(1, 2)
    assert spec.update_biases is False
    assert spec.title == "A small network"
    assert spec.inputs == ("i1", "i2") and spec.outputs == ("o1", "o2")
    assert spec.source == SOURCE


@pytest.mark.parametrize("written, value", [
    ("0.5", Fraction(1, 2)), ("+0.5", Fraction(1, 2)), (".5", Fraction(1, 2)), ("5.", Fraction(5)),
    ("2", Fraction(2)), ("1.5e+2", Fraction(150)), ("1.0e-3", Fraction(1, 1000)), ("2.5E-1", Fraction(1, 4)),
    ("0.1", Fraction(1, 10)), ("0.123456789012345678901234567890", Fraction(123456789012345678901234567890, 10 ** 30)),
    ("1000000000000", Fraction(10 ** 12)), ("0.000000000001", Fraction(1, 10 ** 12)),
])
def test_decimal_spellings(written, value):
    assert spec_of(replaced("learning_rate: 0.5", f"learning_rate: {written}")).learning_rate == value


@pytest.mark.parametrize("written, value", [("1e-3", Fraction(1, 1000)), ("5e-1", Fraction(1, 2)),
                                            ("1e3", Fraction(1000)), ("1.5e2", Fraction(150)),
                                            ("1.0e12", Fraction(10 ** 12))])
def test_e_notation_without_a_dot_is_a_number(written, value):
    assert spec_of(replaced("learning_rate: 0.5", f"learning_rate: {written}")).learning_rate == value


def test_negative_and_zero_weights_are_kept_exactly():
    spec = spec_of(replaced("{w1: 0.15}", "{w1: -0.15}").replace("{w2: 0.20}", "{w2: 0}"))
    assert spec.layers[0].weights[0][0].value == Fraction(-3, 20)
    assert spec.layers[0].weights[0][1].value == 0


@pytest.mark.parametrize("written, message", [
    ("0x10", "finite number written in decimals"),
    ("0o17", "expected a number"),
    ("1_000", "finite number written in decimals"),
    (".inf", "finite number written in decimals"),
    ("-.inf", "finite number written in decimals"),
    (".nan", "finite number written in decimals"),
    ("1:30", "finite number written in decimals"),
    ("2001-01-01", "expected a number"),
    ("true", "expected a number"),
    ("no", "expected a number"),
    ("null", "expected a number"),
    ("~", "expected a number"),
    ("'0.5'", "expected a number"),
    ("abc", "expected a number"),
    ("[0.5]", "expected a number"),
    ("10000000000000", "beyond the range"),        # 1e13
    ("-10000000000000", "beyond the range"),
    ("0.0000000000001", "beyond the range"),       # 1e-13
    ("1.0e+13", "beyond the range"),
    ("1.0e-101", "beyond the range"),
    ("0.1234567890123456789012345678901", "more than 30 significant digits"),
    ("1" * 41, "41 characters"),
    ("!!str 0.5", "tags such as"),
    ("!foo 0.5", "expected a number"),  # refused as what it would be, a text
    ("'0.5'", "expected a number"),
])
def test_numbers_refused_with_file_line_and_field(written, message):
    text = replaced("{w6: 0.45}", f"{{w6: {written}}}")
    assert_error(text, message, "{w6:", "layers[2].weights[1][2].w6")


@pytest.mark.parametrize("tag", ["!!int 5", "!!float 0.5"])
def test_hand_written_standard_tags_are_refused(tag):
    assert_error(replaced("learning_rate: 0.5", f"learning_rate: {tag}"), "tag", "learning_rate", "learning_rate")


def test_learning_rate_must_be_positive():
    for written in ("0", "-0.5"):
        text = replaced("learning_rate: 0.5", f"learning_rate: {written}")
        assert_error(text, "learning_rate must be positive", "learning_rate", "learning_rate")


# --- YAML's implicit typing is never applied -----------------------------------------------------------

@pytest.mark.parametrize("written", ["no", "yes", "00123", "1e3", "0x10", "12:30", "2001-01-01", "true", "3.0"])
def test_text_stays_as_written(written):
    assert spec_of(replaced("title: A small network", f"title: {written}")).title == written


def test_names_that_yaml_would_type():
    spec = spec_of(replaced("inputs: [i1, i2]", "inputs: [no, on]"))
    assert spec.inputs == ("no", "on")


@pytest.mark.parametrize("written, value", [("true", True), ("false", False), ("no", False), ("yes", True),
                                            ("off", False), ("On", True), ("TRUE", True)])
def test_update_biases_booleans(written, value):
    assert spec_of(replaced("update_biases: false", f"update_biases: {written}")).update_biases is value


@pytest.mark.parametrize("written", ["'no'", "1", "0", "y", "maybe"])
def test_update_biases_refuses_non_booleans(written):
    text = replaced("update_biases: false", f"update_biases: {written}")
    assert_error(text, "expected true or false", "update_biases", "update_biases")


def test_update_biases_defaults_to_true():
    assert spec_of(replaced("update_biases: false\n", "")).update_biases is True


def test_x_keys_are_ignored_and_descriptive_keys_kept():
    text = BASE + ("x-notes: {anything: [1, 2, !!binary aGk=], 0x10: .inf}\nx-other: 3\n"
                   "description: Worked example\nsource: Lecture 3\nauthor: A. Teacher\n")
    spec = spec_of(text)
    assert spec == spec_of(text.replace("x-other: 3\n", ""))  # nothing of an x- key reaches the Spec
    assert (spec.description, spec.reference, spec.author) == ("Worked example", "Lecture 3", "A. Teacher")
    assert spec_of(BASE).description == ""


def test_json_is_read_too():
    text = ('{"inputs": ["a"], "layers": [{"units": ["y"], "activation": "identity", "weights": [[{"w": 2}]]}],'
            ' "loss": "half_sse", "sample": {"inputs": [0.25], "targets": [1]}, "learning_rate": 0.1}')
    spec = spec_of(text)
    assert spec.layers[0].weights[0][0].value == 2 and spec.sample_inputs == (Fraction(1, 4),)


# --- structure -----------------------------------------------------------------------------------------

def test_bias_forms_and_names_of_bare_numbers():
    text = replaced("[{w1: 0.15}, {w2: 0.20}]", "[0.15, 0.20]")
    text = replaced("bias: {b1: 0.35}", "bias: [0.35, -0.1]", text)
    text = replaced("bias: {b2: 0.60}", "bias: 0.60", text)
    spec = spec_of(text)
    first, second = spec.layers
    assert [p.name for p in first.weights[0]] == ["w_h1_i1", "w_h1_i2"]
    assert [p.name for p in first.weights[1]] == ["w3", "w4"]
    assert [(p.name, p.value) for p in first.bias] == [("b_h1", Fraction(7, 20)), ("b_h2", Fraction(-1, 10))]
    assert first.bias_shared is False
    assert [p.name for p in second.bias] == ["b2", "b2"] and second.bias_shared is True
    assert second.bias[0] == second.bias[1] and second.bias[0].value == Fraction(3, 5)
    none = spec_of(replaced("    bias: {b2: 0.60}\n", ""))
    assert none.layers[1].bias == () and none.layers[1].bias_shared is False


def test_sample_by_name():
    spec = spec_of(replaced("inputs: [0.05, 0.10]", "inputs: {i2: 0.10, i1: 0.05}"))
    assert spec.sample_inputs == (Fraction(1, 20), Fraction(1, 10))
    text = replaced("inputs: [0.05, 0.10]", "inputs: {i1: 0.05}")
    assert_error(text, "missing value for i2", "inputs: {i1", "sample.inputs")


def test_tied_parameter_with_the_same_value_is_accepted():
    spec = spec_of(replaced("{w8: 0.55}", "{w5: 0.40}"))
    names = [p.name for row in spec.layers[1].weights for p in row]
    assert names == ["w5", "w6", "w7", "w5"]


def test_activation_names_aliases_and_formulas():
    spec = spec_of(replaced("activation: sigmoid", "activation: linear"))
    assert spec.layers[0].activation.name == "identity"
    formula = spec_of(replaced("activation: sigmoid", "activation: x/(1+abs(x))"))
    x = sympy.Symbol("x", real=True)
    assert sympy.simplify(formula.layers[0].activation.formula - x / (1 + sympy.Abs(x))) == 0


# --- errors name file, line and field -----------------------------------------------------------------

ERRORS = {
    "unknown key": (replaced("learning_rate: 0.5", "learning_rat: 0.5"),
                    "unknown key 'learning_rat' (did you mean 'learning_rate'?)", "learning_rat", None),
    "duplicate key": (BASE + "loss: sse\n", "duplicate key 'loss'", "loss: sse", None),
    "short row": (replaced("[{w3: 0.25}, {w4: 0.30}]", "[{w3: 0.25}]"),
                  "layer 1, row 2 (unit h2) has 1 weights; it needs one per unit of the previous layer (2: i1, i2)",
                  "[{w3: 0.25}]", "layers[1].weights[2]"),
    "rows": (replaced("      - [{w3: 0.25}, {w4: 0.30}]\n", ""), "layer 1 has 2 units but 1 weight rows",
             "[{w1: 0.15}", "layers[1].weights"),
    "biases": (replaced("bias: {b1: 0.35}", "bias: [0.35]"), "layer 1 has 2 units but 1 biases", "bias: [0.35]",
               "layers[1].bias"),
    "activation": (replaced("activation: sigmoid", "activation: sigmod"), "unknown activation 'sigmod'",
                   "sigmod", "layers[1].activation"),
    "formula": (replaced("activation: sigmoid", "activation: 'x*gelu(x)'"), "gelu", "gelu",
                "layers[1].activation"),
    "loss": (replaced("loss: half_sse", "loss: hinge"), "unknown loss 'hinge'", "hinge", "loss"),
    "invalid name": (replaced("[i1, i2]", "[1a, i2]"), "invalid name '1a'", "[1a, i2]", "inputs[1]"),
    "long name": (replaced("[i1, i2]", f"[i1, {'a' * 33}]"), "invalid name", "inputs: [i1", "inputs[2]"),
    "reserved": (replaced("[h1, h2]", "[h1, eta]"), "'eta' cannot name a unit, input or parameter",
                 "[h1, eta]", "layers[1].units[2]"),
    "duplicate name": (replaced("[o1, o2]", "[o1, h1]"), "duplicate name 'h1'", "[o1, h1]", "layers[2].units[2]"),
    "two values": (replaced("{w6: 0.45}", "{w5: 0.45}"), "parameter 'w5' already has the value 2/5",
                   "{w5: 0.45}", "layers[2].weights[1][2]"),
    "two pairs": (replaced("{w6: 0.45}", "{w6: 0.45, w9: 1}"), "one 'name: number' pair", "w9",
                  "layers[2].weights[1][2]"),
    "inputs count": (replaced("inputs: [0.05, 0.10]", "inputs: [0.05]"), "1 values given for 2 inputs (i1, i2)",
                     "inputs: [0.05]", "sample.inputs"),
    "targets count": (replaced("targets: [0.01, 0.99]", "targets: [0.01]"),
                      "1 values given for 2 output units (o1, o2)", "targets: [0.01]", "sample.targets"),
    "target name": (replaced("targets: [0.01, 0.99]", "targets: {o1: 0.01, o3: 0.99}"), "unknown key 'o3'",
                    "o3", "sample.targets"),
    "bce targets": (replaced("loss: half_sse", "loss: bce").replace("[0.01, 0.99]", "[0.01, 2]"),
                    "bce needs targets between 0 and 1; found 2", "targets: [0.01, 2]", "sample.targets"),
    "no inputs": (replaced("inputs: [i1, i2]", "inputs: []"), "expected at least one name", "inputs: []", "inputs"),
    "missing field": (replaced("    activation: sigmoid\n", ""), "missing 'activation'", "units: [h1, h2]",
                      "layers[1]"),
    "layer key": (replaced("    bias: {b1: 0.35}", "    biases: {b1: 0.35}"), "unknown key 'biases'", "biases",
                  "layers[1]"),
    "control character": (replaced("title: A small network", 'title: "A\\asmall"'), "control character U+0007",
                          "title:", "title"),
    "tag": (replaced("title: A small network", "title: !foo bar"), "YAML tags such as '!foo'", "title:", "title"),
    "not a list": (replaced("inputs: [i1, i2]", "inputs: i1"), "expected a list", "inputs: i1", "inputs"),
    "net_h1 input": (replaced("[i1, i2]", "[net_h1, i2]"), "would also read as the net of unit h1", "[net_h1",
                     "inputs[1]"),
    "index spelling": (replaced("[i1, i2]", "[x_2, x_1]"), "would also read as x_2, the input x_1", "[x_2, x_1]", "inputs[1]"),
    "w_63": (replaced("{w5: 0.40}", "{w_63: 0.40}"), "w_63", "w_63", "layers[2].weights[1][1]"),
    "new": (replaced("{w5: 0.40}", "{w5_new: 0.40}"), "_new", "w5_new", "layers[2].weights[1][1]"),
}


@pytest.mark.parametrize("case", sorted(ERRORS))
def test_errors_name_file_line_and_field(case):
    text, message, fragment, field = ERRORS[case]
    assert_error(text, message, fragment, field)


def test_missing_top_level_keys():
    for key in ("inputs", "layers", "loss", "sample", "learning_rate"):
        lines = [line for line in BASE.splitlines(keepends=True)]
        start = next(i for i, line in enumerate(lines) if line.startswith(f"{key}:"))
        end = next((i for i in range(start + 1, len(lines)) if not lines[i].startswith(" ")), len(lines))
        text = "".join(lines[:start] + lines[end:])
        error = error_of(text)
        assert error.message == f"missing {key!r}" and error.where.startswith(SOURCE + ", line 1"), str(error)


@pytest.mark.parametrize("name", ["E", "eta", "pi", "delta", "d", "new", "total", "w5_new", "exp", "log", "ln",
                                  "sqrt", "abs", "tanh", "sigmoid", "sigma", "relu", "softplus", "max", "min"])
def test_reserved_names_are_refused_with_a_reason(name):
    text = replaced("[i1, i2]", f"[i1, {name}]")
    error = error_of(text)
    assert f"{name!r} cannot name" in error.message or "_new" in error.message
    assert error.where == f"{SOURCE}, line {line_of(text, 'inputs: [')}, inputs[2]"


@pytest.mark.parametrize("name", ["x", "y", "o", "out", "t", "net", "target", "e", "a" * 32])
def test_tutorial_names_are_accepted(name):
    assert spec_of(replaced("[i1, i2]", f"[i1, {name}]")).inputs == ("i1", name)


def test_malformed_and_empty_files():
    error = error_of(replaced("units: [o1, o2]", "units: [o1, o2"))
    assert error.message.startswith("malformed YAML") and ", line " in error.where
    assert error_of("").message == "the file is empty"
    assert error_of("   \n# only a comment\n").message == "the file is empty"
    assert error_of("- 1\n- 2\n").message == "expected a mapping"


def test_file_size_limit():
    text = BASE + "x-padding: '" + "a" * 1_000_001 + "'\n"
    error = error_of(text)
    assert "larger than 1000 kB" in error.message and error.where == SOURCE


def test_files_on_disk(tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text(BASE, encoding="utf-8")
    assert load(good).source == str(good)
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(BASE.encode() + b"title2: \xff\n")
    with pytest.raises(SpecError) as caught:
        load(bad)
    assert "not UTF-8" in caught.value.message and caught.value.where == str(bad)
    with pytest.raises(SpecError) as caught:
        load(tmp_path / "absent.yaml")
    assert caught.value.message == "no such file"
    row = replaced("[{w3: 0.25}, {w4: 0.30}]", "[{w3: 0.25}]")
    (tmp_path / "row.yaml").write_text(row, encoding="utf-8")
    with pytest.raises(SpecError) as caught:
        load(tmp_path / "row.yaml")
    assert str(caught.value).startswith(f"{tmp_path / 'row.yaml'}, line {line_of(row, '[{w3: 0.25}]')}, "
                                        "layers[1].weights[2]: ")


# --- limits ---------------------------------------------------------------------------------------------

def layer(units, activation="sigmoid", weights="[]"):
    return f"  - units: [{', '.join(units)}]\n    activation: {activation}\n    weights: {weights}\n"


def network(inputs, layers_text, targets="[0.5]"):
    return (f"inputs: [{', '.join(inputs)}]\nlayers:\n{layers_text}loss: half_sse\n"
            f"sample: {{inputs: [{', '.join(['0.5'] * len(inputs))}], targets: {targets}}}\nlearning_rate: 0.1\n")


def test_at_most_16_layers():
    text = network(["a"], "".join(layer([f"u{k}"], weights="[[1]]") for k in range(17)))
    assert_error(text, "17 layers: at most 16 are allowed", "- units: [u0]", "layers")  # the list's line
    assert len(spec_of(network(["a"], "".join(layer([f"u{k}"], weights="[[1]]") for k in range(16)))).layers) == 16


def test_at_most_128_units_per_layer():
    text = network(["a"], layer([f"u{k}" for k in range(129)]))
    assert_error(text, "129 units: at most 128 are allowed", "units: [u0", "layers[1].units")
    inputs = network([f"a{k}" for k in range(129)], layer(["y"]))
    assert_error(inputs, "129 units: at most 128 are allowed", "inputs:", "inputs")


def test_at_most_10000_weights():
    text = network([f"a{k}" for k in range(128)], layer([f"u{k}" for k in range(79)]))  # 128 * 79 = 10112
    assert_error(text, "more than 10000 weights", "units: [u0", "layers[1].units")


def test_softmax_layer_of_at_most_32_units():
    text = network(["a"], layer([f"u{k}" for k in range(33)], activation="softmax"))
    assert_error(text, "a softmax layer of 33 units: at most 32 are allowed", "units: [u0", "layers[1].units")


def test_cross_entropy_over_softmax_needs_targets_summing_to_one():
    text = network(["a"], layer(["p", "q"], activation="softmax", weights="[[1], [2]]"), targets="[0.5, 0.6]")
    text = text.replace("half_sse", "cross_entropy")
    assert_error(text, "sum to 1", "targets", "sample.targets")
    assert spec_of(text.replace("[0.5, 0.6]", "[0.4, 0.6]")).targets == (Fraction(2, 5), Fraction(3, 5))
