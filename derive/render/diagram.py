"""The network diagram: a layout computed once, drawn as SVG (HTML, Markdown) or TikZ (LaTeX, PDF).

The layout is data (nodes and edges with coordinates in centimetres and
labels in LaTeX and text); `templates/svg/diagram.svg.j2` and
`templates/tex/diagram.tex.j2` draw it. Past LABEL_LIMIT (layers, units per
layer) the diagram is drawn without labels, and the arrows into a layer with
more than EDGE_LABEL_LIMIT of them carry none (their values are in the table
of given values), so it stays legible.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

from ..network import Network
from ..quantities import QuantitySymbol
from ..notation import Notation
from ..numbers import format_number

EDGE_LABELS = ("weights", "values", "gradients", "updated", "none")
LABEL_LIMIT = (6, 8)       # at most this many layers (inputs included) and units per layer carry labels
EDGE_LABEL_LIMIT = 9       # arrows between two layers that may carry labels; denser layers show names only
COLUMN = 3.6               # cm between layers
ROW = 1.7                  # cm between units of a layer


@dataclass(frozen=True)
class Node:
    """A circle: an input, a unit or a bias, at (x, y) cm, y growing downwards."""

    name: str
    kind: str
    x: float
    y: float
    latex: str
    text: str
    values: tuple[str, ...] = ()  # "net 0.3775", "out 0.5933": plain text, valid in LaTeX too

    @property
    def radius(self) -> float:
        return 0.28 if self.kind == "bias" else 0.45

    @property
    def id(self) -> str:
        """A name safe in TikZ and SVG, whatever the unit is called."""
        return "n" + "".join(c if c.isalnum() else "-" for c in self.name)

    @property
    def tikz(self) -> tuple[str, str]:
        """Return the TikZ node reference "(id)" and position "(x, y)"."""
        return f"({self.id})", f"({round(self.x, 3)}, {round(self.y, 3)})"


@dataclass(frozen=True)
class Edge:
    """An arrow from `source` to `target`, labelled at fraction `at` of its length."""

    source: Node
    target: Node
    latex: str
    text: str
    at: float

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

    @property
    def label_at(self) -> tuple[float, float]:
        """Return where the label sits, in cm."""
        x1, y1, x2, y2 = self._ends()
        return round(x1 + (x2 - x1) * self.at, 3), round(y1 + (y2 - y1) * self.at, 3)


@dataclass(frozen=True)
class Diagram:
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    width: float
    height: float
    labelled: bool


def layout(derivation, notation: Notation | None = None, edge_labels: str = "weights",
           unit_values: bool = False, digits: int = 4) -> Diagram:
    """Return the diagram of a derivation's network.

    `edge_labels`: weights (names), values (name = value), gradients (∂E/∂w),
    updated (w⁺), or none. `unit_values` adds each unit's net and out.
    """
    if edge_labels not in EDGE_LABELS:
        raise ValueError(f"edge labels must be one of {', '.join(EDGE_LABELS)}")
    network: Network = derivation.network
    notation = notation or Notation(network)
    columns = [[(name, symbol) for name, symbol in network.inputs]] + [
        [(unit.name, unit) for unit in layer.units] for layer in network.layers]
    labelled = len(columns) <= LABEL_LIMIT[0] and max(len(c) for c in columns) <= LABEL_LIMIT[1]
    tallest = max(len(c) for c in columns)
    number = lambda value: format_number(value, digits)  # noqa: E731
    nodes: dict[str, Node] = {}
    for index, column in enumerate(columns):
        top = (tallest - len(column)) * ROW / 2 + ROW
        for row, (name, item) in enumerate(column):
            x, y = index * COLUMN + 1.0, top + row * ROW
            if index == 0:
                values = (number(derivation.values[item]),) if unit_values else ()
                nodes[name] = Node(name, "input", x, y, notation.latex(item), notation.text(item), values)
                continue
            label = item.name if notation.style == "named" else str(item.number)
            values = ()
            if unit_values:
                values = (f"net {number(derivation.values[item.net])}", f"out {number(derivation.values[item.out])}")
            nodes[name] = Node(name, "unit", x, y, label.replace("_", r"\_"), label, values)
    edges = []
    for layer in network.layers:
        dense = sum(len(unit.connections) for unit in layer.units) > EDGE_LABEL_LIMIT
        labels = "none" if dense else edge_labels
        for position, unit in enumerate(layer.units):
            target = nodes[unit.name]
            for connection in unit.connections:
                # Labels of the arrows into one unit sit at the same fraction, different for each unit,
                # so labels of crossing arrows do not meet at the crossing.
                at = 0.2 + 0.5 * position / max(1, len(layer.units) - 1)
                edges.append(_edge(derivation, notation, nodes[connection.source], target, connection.weight,
                                   labels, number, at))
        edges.extend(_bias_edges(derivation, notation, layer, nodes, labels, number))
    left = min(node.x for node in nodes.values()) - 1.0
    top = min(node.y for node in nodes.values()) - 1.0
    if left < 0 or top < 0:  # bias nodes may sit above or left of the first row: shift everything
        shift_x, shift_y = max(0.0, -left), max(0.0, -top)
        moved = {name: _moved(node, shift_x, shift_y) for name, node in nodes.items()}
        edges = [Edge(moved[e.source.name], moved[e.target.name], e.latex, e.text, e.at) for e in edges]
        nodes = moved
    width = max(node.x for node in nodes.values()) + 1.0 + (1.6 if unit_values else 0.0)
    height = max(node.y for node in nodes.values()) + 1.0
    return Diagram(tuple(nodes.values()), tuple(edges), width, height, labelled)


def _moved(node: Node, dx: float, dy: float) -> Node:
    return replace(node, x=node.x + dx, y=node.y + dy)


def _bias_edges(derivation, notation, layer, nodes, edge_labels, number) -> list[Edge]:
    """Add the bias nodes of `layer` to `nodes`: one above the layer when shared, else one beside each unit."""
    edges, shared = [], {}
    for unit in layer.units:
        if unit.bias is not None:
            shared.setdefault(unit.bias.name, []).append(unit)
    for name, units in shared.items():
        parameter, target = units[0].bias, nodes[units[0].name]
        if len(units) > 1:
            x, y = target.x - COLUMN * 0.5, min(nodes[u.name].y for u in units) - ROW * 0.8
        else:  # just above its unit, clear of the arrows coming in from the left
            x, y = target.x + 0.55, target.y - ROW * 0.5
        node = Node(f"bias:{name}", "bias", x, y, notation.latex(parameter.symbol), notation.text(parameter.symbol))
        nodes[node.name] = node
        for position, unit in enumerate(units):  # a shared bias's value is written once, on its first arrow
            labels = edge_labels if position == 0 else "none"
            edges.append(_edge(derivation, notation, node, nodes[unit.name], parameter, labels, number, 0.5,
                               bias=True))
    return edges


def _edge(derivation, notation, source, target, parameter, edge_labels, number, at, bias=False) -> Edge:
    if edge_labels == "none" or (bias and edge_labels == "weights"):
        return Edge(source, target, "", "", at)
    symbol = parameter.symbol
    if edge_labels == "weights":
        return Edge(source, target, notation.latex(symbol), notation.text(symbol), at)
    shown = {"values": symbol, "gradients": QuantitySymbol("gradient", parameter.name), "updated": symbol.after}[edge_labels]
    value = number(derivation.values[shown])
    return Edge(source, target, f"{notation.latex(shown)} = {value}", f"{notation.text(shown)} = {value}", at)
