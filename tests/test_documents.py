"""Documents: committed outputs are fresh, every generated .tex compiles, the CLI options work."""
import json
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest
from click.testing import CliRunner

import derive
from derive.cli import cli, example_documents, example_handouts
from conftest import ROOT, require_tool


def test_outputs_directory_is_fresh():
    documents = list(example_documents()) + list(example_handouts(formats=("html",)))
    stale = [str(path) for path, text in documents
             if not (ROOT / "outputs" / path).is_file() or (ROOT / "outputs" / path).read_text(encoding="utf-8") != text]
    assert not stale, f"outputs/ is stale: run `derive examples --write outputs` ({stale})"


@pytest.mark.parametrize("name", derive.examples.names())
def test_every_example_verifies(name):
    assert derive.derive(derive.example(name), verify=True).verified is True


def _compile(tex: Path) -> subprocess.CompletedProcess:
    require_tool("latexmk")
    return subprocess.run(["latexmk", "-pdf", "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape",
                           tex.name], cwd=tex.parent, capture_output=True, text=True, timeout=300)


def test_every_generated_tex_compiles(tmp_path):
    require_tool("latexmk")
    sources = []
    for name in derive.examples.names():
        derivation = derive.derive(derive.example(name), verify=True)
        for notation in ("named", "index"):
            path = tmp_path / f"{name}-{notation}.tex"
            path.write_text(derivation.render("tex", notation=notation), encoding="utf-8")
            sources.append(path)
    for path in sources:
        result = _compile(path)
        assert result.returncode == 0, (path.name, result.stdout[-3000:])
        assert path.with_suffix(".pdf").stat().st_size > 1000


def test_committed_tex_outputs_compile(tmp_path):
    require_tool("latexmk")
    for source in sorted((ROOT / "outputs").glob("*.tex")):
        copy = tmp_path / source.name
        copy.write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
        result = _compile(copy)
        assert result.returncode == 0, (source.name, result.stdout[-3000:])


def test_output_file_written_atomically_and_format_from_extension(tmp_path):
    target = tmp_path / "classic.json"
    result = CliRunner().invoke(cli, ["run", "-o", str(target)])
    assert result.exit_code == 0
    assert set(json.loads(target.read_text())) >= {"forward", "loss", "delta", "gradient", "updated", "loss_after_update"}
    assert [p.name for p in tmp_path.iterdir()] == ["classic.json"]


def test_exact_shows_fractions_for_a_linear_network():
    output = CliRunner().invoke(cli, ["run", "linear", "--exact", "-f", "text"]).output
    data = derive.derive(derive.example("linear")).to_data()
    prediction = Fraction(data["forward"]["y"]["out"]).limit_denominator(1000)
    assert prediction == Fraction(149, 50)  # 2.98, the prediction seed 004 prints
    assert "149/50" in output


def test_digits_option():
    output = CliRunner().invoke(cli, ["run", "--digits", "4", "-f", "text"]).output
    out_h1 = derive.derive(derive.example()).to_data()["forward"]["h1"]["out"]
    assert f"{out_h1:.4g}" in output and f"{out_h1:.9g}" not in output


def test_index_notation():
    output = CliRunner().invoke(cli, ["run", "fully_connected", "--notation", "index"]).output
    assert r"\delta_{6}" in output and "w_{41}" in output and r"\mathrm{net}_{4}" in output


def test_template_dir_replaces_a_template(tmp_path):
    (tmp_path / "text").mkdir()
    (tmp_path / "text" / "derivation.txt.j2").write_text(
        "{% for s in d.section('loss') %}{{ eq(s).parts|join(' = ') }}\n{% endfor %}")
    result = CliRunner().invoke(cli, ["run", "-f", "text", "--template-dir", str(tmp_path)])
    assert result.exit_code == 0
    assert result.output.startswith("E_o1 = ")


def test_python_dash_m_and_help():
    result = subprocess.run([sys.executable, "-m", "derive", "--help"], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0 and "run" in result.stdout and "examples" in result.stdout


def test_examples_lists_one_line_each():
    output = CliRunner().invoke(cli, ["examples"]).output.strip().splitlines()
    assert [line.split()[0] for line in output] == derive.examples.names()


def test_notebook_display():
    derivation = derive.derive(derive.example())
    assert derivation._repr_markdown_().startswith("# ")
    latex = derivation._repr_latex_()
    assert r"\documentclass" not in latex and r"\begin{align*}" in latex


def test_text_format_is_plain_unicode():
    output = CliRunner().invoke(cli, ["run", "-f", "text"]).output
    assert "δ_o1" in output and "\\frac" not in output and "$" not in output
