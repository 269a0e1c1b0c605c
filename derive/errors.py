"""Error values. The library raises these; only the CLI turns them into one line and an exit code."""
from __future__ import annotations


def one_line(text) -> str:
    """Return a message on one line: runs of white space (line breaks too) become one space, other control
    characters are written as escapes. A library's message may have several lines; ours never do."""
    return " ".join("".join(c if c.isprintable() or c.isspace() else repr(c)[1:-1] for c in str(text)).split())


class DeriveError(Exception):
    """Bad input, described in one line. `where` says where (file, line, field) when known."""

    def __init__(self, message: str, where: str | None = None):
        super().__init__(message)
        self.message = message
        self.where = where

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


class SpecError(DeriveError):
    """A network file that cannot be read, or that describes no valid network."""


class FormulaError(DeriveError):
    """A formula (activation or loss) outside the safe grammar."""


class RenderError(DeriveError):
    """A document that cannot be produced (missing template, failed tool)."""
