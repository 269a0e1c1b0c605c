"""The `derive` command's entry point: an interruption is an exit code and one line, never a traceback.

Nothing heavy is imported before the handlers are in place (the package's
``__init__`` imports lazily), so Ctrl-C during start-up is handled too.
SIGTERM is turned into SystemExit, so temporary files are removed as on Ctrl-C.

Python's cyclic garbage collector is kept off while the command's modules (SymPy's among them) are
imported, and what they made is then frozen, so later collections do not walk it again and again; at exit
everything is frozen once more, so the interpreter's last collections have nothing to walk. A `derive`
process is short and its objects live until it ends, so this changes no output, only the time
(a fifth of the CPU time of `derive run`, measured in bench/bench_startup.py); forked `--jobs` workers also
share the frozen objects' memory.
"""
from __future__ import annotations

import atexit
import gc
import os
import signal
import sys


def _terminate(signum, frame):
    raise SystemExit(128 + signum)


def main() -> None:
    """Run the command line; Ctrl-C exits with 130, SIGTERM with 143, a closed output pipe with 141."""
    signal.signal(signal.SIGTERM, _terminate)
    gc.disable()
    atexit.register(gc.freeze)  # registered first, so it runs last of the exit handlers
    try:
        if sys.argv[1:2] == ["train"]:  # derive train needs no more than its own module to start
            from .cli_train import main as run_train
            _after_imports()
            run_train(sys.argv[2:])
        else:
            from .cli import main as run
            _after_imports()
            run()
    except KeyboardInterrupt:
        _say("interrupted")
        sys.exit(130)
    except BrokenPipeError:  # `derive run | head`: the reader has gone; nothing more to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(141)


def _after_imports() -> None:
    gc.freeze()
    gc.enable()


def _say(message: str) -> None:
    try:
        sys.stderr.write(message + "\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
