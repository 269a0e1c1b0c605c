"""Documents people print or publish: PDF (pdflatex, xelatex + ctex), HTML in a real browser, diagrams,
languages, handouts with answer keys, randomised variants, hand-calculation rounding.

PDF pages are turned into images by pdftoppm and must not be blank; HTML pages
are loaded in headless Chromium and must raise no console error, lay out their
formulas as MathML (no raw TeX left), and screenshot as a non-blank picture.
"""
import csv
import json
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

import derive
from derive.cli import cli
from derive.render.diagram import layout
from conftest import ROOT, png_pixels, require_tex, require_tool
from derive.render.pdf import engine_for, required_files
from reference_model import Model

EXAMPLES = derive.examples.names()


def invoke(*arguments):
    return CliRunner().invoke(cli, [str(a) for a in arguments])


# --- pictures -------------------------------------------------------------------------------------

def ink(png: bytes) -> float:
    """Return the share of pixels of a PNG that are not near-white."""
    rows = png_pixels(png)
    return sum(1 for row in rows for pixel in row if min(pixel) < 200) / (len(rows) * len(rows[0]))


def pdf_page_ink(pdf: Path, tmp_path: Path, page: int = 1) -> float:
    require_tool("pdftoppm")
    target = tmp_path / f"{pdf.stem}-page"
    subprocess.run(["pdftoppm", "-png", "-r", "40", "-f", str(page), "-l", str(page), "-singlefile", str(pdf),
                    str(target)], check=True, timeout=120)
    return ink(target.with_suffix(".png").read_bytes())


# --- PDF --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("name", EXAMPLES)
def test_every_example_as_pdf(name, lang, tmp_path):
    require_tex(engine_for(lang), required_files(lang))
    pdf = tmp_path / f"{name}.pdf"
    result = invoke("run", name, "-o", pdf, "--lang", lang)
    assert result.exit_code == 0, result.output
    assert pdf.read_bytes().startswith(b"%PDF")
    assert pdf_page_ink(pdf, tmp_path) > 0.01
    assert pdf_page_ink(pdf, tmp_path, page=2) > 0.01


def test_pdf_without_tex_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no latexmk, no pdflatex
    result = invoke("run", "classic", "-o", tmp_path / "x.pdf")
    assert result.exit_code == 2
    assert "apt-get install" in result.output and "latexmk" in result.output
    assert not (tmp_path / "x.pdf").exists()


def test_latex_failure_shows_the_log_and_writes_nothing(tmp_path):
    require_tex("pdflatex", ["article.cls"])
    templates = tmp_path / "templates" / "tex"
    templates.mkdir(parents=True)
    (templates / "derivation.tex.j2").write_text("\\documentclass{article}\\begin{document}\\nosuchmacro\\end{document}\n")
    result = invoke("run", "classic", "-o", tmp_path / "x.pdf", "--template-dir", tmp_path / "templates")
    assert result.exit_code == 2
    assert "Undefined control sequence" in result.output
    assert not (tmp_path / "x.pdf").exists()


# --- HTML in a real browser ---------------------------------------------------------------------------

def load_page(browser, path: Path, tmp_path: Path, width: int = 1000):
    page = browser.new_page(viewport={"width": width, "height": 1200})
    problems = []
    page.on("console", lambda message: problems.append(message.text) if message.type in ("error", "warning") else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("request", lambda request: problems.append(f"network request {request.url}")
            if not request.url.startswith(("file:", "data:", "about:")) else None)
    page.goto(path.resolve().as_uri())
    page.wait_for_load_state("load")
    facts = page.evaluate("""() => {
        const maths = [...document.querySelectorAll('math')];
        const laidOut = maths.filter(m => getComputedStyle(m).display.includes('math')
                                          && m.getBoundingClientRect().width > 0).length;
        const text = document.body.innerText;
        return {maths: maths.length, laidOut, rawTex: /\\\\(frac|partial|mathrm|left|delta)|\\$\\$/.test(text),
                svg: document.querySelectorAll('svg.network circle').length,
                overflow: document.documentElement.scrollWidth - window.innerWidth};
    }""")
    shot = tmp_path / f"{path.stem}-{width}.png"
    page.screenshot(path=str(shot))
    page.close()
    return facts, problems, ink(shot.read_bytes())


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("name", EXAMPLES)
def test_every_example_as_html_in_a_browser(browser, name, lang, tmp_path):
    html = tmp_path / f"{name}.html"
    assert invoke("run", name, "-o", html, "--lang", lang).exit_code == 0
    facts, problems, shade = load_page(browser, html, tmp_path)
    assert problems == []
    assert facts["maths"] > 10 and facts["laidOut"] == facts["maths"]
    assert not facts["rawTex"]
    assert facts["svg"] >= len(derive.derive(derive.example(name)).network.units)
    assert shade > 0.005


def test_html_reads_on_a_phone(browser, tmp_path):
    html = tmp_path / "classic.html"
    assert invoke("run", "classic", "-o", html).exit_code == 0
    facts, problems, shade = load_page(browser, html, tmp_path, width=390)
    assert problems == [] and shade > 0.005
    assert facts["overflow"] <= 1  # wide formulas scroll inside their own box, the page does not


# --- Markdown and LaTeX --------------------------------------------------------------------------------

@pytest.mark.parametrize("name", EXAMPLES)
def test_markdown_gets_its_diagram_beside_it(name, tmp_path):
    document = tmp_path / f"{name}.md"
    assert invoke("run", name, "-o", document).exit_code == 0
    svg = tmp_path / f"{name}.svg"
    assert f"]({name}.svg)" in document.read_text()
    assert svg.read_text().count("<circle") >= len(derive.derive(derive.example(name)).network.units)


def test_markdown_never_replaces_someone_elses_svg(tmp_path):
    (tmp_path / "notes.svg").write_text("<svg>my own drawing</svg>")
    result = invoke("run", "classic", "-o", tmp_path / "notes.md")
    assert result.exit_code == 2 and "left alone" in result.output
    assert (tmp_path / "notes.svg").read_text() == "<svg>my own drawing</svg>"
    assert not (tmp_path / "notes.md").exists()


def test_diagram_labels_and_large_networks():
    classic = derive.derive(derive.example("classic"))
    names = {edge.text for edge in layout(classic).edges}
    assert "w5" in names
    values = {edge.text for edge in layout(classic, edge_labels="values").edges}
    assert "w5 = 0.4" in values
    gradients = " ".join(edge.text for edge in layout(classic, edge_labels="gradients").edges)
    assert "∂E/∂w5 = 0.08217" in gradients
    updated = " ".join(edge.text for edge in layout(classic, edge_labels="updated").edges)
    assert "w5⁺ = 0.3589" in updated
    units = layout(classic, unit_values=True).nodes
    assert any("out 0.5933" in node.values for node in units)
    wide = derive.load_text(
        "inputs: [a, b]\nlayers:\n" + "".join(
            f"  - units: [{', '.join(f'u{layer}_{k}' for k in range(9))}]\n    activation: tanh\n"
            f"    weights: [{', '.join(['[' + ', '.join(['0.1'] * (2 if layer == 0 else 9)) + ']'] * 9)}]\n"
            for layer in range(2)) + "  - units: [y]\n    activation: identity\n    weights: [[" +
        ", ".join(["0.1"] * 9) + "]]\nloss: half_sse\nsample: {inputs: [1, 2], targets: [1]}\nlearning_rate: 0.1\n",
        "wide")
    assert layout(derive.derive(wide)).labelled is False
    assert layout(classic).labelled is True


# --- languages ---------------------------------------------------------------------------------------------

def test_chinese_prose_everywhere(tmp_path):
    for format_ in ("md", "tex", "html", "text"):
        document = derive.derive(derive.example("classic")).render(format_, lang="zh")
        assert "反向传播" in document and "Backward pass" not in document


def test_a_third_language_is_one_file(tmp_path):
    import yaml
    english = yaml.safe_load((ROOT / "templates" / "i18n" / "en.yaml").read_text(encoding="utf-8"))
    (tmp_path / "i18n").mkdir()
    pirate = {key: value.replace("Backward pass", "Backward voyage") for key, value in english.items()}
    (tmp_path / "i18n" / "xx.yaml").write_text(yaml.safe_dump(pirate, allow_unicode=True), encoding="utf-8")
    document = derive.derive(derive.example("classic")).render("md", lang="xx", template_dir=tmp_path)
    assert "Backward voyage" in document


def test_catalogues_have_the_same_keys_and_fields():
    import re
    import yaml
    catalogues = {path.stem: yaml.safe_load(path.read_text(encoding="utf-8"))
                  for path in (ROOT / "templates" / "i18n").glob("*.yaml")}
    english = catalogues.pop("en")
    for lang, messages in catalogues.items():
        assert list(messages) == list(english), lang
        for key, text in english.items():
            assert sorted(re.findall(r"\{(\w+)\}", text)) == sorted(re.findall(r"\{(\w+)\}", messages[key])), key


# --- handouts ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("format_", ["pdf", "tex", "md", "html"])
def test_handout_sheet_and_key(format_, tmp_path):
    if format_ == "pdf":
        require_tex("pdflatex", required_files("en"))
    result = invoke("handout", "classic", "-f", format_, "-o", tmp_path, "--ask", "delta_h1,w5_new,E")
    assert result.exit_code == 0, result.output
    extension = {"pdf": "pdf", "tex": "tex", "md": "md", "html": "html"}[format_]
    sheet, key = tmp_path / f"sheet.{extension}", tmp_path / f"key.{extension}"
    if format_ == "pdf":
        assert pdf_page_ink(sheet, tmp_path) > 0.01 and pdf_page_ink(key, tmp_path) > 0.01
        return
    sheet_text, key_text = sheet.read_text(), key.read_text()
    assert "0.0087713547" not in sheet_text and "0.00877135469" in key_text  # δ_h1: asked, answered in the key
    assert "0.35891648" in key_text  # w5⁺
    if format_ == "md":
        assert (tmp_path / "network.svg").is_file()


def test_handout_key_compiles_in_chinese(tmp_path):
    require_tex("xelatex", required_files("zh"))
    assert invoke("handout", "softmax", "-o", tmp_path, "--lang", "zh", "--ask", "delta,update").exit_code == 0
    assert pdf_page_ink(tmp_path / "sheet.pdf", tmp_path) > 0.01


def test_unknown_question_is_bad_input(tmp_path):
    result = invoke("handout", "classic", "-f", "md", "-o", tmp_path / "out", "--ask", "delta_zz")
    assert result.exit_code == 2 and result.output.startswith("error:")
    assert not (tmp_path / "out").exists()


def test_variants_are_reproducible_and_markable(tmp_path):
    require_tex("pdflatex", required_files("en"))
    ask = "net,out,delta,gradient,update,E_new"
    first, second = tmp_path / "a", tmp_path / "b"
    for directory in (first, second):
        result = invoke("handout", "classic", "--variants", 3, "--seed", 7, "-o", directory, "--ask", ask)
        assert result.exit_code == 0, result.output
    names = sorted(p.name for p in first.iterdir())
    assert names == sorted(p.name for p in second.iterdir())
    assert {f"{kind}-{index}.{extension}" for kind, extension in (("sheet", "pdf"), ("key", "pdf"), ("network", "yaml"))
            for index in ("01", "02", "03")} | {"answers.csv", "answers.json"} <= set(names)
    for name in names:  # the same seed: the same files, byte for byte
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    table = json.loads((first / "answers.json").read_text())
    rows = list(csv.DictReader((first / "answers.csv").open()))
    assert [row["variant"] for row in rows] == ["01", "02", "03"]
    assert len({row["w5_new"] for row in rows}) == 3  # the numbers differ
    # Each variant's answers agree with an independent model and are marked correct by derive check.
    for row in table["variants"]:
        network = first / f"network-{row['variant']}.yaml"
        model = Model(network.read_text())
        _, outs = model.forward()
        assert abs(row["out_o1"] - outs["o1"][1]) < 1e-12
        assert abs(row["dE/dw1"] - model.finite_difference("w1")) < 1e-8
        claims = [f"{name} = {value:.10e}" for name, value in row.items() if name != "variant"]
        marked = invoke("check", network, *sum((["--claim", c] for c in claims), []), "--rel-tol", "1e-9")
        assert marked.exit_code == 0, marked.output
    # The same seed gives the same variants in another format too; another seed gives other variants.
    same, other = tmp_path / "a-md", tmp_path / "c"
    for directory, seed in ((same, 7), (other, 8)):
        result = invoke("handout", "classic", "--variants", 3, "--seed", seed, "-o", directory, "-f", "md", "--ask", ask)
        assert result.exit_code == 0, result.output
    for index in ("01", "02", "03"):
        network = f"network-{index}.yaml"
        assert (same / network).read_bytes() == (first / network).read_bytes(), network
        assert (other / network).read_text() != (first / network).read_text(), network
        for kind in ("sheet", "key"):
            document = f"{kind}-{index}.md"
            assert (other / document).read_text() != (same / document).read_text(), document
    assert (same / "answers.csv").read_bytes() == (first / "answers.csv").read_bytes()
    other_rows = list(csv.DictReader((other / "answers.csv").open()))
    assert [row["variant"] for row in other_rows] == ["01", "02", "03"]
    assert all(mine["w5_new"] != theirs["w5_new"] and mine["out_o1"] != theirs["out_o1"]
               for mine, theirs in zip(rows, other_rows))


@pytest.mark.parametrize("name", EXAMPLES)
def test_variants_avoid_degenerate_numbers(name):
    from derive.handout import variants
    for spec, derivation in variants(derive.example(name), 4, seed=11, decimals=2):
        for layer in derivation.network.layers:
            for unit in layer.units:
                assert derivation.values[unit.net] != 0
        if name == "fully_connected":  # no dead relu unit
            assert all(derivation.values[u.out] > 0 for u in derivation.network.layers[0].units)


def test_handout_html_in_a_browser(browser, tmp_path):
    assert invoke("handout", "classic", "-f", "html", "-o", tmp_path, "--lang", "zh").exit_code == 0
    for page in ("sheet.html", "key.html"):
        facts, problems, shade = load_page(browser, tmp_path / page, tmp_path)
        assert problems == [] and facts["maths"] > 5 and not facts["rawTex"] and shade > 0.005


def test_handout_never_overwrites_foreign_files(tmp_path):
    (tmp_path / "sheet.md").write_text("my own sheet")
    result = invoke("handout", "classic", "-f", "md", "-o", tmp_path)
    assert result.exit_code == 2 and "left alone" in result.output
    assert (tmp_path / "sheet.md").read_text() == "my own sheet"
    assert not (tmp_path / "key.md").exists()
    again = tmp_path / "again"
    assert invoke("handout", "classic", "-f", "md", "-o", again).exit_code == 0
    assert invoke("handout", "classic", "-f", "md", "-o", again).exit_code == 0  # derive's own files: replaced


# --- hand-calculation rounding --------------------------------------------------------------------------------

def test_round_steps_rounds_every_intermediate_value():
    from decimal import ROUND_HALF_UP, Decimal, localcontext
    import sympy
    rounded = derive.derive(derive.example("classic"), round_steps=4)
    # The classic 2-2-2 example by hand, as with a calculator: every value rounded to 4 decimals (half up)
    # before the next step uses it; f′(net) = σ(net)(1 − σ(net)) at the rounded net; biases not updated.
    with localcontext() as context:
        context.prec = 50
        r = lambda value: value.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)  # noqa: E731
        sigma = lambda net: 1 / (1 + (-net).exp())  # noqa: E731
        slope = lambda net: sigma(net) * (1 - sigma(net))  # noqa: E731
        i1, i2, t1, t2, eta = Decimal("0.05"), Decimal("0.10"), Decimal("0.01"), Decimal("0.99"), Decimal("0.5")
        w = {name: Decimal(value) for name, value in (("w1", "0.15"), ("w2", "0.20"), ("w3", "0.25"), ("w4", "0.30"),
                                                      ("w5", "0.40"), ("w6", "0.45"), ("w7", "0.50"), ("w8", "0.55"))}
        b1, b2 = Decimal("0.35"), Decimal("0.60")

        def forward(w):
            f = {}
            f["net", "h1"] = r(w["w1"] * i1 + w["w2"] * i2 + b1)
            f["out", "h1"] = r(sigma(f["net", "h1"]))
            f["net", "h2"] = r(w["w3"] * i1 + w["w4"] * i2 + b1)
            f["out", "h2"] = r(sigma(f["net", "h2"]))
            f["net", "o1"] = r(w["w5"] * f["out", "h1"] + w["w6"] * f["out", "h2"] + b2)
            f["out", "o1"] = r(sigma(f["net", "o1"]))
            f["net", "o2"] = r(w["w7"] * f["out", "h1"] + w["w8"] * f["out", "h2"] + b2)
            f["out", "o2"] = r(sigma(f["net", "o2"]))
            f["loss_term", "o1"] = r((t1 - f["out", "o1"]) ** 2 / 2)
            f["loss_term", "o2"] = r((t2 - f["out", "o2"]) ** 2 / 2)
            f["loss",] = r(f["loss_term", "o1"] + f["loss_term", "o2"])
            return f

        hand = forward(w)
        out = lambda unit: hand["out", unit]  # noqa: E731
        for unit, target in (("o1", t1), ("o2", t2)):
            hand["dE_dout", unit] = r(out(unit) - target)
            hand["activation_derivative", unit, unit] = r(slope(hand["net", unit]))
            hand["delta", unit] = r(hand["dE_dout", unit] * hand["activation_derivative", unit, unit])
        d = lambda unit: hand["delta", unit]  # noqa: E731
        for name, unit, source in (("w5", "o1", "h1"), ("w6", "o1", "h2"), ("w7", "o2", "h1"), ("w8", "o2", "h2")):
            hand["gradient", name] = r(d(unit) * out(source))
        hand["gradient", "b2"] = r(d("o1") + d("o2"))
        hand["dE_dout", "h1"] = r(d("o1") * w["w5"] + d("o2") * w["w7"])
        hand["dE_dout", "h2"] = r(d("o1") * w["w6"] + d("o2") * w["w8"])
        for unit in ("h1", "h2"):
            hand["activation_derivative", unit, unit] = r(slope(hand["net", unit]))
            hand["delta", unit] = r(hand["dE_dout", unit] * hand["activation_derivative", unit, unit])
        for name, unit, value in (("w1", "h1", i1), ("w2", "h1", i2), ("w3", "h2", i1), ("w4", "h2", i2)):
            hand["gradient", name] = r(d(unit) * value)
        hand["gradient", "b1"] = r(d("h1") + d("h2"))
        new = {name: r(value - eta * hand["gradient", name]) for name, value in w.items()}
        hand.update({("update", name): value for name, value in new.items()})
        hand.update({("update", "b1"): b1, ("update", "b2"): b2})
        hand.update({("after_" + key[0], *key[1:]): value for key, value in forward(new).items()})
    assert len(hand) == len(rounded.values) - 15  # every computed value (15 are given: inputs, targets, ...)
    for (kind, *subjects), value in hand.items():
        assert rounded.value(kind, *subjects) == sympy.Rational(str(value)), (kind, subjects)
    assert str(rounded.value("out", "h1")) == "5933/10000" and str(rounded.value("out", "h2")) == "5969/10000"
    assert (hand["loss",], hand["after_loss",]) == (Decimal("0.2984"), Decimal("0.2910"))
    document = rounded.render("md")
    assert "rounded to 4 decimals" in document
    result = invoke("run", "classic", "--round-steps", 4, "--verify")
    assert result.exit_code == 2


def test_progress_is_quiet_when_not_a_terminal(tmp_path):
    result = invoke("handout", "classic", "-f", "md", "--variants", 3, "-o", tmp_path)
    assert result.exit_code == 0
    assert result.output.strip() == f"wrote 14 files to {tmp_path}"  # 3 × (sheet, key, svg, network) + 2 tables
