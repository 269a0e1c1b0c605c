"""The network diagram fit to hand out: labels that never collide, names as the documents write them,
the digits asked for, the same picture in SVG and TikZ, and the legend for what finds no place.

The geometry is checked here with this file's own overlap arithmetic (rectangles, circles, segments) on the
layout's coordinates and estimated label extents; a real browser then measures the drawn SVG of the
hardest networks, so the estimates themselves are checked against real fonts.
"""
import math
import random
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

import derive
from derive.cli import cli
from derive.render import render_template, template_root, document_context
from derive.render.diagram import EDGE_LABELS, layout, written
from conftest import require_tool


def invoke(*arguments):
    return CliRunner().invoke(cli, [str(a) for a in arguments])


# --- networks ------------------------------------------------------------------------------------------------

def spec_text(widths, named=True, bias="unit", seed=0, inputs=None):
    """Return a spec: inputs x1.., then layers of `widths` units (the last the outputs), weights named
    w<layer>_<unit>_<source> (or bare numbers, so that derive names them), biases shared, per unit or none."""
    rng = random.Random(seed)
    value = lambda: round(rng.uniform(-0.9, 0.9), 2) or 0.1  # noqa: E731
    inputs = inputs or [f"x{k}" for k in range(1, rng.randint(1, 4) + 1)]
    lines = [f"inputs: [{', '.join(inputs)}]", "layers:"]
    previous = inputs
    letters = "hgfedcba"
    for depth, width in enumerate(widths):
        last = depth == len(widths) - 1
        units = [f"y{k}" if last else f"{letters[depth]}{k}" for k in range(1, width + 1)]
        rows = []
        for k in range(width):
            cells = [f"{{w{depth + 1}_{k + 1}_{j + 1}: {value()}}}" if named else str(value())
                     for j in range(len(previous))]
            rows.append("[" + ", ".join(cells) + "]")
        lines += [f"  - units: [{', '.join(units)}]", "    activation: sigmoid", f"    weights: [{', '.join(rows)}]"]
        if bias == "shared":
            lines.append(f"    bias: {{b{depth + 1}: {value()}}}" if named else f"    bias: {value()}")
        elif bias == "unit":
            cells = [f"{{c{depth + 1}_{k + 1}: {value()}}}" if named else str(value()) for k in range(width)]
            lines.append(f"    bias: [{', '.join(cells)}]")
        previous = units
    lines += ["loss: half_sse",
              f"sample: {{inputs: [{', '.join(str(value()) for _ in inputs)}], "
              f"targets: [{', '.join(str(round(rng.uniform(0.05, 0.95), 2)) for _ in range(widths[-1]))}]}}",
              "learning_rate: 0.5", ""]
    return "\n".join(lines)


def network(text, name="net"):
    return derive.derive(derive.load_text(text, name))


CLASSIC = (Path(derive.__file__).parent / "examples" / "classic.yaml").read_text()
BARE4 = """\
inputs: [p1, p2, p3]
layers:
  - units: [q1, q2, q3]
    activation: sigmoid
    weights: [[0.1, 0.2, 0.3], [0.4, 0.5, 0.6], [0.7, 0.8, 0.9]]
    bias: [0.1, 0.2, 0.3]
  - units: [r1, r2, r3]
    activation: sigmoid
    weights: [[0.1, -0.2, 0.3], [0.4, 0.5, -0.6], [0.7, 0.8, 0.9]]
    bias: 0.05
  - units: [s1, s2]
    activation: sigmoid
    weights: [[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]]
  - units: [y]
    activation: sigmoid
    weights: [[0.3, -0.2]]
    bias: [0.1]
loss: half_sse
sample: {inputs: [1, 0.5, 0.2], targets: [0.7]}
learning_rate: 0.5
"""  # four layers, every weight a bare number: derive names them w_q2_p1, ...
SQUARE = spec_text([3, 3, 3], named=True, bias="unit", seed=7, inputs=["i1", "i2", "i3"])


def networks():
    """Yield (id, spec text): 1–4 hidden layers of 1–6 units, named and bare weights, each kind of bias."""
    rng = random.Random(2024)
    for case in range(24):
        hidden = [rng.randint(1, 6) for _ in range(1 + case % 4)]
        widths = hidden + [rng.randint(1, 3)]
        named = case % 2 == 0
        bias = ("shared", "unit", "none")[case % 3]
        yield f"{case}-{'-'.join(map(str, widths))}-{'named' if named else 'bare'}-{bias}", \
            spec_text(widths, named, bias, seed=case)
    yield "bare4", BARE4
    yield "square", SQUARE


# --- geometry, written here and not taken from the layout --------------------------------------------------

def boxes_overlap(a, b, slack=0.0):
    return a[0] < b[2] - slack and b[0] < a[2] - slack and a[1] < b[3] - slack and b[1] < a[3] - slack


def box_meets_circle(box, cx, cy, r):
    dx = max(box[0] - cx, 0.0, cx - box[2])
    dy = max(box[1] - cy, 0.0, cy - box[3])
    return dx * dx + dy * dy < r * r


def segment_meets_box(segment, box):
    """Return whether the segment has a point strictly inside the box: an end inside, or a crossing of one
    of the box's sides (tested with orientations)."""
    (x1, y1), (x2, y2) = segment[:2], segment[2:]
    left, top, right, bottom = box
    inside = lambda x, y: left < x < right and top < y < bottom  # noqa: E731
    if inside(x1, y1) or inside(x2, y2) or inside((x1 + x2) / 2, (y1 + y2) / 2):
        return True

    def cross(ax, ay, bx, by, cx, cy, dx, dy):
        def side(px, py, qx, qy, rx, ry):
            return (qx - px) * (ry - py) - (qy - py) * (rx - px)
        return (side(ax, ay, bx, by, cx, cy) * side(ax, ay, bx, by, dx, dy) < 0
                and side(cx, cy, dx, dy, ax, ay) * side(cx, cy, dx, dy, bx, by) < 0)
    corners = [(left, top), (right, top), (right, bottom), (left, bottom)]
    return any(cross(x1, y1, x2, y2, *corners[k], *corners[(k + 1) % 4]) for k in range(4))


def test_the_overlap_arithmetic_itself():
    assert segment_meets_box((0, 0, 10, 10), (4, 4, 6, 6))
    assert segment_meets_box((0, 5, 10, 5), (4, 4, 6, 6))
    assert not segment_meets_box((0, 0, 10, 0), (4, 4, 6, 6))
    assert not segment_meets_box((0, 10, 10, 9), (4, 4, 6, 6))
    assert segment_meets_box((5, 0, 5, 10), (4, 4, 6, 6))
    assert box_meets_circle((0, 0, 1, 1), 1.5, 0.5, 0.6) and not box_meets_circle((0, 0, 1, 1), 2, 2, 1.0)
    assert boxes_overlap((0, 0, 2, 2), (1, 1, 3, 3)) and not boxes_overlap((0, 0, 1, 1), (1, 0, 2, 1))


def collisions(diagram):
    """Return what overlaps what in a diagram, as readable strings (empty when all is clear)."""
    found, labels = [], diagram.labels
    for i, a in enumerate(labels):
        for b in labels[i + 1:]:
            if boxes_overlap(a.box, b.box):
                found.append(f"label {a.text!r} overlaps label {b.text!r}")
        for node in diagram.nodes:
            if box_meets_circle(a.box, node.x, node.y, node.radius):
                found.append(f"label {a.text!r} overlaps node {node.name}")
        for index, edge in enumerate(diagram.edges):
            if index != a.arrow and segment_meets_box(edge.line, a.box):
                found.append(f"label {a.text!r} overlaps the arrow {edge.source.name} → {edge.target.name}")
        left, top, right, bottom = a.box
        if left < 0 or top < 0 or right > diagram.width or bottom > diagram.height:
            found.append(f"label {a.text!r} is outside the picture")
    return found


@pytest.mark.parametrize("name, text", list(networks()), ids=[name for name, _ in networks()])
def test_no_label_meets_another_label_a_node_or_another_arrow(name, text):
    derivation = network(text, name)
    for edge_labels in EDGE_LABELS:
        for unit_values in (False, True):
            diagram = layout(derivation, edge_labels=edge_labels, unit_values=unit_values)
            assert collisions(diagram) == [], (edge_labels, unit_values)
            # Nothing is lost: every arrow's label is on its arrow or in the legend, every unit's values
            # beside it or in the legend.
            on_arrows = {label.arrow for label in diagram.labels if label.kind == "edge"}
            legend = " | ".join(label.text for label in diagram.legend)
            for index, edge in enumerate(diagram.edges):
                if edge.text and index not in on_arrows:
                    assert edge_text(edge) in legend
            values = [label.text for label in diagram.labels if label.kind == "value"]
            for node in diagram.nodes:
                if node.values and diagram.labelled:
                    shown = " ".join(node.values)
                    assert shown in values or ", ".join(node.values) in legend


def edge_text(edge):
    """Return an arrow's label as drawn (runs joined), e.g. 'wq2,p1 = 0.4' for w_{q2,p1} = 0.4."""
    return edge.written.plain_text


def test_nodes_fit_and_the_legend_is_inside_the_picture():
    diagram = layout(network(BARE4), edge_labels="gradients", unit_values=True)
    assert diagram.legend, "this network's gradients do not all fit on their arrows"
    keys = [label for label in diagram.labels if label.kind == "key"]
    assert keys and all(label.arrow is not None or label.text for label in keys)
    assert max(label.box[3] for label in diagram.legend) <= diagram.height
    nodes_bottom = max(node.y + node.radius for node in diagram.nodes)
    assert min(label.box[1] for label in diagram.legend) > nodes_bottom


# --- a real browser ------------------------------------------------------------------------------------------

def svg(text, **options):
    derivation = network(text)
    root = template_root()
    context = document_context(derivation, root, "svg")
    context["diagram"] = layout(derivation, context["w"].notation, **options)
    return render_template(root, "svg", "svg/diagram.svg.j2", context)


def test_drawn_labels_meet_no_label_and_no_node_in_chromium(browser, tmp_path):
    pictures = [svg(BARE4, edge_labels="values", unit_values=True), svg(BARE4, edge_labels="gradients"),
                svg(SQUARE, edge_labels="values", unit_values=True), svg(SQUARE, edge_labels="updated"),
                svg(spec_text([3, 3], named=True, bias="shared", seed=3), edge_labels="values", unit_values=True),
                svg(CLASSIC, edge_labels="values", unit_values=True)]
    page_file = tmp_path / "diagrams.html"
    page_file.write_text("<!doctype html><html><body>" + "".join(f"<div>{p}</div>" for p in pictures) + "</body></html>",
                         encoding="utf-8")
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(page_file.resolve().as_uri())
    page.wait_for_load_state("load")
    measured = page.evaluate("""() => [...document.querySelectorAll('svg.network')].map(svg => {
        const rect = r => [r.left, r.top, r.right, r.bottom];
        const labels = [...svg.querySelectorAll('g.label')].map(g => {
            const parts = [...g.querySelectorAll('text, circle')].map(e => e.getBoundingClientRect());
            return {text: g.textContent.trim(), box: [Math.min(...parts.map(p => p.left)), Math.min(...parts.map(p => p.top)),
                                                      Math.max(...parts.map(p => p.right)), Math.max(...parts.map(p => p.bottom))]};
        });
        const nodes = [...svg.children].filter(e => e.tagName === 'circle').map(c => {
            const r = c.getBoundingClientRect();
            return [(r.left + r.right) / 2, (r.top + r.bottom) / 2, r.width / 2];
        });
        const frame = svg.getBoundingClientRect();
        return {labels, nodes, frame: rect(frame)};
    })""")
    page.close()
    assert len(measured) == len(pictures)
    for picture in measured:
        labels, nodes = picture["labels"], picture["nodes"]
        assert labels and nodes
        for i, a in enumerate(labels):
            for b in labels[i + 1:]:
                assert not boxes_overlap(a["box"], b["box"], slack=0.5), (a["text"], b["text"])
            for cx, cy, r in nodes:
                assert not box_meets_circle(a["box"], cx, cy, r - 0.5), (a["text"], cx, cy)
            left, top, right, bottom = picture["frame"]
            assert left - 0.5 <= a["box"][0] and a["box"][2] <= right + 0.5, a["text"]
            assert top - 0.5 <= a["box"][1] and a["box"][3] <= bottom + 0.5, a["text"]


# --- names as the documents write them -----------------------------------------------------------------------

def svg_texts(document):
    """Return the text of each <text> of an SVG, its tspans joined."""
    return [re.sub(r"<[^>]+>", "", t) for t in re.findall(r"<text\b[^>]*>(.*?)</text>", document, re.S)]


@pytest.mark.parametrize("edge_labels", ["weights", "values", "gradients", "updated"])
def test_generated_names_are_written_as_in_the_documents(edge_labels, tmp_path):
    spec = tmp_path / "bare.yaml"
    spec.write_text(BARE4)
    result = invoke("run", spec, "-o", tmp_path / "bare.md", "--diagram-labels", edge_labels, "--unit-values")
    assert result.exit_code == 0, result.output
    document = (tmp_path / "bare.svg").read_text()
    texts = svg_texts(document)
    assert texts and not [t for t in texts if "_" in t]  # no w_q2_p1: the subscript is drawn as one
    # w_{q2,p1}: w on the line, q2,p1 as its subscript, as the documents' tables print it
    assert re.search(r"<tspan>(∂E/∂)?w</tspan><tspan dy=\"[0-9.]+\" font-size=\"[0-9.]+\">q2,p1</tspan>", document)
    markdown = (tmp_path / "bare.md").read_text()
    assert "w_{q2,p1}" in markdown
    tex = tmp_path / "bare.tex"
    assert invoke("run", spec, "-o", tex, "--diagram-labels", edge_labels).exit_code == 0
    picture = tex.read_text().split(r"\begin{tikzpicture}")[1].split(r"\end{tikzpicture}")[0]
    assert "w_{q2,p1}" in picture and "q2_p1" not in picture and r"w\_" not in picture


def test_the_reader_of_names_refuses_what_it_does_not_know():
    assert written(r"\mathrm{net}_{h1}").plain_text == "neth1"
    assert written(r"\frac{\partial E}{\partial w_{5}}").latex == r"\partial E/\partial w_{5}"
    assert written(r"w_{5}^{+}").latex == "w_{5}^{+}"
    assert written(r"\eta").plain_text == "η" and written(r"u0\_1").plain_text == "u0_1"
    for hostile in (r"\input{/etc/passwd}", "w_{5", "a}b", r"\write18{rm}", "<script>", "a&b", "$x$", "%"):
        with pytest.raises(ValueError):
            written(hostile)


# --- digits --------------------------------------------------------------------------------------------------

CLASSIC_OUT_H1 = 1 / (1 + math.exp(-(0.15 * 0.05 + 0.20 * 0.10 + 0.35)))  # 0.59326999210718...


def test_digits_reach_the_unit_values():
    classic = derive.derive(derive.example("classic"))
    twelve = f"out {CLASSIC_OUT_H1:.12g}"
    assert twelve == "out 0.593269992107"
    assert any(twelve in node.values for node in layout(classic, unit_values=True, digits=12).nodes)
    assert any("out 0.5933" in node.values for node in layout(classic, unit_values=True).nodes)  # default: 4
    assert any("out 0.59" in node.values for node in layout(classic, unit_values=True, digits=2).nodes)
    drawn = svg(CLASSIC, unit_values=True, digits=12)
    assert twelve in svg_texts(drawn) or "out 0.593269992107" in " ".join(svg_texts(drawn))
    values = " ".join(label.text for label in layout(classic, edge_labels="gradients", digits=12).labels)
    assert "= 0.0821670" in values  # ∂E/∂w5 = 0.082167041... to 12 digits


def test_digits_reach_the_svg_beside_markdown(tmp_path):
    assert invoke("run", "classic", "--digits", "12", "--unit-values", "-o", tmp_path / "d.md").exit_code == 0
    assert "out 0.593269992107" in " ".join(svg_texts((tmp_path / "d.svg").read_text()))


# --- one layout, drawn twice ---------------------------------------------------------------------------------

def test_svg_and_tikz_draw_the_same_layout_deterministically(tmp_path):
    derivation = network(BARE4)
    first = layout(derivation, edge_labels="values", unit_values=True)
    assert first == layout(network(BARE4), edge_labels="values", unit_values=True)
    spec = tmp_path / "bare.yaml"
    spec.write_text(BARE4)
    outputs = []
    for attempt in range(2):
        assert invoke("run", spec, "-o", tmp_path / f"d{attempt}.tex", "--diagram-labels", "values",
                      "--unit-values").exit_code == 0
        assert invoke("run", spec, "-o", tmp_path / f"d{attempt}.md", "--diagram-labels", "values",
                      "--unit-values").exit_code == 0
        outputs.append(((tmp_path / f"d{attempt}.tex").read_text(), (tmp_path / f"d{attempt}.svg").read_text()))
    assert outputs[0] == outputs[1]
    tex, picture = outputs[0]
    for label in first.labels:  # every label's lines at the same place in both
        for x, y, _ in label.baselines:
            assert f"at ({x}, {y})" in tex
            assert f'x="{round(x * 42, 1)}" y="{round(y * 42, 1)}"' in picture
    assert f'viewBox="0 0 {round(first.width * 42, 1)} {round(first.height * 42, 1)}"' in picture


def test_a_hard_network_compiles_in_latex(tmp_path):
    require_tool("pdflatex")
    spec = tmp_path / "bare.yaml"
    spec.write_text(BARE4)
    result = invoke("run", spec, "-o", tmp_path / "bare.pdf", "--diagram-labels", "gradients", "--unit-values")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "bare.pdf").stat().st_size > 10_000
