"""The document as a format-neutral outline: blocks that each format's emitter lays out.

A block says what is shown, never how. Mathematics in it is already written
by the format's printer (LaTeX for md, tex, html and json; Unicode for text)
from the SymPy objects of the derivation, the general δ rule included; prose
comes from the message catalogue. Each format has one macro per block kind
(``templates/<format>/blocks.*.j2``) and lays a :class:`Document` out block by
block; a new format is one such emitter, a new view one builder here.

Blocks: :class:`Heading`, :class:`Paragraph` (prose and mathematics, with a
role such as ``pitfall``), :class:`Steps` (the chains of one part of the
derivation), :class:`Formulas` (general rules), :class:`Table`,
:class:`Diagram` (the network, drawn or linked by the format),
:class:`Questions` (an exercise sheet's questions with room for working).
"""
from __future__ import annotations

import string
from dataclasses import dataclass
from typing import ClassVar, Union


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
class Heading:
    """A heading: `level` 1 is the document's title, 2 a section (`number`ed or not), 3 a part of a section."""

    kind: ClassVar[str] = "heading"
    level: int
    text: str
    number: int | None = None


@dataclass(frozen=True)
class Paragraph:
    """Prose with mathematics in it. `role` says what it is, for emitters that set some apart: "" (prose),
    description, provenance, aside (a remark on the figures), pitfall, result, closing, name (a sheet's
    line for the student's name)."""

    kind: ClassVar[str] = "paragraph"
    pieces: Cell
    role: str = ""


@dataclass(frozen=True)
class Chain:
    """One step of the derivation as a chain of equalities: `parts` are the left-hand side, the symbolic
    forms, the form with numbers and the value; `notes` are sentences about it. `step` is the engine's Step."""

    parts: tuple[str, ...]
    notes: tuple[str, ...]
    step: object = None


@dataclass(frozen=True)
class Steps:
    """The steps of one part of the derivation, in order."""

    kind: ClassVar[str] = "steps"
    chains: tuple[Chain, ...]


@dataclass(frozen=True)
class Formulas:
    """General rules shown together, each a chain of equal parts (δ_j = … = …)."""

    kind: ClassVar[str] = "formulas"
    chains: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Table:
    """A table: `header` cells and `rows` of cells. `role` names what it holds (given, layers, answers, ...),
    for emitters that lay tables out differently (the TeX emitter sets long lists of values in column groups)."""

    kind: ClassVar[str] = "table"
    header: tuple[Cell, ...]
    rows: tuple[tuple[Cell, ...], ...]
    role: str = ""


@dataclass(frozen=True)
class Diagram:
    """The network's diagram: drawn in place (TikZ, SVG) or linked (Markdown's SVG file beside it)."""

    kind: ClassVar[str] = "diagram"


@dataclass(frozen=True)
class Questions:
    """An exercise sheet's questions: each asked quantity, written, with `space` cm of room for working."""

    kind: ClassVar[str] = "questions"
    asked: tuple[str, ...]
    space: float


@dataclass(frozen=True)
class Curve:
    """Loss curves of training runs: `series` (label, ((step, loss), …)) each, drawn as `svg` (derive's own
    SVG, inline in HTML, a file beside Markdown) or from the points (pgfplots in TeX), the loss axis
    logarithmic when `logarithmic`."""

    kind: ClassVar[str] = "curve"
    svg: str
    series: tuple[tuple[str, tuple[tuple[int, float], ...]], ...]
    logarithmic: bool
    x_label: str
    y_label: str


Block = Union[Heading, Paragraph, Steps, Formulas, Table, Diagram, Questions, Curve]


@dataclass(frozen=True)
class Document:
    """A document: its `title` (plain text, for a page's title bar) and its blocks, in order."""

    title: str
    blocks: tuple[Block, ...]

    def chains(self) -> list[Chain]:
        """Return every step's chain, in order."""
        return [chain for block in self.blocks if isinstance(block, Steps) for chain in block.chains]


def pieces(messages, key: str, **fields) -> Cell:
    """Return message `key` as pieces: its prose as Text, each field as given (a Math, or text)."""
    result: list[Piece] = []
    for literal, field, _, _ in string.Formatter().parse(messages.messages[key]):
        if literal:
            result.append(Text(literal))
        if field is not None:
            value = fields[field]
            result.append(value if isinstance(value, (Math, Text)) else Text(str(value)))
    return tuple(result)


class _Builder:
    """Builds the blocks of one derivation's documents with one writer (the format's printer) and catalogue."""

    def __init__(self, derivation, writer, messages):
        from ..derivation import index_letters
        from ..functions import O, T, X
        self.derivation, self.w, self._ = derivation, writer, messages
        self.network = derivation.network
        self.spec = self.network.spec
        self.k = index_letters(writer.notation.names())[2]  # the index of the output units in general formulas
        self.local = {name: writer.math(symbol) for name, symbol in zip("xot", (X, O, T))}

    def math(self, expression) -> Math:
        return Math(self.w.math(expression))

    def number(self, value) -> Math:
        return Math(self.w.number(value))

    def header(self, *keys) -> tuple[Cell, ...]:
        return tuple((Text(self._(key)),) for key in keys)

    def paragraph(self, key: str, role: str = "", **fields) -> Paragraph:
        return Paragraph(pieces(self._, key, **fields), role)

    def steps(self, steps) -> Steps:
        chains = []
        for step in steps:
            equation = self.w.equation(step)
            chains.append(Chain(equation.parts, tuple(self._("note_" + note) for note in equation.notes), step))
        return Steps(tuple(chains))

    # the parts every document of a derivation shares ----------------------------------------------
    def title(self, key: str | None = None, variant: str | None = None) -> Heading:
        title = self.spec.title or self._("default_title")
        if key is not None:
            title = self._(key + ("_variant" if variant else ""), title=title, variant=variant)
        return Heading(1, title)

    def provenance(self) -> list[Block]:
        blocks: list[Block] = []
        if self.spec.description:
            blocks.append(Paragraph((Text(self.spec.description),), "description"))
        about = [pieces(self._, key, **{key.split("_")[0]: Text(value)})
                 for key, value in (("source_line", self.spec.reference), ("author_line", self.spec.author)) if value]
        if about:
            joined = about[0] if len(about) == 1 else about[0] + (Text(self._("provenance_separator")),) + about[1]
            blocks.append(Paragraph(joined, "provenance"))
        return blocks

    def given(self) -> list[Block]:
        """The network and its given values (the same for the derivation and the exercise sheet)."""
        network, spec, w = self.network, self.spec, self.w
        values = [((self.math(symbol),), (self.number(value),))
                  for (_, symbol), value in zip(network.inputs, spec.sample_inputs)]
        values += [((self.math(symbol),), (self.number(value),)) for symbol, value in zip(network.targets, spec.targets)]
        values += [((self.math(p.symbol),), (self.number(p.value),)) for p in network.parameters]
        values.append(((self.math(network.learning_rate), Text(self._("parenthesised", text=self._("learning_rate")))),
                       (self.number(spec.learning_rate),)))
        for symbol, value in network.rule_values().items():  # the update rule's hyper-parameters and t
            if symbol.kind.name == "hyper":
                values.append(((self.math(symbol), Text(self._("parenthesised", text=symbol.subjects[0]))),
                               (self.number(value),)))
            elif symbol.kind.name == "step_number":
                values.append(((self.math(symbol), Text(self._("parenthesised", text=self._("step_number")))),
                               (self.number(value),)))
        layers = []
        for layer in network.layers:
            if layer.activation.layer_wise:
                activation = (Text(self._("softmax_definition")),)
            else:
                name = layer.activation.latex_name if w.latex else layer.activation.text_name
                activation = (Math(f"{name}({self.local['x']}) = {w.math(layer.activation.formula)}"),)
            bias = "bias_none" if not layer.units[0].bias else "bias_shared" if layer.bias_shared else "bias_per_unit"
            layers.append(((Text(str(layer.index)),), (Text(self.unit_labels(layer)),), activation,
                           (Text(self._(bias)),)))
        from ..functions import Summed
        import sympy
        rule = " = ".join((w.math(network.loss), w.math(Summed(sympy.Symbol(self.k), spec.loss.term))))
        generic = lambda kind: w.notation.generic(kind, self.k, latex=w.latex)  # noqa: E731
        loss = self.paragraph("loss_line", rule=Math(rule), reduction=self._("loss_mean" if spec.loss.reduction == "mean"
                                                                             else "loss_sum"),
                              output=Math(f"{self.local['o']} = {generic('out')}"),
                              target=Math(f"{self.local['t']} = {generic('target')}"))
        if any(p.is_bias for p in network.parameters):
            bias = self._("updating_biases" if spec.update_biases else "not_updating_biases")
            loss = Paragraph(loss.pieces + (Text(self._("sentence_separator") + bias),), loss.role)
        return [Heading(2, self._("given")), Diagram(),
                Table(self.header("quantity", "value"), tuple(values), "given"),
                Table(self.header("layer", "units", "activation", "bias"), tuple(layers), "layers"), loss]

    def unit_labels(self, layer) -> str:
        return ", ".join(self.w.notation.unit(unit.name, latex=False) for unit in layer.units)

    # the worked derivation -----------------------------------------------------------------------
    def derivation_blocks(self, options, answers=None) -> list[Block]:
        d, network, _ = self.derivation, self.network, self._
        blocks: list[Block] = self.provenance()
        if answers:
            blocks += [Heading(2, _("answers")), self.answers(answers)]
        blocks.append(self.paragraph("intro_exact" if options.exact else "intro", digits=options.digits,
                                     rule=self._("rule_" + network.rule.name)))
        if d.options.get("round_steps") is not None:
            blocks.append(self.paragraph("rounding_note", "aside", decimals=d.options["round_steps"]))
        blocks += self.given()
        blocks += [Heading(2, _("forward"), 1), self.paragraph("forward_intro")]
        for layer in network.layers:
            kind = _("output_layer") if layer is network.output_layer else _("hidden_layer", index=layer.index)
            blocks += [Heading(3, _("forward_layer", index=layer.index, kind=kind)),
                       self.steps(s for s in d.section("forward") if s.layer == layer.index)]
        blocks += [Heading(2, _("loss"), 2), self.paragraph("loss_intro"), self.steps(d.section("loss")),
                   Heading(2, _("backward"), 3), self.paragraph("backward_intro")]
        for layer in reversed(network.layers):
            output = layer is network.output_layer
            blocks.append(Heading(3, _("backward_output" if output else "backward_hidden", index=layer.index)))
            if layer.activation.layer_wise:
                blocks.append(self.paragraph("backward_layer_wise_intro"))
            elif output:
                blocks.append(self.paragraph("backward_output_intro"))
            else:
                blocks += [self.paragraph("backward_hidden_intro"), self.rules()]
            blocks.append(self.steps(s for s in d.section("backward") if s.layer == layer.index))
        blocks += [Heading(2, _("update"), 4), *self.update_rule(),
                   self.paragraph("update_pitfall", "pitfall"), self.steps(d.section("update")),
                   Heading(2, _("after"), 5), self.paragraph("after_intro"), self.after()]
        before, after = d.values[network.loss], d.values[network.loss.after]
        blocks.append(self.paragraph("loss_change" if after < before else "loss_rises",
                                     before=self.number(before), after=self.number(after)))
        blocks += [Heading(2, _("summary")), self.summary()]
        if d.checks:
            blocks += [Heading(2, _("verification")), self.paragraph("verification_intro"), self.verification(),
                       self.paragraph("verification_passed" if d.verified else "verification_failed", "result",
                                      count=len(d.checks))]
        blocks.append(self.paragraph("generated_by", "closing"))
        return blocks

    def rules(self) -> Formulas:
        """The δ recursion and the gradient of a weight in general (derive.derivation.general_rules)."""
        from ..derivation import general_rules
        chains = general_rules(self.w.notation.names())
        return Formulas(tuple(tuple(self.w.math(part) for part in chains[name]) for name in ("delta", "gradient")))

    def update_rule(self) -> list[Block]:
        """The update rule in general, its lines written for a parameter p (derive.derivation.rule_lines)."""
        from ..derivation import rule_lines
        from ..quantities import QuantitySymbol
        rule, taken = self.network.rule, self.w.notation.names()
        letter = next(name for name in ("p", "q", "theta", "phi") if name not in taken)
        lines = rule_lines(rule, letter)
        blocks = [self.paragraph("update_intro", rule=self._("rule_" + rule.name),
                                 p=self.math(QuantitySymbol("param", letter)),
                                 p_after=self.math(QuantitySymbol("update", letter))),
                  Formulas(tuple((self.w.math(lhs), self.w.math(written)) for lhs, written, _ in lines))]
        if rule.states:
            states = [self.w.math(QuantitySymbol("state", name, letter)) for name in rule.states]
            step = "t" in rule.uses()
            blocks.append(self.paragraph("update_state_step" if step else "update_state", states=Math(", ".join(states)),
                                         **({"t": self.math(QuantitySymbol("step_number"))} if step else {})))
        return blocks

    def after(self) -> Table:
        """Each output and the loss, before and after the update."""
        network, values = self.network, self.derivation.values
        rows = [((self.math(unit.out),), (self.number(values[unit.out]),), (self.number(values[unit.out.after]),))
                for unit in network.units]
        rows.append(((self.math(network.loss),), (self.number(values[network.loss]),),
                     (self.number(values[network.loss.after]),)))
        return Table(self.header("quantity", "before_update", "after_update"), tuple(rows), "after")

    def summary(self) -> Table:
        """Every parameter's gradient and updated value."""
        from ..quantities import QuantitySymbol
        values, rows = self.derivation.values, []
        for p in self.network.parameters:
            updated = (self.number(values[p.symbol.after]),) + \
                (() if p.trainable else (Text(self._("parenthesised", text=self._("note_not_updated"))),))
            rows.append(((self.math(p.symbol),), (self.number(values[QuantitySymbol("gradient", p.name)]),), updated))
        return Table(self.header("quantity", "gradient", "updated"), tuple(rows), "summary")

    def verification(self) -> Table:
        """The self-check: each gradient, its forward-mode derivative and its finite difference."""
        rows = tuple(((self.math(c.symbol),), (self.number(c.gradient),), (self.number(c.direct),),
                      (self.number(c.finite_difference),)) for c in self.derivation.checks)
        return Table(self.header("quantity", "gradient", "direct", "finite_difference"), rows, "verification")

    def answers(self, questions) -> Table:
        """An answer key's table: each asked quantity and its value."""
        rows = tuple(((self.math(q.symbol),), (self.number(self.derivation.values[q.symbol]),)) for q in questions)
        return Table(self.header("quantity", "value"), rows, "answers")

    # the exercise sheet --------------------------------------------------------------------------
    def sheet_blocks(self, questions, answer_digits: int, space: float) -> list[Block]:
        return [Paragraph((Text(self._("name_line")),), "name"),
                self.paragraph("sheet_intro", decimals=answer_digits, rule=self._("rule_" + self.network.rule.name)),
                *self.given(),
                Heading(2, self._("questions")), Questions(tuple(self.w.math(q.symbol) for q in questions), space)]


def derivation_document(derivation, writer, messages, options, *, answers=None, variant: str | None = None) -> Document:
    """Return the worked derivation (with `answers`, handout Questions, an answer key listing them first)."""
    builder = _Builder(derivation, writer, messages)
    title = builder.title("key_title" if answers else None, variant)
    return Document(title.text, (title, *builder.derivation_blocks(options, answers)))


def sheet_document(derivation, writer, messages, questions, *, variant: str | None = None, answer_digits: int = 4,
                   space: float = 2.5) -> Document:
    """Return the exercise sheet asking for `questions`, with `space` cm of room for working under each."""
    builder = _Builder(derivation, writer, messages)
    title = builder.title("sheet_title", variant)
    return Document(title.text, (title, *builder.sheet_blocks(questions, answer_digits, space)))
