"""Hostile claims: nothing runs, nothing is written, and every claim gets a verdict in bounded time.

Student text reaches `derive check` untouched, so it is tried here with what an
attacker (or a very confused student) might write: Python attribute and import
tricks, LaTeX primitives that run commands or read files, shell and SQL text,
control and bidirectional characters, numbers and powers too large to compute,
deep nesting and very long input. Each claim must come back as a verdict
(unreadable or undecided, or incorrect where it is a valid formula) well within
a bound on the work; a sentinel file the claims try to create must not appear; the
working directory must be left as it was; and no process, write or code
compilation may happen while judging (watched with an audit hook).

No test here reads a clock: the work of each claim is bounded by counting it
(GUARD_CALLS Python calls, derive.budget), so the same claims pass or fail on a
fast machine, a slow one, and one under load.

The tests under "crashes found with hostile input" began as reproductions of
bugs this file found (odd subscripts and derivatives, carried numbers with no
real value, '**', powers of powers, report lines forged by line breaks).
"""
from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from derive import derive as derive_network
from derive import example
from derive.check import Judge, mark, parse_claim
from derive.budget import work_limit
from derive.check.parse import ClaimTooLarge
from derive.cli import cli
from derive.render.report import render_report

GUARD_CALLS = 60_000_000        # Python calls per claim: the judge's own budgets stop far below this
SENTINEL = "pwned-sentinel"     # the file the claims try to create; "{S}" in a claim is its absolute path
ROOT = Path(__file__).resolve().parents[1]

UNREADABLE = {"unreadable"}
REFUSED = {"unreadable", "undecided"}
TOO_LARGE = {"undecided"}
FORMULA = {"incorrect", "undecided"}            # a valid formula with the wrong value, or one too large to judge
RIGHT = {"correct", "undecided"}                # a valid formula with the right value, written oddly
ODD_SPELLING = {"correct", "unreadable", "undecided"}


def _case(name, claim, allowed):
    return pytest.param(claim, allowed, id=name)


PYTHON = [
    _case("import_system", "out_h1 = __import__('os').system('touch {S}')", UNREADABLE),
    _case("subclasses", "().__class__.__bases__[0].__subclasses__()", UNREADABLE),
    _case("subclasses_globals", "out_h1 = ().__class__.__base__.__subclasses__()[0].__init__"
                                ".__globals__['os'].system('touch {S}')", UNREADABLE),
    _case("exec_string", "out_h1 = exec(\"open('{S}', 'w').write('x')\")", UNREADABLE),
    _case("eval_string", "out_h1 = eval(\"__import__('os').system('touch {S}')\")", UNREADABLE),
    _case("eval_number", "out_h1 = eval(1)", REFUSED),
    _case("compile", "out_h1 = compile('import os', 'x', 'exec')", UNREADABLE),
    _case("lambda", "out_h1 = lambda x: x", UNREADABLE),
    _case("lambda_called", "out_h1 = (lambda: __import__('os').system('touch {S}'))()", UNREADABLE),
    _case("open_read", "out_h1 = open('/etc/passwd').read()", UNREADABLE),
    _case("open_write", "out_h1 = open('{S}', 'w').write('x')", UNREADABLE),
    _case("import_statement", "import os; os.system('touch {S}')", UNREADABLE),
    _case("getattr", "out_h1 = getattr(w5, '__class__')", UNREADABLE),
    _case("globals", "out_h1 = globals()['__builtins__']", UNREADABLE),
    _case("dunder_lhs", "__class__ = 1", UNREADABLE),
    _case("dunder_rhs", "out_h1 = __builtins__", UNREADABLE),
    _case("dunder_attribute", "out_h1 = w5.__class__.__mro__", UNREADABLE),
    _case("dunder_subscript", "out___class__ = 1", UNREADABLE),
    _case("sympify", "out_h1 = sympify('__import__(\"os\").system(\"touch {S}\")')", UNREADABLE),
    _case("sympy_names", "out_h1 = Symbol('x') + S.One", UNREADABLE),
    _case("fstring", "out_h1 = f\"{__import__('os').system('touch {S}')}\"", UNREADABLE),
    _case("conditional", "out_h1 = 1 if __import__('os').system('touch {S}') else 0", UNREADABLE),
    _case("comprehension", "out_h1 = [x for x in ().__class__.__mro__]", UNREADABLE),
    _case("walrus", "out_h1 := 1", UNREADABLE),
    _case("yaml_tag", "!!python/object/apply:os.system [\"touch {S}\"]", UNREADABLE),
]

LARGE = [
    _case("tower_9", "out_h1 = 9^9^9^9", TOO_LARGE),
    _case("power_of_powers", "out_h1 = ((2^60)^60)^60", TOO_LARGE),
    _case("ten_to_ten_to_ten", "out_h1 = 10^(10^10)", TOO_LARGE),
    _case("double_star", "out_h1 = 10**10**10", REFUSED),   # ** is unreadable for now: see test_double_star_is_a_power
    _case("tower_1300", "out_h1 = " + "2^" * 1300 + "1", TOO_LARGE),
    _case("big_power_of_big", "out_h1 = (10^64)^64", FORMULA),
    _case("e_notation_huge", "out_h1 = 1e999999999", TOO_LARGE),
    _case("e_notation_tiny", "out_h1 = 1e-999999999", TOO_LARGE),
    _case("e_notation_unicode_digits", "out_h1 = 1e٩٩٩٩٩٩٩٩٩", TOO_LARGE | UNREADABLE),
    _case("long_integer", "out_h1 = 1" + "0" * 3000, FORMULA),
    _case("power_64", "out_h1 = 123456789^64", FORMULA),
    _case("exp_huge", "out_h1 = exp(10^60)", FORMULA),
    _case("exp_tower", "out_h1 = exp(exp(exp(exp(exp(100)))))", FORMULA),
]

TOWERS = [
    _case("symbol_tower_8", "out_h1 = " + "^".join(["net_h1"] * 8), FORMULA),
    _case("symbol_tower_550", "out_h1 = " + "net_h1^" * 550 + "1", REFUSED),
    _case("symbol_power_of_powers", "out_h1 = ((net_h1^64)^64)^64", FORMULA),
    _case("symbol_tower_mixed", "out_h1 = net_h1^(w1^(w2^(w3^(w4^(w5^64)))))", FORMULA),
    _case("cancel_degree_60", "out_h1 = out_h1 * (net_h1+1)^30 * (net_h1-1)^30 / (net_h1^2-1)^30", RIGHT),
]

NESTING = [
    _case("parentheses_5000", "out_h1 = " + "(" * 5000 + "1" + ")" * 5000, REFUSED),
    _case("parentheses_1990", "out_h1 = " + "(" * 1990 + "0.5933" + ")" * 1990, RIGHT),
    _case("brackets_mixed", "out_h1 = " + "[{(" * 660 + "0.5933" + ")}]" * 660, RIGHT),
    _case("unbalanced_open", "out_h1 = " + "(" * 3000, REFUSED),
    _case("unbalanced_close", "out_h1 = 1" + ")" * 3000, REFUSED),
    _case("minus_3990", "out_h1 = " + "-" * 3990 + "1", FORMULA),
    _case("sigmoid_400", "out_h1 = " + "sigmoid(" * 400 + "net_h1" + ")" * 400, REFUSED),
    _case("sqrt_600", "out_h1 = " + "sqrt(" * 600 + "net_h1" + ")" * 600, FORMULA),
    _case("exp_log_230", "out_h1 = " + "exp(log(" * 230 + "out_h1" + "))" * 230, RIGHT),
    _case("continued_fraction", "out_h1 = " + "1/(net_h1+" * 350 + "1" + ")" * 350, FORMULA),
    _case("frac_nested", "out_h1 = " + r"\frac{1}{" * 300 + "2" + "}" * 300, FORMULA | UNREADABLE),
]

LONG = [
    _case("sum_100k", "out_h1 = " + "1+" * 49995 + "1", TOO_LARGE),
    _case("letters_100k", "x" * 100_000, REFUSED),
    _case("sum_1500_terms", "out_h1 = " + "0.0001+" * 1500 + "0.0001", FORMULA),
    _case("sum_560_terms", "out_h1 = " + "0.0001+" * 560 + "0.0001", FORMULA),
    _case("polynomial_300_terms",
          "out_h1 = " + "+".join(f"net_h1^{k % 64}*w{1 + k % 8}" for k in range(300))[:3980].rsplit("+", 1)[0],
          FORMULA),
    _case("product_300_factors",
          "out_h1 = " + "*".join(f"(net_h1+w{1 + k % 8})" for k in range(300))[:3980].rsplit("*", 1)[0], FORMULA),
    _case("equals_400", "out_h1 = " + " = ".join(["0.5933"] * 400), RIGHT),
]

LATEX = [
    _case("input", r"out_h1 = \input{/etc/passwd}", UNREADABLE),
    _case("include", r"out_h1 = \include{{S}}", UNREADABLE),
    _case("write18", r"\write18{touch {S}}", UNREADABLE),
    _case("write18_rhs", r"out_h1 = \write18{touch {S}}", UNREADABLE),
    _case("immediate_write18", r"\immediate\write18{touch {S}} out_h1 = 0.5933", UNREADABLE),
    _case("immediate_write18_after", r"out_h1 = 0.5933 \immediate\write18{touch {S}}", UNREADABLE),
    _case("def", r"\def\x{0.5933} out_h1 = \x", UNREADABLE),
    _case("newcommand", r"\newcommand{\x}{0.5933} out_h1 = \x", UNREADABLE),
    _case("catcode", r"\catcode`\^^@=11 out_h1 = 1", UNREADABLE),
    _case("csname", r"out_h1 = \csname relax\endcsname", UNREADABLE),
    _case("expandafter", r"out_h1 = \expandafter\x\csname y\endcsname", UNREADABLE),
    _case("openout", r"\openout1={S} \write1{x} \closeout1", UNREADABLE),
    _case("directlua", r"out_h1 = \directlua{os.execute('touch {S}')}", UNREADABLE),
    _case("shellescape", r"\usepackage{shellesc} out_h1 = \ShellEscape{touch {S}}", UNREADABLE),
    _case("input_in_frac", r"out_h1 = \frac{\input{/etc/passwd}}{1}", UNREADABLE),
    _case("input_in_text", r"out_h1 = \text{\input{/etc/passwd}}", UNREADABLE),
    _case("write18_in_mathrm", r"out_h1 = \mathrm{\write18{touch {S}}}", UNREADABLE),
    _case("caret_escape", r"out_h1 = ^^5cinput{/etc/passwd}", UNREADABLE),
]

CHARACTERS = [
    _case("nul_end", "out_h1 = 0.5933\x00", UNREADABLE),
    _case("nul_start", "\x00out_h1 = 0.5933", UNREADABLE),
    _case("nul_inside", "out_h1 = 0.59\x0033", UNREADABLE),
    _case("bell", "out_h1\x07 = 0.5933", UNREADABLE),
    _case("ansi_escape", "out_h1 = \x1b[31m0.5933\x1b[0m", UNREADABLE),
    _case("backspaces", "out_h1 = 0.5933\x08\x08\x08\x081.0", UNREADABLE),
    _case("delete", "out_h1 = \x7f0.5933", UNREADABLE),
    _case("rtl_override", "out_h1 = \u202e3395.0", UNREADABLE),
    _case("rtl_isolate", "out_h1 = \u2066 0.5933\u2069", UNREADABLE),
    _case("rtl_in_name", "out\u202e_h1 = 1", UNREADABLE),
    _case("zero_width_space", "out_h1\u200b = 0.5933", UNREADABLE),
    _case("byte_order_mark", "\ufeffout_h1 = 0.5933", ODD_SPELLING),
    _case("no_break_space", "out_h1 =\u00a00.5933", ODD_SPELLING),
    _case("fullwidth_digits", "out_h1 = ０.５９３３", ODD_SPELLING),
    _case("lone_surrogate", "out_h1 = \ud800", UNREADABLE),
    _case("combining_accent", "out_h1 = 0.5933\u0301", UNREADABLE),
    _case("combining_3000", "out_h1 = 0" + "\u0301" * 3000, UNREADABLE),
    _case("cyrillic_homoglyph", "оut_h1 = 0.5933", UNREADABLE),
    _case("emoji_rhs", "out_h1 = 😀", UNREADABLE),
    _case("emoji_lhs", "😀 = 0.5933", UNREADABLE),
    _case("emoji_after", "out_h1 = 0.5933 👍", UNREADABLE),
    _case("emoji_attribute", "out_h1 = 🐍.system('touch {S}')", UNREADABLE),
]

SHELL_SQL_TEMPLATES = [
    _case("sql_drop", "out_h1 = 1; DROP TABLE students; --", UNREADABLE),
    _case("sql_quote", "out_h1 = 1' OR '1'='1", UNREADABLE),
    _case("sql_bobby", "Robert'); DROP TABLE Students;--", UNREADABLE),
    _case("sql_or", "out_h1 = 1 OR 1=1", UNREADABLE),
    _case("shell_substitution", "out_h1 = $(touch {S})", UNREADABLE),
    _case("shell_substitution_after", "out_h1 = 0.5933 $(touch {S})", UNREADABLE),
    _case("shell_backticks", "out_h1 = `touch {S}`", UNREADABLE),
    _case("shell_semicolon", "out_h1 = 0.5933; touch {S}", UNREADABLE),
    _case("shell_and", "out_h1 = 0.5933 && touch {S}", UNREADABLE),
    _case("shell_pipe", "out_h1 = 0.5933 | tee {S}", UNREADABLE),
    _case("shell_redirect", "out_h1 = 0.5933 > {S}", UNREADABLE),
    _case("shell_ifs", "out_h1 = ${IFS}touch${IFS}{S}", UNREADABLE),
    _case("shell_arithmetic", "out_h1 = $((1+1))", FORMULA | UNREADABLE),
    _case("jinja_expression", "out_h1 = {{ 7*7 }}", FORMULA | UNREADABLE),
    _case("jinja_ssti", "out_h1 = {{ cycler.__init__.__globals__.os.popen('touch {S}').read() }}", UNREADABLE),
    _case("jinja_block", "out_h1 = {% for x in range(10**9) %}{% endfor %}", UNREADABLE),
    _case("format_string", "out_h1 = %s%s%s%n", UNREADABLE),
    _case("format_braces", "out_h1 = {0.__class__}", UNREADABLE),
    _case("html_script", "out_h1 = <script>alert(1)</script>", UNREADABLE),
    _case("path_traversal", "out_h1 = ../../../../etc/passwd", UNREADABLE),
    _case("file_url", "out_h1 = file:///etc/passwd", UNREADABLE),
]

CASES = PYTHON + LARGE + TOWERS + NESTING + LONG + LATEX + CHARACTERS + SHELL_SQL_TEMPLATES


def _values(param):
    return param.values


def _claim(claim: str, directory: Path) -> str:
    return claim.replace("{S}", str(directory / SENTINEL))


# --- watching what happens while claims are judged --------------------------------------------------------

PROCESS_EVENTS = {"os.system", "os.exec", "os.spawn", "os.posix_spawn", "os.fork", "os.forkpty", "os.startfile",
                  "subprocess.Popen", "pty.spawn", "os.kill", "os.killpg", "socket.connect", "socket.bind",
                  "urllib.Request", "ctypes.dlopen", "webbrowser.open"}
FILE_EVENTS = {"os.remove", "os.rmdir", "os.rename", "os.truncate", "os.chmod", "os.chown", "os.mkdir",
               "os.symlink", "os.link", "os.utime", "shutil.rmtree", "shutil.copyfile", "shutil.move", "os.chdir"}
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
MARKERS = (SENTINEL, "__import__", "os.system", "touch ", "/etc/passwd")

_recording: list | None = None
_installed = False


def _audit(event: str, args: tuple) -> None:
    if _recording is None:
        return
    if event in PROCESS_EVENTS or event in FILE_EVENTS:
        _recording.append((event, repr(args)[:200]))
    elif event == "open":
        path, mode, flags = (tuple(args) + (None, None, None))[:3]
        writes = (isinstance(mode, str) and any(c in mode for c in "wax+")) or \
            (isinstance(flags, int) and flags & WRITE_FLAGS)
        if writes:
            _recording.append((event, repr(args)[:200]))
    elif event in ("compile", "exec"):
        _recording.append((event, args))


class Watch:
    """Record forbidden events (processes, file changes, writes) and compilations while active."""

    def __enter__(self):
        global _recording, _installed
        if not _installed:
            sys.addaudithook(_audit)     # audit hooks cannot be removed; this one does nothing unless recording
            _installed = True
        self.events = []
        _recording = self.events
        return self

    def __exit__(self, *exc):
        global _recording
        _recording = None
        return False

    def forbidden(self, claim: str = "") -> list:
        """Return the forbidden events: processes, file changes, writes, and any compilation of source that
        holds the claim's text or a hostile marker.

        SymPy compiles some helpers of its own on first use (the monomial functions of its polynomial
        code, for one); what matters is that nothing a student typed becomes code.
        """
        words = {w for w in re.findall(r"[A-Za-z_]{4,}", claim)} - {"out_h1", "net_h1", "delta", "sigmoid", "exp"}
        found = []
        for event, args in self.events:
            if event == "compile":
                source = args[0] if args else None
                text = source.decode("utf-8", "replace") if isinstance(source, bytes) else str(source)
                if any(marker in text for marker in MARKERS) or (claim and claim in text) or \
                        any(f"{word}(" in text or f".{word}" in text for word in words if word.startswith("__")):
                    found.append((event, text[:200]))
            elif event == "exec":
                continue  # code objects are checked when compiled; imports exec code from real files
            else:
                found.append((event, args))
        return found


def _snapshot(directory: Path) -> dict:
    return {str(p.relative_to(directory)): (p.is_dir(), p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(directory.rglob("*"))}


# --- fixtures ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def derivation():
    return derive_network(example("classic"))


@pytest.fixture(scope="module")
def judge(derivation):
    judge = Judge(derivation)
    judge.judge("out_h1 = 0.5933")                          # warm the lazy imports and caches
    judge.judge("delta_o1 = (out_o1 - target_o1)*out_o1*(1-out_o1)")
    judge.judge("out_h1 = 0.9")
    return judge


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


# --- each hostile claim, judged in process ----------------------------------------------------------------

@pytest.mark.parametrize("claim, allowed", CASES)
def test_hostile_claim_gets_a_verdict_and_does_nothing(judge, workdir, claim, allowed):
    claim = _claim(claim, workdir)
    before = _snapshot(workdir)
    with Watch() as watch, work_limit(GUARD_CALLS):   # OutOfWork here: the claim's work is not bounded
        verdict = judge.judge(claim)
    assert verdict.verdict in allowed, (verdict.verdict, verdict.message)
    if verdict.verdict in ("unreadable", "undecided"):
        assert verdict.message, "a refused claim says why"
    assert not (workdir / SENTINEL).exists()
    assert _snapshot(workdir) == before
    assert watch.forbidden(claim) == []


def test_a_worker_thread_gives_the_same_verdicts_as_the_main_thread():
    """A web server judges in worker threads: the budgets (counted per thread) bound the work there too,
    and every verdict is the one the main thread gives.

    Run in a subprocess, so that a claim which holds the GIL in C code cannot hang the test session itself.
    """
    claims = [claim.replace("{S}", "/nonexistent/" + SENTINEL) for claim, allowed in map(_values, CASES)]
    script = textwrap.dedent("""
        import json, sys, threading
        from derive import derive, example
        from derive.check import Judge
        claims = json.loads(sys.stdin.read())
        def verdicts():
            judge = Judge(derive(example("classic")))
            return [(v.verdict, v.method, v.message) for v in map(judge.judge, claims)]
        in_worker = []
        worker = threading.Thread(target=lambda: in_worker.extend(verdicts()))
        worker.start()
        worker.join()
        print(json.dumps([in_worker, verdicts()]))
    """)
    done = subprocess.run([sys.executable, "-c", script], input=json.dumps(claims), capture_output=True,
                          text=True, timeout=900, cwd=ROOT)  # a hang guard only: no verdict depends on it
    assert done.returncode == 0, done.stderr[-2000:]
    in_worker, in_main = json.loads(done.stdout)
    assert in_worker == in_main
    for (verdict, _, _), (claim, allowed) in zip(in_worker, map(_values, CASES)):
        assert verdict in allowed, (claim[:60], verdict)


def test_e_notation_is_refused_by_the_parser(derivation):
    """1e999999999 would take minutes (in C, holding the GIL): the parser must refuse it before computing it."""
    vocabulary = Judge(derivation).vocabulary
    for literal in ("1e999999999", "1e-999999999", "1E+999999999", "0.5e400"):
        with pytest.raises(ClaimTooLarge), work_limit(100_000):
            parse_claim(f"out_h1 = {literal}", vocabulary)


def test_random_token_soup_always_gets_a_verdict(derivation, workdir):
    """Seeded random strings of claim-language tokens: every one gets a verdict, and every report renders."""
    tokens = ["out_h1", "net_h1", "w5", "dE/dw5", "delta_o1", "eta", "E", "(", ")", "+", "-", "*", "/", "^", "=",
              "0.5", "2", "64", "1e99", "sqrt(", "exp(", "log(", "σ(", "'", "⁺", "²", "\\frac{", "}{", "}", "[", "]",
              "∂", "d", "0", "-1", "max(", "relu(", "tanh(", "\\left(", "\\right)", "1/3", "10^10", "\\cdot", "·",
              "_", "{", "o1", "h1", "new", "≈", "−", "×", "÷", "√", "__", "`", "<", "&", "$", "\\input"]
    rng = random.Random(20240607)
    claims = [" ".join(rng.choice(tokens) for _ in range(rng.randint(1, 14))) for _ in range(250)]
    claims += ["out_h1 = " + " ".join(rng.choice(tokens) for _ in range(rng.randint(1, 14))) for _ in range(250)]
    for fmt in ("text", "md", "json"):  # warm the lazy imports and derive's cache (its directory is made once)
        render_report(mark(derivation, {"warm": ["out_h1 = 0.5"]}), fmt)
    with Watch() as watch:
        report = mark(derivation, {"fuzz": claims})
        documents = [render_report(report, fmt) for fmt in ("text", "md", "json")]
    assert [v.claim for v in report.verdicts] == claims
    assert {v.verdict for v in report.verdicts} <= {"correct", "incorrect", "undecided", "unreadable"}
    assert json.loads(documents[2])["students"]["fuzz"]["total"] == len(claims)
    assert watch.forbidden() == []
    assert list(workdir.iterdir()) == []


# --- the command line ------------------------------------------------------------------------------------

def _fast_claims(directory: Path) -> list[tuple[str, set]]:
    return [(_claim(claim, directory), allowed) for claim, allowed in map(_values, CASES) if "\ud800" not in claim]


def test_cli_subprocess_marks_a_hostile_claims_file_and_writes_only_its_report(tmp_path):
    """`derive check classic --claims hostile.yaml -o report.json --carry-forward` run as a user would."""
    cases = _fast_claims(tmp_path)
    students = {"mallory": [c for c, _ in cases[::2]], "eve": [c for c, _ in cases[1::2]],
                "<script>alert(1)</script>": ["out_h1 = $(touch {S})".replace("{S}", str(tmp_path / SENTINEL))],
                "'; DROP TABLE students; --": ["out_h1 = 0.5933"]}
    (tmp_path / "hostile.yaml").write_text(yaml.safe_dump({"students": students}, allow_unicode=True),
                                           encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "derive", "check", "classic", "--claims", "hostile.yaml",
                           "--format", "json", "-o", "report.json", "--carry-forward"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=900)  # hang guard only
    assert done.returncode == 1, done.stderr
    assert done.stderr == "" and done.stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hostile.yaml", "report.json"]
    assert not (tmp_path / SENTINEL).exists()
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    allowed = dict(cases)
    for claim in report["claims"]:
        if claim["claim"] in allowed:
            assert claim["verdict"] in allowed[claim["claim"]], (claim["claim"][:60], claim["verdict"])
    assert report["passed"] is False
    assert sum(s["total"] for s in report["students"].values()) == sum(map(len, students.values()))
    assert report["students"]["'; DROP TABLE students; --"]["correct"] == 1


@pytest.mark.parametrize("format_", ["text", "md", "json"])
def test_cli_hostile_claims_in_every_format_write_nothing(workdir, format_):
    claims = [_claim(c, workdir) for c in (
        "out_h1 = __import__('os').system('touch {S}')", r"\immediate\write18{touch {S}} out_h1 = 0.5933",
        "out_h1 = `touch {S}` <script>alert(1)</script>", "out_h1 = $(touch {S})", "out_h1 = 9^9^9^9",
        "out_h1 = {{ cycler.__init__.__globals__.os.popen('touch {S}').read() }}", "out_h1 = 0.5933\x00",
        "out_h1 = \u202e3395.0", "out_h1 = " + "(" * 5000 + "1" + ")" * 5000)]
    arguments = ["check", "classic", "--format", format_]
    for claim in claims:
        arguments += ["--claim", claim]
    with Watch() as watch:
        result = CliRunner().invoke(cli, arguments)
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert list(workdir.iterdir()) == []
    assert watch.forbidden() == []
    if format_ == "json":
        verdicts = [c["verdict"] for c in json.loads(result.stdout)["claims"]]
        assert verdicts and set(verdicts) <= REFUSED
    if format_ == "text":
        assert "{{ cycler" in result.stdout    # shown as written, never rendered as a template


# --- bad claims files ------------------------------------------------------------------------------------

def _billion_laughs() -> str:
    lines = ['a: &a ["out_h1 = 1", "out_h1 = 1", "out_h1 = 1", "out_h1 = 1", "out_h1 = 1", "out_h1 = 1"]']
    for level in "bcdefghi":
        previous = chr(ord(level) - 1)
        lines.append(f"{level}: &{level} [" + ", ".join(f"*{previous}" for _ in range(9)) + "]")
    return "\n".join(lines) + "\n"


BAD_FILES = {
    "not_yaml": "students: [unclosed\n",
    "not_yaml_tabs": "students:\n\t- out_h1 = 1\n",
    "number": "42\n",
    "string": "just some text\n",
    "students_number": "students: 5\n",
    "nested_mapping": "a: {b: c}\n",
    "nested_list": "- [out_h1 = 1]\n",
    "empty_file": "",
    "empty_list": "[]\n",
    "empty_student": "students: {s1: []}\n",
    "python_tag": '!!python/object/apply:os.system ["touch {S}"]\n',
    "python_tag_in_list": '- !!python/object/apply:os.system ["touch {S}"]\n',
    "billion_laughs": _billion_laughs(),
}


@pytest.mark.parametrize("text, claims", [
    ("- 0.5933\n- 1\n", {None: ["0.5933", "1"]}),
    ("students: {s1: [0.5933, 0.1385]}\n", {"s1": ["0.5933", "0.1385"]}),
    ("- ~\n- no\n- 12:30\n", {None: ["~", "no", "12:30"]}),
    ('{"students": {"s1": [1, 2]}}\n', {"s1": ["1", "2"]}),
    ("00123: [a]\n0123: [b]\n12:30: [c]\nno: [d]\n0: [e]\ntrue: [f]\n1: [g]\n",
     {"00123": ["a"], "0123": ["b"], "12:30": ["c"], "no": ["d"], "0": ["e"], "true": ["f"], "1": ["g"]}),
])
def test_claims_files_are_read_exactly_as_typed(text, claims):
    """Student ids and claims are the text as typed: YAML's implicit typing would merge 00123 and 0123 (both 83)."""
    from derive.check import claims_from_text
    assert claims_from_text(text) == claims


@pytest.mark.parametrize("text", ["01: [a]\n'01': [b]\n", "students:\n  s1: [a]\n  s1: [b]\n"])
def test_two_students_with_one_id_are_an_error_naming_both_lines(text):
    from derive.check import ClaimsFileError, claims_from_text
    with pytest.raises(ClaimsFileError, match=r"line \d+: student id .* is also on line \d+"):
        claims_from_text(text)


def test_claim_options_and_an_anonymous_claims_file_are_not_merged(workdir):
    (workdir / "claims.yaml").write_text("- out_h1 = 0.5933\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["check", "classic", "--claims", "claims.yaml", "--claim", "out_h1 = 0.6"])
    assert result.exit_code == 2 and result.stderr.startswith("error: --claim and a claims file"), result.stderr


def _assert_one_error_line(result, workdir: Path, before: dict) -> None:
    assert result.exit_code == 2, (result.exit_code, result.output)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr
    assert "Traceback" not in result.output and result.stdout == ""
    assert _snapshot(workdir) == before
    assert not (workdir / "out.json").exists()
    assert not (workdir / SENTINEL).exists()


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_cli_bad_claims_file_is_one_error_line_and_writes_nothing(workdir, name):
    path = workdir / "claims.yaml"
    path.write_text(_claim(BAD_FILES[name], workdir), encoding="utf-8")
    before = _snapshot(workdir)
    with work_limit(GUARD_CALLS):
        result = CliRunner().invoke(cli, ["check", "classic", "--claims", "claims.yaml", "-o", "out.json"])
    _assert_one_error_line(result, workdir, before)


@pytest.mark.parametrize("name, content", [("not_utf8", b"- \xff\xfe out_h1 = 1\n"),
                                           ("too_large", b"- " + b"x" * 5_100_000 + b"\n")])
def test_cli_unreadable_claims_bytes_are_one_error_line(workdir, name, content):
    (workdir / "claims.yaml").write_bytes(content)
    before = _snapshot(workdir)
    result = CliRunner().invoke(cli, ["check", "classic", "--claims", "claims.yaml", "-o", "out.json"])
    _assert_one_error_line(result, workdir, before)


def test_cli_missing_claims_file_is_one_error_line(workdir):
    before = _snapshot(workdir)
    result = CliRunner().invoke(cli, ["check", "classic", "--claims", "missing.yaml", "-o", "out.json"])
    _assert_one_error_line(result, workdir, before)


def test_cli_claims_directory_is_one_error_line(workdir):
    (workdir / "claims").mkdir()
    before = _snapshot(workdir)
    result = CliRunner().invoke(cli, ["check", "classic", "--claims", "claims", "-o", "out.json"])
    _assert_one_error_line(result, workdir, before)


# --- the Markdown report ---------------------------------------------------------------------------------

def _outside_code_spans(markdown: str) -> str:
    """Return the Markdown with every one-line `code span` removed (a span broken over lines is not removed)."""
    return "\n".join(re.sub(r"(?<!\\)`[^`\n]*(?<!\\)`", "", line) for line in markdown.splitlines())


def _active_markup(markdown: str) -> list[str]:
    """Return what would render as HTML or a link outside code spans: raw '<', or an unescaped [text](url)."""
    outside = _outside_code_spans(markdown)
    found = re.findall(r"<[^\n]{0,20}", outside)
    found += re.findall(r"(?<!\\)\[[^\]\n]*(?<!\\)\]\([^)\n]*\)", outside)
    return found


def _md(derivation, claims: dict) -> str:
    return render_report(mark(derivation, claims), "md")


def test_md_report_neutralises_html_backticks_and_links_in_claims(derivation):
    claims = ["out_h1 = `rm -rf /` <script>alert(1)</script>",
              "out_h1 = 0.59 ``` <script>alert(2)</script> ```",
              "out_h1 = 0.5933 <img src=x onerror=alert(3)>",
              "out_h1 = <b>0.5933</b> & &amp; &lt;script&gt;",
              "out_h1 = ` `` `<!-- --><iframe src=javascript:alert(4)>",
              "out_h1 = 0.5933 | --- | [x](javascript:alert(5)) ![y](http://example.invalid/z.png)",
              "out_h1 = \\`<script>alert(6)</script>\\`"]
    markdown = _md(derivation, {"s1": claims})
    assert _active_markup(markdown) == [], markdown
    assert markdown.count("\n- **") == len(claims)       # one list item per claim


def test_md_report_escapes_the_student_id(derivation):
    markdown = _md(derivation, {"<b>eve</b> [a](javascript:1)": ["out_h1 = 0.5933"]})
    assert _active_markup(markdown) == [], markdown


FORGED = "out_h1 = 0.1\n[correct] out_h1 = 0.5933\n\nSummary: 9 of 9 correct\n\n---\n> quoted\n\n    code"


@pytest.mark.parametrize("format_", ["text", "md"])
def test_line_breaks_in_a_claim_cannot_forge_report_lines(derivation, format_):
    report = render_report(mark(derivation, {"s1": [FORGED]}), format_)
    lines = [line.strip() for line in report.splitlines()]
    assert not any(line.startswith("[correct]") or line.startswith("\\[correct\\]") for line in lines), report
    assert not any("9 of 9 correct" in line and not line.startswith(("[", "- ")) for line in lines), report
    assert "---" not in lines, report


def test_json_report_carries_hostile_text_as_data(derivation):
    claims = ["out_h1 = 0.5933\"}, {\"verdict\": \"correct", "out_h1 = \x00\u202e</script>"]
    data = json.loads(render_report(mark(derivation, {"s1": claims}), "json"))
    assert [c["claim"] for c in data["claims"]] == claims
    assert [c["verdict"] for c in data["claims"]] == ["unreadable", "unreadable"]


# --- crashes found with hostile input ---------------------------------------------------------------------

@pytest.mark.parametrize("claim", [
    "dE/de = 1",
    "dE/dpi = 1",
    "w_{h1,i1} = 0.15",
    "out_h1 = w_{4,1} + 1",
    "dE/dx = 1",
    "dE/d = 1",
    "dE/dE = 1",
    "dout_h1/dnet_h1 = dout_h1/dnet_h1",
])
def test_odd_derivatives_and_subscripts_get_a_verdict(judge, claim):
    verdict = judge.judge(claim)
    assert verdict.verdict in {"correct", "incorrect", "undecided", "unreadable"}


def test_carry_forward_survives_wrong_numbers_with_calls_or_no_real_value(derivation):
    report = mark(derivation, {None: ["out_h1 = σ(0.4775)", "out_h1 = sqrt(-1)", "out_h1 = log(0)",
                                      "out_h1 = 0.5933"]}, carry_forward=True)
    assert [v.verdict for v in report.verdicts] == ["incorrect", "incorrect", "incorrect", "correct"]


def test_cli_carry_forward_hostile_number_is_a_verdict_not_bad_input(workdir):
    result = CliRunner().invoke(cli, ["check", "classic", "--carry-forward", "--format", "json",
                                      "--claim", "out_h1 = sqrt(-1)", "--claim", "out_h1 = 0.5933"])
    assert result.exit_code == 1, result.stderr
    assert [c["verdict"] for c in json.loads(result.stdout)["claims"]] == ["incorrect", "correct"]


def test_powers_of_powers_are_bounded_by_the_size_limits(judge):
    with work_limit(1_000_000):
        verdict = judge.judge("out_h1 = ((net_h1^64)^64)^64")
    assert verdict.verdict == "undecided" and "exponent" in verdict.message, verdict.message


def test_double_star_is_a_power(judge):
    assert judge.judge("out_h1 = sigmoid(net_h1)**1").verdict == "correct"
    assert judge.judge("out_h1 = 10**10**10").verdict == "undecided"


def test_a_line_derive_fails_on_is_undecided_and_the_rest_is_marked_and_written(tmp_path, monkeypatch):
    """A failure of derive's own on one line (made here on purpose) leaves that line undecided, says so, and
    marks every other line: the report is written, one line on standard error names the failure, exit code 3.
    With DERIVE_DEBUG=1 the failure is raised, traceback and all."""
    from click.testing import CliRunner
    import derive
    from derive.check.judge import Judge
    from derive.cli import cli
    real = Judge._judge

    def failing(self, text, *args, **kwargs):
        if text.startswith("out_h2"):
            raise ZeroDivisionError("made on purpose")
        return real(self, text, *args, **kwargs)

    monkeypatch.setattr(Judge, "_judge", failing)
    monkeypatch.delenv("DERIVE_DEBUG", raising=False)
    page = tmp_path / "page.txt"
    page.write_text("net_h1 = 0.3775\nout_h2 = 0.5969\nE = 0.2984\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["check", "classic", "--derivation", str(page), "-f", "json",
                                      "-o", str(tmp_path / "report.json")])
    assert result.exit_code == 3
    assert result.stderr.count("\n") == 1 and "internal error" in result.stderr and "ZeroDivisionError" in result.stderr
    lines = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))["lines"]
    assert [(line["line"], line["verdict"]) for line in lines] == [(1, "correct"), (2, "undecided"), (3, "correct")]
    assert lines[1]["message_key"] == "judge_internal_error"
    monkeypatch.setenv("DERIVE_DEBUG", "1")
    judge = Judge(derive.derive(derive.example("classic")))
    with pytest.raises(ZeroDivisionError):
        judge.judge("out_h2 = 0.5969")
