"""The message catalogues: every sentence a user reads, by language (templates/i18n/<lang>.yaml).

Documents (:mod:`derive.render`) and the checker (:mod:`derive.check`) both
read their words from here, so neither depends on the other. A language is one
file; a template directory given by the user may add languages or replace
messages, and falls back to the built-in catalogue.
"""
from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path

import yaml

from .errors import RenderError


def template_root() -> Path:
    """Return the directory of the built-in templates (inside the installed package, or the source tree)."""
    checkout = Path(__file__).resolve().parents[1]
    if (checkout / "pyproject.toml").is_file() and (checkout / "templates" / "i18n").is_dir():
        return checkout / "templates"
    return Path(str(resources.files("derive.templates")))


def languages(root: Path | None = None) -> list[str]:
    """Return the languages with a message catalogue (templates/i18n/<lang>.yaml)."""
    return sorted(p.stem for p in ((root or template_root()) / "i18n").glob("*.yaml"))


# libyaml's safe loader when PyYAML was built with it (about ten times faster than the pure-Python one, and the
# same safe constructor: plain data only).
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@lru_cache(maxsize=32)
def _read(path: Path, modified: int) -> dict[str, str]:
    """Return a catalogue file's messages, read once for each version of the file."""
    loader = _LOADER(path.read_text(encoding="utf-8"))
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def read(root: Path, lang: str) -> dict[str, str]:
    """Return the messages of `lang` from `root`'s catalogue, else the built-in one."""
    path = root / "i18n" / f"{lang}.yaml"
    if not path.is_file():
        path = template_root() / "i18n" / f"{lang}.yaml"
    if not path.is_file():
        known = sorted(set(languages(root)) | set(languages()))
        raise RenderError("error_no_catalogue", lang=lang, languages=", ".join(known))
    return _read(path, path.stat().st_mtime_ns)


class Messages:
    """The message catalogue of one language. Called as _(key, **fields): the message, its fields filled in."""

    def __init__(self, root: Path, lang: str):
        self.messages = read(root, lang)

    def __call__(self, key: str, **fields) -> str:
        return self.messages[key].format(**fields) if fields else self.messages[key]
