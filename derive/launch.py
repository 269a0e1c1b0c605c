"""The `derive` command's entry point: an interruption is an exit code and one line, never a traceback.

Nothing heavy is imported before the handlers are in place (the package's
``__init__`` imports lazily), so Ctrl-C during start-up is handled too.
SIGTERM is turned into SystemExit, so temporary files are removed as on Ctrl-C.
"""
from __future__ import annotations

import os
import signal
import sys


def _terminate(signum, frame):
    raise SystemExit(128 + signum)


def main() -> None:
    """Run the command line; Ctrl-C exits with 130, SIGTERM with 143, a closed output pipe with 141."""
    signal.signal(signal.SIGTERM, _terminate)
    try:
        if sys.argv[1:2] == ["train"]:  # derive train needs no more than its own module to start
            from .cli_train import main as run_train
            run_train(sys.argv[2:])
        else:
            from .cli import main as run
            run()
    except KeyboardInterrupt:
        _say("interrupted")
        sys.exit(130)
    except BrokenPipeError:  # `derive run | head`: the reader has gone; nothing more to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(141)


def _say(message: str) -> None:
    try:
        sys.stderr.write(message + "\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
