"""Reproductions of what a new user found: files destroyed, crashes, false alarms, unbounded reports.

Each test here began as a failure seen with the landed tool; together with test_names.py,
test_determinism.py, test_fuzz_specs.py and test_check_hostile.py they cover every one. No test
reads a clock: work is bounded by counting it (derive.budget.work_limit), so a regression to
"hangs" or "takes minutes" fails as OutOfWork on any machine, fast or loaded.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import derive
from derive.budget import work_limit
from derive.check import check, mark
from derive.cli import cli
from derive.render.report import MAX_ECHO, render_report

ROOT = Path(__file__).resolve().parents[1]


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def one_error_line(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 2, (result.exit_code, result.stderr)
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


# --- output files ----------------------------------------------------------------------------------

def test_special_files_are_refused_not_replaced(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    line = one_error_line(run("run", "-f", "text", "-o", fifo))
    assert "not a regular file" in line
    assert fifo.is_fifo()
    line = one_error_line(run("run", "-f", "text", "-o", tmp_path))
    assert "directory" in line


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full")
def test_dev_full_stays_a_device():
    line = one_error_line(run("run", "-f", "text", "-o", "/dev/full"))
    assert "/dev/full" in line
    assert Path("/dev/full").is_char_device()


def test_dev_null_and_dev_stdout_are_written_into():
    assert run("run", "-f", "text", "-o", "/dev/null").exit_code == 0
    assert Path("/dev/null").is_char_device()
    result = run("run", "-f", "json", "-o", "-")
    assert result.exit_code == 0 and json.loads(result.stdout)["loss"] > 0


def test_an_svg_someone_else_wrote_is_never_replaced(tmp_path):
    (tmp_path / "notes.svg").write_text('<svg class="network"><!-- my own drawing --></svg>')
    line = one_error_line(run("run", "-o", tmp_path / "notes.md"))
    assert "notes.svg" in line
    assert (tmp_path / "notes.svg").read_text() == '<svg class="network"><!-- my own drawing --></svg>'
    assert not (tmp_path / "notes.md").exists()


def test_derives_own_svg_is_replaced_but_not_once_edited(tmp_path):
    assert run("run", "-o", tmp_path / "notes.md").exit_code == 0
    assert run("run", "--digits", "4", "-o", tmp_path / "notes.md").exit_code == 0
    svg = tmp_path / "notes.svg"
    svg.write_text(svg.read_text().replace("</svg>", "<text>my note</text></svg>"))
    one_error_line(run("run", "-o", tmp_path / "notes.md"))
    assert "my note" in svg.read_text()


def test_a_handout_file_replaced_by_the_user_is_kept(tmp_path):
    assert run("handout", "classic", "-f", "md", "-o", tmp_path).exit_code == 0
    assert run("handout", "classic", "-f", "md", "-o", tmp_path).exit_code == 0   # derive's own: replaced
    (tmp_path / "key.md").write_text("my own answer key")
    line = one_error_line(run("handout", "classic", "-f", "md", "-o", tmp_path))
    assert "key.md" in line
    assert (tmp_path / "key.md").read_text() == "my own answer key"


def test_the_svg_is_written_before_the_markdown_that_links_to_it(tmp_path, monkeypatch):
    from derive import files
    order = []
    original = files.write_atomically
    monkeypatch.setattr(files, "write_atomically", lambda path, data: (order.append(path.name), original(path, data)))
    assert run("run", "-o", tmp_path / "notes.md").exit_code == 0
    assert order == ["notes.svg", "notes.md"]


def test_an_unwritable_directory_is_one_line_naming_the_path(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    line = one_error_line(run("run", "-o", blocker / "notes.md"))
    assert str(blocker) in line
    line = one_error_line(run("check", "classic", "--claim", "out_h1 = 0.5933", "-o", blocker / "r.txt"))
    assert str(blocker) in line


def test_an_interrupted_write_leaves_no_temporary_file(tmp_path, monkeypatch):
    from derive import files
    monkeypatch.setattr(files.os, "fdopen", lambda handle, mode: _Interrupting(handle))
    with pytest.raises(KeyboardInterrupt):
        files.write_atomically(tmp_path / "out.md", b"text")
    assert list(tmp_path.iterdir()) == []


class _Interrupting:
    def __init__(self, handle):
        os.close(handle)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def write(self, data):
        raise KeyboardInterrupt


_SIGNAL_DURING_IMPORT = """
import os, sys
class Interrupt:
    def find_spec(self, name, path=None, target=None):
        if name == "sympy":
            os.kill(os.getpid(), {signum})   # delivered while Python imports SymPy, inside derive's start-up
        return None
sys.meta_path.insert(0, Interrupt())
sys.argv = ["derive", "run", "-o", sys.argv[1]]
from derive.launch import main
main()
"""


@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_interrupting_at_start_up_is_an_exit_code_not_a_traceback(tmp_path, signum, code):
    script = _SIGNAL_DURING_IMPORT.format(signum=int(signum))
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path / "out.md")], capture_output=True,
                          text=True, cwd=ROOT, timeout=600)
    assert done.returncode == code, done.stderr
    assert "Traceback" not in done.stderr
    assert list(tmp_path.iterdir()) == []


# --- bad input that crashed ------------------------------------------------------------------------

CLASSIC = (ROOT / "derive" / "examples" / "classic.yaml").read_text(encoding="utf-8")


@pytest.mark.parametrize("loss, targets, fragment", [
    ("bce", "[0.01, 2]", "between 0 and 1"),
    ("bce", "[-0.5, 0.5]", "between 0 and 1"),
    ("cross_entropy", "[0.01, 2]", "between 0 and 1"),
])
def test_targets_a_loss_cannot_take_are_refused(tmp_path, loss, targets, fragment):
    spec = tmp_path / "net.yaml"
    spec.write_text(CLASSIC.replace("loss: half_sse", f"loss: {loss}").replace("targets: [0.01, 0.99]",
                                                                                f"targets: {targets}"))
    assert fragment in one_error_line(run("run", spec))


def test_cross_entropy_over_softmax_needs_targets_that_sum_to_one(tmp_path):
    spec = tmp_path / "net.yaml"
    softmax = (ROOT / "derive" / "examples" / "softmax.yaml").read_text(encoding="utf-8")
    data = derive.example("softmax")
    wrong = ", ".join(["0.5"] * len(data.targets))
    import re
    spec.write_text(re.sub(r"targets: \[[^\]]*\]", f"targets: [{wrong}]", softmax))
    assert "sum to 1" in one_error_line(run("run", spec))


@pytest.mark.parametrize("text", ["title: a\x00b\n", "title: a\x07b\n", "title: \"a\\eb\"\n" + CLASSIC])
def test_control_characters_are_one_line(tmp_path, text):
    spec = tmp_path / "net.yaml"
    spec.write_text(text)
    one_error_line(run("run", spec))


# --- self-checks ------------------------------------------------------------------------------------

SHARED_SOFTMAX_BIAS = """\
inputs: [a, b, c]
layers:
  - units: [h1, h2, h3]
    activation: sigmoid
    weights: [[0.1, 0.2, 0.3], [0.4, -0.5, 0.6], [0.7, 0.8, -0.9]]
    bias: [0.1, 0.2, 0.3]
  - units: [g1, g2, g3]
    activation: tanh
    weights: [[0.1, 0.2, 0.3], [0.4, -0.5, 0.6], [0.7, 0.8, -0.9]]
    bias: [0.1, 0.2, 0.3]
  - units: [o1, o2, o3]
    activation: softmax
    weights: [[0.1, 0.2, 0.3], [0.4, -0.5, 0.6], [0.7, 0.8, -0.9]]
    bias: {c3: 0.5}
loss: cross_entropy
sample: {inputs: [0.5, 0.1, 0.9], targets: [0, 1, 0]}
learning_rate: 0.1
"""


def test_verify_accepts_a_gradient_that_is_exactly_zero_and_stays_cheap():
    """A bias shared by a softmax layer with one-hot targets has gradient 0 (Σ_k (out_k − t_k) = 0).

    The work is bounded by a count: expanding the whole loss of this 3-3-3-3 network took minutes.
    """
    with work_limit(60_000_000):
        derivation = derive.derive(derive.load_text(SHARED_SOFTMAX_BIAS), verify=True)
    assert derivation.verified is True
    shared = next(c for c in derivation.checks if c.parameter == "c3")
    assert abs(float(shared.gradient)) < 1e-40 and abs(float(shared.finite_difference)) < 1e-20
    # The checks are independent: against central differences computed here from the forward pass.
    spec = derive.load_text(SHARED_SOFTMAX_BIAS)
    for check_ in derivation.checks:
        assert abs(float(check_.gradient) - _central_difference(spec, check_.parameter)) < 1e-8


def _central_difference(spec, name: str, step: float = 1e-6) -> float:
    import math
    values = {p.name: float(p.value) for layer in spec.layers for row in layer.weights for p in row}
    values.update({p.name: float(p.value) for layer in spec.layers for p in layer.bias})

    def loss(shifted):
        current = [float(v) for v in spec.sample_inputs]
        for layer in spec.layers:
            nets = [sum(values_[p.name] * x for p, x in zip(row, current)) + (values_[b.name] if layer.bias else 0)
                    for row, b in zip(layer.weights, layer.bias or [None] * len(layer.units))]
            name_ = layer.activation.name
            if name_ == "softmax":
                top = max(nets)
                exps = [math.exp(n - top) for n in nets]
                current = [e / sum(exps) for e in exps]
            else:
                current = [{"sigmoid": lambda z: 1 / (1 + math.exp(-z)), "tanh": math.tanh}[name_](n) for n in nets]
        return -sum(float(t) * math.log(o) for t, o in zip(spec.targets, current))

    values_ = dict(values)
    values_[name] = values[name] + step
    up = loss(values_)
    values_[name] = values[name] - step
    down = loss(values_)
    return (up - down) / (2 * step)


# --- reports ----------------------------------------------------------------------------------------

def test_a_huge_claim_is_echoed_cut_in_every_report():
    derivation = derive.derive(derive.example("classic"))
    claim = "out_h1 = " + "+".join(["0.001"] * 20000)
    report = mark(derivation, {None: [claim]})
    for format_ in ("text", "md", "json"):
        document = render_report(report, format_)
        assert len(document) < 4 * MAX_ECHO + 2000, format_
        assert str(len(claim) - MAX_ECHO) in document, format_
    assert json.loads(render_report(report, "json"))["claims"][0]["claim_length"] == len(claim)


def test_raw_html_and_dollars_are_escaped_in_markdown(tmp_path):
    spec = tmp_path / "net.yaml"
    spec.write_text(CLASSIC.replace("title: Two inputs, two sigmoid hidden units, two sigmoid outputs",
                                    "title: '<img src=x onerror=alert(1)> $x$'"))
    document = run("run", spec, "-f", "md").stdout
    assert "<img" not in document and "&lt;img" in document and r"\$x\$" in document
    report = render_report(mark(derive.derive(derive.example("classic")),
                                {"<b>eve</b>": ["out_h1 = $0.59$ <script>"]}), "md")
    assert "<script>" not in report and "<b>" not in report and r"\$0.59\$" in report


# --- claims that were slow or undecided under load ------------------------------------------------

def test_a_chain_of_substitutions_is_correct_whatever_the_load():
    derivation = derive.derive(derive.example("classic"))
    with work_limit(30_000_000):
        verdict, = check(derivation, ["net_h1 = w1*i1 + w2*i2 + b1 = 0.15*0.05 + 0.2*0.1 + 0.35 = 0.3775"])
    assert verdict.verdict == "correct", verdict.message


def test_three_hundred_nested_fractions_are_cheap_again():
    """The traced second parse ran before the size check and took 50× the work (0.09 s → 5 s)."""
    derivation = derive.derive(derive.example("classic"))
    claim = "E = " + "1/(1+" * 300 + "1" + ")" * 300
    with work_limit(5_000_000):
        verdict, = check(derivation, [claim])
    assert verdict.verdict == "incorrect" and verdict.method == "number"
