"""Time budgets: a claim's judging stops when its time is up, and the verdict says so.

On POSIX, in the main thread, an interval timer interrupts the (pure Python)
SymPy work. Elsewhere (another thread, another platform) budgets are not
enforced by time, only by the size limits of the parser.
"""
from __future__ import annotations

import signal
import threading
import time
from contextlib import contextmanager

_deadlines: list[float] = []


class OutOfTime(Exception):
    """The time budget of the innermost `time_limit` ran out."""


def _arm() -> None:
    if _deadlines:
        signal.setitimer(signal.ITIMER_REAL, max(min(_deadlines) - time.monotonic(), 1e-6))
    else:
        signal.setitimer(signal.ITIMER_REAL, 0)


def _expired(signum, frame):
    raise OutOfTime()


def enforced() -> bool:
    """Return True when time limits can interrupt work here."""
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


@contextmanager
def time_limit(seconds: float):
    """Raise OutOfTime inside the block once `seconds` have passed (or an enclosing budget ran out)."""
    if not enforced():
        yield
        return
    previous = signal.signal(signal.SIGALRM, _expired) if not _deadlines else None
    _deadlines.append(time.monotonic() + seconds)
    _arm()
    try:
        yield
    finally:
        _deadlines.pop()
        _arm()
        if previous is not None:
            signal.signal(signal.SIGALRM, previous)
