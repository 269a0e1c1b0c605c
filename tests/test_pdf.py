"""PDF documents fit to hand out, read back from the PDF itself (pdftotext, page by page).

No page starts inside a derivation (a line "= …" without its left-hand side
above it on that page); a table that continues on a page repeats its header
there; the classic derivation, its sheet and key take few pages; the sheet
leaves working space under every question; TeX lacking a file gives one
line naming it and its Debian package; PDFs built in parallel are byte for
byte those built one by one.

TeX is slow: the PDFs are built once per module and shared by the tests.
"""
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from derive.cli import cli
from derive.errors import RenderError
from derive.render import pdf, template_root
from conftest import require_tex, require_tool

ASK = "delta,gradient,update,E_new"
CM = 72 / 2.54  # PDF points per centimetre
LANGS = ("en", "zh")


def invoke(*arguments):
    return CliRunner().invoke(cli, [str(a) for a in arguments])


def need_tex(lang: str) -> None:
    require_tex(pdf.engine_for(lang), pdf.required_files(lang))
    require_tool("pdftotext")


def pages(document: Path) -> list[str]:
    """Return the text of each page of a PDF, laid out (pdftotext -layout -f N -l N)."""
    info = subprocess.run(["pdfinfo", str(document)], capture_output=True, text=True, check=True).stdout
    count = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    return [subprocess.run(["pdftotext", "-layout", "-f", str(n), "-l", str(n), str(document), "-"],
                           capture_output=True, text=True, check=True).stdout for n in range(1, count + 1)]


def lines(page: str) -> list[str]:
    return [line.strip() for line in page.splitlines() if line.strip()]


def messages(lang: str) -> dict:
    return yaml.safe_load((template_root() / "i18n" / f"{lang}.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The classic derivation (en), and the classic handout (sheet and key) in both languages, as PDFs and TeX."""
    for lang in LANGS:
        need_tex(lang)
    root = tmp_path_factory.mktemp("pdf")
    result = invoke("run", "classic", "-o", root / "classic.pdf")
    assert result.exit_code == 0, result.output
    documents = {"classic": root / "classic.pdf"}
    for lang in LANGS:
        for format_ in ("pdf", "tex"):
            result = invoke("handout", "classic", "--ask", ASK, "--lang", lang, "-f", format_, "-o", root / lang / format_)
            assert result.exit_code == 0, result.output
        for kind in ("sheet", "key"):
            documents[f"{kind}-{lang}"] = root / lang / "pdf" / f"{kind}.pdf"
            documents[f"{kind}-{lang}.tex"] = root / lang / "tex" / f"{kind}.tex"
    return documents


@pytest.fixture(scope="module")
def wide_sheet(tmp_path_factory):
    """The sheet of a network with 128 weights into its hidden layer: its table of given values needs two pages."""
    need_tex("en")
    root = tmp_path_factory.mktemp("wide")
    inputs, hidden = 16, 8
    spec = {"inputs": [f"x{i}" for i in range(1, inputs + 1)],
            "layers": [{"units": [f"h{j}" for j in range(1, hidden + 1)], "activation": "sigmoid",
                        "weights": [[round(0.01 * ((i * 7 + j * 3) % 37) - 0.15, 2) or 0.01 for i in range(inputs)]
                                    for j in range(hidden)], "bias": {"b1": 0.1}},
                       {"units": ["o1"], "activation": "sigmoid", "weights": [[0.1 * (j + 1) for j in range(hidden)]]}],
            "loss": "half_sse", "sample": {"inputs": [0.1] * inputs, "targets": [0.5]}, "learning_rate": 0.5}
    (root / "wide.yaml").write_text(yaml.safe_dump(spec))
    result = invoke("handout", root / "wide.yaml", "--ask", "delta_h1", "-f", "tex", "-o", root)
    assert result.exit_code == 0, result.output
    (root / "sheet.pdf").write_bytes(pdf.compile_document((root / "sheet.tex").read_text(encoding="utf-8")))
    return root / "sheet.pdf"


# --- page breaks -----------------------------------------------------------------------------------------------

def first_continuation_without_its_left_side(page: str) -> str | None:
    """Return the first line of a page that starts with "=" (a line of a derivation) when no line above it on
    that page has text left of that "=" (the left-hand side it continues, or a fraction of it), else None."""
    seen = []
    for line in (line.rstrip() for line in page.splitlines() if line.strip()):
        column = len(line) - len(line.lstrip())
        if line.lstrip().startswith("="):
            return None if any(start < column for start in seen) else line.strip()
        seen.append(column)
    return None


@pytest.mark.parametrize("name", ["classic", "key-en", "key-zh", "sheet-en", "sheet-zh"])
def test_no_page_starts_inside_a_derivation(built, name):
    for number, page in enumerate(pages(built[name]), start=1):
        assert lines(page), f"page {number} of {name} is empty"
        assert not lines(page)[0].startswith("="), f"page {number} of {name} starts with {lines(page)[0]!r}"
        orphan = first_continuation_without_its_left_side(page)
        assert orphan is None, f"page {number} of {name} continues a derivation without its left side: {orphan!r}"


def table_rows(page: str) -> list[int]:
    """Return the indices of the lines of a page that are rows of a table of quantities: a name (an input,
    target, weight, bias, unit output or the loss), then after a gap of columns a number."""
    row = re.compile(r"^(?:[wbxi]\S*|target\S*|out\S*|E\S*|η.*)\s{2,}[−-]?\d")
    return [index for index, line in enumerate(lines(page)) if row.match(line)]


@pytest.mark.parametrize("name", ["classic", "key-en", "sheet-en", "wide"])
def test_a_table_repeats_its_header_on_every_page(built, wide_sheet, name):
    document = wide_sheet if name == "wide" else built[name]
    header = messages("en")["quantity"]
    continued = 0
    for number, page in enumerate(pages(document), start=1):
        rows = table_rows(page)
        if not rows:
            continue
        above = lines(page)[:rows[0]]
        assert any(line.startswith(header) for line in above), \
            f"page {number} of {name} has table rows without their header: {lines(page)[rows[0]]!r}"
        continued += 1
    assert continued >= (2 if name == "wide" else 1)


def test_the_wide_table_really_splits(wide_sheet):
    split = [number for number, page in enumerate(pages(wide_sheet), start=1) if table_rows(page)]
    assert len(split) >= 2 and split == list(range(split[0], split[0] + len(split)))  # on consecutive pages


# --- density and space for working -------------------------------------------------------------------------------

PAGE_LIMITS = {"classic": 5, "key-en": 6, "key-zh": 6, "sheet-en": 5, "sheet-zh": 5}  # were 9, 10, 11, 3, 3


@pytest.mark.parametrize("name", sorted(PAGE_LIMITS))
def test_documents_are_short(built, name):
    assert len(pages(built[name])) <= PAGE_LIMITS[name]


def words(document: Path) -> list[list[tuple[float, float, str]]]:
    """Return the words of each page of a PDF as (x, y, text), from pdftotext -bbox."""
    html = subprocess.run(["pdftotext", "-bbox", str(document), "-"], capture_output=True, text=True,
                          check=True).stdout
    result = []
    for page in html.split("<page ")[1:]:
        result.append([(float(x), float(y), text) for x, y, text in
                       re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)"[^>]*>([^<]*)</word>', page)])
    return result


@pytest.mark.parametrize("lang", LANGS)
def test_every_question_has_room_for_working_on_its_page(built, lang):
    count = sum(1 for _ in re.finditer(r"\\item ", built[f"sheet-{lang}.tex"].read_text(encoding="utf-8")))
    seen = 0
    heading = messages(lang)["questions"]
    for page in words(built[f"sheet-{lang}"]):
        top = max([y for _, y, text in page if text == heading], default=0)
        page = [(x, y, text) for x, y, text in page if y > top]  # the questions, not the given values above them
        labels = [y for x, y, text in page if re.fullmatch(r"\d+\.", text) and x < 100]
        answers = [y for x, y, text in page if text == "=" and x > 300]  # the answer line, right of the working space
        assert len(labels) == len(answers)  # a question, its space and its answer line share a page
        for label, answer in zip(labels, answers):
            assert answer - label >= 2.5 * CM - 12  # 2.5 cm of blank space between them (the default --space)
        seen += len(labels)
    assert seen == count > 10


def test_space_sets_the_room_and_zero_leaves_none(tmp_path):
    assert invoke("handout", "classic", "-f", "tex", "-o", tmp_path / "a", "--space", "4.5").exit_code == 0
    assert invoke("handout", "classic", "-f", "tex", "-o", tmp_path / "b", "--space", "0").exit_code == 0
    roomy, tight = ((tmp_path / d / "sheet.tex").read_text() for d in "ab")
    assert roomy.count(r"\vspace*{4.5cm}") == roomy.count(r"\item ") > 0
    assert r"\vspace*" not in tight and tight.count(r"\item ") == roomy.count(r"\item ")
    result = invoke("handout", "classic", "-f", "tex", "-o", tmp_path / "c", "--space", "-1")
    assert result.exit_code == 2 and not (tmp_path / "c").exists()


def test_space_default_is_the_documented_one():
    import re
    from conftest import ROOT
    documented = re.search(r"--space` centimetres\s+\(default ([\d.]+)\)", (ROOT / "README.md").read_text())
    space = next(p for p in cli.commands["handout"].params if p.name == "space")
    assert documented and space.default == float(documented.group(1))


def test_answer_tables_use_text_style_fractions(built):
    key = built["key-en.tex"].read_text(encoding="utf-8")
    start = key.index(r"\section*{%s}" % messages("en")["answers"])
    answers = key[start:key.index(r"\section", start + 1)]
    assert r"\frac{\partial E}" in answers and r"\displaystyle" not in answers
    assert float(re.search(r"\\renewcommand\{\\arraystretch\}\{([\d.]+)\}", key).group(1)) >= 1.2  # taller rows


# --- TeX that lacks a file -------------------------------------------------------------------------------------

def test_preamble_needs_only_the_files_the_tests_and_messages_know(tmp_path):
    preamble = (template_root() / "tex" / "preamble.tex.j2").read_text(encoding="utf-8")
    asked = set()
    for command, names in re.findall(r"\\(documentclass|usepackage|usetikzlibrary)(?:\[[^\]]*\])?\{([^}]*)\}", preamble):
        for name in names.split(","):
            asked.add({"documentclass": f"{name}.cls", "usepackage": f"{name}.sty"}.get(
                command, f"tikzlibrary{name}.code.tex" if name != "arrows.meta" else "pgflibraryarrows.meta.code.tex"))
    required = set(pdf.required_files("en")) | set(pdf.required_files("zh"))
    assert asked <= required, asked - required
    assert all(name in pdf.PACKAGES for name in required)  # each missing file is named with its Debian package


LMODERN_LOG = """\
(/usr/share/texlive/texmf-dist/tex/latex/base/fontenc.sty)

! LaTeX Error: File `lmodern.sty' not found.

Type X to quit or <RETURN> to proceed,
"""


def test_a_missing_package_in_a_log_is_named_with_its_debian_package():
    assert pdf.missing_file(LMODERN_LOG) == "lmodern.sty"
    assert pdf.missing_file_message("lmodern.sty") == ("PDF output needs lmodern.sty, which is not installed; "
                                                       "on Debian or Ubuntu: apt-get install lmodern")
    font = "./document.tex:9: Font T1/lmr/m/n/10=ec-lmr10 at 10pt not loadable: Metric (TFM) file not found."
    assert pdf.missing_file(font) == "ec-lmr10.tfm"
    line = './document.tex:3: Package fontspec Error: The font "FandolSong-Regular" cannot be found.'
    wrapped = line[:79] + "\n" + line[79:] + "\n"  # TeX breaks log lines after 79 characters
    assert pdf.missing_file(wrapped) == "FandolSong-Regular.otf"
    assert "texlive-lang-chinese" in pdf.missing_file_message("FandolSong-Regular.otf")
    assert pdf.missing_file("! Undefined control sequence.") is None


def test_a_missing_package_is_one_line_and_nothing_is_written(tmp_path):
    need_tex("en")
    templates = tmp_path / "templates" / "tex"
    templates.mkdir(parents=True)
    preamble = (template_root() / "tex" / "preamble.tex.j2").read_text(encoding="utf-8")
    assert r"\usepackage{lmodern}" in preamble
    (templates / "preamble.tex.j2").write_text(preamble.replace(r"\usepackage{lmodern}", r"\usepackage{nosuchpackage}"))
    result = invoke("run", "classic", "-o", tmp_path / "x.pdf", "--template-dir", tmp_path / "templates")
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and result.output.startswith(
        "error: PDF output needs nosuchpackage.sty, which is not installed; on Debian or Ubuntu")
    assert "apt-file search nosuchpackage.sty" in result.output and "texlive-latex-extra" in result.output
    assert not (tmp_path / "x.pdf").exists()


# --- parallel builds -------------------------------------------------------------------------------------------

def test_parallel_build_is_byte_identical_to_one_by_one(built):
    """The handout command compiles its PDFs together (compile_many); one by one they come out the same."""
    for kind, lang in (("sheet", "en"), ("key", "zh")):  # one of each kind and language is enough: TeX is slow
        alone = pdf.compile_document(built[f"{kind}-{lang}.tex"].read_text(encoding="utf-8"), lang)
        assert alone == built[f"{kind}-{lang}"].read_bytes(), f"{kind}-{lang}"


def test_compile_many_keeps_the_order_and_raises_the_earliest_error():
    need_tex("en")
    tiny = r"\documentclass{article}\begin{document}%s\end{document}"
    first, second = pdf.compile_many([(tiny % "one", "en"), (tiny % "two", "en")])
    assert first == pdf.compile_document(tiny % "one") and second == pdf.compile_document(tiny % "two")
    slow = r"\documentclass{article}\usepackage{tikz}\usepackage{nosuchfirst}\begin{document}x\end{document}"
    fast = r"\documentclass{article}\usepackage{nosuchsecond}\begin{document}x\end{document}"
    with pytest.raises(RenderError, match="nosuchfirst.sty"):  # the later document fails sooner, and loses
        pdf.compile_many([(tiny % "fine", "en"), (slow, "en"), (fast, "en")])
    assert pdf.compile_many([]) == []
