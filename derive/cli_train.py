"""`derive train`: many updates of the derived step, compiled once; importing no SymPy when the compiled
program of the same spec and options was kept in derive's cache (derive.cache, kind "programs").

The cache key is derive's version and code (cache.code_version), the spec file's bytes and the options that change the program (the
update rule and its hyper-parameters, the batch); the entry is the training plan (derive.loop.Plan),
whose code is checked by derive.safecode again when it is read. A plan is stored only after a run that
derived it; anything wrong with an entry makes it a miss, and the output is the same either way.
"""
from __future__ import annotations

import json
from pathlib import Path

import click

from .catalogue import languages
from .cli_common import (InputError, OneLineCommand, chosen_spec, compared_rule, progress_bar, resolve_spec,
                         rule_list, rule_options, with_batch)
from .errors import DeriveError

FORMATS = ["text", "json", "csv", "md", "html", "tex", "pdf"]
EXTENSIONS = {".json": "json", ".csv": "csv", ".md": "md", ".html": "html", ".htm": "html", ".tex": "tex",
              ".pdf": "pdf", ".txt": "text"}


@click.command(cls=OneLineCommand)
@click.argument("spec", required=False)
@click.option("--steps", type=click.IntRange(0, 10_000_000), default=None,
              help="How many updates to make, each the step `derive run` derives.")
@click.option("--epochs", type=click.IntRange(0, 10_000_000), default=None,
              help="Or how many passes over the spec's samples (each pass as many updates as it has batches).")
@click.option("--batch", default=None, metavar="full|each|N",
              help="How the samples are taken (default: the spec's batch, else full).")
@click.option("--compare", default=None, metavar="RULES",
              help="Train once with each of these update rules (sgd,momentum,adam) and show them side by side; "
                   "--plot draws every curve on one plot.")
@click.option("--every", type=click.IntRange(1, 10_000_000), default=None,
              help="Keep the loss every this many steps (default: about a hundred points).")
@click.option("--crosscheck", type=click.Choice(["torch"]), default=None,
              help="Run the same steps in PyTorch float64 with torch.optim's optimizer and report the largest "
                   "relative difference (pip install 'derive[torch]').")
@click.option("-f", "--format", "format_", type=click.Choice(FORMATS), default=None,
              help="Output format (default: from the -o extension, else text): text, json and csv give the figures; "
                   "md, html, tex and pdf a document with a table of the loss and the curve (md: the curve in an "
                   ".svg file beside it). pdf needs -o.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to this file (atomically) instead of standard output.")
@click.option("--plot", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also draw the loss curve: .svg (written by derive), .png or .pdf (through matplotlib: "
                   "pip install 'derive[plot]').")
@click.option("--digits", type=click.IntRange(1, 17), default=10, show_default=True,
              help="Significant digits of the figures in the text output (JSON and CSV keep every digit).")
@click.option("--lang", default="en", show_default=True, metavar="LANG",
              help=f"Language of the text output: {', '.join(languages())}, or one of --template-dir's.")
@click.option("--template-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Use message catalogues from this directory (falls back to the built-in ones).")
@click.option("--precision", type=click.Choice(["float", "exact"]), default="float", show_default=True,
              help="exact: compute every update at 50 significant digits by the program itself, to check the "
                   "float run (at most 1,000 updates).")
@rule_options
def train(spec, steps, epochs, batch, compare, every, crosscheck, format_, output, plot, digits, lang, template_dir,
          precision, optimizer, **hyper):
    """Train SPEC's network: make --steps updates, each the one `derive run` derives, in compiled floats.

    The derivation's own program (forward pass, loss, every δ and gradient,
    the update rule's lines) is compiled once from derive's SymPy trees and
    stepped; the loss is kept every --every steps. Prints the losses, and the
    loss, outputs and parameters after the last update. Give --steps or
    --epochs. The compiled program is kept in derive's cache, so the next
    run of the same spec and options starts at once.
    """
    from .files import write_documents
    from .loop import MAX_HISTORY, MAX_STEPS, batches_per_epoch, run as run_plan
    from .render.plots import IMAGE_FORMATS
    from .render.training import render_comparison, render_curves, render_curves_image, render_run
    output = None if output == Path("-") else output
    if format_ is None:
        format_ = EXTENSIONS.get(output.suffix.lower(), "text") if output else "text"
    if format_ == "pdf" and output is None:
        raise InputError("error_pdf_needs_output")
    if (steps is None) == (epochs is None):
        raise InputError("error_steps_or_epochs")
    if crosscheck is not None and format_ not in ("text", "json"):
        raise InputError("error_crosscheck_csv")
    if compare is not None and optimizer is not None:
        raise InputError("error_compare_optimizer")
    try:
        kind = plot.suffix.lower().lstrip(".") if plot is not None else None
        if kind is not None and kind not in ("svg", *IMAGE_FORMATS):
            raise InputError("error_plot_format", file=plot.name)
        if compare is None:
            choices = [(optimizer, hyper)]
        else:
            from .rules import UPDATE_RULES
            choices = [(name, {key: value for key, value in hyper.items()
                               if key in (*UPDATE_RULES[name][0], "weight_decay")}) for name in rule_list(compare)]
        exact = precision == "exact"
        plans, specs = zip(*[_plan(spec, rule, given, batch, crosscheck is not None or exact, compare is not None)
                             for rule, given in choices])
        steps = steps if steps is not None else epochs * batches_per_epoch(plans[0])
        if steps > MAX_STEPS:
            raise InputError("error_too_many_steps", limit=MAX_STEPS)
        if every is not None and steps // every > MAX_HISTORY:
            raise InputError("error_training_history", limit=MAX_HISTORY)
        if exact:
            from .derivation import derive
            from .train import train_exact
            results = [train_exact(derive(each), steps, every) for each in specs]
        else:
            with progress_bar(steps * len(plans), "progress_training") as advance:
                results = [run_plan(plan, steps, every, advance) for plan in plans]
        differences = None
        if crosscheck is not None:
            from .crosscheck import largest_difference
            differences = [largest_difference(result, each) for result, each in zip(results, specs)]
        files = []
        if format_ in ("md", "html", "tex", "pdf"):
            from .render.training import render_training
            curve_file = output.with_suffix(".svg") if format_ == "md" and output is not None else None
            document = render_training(results, "tex" if format_ == "pdf" else format_, digits=digits, lang=lang,
                                       template_dir=template_dir, curve_file=curve_file.name if curve_file else None)
            if format_ == "pdf":
                from .render.pdf import compile_document
                files.append((output, compile_document(document, lang)))
            if curve_file is not None:
                files.append((curve_file, render_curves(results, lang=lang, template_dir=template_dir,
                                                        legend=compare is not None)))
        elif compare is None:
            document = render_run(results[0], format_, digits=digits, lang=lang, template_dir=template_dir,
                                  crosscheck=differences[0] if differences else None)
        else:
            document = render_comparison(results, format_, digits=digits, lang=lang, template_dir=template_dir,
                                         crosschecks=differences)
        legend = compare is not None
        curve = None if kind is None else \
            render_curves(results, lang=lang, template_dir=template_dir, legend=legend).encode("utf-8") \
            if kind == "svg" else render_curves_image(results, kind, lang=lang, template_dir=template_dir, legend=legend)
        if output is not None and not any(path == output for path, _ in files):
            files.append((output, document))
        if curve is not None:
            files.append((plot, curve))
        if files:
            write_documents(output, files)
    except DeriveError as error:
        raise InputError(error) from None
    if output is None:
        click.echo(document, nl=not document.endswith("\n"))


def _plan(spec: str | None, optimizer: str | None, hyper: dict, batch: str | None, need_spec: bool,
          compared: bool):
    """Return (the training plan, the spec or None) for SPEC with these options: the cached plan when there
    is one (and the spec itself is not needed), else the plan of its derivation, then kept in the cache."""
    from . import __version__, cache
    from .loop import Plan
    path = resolve_spec(spec)
    try:
        text = path.read_bytes()
    except OSError:
        text = None  # the slow path says what is wrong with the file
    given = {name: value for name, value in hyper.items() if value is not None}
    name = None if text is None else cache.key(__version__, cache.code_version(), text, optimizer or "",
                                               json.dumps(given, sort_keys=True), batch or "")
    if name is not None and not need_spec:
        stored = cache.load_json("programs", name)
        if stored is not None:
            try:
                return Plan.from_data(stored), None
            except ValueError:
                pass  # not a plan derive can run: derive it again
    from .derivation import derive
    from .train import plan as make_plan
    loaded = chosen_spec(spec, None, optimizer if not compared else None, {} if compared else hyper)
    if compared:
        loaded = compared_rule(loaded, optimizer, hyper)
    if batch is not None:
        loaded = with_batch(loaded, batch)
    made = make_plan(derive(loaded))
    if name is not None:
        cache.store_json("programs", name, made.to_data())
    return made, loaded


def main(args: list[str]) -> None:
    """Run `derive train` on its own (launch's quick start for it: derive.cli is not imported)."""
    from .cli_common import run_guarded
    run_guarded(train, args=args, prog_name="derive train")
