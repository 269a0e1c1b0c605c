"""PDF from a LaTeX document: latexmk with pdflatex (English) or xelatex (Chinese, ctex).

The engine runs in a fresh temporary directory, with shell escape off, no
latexmk rc files read, and TeX's paranoid file access (no reading or writing
outside that directory). When TeX lacks a file the document needs (a package,
a class, a font) the error is one line naming the file and the Debian package
that provides it; on any other failure the relevant lines of the LaTeX log are
shown. Either way nothing is written. Several documents compile in parallel
(compile_many), each exactly as it would alone.
"""
from __future__ import annotations

from dataclasses import dataclass
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..errors import Phrase, RenderError

ENGINES = {"pdflatex": "-pdf", "xelatex": "-xelatex"}
TIMEOUT = 300  # seconds for one document
INSTALL = {
    "pdflatex": "apt-get install texlive-latex-base texlive-latex-recommended texlive-latex-extra "
                "texlive-pictures lmodern latexmk",
    "xelatex": "apt-get install texlive-xetex texlive-lang-chinese fonts-noto-cjk latexmk",
}


# The files the preamble (templates/tex/preamble.tex.j2) and the diagram make TeX read, by language: what a
# complete TeX installation has. Keep in step with the preamble; the tests check these with kpsewhich.
REQUIRED_FILES = {
    "en": ("article.cls", "inputenc.sty", "fontenc.sty", "lmodern.sty", "amsmath.sty", "amssymb.sty",
           "geometry.sty", "booktabs.sty", "longtable.sty", "tikz.sty", "pgflibraryarrows.meta.code.tex",
           "tikzlibrarypositioning.code.tex"),
    "zh": ("ctexart.cls", "ctex.sty", "xeCJK.sty", "fontspec.sty", "newunicodechar.sty", "FandolSong-Regular.otf",
           "FandolHei-Regular.otf", "FandolKai-Regular.otf", "FandolFang-Regular.otf", "amsmath.sty", "amssymb.sty",
           "geometry.sty", "booktabs.sty", "longtable.sty", "tikz.sty", "pgflibraryarrows.meta.code.tex",
           "tikzlibrarypositioning.code.tex"),
}
# The Debian (and Ubuntu) package that provides each of those files and of Latin Modern's (found with dpkg -S).
PACKAGES = {
    "article.cls": "texlive-latex-base", "inputenc.sty": "texlive-latex-base", "fontenc.sty": "texlive-latex-base",
    "amsmath.sty": "texlive-latex-base", "geometry.sty": "texlive-latex-base", "longtable.sty": "texlive-latex-base",
    "amssymb.sty": "texlive-base", "booktabs.sty": "texlive-latex-recommended",
    "fontspec.sty": "texlive-latex-recommended", "newunicodechar.sty": "texlive-latex-extra",
    "tikz.sty": "texlive-pictures", "pgflibraryarrows.meta.code.tex": "texlive-pictures",
    "tikzlibrarypositioning.code.tex": "texlive-pictures",
    "lmodern.sty": "lmodern", "t1lmr.fd": "lmodern", "ec-lmr10.tfm": "lmodern",
    "ctexart.cls": "texlive-lang-chinese", "ctex.sty": "texlive-lang-chinese", "xeCJK.sty": "texlive-lang-cjk",
    "FandolSong-Regular.otf": "texlive-lang-chinese", "FandolHei-Regular.otf": "texlive-lang-chinese",
    "FandolKai-Regular.otf": "texlive-lang-chinese", "FandolFang-Regular.otf": "texlive-lang-chinese",
}
# How a log says TeX found no file (after "! ", or "file:line: " with -file-line-error): LaTeX's missing package or
# class, plain TeX's missing input, a missing font metric (pdflatex; the file is NAME.tfm) and a font fontspec
# cannot find (xelatex; the file is NAME.otf).
_ERROR = r"^(?:!|[^:\s]+:\d+:) "
_MISSING = (
    (re.compile(_ERROR + r"LaTeX Error: File `([^']+)' not found\."), ""),
    (re.compile(_ERROR + r"I can't find file `([^']+)'\."), ""),
    (re.compile(_ERROR + r"Font \S+=(\S+?)(?: at \S+)? not loadable: Metric \(TFM\) file not found"), ".tfm"),
    (re.compile(_ERROR + r'Package fontspec Error: (?:\(fontspec\)\s*)?The font "([^"]+)" cannot be found'), ".otf"),
)
LOG_WIDTH = 79  # TeX breaks the lines of its log after this many characters


def engine_for(lang: str) -> str:
    """Return the TeX engine of a document in `lang`: xelatex (with ctex) for Chinese, pdflatex otherwise."""
    return "xelatex" if lang == "zh" else "pdflatex"


def required_files(lang: str = "en") -> tuple[str, ...]:
    """Return the files TeX must find (as kpsewhich names them) to compile derive's documents in `lang`."""
    return REQUIRED_FILES["zh" if lang == "zh" else "en"]


def missing_file(log: str) -> str | None:
    """Return the first file a LaTeX log says TeX could not find, or None if it says no such thing."""
    unwrapped = re.sub(rf"(?m)^(.{{{LOG_WIDTH}}})\n", r"\1", log)
    for line in unwrapped.splitlines():
        for pattern, suffix in _MISSING:
            found = pattern.match(line)
            if found:
                name = found.group(1)
                return name if "." in name or " " in name or not suffix else name + suffix
    return None


def missing_file_error(name: str) -> RenderError:
    """Return the error saying that TeX lacks the file `name`, and the Debian package to install for it."""
    package = PACKAGES.get(name)
    if package:
        return RenderError("error_tex_missing_package", name=name, package=package)
    return RenderError("error_tex_missing_file", name=name)


def missing_file_message(name: str) -> str:
    """Return the one line (English) saying that TeX lacks the file `name`, and the Debian package for it."""
    return str(missing_file_error(name))


def missing_tools(engine: str = "pdflatex") -> list[str]:
    """Return the programs a PDF build with `engine` needs that are not installed."""
    return [tool for tool in ("latexmk", engine) if shutil.which(tool) is None]


def require_tools(engine: str) -> None:
    """Raise RenderError, saying what to install, if a program a PDF build with `engine` needs is missing."""
    missing = missing_tools(engine)
    if missing:
        tools = Phrase("error_two_tools", first=missing[0], second=missing[1]) if len(missing) == 2 else missing[0]
        raise RenderError("error_pdf_tools_missing", tools=tools, install=INSTALL[engine])


def compile_pdf(tex: str, engine: str = "pdflatex") -> bytes:
    """Return the PDF of the LaTeX document `tex`, built by latexmk with `engine`.

    Raises RenderError when TeX is not installed (saying what to install), when
    it lacks a file the document needs (one line: the file and its Debian
    package), or when the build fails otherwise (with the log's error lines).
    """
    if engine not in ENGINES:
        raise RenderError("error_tex_engine", engine=engine)
    require_tools(engine)
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
            raise RenderError("error_latex_timeout", limit=TIMEOUT) from None
        pdf = Path(directory) / "document.pdf"
        if result.returncode != 0 or not pdf.is_file():
            log = Path(directory) / "document.log"
            text = log.read_text(encoding="utf-8", errors="replace") if log.is_file() else \
                result.stdout.decode(errors="replace")
            name = missing_file(text)
            if name is not None:
                raise missing_file_error(name)
            raise RenderError("error_latex_failed", log=log_errors(text))
        return pdf.read_bytes()


def compile_document(tex: str, lang: str = "en") -> bytes:
    """Return the PDF of a document in `lang`: xelatex (with ctex) for Chinese, pdflatex otherwise."""
    return compile_pdf(tex, engine_for(lang))


def compile_many(documents: list[tuple[str, str]], progress=None) -> list[bytes]:
    """Return the PDFs of `documents`, (LaTeX source, language) pairs, in their order.

    They compile in parallel, in at most os.cpu_count() threads (each runs
    latexmk in a directory of its own), and each PDF is byte for byte what
    compile_document gives for it alone. If TeX is not installed, that is
    said before anything runs. If documents fail, the error raised is that
    of the earliest failing one in the list, whichever finished first, and
    documents not yet started are not compiled. `progress(1)`, if given, is
    called (in the calling thread) as each PDF is collected, in order.
    """
    if not documents:
        return []
    for engine in dict.fromkeys(engine_for(lang) for _, lang in documents):
        require_tools(engine)
    from concurrent.futures import ThreadPoolExecutor
    pool = ThreadPoolExecutor(max_workers=min(len(documents), os.cpu_count() or 1), thread_name_prefix="derive-tex")
    try:
        futures = [pool.submit(compile_document, tex, lang) for tex, lang in documents]
        results = []
        for future in futures:  # in order: an earlier document's error wins over a later one's
            results.append(future.result())
            if progress is not None:
                progress(1)
        return results
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


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


@dataclass(frozen=True)
class PendingPDF:
    """A PDF still to be compiled: its LaTeX source and language (see compile_pending)."""

    tex: str
    lang: str


def compile_pending(files: list[tuple[Path, object]], progress=None) -> list[tuple[Path, object]]:
    """Return `files` with every PendingPDF compiled, all in parallel (render.pdf.compile_many), in the same order.

    The PDFs are those a one-by-one build gives, byte for byte; if several
    fail, the error is the earliest one's. `progress(1)` is called per PDF.
    """
    pending = [index for index, (_, content) in enumerate(files) if isinstance(content, PendingPDF)]
    built = compile_many([(files[i][1].tex, files[i][1].lang) for i in pending], progress=progress)
    result = list(files)
    for index, pdf in zip(pending, built):
        result[index] = (files[index][0], pdf)
    return result
