"""Benchmark: `derive train` against an eager PyTorch float64 loop of the same updates (not a timed test).

    python bench/bench_train.py [--steps 10000]

Measures, in the same run, CPU seconds (fastest of 3):
  * the whole process `derive train classic --steps N -o x.json`, first with an empty cache (import,
    derive, compile, step) and then repeated (the compiled program read from derive's cache: no SymPy),
    and a whole-process PyTorch script making the same N SGD updates of the classic network in float64;
  * the loops alone, in process: derive's compiled step N times, PyTorch's forward/backward/step N times,
    and a plain-float Python loop of the same formulas written by hand here (the floor of any Python loop);
  * derive's compile time (the derivation's program to float code) separately;
  * time per step as networks grow (2-2-2 up to 16-64-64-10, sigmoid units with per-unit biases, one
    sample, SGD): derive's plan (scalar code a unit, or from 200 weights the NumPy matrix form) and the
    same eager PyTorch float64 step with matrices, with derive's time to derive and to compile.
Prints the ratios. Without torch installed the PyTorch columns are left out.
"""
from __future__ import annotations

import argparse
import math
import os
import resource
import subprocess
import sys
import tempfile
import time

def torch_classic():
    """Return (optimizer, loss function) of the classic network in PyTorch float64, SGD with η = 0.5."""
    import torch
    p = {n: torch.tensor(v, dtype=torch.float64, requires_grad=True) for n, v in
         dict(w1=0.15, w2=0.2, w3=0.25, w4=0.3, w5=0.4, w6=0.45, w7=0.5, w8=0.55).items()}
    b1, b2 = torch.tensor(0.35, dtype=torch.float64), torch.tensor(0.6, dtype=torch.float64)
    i1, i2, t1, t2 = 0.05, 0.1, 0.01, 0.99

    def loss():
        h1 = torch.sigmoid(p["w1"] * i1 + p["w2"] * i2 + b1)
        h2 = torch.sigmoid(p["w3"] * i1 + p["w4"] * i2 + b1)
        o1 = torch.sigmoid(p["w5"] * h1 + p["w6"] * h2 + b2)
        o2 = torch.sigmoid(p["w7"] * h1 + p["w8"] * h2 + b2)
        return 0.5 * (t1 - o1) ** 2 + 0.5 * (t2 - o2) ** 2

    return torch.optim.SGD(list(p.values()), lr=0.5), loss


def torch_loop(steps: int, optimizer, loss) -> None:
    """The eager PyTorch training loop: forward, backward, step."""
    for _ in range(steps):
        optimizer.zero_grad()
        loss().backward()
        optimizer.step()


def child_cpu(command: list[str], **env: str) -> float:
    """Return the CPU seconds (user + system) a child process takes, with `env` added to its environment (and
    derive's cache on)."""
    environment = {key: value for key, value in os.environ.items() if key != "DERIVE_NO_CACHE"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(command, check=True, capture_output=True, env={**environment, **env})
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def fastest(runs: int, action) -> float:
    times = []
    for _ in range(runs):
        start = time.process_time()
        action()
        times.append(time.process_time() - start)
    return min(times)


def plain_floats(steps: int) -> float:
    """The classic network's SGD step written by hand in floats (the floor of a Python loop)."""
    w = [0.15, 0.2, 0.25, 0.3, 0.4, 0.45, 0.5, 0.55]
    s = lambda x: 1 / (1 + math.exp(-x))  # noqa: E731
    for _ in range(steps):
        h1, h2 = s(w[0] * 0.05 + w[1] * 0.1 + 0.35), s(w[2] * 0.05 + w[3] * 0.1 + 0.35)
        o1, o2 = s(w[4] * h1 + w[5] * h2 + 0.6), s(w[6] * h1 + w[7] * h2 + 0.6)
        d1, d2 = (o1 - 0.01) * o1 * (1 - o1), (o2 - 0.99) * o2 * (1 - o2)
        e1, e2 = (d1 * w[4] + d2 * w[6]) * h1 * (1 - h1), (d1 * w[5] + d2 * w[7]) * h2 * (1 - h2)
        gradients = [e1 * 0.05, e1 * 0.1, e2 * 0.05, e2 * 0.1, d1 * h1, d1 * h2, d2 * h1, d2 * h2]
        w = [v - 0.5 * g for v, g in zip(w, gradients)]
    return w[0]


def grown_network(sizes: list[int]) -> str:
    """A network file of these layer sizes: sigmoid units, per-unit biases, half SSE, seeded weights."""
    import random
    import yaml
    rng = random.Random(0)
    layers = [{"units": [f"u{i}_{k}" for k in range(b)], "activation": "sigmoid",
               "weights": [[round(rng.uniform(-0.5, 0.5), 3) for _ in range(a)] for _ in range(b)],
               "bias": [round(rng.uniform(-0.1, 0.1), 3) for _ in range(b)]}
              for i, (a, b) in enumerate(zip(sizes, sizes[1:]), start=1)]
    return yaml.safe_dump({"inputs": [f"x{k}" for k in range(sizes[0])], "layers": layers, "loss": "half_sse",
                           "sample": {"inputs": [round(rng.uniform(0, 1), 2) for _ in range(sizes[0])],
                                      "targets": [round(rng.uniform(0.1, 0.9), 2) for _ in range(sizes[-1])]},
                           "learning_rate": 0.1})


def torch_matrix_step(text: str):
    """Return one eager PyTorch float64 SGD step of the network in `text`, with matrices."""
    import torch
    import yaml
    data = yaml.safe_load(text)
    weights = [torch.tensor(layer["weights"], dtype=torch.float64, requires_grad=True) for layer in data["layers"]]
    biases = [torch.tensor(layer["bias"], dtype=torch.float64, requires_grad=True) for layer in data["layers"]]
    x = torch.tensor(data["sample"]["inputs"], dtype=torch.float64)
    t = torch.tensor(data["sample"]["targets"], dtype=torch.float64)
    optimizer = torch.optim.SGD(weights + biases, lr=0.1)

    def step():
        optimizer.zero_grad()
        a = x
        for w, b in zip(weights, biases):
            a = torch.sigmoid(w @ a + b)
        (0.5 * (t - a) ** 2).sum().backward()
        optimizer.step()

    return step


def per_step(sizes_text: str, have_torch: bool, steps: int = 2000) -> None:
    import derive
    from derive.loop import run
    from derive.train import plan
    print(f"time per step as networks grow ({steps} steps, fastest of 3), microseconds")
    for name in sizes_text.split(","):
        text = grown_network([int(size) for size in name.split("-")])
        start = time.process_time()
        derivation = derive.derive(derive.load_text(text))
        deriving = time.process_time() - start
        start = time.process_time()
        made = plan(derivation)
        compiling = time.process_time() - start
        ours = fastest(3, lambda: run(made, steps, steps)) / steps
        line = f"  {name:>13}: derive ({made.form}) {1e6 * ours:8.1f}"
        if have_torch:
            step = torch_matrix_step(text)
            theirs = fastest(3, lambda: [step() for _ in range(steps)]) / steps
            line += f", eager PyTorch {1e6 * theirs:8.1f}, PyTorch ÷ derive {theirs / ours:5.2f}"
        print(line + f"   (derive {deriving:.2f} s, compile {compiling:.2f} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--sizes", default="2-2-2,4-8-8-3,8-16-16-5,16-32-32-10,16-64-64-10",
                        help="layer sizes of the per-step table, comma-separated (empty: no table)")
    parser.add_argument("--torch-child", type=int, default=None, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.torch_child is not None:  # the whole-process PyTorch peer: import torch, build, train
        torch_loop(arguments.torch_child, *torch_classic())
        return
    steps = arguments.steps
    try:
        import torch  # noqa: F401
        have_torch = True
    except ImportError:
        have_torch = False
    import derive
    from derive.loop import run
    from derive.train import plan
    with tempfile.TemporaryDirectory() as directory:
        output = os.path.join(directory, "run.json")
        command = [sys.executable, "-m", "derive", "train", "classic", "--steps", str(steps), "-o", output]
        first, repeated = [], []
        for attempt in range(3):  # each first run with a cache of its own, empty; then the same run again
            cache = os.path.join(directory, f"cache{attempt}")
            first.append(child_cpu(command, XDG_CACHE_HOME=cache))
            repeated.append(child_cpu(command, XDG_CACHE_HOME=cache))
        derive_first, derive_repeated = min(first), min(repeated)
        torch_process = min(child_cpu([sys.executable, os.path.abspath(__file__), "--torch-child", str(steps)])
                            for _ in range(3)) if have_torch else None
    derivation = derive.derive(derive.example("classic"))
    compile_time = fastest(3, lambda: plan(derivation))
    made = plan(derivation)
    derive_loop = fastest(3, lambda: run(made, steps))
    floats_loop = fastest(3, lambda: plain_floats(steps))
    print(f"{steps} SGD updates of the classic network, CPU seconds (fastest of 3)")
    for label, seconds in (("first run", derive_first), ("repeated run", derive_repeated)):
        print(f"  whole process, {label}: derive train {seconds:.3f}" +
              (f", eager PyTorch {torch_process:.3f}, PyTorch ÷ derive {torch_process / seconds:.2f}"
               if have_torch else " (torch not installed)"))
    line = f"  loops alone:   derive {derive_loop:.4f} ({1e6 * derive_loop / steps:.1f} µs a step), " \
           f"plain floats {floats_loop:.4f}"
    if have_torch:
        optimizer, loss = torch_classic()
        torch_time = fastest(3, lambda: torch_loop(steps, optimizer, loss))
        line += f", eager PyTorch {torch_time:.3f}; PyTorch ÷ derive {torch_time / derive_loop:.1f}"
    print(line)
    print(f"  compiling the program once (the plan: one step and the loss): {compile_time:.4f}")
    if arguments.sizes:
        per_step(arguments.sizes, have_torch)


if __name__ == "__main__":
    main()
