"""Published pages marked as they are: the source articles in ../shared/seeds, read with a network file that
describes the page's network and, under `aliases`, the page's own names.

Truth is the articles' own figures and ../shared/reference (PyTorch float64). Seed 000 is the classic
example as a Chinese course page prints it (names X1, W1, H1 for both a net and an out, y1, w5new, a flattened
table of givens, prose glued to equations, `x` as the times sign); it has one typo among its equations,
w6new = 408666186 for 0.408666186 (../shared/reference says so). Seed 004 is a Zhihu answer (primes:
a_1', a_1'', w'_{11}) whose worked figures are right; it then changes three weights to show a what-if, and
those lines differ from its network, as they should.
"""
import pytest

import derive
from derive.check import Judge
from derive.check.lines import read_lines
from conftest import SHARED
from test_graph import PAGE_SPEC

SEEDS = SHARED / "seeds"

SEED_000_ALIASES = """
aliases:
  X1: i1
  X2: i2
  x1: i1
  x2: i2
  W1: w1
  W2: w2
  W3: w3
  W4: w4
  T1: target_o1
  T2: target_o2
  H1: [net_h1, out_h1]   # the page writes H1 for the net and for the output of h1
  H2: [net_h2, out_h2]
  y1: net_o1
  y2: net_o2
"""

SEED_004_SPEC = PAGE_SPEC  # the Zhihu answer's network and names (tests/test_graph.py)


def seed(prefix: str) -> str:
    found = sorted(SEEDS.glob(f"{prefix}_*.txt"))
    if not found:
        import os
        if os.environ.get("CI") or os.environ.get("DERIVE_REQUIRE_TOOLS"):
            pytest.fail("../shared/seeds must be beside the checkout in CI")
        pytest.skip("../shared/seeds is not beside the checkout")
    return found[0].read_text(encoding="utf-8")


def judged(spec_text: str, page: str):
    judge = Judge(derive.derive(derive.load_text(spec_text)))
    return [v for v in judge.judge_document(read_lines(page, "md")) if v.verdict not in ("skipped", "defined")]


def test_the_classic_course_page_has_one_wrong_figure_and_it_is_flagged(reference):
    classic = derive.examples.path("classic").read_text(encoding="utf-8")
    verdicts = judged(classic + SEED_000_ALIASES, seed("000"))
    wrong = [(v.claim, v.verdict) for v in verdicts if v.verdict != "correct"]
    assert wrong == [("w6new = 408666186", "incorrect")]
    assert len(verdicts) >= 30  # the givens, the forward pass and the updated weights, all read
    updated = {v.claim.split(" = ")[0]: float(v.claim.split(" = ")[1]) for v in verdicts if "new = " in v.claim}
    for name in ("w1", "w5", "w7"):  # what the page prints, to its digits, is PyTorch's figure
        assert updated[f"{name}new"] == pytest.approx(reference["updated"][name], abs=1e-8)
    assert reference["updated"]["w6"] == pytest.approx(0.408666186, abs=1e-9)  # what the typo meant


def test_a_zhihu_answer_in_its_own_notation_is_right_until_its_what_if():
    verdicts = judged(SEED_004_SPEC, seed("004"))
    marks = [(v.claim, v.verdict) for v in verdicts]
    assert marks[:3] == [("a_1=1", "correct"), ("a_2=2", "correct"), ("a_3=3", "correct")]
    worked = [mark for mark in marks if mark[0].startswith("a_1'") or mark[0].startswith("a_2'")]
    assert worked[:3] == [("a_1' = 1 * 0.5 + 2 * 0.4 + 3 * 0.3 = 2.2", "correct"),
                          ("a_2' = 1 * 0.6 + 2 * 0.3 + 3 * 0.2 = 1.8", "correct"),
                          ("a_1'' = 2.2 * 0.7 + 1.8 * 0.8 = 2.98", "correct")]
    # The what-if: three weights changed (0.35, 0.78, 0.83) differ from the network, and so does the output
    # the page gives for them (3.293; with those weights it would be 2.35·0.78 + 1.8·0.83 = 3.327).
    changed = sorted(claim for claim, verdict in marks if verdict == "incorrect")
    assert changed == ["a_1''=3.293", "w'_{11} = 0.78", "w'_{21} = 0.83", "w_{31} = 0.35"]
