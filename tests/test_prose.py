"""The prose of the documents is true to the options and the network (exact values, index notation, no bias)."""
import re

import pytest
from click.testing import CliRunner

from derive.cli import cli

NO_BIAS = """
inputs: [i1, i2]
layers:
  - units: [h1]
    activation: sigmoid
    weights: [[0.5, -0.25]]
  - units: [o1, o2]
    activation: softmax
    weights: [[0.3], [0.2]]
loss: cross_entropy
sample: {inputs: [1, 0.5], targets: [0.25, 0.75]}
learning_rate: 0.5
"""


def run(*arguments, spec=None, tmp_path=None):
    if spec is not None:
        path = tmp_path / "network.yaml"
        path.write_text(spec)
        arguments = (arguments[0], str(path), *arguments[1:])
    result = CliRunner().invoke(cli, [str(a) for a in arguments])
    return result


@pytest.mark.parametrize("fmt", ["md", "text", "tex", "html"])
def test_exact_values_are_not_said_to_be_rounded(fmt):
    rounded = run("run", "classic", "-f", fmt, "--digits", "7").output
    exact = run("run", "classic", "-f", fmt, "--exact").output
    assert "rounded to 7 significant digits" in rounded
    assert "fractions are shown exactly" in exact and "shown rounded to 9" not in exact


@pytest.mark.parametrize("fmt", ["md", "text", "tex", "html"])
def test_a_network_without_biases_says_nothing_of_updating_them(fmt, tmp_path):
    document = run("run", "-f", fmt, spec=NO_BIAS, tmp_path=tmp_path).output
    assert "Biases are" not in document
    assert "Biases are not updated" in run("run", "classic", "-f", fmt).output


def test_index_notation_numbers_the_units_in_the_prose_too(tmp_path):
    document = run("run", "--notation", "index", "-f", "text", spec=NO_BIAS, tmp_path=tmp_path).output
    # The layer table: layer 1 holds unit 3, layer 2 units 4 and 5 (the inputs are 1 and 2).
    assert re.search(r"^ +1 +3 +σ", document, re.M) and re.search(r"^ +2 +4, 5 +softmax", document, re.M)
    assert "t = t_k" in document and "target_k" not in document
    assert "h1" not in document and "o1" not in document


def test_numbers_in_errors_are_written_as_in_the_spec(tmp_path):
    result = run("run", spec=NO_BIAS.replace("[0.25, 0.75]", "[0.5, 0.75]"), tmp_path=tmp_path)
    assert result.exit_code == 2
    assert "sum to 1.25" in result.output and "5/4" not in result.output


def test_chinese_name_line_uses_a_full_width_colon(tmp_path):
    assert run("handout", "classic", "-f", "md", "-o", tmp_path, "--lang", "zh").exit_code == 0
    sheet = (tmp_path / "sheet.md").read_text()
    assert "姓名：" in sheet and "姓名:" not in sheet


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_every_sheet_leaves_the_room_asked_for(fmt, tmp_path):
    for space, directory in ((3, tmp_path / "room"), (0, tmp_path / "none")):
        result = run("handout", "classic", "-f", fmt, "-o", directory, "--ask", "delta_h1,w5_new", "--space", space)
        assert result.exit_code == 0, result.output
    room, none = ((tmp_path / d / f"sheet.{fmt}").read_text() for d in ("room", "none"))
    if fmt == "html":
        assert room.count('min-height: 3.0cm') == 2 and "min-height" not in none.split("<body")[1]
    else:
        assert room.count("&nbsp;") == 2 * 3 and "&nbsp;" not in none
