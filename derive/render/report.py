"""Reports of `derive check`: each verdict written out (claim as read, expected, how decided, mistake).

Like the derivation documents, this only formats: the verdicts are data from
:mod:`derive.check`, the sentences come from the message catalogue. What the
checker says about a claim (why it is unreadable, a hint) is a Message, a
catalogue key and fields, written out here in the report's language.
"""
from __future__ import annotations

import json
from pathlib import Path

from ..notation import Notation
from ..numbers import format_number, to_float
from ..catalogue import Messages
from ..errors import RenderError
from . import render_template, template_directory
from .printers import MathLatexPrinter, MathTextPrinter

REPORT_FORMATS = {"text": "txt", "md": "md", "json": "json"}
MAX_ECHO = 300  # characters of a claim (or of how it was read) a report shows; the rest is counted, not shown


class _VerdictWriter:
    def __init__(self, derivation, _, digits: int):
        self.derivation = derivation
        notation = Notation(derivation.network)
        self.latex = MathLatexPrinter(notation, decimals=True)
        self.text = MathTextPrinter(notation, decimals=True)
        self.numeric_text = MathTextPrinter(notation, derivation.values, digits=4)  # a form with its numbers put in
        self.numeric_latex = MathLatexPrinter(notation, derivation.values, digits=4)
        self._, self.digits = _, digits
        self._shown: dict = {}

    def _once(self, key, make):
        """Return make(), made once for each key: a class's verdicts share their forms and values."""
        made = self._shown.get(key)
        if made is None:
            made = self._shown[key] = make()
        return made

    def show(self, printer, expression) -> str:
        """Return printer.doprint(expression), each written once."""
        return self._once((id(printer), expression), lambda: printer.doprint(expression))

    def claim(self, verdict, printer) -> str | None:
        if verdict.quantity is None:
            return None

        def part(p) -> str:
            if p.literal is not None:
                return p.literal
            if p.recipe is not None:  # a formula, or numbers put together: shown as the student wrote them
                return self._once((id(printer), p.recipe, tuple(p.numbers.items())), lambda: type(printer)(
                    printer.our.notation, p.numbers, digits=40, decimals=True, as_written=True).doprint(p.written))
            return self.show(printer, p.expression)

        return " = ".join([self.show(printer, verdict.quantity)] + [part(p) for p in verdict.parts])

    def method(self, verdict) -> str | None:
        _ = self._
        if verdict.verdict in ("unreadable", "undecided") and verdict.method is None:
            return self.say(verdict.message)
        if verdict.message is not None and verdict.message.key == "judge_not_precise":
            return self.say(verdict.message)
        if verdict.method == "carried_forward":
            if verdict.diagnosis is not None and verdict.diagnosis.mistake == "rounding_carried":
                return _("method_rounding_carried", value=self.number(verdict.carried_value),
                         lines=dict(verdict.diagnosis.details)["lines"])
            return _("method_carried_forward", value=self.number(verdict.carried_value))
        if verdict.method == "from_rounded":
            return _("method_from_rounded", value=self.number(verdict.expected_value))
        if verdict.method == "symbolic":
            return _("method_symbolic")
        if verdict.method == "number" and verdict.tolerance is not None:
            key = "method_number" if verdict.verdict == "correct" else "method_number_differs"
            return _(key, tolerance=format_number(verdict.tolerance, 2))
        if verdict.method == "numeric":
            if verdict.verdict == "correct" and verdict.held:
                return _("method_numeric_held", points=verdict.points - 1, givens=self.givens(verdict))
            if verdict.verdict == "correct":
                return _("method_numeric", points=verdict.points - 1)
            return _("method_numeric_differs" if verdict.points <= 1 else "method_numeric_differs_elsewhere")
        return self.say(verdict.message)

    def givens(self, verdict) -> str:
        """Return the givens a formula wrote as numbers, as `w1 = 0.15, b1 = 0.35`."""
        values = self.derivation.network.given_values()
        return self._("list_separator").join(f"{self.text.doprint(given)} = {format_number(values[given], self.digits)}"
                         for given in verdict.held)

    def say(self, message) -> str | None:
        """Return a checker's Message (catalogue key and fields) in the report's language, or None."""
        return None if message is None else message.text(self._)

    def fields(self, message) -> dict | None:
        """Return a Message's fields as data (text someone typed shortened as in :meth:`echo`), or None."""
        if message is None:
            return None
        return {name: self.echo(value) if isinstance(value, str) else value for name, value in message.fields}

    def number(self, value) -> str | None:
        """Return a value as the report writes it (each value once; a Float equal to a Rational its own way)."""
        if value is None:
            return None
        return self._once(("number", type(value), value), lambda: format_number(value, self.digits))

    def double(self, value) -> float | None:
        """Return a value as the nearest double, for the JSON (each value converted once), or None."""
        return None if value is None else self._once(("double", type(value), value), lambda: to_float(value))

    def echo(self, text: str | None) -> str | None:
        """Return someone's text as a report shows it: at most MAX_ECHO characters, saying how many were cut."""
        if text is None or len(text) <= MAX_ECHO:
            return text
        return text[:MAX_ECHO] + self._("cut", count=len(text) - MAX_ECHO)

    def diagnosis(self, verdict) -> dict | None:
        """Return the diagnosis of a verdict (or of a link) as data, or None."""
        diagnosis = verdict.diagnosis
        if diagnosis is None:
            return None
        details = dict(diagnosis.details)
        explanation = self.explain(diagnosis)
        also = None
        if diagnosis.also is not None:
            also = {"mistake": diagnosis.also.mistake, "details": dict(diagnosis.also.details),
                    "explanation": self.explain(diagnosis.also)}
            explanation = self._("mistakes_together", first=explanation, second=also["explanation"])
        return {"mistake": diagnosis.mistake, "explanation": explanation, "details": details, "also": also,
                "value": self.double(diagnosis.value), "value_text": self.number(diagnosis.value)}

    def explain(self, diagnosis) -> str:
        """Return a mistake's explanation: the catalogue's mistake_<mistake>_<form> where the mistake was made
        in a form that has its own (net put into out(1 − out), not f′ taken of out), else mistake_<mistake>."""
        details = dict(diagnosis.details)
        key = f"mistake_{diagnosis.mistake}"
        if f"{key}_{details.get('form')}" in self._.messages:
            key = f"{key}_{details['form']}"
        return self._(key, **details)

    def links(self, verdict) -> list[dict]:
        """Return each link of the chain as data: its text as written, what it does, its verdict, and what it
        should be (the form derive writes for it, and the value)."""
        from ..check.parse import sides  # the checker loads with the first report, not with the command line
        texts = sides(verdict.claim)[1:]
        views = []
        for link in verdict.links:
            numeric = link.kind == "substitution"
            text_printer, latex_printer = (self.numeric_text, self.numeric_latex) if numeric else (self.text, self.latex)
            expected = link.expected
            views.append({
                "index": link.index + 1,
                "text": self.echo(texts[link.index]) if link.index < len(texts) else None,
                "kind": link.kind,
                "kind_text": self._(f"link_{link.kind}"),
                "verdict": link.verdict,
                "mark": self._(f"mark_{link.verdict}"),
                "expected": self.show(text_printer, expected) if expected is not None else None,
                "expected_latex": self.bounded_latex(self.show(latex_printer, expected)) if expected is not None else None,
                "expected_value": self.double(link.expected_value),
                "expected_value_text": self.number(link.expected_value),
                "value_text": self.number(link.value),
                "diagnosis": self.diagnosis(link) if link.diagnosis is not None else None,
            })
        return views

    def link_detail(self, verdict, links: list[dict]) -> str | None:
        """Return the sentence that says where a wrong chain goes wrong, or None."""
        if len(links) < 2 and not verdict.line:
            return None
        marks = self._("list_separator").join(self._("link_mark", kind=link["kind_text"], mark=link["mark"])
                                              for link in links)
        wrong = next((link for link in links if link["verdict"] == "incorrect"), None)
        if wrong is None or len(links) < 2:
            return self._("check_label", label=self._("links"), text=marks) if len(links) > 1 else None
        should = wrong["expected"] + " = " + wrong["expected_value_text"] if wrong["expected"] and wrong["kind"] != "arithmetic" \
            else wrong["expected_value_text"]
        return self._("check_then", first=self._("check_label", label=self._("links"), text=marks),
                      second=self._("link_first_wrong", index=wrong["index"], kind=wrong["kind_text"],
                                    text=wrong["text"] or "", expected=should))

    def bounded_latex(self, latex: str | None) -> str | None:
        """Return LaTeX short enough to show, or None (cutting it would leave unbalanced braces)."""
        return latex if latex is None or len(latex) <= 4 * MAX_ECHO else None

    def view(self, verdict) -> dict:
        """Return one verdict as plain data: what the report templates and the JSON show."""
        expected = verdict.expected[-1] if verdict.expected else None
        links = self.links(verdict)
        first_wrong = verdict.first_wrong
        return {
            "line": verdict.line,
            "links": links,
            "first_wrong": first_wrong.index + 1 if first_wrong is not None else None,
            "link_detail": self.link_detail(verdict, links),
            "carried_from": list(verdict.carried_from),
            "left_out": [self.echo(side) for side in verdict.left_out],
            "claim": self.echo(verdict.claim),
            "claim_length": len(verdict.claim),
            "student": verdict.student,
            "quantity": self.show(self.text, verdict.quantity) if verdict.quantity is not None else None,
            "read_as": self.echo(self.claim(verdict, self.text)),
            "read_as_latex": self.bounded_latex(self.claim(verdict, self.latex)),
            "verdict": verdict.verdict,
            "consistent": verdict.consistent,
            "expected": self.show(self.text, expected) if expected is not None else None,
            "expected_latex": self.show(self.latex, expected) if expected is not None else None,
            "expected_value": self.double(verdict.expected_value),
            "expected_value_text": self.number(verdict.expected_value),
            "claimed_value": self.double(verdict.claimed_value),
            "carried_value": self.double(verdict.carried_value),
            "method": verdict.method,
            "held": [self.show(self.text, given) for given in verdict.held],
            "method_detail": self.method(verdict),
            "diagnosis": self.diagnosis(verdict) or (self.diagnosis(first_wrong) if first_wrong is not None else None),
            "position": verdict.position,
            "message": self.echo(self.say(verdict.message)),
            "message_key": verdict.message.key if verdict.message is not None else None,
            "message_fields": self.fields(verdict.message),
            "hint": self.say(verdict.hint),
            "hint_key": verdict.hint.key if verdict.hint is not None else None,
            "hint_fields": self.fields(verdict.hint),
        }


def report_data(report, lang: str = "en", digits: int = 9, template_dir=None) -> dict:
    """Return the report as JSON-ready data: every claim's verdict, and a summary per student."""
    return _report_data(report, Messages(template_directory(template_dir), lang), digits)


def _report_data(report, _: Messages, digits: int) -> dict:
    writers: dict = {}  # one for each derivation judged against (a handout's variants: one each)

    def view(verdict) -> dict:
        derivation = report.derivation_of(verdict.student)
        if id(derivation) not in writers:
            writers[id(derivation)] = _VerdictWriter(derivation, _, digits)
        return writers[id(derivation)].view(verdict)

    views = [view(v) for v in report.verdicts]
    data = {"lines" if report.document else "claims": views, "passed": report.passed}
    def summary(verdicts):
        counts = report.summary(verdicts)
        if report.document:
            earned, possible = (sum(values) for values in zip(*(report.points(v) for v in verdicts))) \
                if verdicts else (0, 0)
            counts.update(points=earned, possible=possible)
        return counts

    if report.grouped:
        data["students"] = {str(student): summary(verdicts) for student, verdicts in report.students()}
        for student, (variant, _derivation) in report.variants.items():
            data["students"][str(student)]["variant"] = variant
    else:
        data["summary"] = summary(report.verdicts)
    if report.document and report.grouped:
        data["class"] = class_view(report, _)
    return data


def render_report(report, format: str = "text", lang: str = "en", digits: int = 9, template_dir=None) -> str:
    """Return the report of `derive check` in `format` (text, md or json)."""
    if format not in REPORT_FORMATS:
        raise RenderError("error_unknown_format", format=format, known=", ".join(REPORT_FORMATS))
    root = template_directory(template_dir)
    messages = Messages(root, lang)
    data = _report_data(report, messages, digits)
    if format == "json":
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    groups, by_student = [], {}
    for view in data["lines" if report.document else "claims"]:
        by_student.setdefault(view["student"], []).append(view)
    for student, verdicts in report.students():
        views = by_student.get(student, [])
        points = [sum(values) for values in zip(*(report.points(v) for v in verdicts))] if report.document else None
        groups.append({"student": student, "variant": report.variants.get(student, (None,))[0],
                       "claims": views, "summary": report.summary(verdicts),
                       "points": tuple(_figure(value) for value in points) if points else None})
    from ..check.report import UNJUDGED
    count = sum(1 for verdict in report.verdicts if verdict.verdict not in UNJUDGED)
    context = {"_": messages, "groups": groups, "report": report, "count": count, "class": data.get("class")}
    return render_template(Path(root), format, f"{format}/check.{REPORT_FORMATS[format]}.j2", context)


def class_view(report, _: Messages) -> dict:
    """Return the class summary as data: how many students, and the most frequent wrong quantities and mistakes
    with their counts (and a mistake's short name in the report's language)."""
    summary = report.class_summary()
    return {"students": summary["students"],
            "wrong": [{"quantity": name, "count": count} for name, count in summary["wrong"]],
            "mistakes": [{"mistake": name, "name": _(f"mistake_name_{name}"), "count": count}
                         for name, count in summary["mistakes"]]}


def render_chart(report, lang: str = "en", template_dir=None) -> str:
    """Return the class's mistakes as an SVG bar chart (written by derive; no plotting library)."""
    from ..files import mark_svg
    root = template_directory(template_dir)
    messages = Messages(root, lang)
    view = class_view(report, messages)
    top = max([m["count"] for m in view["mistakes"]] or [1])
    context = {"_": messages, "class": view, "top": top}
    return mark_svg('<?xml version="1.0" encoding="UTF-8"?>\n'
                    + render_template(Path(root), "svg", "svg/chart.svg.j2", context))


CHART_FORMATS = ("svg", "png", "pdf")


def render_chart_image(report, format: str, lang: str = "en", template_dir=None) -> bytes:
    """Return the class's mistakes as a PNG or PDF bar chart, drawn by matplotlib (the optional extra
    `derive[plot]`); the same chart as :func:`render_chart`'s SVG. The file is the same for the same
    report: no date or version is written into it. RenderError when matplotlib is not installed."""
    from .plots import figure_bytes
    messages = Messages(template_directory(template_dir), lang)
    view = class_view(report, messages)
    mistakes = view["mistakes"] or []

    def draw(figure, ticker):
        axes = figure.add_subplot()
        names, counts = [m["name"] for m in mistakes][::-1], [m["count"] for m in mistakes][::-1]
        bars = axes.barh(names, counts, color="#4a78a8")
        axes.bar_label(bars, padding=3)
        axes.set_title(messages("class_chart_title", students=view["students"]), loc="left", fontsize=12)
        axes.xaxis.set_major_locator(ticker.MaxNLocator(integer=True))
        axes.spines[["top", "right"]].set_visible(False)

    return figure_bytes(draw, format, (8, 0.9 + 0.36 * max(len(mistakes), 1)))


def _figure(value: float) -> str:
    """Return points as a teacher writes them: 9, 2.5."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"
