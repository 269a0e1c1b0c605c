"""Every word of a check report comes from the message catalogue of the report's language.

The truth here is independent of the code: a made-up language `xx` whose every
message is a marker (⟦key⟧ and one ⟪field⟫ per placeholder), written by this
test from en.yaml. A report in xx over a corpus that reaches every message
path may then hold markers, the claims as typed, the formulas and numbers
derive prints, and names: no English word at all.
"""
import ast
import json
import re
import string

import pytest
import yaml
from click.testing import CliRunner

import derive
from derive.check import mark
from derive.check.judge import Policy
from derive.check.report import mark_derivations
from derive.check.messages import KEYS
from derive.check.mistakes import variants
from derive.cli import cli
from derive.render import md_text, one_line
from derive.render.report import render_report
from conftest import ROOT

CATALOGUES = ROOT / "templates" / "i18n"
BIG = "1234567890" * 33

CLASSIC_CLAIMS = [
    # unreadable
    "w5_new = w5 - eta *", "out_h1 = gamma * 2", "dE/dfoo = 1", "∂delta_o1/∂w5 = 1", "∂e/∂w5 = 1", "a_1' = 1",
    "out_h1 = (0.59", "out_h1 = 0.59)", "out_h1 == 0.59", "out_h1 = 0.59 @ 2", r"out_h1 = \input{x}",
    "delta_h1_new = 0.5", "", "0.5 = out_h1", "dE/dw5 = ∂out_h1 + 1", "out_h1 = 1/0", "w5_new = (w5 + 1)⁺",
    "out_h1 = sigmoid(net_h1, net_h2)", "out_h1 = exp(1, 2)", "delta_o1 = exp'(net_o1)",
    # too large: undecided
    "out_h1 = 1e999", "out_h1 = net_h1^100", f"out_h1 = {BIG}^64", "out_h1 = " + "sigmoid(" * 70 + "1" + ")" * 70,
    "out_h1 = exp(2000)", "out_h1 = " + "1+" * 2100 + "1",
    # correct, by number and by formula
    "out_h1 = 0.5933", "delta_o1 = (out_o1 - target_o1) * out_o1 * (1 - out_o1)",
    # incorrect: no real value, no mistake found, and each classic mistake
    "out_h1 = sqrt(-1)", "out_h1 = sqrt(-net_h1)", "out_h1 = 0.5932", "delta_o1 = 0.2",
    "E_new = 0.291027924",
    "delta_o1 = out_o1 - target_o1",
    "delta_o1 = (target_o1 - out_o1)*out_o1*(1 - out_o1)",
    "dE/dw5 = delta_o1 * net_h1",
    "delta_h1 = (delta_o1*w5 + delta_o2*w7) * net_h1*(1 - net_h1)",
    "delta_h1 = (delta_o1*w5 + delta_o2*w6) * out_h1*(1 - out_h1)",
    "delta_h1 = delta_o1*w5 * out_h1*(1 - out_h1)",
    "E = (t_o1 - out_o1)^2 + (t_o2 - out_o2)^2",
    "E = 1/4*(t_o1 - out_o1)^2 + 1/4*(t_o2 - out_o2)^2",
    "w5_new = w5 + eta*dE/dw5",
    "w1_new = w1 - dE/dw1",
    "dE/db2 = delta_o1",
    "delta_o1 = (out_o1 - t_o1)*(1 - out_o1^2)",
    "delta_o1 = -t_o1*(1 - out_o1)",
    "w6_new = w7 - eta*dE/dw6",
    # carried forward: a wrong out_h1, then a net that follows from it
    "out_h1 = 0.7", "net_o1 = 1.148598",
]
SOFTMAX_CLAIMS = ["delta_o1 = (out_o1 - t_o1) f'(net_o1)", "delta_h1 = f'(0.5)", "∂out_o1/∂net_o1 = 1",
                  "delta_o1 = -t_o1*(1 - out_o1)",
                  "out_h1 = 0.5"]
# A whole derivation: chains with every kind of link, a slip, carried values, prose, a name of one's own.
DERIVATION = """# Work
- net_h1 = w1*i1 + w2*i2 + b1 = 0.15*0.05 + 0.2*0.1 + 0.35 = 0.3875
- $out_{o1} = 0.76$
$$\\delta_{o1} = (out_{o1} - t_{o1}) out_{o1} (1 - out_{o1}) = (0.76 - 0.01) \\cdot 0.76 \\cdot 0.24 = 0.1368$$
Let g be the gradient:
g = delta_o1*out_h1
w5_new = w5 - eta*g = 0.4 - 0.5*0.08116 = 0.3594
net_h1 = 0.15*i1 + 0.2*i2 + 0.35
E = Σ ½(t - o)² = ½(0.01 - 0.7514)² + ½(0.99 - 0.7729)² = 0.2984
The sum = what we wanted.
"""
# Keys no claim reaches through a report: a claim with too many numbers to trace is held to the working
# precision instead; RecursionError and a parse error without a token are guards; no class names more than
# MAX_EXTENDED derivatives along the graph (test_graph reaches that limit); every quantity the claim language
# names is computed or valued along the graph (a softmax unit's ∂out/∂net too), so "not computed" is a guard;
# derive failing on a line is a guard too (test_check_hostile makes it fail on purpose).
UNREACHED = {"claim_too_many_numbers", "claim_too_deep_to_judge", "claim_unexpected_input",
             "claim_too_many_derivatives", "claim_not_computed", "judge_internal_error"}
MISTAKES = {"derivative_left_out", "sign_flipped", "net_for_out", "out_for_net", "transposed_weights",
            "sum_left_out", "half_dropped", "half_doubled", "update_added", "learning_rate_left_out",
            "updated_weights_in_hidden_delta", "shared_not_summed", "wrong_activation_derivative",
            "wrong_loss_derivative", "jacobian_diagonal_only", "swapped_weight"}
SLIPS = {"truncated", "last_digit", "arithmetic_slip"}  # named from a number and the side before it, not from a variant


def catalogue(lang):
    return yaml.safe_load((CATALOGUES / f"{lang}.yaml").read_text(encoding="utf-8"))


def marker(key, text):
    """Return the made-up language's message for `key`: ⟦key⟧ and each placeholder of `text` as ⟪{field}⟫."""
    fields = [field for _, field, _, _ in string.Formatter().parse(text) if field is not None]
    return f"⟦{key}⟧" + "".join("⟪{" + field + "}⟫" for field in fields)


@pytest.fixture(scope="module")
def xx_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("templates")
    (root / "i18n").mkdir()
    messages = {key: marker(key, text) for key, text in catalogue("en").items()}
    (root / "i18n" / "xx.yaml").write_text(yaml.safe_dump(messages, allow_unicode=True), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def reports():
    """The corpus marked on two networks, grouped by student, with --carry-forward."""
    classic = mark(derive.derive(derive.example("classic")), {"s01": CLASSIC_CLAIMS, "s02": CLASSIC_CLAIMS[:2]},
                   carry_forward=True)
    softmax = mark(derive.derive(derive.example("softmax")), {None: SOFTMAX_CLAIMS})
    classic_derivation = derive.derive(derive.example("classic"))
    document = mark_derivations(classic_derivation, {"s03": DERIVATION}, kind="md")
    strict = mark_derivations(classic_derivation, {"s04": DERIVATION}, kind="md", policy=Policy(min_digits=3))
    return [classic, softmax, document, strict]


def typed_and_printed(data):
    """Return every text of a JSON report that is not prose: claims and ids as typed, formulas, numbers."""
    texts = set()
    for claim in data.get("claims", data.get("lines")):
        for field in ("claim", "student", "quantity", "read_as", "read_as_latex", "expected", "expected_latex",
                      "expected_value_text"):
            if claim[field]:
                texts.add(str(claim[field]))
        for link in claim["links"]:  # each link's text as typed, and what it should be
            texts |= {str(link[field]) for field in ("text", "expected", "expected_latex", "expected_value_text",
                                                     "value_text", "mark") if link[field]}
        for diagnosis in [claim["diagnosis"]] + [link["diagnosis"] for link in claim["links"]]:
            if diagnosis:  # its value, and its details: names of things (tanh, w7) and numbers
                texts.add(diagnosis["value_text"])
                texts |= {f"⟪{value}⟫" for value in diagnosis["details"].values()}
        # A field that is part of the claim as typed (an unknown name, a character, a function) is data.
        for fields in (claim["message_fields"], claim["hint_fields"]):
            texts |= {f"⟪{value}⟫" for value in (fields or {}).values() if str(value).strip("'") in claim["claim"]}
        texts |= {str(side) for side in claim.get("left_out", [])}  # sides as typed that were not read
    texts |= {str(student) for student in data.get("students", {})}
    return texts | {one_line(text) for text in texts} | {md_text(text) for text in texts}


ALLOWED_WORDS = {"eta"}  # the claim language's name of η, in the list of names a hint gives


def english_words(text, typed):
    """Return the ASCII words of 3+ letters left in `text` once the `typed` texts, the markers, names
    (letters with digits or underscores: w5, net_h1, out\\_o1), LaTeX commands and the claim-language
    words of ALLOWED_WORDS are taken out."""
    for item in sorted(typed, key=len, reverse=True):
        text = text.replace(item, " ")
    text = re.sub(r"⟦[a-z0-9]+(?:\\?_[a-z0-9]+)*⟧", " ", text).replace("⟪", " ").replace("⟫", " ")
    text = re.sub(r"\\[A-Za-z]+", " ", text)
    text = re.sub(r"[A-Za-z][A-Za-z0-9]*(?:\\?_[A-Za-z0-9]+)+|[A-Za-z]*\d[A-Za-z0-9]*", " ", text)
    return sorted({word for word in re.findall(r"[A-Za-z]{3,}", text) if word not in ALLOWED_WORDS})


def json_prose(data):
    """Return the prose of a JSON report: what it says about each claim (its keys and values are data)."""
    for claim in data.get("claims", data.get("lines")):
        for field in ("message", "hint", "method_detail", "link_detail"):
            if claim[field]:
                yield claim[field]
        if claim["diagnosis"]:
            yield claim["diagnosis"]["explanation"]


def test_the_corpus_reaches_every_message(reports):
    used, mistakes = set(), set()
    for report in reports:
        for verdict in report.verdicts:
            used |= {m.key for m in (verdict.message, verdict.hint) if m is not None}
            if verdict.diagnosis:
                mistakes.add(verdict.diagnosis.mistake)
    assert used | UNREACHED == KEYS, sorted(KEYS - used - UNREACHED)
    assert mistakes == MISTAKES
    verdicts = {(v.verdict, v.consistent) for report in reports for v in report.verdicts}
    assert verdicts == {("correct", False), ("incorrect", False), ("incorrect", True), ("undecided", False),
                        ("unreadable", False), ("skipped", False), ("defined", False)}
    links = {link.verdict for report in reports for v in report.verdicts for link in v.links}
    assert links == {"correct", "incorrect", "follows", "consistent"}


@pytest.mark.parametrize("format_", ["text", "md", "json"])
def test_a_made_up_language_leaves_no_english(format_, reports, xx_dir):
    for report in reports:
        data = json.loads(render_report(report, "json", lang="xx", template_dir=xx_dir))
        document = render_report(report, format_, lang="xx", template_dir=xx_dir)
        assert re.search(r"⟦(claim\\?_ends\\?_early|claim\\?_softmax\\?_derivative|link\\?_first\\?_wrong)⟧", document)
        typed = typed_and_printed(data)
        prose = "\n".join(json_prose(data)) if format_ == "json" else document
        assert english_words(prose, typed) == []
    # A side left out of a chain is said so in the made-up language too (and shown as typed).
    document = render_report(reports[2], format_, lang="xx", template_dir=xx_dir)
    assert "check_left_out" in document.replace("\\_", "_") or format_ == "json"


def test_the_english_detector_finds_english(reports, xx_dir):
    """The assertion above can fail: the same reports in English are full of English words, and one
    English sentence put into the made-up language is found."""
    report = reports[0]
    data = json.loads(render_report(report, "json"))
    for format_ in ("text", "md"):
        found = english_words(render_report(report, format_), typed_and_printed(data))
        assert {"unknown", "name", "Hint", "claim", "early"} <= set(found), found
    assert {"unknown", "name"} <= set(english_words("\n".join(json_prose(data)), typed_and_printed(data)))
    xx = render_report(report, "text", lang="xx", template_dir=xx_dir)
    typed = typed_and_printed(json.loads(render_report(report, "json", lang="xx", template_dir=xx_dir)))
    assert english_words(xx, typed) == []
    assert english_words(xx + "\nthe claim ends too early", typed) == ["claim", "early", "ends",
                                                                                         "the", "too"]


def test_every_key_the_checker_uses_is_in_every_catalogue():
    catalogues = {path.stem: catalogue(path.stem) for path in CATALOGUES.glob("*.yaml")}
    assert {"en", "zh"} <= set(catalogues)
    # The keys of Messages, as the code writes them: every literal first argument of Message(...),
    # ClaimError(...) and ClaimTooLarge(...) in derive/check, and the registry itself.
    written = set()
    for path in (ROOT / "derive" / "check").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("Message", "ClaimError",
                                                                                 "ClaimTooLarge"):
                if isinstance(node.args[0], ast.Name) and node.args[0].id == "key":
                    continue  # ClaimError passing its own key on to Message
                keys = _keys(node.args[0]) if node.args else []
                assert keys and all(isinstance(key, str) for key in keys), (path.name, ast.unparse(node))
                written.update(keys)
    assert written - KEYS == set()
    assert written == KEYS
    # The keys the report renderer and its templates use: the strings given to _(...) (or chosen for it
    # as `key`), and the families built from data (verdict_<verdict>, mistake_<name>).
    literal = set()
    for node in ast.walk(ast.parse((ROOT / "derive" / "render" / "report.py").read_text(encoding="utf-8"))):
        called = isinstance(node, ast.Call) and (getattr(node.func, "id", None) == "_" or
                                                 getattr(node.func, "attr", None) == "_")
        chosen = isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == ["key"]
        if called or chosen:  # _(f"mistake_{...}") is a family, below
            literal |= {key for key in _keys(node.args[0] if called else node.value) if key is not None}
    for name in ("text/check.txt.j2", "md/check.md.j2"):
        template = (ROOT / "templates" / name).read_text(encoding="utf-8")
        literal |= set(re.findall(r"""_\(\s*"([a-z_]+)"\s*[,)]""", template))
    assert {"check_label", "check_at_position", "method_numeric_differs_elsewhere", "method_number"} <= literal
    names = {variant.mistake for name in derive.examples.names() for variant in variants(derive.derive(
        derive.example(name)))}
    assert names == MISTAKES
    families = {f"verdict_{verdict}" for verdict in ("correct", "incorrect", "undecided", "unreadable")}
    families |= {f"mistake_{name}" for name in names | SLIPS}
    families |= {f"verdict_{verdict}" for verdict in ("skipped", "defined")}
    for lang, messages in catalogues.items():
        assert KEYS | literal | families <= set(messages), (lang, sorted((KEYS | literal | families) - set(messages)))


def _keys(node):
    """Return the strings an argument can be: a literal, or either branch of `a if test else b`."""
    if isinstance(node, ast.Constant):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _keys(node.body) + _keys(node.orelse)
    return [None]


def test_the_checker_writes_no_english_sentence():
    """The modules whose words reach a report hold no sentence: only keys, names and claim syntax
    (docstrings, and the messages of programming errors, are for the reader of the code)."""
    sentence = re.compile(r"[A-Za-z]{2,}(?: [A-Za-z']{2,}){2,}")
    for name in ("parse", "vocabulary", "judge", "mistakes", "messages"):
        tree = ast.parse((ROOT / "derive" / "check" / f"{name}.py").read_text(encoding="utf-8"))
        skipped = set()
        for node in ast.walk(tree):
            body = getattr(node, "body", None)
            if isinstance(body, list) and body and isinstance(body[0], ast.Expr) and \
                    isinstance(body[0].value, ast.Constant):
                skipped.add(id(body[0].value))  # a docstring
            if isinstance(node, (ast.Raise, ast.Assert)) and not _raises_claim_error(node):
                skipped |= {id(inner) for inner in ast.walk(node)}
        prose = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)
                 and id(n) not in skipped and sentence.search(n.value)]
        assert prose == [], name


def _raises_claim_error(node):
    return isinstance(node, ast.Raise) and any(getattr(n, "id", None) in ("ClaimError", "ClaimTooLarge")
                                               for n in ast.walk(node))


@pytest.mark.parametrize("format_", ["text", "md", "json"])
def test_chinese_report_of_an_unfinished_claim_has_no_english(format_):
    result = CliRunner().invoke(cli, ["check", "classic", "--lang", "zh", "--format", format_,
                                      "--claim", "w5_new = w5 - eta *"])
    assert result.exit_code == 1, result.output
    output = result.output
    assert "提前结束" in output and (format_ == "json" or "提示" in output)
    typed = {"w5_new = w5 - eta *", md_text("w5_new = w5 - eta *")}
    prose = "\n".join(json_prose(json.loads(output))) if format_ == "json" else output
    assert english_words(prose, typed) == []
    english = " ".join(catalogue("en")[key] for key in ("claim_ends_early", "hint_ends_early", "hint"))
    assert [word for word in re.findall(r"[A-Za-z]{3,}", english) if re.search(rf"\b{word}\b", prose)] == []


def test_a_report_in_a_format_it_has_not_is_an_error_that_names_the_formats():
    from derive.errors import RenderError
    from derive.render.report import render_report
    report = mark(derive.derive(derive.example("classic")), {None: ["E = 0.3"]})
    with pytest.raises(RenderError) as raised:
        render_report(report, "html")
    assert raised.value.key == "error_unknown_format" and "text, md, json" in str(raised.value)
