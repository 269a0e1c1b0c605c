"""The document as a format-neutral outline: blocks of mathematics and text that each format's emitter lays out.

A block says what is shown, never how: a :class:`Table` is a header and rows
of cells, a cell a sequence of :class:`Math` (already written by the
format's printer: LaTeX for md, tex and html, Unicode for text) and
:class:`Text` (prose from the catalogue, or a name, which the emitter
escapes). Each format has one macro per block kind (``templates/<format>/blocks.*.j2``).

The tables of the documents are built here: an answer key's answers, the
network and its given values (the same for the derivation and the exercise
sheet), the forward
pass after the update, the summary of gradients and updates, and the
self-check. The steps and the prose of the sections are the next to move
into the outline.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Union


@dataclass(frozen=True)
class Math:
    """Mathematics, already written in the format's notation."""

    written: str


@dataclass(frozen=True)
class Text:
    """Prose or a name, as plain text: the emitter escapes it for its format."""

    text: str


Piece = Union[Math, Text]
Cell = tuple[Piece, ...]


@dataclass(frozen=True)
class Table:
    """A table: `header` cells and `rows` of cells. `role` names what it holds (given, layers), for emitters
    that lay tables out differently (the TeX emitter sets long lists of values in column groups)."""

    header: tuple[Cell, ...]
    rows: tuple[tuple[Cell, ...], ...]
    role: str = ""


def given(derivation, writer, messages, local: dict, unit_labels) -> tuple[Table, Table]:
    """Return the tables of the given values (inputs, targets, parameters, learning rate) and of the layers."""
    network, spec = derivation.network, derivation.network.spec
    math, number = (lambda expr: Math(writer.math(expr))), (lambda value: Math(writer.number(value)))
    values = [((math(symbol),), (number(value),))
              for (_, symbol), value in zip(network.inputs, spec.sample_inputs)]
    values += [((math(symbol),), (number(value),)) for symbol, value in zip(network.targets, spec.targets)]
    values += [((math(p.symbol),), (number(p.value),)) for p in network.parameters]
    values.append(((math(network.learning_rate), Text(f" ({messages('learning_rate')})")),
                   (number(spec.learning_rate),)))
    layers = []
    for layer in network.layers:
        if layer.activation.layer_wise:
            activation = (Text(messages("softmax_definition")),)
        else:
            written = f"{layer.activation.latex_name if writer.latex else layer.activation.text_name}" \
                      f"({local['x']}) = {writer.math(layer.activation.formula)}"
            activation = (Math(written),)
        bias = "bias_none" if not layer.units[0].bias else "bias_shared" if layer.bias_shared else "bias_per_unit"
        layers.append(((Text(str(layer.index)),), (Text(unit_labels(layer)),), activation, (Text(messages(bias)),)))
    return (Table(_header(messages, "quantity", "value"), tuple(values), "given"),
            Table(_header(messages, "layer", "units", "activation", "bias"), tuple(layers), "layers"))


def _header(messages, *keys) -> tuple[Cell, ...]:
    return tuple((Text(messages(key)),) for key in keys)


def after(derivation, writer, messages) -> Table:
    """Return the table of each output and the loss, before and after the update."""
    network, values, number = derivation.network, derivation.values, (lambda v: (Math(writer.number(v)),))
    rows = [((Math(writer.math(unit.out)),), number(values[unit.out]), number(values[unit.out.after]))
            for unit in network.units]
    rows.append(((Math(writer.math(network.loss)),), number(values[network.loss]),
                 number(values[network.loss.after])))
    return Table(_header(messages, "quantity", "before_update", "after_update"), tuple(rows), "after")


def summary(derivation, writer, messages) -> Table:
    """Return the table of every parameter's gradient and updated value."""
    from ..quantities import QuantitySymbol
    values, rows = derivation.values, []
    for p in derivation.network.parameters:
        updated = (Math(writer.number(values[p.symbol.after])),) + \
            (() if p.trainable else (Text(f" ({messages('note_not_updated')})"),))
        rows.append(((Math(writer.math(p.symbol)),),
                     (Math(writer.number(values[QuantitySymbol("gradient", p.name)])),), updated))
    return Table(_header(messages, "quantity", "gradient", "updated"), tuple(rows), "summary")


def verification(derivation, writer, messages) -> Table | None:
    """Return the table of the self-check (each gradient, its direct derivative and its finite difference)."""
    if not derivation.checks:
        return None
    number = lambda v: (Math(writer.number(v)),)  # noqa: E731
    rows = tuple(((Math(writer.math(c.symbol)),), number(c.gradient), number(c.direct), number(c.finite_difference))
                 for c in derivation.checks)
    return Table(_header(messages, "quantity", "gradient", "direct", "finite_difference"), rows, "verification")


def answers(derivation, writer, messages, questions) -> Table | None:
    """Return the table of an answer key: each asked quantity and its value (None when nothing is asked)."""
    if not questions:
        return None
    rows = tuple(((Math(writer.math(q.symbol)),), (Math(writer.number(derivation.values[q.symbol])),))
                 for q in questions)
    return Table(_header(messages, "quantity", "value"), rows, "answers")
