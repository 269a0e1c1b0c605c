"""A training run (derive.train.Run) written out: text in the catalogue's language, JSON, or CSV of the losses."""
from __future__ import annotations

import json
import math
from pathlib import Path

import sympy

from ..catalogue import Messages
from ..numbers import format_number
from . import render_template, template_directory


def render_run(run, derivation, format: str = "text", digits: int = 10, lang: str = "en", template_dir=None) -> str:
    """Return a run as text (its words from the message catalogue of `lang`), JSON or CSV (step, loss)."""
    if format == "json":
        data = {"steps": run.steps, "loss": run.loss, "outputs": run.outputs, "params": run.params,
                "every": run.every, "history": {str(step): loss for step, loss in run.history}}
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    if format == "csv":
        return "step,loss\n" + "".join(f"{step},{loss!r}\n" for step, loss in run.history)
    _ = Messages(template_directory(template_dir), lang)
    def number(value) -> str:  # a double as the documents write numbers, to `digits` significant digits
        return format_number(sympy.Float(value, 20) if isinstance(value, float) else value, digits)

    separator = _("list_separator")
    width = max(len(_("train_step")), len(str(run.steps))) + 2
    lines = [_("train_heading", steps=run.steps, eta=number(derivation.network.spec.learning_rate)), "",
             f"{_('train_step'):<{width}}{_('train_loss')}"]
    lines += [f"{step:<{width}}{number(loss)}" for step, loss in run.history]
    lines += ["", _("train_final_loss", steps=run.steps, loss=number(run.loss)),
              _("train_outputs", values=separator.join(f"{name} = {number(v)}" for name, v in run.outputs.items())),
              _("train_params", values=separator.join(f"{name} = {number(v)}" for name, v in run.params.items()))]
    return "\n".join(lines) + "\n"


def render_curve(run, lang: str = "en", template_dir=None) -> str:
    """Return the run's loss curve as an SVG document written by derive (no plotting library): the loss after
    each kept step, the loss axis logarithmic when the loss falls by more than ten times."""
    from ..files import mark_svg
    root = template_directory(template_dir)
    _ = Messages(root, lang)
    width, height, left, right, top, bottom = 640, 360, 78, 620, 34, 316
    steps = [step for step, _loss in run.history]
    losses = [loss for _step, loss in run.history]
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
        y_ticks = [{"y": y(10.0 ** power), "label": format_number(sympy.Integer(10) ** power, 3)}
                   for power in range(int(lo), int(hi) + 1)]
    else:
        y_ticks = [{"y": y(lo + (hi - lo) * k / 4), "label": format_number(sympy.Float(lo + (hi - lo) * k / 4, 20), 3)}
                   for k in range(5)]
    x_ticks = [{"x": x(last * k // 4), "label": str(last * k // 4)} for k in range(5)]
    plot = {"width": width, "height": height, "left": left, "right": right, "top": top, "bottom": bottom,
            "title": _("train_curve_title", steps=run.steps), "x_label": _("train_step"), "y_label": _("train_loss"),
            "x_ticks": x_ticks, "y_ticks": y_ticks,
            "points": " ".join(f"{x(step)},{y(loss)}" for step, loss in run.history)}
    return mark_svg('<?xml version="1.0" encoding="UTF-8"?>\n'
                    + render_template(Path(root), "svg", "svg/curve.svg.j2", {"plot": plot}))


def render_curve_image(run, format: str, lang: str = "en", template_dir=None) -> bytes:
    """Return the run's loss curve as PNG or PDF, drawn by matplotlib (`derive[plot]`): the same curve as
    :func:`render_curve`'s SVG, the same bytes for the same run."""
    from .plots import figure_bytes
    _ = Messages(template_directory(template_dir), lang)
    steps = [step for step, _loss in run.history]
    losses = [loss for _step, loss in run.history]

    def draw(figure, ticker):
        axes = figure.add_subplot()
        axes.plot(steps, losses, color="#4a78a8", linewidth=2)
        if all(loss > 0 for loss in losses) and max(losses) > 10 * min(losses):
            axes.set_yscale("log")
        axes.set_title(_("train_curve_title", steps=run.steps), loc="left", fontsize=12)
        axes.set_xlabel(_("train_step"))
        axes.set_ylabel(_("train_loss"))
        axes.grid(True, color="#dddddd")
        axes.spines[["top", "right"]].set_visible(False)

    return figure_bytes(draw, format, (6.4, 3.6))
