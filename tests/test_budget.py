"""derive/budget.py: work budgets counted in Python calls, never in time.

Source of truth: counts kept by the test itself (a function that increments a counter each time it
runs), compared with the number of calls the budget was given. No clock is read anywhere.
"""
import sys
import threading

import pytest

from derive.budget import OutOfWork, paused, within, work_limit


class Counter:
    def __init__(self):
        self.calls = 0

    def step(self):
        self.calls += 1


def spin(counter):
    """Call counter.step() until the budget stops it."""
    while True:
        counter.step()


@pytest.mark.parametrize("limit", [1, 10, 1000, 25_000])
def test_a_loop_stops_after_its_calls(limit):
    counter = Counter()
    with pytest.raises(OutOfWork):
        with work_limit(limit):
            spin(counter)
    # spin() itself is one call; every other call is one step: `limit` calls in all
    assert counter.calls + 1 == limit


def test_work_within_the_limit_is_not_interrupted():
    counter = Counter()
    with work_limit(1000):
        for _ in range(500):
            counter.step()
    assert counter.calls == 500


def test_out_of_work_is_not_an_exception():
    """Library code's `except Exception` cannot swallow it."""
    assert not issubclass(OutOfWork, Exception) and issubclass(OutOfWork, BaseException)
    counter = Counter()

    def stubborn():
        while True:
            try:
                counter.step()
            except Exception:
                pass

    with pytest.raises(OutOfWork):
        with work_limit(300):
            stubborn()
    assert counter.calls <= 300


def test_within_returns_the_result_or_the_fallback():
    counter = Counter()

    def work(n):
        for _ in range(n):
            counter.step()
        return "done"

    assert within(1000, lambda: work(100), "too much") == "done"
    assert within(1000, lambda: work(5000), "too much") == "too much"
    assert 1000 - 5 <= counter.calls - 100 <= 1000


def test_nested_budgets_count_together():
    outer_counter, inner_counter = Counter(), Counter()
    with pytest.raises(OutOfWork):
        with work_limit(2000):
            # the inner budget runs out first: within() gives the fallback and the outer goes on counting
            assert within(500, lambda: spin(inner_counter), "fallback") == "fallback"
            spin(outer_counter)
    assert 500 - 5 <= inner_counter.calls <= 500
    assert 2000 - 10 <= inner_counter.calls + outer_counter.calls <= 2000


def test_an_inner_budget_cannot_outlast_the_outer_one():
    counter = Counter()
    with pytest.raises(OutOfWork):
        with work_limit(300):
            within(1_000_000, lambda: spin(counter), "fallback")  # the outer budget's end is not a fallback
    assert 300 - 10 <= counter.calls <= 300


def test_paused_work_is_not_counted():
    counter, shared = Counter(), Counter()
    with pytest.raises(OutOfWork):
        with work_limit(1000):
            for _ in range(400):
                counter.step()
            with paused():
                for _ in range(50_000):
                    shared.step()
            spin(counter)
    assert shared.calls == 50_000
    assert 1000 - 10 <= counter.calls <= 1000


def test_paused_without_a_budget_does_nothing():
    counter = Counter()
    with paused():
        for _ in range(10):
            counter.step()
    assert counter.calls == 10


def test_the_previous_trace_function_is_restored():
    before = sys.gettrace()
    with work_limit(100):
        pass
    assert sys.gettrace() is before
    with pytest.raises(OutOfWork):
        with work_limit(10):
            spin(Counter())
    assert sys.gettrace() is before
    # and a budget after another starts from zero
    counter = Counter()
    with work_limit(100):
        for _ in range(90):
            counter.step()
    assert counter.calls == 90


def test_budgets_are_per_thread():
    """Each thread counts its own calls: a busy unlimited thread does not use up another's budget."""
    limits = [500, 1500, 4000]
    counters = [Counter() for _ in limits]
    outcomes = [None] * len(limits)
    free = Counter()
    start = threading.Barrier(len(limits) + 1)

    def limited(index):
        start.wait()
        try:
            with work_limit(limits[index]):
                spin(counters[index])
        except OutOfWork:
            outcomes[index] = "out of work"

    def unlimited():
        start.wait()
        for _ in range(200_000):
            free.step()

    threads = [threading.Thread(target=limited, args=(i,)) for i in range(len(limits))]
    threads.append(threading.Thread(target=unlimited))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes == ["out of work"] * len(limits)
    for limit, counter in zip(limits, counters):
        assert limit - 5 <= counter.calls <= limit, (limit, counter.calls)
    assert free.calls == 200_000


def test_the_same_work_gives_the_same_count():
    """The count depends on the work only: two runs of the same loop stop at the same step."""
    stops = []
    for _ in range(3):
        counter = Counter()
        with pytest.raises(OutOfWork):
            with work_limit(7777):
                spin(counter)
        stops.append(counter.calls)
    assert len(set(stops)) == 1
