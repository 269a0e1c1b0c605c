"""How a derivation is shown: one frozen object carries every option of every document, diagram and sheet."""
from __future__ import annotations

from dataclasses import dataclass, fields, replace
from pathlib import Path

from ..errors import RenderError
from ..quantities import STYLES

EDGE_LABELS = ("weights", "values", "gradients", "updated", "none")
SHEET_SPACE = 2.5  # centimetres of working space under each question of an exercise sheet, unless said otherwise
MAX_SPACE = 20


@dataclass(frozen=True)
class Options:
    """The options of a document.

    `digits` significant digits are shown (the computation keeps full
    precision); `exact` writes rational values as fractions; `notation` is
    'named' or 'index'; `lang` picks the message catalogue; `template_dir`
    replaces the built-in templates (any template it lacks falls back to the
    built-in one). The diagram's arrows carry `edge_labels` (weights, values,
    gradients, updated, none), its units their net and out with `unit_values`,
    its numbers at `diagram_digits` significant digits. An exercise sheet
    leaves `space` centimetres of working space under each question.
    """

    digits: int = 9
    exact: bool = False
    notation: str = "named"
    lang: str = "en"
    template_dir: Path | None = None
    edge_labels: str = "weights"
    unit_values: bool = False
    diagram_digits: int = 4
    space: float = 0.0

    def __post_init__(self):
        for name in ("digits", "diagram_digits"):
            if not 1 <= getattr(self, name) <= 40:
                raise RenderError("error_option_digits", name=name.replace("_", " "))
        if self.notation not in STYLES:
            raise RenderError("error_unknown_notation", name=self.notation, known=", ".join(STYLES))
        if self.edge_labels not in EDGE_LABELS:
            raise RenderError("error_edge_labels", known=", ".join(EDGE_LABELS))
        if not 0 <= self.space <= MAX_SPACE:
            raise RenderError("error_space_range", limit=MAX_SPACE)
        if self.template_dir is not None and not isinstance(self.template_dir, Path):
            object.__setattr__(self, "template_dir", Path(self.template_dir))

    def but(self, **changes) -> "Options":
        """Return these options with `changes` (unknown names are an error)."""
        known = {field.name for field in fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise TypeError(f"unknown document option(s): {', '.join(unknown)}")
        return replace(self, **changes) if changes else self
