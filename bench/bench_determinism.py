"""Benchmark: is `derive check` deterministic when several copies run at once?

    python bench/bench_determinism.py [--students 40] [--claims 10] [--parallel 8] [--seed 1] [--keep DIR]

Writes a claims file for the built-in `classic` example (default 40 students ×
10 claims, `{student id: [claim, ...]}` with quoted ids), drawn with a seeded
generator and no clock: right and wrong numbers, formulas in plain, LaTeX and
Unicode spellings (the pools of bench/bench_check.py), classic mistakes,
unreadable text, and a few heavy but legal claims (a 300-deep nested fraction,
long products of numbers, a claim of 3900 characters).

Then, for `-f json` and for `-f text`, runs

    python -m derive check classic --claims FILE -f FORMAT -o OUT

once alone and then --parallel times at once (separate processes), and
reports whether every output is byte-identical to the sequential one and,
where one is not, which claims' verdicts differ. Times are shown as ratios to
a peer measured in the same run (`python -c "import sympy"`), never asserted.

Exit code 0 when every output is identical, 1 otherwise.
"""
from __future__ import annotations

import argparse
import json
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

import derive  # noqa: E402
from derive.check import claims_from_data  # noqa: E402

import bench_check  # noqa: E402  (the claim pools and true values of the marking benchmark)

FORMATS = ("json", "text")
VERDICT_LINE = re.compile(r"^\[(correct|incorrect|undecided|unreadable)\] ")

# Spellings beyond bench_check's pools, so each spelling has several formulas.
PLAIN = [
    "delta_o2 = (out_o2 - target_o2)*out_o2*(1 - out_o2)",
    "dE/dw1 = delta_h1*i1",
    "dE/dw6 = delta_o1*out_h2",
    "w1_new = w1 - eta*delta_h1*i1",
    "net_o1 = w5*out_h1 + w6*out_h2 + b2",
    "E_o1 = 1/2*(target_o1 - out_o1)^2",
    "out_h1 = sigmoid(net_h1)",
    "dE/dout_o1 = out_o1 - target_o1",
]
LATEX = [
    r"\frac{\partial E_{total}}{\partial w_5} = \delta_{o1} \cdot \mathrm{out}_{h1}",
    r"\delta_{o2} = \left(\mathrm{out}_{o2} - t_{o2}\right) \mathrm{out}_{o2} \left(1 - \mathrm{out}_{o2}\right)",
    r"w_5^{+} = w_5 - \eta \frac{\partial E}{\partial w_5}",
    r"$\mathrm{net}_{h2} = w_3 i_1 + w_4 i_2 + b_1$",
    r"\frac{\partial out_{o1}}{\partial net_{o1}} = \sigma(net_{o1})\left(1 - \sigma(net_{o1})\right)",
    r"E_{total} = \frac{1}{2}\left(t_{o1} - out_{o1}\right)^2 + \frac{1}{2}\left(t_{o2} - out_{o2}\right)^2",
]
UNICODE = [
    "∂E/∂w7 = δ_o2·out_h1",
    "δ_h2 = (δ_o1·w6 + δ_o2·w8)·out_h2·(1 − out_h2)",
    "w8⁺ = w8 − η·∂E/∂w8",
    "∂out_o2/∂net_o2 = out_o2·(1 − out_o2)",
    "E⁺ ≈ 0.291027774",
    "δ_o1 = σ'(net_o1)·(out_o1 − t_o1)",
]
MORE_UNREADABLE = ["delta_o1 = ", "= 0.5", "out_h1 = 0.59 0.60 +", "dE/dw5 = delta_o1 * out_h1)", "E = 1/"]


def _nested_fraction(depth: int) -> str:
    return "out_h1 = " + "1/(1+" * depth + "1" + ")" * depth


def heavy_claims() -> list[str]:
    """Large but legal claims: each parses, and judging them is real work."""
    long_sum = "net_h1 = w1*i1 + w2*i2 + b1"
    for k in range(1000):  # terms that cancel, up to 3900 characters (the limit is 4000)
        term = f" + (w{1 + k % 4} - w{1 + k % 4})*i{1 + k % 2}"
        if len(long_sum) + len(term) > 3900:
            break
        long_sum += term
    long_sum += " + 0" * ((3900 - len(long_sum)) // 4)
    long_sum += " " * (3900 - len(long_sum))
    latex_nest = r"out_{h1} = " + r"\frac{1}{1+" * 120 + "1" + "}" * 120
    return [
        _nested_fraction(300),                                        # 300-deep nested fraction
        "out_h1 = " + " * ".join(["1.001"] * 400),                    # long product of numbers
        "E = " + "·".join(["1.0001"] * 300),                           # another, Unicode dot
        long_sum,                                                     # about 3900 characters, symbolic work
        latex_nest,                                                   # LaTeX \frac nested 120 deep
        "delta_o1 = (out_o1 - t_o1)*out_o1*(1 - out_o1)" + " + ((w5 + w6)^2 - w5^2 - 2*w5*w6 - w6^2)" * 20,
    ]


def _claim(rng: random.Random, kind: str, truth, heavy: list[str]) -> str:
    if kind == "number":  # the true value, rounded: correct
        name, value = rng.choice(truth)
        return f"{name} = {value:.{rng.randint(3, 9)}f}"
    if kind == "wrong_number":
        name, value = rng.choice(truth)
        return f"{name} = {value * (1 + rng.choice([0.03, -0.05, 0.2])):.{rng.randint(2, 8)}f}"
    if kind == "plain":
        pool = [f for f in bench_check.FORMULAS if f.isascii() and "\\" not in f] + PLAIN
        return rng.choice(pool).replace("*", rng.choice(["*", " * "]))
    if kind == "latex":
        return rng.choice([f for f in bench_check.FORMULAS if "\\" in f] + LATEX)
    if kind == "unicode":
        return rng.choice([f for f in bench_check.FORMULAS if not f.isascii()] + UNICODE)
    if kind == "mistake":
        return rng.choice(bench_check.MISTAKES)
    if kind == "unreadable":
        return rng.choice(bench_check.UNREADABLE + MORE_UNREADABLE)
    if kind == "heavy":
        return heavy.pop(0) if heavy else rng.choice(heavy_claims())
    if kind == "any":  # bench_check's own mix
        return bench_check.claim(rng, truth)
    raise ValueError(kind)


def class_claims(students: int, claims: int, seed: int, truth) -> dict[str, list[str]]:
    """Return {student id: claims}: seeded, so the same arguments give the same file."""
    rng = random.Random(seed)
    heavy = heavy_claims()
    base = ["number", "number", "wrong_number", "plain", "latex", "unicode", "mistake", "unreadable", "any", "any"]
    result = {}
    for index in range(1, students + 1):
        kinds = [base[i % len(base)] for i in range(claims)]
        if index % 7 == 1 and claims:  # a few students (6 of 40) hand in one heavy claim each
            kinds[-1] = "heavy"
        rng.shuffle(kinds)
        result[f"{index:03d}"] = [_claim(rng, kind, truth, heavy) for kind in kinds]
    return result


def claims_yaml(data: dict[str, list[str]]) -> str:
    """Return the claims file: {student id: [claim, ...]}, every id and claim double-quoted."""
    text = yaml.safe_dump(data, allow_unicode=True, default_style='"', width=1_000_000, sort_keys=False)
    assert claims_from_data(yaml.safe_load(text)) == data  # ids stay strings ("001", not 1)
    return text


# running ----------------------------------------------------------------------------------------
def _command(claims: Path, format_: str, output: Path) -> list[str]:
    return [sys.executable, "-m", "derive", "check", "classic", "--claims", str(claims), "-f", format_,
            "-o", str(output)]


def run_sequential(command: list[str]) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    return time.perf_counter() - start, result


def run_parallel(commands: list[list[str]]) -> tuple[float, list[float], list[tuple[int, str]]]:
    """Start every command at once; return the total time, each one's time, and each (exit code, stderr)."""
    start = time.perf_counter()
    processes = [subprocess.Popen(c, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                 for c in commands]
    times, results = [0.0] * len(processes), [None] * len(processes)
    pending = set(range(len(processes)))
    while pending:  # poll so each process gets its own finishing time
        for i in sorted(pending):
            if processes[i].poll() is not None:
                times[i] = time.perf_counter() - start
                results[i] = (processes[i].returncode, processes[i].stderr.read())
                processes[i].stderr.close()
                pending.discard(i)
        if pending:
            try:
                processes[min(pending)].wait(timeout=0.05)
            except subprocess.TimeoutExpired:
                pass
    return time.perf_counter() - start, times, results


def peer_time(runs: int = 3) -> float:
    """The time of `python -c "import sympy"` (best of `runs`): the unit the other times are given in."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import sympy"], check=True, cwd=ROOT)
        times.append(time.perf_counter() - start)
    return min(times)


# comparing --------------------------------------------------------------------------------------
def _json_claims(data: bytes) -> list[dict] | None:
    try:
        return json.loads(data.decode("utf-8"))["claims"]
    except (ValueError, KeyError, TypeError):
        return None


def _text_blocks(data: bytes) -> list[str] | None:
    """Return the text report cut into one block per claim (the block starts at its [verdict] line)."""
    try:
        lines = data.decode("utf-8").splitlines()
    except UnicodeDecodeError:
        return None
    blocks, current = [], None
    for line in lines:
        if VERDICT_LINE.match(line):
            current = [line]
            blocks.append(current)
        elif current is not None:
            if line.startswith("Summary:") or line.startswith("Student "):
                current = None
            elif line.strip():
                current.append(line)
    return ["\n".join(block) for block in blocks]


def differences(format_: str, reference: bytes, other: bytes) -> dict[int | None, tuple[str, str]]:
    """Return {claim index: (the sequential run's report of it, this run's)} for every claim whose report
    differs; index None for a difference outside the per-claim reports (or outputs that cannot be read)."""
    if reference == other:
        return {}
    if format_ == "json":
        a, b = _json_claims(reference), _json_claims(other)
    else:
        a, b = _text_blocks(reference), _text_blocks(other)
    if a is None or b is None:
        return {None: ("", "output unreadable")}
    found = {}
    if len(a) != len(b):
        found[None] = (f"{len(a)} claims", f"{len(b)} claims")
    for index, (x, y) in enumerate(zip(a, b)):
        if x == y:
            continue
        if format_ == "json":
            fields = sorted(k for k in set(x) | set(y) if x.get(k) != y.get(k))
            show = lambda v: f"{v.get('verdict')}/{v.get('method')}: {v.get('method_detail')}"  # noqa: E731
            found[index] = (f"[{', '.join(fields)}] {show(x)}", f"[{', '.join(fields)}] {show(y)}")
        else:
            x_lines, y_lines = x.splitlines(), y.splitlines()
            first = next((i for i, (p, q) in enumerate(zip(x_lines, y_lines)) if p != q),
                         min(len(x_lines), len(y_lines)))
            line = lambda ls: ls[first].strip() if first < len(ls) else "(nothing)"  # noqa: E731
            found[index] = (f"line {first + 1}: {line(x_lines)}", f"line {first + 1}: {line(y_lines)}")
    if not found:
        found[None] = ("", "the outputs differ outside the per-claim reports (summary or layout)")
    return found


def _shorten(text: str, limit: int = 110) -> str:
    return text if len(text) <= limit else f"{text[:limit - 30]}… ({len(text)} chars)"


def describe(format_: str, found: dict[int | None, dict[str, list[int]]], reference: dict[int | None, str],
             claims: list[tuple[str, str]]) -> list[str]:
    """Return the report lines for one format: per differing claim, the sequential result and each other one
    with the parallel runs that gave it."""
    lines = []
    for index in sorted(found, key=lambda i: -1 if i is None else i):
        if index is None:
            lines.append(f"  {format_}: not per claim")
        else:
            student, text = claims[index]
            lines.append(f"  {format_}: claim {index + 1} (student {student}) {_shorten(text, 70)!r}")
            lines.append(f"      sequential:   {_shorten(reference[index])}")
        for variant, runs in found[index].items():
            lines.append(f"      runs {','.join(map(str, runs)):<6}  {_shorten(variant)}")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--claims", type=int, default=10, help="claims per student")
    parser.add_argument("--parallel", type=int, default=8, help="copies run at once")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", type=Path, default=None, help="write the claims file and outputs here")
    arguments = parser.parse_args()

    derivation = derive.derive(derive.example("classic"))
    data = class_claims(arguments.students, arguments.claims, arguments.seed, bench_check.true_values(derivation))
    flat = [(student, claim) for student, claims in data.items() for claim in claims]
    heavy = sum(1 for _, c in flat if len(c) > 1000)
    print(f"{len(flat)} claims ({len(data)} students, {len({c for _, c in flat})} distinct, {heavy} over 1000 "
          f"characters); {arguments.parallel} parallel runs per format")

    with tempfile.TemporaryDirectory() as temporary:
        directory = arguments.keep or Path(temporary)
        directory.mkdir(parents=True, exist_ok=True)
        claims_file = directory / "claims.yaml"
        claims_file.write_text(claims_yaml(data), encoding="utf-8")
        peer = peer_time()
        rows, problems, different = [], [], False
        for format_ in FORMATS:
            extension = "json" if format_ == "json" else "txt"
            sequential = directory / f"out-seq.{extension}"
            seconds, result = run_sequential(_command(claims_file, format_, sequential))
            if result.returncode not in (0, 1) or not sequential.exists():
                problems.append(f"  {format_} sequential: exit {result.returncode}: {result.stderr.strip()[-800:]}")
                rows.append((format_, "sequential", seconds, "no output", "-"))
                different = True
                continue
            reference = sequential.read_bytes()
            rows.append((format_, "sequential", seconds, "reference", "-"))
            outputs = [directory / f"out-{i}.{extension}" for i in range(1, arguments.parallel + 1)]
            total, times, results = run_parallel([_command(claims_file, format_, o) for o in outputs])
            distinct, found, shown = set(), {}, {}
            for i, (output, (code, stderr)) in enumerate(zip(outputs, results), start=1):
                if code not in (0, 1) or not output.exists():
                    problems.append(f"  {format_} parallel {i}: exit {code}: {stderr.strip()[-800:]}")
                    rows.append((format_, f"parallel {i}", times[i - 1], "no output", "-"))
                    different = True
                    continue
                content = output.read_bytes()
                distinct.add(content)
                differing = differences(format_, reference, content)
                for index, (theirs, ours) in differing.items():
                    shown[index] = theirs
                    found.setdefault(index, {}).setdefault(ours, []).append(i)
                rows.append((format_, f"parallel {i}", times[i - 1],
                             "identical" if content == reference else "DIFFERS", str(len(differing))))
            different = different or bool(found)
            problems.extend(describe(format_, found, shown, flat))
            rows.append((format_, f"all {arguments.parallel}", total,
                         f"{len(distinct | {reference})} distinct output(s)" if distinct else "no output",
                         str(len(found))))

    print(f"\npeer: python -c 'import sympy', best of 3 ({peer:.2f} s here); times below are multiples of it\n")
    print(f"{'format':<7} {'run':<12} {'× peer':>8}  {'vs sequential':<24} {'claims differing':>16}")
    for format_, run, seconds, status, count in rows:
        print(f"{format_:<7} {run:<12} {seconds / peer:>8.1f}  {status:<24} {count:>16}")
    if problems:
        print("\nDifferences (claim numbers count from 1 over the whole file):")
        for line in problems:
            print(line)
    if different:
        print("\nNOT deterministic: outputs differ between runs")
        return 1
    print("\nDeterministic: every output is byte-identical to the sequential one")
    return 0


if __name__ == "__main__":
    sys.exit(main())
