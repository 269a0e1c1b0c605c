"""Determinism: marking the same claims gives the same report, whatever thread it runs in.

`derive check` is a marking tool: two runs on the same claims must give the
same verdicts, byte for byte, whether the library is called from the main
thread or from worker threads (a notebook, a web server), and whether a Judge
is used by one thread or shared by several. Nothing here measures time: there
are no timing asserts and no sleeps, so the tests cannot pass or fail by the
speed of the machine; they fail only when the outcome depends on it.

The shared-Judge test reproduces the 'half-filled cache' bug: one thread
starts filling the Judge's cache of random points (or of symbolic proofs)
while another already reads it, and judges a claim at fewer points, or not at
all. A barrier makes the threads start together.
"""
from __future__ import annotations

import json
import threading
import traceback
from concurrent.futures import ThreadPoolExecutor

import pytest

from derive import derive, example
from derive.check import Judge, claims_from_data, mark
from derive.render.report import render_report

THREADS = 4


def _nested_fraction(depth: int) -> str:
    return "out_h1 = " + "1/(1+" * depth + "1" + ")" * depth


def _long_claim(length: int = 3900) -> str:
    """A legal claim of exactly `length` characters: net_h1 plus terms that cancel."""
    text = "net_h1 = w1*i1 + w2*i2 + b1"
    for k in range(1000):
        term = f" + (w{1 + k % 4} - w{1 + k % 4})*i{1 + k % 2}"
        if len(text) + len(term) > length:
            break
        text += term
    text += " + 0" * ((length - len(text)) // 4)
    return text + " " * (length - len(text))


# About 30 claims over 3 students: numbers right and wrong, formulas in plain text, LaTeX and
# Unicode, classic mistakes, unreadable text, and two heavy but legal claims.
CLAIMS_DATA = {
    "001": [
        "out_h1 = 0.5933",
        "delta_o1 = (out_o1 - target_o1)*out_o1*(1 - out_o1)",
        r"\delta_{h1} = \left(\delta_{o1} w_{5} + \delta_{o2} w_{7}\right) \sigma'(net_{h1})",
        "∂E/∂w5 = δ_o1·out_h1",
        "dE/dw5 = delta_o1 * net_h1",
        "E_new = 0.291027924",
        "w5_new = w5 - eta *",
        _nested_fraction(200),
        "delta_h1 = (delta_o1*w5 + delta_o2*w7) * out_h1*(1 - out_h1)",
        "net_o1 = 1.1059",
    ],
    "002": [
        "E = 1/2*(target_o1 - out_o1)^2 + 1/2*(target_o2 - out_o2)^2",
        "δ_o1 = (out_o1 − t_o1)·e^(−net_o1)/(1 + e^(−net_o1))²",
        r"\frac{\partial E}{\partial w_1} = \delta_{h1} i_1",
        "delta_o1 = (target_o1 - out_o1)*out_o1*(1 - out_o1)",
        "delta_h1 = delta_o1*w5*out_h1*(1 - out_h1)",
        _long_claim(3900),
        "w5_new = 0.35891648",
        "out_h1 = ",
        "dE/db2 = delta_o1",
        "w8⁺ = w8 − η·∂E/∂w8",
    ],
    "003": [
        "net_h1 = w1*i1 + w2*i2 + b1",
        "E = (t_o1 - out_o1)^2 + (t_o2 - out_o2)^2",
        "w5_new = w5 + eta*dE/dw5",
        r"w_5^{+} = w_5 - \eta \frac{\partial E}{\partial w_5}",
        "delta_h1 = (delta_o1*w5 + delta_o2*w6) * out_h1*(1 - out_h1)",
        "dE/dw5 = 0.0822",
        "out_o1 = 0.80",
        r"out_h1 = \input{x}",
        "∂out_o2/∂net_o2 = out_o2·(1 − out_o2)",
        "dE/db2 = delta_o1 + delta_o2",
    ],
}

# For the shared Judge: formulas first (each needs the random points at once), correct ones that
# SymPy proves (the proof cache) and wrong ones with a classic mistake (confirmed at random points).
SHARED_CLAIMS = [
    "delta_o1 = (target_o1 - out_o1)*out_o1*(1 - out_o1)",
    "delta_h1 = (delta_o1*w5 + delta_o2*w7) * out_h1*(1 - out_h1)",
    "dE/dw5 = delta_o1 * net_h1",
    "δ_o1 = (out_o1 − t_o1)·e^(−net_o1)/(1 + e^(−net_o1))²",
    "delta_h1 = (delta_o1*w5 + delta_o2*w6) * out_h1*(1 - out_h1)",
    "E = 1/2*(target_o1 - out_o1)^2 + 1/2*(target_o2 - out_o2)^2",
    "w5_new = w5 + eta*dE/dw5",
    r"\frac{\partial E}{\partial w_1} = \delta_{h1} i_1",
    "delta_h1 = delta_o1*w5*out_h1*(1 - out_h1)",
    "out_h1 = 0.5933",
    "E_new = 0.291027924",
    "out_h1 = ",
]


@pytest.fixture(scope="module")
def derivation():
    return derive(example("classic"))


@pytest.fixture(scope="module")
def claims():
    data = claims_from_data(CLAIMS_DATA)
    assert sum(map(len, data.values())) == 30 and len(data) == 3
    assert max(len(c) for c in CLAIMS_DATA["002"]) == 3900
    return data


@pytest.fixture(scope="module")
def sequential_report(derivation, claims):
    return mark(derivation, claims)


@pytest.fixture(scope="module")
def threaded_reports(derivation, claims):
    """Four reports, each made by its own mark() call in a worker thread; all four start together."""
    start = threading.Barrier(THREADS)

    def work(_):
        start.wait()
        return mark(derivation, claims)

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        return list(pool.map(work, range(THREADS)))


def _claim_differences(expected: str, got: str, format_: str) -> str:
    """Name the claims whose reports differ (JSON), or show the first differing lines (text)."""
    if format_ == "json":
        a, b = json.loads(expected)["claims"], json.loads(got)["claims"]
        lines = []
        for index, (x, y) in enumerate(zip(a, b), start=1):
            if x != y:
                fields = sorted(k for k in x if x[k] != y.get(k))
                claim = x["claim"] if len(x["claim"]) <= 60 else x["claim"][:40] + f"… ({len(x['claim'])} chars)"
                lines.append(f"claim {index} {claim!r}: {', '.join(fields)}: "
                             f"{x['verdict']}/{x['method']} {x['method_detail']!r} vs "
                             f"{y['verdict']}/{y['method']} {y['method_detail']!r}")
        return "\n".join(lines) or "the reports differ outside the claims"
    a, b = expected.splitlines(), got.splitlines()
    lines = [f"line {i}: {x[:100]!r} vs {y[:100]!r}" for i, (x, y) in enumerate(zip(a, b), start=1) if x != y]
    return "\n".join(lines[:20]) or f"{len(a)} lines vs {len(b)} lines"


@pytest.mark.parametrize("format_", ["json", "text"])
def test_marking_in_threads_gives_the_sequential_report(format_, sequential_report, threaded_reports):
    expected = render_report(sequential_report, format_)
    for number, report in enumerate(threaded_reports, start=1):
        got = render_report(report, format_)
        assert got == expected, f"thread {number}'s {format_} report differs:\n" + \
            _claim_differences(expected, got, format_)


def _key(verdict) -> tuple:
    return (verdict.claim, verdict.verdict, verdict.method, verdict.points, verdict.message,
            verdict.diagnosis.mistake if verdict.diagnosis else None)


def test_a_shared_judge_gives_the_sequential_verdicts(derivation):
    expected = [Judge(derivation).judge(claim) for claim in SHARED_CLAIMS]
    shared = Judge(derivation)  # fresh: its caches are filled while the threads use it
    start = threading.Barrier(THREADS)

    def work(_):
        start.wait()
        try:
            return [shared.judge(claim) for claim in SHARED_CLAIMS], None
        except Exception:  # noqa: BLE001 - reported below, with the traceback
            return None, traceback.format_exc()

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        results = list(pool.map(work, range(THREADS)))
    problems = []
    for number, (verdicts, error) in enumerate(results, start=1):
        if error is not None:
            problems.append(f"thread {number} raised:\n{error}")
            continue
        problems.extend(f"thread {number} judged {claim!r} differently: {_key(e)[1:]} sequentially, {_key(v)[1:]} here"
                        for claim, e, v in zip(SHARED_CLAIMS, expected, verdicts) if e != v)
    assert not problems, f"{len(problems)} problem(s) with one Judge shared by {THREADS} threads:\n" + \
        "\n".join(problems)


def test_the_same_judge_twice_in_one_thread(derivation):
    """The baseline the threaded tests rely on: a Judge's caches do not change its verdicts."""
    judge = Judge(derivation)
    first = [judge.judge(claim) for claim in SHARED_CLAIMS]
    assert [judge.judge(claim) for claim in SHARED_CLAIMS] == first
    assert [Judge(derivation).judge(claim) for claim in SHARED_CLAIMS] == first
