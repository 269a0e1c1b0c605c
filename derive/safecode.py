"""Generated float code, checked before it is compiled: the one place derive calls exec.

The code derive compiles is generated from SymPy trees derive built itself (derive.program), every
quantity renamed to a local variable v0, v1, …; a training run's cached program (derive.cache) is
that same code read back from disk. Either way :func:`compile_checked` first proves, token by token,
that the source holds nothing but those variables, numbers, operators, a few keywords and builtins,
and math's functions, and runs it with only those builtins; so no name and no text from anywhere
else (a spec, a claim, a tampered cache file) can be compiled. This module imports no SymPy.
"""
from __future__ import annotations

import builtins
import math
import re

_BUILTINS = ("abs", "max", "min", "float")
_KEYWORDS = {"def", "return", "if", "else", "and", "or", "not", "True", "False", "program", "math", "numpy",
             *_BUILTINS}
# NumPy's functions the matrix form of a program (derive.matrix) may call: array arithmetic, nothing else.
NUMPY_FUNCTIONS = {"array", "dot", "outer", "transpose", "sum", "exp", "log", "tanh", "sqrt", "sinh", "cosh", "sin",
                   "cos", "arctan"}
_VARIABLE = re.compile(r"v\d+\Z")


_CHARACTERS = re.compile(r"[^A-Za-z0-9_ \n().,:+\-*/<>=!%\[\]]")  # quotes, #, \\, {, @, ; … are never generated
_IDENTIFIER = re.compile(r"[A-Za-z_]\w*")
_ATTRIBUTE = re.compile(r"(\w*)\s*\.\s*$")


def _check_source(source: str, functions: int = 0) -> None:
    """Raise ValueError unless `source` is made of our variables (v0, v1, ...), numbers, operators, a few
    keywords and builtins, math's functions, NumPy's of NUMPY_FUNCTIONS, and (with `functions`) the function
    names f0 … f<functions - 1>:
    so no name or text from anywhere else can be compiled. It holds no character but letters, digits,
    spaces, newlines and operators (so no text, comment or escape), and each name is one of those."""
    bad = _CHARACTERS.search(source)
    if bad is not None:
        raise ValueError(f"generated code holds the character {bad.group(0)!r}: text is never compiled")
    own = {f"f{number}" for number in range(functions)}
    for match in _IDENTIFIER.finditer(source):
        start, name = match.start(), match.group(0)
        if start and source[start - 1].isdigit():
            continue  # the exponent of a number (1e-3)
        attribute = _ATTRIBUTE.search(source, max(0, start - 40), start)
        if attribute is not None:  # name after a dot: only math's own functions and constants, NumPy's listed
            if attribute.group(1) == "math" and not name.startswith("_") and hasattr(math, name) \
                    or attribute.group(1) == "numpy" and name in NUMPY_FUNCTIONS:
                continue
            raise ValueError(f"generated code holds the attribute {name[:40]!r}")
        if not (_VARIABLE.match(name) or name in _KEYWORDS or name in own):
            raise ValueError(f"generated code holds the name {name[:40]!r}")


def compile_checked(source: str, filename: str, functions: int = 0) -> dict:
    """Return the namespace of `source` compiled, once :func:`_check_source` has found it safe (ValueError
    otherwise); it runs with only math (and NumPy, for the matrix form) and the builtins of _BUILTINS."""
    _check_source(source, functions)
    namespace = {"math": math, "__builtins__": {name: getattr(builtins, name) for name in _BUILTINS}}
    if "numpy." in source:  # the matrix form: NumPy is imported only by the runs that use it
        import numpy
        namespace["numpy"] = numpy
    exec(compile(source, filename, "exec"), namespace)  # noqa: S102  (checked above: derive's own code)
    return namespace
