"""HTML documents fit to hand out, judged in a real browser by the page's own geometry (and pixels):
derivations aligned on "=", nothing scrolling on a desktop, a phone reading the page without the page
scrolling sideways, no stray space between a function and its parenthesis. Each document is rendered
and loaded once per width; the assertions share the facts gathered then."""
import re

import pytest
from click.testing import CliRunner

from conftest import png_pixels
from derive.cli import cli
from derive.render.html import mathml

DESKTOP, PHONE = 1200, 390

# name -> (command line writing it into a directory, the file it writes there)
DOCUMENTS = {
    "classic": (["run", "classic", "-o", "{dir}/classic.html"], "classic.html"),
    "softmax-zh": (["run", "softmax", "--lang", "zh", "-o", "{dir}/softmax.html"], "softmax.html"),
    "handout-sheet": (["handout", "fully_connected", "-f", "html", "-o", "{dir}/handout", "--ask", "net,out,delta,gradient,update"], "handout/sheet.html"),
    "handout-key": (None, "handout/key.html"),  # written with the sheet
}

# Everything measured in one go, by the browser's layout alone.
FACTS = """() => {
  const box = e => { const r = e.getBoundingClientRect();
                     return {left: r.left + scrollX, right: r.right + scrollX, top: r.top + scrollY, bottom: r.bottom + scrollY}; };
  const scrolls = e => { const s = getComputedStyle(e);
    return (e.scrollWidth > e.clientWidth && ['auto', 'scroll'].includes(s.overflowX))
        || (e.scrollHeight > e.clientHeight && ['auto', 'scroll'].includes(s.overflowY)); };
  const scrolling = [...document.querySelectorAll('*')].filter(scrolls);
  const describe = e => e.tagName.toLowerCase() + (e.className && typeof e.className === 'string' ? '.' + e.className : '')
                         + ' ' + e.scrollWidth + 'x' + e.scrollHeight + ' in ' + e.clientWidth + 'x' + e.clientHeight;
  // every "=" of a block, grouped into the lines the reader sees (by vertical position)
  const blocks = [...document.querySelectorAll('.equation')].map(block => {
    const signs = [...block.querySelectorAll('mo')].filter(mo => mo.textContent.trim() === '=')
                    .map(mo => { const r = mo.getBoundingClientRect(); return {x: r.left, y: (r.top + r.bottom) / 2, h: r.height}; })
                    .sort((a, b) => a.y - b.y);
    const lines = [];
    for (const sign of signs) {
      const line = lines.find(l => Math.abs(l[0].y - sign.y) < Math.min(l[0].h, sign.h) / 2);
      line ? line.push(sign) : lines.push([sign]);
    }
    const inner = [...block.children].map(box), outer = box(block);
    return {text: block.textContent.slice(0, 60), lines: lines.map(l => l.map(s => s.x).sort((a, b) => a - b)),
            inside: inner.every(r => r.top >= outer.top - 0.5 && r.bottom <= outer.bottom + 0.5)};
  });
  // mathematics the page cuts off: past the right edge, and not inside anything that scrolls
  const cut = [...document.querySelectorAll('math')].filter(m => {
    if (box(m).right <= innerWidth + 0.5) return false;
    for (let e = m.parentElement; e; e = e.parentElement)
      if (scrolls(e) && getComputedStyle(e).overflowX !== 'hidden') return false;
    return true;
  }).map(m => m.textContent.slice(0, 40));
  // a function's name and its opening parenthesis: σ(net), tanh(x), f′(net), softmax(...)
  const pairs = [];
  for (const paren of document.querySelectorAll('mo')) {
    if (paren.textContent.trim() !== '(') continue;
    let name = paren.previousElementSibling;
    if (!name && paren.parentElement.tagName.toLowerCase() === 'mrow') name = paren.parentElement.previousElementSibling;
    if (!name || !['mi', 'mo', 'msup', 'mrow'].includes(name.tagName.toLowerCase())) continue;
    if (!/^([A-Za-z]{2,}|[\\u03b1-\\u03c9]|f\\u2032?)$/.test(name.textContent.trim())) continue;
    const a = box(name), b = box(paren);
    pairs.push({name: name.textContent.trim(), left: a.left, right: b.right, top: Math.min(a.top, b.top),
                bottom: Math.max(a.bottom, b.bottom), em: parseFloat(getComputedStyle(paren).fontSize)});
  }
  return {width: document.documentElement.scrollWidth, viewport: innerWidth, blocks, cut, pairs,
          scrolling: scrolling.map(describe),
          nested: scrolling.filter(e => scrolling.some(o => o !== e && o.contains(e))).map(describe),
          maths: document.querySelectorAll('math').length, scripts: document.querySelectorAll('script').length};
}"""


def grey(png: bytes) -> list[list[int]]:
    """Return the pixels of a PNG as rows of grey levels."""
    return [[sum(pixel) // len(pixel) for pixel in row] for row in png_pixels(png)]


def blank_before_last_glyph(rows: list[list[int]]) -> int:
    """Return how many blank pixel columns stand between the last glyph of an image and the ink before it."""
    ink = [any(row[x] < 150 for row in rows) for x in range(len(rows[0]))]
    x = len(ink) - 1
    while x >= 0 and not ink[x]:
        x -= 1
    while x >= 0 and ink[x]:  # the last glyph: the parenthesis
        x -= 1
    blank = 0
    while x >= 0 and not ink[x]:
        blank, x = blank + 1, x - 1
    assert x >= 0, "no ink before the parenthesis"
    return blank


@pytest.fixture(scope="module")
def documents(tmp_path_factory):
    directory = tmp_path_factory.mktemp("html")
    for command, _ in DOCUMENTS.values():
        if command:
            result = CliRunner().invoke(cli, [part.format(dir=directory) for part in command])
            assert result.exit_code == 0, result.output
    return {name: directory / path for name, (_, path) in DOCUMENTS.items()}


@pytest.fixture(scope="module")
def pages(browser, documents):
    """name -> width -> facts, from one load of each document at each width (gaps measured on the desktop)."""
    facts = {}
    for name, path in documents.items():
        facts[name] = {}
        for width in (DESKTOP, PHONE):
            page = browser.new_page(viewport={"width": width, "height": 900})
            requests = []
            page.on("request", lambda request: requests.append(request.url)
                    if not request.url.startswith(("file:", "data:", "about:")) else None)
            page.goto(path.resolve().as_uri())
            page.wait_for_load_state("load")
            found = page.evaluate(FACTS)
            found["requests"] = requests
            if width == DESKTOP:
                found["gaps"] = []
                for pair in found["pairs"]:
                    clip = {"x": pair["left"], "y": pair["top"], "width": pair["right"] - pair["left"],
                            "height": pair["bottom"] - pair["top"]}
                    shot = page.screenshot(clip=clip, full_page=True)
                    found["gaps"].append((pair["name"], blank_before_last_glyph(grey(shot)), pair["em"]))
            page.close()
            facts[name][width] = found
    return facts


@pytest.mark.parametrize("name", DOCUMENTS)
def test_pages_are_mathematics_without_script_or_network(pages, name):
    for facts in pages[name].values():
        assert facts["maths"] > 5 and facts["scripts"] == 0 and facts["requests"] == []


@pytest.mark.parametrize("width", [DESKTOP, PHONE])
@pytest.mark.parametrize("name", [n for n in DOCUMENTS if n != "handout-sheet"])
def test_every_derivation_is_aligned_on_its_equals_signs(pages, name, width):
    blocks = pages[name][width]["blocks"]
    multiline = [b for b in blocks if len(b["lines"]) > 1]
    assert len(multiline) > 10 and len(multiline) > len(blocks) / 2
    for block in blocks:
        assert all(len(line) == 1 for line in block["lines"]), (block["text"], block["lines"])  # one "=" a line
        leading = [line[0] for line in block["lines"]]
        assert max(leading) - min(leading) < 0.5, (block["text"], leading)


@pytest.mark.parametrize("name", DOCUMENTS)
def test_nothing_scrolls_on_a_desktop(pages, name):
    facts = pages[name][DESKTOP]
    assert facts["scrolling"] == [] and facts["width"] <= facts["viewport"]
    assert all(block["inside"] for block in facts["blocks"])  # no block clips its mathematics


@pytest.mark.parametrize("name", DOCUMENTS)
def test_a_phone_reads_the_page_without_it_scrolling_sideways(pages, name):
    facts = pages[name][PHONE]
    assert facts["width"] <= facts["viewport"]
    assert facts["cut"] == []  # what is wider than the phone scrolls in its block, nothing is cut off
    assert facts["nested"] == []  # one scroll container a block at most
    assert all(re.match(r"(div\.equation|table|div\.diagram) ", s) for s in facts["scrolling"]), facts["scrolling"]
    assert all(block["inside"] for block in facts["blocks"])


@pytest.mark.parametrize("name", ["classic", "softmax-zh", "handout-key"])
def test_no_stray_space_between_a_function_and_its_parenthesis(pages, name):
    # the ink of σ( or f′( is 2 to 4 pixels apart at this size; the stray space of a stretchy fence made it 5 to 12
    gaps = pages[name][DESKTOP]["gaps"]
    assert len(gaps) >= 2  # (softmax has two: tanh( and f′()
    assert [(name, blank) for name, blank, em in gaps if blank > 0.25 * em] == []


# --- the MathML itself (no browser) -------------------------------------------------------------------------

def test_a_chain_is_one_table_with_an_equals_sign_a_row():
    chain = mathml(["a", r"\sigma\left(x\right)", "0.5"], display=True)
    assert chain.startswith('<math xmlns="http://www.w3.org/1998/Math/MathML" display="block" class="chain">')
    assert chain.count("<mtr>") == 2 and chain.count('<mo form="infix">=</mo>') == 2
    assert chain == mathml(("a", r"\sigma\left(x\right)", "0.5"))  # deterministic; always a block


def test_fences_stretch_only_around_what_is_taller_than_a_line():
    assert 'stretchy="true"' not in mathml(r"\sigma\left(\mathrm{net}_{h1}\right)")
    assert mathml(r"\left(\frac{a}{b}\right)").count('stretchy="true"') == 2
    assert mathml(r"\left(\sum_k x_k\right)").count('stretchy="true"') == 2


def test_names_signs_and_text_are_written_for_the_browser():
    assert "<mi>ReLU</mi>" in mathml(r"\operatorname{ReLU}\left(x\right)")
    assert "<mi>net</mi>" in mathml(r"\mathrm{net}_{h1}")
    assert '<mo form="prefix">\u2212</mo>' in mathml(r"\left(-0.5\right) \cdot 2")
    assert '<mo form="prefix">\u2212</mo>' in mathml(r"\sum_{k} -t")
    assert "<mo>\u2212</mo>" in mathml("a - b") and "<mo>\u2212</mo>" in mathml("x_{1} - b")  # binary minus stays
    assert '<mi>f</mi><mo lspace="0" rspace="0">\u2032</mo>' in mathml("f'(x)") and "msup" not in mathml("f'(x)")
    hostile = mathml(r"\text{<img src=x onerror=alert(1)>} \& x")
    assert "<img" not in hostile and "&lt;img" in hostile
