"""Work budgets that do not depend on the clock: a count of the Python function calls made.

Open-ended SymPy work (a symbolic proof, inverting an activation) is given a
number of calls, not a number of seconds, so it ends at the same place on a
fast or a slow machine, under any load, in any thread: the same input gives
the same result. Counting uses the thread's trace hook (``sys.settrace``),
which is per thread, so budgets work in worker threads too.

The count covers Python calls only; a single C-level operation on a huge
number is not interrupted, which is why every input is also bounded in size
before SymPy sees it.
"""
from __future__ import annotations

import sys
import threading
from contextlib import contextmanager


class OutOfWork(BaseException):
    """The innermost budget ran out. A BaseException, so that library code's `except Exception` cannot hide it."""


class _State(threading.local):
    def __init__(self):
        self.count = 0          # calls counted in this thread while a budget is open
        self.limits: list[int] = []
        self.previous = None    # the trace function in place before the outermost budget


_state = _State()


_RESUMED = 0x20 | 0x80 | 0x200  # CO_GENERATOR | CO_COROUTINE | CO_ASYNC_GENERATOR


def _count(frame, event, arg):
    _state.count += 1
    # Python switches the hook off once it raises, so raise only where the exception reaches the work:
    # not in a generator being resumed (it may be one being closed by the garbage collector) or a finaliser.
    if _state.count > _state.limits[-1] and not frame.f_code.co_flags & _RESUMED \
            and frame.f_code.co_name != "__del__":
        raise OutOfWork()
    return None  # no tracing inside the frame: only calls are counted


@contextmanager
def work_limit(calls: int):
    """Raise OutOfWork inside the block once it has made `calls` Python calls (or an enclosing budget ran out)."""
    state = _state
    outermost = not state.limits
    if outermost:
        state.previous, state.count = sys.gettrace(), 0
    state.limits.append(min(state.count + calls, state.limits[-1]) if state.limits else calls)
    sys.settrace(_count)
    try:
        yield
    finally:
        # Python switches the hook off when it raises; an enclosing budget with calls left goes on counting.
        sys.settrace(None)
        state.limits.pop()
        if outermost:
            sys.settrace(state.previous)
            state.previous = None
        elif state.count <= state.limits[-1]:
            sys.settrace(_count)


@contextmanager
def paused():
    """Do not count the work inside the block (work shared between budgets, such as a cache being filled)."""
    state = _state
    if not state.limits:
        yield
        return
    sys.settrace(None)
    try:
        yield
    finally:
        sys.settrace(_count)


def within(calls: int, work, fallback):
    """Return work(), or fallback when it needs more than `calls` Python calls."""
    try:
        with work_limit(calls):
            return work()
    except OutOfWork:
        if _state.limits and _state.count > _state.limits[-1]:
            raise
        return fallback
