"""Rules of the codebase: no figure of an example in the engine or templates; no eval of text."""
import json
import re

from conftest import ROOT, REFERENCE

import derive


def _computed_figures():
    figures = set()
    for name in derive.examples.names():
        data = derive.derive(derive.example(name)).to_data()
        for group in ("delta", "gradient", "updated", "loss_terms"):
            figures.update(data[group].values())
        figures.update(v for pair in data["forward"].values() for v in pair.values())
        figures.update((data["loss"], data["loss_after_update"]))
    if REFERENCE.exists():
        figures.update(v for v in json.loads(REFERENCE.read_text())["gradient"].values())
    # six significant digits are enough to recognise a figure; short ones (0.5) are too common to judge
    return {f"{abs(v):.6g}" for v in figures if len(f"{abs(v):.6g}".replace("0.", "").lstrip("0")) >= 5}


def _sources():
    files = [p for p in (ROOT / "derive").rglob("*.py")] + [p for p in (ROOT / "templates").rglob("*") if p.is_file()]
    return {p: p.read_text(encoding="utf-8") for p in files if "__pycache__" not in p.parts}


def test_no_computed_figure_in_engine_or_templates():
    figures = _computed_figures()
    assert len(figures) > 50
    for path, text in _sources().items():
        numbers = set(re.findall(r"\d*\.\d+", text))
        leaked = {n for n in numbers for f in figures if n.startswith(f) and len(n) >= len(f)}
        assert not leaked, (path, leaked)


def test_no_eval_of_text():
    for path, text in _sources().items():
        for pattern in (r"\beval\(", r"\bexec\(", r"sympify\(", r"parse_expr\(", r"lambdify\(", r"yaml\.load\("):
            assert not re.search(pattern, text), (path, pattern)
