"""Benchmark `derive run` (in-process, through the library API) against network size.

Times the derivation (build + derive, no verify) and the render of every format
(md, tex, text, json) separately, on the built-in classic example and on
generated networks of growing size, and prints the time per weight (weights and
biases), so one can see whether the cost grows about linearly with the weights.

Run it from the project root:

    python bench/bench_run.py                     # classic, 4-8-8-2, 8-16-16-4, 8-32-32-8
    python bench/bench_run.py --quick             # only the two smallest
    python bench/bench_run.py --sizes 8-16-16-4,8-32-32-8

Generated networks: sigmoid/tanh hidden layers (alternating), sigmoid output,
half_sse loss; weights and biases from random.Random(seed), in [-0.5, 0.5],
rounded to 2 decimals; sample inputs and targets in (0, 1).
"""
from __future__ import annotations

import argparse
import random
import sys
import time

import derive

FORMATS = ("md", "tex", "text", "json")
DEFAULT_SIZES = ("classic", "4-8-8-2", "8-16-16-4", "8-32-32-8")
SMALL = 200          # networks with fewer weights than this are timed best of 3


def _number(rng: random.Random) -> str:
    return f"{round(rng.uniform(-0.5, 0.5), 2) + 0.0:.2f}"   # + 0.0: no "-0.00"


def _unit_interval(rng: random.Random) -> str:
    return f"{round(rng.uniform(0.05, 0.95), 2):.2f}"


def generate_yaml(sizes: list[int], seed: int = 0) -> str:
    """Return the YAML spec of a fully connected network with these layer sizes."""
    rng = random.Random(seed)
    inputs = [f"i{k + 1}" for k in range(sizes[0])]
    lines = [f"title: Generated {'-'.join(map(str, sizes))} network (seed {seed})",
             f"inputs: [{', '.join(inputs)}]", "layers:"]
    previous = len(inputs)
    for index, width in enumerate(sizes[1:], start=1):
        output = index == len(sizes) - 1
        prefix = "o" if output else f"h{index}_"
        activation = "sigmoid" if output or index % 2 == 1 else "tanh"
        units = [f"{prefix}{k + 1}" for k in range(width)]
        lines += [f"  - units: [{', '.join(units)}]", f"    activation: {activation}", "    weights:"]
        for _ in units:
            lines.append(f"      - [{', '.join(_number(rng) for _ in range(previous))}]")
        lines.append(f"    bias: [{', '.join(_number(rng) for _ in units)}]")
        previous = width
    sample_in = ", ".join(_unit_interval(rng) for _ in inputs)
    sample_out = ", ".join(_unit_interval(rng) for _ in range(sizes[-1]))
    lines += ["loss: half_sse", f"sample: {{inputs: [{sample_in}], targets: [{sample_out}]}}",
              "learning_rate: 0.5"]
    return "\n".join(lines) + "\n"


def load_network(name: str) -> derive.Spec:
    if name == "classic":
        return derive.example("classic")
    try:
        sizes = [int(part) for part in name.split("-")]
    except ValueError:
        raise SystemExit(f"bad size {name!r}: expected e.g. 8-16-16-4 or 'classic'")
    if len(sizes) < 2 or min(sizes) < 1:
        raise SystemExit(f"bad size {name!r}: need at least two layers of at least one unit")
    return derive.load_text(generate_yaml(sizes), source="<generated>")


def timed(function, repeats: int):
    """Return (best seconds, last result) of `repeats` calls of function()."""
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return best, result


def bench(name: str) -> dict:
    spec = load_network(name)
    weights = len(derive.network.build(spec).parameters)
    repeats = 3 if weights < SMALL else 1
    row = {"network": name, "weights": weights, "repeats": repeats}
    row["derive"], derivation = timed(lambda: derive.derive(spec), repeats)
    for fmt in FORMATS:
        row[fmt], _ = timed(lambda: derivation.render(fmt), repeats)
    row["total"] = row["derive"] + sum(row[fmt] for fmt in FORMATS)
    return row


COLUMNS = ("derive",) + FORMATS + ("total",)


def print_header() -> None:
    print(f"{'network':<12} {'weights':>7} " + " ".join(f"{c + ' s':>9}" for c in COLUMNS)
          + f" {'ms/weight':>10}  " + " ".join(f"{c + ' ms/w':>11}" for c in ("derive",) + FORMATS))


def print_row(row: dict) -> None:
    per = lambda c: 1000 * row[c] / row["weights"]   # noqa: E731
    print(f"{row['network']:<12} {row['weights']:>7} " + " ".join(f"{row[c]:>9.3f}" for c in COLUMNS)
          + f" {per('total'):>10.3f}  " + " ".join(f"{per(c):>11.3f}" for c in ("derive",) + FORMATS),
          flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="only the two smallest networks")
    parser.add_argument("--sizes", help="comma-separated networks, e.g. classic,8-16-16-4,8-32-32-8")
    args = parser.parse_args(argv)
    names = [s.strip() for s in args.sizes.split(",") if s.strip()] if args.sizes else list(DEFAULT_SIZES)
    if args.quick:
        names = names[:2]
    print(f"Python {sys.version.split()[0]}, derive {derive.__version__}; "
          f"best of 3 below {SMALL} weights, else 1 run; times in seconds")
    print_header()
    rows = []
    for name in names:
        rows.append(bench(name))
        print_row(rows[-1])
    if len({row['weights'] for row in rows}) > 1:
        generated = [row for row in rows if row["network"] != "classic"]   # classic: fixed costs dominate
        pool = sorted(generated if len(generated) > 1 else rows, key=lambda row: row["weights"])
        first, last = pool[0], pool[-1]
        ratio = lambda c: (last[c] / last["weights"]) / (first[c] / first["weights"])   # noqa: E731
        print(f"\nper-weight cost, {last['network']} vs {first['network']} "
              f"({last['weights'] / first['weights']:.0f}x the weights): "
              + ", ".join(f"{c} x{ratio(c):.1f}" for c in COLUMNS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
