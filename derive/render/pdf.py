"""PDF from a LaTeX document: latexmk with pdflatex (English) or xelatex (Chinese, ctex).

The engine runs in a fresh temporary directory, with shell escape off, no
latexmk rc files read, and TeX's paranoid file access (no reading or writing
outside that directory). On failure the relevant lines of the LaTeX log are
shown and nothing is written.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..errors import RenderError

ENGINES = {"pdflatex": "-pdf", "xelatex": "-xelatex"}
TIMEOUT = 300  # seconds for one document
INSTALL = {
    "pdflatex": "apt-get install texlive-latex-base texlive-latex-recommended texlive-latex-extra "
                "texlive-pictures lmodern latexmk",
    "xelatex": "apt-get install texlive-xetex texlive-lang-chinese fonts-noto-cjk latexmk",
}


def missing_tools(engine: str = "pdflatex") -> list[str]:
    """Return the programs a PDF build with `engine` needs that are not installed."""
    return [tool for tool in ("latexmk", engine) if shutil.which(tool) is None]


def compile_pdf(tex: str, engine: str = "pdflatex") -> bytes:
    """Return the PDF of the LaTeX document `tex`, built by latexmk with `engine`.

    Raises RenderError when TeX is not installed (saying what to install) or
    the build fails (with the log's error lines).
    """
    if engine not in ENGINES:
        raise RenderError(f"unknown TeX engine {engine!r}")
    missing = missing_tools(engine)
    if missing:
        raise RenderError(f"PDF output needs {' and '.join(missing)}, which are not installed; "
                          f"on Debian or Ubuntu: {INSTALL[engine]}")
    with tempfile.TemporaryDirectory(prefix="derive-tex-") as directory:
        source = Path(directory) / "document.tex"
        source.write_text(tex, encoding="utf-8")
        # SOURCE_DATE_EPOCH fixes the dates and the file identifier: the same document gives the same bytes.
        environment = {**os.environ, "openout_any": "p", "openin_any": "p", "shell_escape": "f",
                       "TEXMFOUTPUT": directory, "SOURCE_DATE_EPOCH": "0", "FORCE_SOURCE_DATE": "1"}
        command = ["latexmk", "-norc", ENGINES[engine], "-no-shell-escape", "-interaction=nonstopmode",
                   "-halt-on-error", "-file-line-error", "document.tex"]
        try:
            result = subprocess.run(command, cwd=directory, env=environment, capture_output=True,
                                    timeout=TIMEOUT, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise RenderError(f"LaTeX did not finish within {TIMEOUT} s") from None
        pdf = Path(directory) / "document.pdf"
        if result.returncode != 0 or not pdf.is_file():
            log = Path(directory) / "document.log"
            text = log.read_text(encoding="utf-8", errors="replace") if log.is_file() else \
                result.stdout.decode(errors="replace")
            raise RenderError("LaTeX failed:\n" + log_errors(text))
        return pdf.read_bytes()


def compile_document(tex: str, lang: str = "en") -> bytes:
    """Return the PDF of a document in `lang`: xelatex (with ctex) for Chinese, pdflatex otherwise."""
    return compile_pdf(tex, "xelatex" if lang == "zh" else "pdflatex")


def log_errors(log: str, context: int = 2, limit: int = 20) -> str:
    """Return the error lines of a LaTeX log ('! …' and 'file:line: …'), each with a little context."""
    lines = log.splitlines()
    shown: list[str] = []
    for index, line in enumerate(lines):
        if line.startswith("!") or re.match(r"^[^:\s]+\.tex:\d+: ", line):
            shown.extend(lines[index:index + context + 1])
        if len(shown) >= limit:
            break
    return "\n".join(shown[:limit]) if shown else "\n".join(lines[-limit:])
