"""Benchmark: marking a class's whole derivations with `derive check --derivations` (wall-clock seconds).

    python bench/bench_class.py [--students 40] [--jobs 1,2] [--repeat 3]

Each student's page is the classic example worked by hand in about 30 lines (every net, out, the loss,
every δ, gradient and update, most with the formula, the numbers put in and the value), written in plain
text, Markdown or LaTeX in turn, with a few mistakes planted at random (seeded): a slip in the
arithmetic, a wrong number put in, a formula with the derivative left out, a value rounded too early.
The figures are computed here in plain floats; derive is not asked for any of them. Prints the time of
the whole command for each --jobs value (fastest of --repeat runs, taken alternately after a warm-up, with
byte-code caching on as in an installed copy), and its ratio to one job.
"""
from __future__ import annotations

import argparse
import math
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# As an installed user's processes run: with byte-code caching on (see bench_startup.py).
ENVIRONMENT = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}

I = {"i1": 0.05, "i2": 0.10}
T = {"o1": 0.01, "o2": 0.99}
W = dict(w1=0.15, w2=0.20, w3=0.25, w4=0.30, w5=0.40, w6=0.45, w7=0.50, w8=0.55)
B = {"h": 0.35, "o": 0.60}
ETA = 0.5
SOURCES = {"h1": ("w1", "w2"), "h2": ("w3", "w4"), "o1": ("w5", "w6"), "o2": ("w7", "w8")}


def r(x: float) -> str:
    return f"{x:.4g}"


def page(rng: random.Random) -> list[str]:
    """A student's derivation of the classic example, about 30 lines, a few mistakes planted."""
    lines, out, net = [], {}, {}
    for unit, inputs in (("h1", ("i1", "i2")), ("h2", ("i1", "i2"))):
        a, b = SOURCES[unit]
        net[unit] = W[a] * I[inputs[0]] + W[b] * I[inputs[1]] + B["h"]
        lines.append(f"net_{unit} = {a}*i1 + {b}*i2 + b1 = {W[a]}*0.05 + {W[b]}*0.1 + 0.35 = {r(net[unit])}")
        out[unit] = float(r(1 / (1 + math.exp(-net[unit]))))
        lines.append(f"out_{unit} = 1/(1 + exp(-net_{unit})) = {r(out[unit])}")
    for unit in ("o1", "o2"):
        a, b = SOURCES[unit]
        net[unit] = W[a] * out["h1"] + W[b] * out["h2"] + B["o"]
        lines.append(f"net_{unit} = {a}*out_h1 + {b}*out_h2 + b2 = {W[a]}*{r(out['h1'])} + {W[b]}*{r(out['h2'])} + 0.6"
                     f" = {r(net[unit])}")
        out[unit] = float(r(1 / (1 + math.exp(-net[unit]))))
        lines.append(f"out_{unit} = {r(out[unit])}")
    loss = 0.5 * (T["o1"] - out["o1"]) ** 2 + 0.5 * (T["o2"] - out["o2"]) ** 2
    lines.append(f"E = 1/2*(t_o1 - out_o1)^2 + 1/2*(t_o2 - out_o2)^2 = {r(loss)}")
    delta = {}
    for unit in ("o1", "o2"):
        delta[unit] = float(r((out[unit] - T[unit]) * out[unit] * (1 - out[unit])))
        lines.append(f"delta_{unit} = (out_{unit} - t_{unit})*out_{unit}*(1 - out_{unit}) = "
                     f"({r(out[unit])} - {T[unit]})*{r(out[unit])}*(1 - {r(out[unit])}) = {r(delta[unit])}")
    for unit, (w_o1, w_o2) in (("h1", ("w5", "w7")), ("h2", ("w6", "w8"))):
        delta[unit] = float(r((delta["o1"] * W[w_o1] + delta["o2"] * W[w_o2]) * out[unit] * (1 - out[unit])))
        lines.append(f"delta_{unit} = (delta_o1*{w_o1} + delta_o2*{w_o2})*out_{unit}*(1 - out_{unit}) = {r(delta[unit])}")
    for unit, weights in SOURCES.items():
        for weight, source in zip(weights, ("i1", "i2") if unit.startswith("h") else ("out_h1", "out_h2")):
            value = I[source] if source in I else out[source[4:]]
            gradient = float(r(delta[unit] * value))
            lines.append(f"dE/d{weight} = delta_{unit}*{source} = {r(delta[unit])}*{r(value)} = {r(gradient)}")
            lines.append(f"{weight}_new = {weight} - eta*dE/d{weight} = {W[weight]} - 0.5*{r(gradient)} = "
                         f"{r(W[weight] - ETA * gradient)}")
    for _ in range(rng.randint(1, 4)):  # planted mistakes
        index = rng.randrange(len(lines))
        head, _, value = lines[index].rpartition(" = ")
        lines[index] = f"{head} = {r(float(value) * rng.choice([1.1, 0.9, 2, -1]))}"
    return lines


def write_class(directory: Path, students: int, seed: int) -> None:
    rng = random.Random(seed)
    for number in range(1, students + 1):
        lines = page(rng)
        style = number % 3
        name = f"s{number:02d}"
        if style == 0:
            (directory / f"{name}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
        elif style == 1:
            (directory / f"{name}.md").write_text("# Worked example\n\n" + "\n".join(f"- {line}" for line in lines)
                                                 + "\n", encoding="utf-8")
        else:
            times_sign = " \\cdot "
            body = "\n".join("\\[ " + line.replace("*", times_sign) + " \\]" for line in lines)
            (directory / f"{name}.tex").write_text(f"\\section*{{Worked example}}\n{body}\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--jobs", default="1,2")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        (root / "class").mkdir()
        write_class(root / "class", arguments.students, arguments.seed)
        lines = sum(len(path.read_text(encoding="utf-8").splitlines()) for path in (root / "class").iterdir())
        print(f"{arguments.students} derivations, {lines} lines in all")
        commands = {}
        for jobs in [int(j) for j in arguments.jobs.split(",")]:
            commands[jobs] = [sys.executable, "-m", "derive", "check", "classic", "--derivations", str(root / "class"),
                              "--gradebook", str(root / f"grades-{jobs}.csv"), "-o", str(root / f"report-{jobs}.json")]
            if jobs != 1:
                commands[jobs] += ["--jobs", str(jobs)]
        subprocess.run(commands[min(commands)], check=False, stdout=subprocess.DEVNULL, env=ENVIRONMENT)  # warm-up
        runs: dict[int, list[float]] = {jobs: [] for jobs in commands}
        for _ in range(arguments.repeat):  # alternately, so a busy moment of the machine hits every setting
            for jobs, command in commands.items():
                start = time.perf_counter()
                subprocess.run(command, check=False, stdout=subprocess.DEVNULL, env=ENVIRONMENT)
                runs[jobs].append(time.perf_counter() - start)
        times = {jobs: min(seconds) for jobs, seconds in runs.items()}
        for jobs, seconds in times.items():
            print(f"  --jobs {jobs}: {seconds:.1f} s" + (f"  ({times[1] / seconds:.2f}× one job)"
                                                         if jobs != 1 and 1 in times else ""))
        reports = {(root / f"report-{jobs}.json").read_bytes() for jobs in times}
        print("  reports identical across --jobs:", len(reports) == 1)


if __name__ == "__main__":
    main()
