"""Errors are catalogue keys and fields (derive/errors.py): every key derive raises is in every catalogue, with
the same fields, and an error reads in the language of the catalogue it is shown with."""
import re
import string

import pytest
import yaml

from conftest import ROOT
from derive.catalogue import read, template_root
from derive.errors import DeriveError
from derive.spec import load_text

CATALOGUES = {lang: yaml.safe_load((ROOT / "templates" / "i18n" / f"{lang}.yaml").read_text(encoding="utf-8"))
              for lang in ("en", "zh")}
SOURCE = "\n".join(path.read_text(encoding="utf-8") for path in (ROOT / "derive").rglob("*.py"))
KEYS = sorted(set(re.findall(r'"(error_[a-z_]+)"', SOURCE)))


def fields(message: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(message) if field}


def test_every_error_key_is_in_every_catalogue_with_the_same_fields():
    assert len(KEYS) > 50
    for key in KEYS:
        assert key in CATALOGUES["en"], key
        assert key in CATALOGUES["zh"], key
        assert fields(CATALOGUES["en"][key]) == fields(CATALOGUES["zh"][key]), key


@pytest.mark.parametrize("text", [
    "title: x\ninputs: [i1]\nlayers: []\nbogus: 1\n",
    "inputs: [i1]\nlayers:\n  - units: [o1]\n    activation: '1/(1+exp(-x)'\n    weights: [[0.1]]\n",
    "inputs: [i1]\nlayers:\n  - units: [o1]\n    activation: sigmoid\n    weights: [[zero]]\n",
])
def test_a_bad_spec_is_a_key_read_in_english_or_in_chinese(text):
    with pytest.raises(DeriveError) as caught:
        load_text(text)
    error = caught.value
    assert error.key.startswith("error_") and str(error) == (f"{error.where}: {error.message}" if error.where
                                                             else error.message)
    chinese = error.text(read(template_root(), "zh"))
    data = " ".join(str(value) for value in error.fields.values())
    english = [word for word in re.findall(r"[A-Za-z]{4,}", chinese) if word not in data and word not in str(error.where)]
    assert re.search(r"[\u4e00-\u9fff]", chinese) and not english, chinese
