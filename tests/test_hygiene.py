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
    """Text is never evaluated: no eval, sympify, parse_expr or yaml.load anywhere; code is compiled in one place
    only, derive/safecode.py, after it has checked the code derive/program.py generates from derive's own
    SymPy trees (see the tests of what that code may contain below, and tests/test_train_cache.py for code
    read back from the cache)."""
    for path, text in _sources().items():
        for pattern in (r"\beval\(", r"sympify\(", r"parse_expr\(", r"yaml\.load\(", r"lambdify\("):
            assert not re.search(pattern, text), (path, pattern)
        if path != ROOT / "derive" / "safecode.py":
            assert not re.search(r"\bexec\(|(?<![.\w])(?<!def )compile\(", text), path


# Names a compiled program may contain: its own variables, Python keywords and builtins, and math's functions.
_ALLOWED = re.compile(r"v\d+|f\d+|def|return|if|else|and|or|not|program|math|max|min|abs|float|True|False|"
                      r"exp|log|sqrt|tanh|sinh|cosh|sin|cos|atan|erf|copysign|pi|e|inf")

HOSTILE_NAMES = """
inputs: [import_, os]
layers:
  - units: [system, exec_]
    activation: "x/(1+abs(x))"
    weights: [[open, 0.2], [0.3, 0.4]]
    bias: [0.1, 0.1]
  - units: [globals_]
    activation: sigmoid
    weights: [[-0.5, breakpoint]]
loss: bce
sample: {inputs: [0.5, -0.25], targets: [1]}
learning_rate: 0.5
"""


def test_compiled_code_holds_no_name_a_user_typed(tmp_path):
    import io
    import tokenize
    spec = tmp_path / "hostile.yaml"
    spec.write_text(HOSTILE_NAMES.replace("open", "0.7").replace("breakpoint", "0.6"))
    from derive import program
    from derive.spec import load
    for source in (load(spec), derive.example("softmax"), derive.example("classic")):
        derivation = derive.derive(source)
        sources = [derivation.program.compile().source]
        sources += [each.source for each in program.compile_each(derivation.program)]  # the float screen's
        for source in sources:
            names = {token.string for token in tokenize.generate_tokens(io.StringIO(source).readline)
                     if token.type == tokenize.NAME}
            assert names and all(_ALLOWED.fullmatch(name) for name in names), names - {
                n for n in names if _ALLOWED.fullmatch(n)}


def test_no_formula_is_written_by_hand_in_the_templates():
    """Every formula in the documents comes from SymPy objects (the δ rule, the loss as a sum included):
    the templates hold no mathematics of their own beyond the preamble's Unicode-to-LaTeX table."""
    for path, text in _sources().items():
        if "templates" not in path.parts or path.suffix not in (".j2",) or path.name == "preamble.tex.j2":
            continue
        for pattern in (r"\\\\?sum", r"\\\\?partial", r"\\\\?delta", r"\\\\?frac", "Σ", "∂", "δ", r"\bw_\{?kj"):
            assert not re.search(pattern, text), (path, pattern)


ENGINE = ("spec", "network", "derivation", "calculus", "program", "quantities", "functions", "formula", "numbers",
          "verify", "budget", "errors", "graph", "train")
VIEWS = ("render", "export", "handout", "notation", "api", "cli", "files")


def _imports(path):
    """Return the derive modules a module imports (at any depth, lazily inside functions too)."""
    import ast
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = path.parent.relative_to(ROOT).parts  # ('derive',) or ('derive', 'check')
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package[:len(package) - node.level + 1]
            target = [*base, *(node.module.split(".") if node.module else [])]
            names = [target + [alias.name] for alias in node.names] if not node.module else [target]
            found.update(".".join(name[1:]) for name in names)
        elif isinstance(node, ast.Import):
            found.update(alias.name.removeprefix("derive.") for alias in node.names if alias.name.startswith("derive"))
    return found


def test_dependencies_run_one_way():
    """The engine imports no view and not the checker; the checker imports no document code."""
    for name in ENGINE:
        imported = _imports(ROOT / "derive" / f"{name}.py")
        wrong = {m for m in imported if m.split(".")[0] in VIEWS + ("check",)}
        assert not wrong, (name, wrong)
    for path in (ROOT / "derive" / "check").glob("*.py"):
        imported = _imports(path)
        wrong = {m for m in imported if m.split(".")[0] in VIEWS}
        assert not wrong, (path.name, wrong)
    assert "render" in _imports(ROOT / "derive" / "api.py")  # the check sees lazy imports


def test_the_checker_compiles_no_claim(monkeypatch):
    """The float screen compiles the derivation's program and the mistakes' definitions (derive's own trees);
    a claim is only walked (derive/treeval.py), never compiled: no number a student wrote reaches the compiler."""
    import sympy
    import derive
    from derive import program
    from derive.check import Judge
    compiled = []
    real_program, real_each = program.compile_program, program.compile_each

    def recording(real):
        def record(definitions, *arguments):
            definitions = list(definitions)
            compiled.extend(expression for _, expression in definitions)
            return real(definitions, *arguments)
        return record

    monkeypatch.setattr(program, "compile_program", recording(real_program))
    monkeypatch.setattr(program, "compile_each", recording(real_each))
    judge = Judge(derive.derive(derive.example("classic")))
    for claim in ("w5_new = 0.3141592653", "delta_o1 = (out_o1 - t_o1)*0.2718281828", "E_new = 0.291027924"):
        judge.judge(claim)
    assert compiled  # the mistakes were screened in floats
    written = {sympy.Rational("0.3141592653"), sympy.Rational("0.2718281828")}
    assert not any(expression.has(number) for expression in compiled for number in written)
