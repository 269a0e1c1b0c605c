"""derive: a small neural network in, a complete step-by-step backpropagation derivation out.

    >>> import derive
    >>> spec = derive.load("network.yaml")          # or derive.example("classic")
    >>> derivation = derive.derive(spec)             # forward, loss, δ recursion, updates
    >>> print(derivation.render("md"))               # md, tex, text, json
"""
from __future__ import annotations

from . import examples
from .derivation import Derivation, Step, derive
from .errors import DeriveError, FormulaError, RenderError, SpecError
from .render import render
from .spec import Spec, load, load_text

__version__ = "0.1.0"


def example(name: str = "classic") -> Spec:
    """Return the Spec of a built-in example (see `derive examples`)."""
    if name not in examples.names():
        raise SpecError(f"no built-in example {name!r}; choose one of {', '.join(examples.names())}")
    return load(examples.path(name))


__all__ = ["load", "load_text", "example", "derive", "render", "Spec", "Derivation", "Step",
           "DeriveError", "SpecError", "FormulaError", "RenderError", "examples"]
