"""Benchmark: marking a class with `derive check` (default 40 students × 10 claims on the classic network).

    python bench/bench_check.py [--students 40] [--claims 10] [--seed 1]

Claims are drawn, per student, from pools of numbers at several precisions
(some wrong), formulas in plain text, LaTeX and Unicode, classic mistakes and
unreadable text, so that few claims repeat and caching identical texts does
not make the run trivially fast. Prints the end-to-end time of the command
(best of 3), of the in-process `mark` call (best of 5, a fresh judge each time) and of the first class a fresh
process marks (best of 3: SymPy's and derive's process-wide caches still empty), and the heavy-but-legal claims
one by one (a 300-deep nested fraction, long products and sums of numbers), each
as a ratio to `python -c "import sympy"` measured in the same run.
"""
from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

import derive
from derive.check import mark

FORMULAS = [
    "delta_o1 = (out_o1 - target_o1)*out_o1*(1 - out_o1)",
    r"\delta_{o1} = -\left(t_{o1} - out_{o1}\right) \sigma(net_{o1})\left(1-\sigma(net_{o1})\right)",
    "δ_o1 = (out_o1 − t_o1)·e^(−net_o1)/(1 + e^(−net_o1))²",
    "delta_h1 = (delta_o1*w5 + delta_o2*w7) * out_h1*(1 - out_h1)",
    r"\delta_{h1} = \left(\delta_{o1} w_{5} + \delta_{o2} w_{7}\right) \sigma'(net_{h1})",
    "∂E/∂w5 = δ_o1·out_h1",
    r"\frac{\partial E}{\partial w_1} = \delta_{h1} i_1",
    "w5_new = w5 - eta*dE/dw5",
    "E = 1/2*(target_o1 - out_o1)^2 + 1/2*(target_o2 - out_o2)^2",
    "net_h1 = w1*i1 + w2*i2 + b1",
    "dE/db2 = delta_o1 + delta_o2",
]
MISTAKES = [
    "delta_o1 = (target_o1 - out_o1)*out_o1*(1 - out_o1)",
    "delta_o1 = out_o1 - target_o1",
    "dE/dw5 = delta_o1 * net_h1",
    "delta_h1 = (delta_o1*w5 + delta_o2*w6) * out_h1*(1 - out_h1)",
    "delta_h1 = delta_o1*w5*out_h1*(1 - out_h1)",
    "w5_new = w5 + eta*dE/dw5",
    "E_new = 0.291027924",
    "dE/db2 = delta_o1",
    "E = (t_o1 - out_o1)^2 + (t_o2 - out_o2)^2",
]
UNREADABLE = ["out_h1 = ", "delta_o1 = (out_o1 - t_o1", "w5_new == 0.35", r"out_h1 = \input{x}", "foo = 1"]


# The first class a fresh process marks (after importing and deriving), as a teacher's `derive check` run does:
# nothing SymPy or derive keep between classes in one process has been made yet.
FIRST_CLASS = r"""
import sys, time, yaml
import derive
from derive.check import mark
derivation = derive.derive(derive.example("classic"))
students = yaml.safe_load(open(sys.argv[1], encoding="utf-8"))["students"]
start = time.perf_counter()
mark(derivation, students, carry_forward=True)
print(time.perf_counter() - start)
"""


def true_values(derivation) -> list[tuple[str, float]]:
    """Return (claim-language name, value) of every quantity a student is asked for, from the derivation."""
    from derive.handout import questions
    return [(q.name, float(derivation.values[q.symbol])) for q in questions(derivation, "net,out,E,delta,gradient,update,E_new")]


def claim(rng: random.Random, truth: list[tuple[str, float]]) -> str:
    kind = rng.random()
    if kind < 0.45:
        name, value = rng.choice(truth)
        value *= 1 + rng.choice([0, 0, 0, 0.03, -0.05])  # mostly right, some wrong
        return f"{name} = {value:.{rng.randint(2, 8)}f}"
    if kind < 0.75:
        return rng.choice(FORMULAS).replace("*", rng.choice(["*", " * ", "·"]))
    if kind < 0.95:
        return rng.choice(MISTAKES)
    return rng.choice(UNREADABLE)


def class_file(students: int, claims: int, seed: int, truth) -> dict:
    rng = random.Random(seed)
    return {"students": {f"s{index:03d}": [claim(rng, truth) for _ in range(claims)]
                         for index in range(1, students + 1)}}


def best_of(runs: int, action) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


HEAVY = {
    "300 nested fractions": "E = " + "1/(1+" * 300 + "1" + ")" * 300,
    "300 nested fractions (decimals)": "E = " + "1/(1.1+" * 300 + "1" + ")" * 300,
    "product of 300 numbers": "E = " + "*".join(["0.99"] * 300),
    "sum of 35 computed numbers": "E = " + " + ".join(["0.0085"] * 35),
}


def heavy_claims(derivation) -> None:
    """Print each heavy claim's marking time as a ratio to importing SymPy (the peer, measured here)."""
    peer = best_of(3, lambda: subprocess.run([sys.executable, "-c", "import sympy"], check=True))
    print(f"\n{'heavy claim':<34} {'verdict':>10} {'mark() s':>9} {'× import sympy':>15}")
    for name, claim in HEAVY.items():
        verdicts = []
        seconds = best_of(3, lambda: verdicts.append(mark(derivation, {None: [claim]}).verdicts[0].verdict))
        print(f"{name:<34} {verdicts[-1]:>10} {seconds:>9.3f} {seconds / peer:>15.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--claims", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    arguments = parser.parse_args()
    derivation = derive.derive(derive.example("classic"))
    data = class_file(arguments.students, arguments.claims, arguments.seed, true_values(derivation))
    total = arguments.students * arguments.claims
    distinct = len({c for claims in data["students"].values() for c in claims})
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "claims.yaml"
        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        command = [sys.executable, "-m", "derive", "check", "classic", "--claims", str(path), "--format", "json",
                   "--carry-forward", "-o", str(Path(directory) / "marks.json")]
        end_to_end = best_of(3, lambda: subprocess.run(command, check=False, capture_output=True))
        first = min(float(subprocess.run([sys.executable, "-c", FIRST_CLASS, str(path)], check=True, capture_output=True,
                                         text=True).stdout) for _ in range(3))
    in_process = best_of(5, lambda: mark(derivation, data["students"], carry_forward=True))
    print(f"{'students':>9} {'claims':>7} {'distinct':>9} {'command s':>10} {'mark() s':>9} {'ms/claim':>9} "
          f"{'first class s':>14} {'ms/claim':>9}")
    print(f"{arguments.students:>9} {total:>7} {distinct:>9} {end_to_end:>10.2f} {in_process:>9.2f} "
          f"{1000 * in_process / total:>9.2f} {first:>14.2f} {1000 * first / total:>9.2f}")
    heavy_claims(derivation)


if __name__ == "__main__":
    main()
