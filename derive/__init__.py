"""derive: a small neural network in, a complete step-by-step backpropagation derivation out.

    >>> import derive
    >>> spec = derive.load("network.yaml")          # or derive.example("classic")
    >>> derivation = derive.derive(spec)             # forward, loss, δ recursion, updates
    >>> print(derivation.render("md"))               # md, tex, html, text, json

Names are imported when first used, so `import derive` (and the command's start-up) is cheap.
"""
from __future__ import annotations

import importlib

__version__ = "0.1.0"

_EXPORTS = {
    "load": "spec", "load_text": "spec", "Spec": "spec",
    "derive": "api", "Derivation": "api", "Step": "derivation",
    "DeriveError": "errors", "SpecError": "errors", "FormulaError": "errors", "RenderError": "errors",
}


def example(name: str = "classic"):
    """Return the Spec of a built-in example (see `derive examples`)."""
    from . import examples
    from .errors import SpecError
    from .spec import load
    if name not in examples.names():
        raise SpecError("error_no_example", name=name, known=", ".join(examples.names()))
    return load(examples.path(name))


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    if name == "examples":
        return importlib.import_module(".examples", __name__)
    raise AttributeError(f"module 'derive' has no attribute {name!r}")


# derive.render is the rendering package (derive.render.render, or Derivation.render).
__all__ = ["load", "load_text", "example", "derive", "Spec", "Derivation", "Step",
           "DeriveError", "SpecError", "FormulaError", "RenderError", "examples"]
