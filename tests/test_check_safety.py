"""Hostile claim text: nothing runs, nothing is written, every claim gets a verdict within its budget.

Each trick tries to create a sentinel file; the tests assert it never appears,
that the working directory is unchanged, and that judging stays well inside a
generous wall-clock bound (a hang guard for slow CI machines, not a speed test:
the judge's own budget is 5 s per claim).
"""
import time

import pytest
from click.testing import CliRunner

import derive
from derive.check import Judge
from derive.cli import cli

BOUND = 15.0  # seconds per claim, far above the judge's own budget


@pytest.fixture(scope="module")
def judge():
    return Judge(derive.derive(derive.example("classic")))


def tricks(sentinel):
    touch = f"touch {sentinel}"
    return [
        f"out_h1 = __import__('os').system('{touch}')",
        "out_h1 = ().__class__.__bases__[0].__subclasses__()",
        f"out_h1 = exec(\"open('{sentinel}', 'w')\")",
        f"out_h1 = eval(\"__import__('os').system('{touch}')\")",
        "out_h1 = lambda x: x",
        "out_h1 = open('/etc/passwd').read()",
        "out_h1 = __builtins__",
        "__class__ = 1",
        "out_h1 = net_h1.__class__",
        "out_h1 = globals()",
        f"out_h1 = $({touch})",
        f"out_h1 = `{touch}`",
        f"out_h1 = 1; {touch}",
        "out_h1 = 1' OR '1'='1",
        r"out_h1 = \input{/etc/passwd}",
        rf"out_h1 = \write18{{{touch}}}",
        rf"out_h1 = \immediate\write18{{{touch}}}",
        r"out_h1 = \def\x{1}\x",
        r"out_h1 = \catcode`\^^M=13",
        r"out_h1 = \csname input\endcsname{/etc/passwd}",
        "out_h1 = 0.59\x00",
        "out_h1 = \x1b[31m0.59",
        "out_h1 = \u202e95.0",
        "out_h1 = 0.59 🙂",
        "out_h1 = 9^9^9^9",
        "out_h1 = ((2^60)^60)^60",
        "out_h1 = 10^(10^10)",
        "out_h1 = 2**2**2**2**2**2",
        "out_h1 = 1e999999999",
        "out_h1 = " + "^".join(["net_h1"] * 40),
        "out_h1 = exp(exp(exp(exp(exp(exp(net_h1))))))",
        "out_h1 = " + "(" * 5000 + "1" + ")" * 5000,
        "out_h1 = " + "-" * 3000 + "1",
        "out_h1 = " + "x" * 100_000,
        "out_h1 = " + "+".join(["0.0001"] * 600),
        "out_h1 = " + "*".join(["(net_h1+1)"] * 200),
        "out_h1 = (net_h1 + w1 + w2 + w3 + w4 + i1 + i2)^64",
    ]


def test_hostile_claims_get_a_verdict_and_run_nothing(judge, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    sentinel = tmp_path / "pwned"
    for text in tricks(sentinel):
        start = time.monotonic()
        verdict = judge.judge(text)
        elapsed = time.monotonic() - start
        assert verdict.verdict in ("unreadable", "undecided", "incorrect"), (text[:80], verdict.verdict)
        assert elapsed < BOUND, (text[:80], elapsed)
        assert not sentinel.exists(), text[:80]
    assert list(tmp_path.iterdir()) == []


def test_valid_but_huge_claims_are_undecided_not_hung(judge):
    for text in ["out_h1 = 9^9^9^9", "out_h1 = ((2^60)^60)^60", "out_h1 = " + "x" * 100_000,
                 "out_h1 = 1e999999999", "out_h1 = " + "(" * 5000 + "1" + ")" * 5000]:
        assert judge.judge(text).verdict == "undecided", text[:60]


def test_cli_with_hostile_claims_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    sentinel = tmp_path / "pwned"
    arguments = ["check", "classic", "--format", "json"]
    for text in tricks(sentinel)[:24]:
        arguments += ["--claim", text]
    result = CliRunner().invoke(cli, arguments)
    assert result.exit_code == 1
    assert not sentinel.exists()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("content", [
    "claims: [unclosed",                 # not YAML
    "just a sentence",                   # not a list
    "- 0.5\n- 1\n",                      # numbers, not claim text
    "students:\n  alice: 3\n",           # a student without a list
    "{}\n",                              # empty
])
def test_bad_claims_files_are_bad_input(tmp_path, content):
    claims = tmp_path / "claims.yaml"
    claims.write_text(content, encoding="utf-8")
    report = tmp_path / "report.json"
    result = CliRunner().invoke(cli, ["check", "classic", "--claims", str(claims), "-o", str(report)])
    assert result.exit_code == 2, result.output
    assert result.output.startswith("error:") and result.output.count("\n") == 1
    assert not report.exists()


def test_missing_or_directory_claims_file(tmp_path):
    for path in (tmp_path / "absent.yaml", tmp_path):
        result = CliRunner().invoke(cli, ["check", "classic", "--claims", str(path), "-o", str(tmp_path / "r.json")])
        assert result.exit_code == 2 and result.output.startswith("error:")
    assert not (tmp_path / "r.json").exists()


def test_markdown_report_keeps_student_text_inert():
    claim = "out_h1 = <script>alert(1)</script> `x`"
    result = CliRunner().invoke(cli, ["check", "classic", "--format", "md", "--claim", claim])
    assert "<script>" not in result.output
