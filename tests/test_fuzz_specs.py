"""Fuzzing network files: every spec either derives, or fails as bad input.

Bad input means exit code 2 and exactly one line on stderr starting with ``error: ``, no traceback, and
nothing written. Exit code 1 (wrong claims, failed --verify) and 3 (internal error) are never the answer
to a network file, and every run must finish.

- an explicit list of hostile files, each run as ``python -m derive run SPEC -o out.json`` in a
  subprocess (its timeout is a hang guard only: every case takes a few seconds at most). The subprocesses of the selected cases run
  side by side, a few at a time, the first time one of them is asked for;
- valid edge cases (reserved-looking unit names, extra top-level keys) that must derive;
- bad specs with ``-o``: no output file and no ``*.tmp`` file is left;
- generated specs (hypothesis, derandomized), run in-process through click's CliRunner.
"""
from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

import derive
from derive.budget import OutOfWork, work_limit
from derive.cli import cli

# database=None keeps hypothesis's example database away, but its pytest plugin still caches the constants of
# local modules (at collection, before any fixture runs) and writes patches of failing examples under
# ./.hypothesis: send those to the temporary directory instead of the checkout.
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "derive-test-hypothesis")

TIMEOUT = 600  # a hang guard for the subprocesses, not a speed test: no verdict depends on it
IN_PROCESS_CALLS = 50_000_000  # Python calls one generated spec may take in-process before it counts as a hang

GOOD = """\
inputs: [i1, i2]
layers:
  - units: [h1, h2]
    activation: sigmoid
    weights:
      - [{w1: 0.15}, {w2: 0.20}]
      - [{w3: 0.25}, {w4: 0.30}]
    bias: {b1: 0.35}
  - units: [o1]
    activation: sigmoid
    weights:
      - [{w5: 0.40}, {w6: 0.45}]
loss: half_sse
sample:
  inputs: [0.05, 0.10]
  targets: [0.01]
learning_rate: 0.5
"""

SOFTMAX = """\
inputs: [i1, i2]
layers:
  - units: [o1, o2]
    activation: softmax
    weights:
      - [{w1: 0.15}, {w2: 0.20}]
      - [{w3: 0.25}, {w4: 0.30}]
loss: cross_entropy
sample:
  inputs: [0.05, 0.10]
  targets: TARGETS
learning_rate: 0.5
"""


def edit(text: str, old: str, new: str) -> str:
    """Return `text` with the first `old` replaced by `new` (which must be there)."""
    assert old in text, old
    return text.replace(old, new, 1)


def weight(value: str) -> str:
    """GOOD with the raw YAML `value` as the weight w1."""
    return edit(GOOD, "0.15", value)


def activation(formula: str) -> str:
    """GOOD with the hidden layer's activation replaced by a quoted formula."""
    return edit(GOOD, "activation: sigmoid", f"activation: '{formula}'")


def nested_list(depth: int) -> str:
    return "[" * depth + "]" * depth


def nested_map(depth: int) -> str:
    return "{a: " * depth + "1" + "}" * depth


def wide_layer(units: int) -> str:
    names = ", ".join(f"u{k}" for k in range(units))
    rows = "\n".join("      - [1]" for _ in range(units))
    targets = ", ".join("0" for _ in range(units))
    return (f"inputs: [i1]\nlayers:\n  - units: [{names}]\n    activation: identity\n    weights:\n{rows}\n"
            f"loss: half_sse\nsample:\n  inputs: [1]\n  targets: [{targets}]\nlearning_rate: 0.5\n")


TWO_MB = 2 * 1024 * 1024

# name -> file content (str, or bytes for what is not UTF-8)
EXPLICIT: dict[str, str | bytes] = {
    # YAML values that PyYAML builds into something other than a number, or fails to build
    "weight_invalid_date": weight("2001-02-30"),
    "title_invalid_date": "title: 2001-02-30\n" + GOOD,
    "weight_int_tag_abc": weight("!!int abc"),
    "weight_unknown_tag": weight("!foo 1"),
    "title_unknown_tag": "title: !foo bar\n" + GOOD,
    "weight_5000_digits": weight("9" * 5000),
    "weight_360_digits": weight("9" * 360),
    "weight_360_decimals": weight("0." + "1" * 360),
    "input_4000_digits": edit(GOOD, "inputs: [0.05", "inputs: [" + "7" * 4000),
    "nested_list_10000_file": nested_list(10000),
    "nested_list_10000_weight": weight(nested_list(10000)),
    "nested_map_10000_file": nested_map(10000),
    "nested_map_10000_title": "title: " + nested_map(10000) + "\n" + GOOD,
    # control characters; the message must still be one line
    "nul_at_start": "\x00" + GOOD,
    "nul_in_title": "title: a\x00b\n" + GOOD,
    "nul_in_unit_name": edit(GOOD, "[h1, h2]", "[h\x001, h2]"),
    "nul_in_weight": weight("0.1\x005"),
    "nul_at_end": GOOD + "\x00",
    **{f"control_{ord(c):04x}_in_unit_name": edit(GOOD, "[h1, h2]", f"[h{c}1, h2]")
       for c in "\x01\x08\x0b\x0c\x1b\x7f\x85\u2028\u2029\r"},
    "control_escapes_in_quoted_name": edit(GOOD, "[h1, h2]", '["h\\x01\\n\\r\\0\\e\\L", h2]'),
    "control_escapes_in_formula": edit(GOOD, "activation: sigmoid", 'activation: "x\\e[2J\\n+1"'),
    "invalid_utf8": GOOD.encode() + b"# \xff\xfe\n",
    # big files
    "2mb_comment": GOOD + "# " + "a" * TWO_MB + "\n",
    "2mb_title": "title: " + "a" * TWO_MB + "\n" + GOOD,
    "2mb_of_keys": "".join(f"k{k}: {k}\n" for k in range(TWO_MB // 10)),
    # numbers YAML 1.1 reads in other bases, or not as finite numbers
    "weight_hex": weight("0x1F"),
    "weight_hex_empty": weight("0x_"),
    "weight_octal": weight("017"),
    "weight_binary": weight("0b101"),
    "weight_sexagesimal": weight("1:30"),
    "weight_sexagesimal_float": weight("1:30.5"),
    "rate_sexagesimal": edit(GOOD, "learning_rate: 0.5", "learning_rate: 1:30"),
    "weight_inf": weight(".inf"),
    "weight_minus_inf": weight("-.inf"),
    "weight_nan": weight(".nan"),
    "target_nan": edit(GOOD, "targets: [0.01]", "targets: [.nan]"),
    "rate_inf": edit(GOOD, "learning_rate: 0.5", "learning_rate: .inf"),
    "weight_overflowing_float": weight("1.0e+400"),
    "weight_true": weight("true"),
    "weight_yes": weight("yes"),
    "weight_off": weight("off"),
    # activations that are huge, or huge to compute
    "activation_x_10_100": activation("x*10^100"),
    "activation_1e999_x": activation("1e999*x"),
    "activation_exp_exp_exp_1000": activation("exp(exp(exp(1000)))"),
    "activation_exp_1000x": activation("exp(1000*x)"),
    "activation_sinh_1000x": activation("sinh(1000*x)"),
    "activation_sin_64": activation("sin(x)^64"),
    "activation_power_tower": activation("((((2^100)^100)^100)^100)*x"),
    "layer_of_10000_units": wide_layer(10000),
    # targets outside what the loss is defined for
    "bce_target_2": edit(edit(GOOD, "loss: half_sse", "loss: bce"), "[0.01]", "[2]"),
    "bce_target_minus_half": edit(edit(GOOD, "loss: half_sse", "loss: bce"), "[0.01]", "[-0.5]"),
    "cross_entropy_target_2": edit(edit(GOOD, "loss: half_sse", "loss: cross_entropy"), "[0.01]", "[2]"),
    "cross_entropy_target_minus_half": edit(edit(GOOD, "loss: half_sse", "loss: cross_entropy"), "[0.01]", "[-0.5]"),
    "softmax_targets_sum_0_6": SOFTMAX.replace("TARGETS", "[0.3, 0.3]"),
    "softmax_targets_sum_2": SOFTMAX.replace("TARGETS", "[1, 1]"),
}


# Found by the generator with other seeds: a power of a huge exact number (net = 499999999999.5, 123456789).
# A single C-level computation that no count can interrupt, so they run in subprocesses (EXPLICIT), whose
# timeout kills them should this come back.
HUGE_EXACT_POWERS = [
    "inputs: [i1]\nlayers: [{units: [h1], activation: 'x^x', weights: [[999999999999.0]]}]\nloss: sse\n"
    "sample: {inputs: [0.5], targets: [0]}\nlearning_rate: 0.5\n",
    "inputs: [i1]\nlayers: [{units: [h1], activation: '1000^x', weights: [[123456.789]]}]\nloss: sse\n"
    "sample: {inputs: [1000], targets: [0]}\nlearning_rate: 0.5\n",
]
EXPLICIT.update({f"huge_exact_power_{index}": text for index, text in enumerate(HUGE_EXACT_POWERS, start=1)})


@dataclass
class Outcome:
    code: int | None  # None: killed after TIMEOUT seconds
    stderr: str
    left: list[str]  # files in the directory besides the spec
    output_written: bool


def _environment() -> dict[str, str]:
    """The environment of the subprocesses: the derive package under test first on the path, no debug mode."""
    env = {k: v for k, v in os.environ.items() if k != "DERIVE_DEBUG"}
    root = str(Path(derive.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join([root] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    return env


def run_subprocess(content: str | bytes, directory: Path) -> Outcome:
    spec = directory / "net.yaml"
    spec.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    output = directory / "out.json"
    try:
        process = subprocess.run([sys.executable, "-m", "derive", "run", str(spec), "-o", str(output)],
                                 capture_output=True, timeout=TIMEOUT, cwd=directory, env=_environment())
        code, stderr = process.returncode, process.stderr.decode("utf-8", "replace")
    except subprocess.TimeoutExpired as expired:  # subprocess.run has killed it
        code, stderr = None, (expired.stderr or b"").decode("utf-8", "replace")
    left = sorted(p.name for p in directory.iterdir() if p.name != "net.yaml")
    return Outcome(code, stderr, left, output.exists())


def describe(stderr: str, limit: int = 600) -> str:
    return stderr if len(stderr) <= limit else stderr[:limit] + f"... ({len(stderr)} characters)"


def assert_bad_input_line(stderr: str) -> None:
    """stderr is exactly one line (by str.splitlines, so no \\r, \\x0b, \\x85, \\u2028 ...) starting with `error: `."""
    lines = stderr.splitlines()
    assert len(lines) == 1, f"{len(lines)} lines on stderr: {describe(stderr)!r}"
    assert lines[0].startswith("error: "), describe(stderr)
    assert "Traceback" not in stderr


@pytest.fixture(scope="module")
def explicit_outcomes(request, tmp_path_factory):
    """Run every selected explicit case once, a few side by side; return {case: Outcome}."""
    selected = sorted({item.callspec.params["case"] for item in request.session.items
                       if getattr(item, "originalname", None) == "test_explicit_spec_derives_or_is_bad_input"})
    directories = {case: tmp_path_factory.mktemp(case[:40]) for case in selected}
    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 2)) as pool:
        futures = {case: pool.submit(run_subprocess, EXPLICIT[case], directories[case]) for case in selected}
        return {case: future.result() for case, future in futures.items()}


@pytest.mark.parametrize("case", list(EXPLICIT))
def test_explicit_spec_derives_or_is_bad_input(case, explicit_outcomes):
    outcome = explicit_outcomes[case]
    assert outcome.code is not None, f"still running after {TIMEOUT} s; stderr: {describe(outcome.stderr)!r}"
    assert outcome.code in (0, 2), f"exit code {outcome.code}; stderr: {describe(outcome.stderr)!r}"
    tmp = [name for name in outcome.left if name.endswith(".tmp")]
    assert not tmp, f"temporary files left: {tmp}"
    if outcome.code == 2:
        assert_bad_input_line(outcome.stderr)
        assert not outcome.output_written and not outcome.left, f"written on failure: {outcome.left}"
    else:
        assert outcome.output_written


# Valid edge cases: these must derive.
RESERVED_LOOKING = ["x", "y", "o", "out", "t", "net", "target"]
EXTRA_KEYS = {
    "source": "source: https://example.org/backprop\n",
    "description": "description: a network with a long description\n",
    "author": "author: A. Teacher\n",
    "x-anything": "x-anything: {any: [thing, 1, 2.5], nested: {deep: true}}\n",
}
VALID = {
    **{f"hidden_unit_{name}": edit(GOOD, "[h1, h2]", f"[{name}, h2]") for name in RESERVED_LOOKING},
    **{f"output_unit_{name}": edit(GOOD, "units: [o1]", f"units: [{name}]") for name in RESERVED_LOOKING},
    "all_reserved_looking_names": edit(edit(edit(GOOD, "inputs: [i1, i2]", "inputs: [x, y]"),
                                            "[h1, h2]", "[o, out]"), "units: [o1]", "units: [t]"),
    "input_net_and_target": edit(GOOD, "inputs: [i1, i2]", "inputs: [net, target]"),
    **{f"top_level_{key}": text + GOOD for key, text in EXTRA_KEYS.items()},
    "all_extra_keys": "".join(EXTRA_KEYS.values()) + GOOD,
}


@pytest.mark.parametrize("case", list(VALID))
def test_valid_edge_case_derives(case, tmp_path):
    spec = tmp_path / "net.yaml"
    spec.write_text(VALID[case], encoding="utf-8")
    result = CliRunner().invoke(cli, ["run", str(spec), "-f", "json"], catch_exceptions=True)
    assert result.exception is None or isinstance(result.exception, SystemExit), _traceback(result)
    assert result.exit_code == 0, result.stderr
    json.loads(result.stdout)


BAD_FOR_OUTPUT = {
    "unknown_key": GOOD + "colour: blue\n",
    "loss_undefined_at_sample": edit(edit(edit(GOOD, "activation: sigmoid\n    weights:\n      - [{w5",
                                                    "activation: identity\n    weights:\n      - [{w5"),
                                          "{w5: 0.40}, {w6: 0.45}", "{w5: 0}, {w6: 0}"), "half_sse", "cross_entropy"),
    "invalid_date": weight("2001-02-30"),
    "control_character": "\x00" + GOOD,
}


@pytest.mark.parametrize("case", list(BAD_FOR_OUTPUT))
def test_bad_spec_writes_no_output_and_no_temporary_file(case, tmp_path):
    spec = tmp_path / "net.yaml"
    spec.write_text(BAD_FOR_OUTPUT[case], encoding="utf-8")
    output = tmp_path / "out.json"
    result = CliRunner().invoke(cli, ["run", str(spec), "-o", str(output)], catch_exceptions=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.yaml"]
    assert result.exception is None or isinstance(result.exception, SystemExit), _traceback(result)
    assert result.exit_code == 2, result.stderr
    assert_bad_input_line(result.stderr)


# ---------------------------------------------------------------------------------------------------
# Generated specs. A spec is built as a tree of Map (key, value pairs; keys may repeat), Seq and Raw
# (YAML source text of one scalar), mutated, then written as YAML text.


@dataclass
class Raw:
    text: str


@dataclass
class Seq:
    items: list


@dataclass
class Map:
    items: list  # [key, value] pairs


def emit(node) -> str:
    if isinstance(node, Raw):
        return node.text
    if isinstance(node, Seq):
        return "[" + ", ".join(emit(item) for item in node.items) + "]"
    return "{" + ", ".join(f"{key}: {emit(value)}" for key, value in node.items) + "}"


def emit_top(root: Map) -> str:
    return "".join(f"{key}: {emit(value)}\n" for key, value in root.items)


def quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


NORMAL_NUMBERS = st.one_of(
    st.integers(-60, 60).map(lambda n: repr(n / 20)),
    st.integers(-3, 3).map(str),
    st.sampled_from(["0.5", "1000.0", "-1000.0", "123456.789", "0.0001", "1.0e-6", "-0.0", "999999999999.0"]),
)
ODD_NUMBERS = st.sampled_from([
    ".inf", "-.inf", ".nan", "1.0e+15", "1.0e-20", "1.0e+300", "-1.0e+300", "1.0e-300", "1.0e+400", "1e5", "0x1F",
    "0x_", "017", "0b101", "1:30", "1:30.5", "1_000", "true", "no", "on", "~", "null", "''", "'0.5'", "abc",
    "2001-02-30", "2001-02-03", "2001-02-03 04:05:06", "!!int abc", "!!float abc", "!!int '12'", "!foo 1", "!!str 1",
    "!!binary AAAA", "!!python/name:os.system", "9" * 360, "0." + "1" * 360, "9" * 5000, "1" + "0" * 40, "[]", "{}",
    "[1]", "{a: 1}", "&a 1", "*zz", "? a", "|", "'", "\"\\x00\"",
])
# names that must be accepted, some looking like the notation's own words; names that may be refused
GOOD_NAMES = ["h1", "h2", "h3", "o1", "o2", "i1", "i2", "a", "b", "u_1", "Z9", "node",
              "x", "y", "o", "out", "t", "net", "target"]
RISKY_NAMES = ["delta", "eta", "E", "e", "pi", "exp", "sin", "log", "sigmoid", "softmax", "relu", "w1", "b1", "loss",
               "inputs", "layers", "title", "source"]
INVALID_NAMES = ["1a", "a b", "a-b", "''", "ä", "A" * 33, "true", "null", "1", "_a", "'a:b'", "~", "0x1F"]

ACTIVATIONS = ["sigmoid", "tanh", "relu", "leaky_relu", "identity", "softplus", "softmax"]
LOSSES = ["half_sse", "sse", "mse", "cross_entropy", "bce"]
CONTROL = ["\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1b", "\x7f", "\x85", "\u2028", "\ufeff", "\t", "\r", "\n"]
JUNK_BYTES = [b"\xff", b"\xc3", b"\xed\xa0\x80"]


def formulas(variables: list[str]):
    """Formula strings from a small grammar: numbers, the variables, + - * / ^, exp, sin, log."""
    leaves = st.one_of(st.sampled_from(variables),
                       st.sampled_from(["0", "1", "2", "0.5", "3.25", "1000", "1e3", "1e-9"]))

    def extend(inner):
        return st.one_of(
            st.tuples(inner, st.sampled_from(["+", "-", "*", "/"]), inner).map(lambda t: f"({t[0]}{t[1]}{t[2]})"),
            st.tuples(st.sampled_from(["exp", "sin", "log"]), inner).map(lambda t: f"{t[0]}({t[1]})"),
            st.tuples(inner, st.sampled_from(["2", "3", "-1", "0.5", "64", "101", variables[0]]))
            .map(lambda t: f"{t[0]}^{t[1]}"),
            inner.map(lambda s: f"-{s}"),
        )

    return st.recursive(leaves, extend, max_leaves=5)


@st.composite
def spec_texts(draw):
    """The text (or bytes) of a network file: mostly well formed, sometimes odd, sometimes mutated."""
    wild = draw(st.sampled_from([False, False, False, True]))  # odd scalars and invalid names allowed
    risky = wild or draw(st.sampled_from([False, False, True]))  # names that may be refused
    number = st.one_of(NORMAL_NUMBERS, ODD_NUMBERS) if wild else NORMAL_NUMBERS
    num = lambda: Raw(draw(number))  # noqa: E731

    sizes = [draw(st.integers(1, 3))] + draw(st.lists(st.integers(1, 3), min_size=1, max_size=3))
    pool = GOOD_NAMES + (RISKY_NAMES if risky else []) + (INVALID_NAMES if wild else [])
    if wild:
        names = draw(st.lists(st.sampled_from(pool), min_size=sum(sizes), max_size=sum(sizes)))
    else:
        names = draw(st.lists(st.sampled_from(pool), min_size=sum(sizes), max_size=sum(sizes), unique=True))
    groups, start = [], 0
    for size in sizes:
        groups.append(names[start:start + size])
        start += size
    inputs, layer_units = groups[0], groups[1:]

    parameter_names = iter(f"w{k}" for k in range(1, 100))
    pool_parameters = ["w1", "w2", "b1", "h1", "x", "eta", "o1"]

    def parameter():
        style = draw(st.sampled_from(["named", "named", "bare"]))
        if style == "bare":
            return num()
        name = draw(st.sampled_from(pool_parameters)) if wild and draw(st.booleans()) else next(parameter_names)
        return Map([[name, num()]])

    layers, previous = [], inputs
    for units in layer_units:
        act = draw(st.one_of(st.sampled_from(ACTIVATIONS), formulas(["x"]).map(quoted)))
        layer = Map([["units", Seq([Raw(u) for u in units])], ["activation", Raw(act)],
                     ["weights", Seq([Seq([parameter() for _ in previous]) for _ in units])]])
        bias = draw(st.sampled_from(["none", "null", "shared", "bare", "list"]))
        if bias == "null":
            layer.items.append(["bias", Raw("~")])
        elif bias == "shared":
            layer.items.append(["bias", Map([[f"b{len(layers) + 1}", num()]])])
        elif bias == "bare":
            layer.items.append(["bias", num()])
        elif bias == "list":
            layer.items.append(["bias", Seq([parameter() for _ in units])])
        layers.append(layer)
        previous = units

    outputs = layer_units[-1]
    loss = draw(st.one_of(st.sampled_from(LOSSES),
                          formulas(["o", "t"]).filter(lambda f: re.search(r"\bo\b", f)).map(quoted)))

    def values(names_):
        if draw(st.booleans()):
            return Seq([num() for _ in names_])
        return Map([[n, num()] for n in names_])

    root = Map([])
    if draw(st.booleans()):
        root.items.append(["title", Raw(draw(st.sampled_from(["A network", "'x: y'", "2001-02-03", "1.5"]))
                                        if not wild else draw(ODD_NUMBERS))])
    root.items += [["inputs", Seq([Raw(n) for n in inputs])], ["layers", Seq(layers)], ["loss", Raw(loss)],
                   ["sample", Map([["inputs", values(inputs)], ["targets", values(outputs)]])],
                   ["learning_rate", Raw(draw(st.sampled_from(["0.5", "0.1", "1", "2.0"])) if not wild else
                                         draw(st.one_of(NORMAL_NUMBERS, ODD_NUMBERS)))]]
    update = draw(st.sampled_from([None, "true", "false", "yes", "1", "~"]))
    if update is not None:
        root.items.append(["update_biases", Raw(update)])
    for key in draw(st.lists(st.sampled_from(["source", "description", "author", "x-anything"]), max_size=2,
                             unique=True)):
        root.items.append([key, Raw("some text")])

    for _ in range(draw(st.sampled_from([0, 0, 0, 1, 2]))):
        mutate(draw, root)

    text = emit_top(root)
    corruption = draw(st.sampled_from([None] * 8 + ["control", "bytes"]))
    if corruption is None:
        return text
    position = draw(st.integers(0, len(text)))
    if corruption == "control":
        return text[:position] + draw(st.sampled_from(CONTROL)) + text[position:]
    return text[:position].encode() + draw(st.sampled_from(JUNK_BYTES)) + text[position:].encode()


WRONG_VALUES = [Raw("1"), Raw("abc"), Raw("~"), Raw("true"), Seq([]), Seq([Raw("1")]), Map([]), Map([["a", Raw("1")]])]


def mutate(draw, root: Map) -> None:
    """Delete, duplicate, retype or wrap one node of the tree."""
    slots = []  # (container list, index, is a mapping entry)

    def walk(node):
        if isinstance(node, (Seq, Map)):
            for index, item in enumerate(node.items):
                slots.append((node.items, index, isinstance(node, Map)))
                walk(item[1] if isinstance(node, Map) else item)

    walk(root)
    if not slots:
        return
    items, index, is_entry = slots[draw(st.integers(0, len(slots) - 1))]
    kind = draw(st.sampled_from(["delete", "duplicate", "retype", "wrap"]))
    if kind == "delete":
        del items[index]
    elif kind == "duplicate":
        items.insert(index + 1, copy.deepcopy(items[index]))
    else:
        old = items[index][1] if is_entry else items[index]
        new = copy.deepcopy(draw(st.sampled_from(WRONG_VALUES))) if kind == "retype" else Seq([old])
        if is_entry:
            items[index] = [items[index][0], new]
        else:
            items[index] = new


def _traceback(result) -> str:
    import traceback
    if result.exc_info is None:
        return repr(result.exception)
    return "".join(traceback.format_exception(*result.exc_info))




def test_generated_spec_derives_or_is_bad_input(tmp_path):
    """Generated specs derive, or fail with exit code 2 and one `error:` line, in-process.

    A spec whose work exceeds IN_PROCESS_CALLS Python calls (counted by derive.budget, not timed: the
    networks are tiny and take a small fraction of that) is stopped, collected and reported at the end
    rather than failed on the spot, so that hypothesis does not spend minutes shrinking hangs; every
    other failure is shrunk as usual.
    """
    spec = tmp_path / "net.yaml"
    hangs: list = []

    @settings(max_examples=300, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much,
                                     HealthCheck.large_base_example])
    @given(text=spec_texts())
    def check(text):
        spec.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
        try:
            with work_limit(IN_PROCESS_CALLS):
                result = CliRunner().invoke(cli, ["run", str(spec), "-f", "json"], catch_exceptions=True)
        except OutOfWork:
            hangs.append(text)
            return
        assert result.exception is None or isinstance(result.exception, SystemExit), _traceback(result)
        assert result.exit_code in (0, 2), f"exit code {result.exit_code}; stderr: {describe(result.stderr)!r}"
        if result.exit_code == 2:
            assert_bad_input_line(result.stderr)
        else:
            json.loads(result.stdout)

    def hang_report() -> str:
        return f"{len(hangs)} generated spec(s) took more than {IN_PROCESS_CALLS} calls:\n" + "\n".join(
            repr(text) for text in hangs[:5])

    try:
        check()
    except BaseException as error:
        if hangs:
            error.add_note(hang_report())
        raise
    assert not hangs, hang_report()
