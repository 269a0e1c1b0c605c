"""A training run (derive.train.Run) written out: text in the catalogue's language, JSON, or CSV of the losses."""
from __future__ import annotations

import json

import sympy

from ..catalogue import Messages
from ..numbers import format_number
from . import template_directory


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
