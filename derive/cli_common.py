"""What every command of the command line shares, importing no SymPy: one-line errors, the spec
argument, the update-rule options, and the guard that turns a failure of derive into one line.

`derive train` is built from this alone (derive.cli_train), so that a training run whose compiled
program is cached starts without importing SymPy; the other commands are in derive.cli.
"""
from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from pathlib import Path

import click

from . import examples
from .catalogue import read, template_root
from .errors import DeriveError, Phrase, one_line


def _command_messages():
    """Return the message catalogue of the running command's --lang (and --template-dir): English when the
    command has none, or when that language cannot be read (then the language is the bad input)."""
    context = click.get_current_context(silent=True)
    params = context.params if context is not None else {}
    if params.get("lang", "en") != "en" or params.get("template_dir") is not None:
        from .render import template_directory
        try:
            return read(template_directory(params.get("template_dir")), params.get("lang", "en"))
        except DeriveError:
            pass
    return read(template_root(), "en")


def command_text(key: str, **fields) -> str:
    """Return the catalogue's message `key` filled in, in the running command's --lang, on one line."""
    return one_line(Phrase(key, **fields).text(_command_messages()))


class InputError(click.ClickException):
    """Bad input: one line on stderr, exit code 2. InputError(key, **fields) for a message of derive's own
    (a catalogue key), InputError(error) for a DeriveError; either is written in the command's --lang."""

    exit_code = 2

    def __init__(self, message: str | DeriveError, **fields):
        error = message if isinstance(message, DeriveError) else DeriveError(message, **fields)
        messages = _command_messages()
        super().__init__(error.text(messages))
        self.line = Phrase("error_line", message=self.message).text(messages)

    def show(self, file=None):
        click.echo(one_line(self.line), err=True)


class SelfCheckFailed(InputError):
    """--verify found a gradient that disagrees: one line, exit code 1 (the input was fine; derive was not)."""

    exit_code = 1


def resolve_spec(spec: str | None) -> Path:
    """Return the path for SPEC: a file, or the name of a built-in example (default: classic)."""
    if spec is None:
        return examples.path("classic")
    if not Path(spec).exists() and spec in examples.names():
        return examples.path(spec)
    return Path(spec)


class _OneLine:
    """Usage errors (a bad option value, a missing file) are one line and exit code 2; a ClickException is
    shown as it says and exits with its code."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        try:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.UsageError as error:
            click.echo(f"error: {one_line(error.format_message())}", err=True)
            sys.exit(2)
        except click.ClickException as error:
            error.show()
            sys.exit(error.exit_code)
        except click.Abort:  # Ctrl-C while click was reading or prompting
            raise KeyboardInterrupt from None


class OneLineErrors(_OneLine, click.Group):
    """The command group: its usage errors are one line and exit code 2."""


class OneLineCommand(_OneLine, click.Command):
    """A command run on its own (derive train's quick start): its usage errors are one line and exit code 2."""


HYPER_OPTIONS = ("momentum", "alpha", "beta1", "beta2", "eps", "weight_decay")


def rule_options(function):
    """The options choosing the update rule and its hyper-parameters (spec keys: optimizer: {name, …})."""
    from .rules import UPDATE_RULES
    options = [click.option("--optimizer", type=click.Choice(list(UPDATE_RULES)), default=None,
                            help="The update rule (default: the spec's optimizer, else sgd).")]
    options += [click.option(f"--{name.replace('_', '-')}", name, default=None, metavar="NUMBER",
                             help=f"The rule's {name} (torch.optim's name and default).") for name in HYPER_OPTIONS]
    for option in reversed(options):
        function = option(function)
    return function


def with_rule(spec, optimizer: str | None, hyper: dict):
    """Return `spec` with the update rule the options ask for: --optimizer (the spec's hyper-parameters kept
    when it names the spec's own rule) and any hyper-parameter given; the spec itself when none is."""
    from dataclasses import replace
    from .functions import update_rule
    from .spec import hyperparameter, number_text
    given = {name: value for name, value in hyper.items() if value is not None}
    if optimizer is None and not given:
        return spec
    name = optimizer or spec.optimizer.name
    values = dict(spec.optimizer.hyper) if name == spec.optimizer.name else {}
    defaults = dict(update_rule(name).hyper)
    values = {key: value for key, value in values.items() if key in defaults}
    for key, text in given.items():
        values[key] = hyperparameter(key, number_text(text, f"--{key.replace('_', '-')}"),
                                     f"--{key.replace('_', '-')}")
    return replace(spec, optimizer=update_rule(name, f"--optimizer {name}", **values))


def chosen_spec(spec: str | None, sample_number: int | None, optimizer: str | None, hyper: dict):
    """Return the spec named on the command line, with the sample and the update rule its options choose."""
    from .spec import load
    loaded = with_rule(load(resolve_spec(spec)), optimizer, hyper)
    if sample_number is not None:
        if sample_number > len(loaded.samples):
            raise InputError("error_sample_number", number=sample_number, count=len(loaded.samples))
        loaded = loaded.with_sample(sample_number)
    return loaded


MAX_COMPARED = 6  # update rules one --compare trains


def rule_list(text: str) -> list[str]:
    """Return the update rules --compare names (comma-separated, each once, known, at most MAX_COMPARED)."""
    from .rules import UPDATE_RULES
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in UPDATE_RULES]
    if unknown or not names:
        raise InputError("error_unknown_update_rule", name=(unknown or [text])[0][:40], known=", ".join(UPDATE_RULES))
    if len(set(names)) != len(names) or len(names) > MAX_COMPARED:
        raise InputError("error_compare_rules", limit=MAX_COMPARED)
    return names


def compared_rule(spec, name: str, hyper: dict):
    """Return `spec` with the rule `name` for --compare: the hyper-parameters given that the rule takes."""
    from .functions import update_rule
    taken = dict(update_rule(name).hyper)
    return with_rule(spec, name, {key: value for key, value in hyper.items() if key in taken})


def with_batch(spec, text: str):
    """Return `spec` with the batch --batch gives: full, each, or a mini-batch size."""
    from dataclasses import replace
    from .spec import batch_value
    value = batch_value(text, len(spec.samples))
    if value is None:
        raise InputError("error_batch", count=len(spec.samples))
    return replace(spec, batch=value)


def run_guarded(command: click.BaseCommand, **extra) -> None:
    """Run a click command (or group). Exit codes: 0 done; 1 a claim is not correct, or --verify failed; 2 bad
    input (one line); 3 a failure of derive itself (one line, DERIVE_DEBUG=1 shows the traceback)."""
    try:
        command.main(standalone_mode=True, **extra)
    except (SystemExit, BrokenPipeError):
        raise
    except Exception as error:  # a bug, not bad input: still one line, and how to see more
        if os.environ.get("DERIVE_DEBUG"):
            raise
        click.echo(f"internal error: {type(error).__name__}: {one_line(error)[:300]} (set DERIVE_DEBUG=1 for details)",
                   err=True)
        sys.exit(3)


@contextmanager
def progress_bar(length: int, key: str):
    """Yield advance(n): a progress bar of `length` on a terminal (standard error), labelled by the catalogue's
    `key` in the command's --lang; nothing otherwise."""
    if length < 2 or not sys.stderr.isatty():
        yield lambda steps=1: None
        return
    label = _command_messages().get(key, key)
    with click.progressbar(length=length, label=label, file=sys.stderr) as bar:
        yield lambda steps=1: bar.update(steps)
