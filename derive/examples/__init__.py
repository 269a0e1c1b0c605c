"""The built-in example networks, each a spec file beside this module."""
from __future__ import annotations

from importlib import resources
from pathlib import Path


def names() -> list[str]:
    """Return the names of the built-in examples, the classic one first."""
    found = sorted(p.name[:-5] for p in resources.files(__name__).iterdir() if p.name.endswith(".yaml"))
    return sorted(found, key=lambda name: name != "classic")


def path(name: str) -> Path:
    """Return the path of the built-in example `name`."""
    return Path(str(resources.files(__name__) / f"{name}.yaml"))


def summary(name: str) -> str:
    """Return the one-line description at the top of an example's file."""
    first = path(name).read_text(encoding="utf-8").splitlines()[0]
    return first.lstrip("# ").strip()
