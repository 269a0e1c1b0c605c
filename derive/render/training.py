"""A training run (derive.train.Run) written out: text in the catalogue's language, JSON, or CSV of the losses."""
from __future__ import annotations

import json
import math
from pathlib import Path

from ..catalogue import Messages
from decimal import Decimal

from ..decimals import format_decimal, format_float
from . import columns, render_template, template_directory


def render_run(run, format: str = "text", digits: int = 10, lang: str = "en", template_dir=None,
               crosscheck: float | None = None) -> str:
    """Return a run as text (its words from the message catalogue of `lang`), JSON or CSV (step, loss);
    `crosscheck` is the largest relative difference from torch's run of the same steps, when one was made."""
    if format == "json":
        return json.dumps(_data(run, crosscheck), indent=2, ensure_ascii=False) + "\n"
    if format == "csv":
        return "step,loss\n" + "".join(f"{step},{loss!r}\n" for step, loss in run.history)
    _ = Messages(template_directory(template_dir), lang)
    def number(value: float) -> str:  # a double as the documents write numbers, to `digits` significant digits
        return format_float(value, digits)

    separator = _("list_separator")
    width = max(columns(_("train_step")), len(str(run.steps))) + 2
    batch = _("train_batch_" + (run.batch if isinstance(run.batch, str) else "size"), size=run.batch)
    lines = [_("train_heading", steps=run.steps, eta=format_decimal(Decimal(run.learning_rate), digits),
               rule=_("rule_" + run.optimizer), samples=run.samples,
               batch=batch if run.samples > 1 else _("train_one_sample")), "",
             _pad(_("train_step"), width) + _("train_loss")]
    lines += [f"{step:<{width}}{number(loss)}" for step, loss in run.history]
    lines += ["", _("train_final_loss", steps=run.steps, loss=number(run.loss)),
              *[_("train_outputs" if len(run.outputs) == 1 else "train_outputs_sample", sample=position,
                  values=separator.join(f"{name} = {number(v)}" for name, v in outputs.items()))
                for position, outputs in enumerate(run.outputs, start=1)],

              _("train_params", values=separator.join(f"{name} = {number(v)}" for name, v in run.params.items())),
              *([_("train_crosscheck", difference=format_float(crosscheck, 3))]
                if crosscheck is not None else [])]
    return "\n".join(lines) + "\n"


def _pad(text: str, width: int) -> str:
    """Return text padded with spaces to `width` terminal columns (a Chinese character takes two)."""
    return text + " " * max(0, width - columns(text))


def _data(run, crosscheck: float | None = None) -> dict:
    data = {"steps": run.steps, "optimizer": run.optimizer, "loss": run.loss,
            "outputs": run.outputs[0] if len(run.outputs) == 1 else list(run.outputs), "params": run.params,
            "every": run.every, "history": {str(step): loss for step, loss in run.history}}
    if crosscheck is not None:
        data["crosscheck"] = {"with": "torch", "largest_relative_difference": crosscheck}
    return data


def render_comparison(runs, format: str = "text", digits: int = 10, lang: str = "en",
                      template_dir=None, crosschecks=None) -> str:
    """Return runs of the same network by several update rules side by side: text (the loss of each at
    every kept step, then each final loss), JSON ({"compare": [each run]}) or CSV (step, one loss each)."""
    crosschecks = crosschecks or [None] * len(runs)
    if format == "json":
        return json.dumps({"compare": [_data(run, c) for run, c in zip(runs, crosschecks)]}, indent=2,
                          ensure_ascii=False) + "\n"
    if format == "csv":
        rows = zip(*[run.history for run in runs])
        return "step," + ",".join(run.optimizer for run in runs) + "\n" + "".join(
            f"{row[0][0]}," + ",".join(repr(loss) for _, loss in row) + "\n" for row in rows)
    _ = Messages(template_directory(template_dir), lang)

    def number(value: float) -> str:
        return format_float(value, digits)

    names = [_("rule_" + run.optimizer) for run in runs]
    width = max(columns(_("train_step")), len(str(runs[0].steps))) + 2
    widths = [max(columns(name), digits + 8) + 2 for name in names]
    lines = [_("train_compare_heading", steps=runs[0].steps, eta=format_decimal(Decimal(runs[0].learning_rate), digits),
               rules=_("list_separator").join(names)), "",
             (_pad(_("train_step"), width) + "".join(_pad(name, c) for name, c in zip(names, widths))).rstrip()]
    for row in zip(*[run.history for run in runs]):
        lines.append(f"{row[0][0]:<{width}}" + "".join(f"{number(loss):<{c}}" for (_s, loss), c in zip(row, widths)).rstrip())
    lines.append("")
    lines += [_("train_compare_final", rule=name, steps=run.steps, loss=number(run.loss)) for name, run in zip(names, runs)]
    lines += [_("train_compare_crosscheck", rule=name, difference=format_float(c, 3))
              for name, c in zip(names, crosschecks) if c is not None]
    return "\n".join(lines) + "\n"


COLOURS = ("#4a78a8", "#c0504d", "#5a9a4a", "#8064a2", "#d08a2a", "#4aa0a8")  # one a curve, in order
DASHES = ("", "6 3", "2 3", "8 3 2 3", "4 2", "1 2")  # and a dash pattern, for print in grey


def render_curve(run, lang: str = "en", template_dir=None) -> str:
    """Return the run's loss curve as an SVG document written by derive (no plotting library): the loss after
    each kept step, the loss axis logarithmic when the loss falls by more than ten times."""
    return render_curves([run], lang, template_dir, legend=False)


def render_curves(runs, lang: str = "en", template_dir=None, legend: bool = True) -> str:
    """Return several runs' loss curves on one plot as SVG (see :func:`render_curve`), each labelled by its
    update rule in a legend (`--compare`)."""
    from ..files import mark_svg
    root = template_directory(template_dir)
    _ = Messages(root, lang)
    legend_rows = len(runs) if legend else 0  # a legend: one row a curve, between the title and the plot
    width, height, left, right, top, bottom = 640, 360 + 16 * legend_rows, 78, 620, 34 + 16 * legend_rows, \
        316 + 16 * legend_rows
    run = runs[0]
    steps = [step for step, _loss in run.history]
    losses = [loss for each in runs for _step, loss in each.history]
    positive = all(loss > 0 for loss in losses)
    low, high = min(losses), max(losses)
    logarithmic = positive and high > 10 * low
    scale = (lambda v: math.log10(v)) if logarithmic else (lambda v: v)  # noqa: E731
    lo, hi = (math.floor(scale(low)), math.ceil(scale(high))) if logarithmic else (min(low, 0.0), high)
    hi = hi if hi > lo else lo + 1
    last = max(steps[-1], 1)

    def x(step):
        return round(left + (right - left) * step / last, 2)

    def y(loss):
        return round(bottom - (bottom - top) * (scale(loss) - lo) / (hi - lo), 2)

    if logarithmic:
        y_ticks = [{"y": y(10.0 ** power), "label": format_decimal(Decimal(10) ** power, 3)}
                   for power in range(int(lo), int(hi) + 1, max(1, -(-(int(hi) - int(lo)) // 8)))]
    else:
        y_ticks = [{"y": y(lo + (hi - lo) * k / 4), "label": format_float(lo + (hi - lo) * k / 4, 3)}
                   for k in range(5)]
    x_ticks = [{"x": x(last * k // 4), "label": str(last * k // 4)} for k in range(5)]
    plot = {"width": width, "height": height, "left": left, "right": right, "top": top, "bottom": bottom,
            "title": _("train_curve_title", steps=run.steps), "x_label": _("train_step"), "y_label": _("train_loss"),
            "x_ticks": x_ticks, "y_ticks": y_ticks,
            "lines": [{"points": " ".join(f"{x(step)},{y(loss)}" for step, loss in each.history),
                       "colour": COLOURS[n % len(COLOURS)], "dash": DASHES[n % len(DASHES)],
                       "label": _("rule_" + each.optimizer) if legend else ""} for n, each in enumerate(runs)]}
    return mark_svg('<?xml version="1.0" encoding="UTF-8"?>\n'
                    + render_template(Path(root), "svg", "svg/curve.svg.j2", {"plot": plot}))


def render_curve_image(run, format: str, lang: str = "en", template_dir=None) -> bytes:
    """Return the run's loss curve as PNG or PDF, drawn by matplotlib (`derive[plot]`): the same curve as
    :func:`render_curve`'s SVG, the same bytes for the same run."""
    return render_curves_image([run], format, lang, template_dir, legend=False)


def render_curves_image(runs, format: str, lang: str = "en", template_dir=None, legend: bool = True) -> bytes:
    """Return several runs' loss curves on one plot as PNG or PDF (see :func:`render_curve_image`)."""
    from .plots import figure_bytes
    _ = Messages(template_directory(template_dir), lang)
    run = runs[0]
    losses = [loss for each in runs for _step, loss in each.history]

    def draw(figure, ticker):
        axes = figure.add_subplot()
        for n, each in enumerate(runs):
            dash = DASHES[n % len(DASHES)]
            pattern = {"dashes": [float(d) for d in dash.split()]} if dash else {}
            axes.plot([step for step, _ in each.history], [loss for _, loss in each.history],
                      color=COLOURS[n % len(COLOURS)], linewidth=2, label=_("rule_" + each.optimizer), **pattern)
        if legend:
            axes.legend(frameon=False)
        if all(loss > 0 for loss in losses) and max(losses) > 10 * min(losses):
            axes.set_yscale("log")
        axes.set_title(_("train_curve_title", steps=run.steps), loc="left", fontsize=12)
        axes.set_xlabel(_("train_step"))
        axes.set_ylabel(_("train_loss"))
        axes.grid(True, color="#dddddd")
        axes.spines[["top", "right"]].set_visible(False)

    return figure_bytes(draw, format, (6.4, 3.6))


DOCUMENT_FORMATS = {"md": "md", "html": "html", "tex": "tex"}  # a run as a document (and pdf, from tex)
MAX_TABLE_ROWS = 21     # losses a document's table shows (evenly chosen among the kept steps, the last kept)
MAX_PARAMETER_ROWS = 100  # parameters a document lists (more: the count, and -f json for them all)


def _chosen(history: tuple, rows: int = MAX_TABLE_ROWS) -> list[int]:
    """Return the positions of the kept steps a table shows: all of them, or `rows` evenly spaced, first and
    last included."""
    if len(history) <= rows:
        return list(range(len(history)))
    return sorted({round(k * (len(history) - 1) / (rows - 1)) for k in range(rows)})


def training_document(runs, messages, digits: int = 10, lang: str = "en", template_dir=None):
    """Return the outline (derive.render.outline) of one run, or several (--compare), as a document: the run
    described, a table of the loss at chosen steps, the loss curve, and the final outputs and parameters."""
    from .outline import Curve, Document, Heading, Paragraph, Table, Text
    _ = messages
    run = runs[0]
    names = [_("rule_" + each.optimizer) for each in runs]
    number = lambda value: (Text(format_float(value, digits)),)  # noqa: E731
    title = _("train_document_title", steps=run.steps, rules=_("list_separator").join(names))
    if len(runs) == 1:
        batch = _("train_batch_" + (run.batch if isinstance(run.batch, str) else "size"), size=run.batch)
        intro = _("train_heading", steps=run.steps, eta=format_decimal(Decimal(run.learning_rate), digits),
                  rule=names[0], samples=run.samples, batch=batch if run.samples > 1 else _("train_one_sample"))
    else:
        intro = _("train_compare_heading", steps=run.steps, eta=format_decimal(Decimal(run.learning_rate), digits),
                  rules=_("list_separator").join(names))
    header = ((Text(_("train_column_step")),),) + tuple((Text(name if len(runs) > 1 else _("train_column_loss")),)
                                                       for name in names)
    rows = tuple(((Text(str(run.history[i][0])),),) + tuple(number(each.history[i][1]) for each in runs)
                 for i in _chosen(run.history))
    svg = render_curves(runs, lang, template_dir, legend=len(runs) > 1)
    losses = [loss for each in runs for _, loss in each.history]
    curve = Curve(svg, tuple((name, tuple(each.history)) for name, each in zip(names, runs)),
                  all(loss > 0 for loss in losses) and max(losses) > 10 * min(losses), _("train_step"), _("train_loss"))
    blocks = [Heading(1, title), Paragraph((Text(intro),)), Heading(2, _("train_losses")),
              Table(header, rows, "losses"), curve, Heading(2, _("train_after"))]
    for name, each in zip(names, runs):
        if len(runs) > 1:
            blocks.append(Heading(3, name))
        blocks.append(Paragraph((Text(_("train_final_loss", steps=each.steps, loss=format_float(each.loss, digits))),),
                                "result"))
        units = list(each.outputs[0])
        blocks.append(Table(((Text(_("train_column_sample")),),) + tuple((Text(unit),) for unit in units),
                            tuple(((Text(str(k)),),) + tuple(number(outputs[unit]) for unit in units)
                                  for k, outputs in enumerate(each.outputs, start=1)), "outputs"))
        if len(each.params) <= MAX_PARAMETER_ROWS:
            blocks.append(Table(((Text(_("train_column_parameter")),), (Text(_("value")),)),
                                tuple(((Text(name_),), number(value)) for name_, value in each.params.items()),
                                "parameters"))
        else:
            blocks.append(Paragraph((Text(_("train_params_many", count=len(each.params))),)))
    return Document(title, tuple(blocks))


def render_training(runs, format: str, digits: int = 10, lang: str = "en", template_dir=None,
                    curve_file: str | None = None, standalone: bool = True) -> str:
    """Return a run (or several, --compare) as a Markdown, HTML or LaTeX document: see :func:`training_document`.
    Markdown links its curve to `curve_file` (an SVG file written beside it), when given."""
    root = template_directory(template_dir)
    messages = Messages(root, lang)
    document = training_document(runs, messages, digits, lang, template_dir)
    context = {"document": document, "lang": lang, "_": messages, "standalone": standalone,
               "curve_file": curve_file, "diagram_file": None}
    return render_template(Path(root), format, f"{format}/training.{DOCUMENT_FORMATS[format]}.j2", context)
