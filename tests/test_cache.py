"""derive's cache: the tagged JSON its entries are written in, and the claim parser's tables kept there.

Truth: the values themselves (a round trip through JSON text must give back the same Python value, types
included), and the parse trees of a parser Lark builds from the grammar with no cache at all.
"""
import json

import lark
import pytest

from derive import cache
from derive.check import parse

CLAIMS = [
    "delta_o1 = (out_o1 - t_o1)*out_o1*(1 - out_o1)",
    r"\frac{\partial E}{\partial w_{5}} = \delta_{o1} \cdot out_{h1} = 0.7414 \times 0.5933",
    "w5_new = w5 - eta * dE/dw5 = 0.4 - 0.5·0.08217 ≈ 0.3589",
    r"E = ½(t_o1 − o_o1)² + \tanh^2(net_h1)",
]


def test_tagged_data_comes_back_as_it_was():
    value = {"states": {0: {"NAME": (0, 3)}, 12: {"$END": (1, {"@": 7})}}, "names": ["a", ("b", None, True)],
             "ratio": 0.25, "tuple": ("dict",)}
    back = cache.untagged(json.loads(json.dumps(cache.tagged(value))))
    assert back == value and type(back["names"][1]) is tuple and list(back["states"]) == [0, 12]
    for bad in ({"NAME": 1}, {"dict": [[1, 2, 3]]}, {"tuple": [], "dict": []}):
        with pytest.raises(ValueError):
            cache.untagged(bad)
    with pytest.raises(TypeError):
        cache.tagged({1, 2})


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    monkeypatch.delenv("DERIVE_NO_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    parse._parser.cache_clear()
    yield tmp_path
    parse._parser.cache_clear()


def shape(node):
    if isinstance(node, lark.Token):
        return node.type, str(node), node.start_pos, node.end_pos
    return str(node.data), [shape(child) for child in node.children]


def trees(parser) -> list:
    return [shape(parser.parse(text)) for text in CLAIMS]


def test_the_claim_parser_is_read_from_the_cache_and_parses_as_one_built_afresh(fresh_cache, monkeypatch):
    built = lark.Lark(parse._grammar(), parser="lalr", maybe_placeholders=False)
    assert not list(fresh_cache.glob("derive/parsers-*/*.json"))
    first = parse._parser()
    entry, = fresh_cache.glob("derive/parsers-*/*.json")
    parse._parser.cache_clear()

    def no_building(*args, **kwargs):
        raise AssertionError("the parser was built, not read from the cache")

    with monkeypatch.context() as patched:
        patched.setattr(lark.Lark, "__init__", no_building)
        loaded = parse._parser()
    assert trees(loaded) == trees(first) == trees(built)
    # An entry that cannot be read is a miss: the parser is built again, and the entry written anew.
    entry.write_text('{"data": {"dict": [["parser", 1]]}, "memo": []}', encoding="utf-8")
    parse._parser.cache_clear()
    assert trees(parse._parser()) == trees(built)
    assert cache.load_json("parsers", entry.stem) != {"data": {"dict": [["parser", 1]]}, "memo": []}
