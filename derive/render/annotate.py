"""A student's own derivation with a mark beside each equation: the report of `derive check --derivation`
written into the document itself, in its own format (plain text, Markdown or LaTeX).

The student's lines are kept byte for byte; after the block each equation ends (the line itself, or the
end of its display or environment) comes one line per equation: a mark (✓ correct, ✗ incorrect, →
consistent with the student's earlier values, ? undecided or unreadable, – skipped, = a name of the
student's own), the line it is about, the verdict and, for a wrong one, where the chain goes wrong and
the mistake. In LaTeX the mark is a paragraph of its own after the environment, made only of commands
every LaTeX has (the marks as math symbols, the words escaped), so the file compiles as it did.
"""
from __future__ import annotations

import re

from ..check.lines import read_lines
from ..catalogue import Messages
from . import one_line, tex_text, template_directory
from .report import _VerdictWriter

MARKS = {"correct": "✓", "incorrect": "✗", "consistent": "→", "undecided": "?", "unreadable": "?",
         "skipped": "–", "defined": "="}
TEX_MARKS = {"correct": r"$\surd$", "incorrect": r"$\times$", "consistent": r"$\rightarrow$", "undecided": "?",
             "unreadable": "?", "skipped": "--", "defined": "$=$"}


def annotate(text: str, kind: str, report, lang: str = "en", digits: int = 4, template_dir=None) -> str:
    """Return the document `text` (of `kind` txt, md or tex) with the marks of `report` (the Report of
    :func:`derive.check.report.mark_derivations` on this text, one student) after its equations."""
    messages = Messages(template_directory(template_dir), lang)
    writer = _VerdictWriter(report.derivation, messages, digits)
    equations = [line for line in read_lines(text, kind) if line.kind == "equation"]
    if len(equations) != len(report.verdicts):
        raise ValueError("the report is not of this document")
    after: dict[int, list[str]] = {}
    for line, verdict in zip(equations, report.verdicts):
        after.setdefault(line.end, []).append(_mark(writer.view(verdict), messages, kind))
    newline = "\r\n" if "\r\n" in text else "\n"
    lines = text.split(newline)
    written = []
    for number, source in enumerate(lines, start=1):
        written.append(source)
        marks = after.get(number, ())
        if kind == "md" and marks:
            # Inside a list item the mark is indented to the item's text, so it stays in the item; a blank
            # line after it keeps the student's next line out of the quote.
            indent = " " * _content_column(source)
            written.extend(indent + mark for mark in marks)
            if number < len(lines) and lines[number].strip():
                written.append("")
        else:
            written.extend(marks)
    if written and written[-1] == "":
        written.pop()
    summary = _summary(report, messages, kind)
    end = next((i for i in range(len(written) - 1, -1, -1) if written[i].strip().startswith("\\end{document}")),
               None) if kind == "tex" else None
    if kind == "md" and written and written[-1].strip():
        written.append("")  # the score is a quote of its own, not a line of the last mark's
    written.insert(end if end is not None else len(written), summary)
    return newline.join(written) + newline


_LIST_ITEM = re.compile(r"^(\s*)([-*+]|\d{1,9}[.)])(\s+)")


def _content_column(line: str) -> int:
    """Return where a Markdown line's text starts inside a list item (`- a` 2, `10. a` 4; more than four
    spaces after the marker count as one, as CommonMark reads them), an indented line's indentation, else 0."""
    item = _LIST_ITEM.match(line)
    if item:
        spaces = len(item.group(3))
        return len(item.group(1)) + len(item.group(2)) + (spaces if spaces <= 4 else 1)
    return len(line) - len(line.lstrip(" "))


def _summary(report, _: Messages, kind: str) -> str:
    """Return the closing line: the score of the derivation, as the report gives it."""
    counts = report.summary(report.verdicts)
    score = _("check_score_consistent", correct=counts["correct"], total=counts["total"],
              consistent=counts["consistent"]) if counts["consistent"] else \
        _("check_score", correct=counts["correct"], total=counts["total"])
    line = _("check_label", label=_("check_summary"), text=score)
    if kind == "tex":
        return rf"\par\noindent{{\small\itshape {tex_text(line)}}}\par"
    return f"> **{line}**" if kind == "md" else line


def _mark(view: dict, _: Messages, kind: str) -> str:
    """Return the line that marks one equation, in the document's format."""
    state = "consistent" if view["consistent"] else view["verdict"]
    words = _(f"verdict_{view['verdict']}") + (_("list_separator") + _("verdict_consistent")
                                                if view["consistent"] else "")
    detail = []
    wrong = next((link for link in view["links"] if link["verdict"] == "incorrect"), None)
    if kind == "tex":
        if wrong is not None:
            detail.append(_("annotation_link", index=wrong["index"], kind=wrong["kind_text"],
                            value=wrong["expected_value_text"]))
        elif view["verdict"] == "incorrect" and view["expected_value_text"] and not view["consistent"]:
            detail.append(_("check_label", label=_("expected"), text=view["expected_value_text"]))
        body = _("annotation", line=_("check_line", line=view["line"]), verdict=words,
                 detail="".join(_("annotation_detail", text=item) for item in detail))
        return rf"\par\noindent{{\small\itshape {TEX_MARKS[state]} {tex_text(body)}}}\par"
    if wrong is not None:
        detail.append(_("link_first_wrong", index=wrong["index"], kind=wrong["kind_text"], text=wrong["text"] or "",
                        expected=(wrong["expected"] + " = " if wrong["expected"] and wrong["kind"] != "arithmetic"
                                  else "") + (wrong["expected_value_text"] or "")))
    elif view["verdict"] == "incorrect" and view["expected_value_text"] and not view["consistent"]:
        detail.append(_("check_label", label=_("expected"), text=view["expected_value_text"]))
    if view["carried_from"]:
        detail.append(_("check_carried_from", lines=_("list_separator").join(map(str, view["carried_from"]))))
    if view["diagnosis"] and not view["consistent"]:
        detail.append(view["diagnosis"]["explanation"])
    body = one_line(_("annotation", line=_("check_line", line=view["line"]), verdict=words,
                      detail="".join(_("annotation_detail", text=item) for item in detail)))
    return f"> {MARKS[state]} {body}" if kind == "md" else f"    {MARKS[state]} {body}"
