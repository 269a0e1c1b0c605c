"""Documents from a Derivation: its outline (render/outline.py) laid out by each format's Jinja2 emitter.

Nothing here does mathematics. The printers turn each step's expressions into
LaTeX or text, the message catalogue supplies the prose, the outline puts them
in blocks, and the templates of the format lay the blocks out.

This module holds the template machinery (environments, the compiled-template
cache, the text filters) and imports no SymPy, so a view with no mathematics
(a training run's losses, its curve) is rendered without it; the documents of
a derivation (:mod:`derive.render.documents`: render, render_sheet,
document_files, …) are imported from here when first used.
"""
from __future__ import annotations

import importlib
import json
import unicodedata
from functools import lru_cache
from pathlib import Path

import jinja2

from ..catalogue import languages, template_root  # noqa: F401  (re-exported)
from ..errors import RenderError

FORMATS = {"md": "md", "tex": "tex", "html": "html", "text": "txt", "json": "json"}
SHEET_FORMATS = {"md": "md", "tex": "tex", "html": "html"}


_TEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


def tex_text(text: str) -> str:
    """Return prose with LaTeX's special characters escaped."""
    return "".join(_TEX_SPECIAL.get(character, character) for character in str(text))


_MD_SPECIAL = {"&": "&amp;", "<": "&lt;", ">": "&gt;", **{c: "\\" + c for c in "\\`*_[]|#$"}}


def one_line(text: str) -> str:
    """Return text on one line, its line breaks and other control or direction characters written as escapes.

    For text someone else typed (a claim, a student id): it cannot start a
    line of its own in a report, nor reorder what follows it.
    """
    return "".join(repr(c)[1:-1] if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") else c for c in str(text))


def md_text(text: str) -> str:
    """Return text shown as is in Markdown, on one line: no markup, no HTML (for text someone typed)."""
    return "".join(_MD_SPECIAL.get(character, character) for character in one_line(text))


def columns(text: str) -> int:
    """Return how many terminal columns `text` takes: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(character) in ("W", "F") else 1 for character in str(text))


@lru_cache(maxsize=1)
def _bytecode_cache() -> jinja2.BytecodeCache | None:
    """Return the cache of compiled templates: compiling them is most of the cost of rendering in a new process.

    It lives in $XDG_CACHE_HOME/derive (default ~/.cache/derive), one directory per version of derive.
    Entries are keyed by each template's source, written atomically and checked when read, so a document
    is the same byte for byte with or without them. DERIVE_NO_CACHE=1, or a cache directory that cannot
    be created, turns it off.
    """
    from ..cache import directory
    folder = directory("templates")
    return None if folder is None else _Cache(str(folder))


class _Cache(jinja2.FileSystemBytecodeCache):
    """Jinja's file cache of compiled templates, for which a failure to read or write is only a miss."""

    def load_bytecode(self, bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except OSError:
            bucket.reset()

    def dump_bytecode(self, bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError:
            pass


@lru_cache(maxsize=32)
def _environment(root: Path, format: str) -> jinja2.Environment:
    """Return the Jinja environment for templates under `root` in `format`: built once, so that each template
    is compiled once per process (the loader still notices a template file that changed)."""
    loaders = [jinja2.FileSystemLoader(str(root))]
    if root != template_root():
        loaders.append(jinja2.FileSystemLoader(str(template_root())))
    options = dict(block_start_string="((*", block_end_string="*))", variable_start_string="(((",
                   variable_end_string=")))", comment_start_string="((#", comment_end_string="#))") \
        if format == "tex" else {}
    environment = jinja2.Environment(loader=jinja2.ChoiceLoader(loaders), undefined=jinja2.StrictUndefined,
                                     keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True,
                                     autoescape=False, bytecode_cache=_bytecode_cache(), **options)
    environment.filters["tex_text"] = tex_text
    environment.filters["ord"] = ord
    environment.filters["columns"] = columns
    environment.filters["md_text"] = md_text
    environment.filters["one_line"] = one_line
    environment.filters["class_wrong_item"] = lambda item, _, students: _("class_count", name=item["quantity"],
                                                                          count=item["count"], students=students)
    environment.filters["class_mistake_item"] = lambda item, _: _("class_lines_count", name=item["name"],
                                                                  count=item["count"])
    environment.filters["mathml"] = _mathml
    environment.filters["json"] = lambda data: json.dumps(data, indent=2, ensure_ascii=False)
    environment.globals["m"] = _mathml  # m(latex): inline mathematics in HTML templates
    return environment


def formats(root: Path | None = None) -> dict[str, str]:
    """Return format -> file extension: the built-in formats, and each one a template directory adds.

    A format is a directory of templates: `<root>/<format>/derivation.<extension>.j2` makes `format`
    available (derive run -f FORMAT --template-dir ROOT), fed the same context as the built-in ones.
    """
    known = dict(FORMATS)
    for template in sorted((root or template_root()).glob("*/derivation.*.j2")):
        parts = template.name.split(".")
        if len(parts) == 3 and template.parent.name.isidentifier():
            known.setdefault(template.parent.name, parts[1])
    return known


SHEET_FORMATS = {"md": "md", "tex": "tex", "html": "html"}


def _mathml(latex, display: bool = False) -> str:
    """html.mathml, its module loaded by the first HTML document."""
    from .html import mathml
    return mathml(latex, display)


def render_template(root: Path, format: str, name: str, context: dict) -> str:
    """Return template `name` (under `root`, else built in) rendered with `context`; errors are RenderError."""
    try:
        template = _environment(root, format).get_template(name)
    except jinja2.TemplateNotFound:
        raise RenderError("error_template_not_found", name=name, root=str(root)) from None
    except jinja2.TemplateSyntaxError as error:
        raise RenderError("error_template_syntax", name=error.name, line=error.lineno, problem=error.message) from None
    try:
        return template.render(**context)
    except jinja2.TemplateError as error:
        raise RenderError("error_template", name=name, problem=str(error)) from None


def template_directory(template_dir: str | Path | None) -> Path:
    """Return the directory templates are read from: `template_dir`, or the built-in one."""
    root = Path(template_dir) if template_dir else template_root()
    if not root.is_dir():
        raise RenderError("error_template_directory", directory=str(root))
    return root


# The documents of a derivation, and Options, from their modules when first used.
_LAZY = {"Options": "options", "Equation": "documents", "render": "documents", "document": "documents",
         "render_sheet": "documents", "document_context": "documents", "render_diagram": "documents",
         "document_files": "documents"}


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'derive.render' has no attribute {name!r}")


__all__ = ["render", "render_sheet", "render_diagram", "Options", "FORMATS", "template_root"]
