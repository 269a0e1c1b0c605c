"""Pictures drawn by matplotlib (the optional extra `derive[plot]`): one figure, as PNG or PDF bytes that are
the same for the same figure (no date, no version, no random salt written into the file)."""
from __future__ import annotations

import io
from typing import Callable

from ..errors import RenderError

IMAGE_FORMATS = ("png", "pdf")


def figure_bytes(draw: Callable, format: str, size: tuple[float, float]) -> bytes:
    """Return the figure `draw(figure, ticker)` makes on a new matplotlib Figure of `size` inches, as `format`
    (png or pdf); RenderError naming the extra when matplotlib is not installed."""
    try:
        import matplotlib
        matplotlib.use("Agg", force=True)
        from matplotlib import ticker
        from matplotlib.figure import Figure
    except ImportError:
        raise RenderError("error_needs_matplotlib", format=format) from None
    with matplotlib.rc_context({"font.family": ["DejaVu Sans", "Noto Sans CJK SC", "Noto Sans CJK JP", "sans-serif"],
                                "svg.hashsalt": "derive", "pdf.compression": 6}):
        figure = Figure(figsize=size, dpi=120, layout="constrained")
        draw(figure, ticker)
        buffer = io.BytesIO()
        metadata = {"Software": None} if format == "png" else {"Creator": None, "Producer": None, "CreationDate": None}
        figure.savefig(buffer, format=format, metadata=metadata)
    return buffer.getvalue()
