"""The network diagram: a layout computed once, drawn as SVG (HTML, Markdown) or TikZ (LaTeX, PDF).

The layout is data: nodes, arrows and labels with coordinates in centimetres
(y growing downwards) and font sizes in centimetres, so that
`templates/svg/diagram.svg.j2` and `templates/tex/diagram.tex.j2` draw the
same picture. Every name is written as the documents write it: the Notation's
LaTeX form is read into a `Text` (runs of characters, each on the line, as a
subscript or as a superscript), which the SVG draws with <tspan>s and the TikZ
as LaTeX rebuilt from those runs, so only characters and commands the reader
knows reach either.

Labels are placed, in a fixed order, where they overlap no other label, no
node and no arrow but their own (see `_Placer`); a label with no free place
is tried one font step smaller, and failing that is replaced by a numbered key
at its arrow while its text goes into a legend under the diagram, so nothing
is lost and nothing collides. Past LABEL_LIMIT (layers, units per layer) the
diagram is drawn without labels, and the arrows into a layer with more than
EDGE_LABEL_LIMIT of them carry none (their values are in the table of given
values). The layout is deterministic: the same network gives the same
diagram, byte for byte.
"""
from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, replace
from functools import cached_property

from ..network import Network
from ..quantities import QuantitySymbol
from .options import EDGE_LABELS
from ..notation import Notation
from ..numbers import format_number

LABEL_LIMIT = (6, 8)       # at most this many layers (inputs included) and units per layer carry labels
EDGE_LABEL_LIMIT = 9       # arrows between two layers that may carry labels; denser layers show names only
COLUMN = 3.6               # cm between layers, at least (wider when the labels are long)
ROW = 1.7                  # cm between units of a layer, at least (taller with biases beside units or values)
PAGE = 15.0                # cm: the width a diagram is drawn at, at most, in LaTeX (wider ones are scaled down)
MARGIN = 0.3               # cm of white around everything drawn

# Font sizes in cm (the SVG draws 42 px to the cm, the TikZ scales them with the picture).
NODE_FONT = 0.33
BIAS_FONT = 0.25
EDGE_FONT = 0.25
VALUE_FONT = 0.23
KEY_FONT = 0.2
SHRINK = 0.8               # a label with no free place is tried once more at this fraction of its size
SMALLEST_NAME = 0.6        # a node's name is shrunk to fit its circle down to this fraction, else keyed

# Estimated text extents, in em, chosen to be at least those of the sans-serif fonts the SVG asks for
# (DejaVu Sans, Noto Sans, Arial) and of Latin Modern in the TikZ: conservative, so that a label placed
# clear of its neighbours is clear of them when drawn.
ASCENT, DESCENT = 1.07, 0.30
SUB_SCALE, SUB_DROP, SUP_RISE = 0.75, 0.30, 0.40
PAD = 0.04                 # cm kept clear around a label
ARROW_PAD = 0.05           # cm kept clear of an arrow's line (its stroke, half of it, and some air)
HEAD = 0.22, 0.11          # cm: an arrowhead's length and half width, kept clear too
KEY_RING = 0.16            # cm: radius of the ring around a key
_WIDE, _NARROW, _THIN = set("mwMW%@"), set("=+→<>~×−÷∂"), set("ijlI.,:;'!| ")
_SLIM = set("()[]-rtf/")


def _advance(character: str) -> float:
    """Return a conservative advance width of `character`, in em."""
    if character in _WIDE:
        return 1.0
    if character in _NARROW:
        return 0.86
    if character in _THIN:
        return 0.36
    if character in _SLIM:
        return 0.44
    if character.isupper():
        return 0.8
    return 0.66


# --- text as the documents write it ------------------------------------------------------------------------

@dataclass(frozen=True)
class Run:
    """Characters at one level: 0 on the line, -1 a subscript, 1 a superscript; `roman` as \\mathrm."""

    text: str
    level: int = 0
    roman: bool = False


_TEX_CHARACTERS = {" ": r"\ ", "∂": r"\partial ", "→": r"\to ", "−": "-", "_": r"\_", "×": r"\times "}
_PLAIN = re.compile(r"[A-Za-z0-9.,:;()+\-=/'\[\]]")


def _greek(command: str) -> str | None:
    """Return the Greek letter a LaTeX command names (\\eta → η), or None."""
    case = "CAPITAL" if command[:1].isupper() else "SMALL"
    try:
        letter = unicodedata.lookup(f"GREEK {case} LETTER {command.upper().replace('LAMBDA', 'LAMDA')}")
    except KeyError:
        return None
    return letter


def _greek_command(letter: str) -> str | None:
    name = unicodedata.name(letter, "")
    if not name.startswith(("GREEK SMALL LETTER ", "GREEK CAPITAL LETTER ")) or len(name.split()) != 4:
        return None
    word = name.split()[-1].lower().replace("lamda", "lambda")
    return "\\" + (word.capitalize() if "CAPITAL" in name else word)


@dataclass(frozen=True)
class Text:
    """A line of text in runs (see Run): what a label shows, in both the SVG and the TikZ."""

    runs: tuple[Run, ...]

    @classmethod
    def plain(cls, text: str, roman: bool = False) -> "Text":
        """Return literal text (a number, a word, an arrow) as one run on the line."""
        return cls((Run(text, 0, roman),)) if text else cls(())

    def __add__(self, other: "Text") -> "Text":
        runs = list(self.runs)
        for run in other.runs:
            if runs and (runs[-1].level, runs[-1].roman) == (run.level, run.roman):
                runs[-1] = Run(runs[-1].text + run.text, run.level, run.roman)
            else:
                runs.append(run)
        return Text(tuple(runs))

    @property
    def plain_text(self) -> str:
        return "".join(run.text for run in self.runs)

    def width(self, size: float) -> float:
        """Return the estimated width in cm at font size `size` cm."""
        return sum(_advance(c) * size * (SUB_SCALE if run.level else 1.0) for run in self.runs for c in run.text)

    def extent(self, size: float) -> tuple[float, float]:
        """Return how far the text reaches above and below its baseline, in cm."""
        above = max([ASCENT] + [SUP_RISE + ASCENT * SUB_SCALE for run in self.runs if run.level > 0]) * size
        below = max([DESCENT] + [SUB_DROP + DESCENT * SUB_SCALE for run in self.runs if run.level < 0]) * size
        return above, below

    def pieces(self, size: float) -> tuple[tuple[str, float, float], ...]:
        """Return (characters, vertical shift from the previous piece, font size) of each run, in cm: what the
        SVG draws as <tspan dy=…>, a subscript SUB_DROP em below the line, a superscript SUP_RISE em above."""
        pieces, offset = [], 0.0
        for run in self.runs:
            target = SUB_DROP * size if run.level < 0 else -SUP_RISE * size if run.level > 0 else 0.0
            pieces.append((run.text, target - offset, size * (SUB_SCALE if run.level else 1.0)))
            offset = target
        return tuple(pieces)

    @property
    def latex(self) -> str:
        """Return the text as LaTeX for math mode, built only from characters and commands known to be safe."""
        parts = []
        for run in self.runs:  # spaces count in \mathrm only: mathematics spaces itself
            body = "".join(_tex_character(c) for c in run.text if run.roman or c != " ")
            if run.roman:
                body = r"\mathrm{" + body + "}"
            if run.level:
                body = ("_{" if run.level < 0 else "^{") + body + "}"
                if not parts:
                    parts.append("{}")
            parts.append(body)
        return "".join(parts)


def _tex_character(character: str) -> str:
    if _PLAIN.fullmatch(character):
        return character
    if character in _TEX_CHARACTERS:
        return _TEX_CHARACTERS[character]
    command = _greek_command(character)
    if command:
        return command + " "
    raise ValueError(f"the diagram cannot write {character!r} in LaTeX")


class _Reader:
    """Reads the LaTeX the Notation writes (w_{q2,p1}, \\mathrm{net}_{h1}, \\frac{\\partial E}{\\partial w_{5}},
    w_{5}^{+}, \\eta, \\_) into runs; anything else is refused, so that nothing unknown reaches a drawing.
    A fraction is written on one line (∂E/∂w₅), as labels are one line high."""

    def __init__(self, latex: str):
        self.source, self.at = latex, 0

    def fail(self):
        raise ValueError(f"the diagram cannot draw the name {self.source!r}")

    def read(self) -> Text:
        text = self.sequence(0, False)
        if self.at != len(self.source):
            self.fail()
        return text

    def sequence(self, level: int, roman: bool) -> Text:
        text = Text(())
        while self.at < len(self.source) and self.source[self.at] != "}":
            text = text + self.item(level, roman)
        return text

    def group(self, level: int, roman: bool) -> Text:
        if self.source.startswith("{", self.at):
            self.at += 1
            text = self.sequence(level, roman)
            if not self.source.startswith("}", self.at):
                self.fail()
            self.at += 1
            return text
        if self.at < len(self.source):
            return self.item(level, roman)
        self.fail()

    def item(self, level: int, roman: bool) -> Text:
        source, character = self.source, self.source[self.at]
        if character in "_^":
            self.at += 1
            return self.group(level or (-1 if character == "_" else 1), roman)  # no deeper than one level
        if character == "{":
            return self.group(level, roman)
        if character == " ":
            self.at += 1
            return Text(())
        if character == "\\":
            match = re.compile(r"\\([A-Za-z]+|_) ?").match(source, self.at)
            if not match:
                self.fail()
            self.at = match.end()
            command = match.group(1)
            if command == "_":
                return Text((Run("_", level, roman),))
            if command == "mathrm":
                return self.group(level, True)
            if command == "frac":
                return self.group(level, roman) + Text((Run("/", level, roman),)) + self.group(level, roman)
            if command == "partial":
                return Text((Run("∂", level, False),))
            letter = _greek(command)
            if letter is None:
                self.fail()
            return Text((Run(letter, level, False),))
        if _PLAIN.fullmatch(character) and character not in "()[]":
            self.at += 1
            return Text((Run(character, level, roman),))
        self.fail()


def written(latex: str) -> Text:
    """Return the Notation's LaTeX for a name as a Text; ValueError for anything the reader does not know."""
    return _Reader(latex).read()


# --- the picture ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Label:
    """Text placed on the diagram: `lines` centred on (x, y) cm (anchor "middle") or starting at x
    (anchor "start"), at font size `size` cm. `kind` is edge, value, key or legend; `arrow` the index in
    Diagram.edges of the arrow an edge label or key belongs to; a key is drawn in a ring of radius `ring`."""

    lines: tuple[Text, ...]
    x: float
    y: float
    size: float
    kind: str
    anchor: str = "middle"
    arrow: int | None = None
    ring: float = 0.0

    def _heights(self) -> list[tuple[float, float]]:
        return [line.extent(self.size) for line in self.lines]

    @cached_property
    def width(self) -> float:
        return max([line.width(self.size) for line in self.lines] + [2 * self.ring])

    @cached_property
    def height(self) -> float:
        return max(sum(above + below for above, below in self._heights()), 2 * self.ring)

    @cached_property
    def box(self) -> tuple[float, float, float, float]:
        """Return (left, top, right, bottom) in cm: the estimated extent of what is drawn."""
        left = self.x - self.width / 2 if self.anchor == "middle" else self.x
        return left, self.y - self.height / 2, left + self.width, self.y + self.height / 2

    @property
    def baselines(self) -> tuple[tuple[float, float, Text], ...]:
        """Return (x, baseline y, line) of each line, in cm, rounded as drawn."""
        lines, top = [], self.y - sum(above + below for above, below in self._heights()) / 2
        for line, (above, below) in zip(self.lines, self._heights()):
            lines.append((round(self.x, 3), round(top + above, 3), line))
            top += above + below
        return tuple(lines)

    @property
    def text(self) -> str:
        """Return the label as plain text, lines joined by a space."""
        return " ".join(line.plain_text for line in self.lines)


@dataclass(frozen=True)
class Node:
    """A circle: an input, a unit or a bias, at (x, y) cm, y growing downwards. `written` is its name as the
    documents write it, drawn at `size` cm, or `key` (a legend number) when the name does not fit."""

    name: str
    kind: str
    x: float
    y: float
    latex: str
    text: str
    values: tuple[str, ...] = ()  # "net 0.3775", "out 0.5933"
    written: Text = Text(())
    size: float = NODE_FONT
    key: str = ""

    @property
    def radius(self) -> float:
        return 0.28 if self.kind == "bias" else 0.45

    @property
    def id(self) -> str:
        """A name safe in TikZ and SVG, whatever the unit is called."""
        return "n" + "".join(c if c.isalnum() else "-" for c in self.name)

    @property
    def label(self) -> Label:
        """Return the name (or key) drawn inside the circle."""
        return Label((Text.plain(self.key) if self.key else self.written,), self.x, self.y, self.size, "name")


@dataclass(frozen=True)
class Edge:
    """An arrow from `source` to `target`; its label (`latex`, `text`, drawn as `written`) was placed at
    fraction `at` of its length, or is in the legend."""

    source: Node
    target: Node
    latex: str
    text: str
    at: float
    written: Text = Text(())

    def _ends(self) -> tuple[float, float, float, float]:
        dx, dy = self.target.x - self.source.x, self.target.y - self.source.y
        length = math.hypot(dx, dy) or 1.0
        start, end = self.source.radius / length, 1 - (self.target.radius + 0.08) / length
        return (self.source.x + dx * start, self.source.y + dy * start,
                self.source.x + dx * end, self.source.y + dy * end)

    @property
    def line(self) -> tuple[float, float, float, float]:
        """Return (x1, y1, x2, y2): the arrow from circle edge to circle edge, in cm."""
        return tuple(round(v, 3) for v in self._ends())

    def point(self, at: float) -> tuple[float, float]:
        """Return the point at fraction `at` of the arrow, in cm."""
        x1, y1, x2, y2 = self._ends()
        return x1 + (x2 - x1) * at, y1 + (y2 - y1) * at

    @property
    def label_at(self) -> tuple[float, float]:
        """Return the point at fraction `at`, where the label (or its key) was placed, in cm."""
        return tuple(round(v, 3) for v in self.point(self.at))


@dataclass(frozen=True)
class Diagram:
    """Nodes, arrows and every label (edge labels, unit values, keys, legend), in cm; `width` and `height`
    include the legend. `labelled` is False for a network too large for labels."""

    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    width: float
    height: float
    labelled: bool
    labels: tuple[Label, ...] = ()

    @property
    def legend(self) -> tuple[Label, ...]:
        return tuple(label for label in self.labels if label.kind == "legend")


def layout(derivation, notation: Notation | None = None, edge_labels: str = "weights",
           unit_values: bool = False, digits: int = 4) -> Diagram:
    """Return the diagram of a derivation's network.

    `edge_labels`: weights (names), values (name = value), gradients (∂E/∂w),
    updated (w⁺), or none. `unit_values` adds each input's value and each
    unit's net and out. Values are written with `digits` significant digits.
    """
    if edge_labels not in EDGE_LABELS:
        raise ValueError(f"edge labels must be one of {', '.join(EDGE_LABELS)}")
    network: Network = derivation.network
    notation = notation or Notation(network)
    columns = [[(name, symbol) for name, symbol in network.inputs]] + [
        [(unit.name, unit) for unit in layer.units] for layer in network.layers]
    labelled = len(columns) <= LABEL_LIMIT[0] and max(len(c) for c in columns) <= LABEL_LIMIT[1]
    number = lambda value: format_number(value, digits)  # noqa: E731
    dense = {layer.index: sum(len(unit.connections) for unit in layer.units) > EDGE_LABEL_LIMIT
             for layer in network.layers}
    labels = {layer.index: "none" if dense[layer.index] or not labelled else edge_labels for layer in network.layers}
    texts = {layer.index: _edge_texts(derivation, notation, layer, labels[layer.index], number)
             for layer in network.layers}
    beside = any(unit.bias is not None and _bias_users(layer)[unit.bias.name] == 1
                 for layer in network.layers for unit in layer.units)
    widest = max([Text.width(t[2], EDGE_FONT) for layer in texts.values() for t in layer.values()] + [0.0])
    # Long labels get wider gaps between layers, as long as the whole stays within a page's width.
    column = max(COLUMN, min(1.2 + 1.5 * widest, (PAGE - 2.0) / max(1, len(columns) - 1)))
    row = ROW + (0.7 if beside else 0.0) + (0.4 if unit_values and labelled else 0.0)

    tallest = max(len(c) for c in columns)
    nodes: dict[str, Node] = {}
    for index, column_items in enumerate(columns):
        top = (tallest - len(column_items)) * row / 2 + row
        for position, (name, item) in enumerate(column_items):
            x, y = index * column + 1.0, top + position * row
            if index == 0:
                values = (number(derivation.values[item]),) if unit_values else ()
                nodes[name] = Node(name, "input", x, y, notation.latex(item), notation.text(item), values,
                                   written(notation.latex(item)))
                continue
            values = ()
            if unit_values:
                values = (f"net {number(derivation.values[item.net])}", f"out {number(derivation.values[item.out])}")
            latex, text = _unit_name(notation, item)
            nodes[name] = Node(name, "unit", x, y, latex, text, values, Text.plain(text, roman=True))
    edges: list[Edge] = []
    for layer in network.layers:
        for position, unit in enumerate(layer.units):
            for connection in unit.connections:
                # Labels of the arrows into one unit are first tried at one fraction, different for each
                # unit, so that labels of crossing arrows do not meet at the crossing.
                at = 0.2 + 0.5 * position / max(1, len(layer.units) - 1)
                latex, text, shown = texts[layer.index][(unit.name, connection.source)]
                edges.append(Edge(nodes[connection.source], nodes[unit.name], latex, text, at, shown))
        edges.extend(_bias_edges(notation, layer, nodes, texts[layer.index], column, row))
    nodes = {name: _fitted(node) for name, node in nodes.items()}
    edges = [replace(e, source=nodes[e.source.name], target=nodes[e.target.name]) for e in edges]
    drawn, placed = list(nodes.values()), []
    if labelled:
        drawn, edges, placed = _Placer(drawn, edges).place()
    return _framed(drawn, edges, placed, labelled)


def _unit_name(notation: Notation, unit) -> tuple[str, str]:
    """Return (LaTeX, text) of a unit's own name as the documents write it (h1; 3 in index notation)."""
    return notation.unit(unit.name, latex=True), notation.unit(unit.name, latex=False)


def _bias_users(layer) -> dict[str, int]:
    users: dict[str, int] = {}
    for unit in layer.units:
        if unit.bias is not None:
            users[unit.bias.name] = users.get(unit.bias.name, 0) + 1
    return users


def _edge_texts(derivation, notation, layer, edge_labels, number) -> dict:
    """Return (target, source) -> (LaTeX, text, Text) of the label of each arrow into `layer` (empty when
    none); a bias's source is "bias:<its name>". A bias's name is on its node: with `weights` its arrows
    carry nothing."""
    texts = {}
    for unit in layer.units:
        for connection in unit.connections:
            texts[(unit.name, connection.source)] = _label(derivation, notation, connection.weight, edge_labels,
                                                           number)
        if unit.bias is not None:
            bias_labels = "none" if edge_labels == "weights" else edge_labels
            texts[(unit.name, "bias:" + unit.bias.name)] = _label(derivation, notation, unit.bias, bias_labels,
                                                                  number)
    return texts


def _label(derivation, notation, parameter, edge_labels, number) -> tuple[str, str, Text]:
    if edge_labels == "none":
        return "", "", Text(())
    symbol = parameter.symbol
    if edge_labels == "weights":
        return notation.latex(symbol), notation.text(symbol), written(notation.latex(symbol))
    shown = {"values": symbol, "gradients": QuantitySymbol("gradient", parameter.name),
             "updated": symbol.after}[edge_labels]
    value = number(derivation.values[shown])
    return (f"{notation.latex(shown)} = {value}", f"{notation.text(shown)} = {value}",
            written(notation.latex(shown)) + Text.plain(f" = {value}"))


def _bias_edges(notation, layer, nodes, texts, column, row) -> list[Edge]:
    """Add the bias nodes of `layer` to `nodes`: a shared one above the layer, on the left, with an arrow to
    each unit (its value written once, on its first arrow); a unit's own just above the unit."""
    edges, shared = [], {}
    for unit in layer.units:
        if unit.bias is not None:
            shared.setdefault(unit.bias.name, []).append(unit)
    for name, units in shared.items():
        parameter, target = units[0].bias, nodes[units[0].name]
        if len(units) > 1:
            x, y = target.x - column * 0.5, min(nodes[u.name].y for u in units) - ROW * 0.8
        else:
            x, y = target.x, target.y - row * 0.5
        latex = notation.latex(parameter.symbol)
        node = Node(f"bias:{name}", "bias", x, y, latex, notation.text(parameter.symbol), (), written(latex),
                    BIAS_FONT)
        nodes[node.name] = node
        for position, unit in enumerate(units):
            latex, text, shown = texts[(unit.name, node.name)] if position == 0 else ("", "", Text(()))
            edges.append(Edge(node, nodes[unit.name], latex, text, 0.5, shown))
    return edges


def _fitted(node: Node) -> Node:
    """Return the node with its name's font shrunk to fit its circle, or keyed when it cannot (see _Placer)."""
    room = 2 * node.radius - 0.12
    width = node.written.width(node.size)
    if width <= room:
        return node
    return replace(node, size=max(node.size * SMALLEST_NAME, node.size * room / width))


# --- placing labels ------------------------------------------------------------------------------------------

def _overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _grown(box, by: float):
    return box[0] - by, box[1] - by, box[2] + by, box[3] + by


def _meets_circle(box, x: float, y: float, r: float) -> bool:
    nearest_x, nearest_y = min(max(x, box[0]), box[2]), min(max(y, box[1]), box[3])
    return math.hypot(nearest_x - x, nearest_y - y) < r


def _meets_segment(box, x1, y1, x2, y2) -> bool:
    """Return whether the segment enters the box (Liang–Barsky clipping)."""
    low, high, dx, dy = 0.0, 1.0, x2 - x1, y2 - y1
    for p, q in ((-dx, x1 - box[0]), (dx, box[2] - x1), (-dy, y1 - box[1]), (dy, box[3] - y1)):
        if p == 0:
            if q < 0:
                return False
            continue
        t = q / p
        if p < 0:
            low = max(low, t)
        else:
            high = min(high, t)
        if low > high:
            return False
    return True


class _Placer:
    """Places labels one by one, in a fixed order, where they meet nothing already there.

    Obstacles are every node (a label inside a node's circle is the node's name, drawn there), every arrow
    (its line grown by ARROW_PAD, its head by HEAD) and every label placed so far. In turn: nodes whose
    names did not fit (keyed), then each node's values (below, above, right, left of it), then each arrow's
    label at fractions of its arrow nearest its first choice (a bias's also beside the bias node), each tried
    at its size and one step smaller; what finds no place becomes a numbered key at its arrow (or its node)
    and a line of the legend.
    """

    FRACTIONS = tuple(round(0.12 + 0.04 * i, 2) for i in range(20))  # 0.12 .. 0.88

    def __init__(self, nodes: list[Node], edges: list[Edge]):
        self.nodes, self.edges = nodes, edges
        self.placed: list[Label] = []
        self.taken: list[tuple[float, float, float, float]] = []  # the placed labels' boxes, grown by PAD
        self.legend: list[tuple[str, Text]] = []
        self.segments = [self.segment(edge) for edge in edges]

    @staticmethod
    def segment(edge: Edge):
        """Return an arrow's line and the part its head covers, each as (x1, y1, x2, y2)."""
        x1, y1, x2, y2 = edge.line
        length = math.hypot(x2 - x1, y2 - y1) or 1.0
        head = max(0.0, 1 - HEAD[0] / length)
        return (x1, y1, x2, y2), (x1 + (x2 - x1) * head, y1 + (y2 - y1) * head, x2, y2)

    def free(self, label: Label, arrow: int | None = None) -> bool:
        """Return whether `label` meets no label placed so far, no node, and no arrow but arrow `arrow`."""
        box = _grown(label.box, PAD)
        if any(_overlap(box, other) for other in self.taken):
            return False
        if any(_meets_circle(box, n.x, n.y, n.radius) for n in self.nodes):
            return False
        line, head = _grown(box, ARROW_PAD), _grown(box, HEAD[1])
        return not any(index != arrow and (_meets_segment(line, *whole) or _meets_segment(head, *tip))
                       for index, (whole, tip) in enumerate(self.segments))

    def add(self, label: Label):
        self.placed.append(label)
        self.taken.append(_grown(label.box, PAD))

    def key(self, text: Text) -> str:
        self.legend.append((str(len(self.legend) + 1), text))
        return self.legend[-1][0]

    def place(self):
        nodes = []
        for node in self.nodes:  # names too long for their circle, even shrunk
            room = 2 * node.radius - 0.12
            if node.written.width(node.size) > room:
                node = replace(node, key=self.key(node.written), size=min(node.size, KEY_FONT * 1.2))
            nodes.append(node)
        self.nodes = nodes
        by_name = {n.name: n for n in nodes}
        self.edges = [replace(e, source=by_name[e.source.name], target=by_name[e.target.name]) for e in self.edges]
        for node in nodes:
            if node.values:
                self.place_values(node)
        edges = []
        for index, edge in enumerate(self.edges):
            edges.append(self.place_edge(index, edge) if edge.written.runs else edge)
        self.edges = edges
        return nodes, edges, self.placed + self.legend_labels()

    def place_values(self, node: Node):
        """Place a node's values below, above, right or left of it, a little further out each time, but always
        nearer to it than to any other node; else key them."""
        lines = tuple(Text.plain(value, roman=True) for value in node.values)
        for size in (VALUE_FONT, VALUE_FONT * SHRINK):
            probe = Label(lines, 0.0, 0.0, size, "value")
            w, h = probe.width, probe.height
            for step in range(4):
                gap = node.radius + 0.06 + 0.15 * step
                for x, y in ((node.x, node.y + gap + h / 2), (node.x, node.y - gap - h / 2),
                             (node.x + gap + w / 2, node.y), (node.x - gap - w / 2, node.y)):
                    label = replace(probe, x=x, y=y)
                    if self.nearest(label, node) and self.free(label):
                        self.add(label)
                        return
        joined = Text(())
        for position, line in enumerate(lines):
            joined = joined + (Text.plain(", ", roman=True) if position else Text(())) + line
        self.keyed(node.written + Text.plain(": ", roman=True) + joined, [(node.x, node.y - node.radius - 0.22)], None)

    def nearest(self, label: Label, node: Node) -> bool:
        """Return whether `label`'s box is nearer to `node`'s circle than to any other node's."""
        def distance(n):
            box = label.box
            dx = max(box[0] - n.x, 0.0, n.x - box[2])
            dy = max(box[1] - n.y, 0.0, n.y - box[3])
            return math.hypot(dx, dy) - n.radius
        own = distance(node)
        return all(own < distance(other) for other in self.nodes if other is not node)

    def candidates(self, edge: Edge) -> list[tuple[float, float, float]]:
        """Return (fraction, x, y) where the label of `edge` may go, in order of preference."""
        fractions = sorted(self.FRACTIONS, key=lambda f: (abs(f - edge.at), f))
        points = [(f, *edge.point(f)) for f in fractions]
        return points

    def spots(self, edge: Edge, probe: Label) -> list[tuple[float, float, float]]:
        """Return (fraction, x, y) where the label `probe` of `edge` may go: on its arrow, and for a bias's
        arrow also beside the bias node (right, left, above)."""
        spots = self.candidates(edge)
        if edge.source.kind == "bias":
            s, w, h = edge.source, probe.width, probe.height
            spots += [(edge.at, s.x + s.radius + 0.06 + w / 2, s.y), (edge.at, s.x - s.radius - 0.06 - w / 2, s.y),
                      (edge.at, s.x, s.y - s.radius - 0.06 - h / 2)]
        return spots

    def place_edge(self, index: int, edge: Edge) -> Edge:
        for size in (EDGE_FONT, EDGE_FONT * SHRINK):
            probe = Label((edge.written,), 0.0, 0.0, size, "edge", arrow=index)
            for at, x, y in self.spots(edge, probe):
                label = replace(probe, x=x, y=y)
                if self.free(label, arrow=index):
                    self.add(label)
                    return replace(edge, at=at)
        route = Text.plain(" (") + edge.source.written + Text.plain(" → ") + edge.target.written + Text.plain(")")
        at = self.keyed(edge.written, self.candidates(edge), index, route)
        return replace(edge, at=at if at is not None else edge.at)

    def keyed(self, text: Text, spots, arrow: int | None, route: Text | None = None):
        """Put `text` in the legend under a new key, drawn at the first free spot; return its fraction.
        When no spot is free the legend line also says which arrow it is (`route`)."""
        key = str(len(self.legend) + 1)
        for spot in spots:
            at, x, y = spot if len(spot) == 3 else (None, *spot)
            label = Label((Text.plain(key),), x, y, KEY_FONT, "key", arrow=arrow, ring=KEY_RING)
            if self.free(label, arrow=arrow):
                self.add(label)
                self.key(text)
                return at
        self.key(text + route if route is not None else text)
        return None

    def legend_labels(self) -> list[Label]:
        """Return the legend's keys and lines, laid out from (0, 0) in rows of columns; _framed moves them
        under the diagram."""
        if not self.legend:
            return []
        lines = [Label((text,), 0.0, 0.0, EDGE_FONT, "legend", anchor="start") for _, text in self.legend]
        pitch = max(max(label.height for label in lines), 2 * KEY_RING) + 2 * PAD + 0.06
        entry = 2 * KEY_RING + 0.15 + max(label.width for label in lines) + 0.4
        right = max(n.x + n.radius for n in self.nodes) + 0.5
        per_row = max(1, int((right - MARGIN) // entry))
        labels = []
        for position, ((key, _), line) in enumerate(zip(self.legend, lines)):
            x, y = (position % per_row) * entry, (position // per_row) * pitch + pitch / 2
            labels.append(Label((Text.plain(key),), x + KEY_RING, y, KEY_FONT, "legend-key", ring=KEY_RING))
            labels.append(replace(line, x=x + 2 * KEY_RING + 0.15, y=y))
        return labels


def _framed(nodes: list[Node], edges: list[Edge], labels: list[Label], labelled: bool) -> Diagram:
    """Return the diagram moved so that everything (the legend under the rest) sits MARGIN from the top left."""
    drawing = [label for label in labels if not label.kind.startswith("legend")]
    legend = [label for label in labels if label.kind.startswith("legend")]
    boxes = [(n.x - n.radius, n.y - n.radius, n.x + n.radius, n.y + n.radius) for n in nodes]
    boxes += [label.box for label in drawing]
    left, top = min(b[0] for b in boxes), min(b[1] for b in boxes)
    dx, dy = MARGIN + 0.2 - left, MARGIN + 0.2 - top
    nodes = [replace(n, x=round(n.x + dx, 3), y=round(n.y + dy, 3)) for n in nodes]
    by_name = {n.name: n for n in nodes}
    edges = [replace(e, source=by_name[e.source.name], target=by_name[e.target.name]) for e in edges]
    drawing = [replace(label, x=round(label.x + dx, 3), y=round(label.y + dy, 3)) for label in drawing]
    bottom = max(b[3] for b in boxes) + dy
    right = max(b[2] for b in boxes) + dx
    if legend:
        start = bottom + 0.35
        legend = [replace(label, x=round(label.x + MARGIN + 0.2, 3), y=round(label.y + start, 3)) for label in legend]
        bottom = max(label.box[3] for label in legend)
        right = max([right] + [label.box[2] for label in legend])
    return Diagram(tuple(nodes), tuple(edges), round(right + MARGIN + 0.2, 3), round(bottom + MARGIN + 0.2, 3),
                   labelled, tuple(drawing + legend))
