"""Benchmark the whole `derive run` process against its peer, `python -c "import sympy"`, in the same run.

A teacher runs `derive run` once per document, so what counts is the whole
process: start-up, imports, deriving and rendering. This measures the CPU time
(user + system, of the child processes) of

* the peer: `python -c "import sympy"`,
* a second peer, the least a SymPy script does to get the same gradients: read the classic
  example's YAML, build its forward pass in SymPy, differentiate the loss by every weight and
  evaluate at 50 digits (no chain-rule steps, no document, no command line), and
* `derive run classic -o <tmp>/classic.md` (the derivation as Markdown with its SVG diagram),

alternately, each `--repeat` times, and reports the fastest and the median
runs and their ratios (the target is at most 1.5). It then measures, in a fresh process, the cost
of deriving the classic example and of rendering it in every format (md with
its SVG, tex, html, text, json), fastest of three processes after one that fills the cache of
compiled templates, and reports rendering ÷ deriving (the target is below 1).

    python bench/bench_startup.py              # 7 repeats
    python bench/bench_startup.py --repeat 15

Both processes run as an installed user's do: with byte-code caching on (pip
byte-compiles SymPy and derive when it installs them; PYTHONDONTWRITEBYTECODE,
set on some machines, would make every process compile derive's own modules
from source while SymPy's stay compiled), after one run of each to warm the
caches (Python's .pyc files, derive's compiled templates).
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

CLASSIC = Path(__file__).resolve().parents[1] / "derive" / "examples" / "classic.yaml"

RENDER_SCRIPT = r"""
import time
import derive
from derive.render import render, render_diagram
derivation_start = time.process_time()
derivation = derive.derive(derive.example("classic"))
derived = time.process_time()
render(derivation, "md", diagram_file="classic.svg")
render_diagram(derivation)
for format in ("tex", "html", "text", "json"):
    render(derivation, format)
rendered = time.process_time()
print(derived - derivation_start, rendered - derived)
"""


# The second peer: the classic example's gradients by plain SymPy (sigmoid units, half squared error, as
# the file says), no derive imported.
GRADIENTS_SCRIPT = r"""
import sys
import sympy
import yaml
spec = yaml.safe_load(open(sys.argv[1], encoding="utf-8"))
assert spec["loss"] == "half_sse" and all(layer["activation"] == "sigmoid" for layer in spec["layers"])
number = lambda value: sympy.Rational(str(value))
values = {sympy.Symbol(name): number(value) for name, value in zip(spec["inputs"], spec["sample"]["inputs"])}
signals, weights = [sympy.Symbol(name) for name in spec["inputs"]], []
for layer in spec["layers"]:
    (bias_name, bias_value), = layer["bias"].items()
    bias = sympy.Symbol(bias_name)
    values[bias] = number(bias_value)
    outputs = []
    for row in layer["weights"]:
        net = bias
        for cell, signal in zip(row, signals):
            (name, value), = cell.items()
            weight = sympy.Symbol(name)
            values[weight] = number(value)
            weights.append(weight)
            net += weight * signal
        outputs.append(1 / (1 + sympy.exp(-net)))
    signals = outputs
loss = sum(sympy.Rational(1, 2) * (number(t) - o) ** 2 for t, o in zip(spec["sample"]["targets"], signals))
print([sympy.diff(loss, weight).xreplace(values).evalf(50) for weight in weights])
"""


ENVIRONMENT = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}


def child_cpu(command: list[str], cwd: str) -> float:
    """Return the CPU seconds (user + system) the command's process took."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(command, cwd=cwd, check=True, stdout=subprocess.DEVNULL, env=ENVIRONMENT)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    arguments = parser.parse_args()
    derive_command = [sys.executable, "-c", "from derive.launch import main; main()"]
    gradients_command = [sys.executable, "-c", GRADIENTS_SCRIPT, str(CLASSIC)]
    peer, gradients, ours = [], [], []
    with tempfile.TemporaryDirectory() as directory:
        child_cpu([sys.executable, "-c", "import sympy"], directory)  # warm-up: .pyc files, compiled templates
        child_cpu(gradients_command, directory)
        child_cpu(derive_command + ["run", "classic", "-o", "warm.md"], directory)
        for _ in range(arguments.repeat):
            peer.append(child_cpu([sys.executable, "-c", "import sympy"], directory))
            gradients.append(child_cpu(gradients_command, directory))
            for name in ("classic.md", "classic.svg"):
                Path(directory, name).unlink(missing_ok=True)
            ours.append(child_cpu(derive_command + ["run", "classic", "-o", "classic.md"], directory))
        in_one = [[float(value) for value in subprocess.run(
            [sys.executable, "-c", RENDER_SCRIPT], cwd=directory, check=True, capture_output=True, text=True,
            env=ENVIRONMENT).stdout.split()] for _ in range(4)][1:]  # the first compiles every format's templates
    deriving, rendering = min(run[0] for run in in_one), min(run[1] for run in in_one)
    print(f"{arguments.repeat} runs each, alternately, after a warm-up, byte-code caching on; CPU seconds "
          "(fastest and median: on a shared machine the fastest run is the steadier measure)")
    print(f"  python -c 'import sympy'        {min(peer):.3f}  {statistics.median(peer):.3f}")
    print(f"  plain SymPy gradients           {min(gradients):.3f}  {statistics.median(gradients):.3f}")
    print(f"  derive run classic -o x.md      {min(ours):.3f}  {statistics.median(ours):.3f}")
    print(f"  ratio to import sympy           {min(ours) / min(peer):.2f}   "
          f"{statistics.median(ours) / statistics.median(peer):.2f}  (target ≤ 1.5)")
    print(f"  plain SymPy gradients ÷ import  {min(gradients) / min(peer):.2f}   "
          f"{statistics.median(gradients) / statistics.median(peer):.2f}  (what SymPy alone needs for the numbers)")
    print(f"  derive run ÷ plain gradients    {min(ours) / min(gradients):.2f}   "
          f"{statistics.median(ours) / statistics.median(gradients):.2f}")
    print(f"  in one process: deriving {deriving:.3f}, rendering every format {rendering:.3f}, "
          f"ratio {rendering / deriving:.2f}  (target < 1)")


if __name__ == "__main__":
    main()
