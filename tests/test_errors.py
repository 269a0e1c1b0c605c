"""Every kind of bad input gives one clear line on stderr, exit code 2, no traceback, and writes nothing."""
import pytest
from click.testing import CliRunner

from derive.cli import cli

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

CASES = {
    "malformed_yaml": (GOOD.replace("units: [o1]", "units: [o1"), ["line", "malformed YAML"]),
    "unknown_activation": (GOOD.replace("activation: sigmoid", "activation: sigmod", 1),
                           ["unknown activation 'sigmod'", "relu", "softmax"]),
    "unknown_loss": (GOOD.replace("loss: half_sse", "loss: hinge"), ["unknown loss 'hinge'", "cross_entropy"]),
    "short_row": (GOOD.replace("[{w3: 0.25}, {w4: 0.30}]", "[{w3: 0.25}]"), ["layer 1, row 2", "line 7"]),
    "too_few_rows": (GOOD.replace("      - [{w3: 0.25}, {w4: 0.30}]\n", ""), ["2 units but 1 weight rows"]),
    "missing_sample": (GOOD.split("sample:")[0] + "learning_rate: 0.5\n", ["missing 'sample'"]),
    "targets_mismatch": (GOOD.replace("targets: [0.01]", "targets: [0.01, 0.99]"), ["2 values given for 1 output units"]),
    "target_names": (GOOD.replace("targets: [0.01]", "targets: {o2: 0.5}"), ["unknown key 'o2'"]),
    "duplicate_unit": (GOOD.replace("units: [o1]", "units: [h1]"), ["duplicate name 'h1'"]),
    "parameter_named_like_unit": (GOOD.replace("{w5: 0.40}", "{h1: 0.40}"), ["duplicate name 'h1'", "parameter h1 and unit h1"]),
    "parameter_two_values": (GOOD.replace("{w6: 0.45}", "{w5: 0.45}"), ["'w5' already has the value"]),
    "non_numeric": (GOOD.replace("0.15", "abc"), ["expected a number", "'abc'"]),
    "nan": (GOOD.replace("0.15", ".nan"), ["finite number"]),
    "infinite": (GOOD.replace("learning_rate: 0.5", "learning_rate: .inf"), ["finite number"]),
    "boolean_number": (GOOD.replace("0.15", "true"), ["expected a number"]),
    "unknown_function": (GOOD.replace("activation: sigmoid", "activation: 'x*gelu(x)'", 1), ["unknown function 'gelu'"]),
    "formula_injection": (GOOD.replace("activation: sigmoid", "activation: '__import__(\"os\").system(\"touch pwned\")'", 1),
                          ["activation"]),
    "formula_unknown_variable": (GOOD.replace("loss: half_sse", "loss: '(t - y)^2'"), ["unknown name 'y'"]),
    "loss_undefined": (GOOD.replace("activation: sigmoid\n    weights:\n      - [{w5", "activation: identity\n    weights:\n      - [{w5")
                       .replace("{w5: 0.40}, {w6: 0.45}", "{w5: 0}, {w6: 0}").replace("half_sse", "cross_entropy"),
                       ["undefined at the sample"]),
    "bad_name": (GOOD.replace("{w1: 0.15}", "{'w1}\\\\input{x}': 0.15}"), ["invalid name"]),
    "reserved_name": (GOOD.replace("[i1, i2]", "[eta, i2]"), ["'eta' cannot name", "learning rate"]),
    "unknown_key": (GOOD.replace("learning_rate", "learning_rat"), ["unknown key 'learning_rat'", "did you mean 'learning_rate'"]),
    "negative_rate": (GOOD.replace("learning_rate: 0.5", "learning_rate: -1"), ["must be positive"]),
    "empty": ("", ["empty"]),
    "not_a_mapping": ("- 1\n- 2\n", ["expected a mapping"]),
    "no_layers": (GOOD.split("layers:")[0] + "layers: []\nloss: half_sse\nsample: {inputs: [1, 2], targets: []}\nlearning_rate: 1\n",
                  ["at least one layer"]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_one_line_exit_2_nothing_written(case, tmp_path):
    text, fragments = CASES[case]
    spec = tmp_path / "net.yaml"
    spec.write_text(text)
    output = tmp_path / "out.md"
    result = CliRunner().invoke(cli, ["run", str(spec), "-o", str(output)])
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in result.output + result.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    assert not output.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.yaml"]


def test_missing_file():
    result = CliRunner().invoke(cli, ["run", "no/such/file.yaml"])
    assert result.exit_code == 2
    assert "no such file" in result.stderr


def test_existing_output_is_untouched_on_error(tmp_path):
    spec = tmp_path / "net.yaml"
    spec.write_text(CASES["unknown_loss"][0])
    output = tmp_path / "mine.md"
    output.write_text("my notes")
    result = CliRunner().invoke(cli, ["run", str(spec), "-o", str(output)])
    assert result.exit_code == 2
    assert output.read_text() == "my notes"
