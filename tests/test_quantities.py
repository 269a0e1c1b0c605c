"""derive/quantities.py: the QuantitySymbol/Kind registry (commit 0c1deb7).

Sources of truth: the README's claim language (net_h1, dE/dw5, w5_new, E_new …) and its list of
reserved names with their reasons, written out here by hand; the claim parser of `derive check`
(a claim name must read back as the same quantity); pickle and SymPy's own equality and hashing.
"""
import copy
import pickle

import pytest
import sympy

import derive
from derive.check import Vocabulary, parse_claim
from derive.quantities import (ASKABLE, KINDS, NET, OUT, PARAM, Kind, QuantitySymbol as Q, index_spellings,
                               reserved_reason, single_places, unit_spelling)

# kind -> (subjects, claim name), by the README's claim language
CLAIM_NAMES = {
    "input": (("i1",), "i1"),
    "param": (("w5",), "w5"),
    "target": (("o1",), "target_o1"),
    "eta": ((), "eta"),
    "net": (("h1",), "net_h1"),
    "out": (("o2",), "out_o2"),
    "loss_term": (("o1",), "E_o1"),
    "loss": ((), "E"),
    "dE_dout": (("h1",), "dE/dout_h1"),
    "delta": (("h1",), "delta_h1"),
    "gradient": (("w5",), "dE/dw5"),
    "update": (("w5",), "w5_new"),
    "after_net": (("h1",), "net_h1_new"),
    "after_out": (("o1",), "out_o1_new"),
    "after_loss_term": (("o2",), "E_o2_new"),
    "after_loss": ((), "E_new"),
    "hyper": (("beta1",), "beta1"),
    "step_number": ((), "t"),
    "state": (("m", "w5"), "m_w5"),
    "after_state": (("m", "w5"), "m_w5_new"),
    "rule_term": (("mhat", "w5"), "mhat_w5"),
    "trained": ((Q("loss"), "100"), "E_after_100"),
}
RULE_KINDS = {"hyper", "step_number", "state", "after_state", "rule_term"}  # of an update rule's own

# kind -> the kind of its value after the update
AFTER = {"param": "update", "net": "after_net", "out": "after_out", "loss_term": "after_loss_term",
         "loss": "after_loss", "state": "after_state"}


def one_of_each_kind():
    subjects = {"unit": "h1", "input": "i1", "param": "w5", "quantity": Q("net", "h1"), "rule": "m", "count": "10"}
    return [Q(kind, *[subjects[role] for role in kind.roles]) for kind in KINDS.values()]


@pytest.mark.parametrize("kind", sorted(CLAIM_NAMES))
def test_claim_names(kind):
    subjects, name = CLAIM_NAMES[kind]
    assert Q(kind, *subjects).claim_name() == name


@pytest.fixture(scope="module")
def classic():
    return derive.derive(derive.example("classic"))


def claimable_kinds():
    """Every kind the classic derivation has a value of (test_the_derivation_covers_the_kinds checks the
    list); claims do not name an update rule's own quantities yet."""
    return sorted(set(KINDS) - {"dnet_dparam", "partial", "trained"} - RULE_KINDS)


def test_a_derivative_along_the_graph_reads_back_as_itself(classic):
    vocabulary = Vocabulary(classic.network)
    for top, bottom in [(Q("net", "o1"), Q("param", "w5")), (Q("loss_term", "o2"), Q("out", "h1")),
                        (Q("out", "o1"), Q("input", "i2"))]:
        symbol = Q("partial", top, bottom)
        assert symbol.claim_name() == f"∂{top.claim_name()}/∂{bottom.claim_name()}"
        assert parse_claim(f"{symbol.claim_name()} = 0", vocabulary).quantity == symbol


@pytest.mark.parametrize("kind", claimable_kinds())
def test_every_claim_name_reads_back_as_its_quantity(classic, kind):
    vocabulary = Vocabulary(classic.network)
    symbols = [symbol for symbol in classic.values if symbol.kind.name == kind]
    assert symbols
    for symbol in symbols:
        assert parse_claim(f"{symbol.claim_name()} = 0", vocabulary).quantity == symbol, symbol.claim_name()


def test_the_derivation_covers_the_kinds(classic):
    # ∂A/∂B along the graph is made by the checker for the derivatives a claim names (test_graph).
    # ∂A/∂B and the values after training (E_after_100) are the checker's, made for the claims that name them.
    assert {symbol.kind.name for symbol in classic.values} == \
        set(KINDS) - {"dnet_dparam", "partial", "trained"} - RULE_KINDS
    # Adam's derivation has every update rule's kind too.
    from dataclasses import replace
    from derive.functions import update_rule
    adam = derive.derive(replace(derive.example("classic"), optimizer=update_rule("adam")))
    assert {symbol.kind.name for symbol in adam.values} == set(KINDS) - {"dnet_dparam", "partial", "trained"}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_after(kind):
    symbol = next(s for s in one_of_each_kind() if s.kind.name == kind)
    if kind in AFTER:
        after = symbol.after
        assert after.kind is KINDS[AFTER[kind]] and after.subjects == symbol.subjects
        assert symbol.kind.after is KINDS[AFTER[kind]]
        assert KINDS[AFTER[kind]].updates == kind
    else:
        assert symbol.kind.after is None
        with pytest.raises(ValueError, match="no value after the update"):
            symbol.after


def test_pickling_round_trip():
    for symbol in one_of_each_kind():
        back = pickle.loads(pickle.dumps(symbol))
        assert back == symbol and hash(back) == hash(symbol)
        assert back.kind is symbol.kind and back.subjects == symbol.subjects
        assert type(back) is type(symbol)
        assert copy.deepcopy(symbol) == symbol and copy.deepcopy(symbol).kind is symbol.kind
    expression = Q("param", "w5") * Q("out", "h1") + sympy.exp(-Q("net", "o1"))
    assert pickle.loads(pickle.dumps(expression)) == expression
    after = pickle.loads(pickle.dumps(Q("param", "w5"))).after
    assert after == Q("update", "w5")


def test_pickling_the_values_of_a_derivation(classic):
    values = pickle.loads(pickle.dumps(dict(classic.values)))
    assert values == dict(classic.values)
    assert values[Q("gradient", "w5")] == classic.values[Q("gradient", "w5")]


def test_equality_and_hashing():
    assert Q("net", "h1") == Q(NET, "h1")
    assert hash(Q("net", "h1")) == hash(Q(NET, "h1"))
    assert Q("net", "h1") != Q("out", "h1")
    assert Q("net", "h1") != Q("net", "h2")
    assert Q("activation_derivative", "h1", "h2") != Q("activation_derivative", "h2", "h1")
    assert Q("net", "h1") != sympy.Symbol("net:h1", real=True) and Q("net", "h1") != sympy.Symbol("net:h1")
    assert len({Q("net", "h1"), Q(NET, "h1"), Q("out", "h1")}) == 2
    table = {Q("param", "w5"): 1}
    assert table[Q(PARAM, "w5")] == 1
    # a fresh but equal symbol substitutes into an expression built with another instance
    expression = 2 * Q("out", "h1") + 1
    assert expression.xreplace({Q("out", "h1"): sympy.Rational(1, 2)}) == 2


def test_quantities_are_real():
    net = Q("net", "h1")
    assert net.is_real
    assert sympy.sqrt(net ** 2) == sympy.Abs(net)
    assert sympy.conjugate(net) == net


def test_subjects_must_match_the_roles():
    with pytest.raises(ValueError, match="1 subject"):
        Q("net")
    with pytest.raises(ValueError):
        Q("loss", "o1")
    with pytest.raises(KeyError):
        Q("no such kind", "h1")
    assert isinstance(KINDS["net"], Kind) and repr(KINDS["net"]) == "Kind('net')"


def test_written_forms_of_a_kind():
    assert NET.written("named", latex=True) == r"\mathrm{net}_{<0>}"
    assert NET.written("index", latex=False) == "net_<0>"
    assert KINDS["target"].written("index", latex=False) == "t_<0>"
    assert KINDS["update"].written("named", latex=False) == "<0>⁺"
    assert OUT.section == "forward" and KINDS["delta"].section == "backward"


def test_askable_words_are_the_readmes():
    assert set(ASKABLE) == {"net", "out", "E", "delta", "gradient", "update"}
    assert ASKABLE["E"] is KINDS["loss"] and ASKABLE["update"] is KINDS["update"]


# --- reserved names and spellings a claim would read two ways ----------------------------------------

@pytest.mark.parametrize("name, reason", [
    ("E", "loss"), ("eta", "learning rate"), ("pi", "π"), ("delta", "δ"), ("d", "derivative"),
    ("new", "after the update"), ("total", "whole loss"), ("w5_new", "_new"), ("x_new", "_new"),
    ("exp", "function"), ("sigmoid", "function"), ("sigma", "function"), ("relu", "function"),
    ("softplus", "function"), ("max", "function"), ("ln", "function"), ("atan", "function"),
])
def test_reserved_names(name, reason):
    assert reason in reserved_reason(name)


@pytest.mark.parametrize("name", ["x", "y", "o", "out", "t", "net", "target", "e", "renew", "newt", "w5new",
                                  "totals", "Delta", "dd", "h1", "softmax"])
def test_names_that_are_free(name):
    assert reserved_reason(name) is None


def test_unit_spelling():
    units, outputs = {"h1", "o1"}, {"o1"}
    assert unit_spelling("net_h1", units, outputs) == "the net of unit h1"
    assert unit_spelling("delta_o1", units, outputs) == "the δ of unit o1"
    assert unit_spelling("target_o1", units, outputs) == "the target of unit o1"
    assert unit_spelling("E_o1", units, outputs) == "the loss term of unit o1"
    assert unit_spelling("E_total", units, outputs) == "the loss E"
    assert unit_spelling("target_h1", units, outputs) is None   # a hidden unit has no target
    assert unit_spelling("net_h2", units, outputs) is None
    assert unit_spelling("netty", units, outputs) is None
    assert unit_spelling("w_h1", units, outputs) is None


def test_single_places_and_index_spellings():
    numbers = {"i1": 1, "i2": 2, "h1": 3, "h2": 4}
    weights = [("h1", "i1", "w1"), ("h1", "i2", "u"), ("h2", "i1", "w3"), ("h2", "i2", "u")]
    biases = [("h1", "b"), ("h2", "c")]
    assert single_places(numbers, weights, biases) == {"w1": ("w", ("3", "1")), "w3": ("w", ("4", "1")),
                                                       "b": ("b", ("3",)), "c": ("b", ("4",))}
    spellings = index_spellings(["i1", "i2"], ["h1", "h2"], {"h2"}, weights, biases)
    assert spellings["x_2"][0] == "i2"
    assert spellings["w_31"][0] == "w1" and spellings["w_3_1"][0] == "w1"
    assert spellings["b_4"][0] == "c"
    assert spellings["net_3"][0] is None and spellings["t_4"][0] is None
    assert "t_3" not in spellings            # h1 is not an output: it has no target
    assert "w_32" not in spellings           # u is tied: no index name
