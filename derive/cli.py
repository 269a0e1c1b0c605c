"""The command line: thin click commands over the library. Errors become one line and exit code 2."""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import click

from . import examples
from .derivation import derive as derive_network
from .errors import DeriveError
from .notation import STYLES
from .render import FORMATS
from .render.report import REPORT_FORMATS
from .spec import load

EXTENSIONS = {".md": "md", ".tex": "tex", ".json": "json", ".txt": "text"}
REPORT_EXTENSIONS = {".md": "md", ".json": "json", ".txt": "text"}


class InputError(click.ClickException):
    """Bad input: one line on stderr, exit code 2."""

    exit_code = 2

    def show(self, file=None):
        click.echo(f"error: {self.message}", err=True)


def write_atomically(path: Path, text: str) -> None:
    """Write `text` to `path` through a temporary file in the same directory, then rename it into place."""
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise InputError(f"{path}: the directory {directory} does not exist")
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def resolve_spec(spec: str | None) -> Path:
    """Return the path for SPEC: a file, or the name of a built-in example (default: classic)."""
    if spec is None:
        return examples.path("classic")
    if not Path(spec).exists() and spec in examples.names():
        return examples.path(spec)
    return Path(spec)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="derive")
def cli():
    """derive: turn a small neural network into a step-by-step backpropagation derivation."""


@cli.command()
@click.argument("spec", required=False)
@click.option("-f", "--format", "format_", type=click.Choice(list(FORMATS)), default=None,
              help="Output format (default: from the -o extension, else md).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to this file (atomically) instead of standard output.")
@click.option("--digits", type=click.IntRange(1, 40), default=9, show_default=True,
              help="Significant digits shown (computation always uses 50).")
@click.option("--exact", is_flag=True, help="Show rational values as exact fractions.")
@click.option("--notation", type=click.Choice(STYLES), default="named", show_default=True,
              help="named: net_{h1}, w_5; index: net_4, w_{41}.")
@click.option("--verify", is_flag=True,
              help="Check every gradient against the direct derivative and finite differences.")
@click.option("--template-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Use templates from this directory (falls back to the built-in ones).")
def run(spec, format_, output, digits, exact, notation, verify, template_dir):
    """Derive one backpropagation step for SPEC and print the worked example.

    SPEC is a network file (YAML or JSON) or the name of a built-in example;
    without it, the classic 2-2-2 sigmoid example is used.
    """
    if format_ is None:
        format_ = EXTENSIONS.get(output.suffix.lower(), "md") if output else "md"
    try:
        derivation = derive_network(load(resolve_spec(spec)), verify=verify)
        document = derivation.render(format_, digits=digits, exact=exact, notation=notation,
                                     template_dir=template_dir)
    except DeriveError as error:
        raise InputError(str(error)) from None
    if output is None:
        click.echo(document, nl=not document.endswith("\n"))
    else:
        write_atomically(output, document)
    if verify and derivation.verified is False:
        raise click.ClickException("self-check failed: some gradients disagree")


@cli.command()
@click.argument("spec")
@click.option("--claim", "claims", multiple=True, metavar="CLAIM",
              help='A claim such as "delta_o1 = (out_o1 - t_o1) out_o1 (1 - out_o1)"; repeat for more.')
@click.option("--claims", "claims_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="A YAML/JSON file: a list of claims, or lists grouped by student id.")
@click.option("-f", "--format", "format_", type=click.Choice(list(REPORT_FORMATS)), default=None,
              help="Report format (default: from the -o extension, else text).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the report to this file (atomically) instead of standard output.")
@click.option("--carry-forward", is_flag=True,
              help="Also judge each number against the value recomputed from the student's earlier numbers.")
@click.option("--rel-tol", type=click.FloatRange(0, 1, min_open=True), default=None,
              help="Relative tolerance for numbers (default: the precision each number is written with).")
@click.option("--digits", type=click.IntRange(1, 40), default=9, show_default=True,
              help="Significant digits of the expected values shown.")
def check(spec, claims, claims_file, format_, output, carry_forward, rel_tol, digits):
    """Mark claims about SPEC's backpropagation: each is correct, incorrect, undecided or unreadable.

    A claim is QUANTITY = EXPRESSION, in plain text, LaTeX or Unicode; see the
    README for the claim language. Exit code 0 when every claim is correct, 1
    when any is not, 2 for an unreadable SPEC or claims file.
    """
    from .check import claims_from_data, load_claims, mark
    from .render.report import render_report
    if not claims and claims_file is None:
        raise InputError("give at least one --claim, or --claims FILE")
    if format_ is None:
        format_ = REPORT_EXTENSIONS.get(output.suffix.lower(), "text") if output else "text"
    try:
        derivation = derive_network(load(resolve_spec(spec)))
        grouped = load_claims(claims_file) if claims_file is not None else {}
        if claims:
            grouped = {**claims_from_data(list(claims), "--claim"), **grouped}
        report = mark(derivation, grouped, carry_forward=carry_forward, rel_tol=rel_tol)
        document = render_report(report, format_, digits=digits)
    except DeriveError as error:
        raise InputError(str(error)) from None
    if output is None:
        click.echo(document, nl=not document.endswith("\n"))
    else:
        write_atomically(output, document)
    sys.exit(0 if report.passed else 1)


@cli.command(name="examples")
@click.option("--write", "directory", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Regenerate the documents (md and tex) of every example into this directory.")
def examples_command(directory):
    """List the built-in example networks, or write their documents with --write DIR."""
    if directory is None:
        for name in examples.names():
            click.echo(f"{name:16} {examples.summary(name)}")
        return
    directory.mkdir(parents=True, exist_ok=True)
    for name, format_, text in example_documents():
        write_atomically(directory / f"{name}.{format_}", text)
        click.echo(f"wrote {directory / f'{name}.{format_}'}")


def example_documents():
    """Yield (example name, format, document) for the committed outputs/ directory."""
    for name in examples.names():
        derivation = derive_network(load(examples.path(name)), verify=True)
        for format_ in ("md", "tex"):
            yield name, format_, derivation.render(format_)


def main() -> None:
    """Run the command line; an unexpected failure is one line too, with exit code 1."""
    try:
        cli.main(standalone_mode=True)
    except SystemExit:
        raise
    except Exception as error:  # a bug, not bad input: still one line, and how to see more
        if os.environ.get("DERIVE_DEBUG"):
            raise
        click.echo(f"internal error: {type(error).__name__}: {error} (set DERIVE_DEBUG=1 for details)", err=True)
        sys.exit(1)
