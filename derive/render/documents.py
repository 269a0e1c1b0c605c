"""The documents of a derivation: the format's writer and the outline, rendered by its templates."""
from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from .. import catalogue
from ..errors import RenderError
from ..notation import Notation
from ..numbers import format_number, to_float
from . import SHEET_FORMATS, formats, outline, render_template, template_directory
from .options import Options
from .printers import MathLatexPrinter, MathTextPrinter, latex_number, text_number


@dataclass(frozen=True)
class Equation:
    """A step written out: `parts` are lhs, the symbolic forms, the form with numbers, the value."""

    step: object
    parts: tuple[str, ...]
    notes: tuple[str, ...]

    @property
    def lhs(self) -> str:
        return self.parts[0]

    @property
    def value(self) -> str:
        return self.parts[-1]


class _Writer:
    """Writes the steps of one derivation in LaTeX (md, tex, html, json) or Unicode text, each expression once.

    Writers are shared (see :func:`_writer`): the four LaTeX formats of one derivation print each
    expression once between them.
    """

    def __init__(self, derivation, latex: bool, digits: int, exact: bool, notation: str):
        self.derivation = derivation
        self.latex, self.digits, self.exact = latex, digits, exact
        self.notation = Notation(derivation.network, notation)
        printer = MathLatexPrinter if latex else MathTextPrinter
        self.symbolic = printer(self.notation, digits=digits, exact=exact)
        self.numeric = printer(self.notation, derivation.values, digits=digits, exact=exact)
        self._written: dict = {}
        self._lock = threading.Lock()

    def math(self, expression) -> str:
        key = ("math", expression)
        if key not in self._written:
            with self._lock:  # SymPy's printers keep state while printing
                self._written[key] = self.symbolic.doprint(expression)
        return self._written[key]

    def number(self, value) -> str:
        text = format_number(value, self.digits, self.exact)
        return latex_number(text) if self.latex else text_number(text)

    def equation(self, step) -> Equation:
        key = ("step", step)
        if key in self._written:
            return self._written[key]
        parts = [self.math(step.lhs)] + [self.math(form) for form in step.forms]
        if step.numbers is not None:
            with self._lock:
                parts.append(self.numeric.doprint(step.numbers))
        parts.append(self.number(step.value))
        unique = [part for index, part in enumerate(parts) if index == 0 or part != parts[index - 1]]
        self._written[key] = Equation(step, tuple(unique), step.notes)
        return self._written[key]


_WRITERS: dict[tuple, tuple[object, _Writer]] = {}
_WRITERS_KEPT = 8
_WRITERS_LOCK = threading.Lock()


def _writer(derivation, latex: bool, digits: int, exact: bool, notation: str) -> _Writer:
    """Return the writer of `derivation` for these settings, shared by the documents rendered from it.

    The few most recent are kept (with their derivation, so that its id is not reused while kept).
    """
    key = (id(derivation), latex, digits, exact, notation)
    with _WRITERS_LOCK:
        kept = _WRITERS.get(key)
        if kept is None or kept[0] is not derivation:
            kept = (derivation, _Writer(derivation, latex, digits, exact, notation))
            _WRITERS[key] = kept
            while len(_WRITERS) > _WRITERS_KEPT:
                del _WRITERS[next(iter(_WRITERS))]
        return kept[1]


def render(derivation, format: str = "md", options: Options | None = None, *, standalone: bool = True,
           diagram_file: str | None = None, answers=None, variant: str | None = None, **changes) -> str:
    """Return the document for `derivation` in `format` (md, tex, html, text or json).

    `options` (an :class:`Options`; keywords such as digits=12 change it)
    say how it is shown. `standalone` (tex only) gives a complete document
    rather than a body to include. The network diagram is TikZ in tex, inline
    SVG in html, and in md a link to `diagram_file` (an SVG file written
    beside it, see :func:`render_diagram`). With `answers` (handout
    Questions) the document is an answer key: those values are listed first
    (`variant` names the variant).
    """
    options = (options or Options()).but(**changes)
    root = template_directory(options.template_dir)
    known = formats(root)
    if format not in known:
        raise RenderError("error_unknown_format", format=format, known=", ".join(known))
    context = document_context(derivation, root, format, options)
    document = outline.derivation_document(derivation, context["w"], context["_"], options, answers=answers,
                                           variant=variant)
    context.update(document=document, standalone=standalone, diagram_file=diagram_file, answers=answers,
                   variant=variant, data=_json_document(derivation, context["w"]) if format == "json" else None)
    return render_template(root, format, f"{format}/derivation.{known[format]}.j2", context)


def document(derivation, format: str = "md", options: Options | None = None, *, answers=None,
             variant: str | None = None, **changes) -> outline.Document:
    """Return the outline of the derivation's document (see :mod:`derive.render.outline`), its mathematics
    written for `format` (Unicode for text, LaTeX for the others); arguments as for :func:`render`."""
    options = (options or Options()).but(**changes)
    context = document_context(derivation, template_directory(options.template_dir), format, options)
    return outline.derivation_document(derivation, context["w"], context["_"], options, answers=answers,
                                       variant=variant)


def render_sheet(derivation, questions, format: str = "md", options: Options | None = None, *,
                 variant: str | None = None, answer_digits: int = 4, diagram_file: str | None = None,
                 **changes) -> str:
    """Return the exercise sheet asking for `questions` (handout Questions) in `format` (md, tex or html),
    leaving `options.space` centimetres of working space under each question."""
    if format not in SHEET_FORMATS:
        raise RenderError("error_sheet_formats", formats=", ".join(SHEET_FORMATS))
    options = (options or Options(edge_labels="values")).but(**changes)
    root = template_directory(options.template_dir)
    context = document_context(derivation, root, format, options)
    document = outline.sheet_document(derivation, context["w"], context["_"], questions, variant=variant,
                                      answer_digits=answer_digits, space=options.space)
    context.update(document=document, questions=questions, variant=variant, diagram_file=diagram_file,
                   standalone=True)
    return render_template(root, format, f"{format}/sheet.{SHEET_FORMATS[format]}.j2", context)


def document_context(derivation, root: Path, format: str, options: Options | None = None) -> dict:
    """Return what every template of a derivation is given: its writer (the format's printer), the message
    catalogue, the diagram's layout for the formats that draw it, and the derivation itself (for a template
    directory's own emitters; the built-in ones lay out the outline's `document`)."""
    from .diagram import layout
    options = options or Options()
    messages = catalogue.Messages(root, options.lang)
    writer = _writer(derivation, latex=format != "text", digits=options.digits, exact=options.exact,
                     notation=options.notation)
    drawn = format in ("tex", "html", "svg")  # md links to an SVG file; text and json have no diagram
    return {
        "d": derivation,
        "network": derivation.network,
        "spec": derivation.network.spec,
        "options": options,
        "w": writer,
        "eq": writer.equation,
        "math": writer.math,
        "number": writer.number,
        "_": messages,
        "lang": options.lang,
        "diagram": layout(derivation, writer.notation, edge_labels=options.edge_labels,
                          unit_values=options.unit_values, digits=options.diagram_digits) if drawn else None,
        "diagram_file": None,
        "marker": "arrow",
    }


def render_diagram(derivation, options: Options | None = None, **changes) -> str:
    """Return the network diagram as a standalone SVG file, marked as derive's (see derive.files)."""
    options = (options or Options()).but(**changes)
    root = template_directory(options.template_dir)
    context = document_context(derivation, root, "svg", options)
    from ..files import mark_svg
    return mark_svg('<?xml version="1.0" encoding="UTF-8"?>\n' + render_template(root, "svg", "svg/diagram.svg.j2", context))


def document_files(derivation, format_: str, path, options: Options, *, sheet=None, diagram=None,
                   compile: bool = True, **document) -> list[tuple[object, object]]:
    """Return [(path, content)] of one document of `derivation` in `format_` (a FORMATS format or pdf).

    With `sheet` (handout Questions) it is the exercise sheet asking for them, else the derivation;
    `document` goes to :func:`render` or :func:`render_sheet`. A PDF is its LaTeX compiled (with
    compile=False, a PendingPDF, for pdf.compile_pending to build with others). With `diagram` (a path)
    the document links to that SVG file, which is returned after it.
    """
    from .pdf import PendingPDF, compile_document
    source = "tex" if format_ == "pdf" else format_
    if diagram is not None:
        document["diagram_file"] = diagram.name
    if sheet is not None:
        content = render_sheet(derivation, sheet, source, options, **document)
    else:
        content = render(derivation, source, options, **document)
    if format_ == "pdf":
        content = PendingPDF(content, options.lang)
        if compile:
            content = compile_document(content.tex, content.lang)
    return [(path, content)] + ([(diagram, render_diagram(derivation, options))] if diagram is not None else [])


def _json_document(derivation, writer: _Writer) -> dict:
    """Return the JSON document: the figures (derive.export), and every step written as the documents show it."""
    from ..export import to_data
    data = to_data(derivation)
    data["steps"] = [{"section": s.section, "kind": s.kind, "subject": s.subject, "layer": s.layer,
                      "latex": list(writer.equation(s).parts), "notes": list(s.notes), "value": to_float(s.value)}
                     for s in derivation.steps]
    return data
