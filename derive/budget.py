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
        self.calls = [0]        # calls counted in this thread while a budget is open (a cell the hook updates)
        self.limits: list[int] = []
        self.previous = None    # the trace function in place before the outermost budget


_state = _State()
# Installing a trace function is not safe from two threads at once: Python refuses the second ("Cannot
# install a trace function while another trace function is being installed") while the first runs the
# process's audit hooks. Each thread's hook is its own; only the installing is taken in turn.
# Installed inline (`with _installing: sys.settrace(…)`): the hook counts Python calls, and such a call made
# after the budget ran out would raise in the wrong place. Hooks are made (by _hook) only where no hook of
# ours is counting, or before the budget's state changes.
_installing = threading.Lock()


_RESUMED = 0x20 | 0x80 | 0x200  # CO_GENERATOR | CO_COROUTINE | CO_ASYNC_GENERATOR


def _hook(calls: list[int], limit: int):
    """Return the trace function that counts this thread's calls in `calls` and raises past `limit`.

    It is the cost every counted call pays, so it holds its cell and its limit itself: no thread-local
    lookup per call."""
    def count(frame, event, arg):
        calls[0] += 1
        # Python switches the hook off once it raises, so raise only where the exception reaches the work:
        # not in a generator being resumed (it may be one being closed by the garbage collector) or a finaliser.
        if calls[0] > limit and not frame.f_code.co_flags & _RESUMED and frame.f_code.co_name != "__del__":
            raise OutOfWork()
        return None  # no tracing inside the frame: only calls are counted
    return count


@contextmanager
def work_limit(calls: int):
    """Raise OutOfWork inside the block once it has made `calls` Python calls (or an enclosing budget ran out)."""
    state = _state
    outermost = not state.limits
    limit = min(state.calls[0] + calls, state.limits[-1]) if state.limits else calls
    hook = _hook(state.calls, limit)
    if outermost:
        state.previous, state.calls[0] = sys.gettrace(), 0
    state.limits.append(limit)
    with _installing:
        sys.settrace(hook)
    try:
        yield
    finally:
        # Python switches the hook off when it raises; an enclosing budget with calls left goes on counting.
        with _installing:
            try:
                sys.settrace(None)
            except OutOfWork:  # raised in an audit hook that sys.settrace ran; the hook is off now
                sys.settrace(None)
        state.limits.pop()
        if outermost:
            with _installing:
                sys.settrace(state.previous)
            state.previous = None
        elif state.calls[0] <= state.limits[-1]:
            hook = _hook(state.calls, state.limits[-1])
            with _installing:
                sys.settrace(hook)


@contextmanager
def paused():
    """Do not count the work inside the block (work shared between budgets, such as a cache being filled)."""
    state = _state
    if not state.limits:
        yield
        return
    with _installing:
        sys.settrace(None)
    try:
        yield
    finally:
        hook = _hook(state.calls, state.limits[-1])
        with _installing:
            sys.settrace(hook)


def within(calls: int, work, fallback):
    """Return work(), or fallback when it needs more than `calls` Python calls."""
    try:
        with work_limit(calls):
            return work()
    except OutOfWork:
        if _state.limits and _state.calls[0] > _state.limits[-1]:
            raise
        return fallback
