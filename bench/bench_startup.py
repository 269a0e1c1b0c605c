"""Benchmark the whole `derive run` process against its peer, `python -c "import sympy"`, in the same run.

A teacher runs `derive run` once per document, so what counts is the whole
process: start-up, imports, deriving and rendering. This measures the CPU time
(user + system, of the child processes) of

* the peer: `python -c "import sympy"`, and
* `derive run classic -o <tmp>/classic.md` (the derivation as Markdown with its SVG diagram),

alternately, each `--repeat` times, and reports the medians and their ratio
(the target is at most 1.5). It then measures, in one fresh process, the cost
of deriving the classic example and of rendering it in every format (md with
its SVG, tex, html, text, json; templates compiled on first use), and reports
rendering ÷ deriving (the target is below 1).

    python bench/bench_startup.py              # 7 repeats
    python bench/bench_startup.py --repeat 15

Byte-code caching matters for start-up: with PYTHONDONTWRITEBYTECODE set (as
on some machines) derive's own modules are compiled from source in every
process; the report says whether it was set.
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


def child_cpu(command: list[str], cwd: str) -> float:
    """Return the CPU seconds (user + system) the command's process took."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(command, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    arguments = parser.parse_args()
    derive_command = [sys.executable, "-c", "from derive.launch import main; main()"]
    peer, ours = [], []
    with tempfile.TemporaryDirectory() as directory:
        for _ in range(arguments.repeat):
            peer.append(child_cpu([sys.executable, "-c", "import sympy"], directory))
            for name in ("classic.md", "classic.svg"):
                Path(directory, name).unlink(missing_ok=True)
            ours.append(child_cpu(derive_command + ["run", "classic", "-o", "classic.md"], directory))
        result = subprocess.run([sys.executable, "-c", RENDER_SCRIPT], cwd=directory, check=True,
                                capture_output=True, text=True)
    deriving, rendering = (float(v) for v in result.stdout.split())
    print(f"PYTHONDONTWRITEBYTECODE {'set' if os.environ.get('PYTHONDONTWRITEBYTECODE') else 'not set'}; "
          f"{arguments.repeat} runs each, CPU seconds (median)")
    print(f"  python -c 'import sympy'        {statistics.median(peer):.3f}")
    print(f"  derive run classic -o x.md      {statistics.median(ours):.3f}")
    print(f"  ratio                           {statistics.median(ours) / statistics.median(peer):.2f}  (target ≤ 1.5)")
    print(f"  in one process: deriving {deriving:.3f}, rendering every format {rendering:.3f}, "
          f"ratio {rendering / deriving:.2f}  (target < 1)")


if __name__ == "__main__":
    main()
