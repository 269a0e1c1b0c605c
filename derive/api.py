"""The library's face: the engine's Derivation with its views attached.

The engine (:mod:`derive.derivation`) knows nothing of documents. This thin
adapter gives the Derivation users get from :func:`derive` the methods that
call the views: render() (:mod:`derive.render`), to_data() (:mod:`derive.export`)
and the Jupyter display.
"""
from __future__ import annotations

from dataclasses import dataclass, fields

from . import derivation as engine


@dataclass(frozen=True)
class Derivation(engine.Derivation):
    """A Derivation (see :class:`derive.derivation.Derivation`) that renders itself."""

    def to_data(self) -> dict:
        """Return the figures as plain JSON-ready data (doubles)."""
        from .export import to_data
        return to_data(self)

    def render(self, format: str = "md", **options) -> str:
        """Return the document in `format` (md, tex, html, text, json); options as for :func:`derive.render.render`."""
        from .render import render
        return render(self, format, **options)

    def _repr_markdown_(self) -> str:
        return self.render("md")

    def _repr_latex_(self) -> str:
        return self.render("tex", standalone=False)


def derive(network_or_spec, verify: bool = False, round_steps: int | None = None, rule=None) -> Derivation:
    """Return the Derivation of a Spec or Network; arguments as for :func:`derive.derivation.derive`."""
    core = engine.derive(network_or_spec, verify=verify, round_steps=round_steps, rule=rule)
    return Derivation(**{field.name: getattr(core, field.name) for field in fields(core)})


derive.__doc__ = engine.derive.__doc__
