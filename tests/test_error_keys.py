"""Errors are catalogue keys and fields: every key derive raises is in every catalogue, with the same fields,
the English text is the en catalogue's, and no English sentence is left in the raises of the converted modules."""
from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest
import sympy

from derive.catalogue import Messages, read, template_root
from derive.errors import DeriveError, FormulaError, Phrase, SpecError
from derive.formula import parse_formula
from derive.spec import load_text
from test_errors import GOOD as BASE  # the small network whose lines the messages below name

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "derive"
EN = read(template_root(), "en")
ZH = read(template_root(), "zh")
# The modules whose errors are all keys and fields.
CONVERTED = ["errors.py", "functions.py", "render/options.py", "__init__.py", "spec.py", "formula.py", "files.py", "handout.py", "numbers.py", "budget.py", "program.py",
             "render/pdf.py", "check/report.py", "cli.py"]
KEY = re.compile(r"""["'](error_[a-z0-9_]+)["']""")


def placeholders(message: str) -> set[str]:
    return {name.split(".")[0].split("[")[0] for _, name, _, _ in string.Formatter().parse(message) if name}


def used_keys() -> dict[str, set[Path]]:
    """Return every error_ key written in derive's source, with the files that write it."""
    keys: dict[str, set[Path]] = {}
    for path in PACKAGE.rglob("*.py"):
        for key in KEY.findall(path.read_text(encoding="utf-8")):
            keys.setdefault(key, set()).add(path)
    return keys


def literal_keys(node) -> list[str]:
    """Return the error_ keys an argument is: a literal, or either side of a conditional expression."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and re.fullmatch(r"error_[a-z0-9_]+", node.value):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return literal_keys(node.body) + literal_keys(node.orelse)
    return []


def keyed_calls():
    """Yield (file, line, key, keyword names) for every call whose first argument is an error_ key
    (SomeError(key, where, **fields), self.fail(key, node, field, **fields), Phrase(key, **fields), ...)."""
    for name in CONVERTED:
        path = PACKAGE / name
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and node.args and not any(k.arg is None for k in node.keywords):
                for key in literal_keys(node.args[0]):
                    yield name, node.lineno, key, {k.arg for k in node.keywords}


def test_the_catalogues_have_an_errors_section_with_the_same_keys_and_fields():
    en = {key for key in EN if key.startswith("error_")}
    zh = {key for key in ZH if key.startswith("error_")}
    assert en and en == zh, sorted(en ^ zh)
    assert [key for key in en if placeholders(EN[key]) != placeholders(ZH[key])] == []
    for key in en:
        assert isinstance(EN[key], str) and isinstance(ZH[key], str), key


def test_every_key_used_in_derive_is_in_both_catalogues():
    keys = used_keys()
    assert len(keys) > 50
    missing = {key: sorted(str(p.relative_to(ROOT)) for p in paths) for key, paths in keys.items()
               if key not in EN or key not in ZH}
    assert missing == {}


def test_every_catalogue_key_is_used():
    assert sorted(key for key in EN if key.startswith("error_") and key not in used_keys()) == []


def test_the_fields_given_are_the_fields_the_message_uses():
    calls = list(keyed_calls())
    assert len(calls) > 80
    wrong = [(name, line, key, sorted(given), sorted(placeholders(EN[key])))
             for name, line, key, given in calls if given != placeholders(EN[key])]
    assert wrong == []


def test_chinese_messages_use_chinese_punctuation():
    for key, message in ZH.items():
        if key.startswith("error_"):
            text = re.sub(r"\{[^{}]*\}|“[^”]*”|\"[^\"]*\"|`[^`]*`", "", message)  # quoted text is as typed
            assert not re.search(r"[\u4e00-\u9fff][,;:()?]|[,;:()?][\u4e00-\u9fff]", text), (key, message)


# --- real bad inputs -----------------------------------------------------------------------------------



def spec_error(old: str, new: str) -> SpecError:
    assert old in BASE
    with pytest.raises(SpecError) as caught:
        load_text(BASE.replace(old, new, 1), "net.yaml")
    return caught.value


def formula_error(text: str) -> FormulaError:
    with pytest.raises(FormulaError) as caught:
        parse_formula(text, {"x": sympy.Symbol("x")})
    return caught.value


CASES = [
    (lambda: spec_error("activation: sigmoid", "actvation: sigmoid"),
     "net.yaml, line 4, layers[1]: unknown key 'actvation' (did you mean 'activation'?)"),
    (lambda: spec_error("learning_rate: 0.5", "learning_rate: 0.5\nzzz: 1"),
     "net.yaml, line 18: unknown key 'zzz' (allowed: aliases, author, batch, batch_loss, description, inputs, layers, "
     "learning_rate, loss, optimizer, sample, samples, seed, source, title, update_biases)"),
    (lambda: spec_error("0.15", "abc"), "net.yaml, line 6, layers[1].weights[1][1].w1: expected a number, found 'abc'"),
    (lambda: spec_error("0.15", "[1]"),
     "net.yaml, line 6, layers[1].weights[1][1].w1: expected a number, found 'a list or mapping'"),
    (lambda: spec_error("0.15", "1e200"),
     "net.yaml, line 6, layers[1].weights[1][1].w1: '1e200' is beyond the range of numbers allowed (1e-12 to 1e12)"),
    (lambda: spec_error("[0.05, 0.10]", "[0.05]"), "net.yaml, line 15, sample.inputs: 1 values given for 2 inputs (i1, i2)"),
    (lambda: spec_error("i1, i2", "i1, i1"),
     "net.yaml, line 1, inputs[2]: duplicate name 'i1': it would name input i1 and input i1 (line 1)"),
    (lambda: spec_error("{w2: 0.20}", "{w1: 0.21}"),
     "net.yaml, line 6, layers[1].weights[1][2]: parameter 'w1' already has the value 3/20 "
     "(net.yaml, line 6, layers[1].weights[1][1])"),
    (lambda: spec_error("inputs: [i1, i2]", "inputs: [i1, i2"),
     "net.yaml, line 2: malformed YAML: expected ',' or ']', but got ':'"),
    (lambda: formula_error("x +* 2"), "unexpected '*' at position 4 in 'x +* 2'"),
    (lambda: formula_error("(x"), "expected ')', found 'end of formula' at position 3 in '(x'"),
    (lambda: formula_error("foo(x)"),
     "unknown function 'foo' at position 1 in 'foo(x)' (known functions: abs, arctan, atan, cos, cosh, erf, exp, "
     "ln, log, max, min, sech, sigmoid, sign, sin, sinh, sqrt, tanh)"),
    (lambda: formula_error("x^1000"), "exponent larger than 100 at position 7 in 'x^1000'"),
]


NAMES = {"YAML"}  # names of things, the same in every language


def field_values(value) -> list[str]:
    """Return the text of a field's value, and of the fields of a Phrase within it."""
    if isinstance(value, Phrase):
        return [text for field in value.fields.values() for text in field_values(field)]
    return [str(value)]


def test_load_text_sample_is_a_spec_error_with_a_key():
    error = spec_error("activation: sigmoid", "actvation: sigmoid")
    assert error.key == "error_unknown_key" and error.fields["name"] == "actvation"
    assert error.fields["suggestion"].key == "error_did_you_mean"


@pytest.mark.parametrize("make, english", CASES)
def test_errors_are_keys_with_english_and_chinese_text(make, english):
    error = make()
    assert isinstance(error, DeriveError) and error.key.startswith("error_"), repr(error.key)
    assert str(error) == english
    assert error.text(Messages(template_root(), "en")) == english == error.text(EN)
    assert str(error) == (f"{error.where}: {error.message}" if error.where else error.message)
    zh = error.text(Messages(template_root(), "zh"))
    assert zh == error.text(ZH) and zh != english
    assert ": " not in zh.replace("malformed YAML: ", "").replace(str(error.fields.get("problem")), "")
    data = " ".join(text for value in [*error.fields.values(), error.where] if value is not None
                    for text in field_values(value))
    data_words = set(re.findall(r"[A-Za-z]+", data))
    english_words = [word for word in re.findall(r"[A-Za-z]{4,}", zh) if word not in data_words | NAMES]
    assert english_words == [], zh


def test_an_error_survives_pickling():
    import pickle
    error = spec_error("0.15", "abc")
    back = pickle.loads(pickle.dumps(error))
    assert type(back) is SpecError and str(back) == str(error) and back.key == error.key


def test_a_catalogue_missing_a_key_falls_back_to_english():
    error = formula_error("x +* 2")
    assert error.text({}) == str(error)


# --- no English left in the raises ---------------------------------------------------------------------

PROSE = re.compile(r"""(?:Error|fail|Exception)\(\s*f?["'][A-Za-z -]{12,}""")
FORMATTED = re.compile(r"""(?:Error|fail|Exception)\(\s*f["']""")


@pytest.mark.parametrize("name", CONVERTED)
def test_no_english_sentence_in_the_raises(name):
    source = (PACKAGE / name).read_text(encoding="utf-8")
    derive_errors = [line for line in source.splitlines()
                     if (PROSE.search(line) or FORMATTED.search(line))
                     and not re.search(r"\b(ValueError|TypeError|AttributeError)\(", line)]  # a caller's bug
    assert derive_errors == []


# --- the command line says it in --lang ----------------------------------------------------------------

def test_the_command_line_writes_an_error_in_the_language_asked_for(tmp_path):
    from click.testing import CliRunner
    from derive.cli import cli
    bad = tmp_path / "net.yaml"
    bad.write_text(BASE.replace("activation: sigmoid", "activation: softsign"), encoding="utf-8")
    runner = CliRunner()
    english = runner.invoke(cli, ["run", str(bad)])
    chinese = runner.invoke(cli, ["run", str(bad), "--lang", "zh"])
    unknown = runner.invoke(cli, ["run", str(bad), "--lang", "xx"])
    assert english.exit_code == chinese.exit_code == unknown.exit_code == 2
    assert english.output.startswith("error: ") and "unknown activation 'softsign'" in english.output
    assert chinese.output.startswith("错误：") and "未知的激活函数 'softsign'" in chinese.output
    assert not re.search(r"[A-Za-z]{4,}", chinese.output.replace(str(bad), "").split("：", 2)[-1].split("'softsign'")[0])
    assert unknown.output == english.output  # a language that cannot be read: English
    assert "'xx'" in runner.invoke(cli, ["run", "classic", "--lang", "xx"]).output
