"""The command line: thin click commands over the library. Errors become one line and exit code 2."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import click

from . import examples
from .derivation import derive as derive_network
from .cli_common import (InputError, OneLineErrors, SelfCheckFailed, chosen_spec, command_text, progress_bar,
                         resolve_spec, rule_options, run_guarded)
from .cli_train import train
from .errors import DeriveError
from .files import write_documents, write_output
from .notation import STYLES
from .render import FORMATS, document_files, formats, languages, render, render_diagram
from .render.options import EDGE_LABELS, MAX_SPACE, SHEET_SPACE, Options
from .render.report import REPORT_FORMATS
from .spec import load

RUN_FORMATS = list(FORMATS) + ["pdf"]
EXTENSIONS = {".md": "md", ".tex": "tex", ".html": "html", ".htm": "html", ".pdf": "pdf", ".json": "json",
              ".txt": "text"}
REPORT_EXTENSIONS = {".md": "md", ".json": "json", ".txt": "text"}


@click.group(cls=OneLineErrors, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="derive")
def cli():
    """derive: turn a small neural network into a step-by-step backpropagation derivation."""


def document_options(function):
    """The options every document command shares: language, notation, digits, diagram labels."""
    options = [
        click.option("--digits", type=click.IntRange(1, 40), default=9, show_default=True,
                     help="Significant digits shown (computation always uses 50)."),
        click.option("--exact", is_flag=True, help="Show rational values as exact fractions."),
        click.option("--notation", type=click.Choice(STYLES), default="named", show_default=True,
                     help="named: net_{h1}, w_5; index: net_4, w_{41}."),
        click.option("--lang", default="en", show_default=True, metavar="LANG",
                     help=f"Language of the prose: {', '.join(languages())}, or one of --template-dir's."),
        click.option("--diagram-labels", type=click.Choice(EDGE_LABELS), default="values", show_default=True,
                     help="What the diagram's arrows show: weight names, name = value, gradients, updated values."),
        click.option("--unit-values", is_flag=True, help="Show each unit's net and out in the diagram."),
        click.option("--round-steps", type=click.IntRange(0, 20), default=None, metavar="N",
                     help="Round every intermediate value to N decimals before the next step uses it."),
        click.option("--template-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
                     help="Use templates from this directory (falls back to the built-in ones)."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def document_settings(digits, exact, notation, lang, diagram_labels, unit_values, template_dir, space=0.0) -> Options:
    """Return the Options of a document command. The diagram shows numbers at 4 significant digits unless
    --digits was given (a diagram with 9-digit labels is hard to read)."""
    given = click.get_current_context().get_parameter_source("digits") == click.core.ParameterSource.COMMANDLINE
    return Options(digits=digits, exact=exact, notation=notation, lang=lang, template_dir=template_dir,
                   edge_labels=diagram_labels, unit_values=unit_values,
                   diagram_digits=digits if given else Options.diagram_digits, space=space)


@cli.command()
@click.argument("spec", required=False)
@click.option("-f", "--format", "format_", default=None, metavar="FORMAT",
              help=f"Output format: {', '.join(RUN_FORMATS)}, or one --template-dir adds (default: from the -o "
                   "extension, else md). pdf needs -o.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to this file (atomically; '-' is standard output) instead of standard output; "
                   "with md, the diagram goes to an .svg file beside it.")
@click.option("--verify", is_flag=True,
              help="Check every gradient against the direct derivative and finite differences.")
@click.option("--sample", "sample_number", type=click.IntRange(1, None), default=None, metavar="K",
              help="Derive the step on the spec's sample K of its samples (default: the first).")
@rule_options
@document_options
def run(spec, format_, output, verify, sample_number, optimizer, digits, exact, notation, lang, diagram_labels,
        unit_values, round_steps, template_dir, **hyper):
    """Derive one backpropagation step for SPEC and print the worked example.

    SPEC is a network file (YAML or JSON) or the name of a built-in example;
    without it, the classic 2-2-2 sigmoid example is used.
    """
    output = None if output == Path("-") else output
    if format_ is None:
        format_ = EXTENSIONS.get(output.suffix.lower(), "md") if output else "md"
    known = [*formats(template_dir if template_dir and template_dir.is_dir() else None), "pdf"]
    if format_ not in known:
        raise InputError("error_unknown_format", format=format_, known=", ".join(known))
    if format_ == "pdf" and output is None:
        raise InputError("error_pdf_needs_output")
    if verify and round_steps is not None:
        raise InputError("error_verify_round_steps")
    options = document_settings(digits, exact, notation, lang, diagram_labels, unit_values, template_dir)
    try:
        derivation = derive_network(chosen_spec(spec, sample_number, optimizer, hyper), verify=verify,
                                    round_steps=round_steps)
        diagram = output.with_suffix(".svg") if format_ == "md" and output is not None else None
        files = document_files(derivation, format_, output, options, diagram=diagram)
        if output is not None:
            write_documents(output, files)
    except DeriveError as error:
        raise InputError(error) from None
    if output is None:
        document = files[0][1]
        click.echo(document, nl=not document.endswith("\n"))
    if verify and derivation.verified is False:
        raise SelfCheckFailed("error_self_check_failed")


@cli.command()
@click.argument("spec")
@click.option("--claim", "claims", multiple=True, metavar="CLAIM",
              help='A claim such as "delta_o1 = (out_o1 - t_o1) out_o1 (1 - out_o1)"; repeat for more.')
@click.option("--claims", "claims_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="A YAML/JSON file: a list of claims, or lists grouped by student id.")
@click.option("--derivation", "derivation_file", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
              default=None, help="Mark a whole derivation (.txt, .md or .tex; '-' for standard input) line by "
                                 "line and link by link, errors carried forward.")
@click.option("--derivations", "derivations_dir", type=click.Path(file_okay=False, exists=True, path_type=Path),
              default=None, help="Mark a class: every .txt, .md and .tex file in this directory is one student's "
                                 "derivation, the file name (without extension) the student's id.")
@click.option("--annotate", "annotated", type=click.Path(path_type=Path), default=None,
              help="Also write each student's document with a mark after every equation, in the document's own "
                   "format: to this file (--derivation) or into this directory as ID.marked.EXT (--derivations).")
@click.option("--jobs", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Mark a class's derivations in this many processes (the report is the same).")
@click.option("--gradebook", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="With --derivation(s): write the points per student and per quantity as CSV.")
@click.option("--chart", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="With --derivations: write the class's mistakes as a bar chart: .svg (drawn by derive), "
                   ".png or .pdf (through matplotlib: pip install 'derive[plot]').")
@click.option("--min-digits", type=click.IntRange(1, 40), default=None,
              help="A number with fewer significant digits is marked not precise enough.")
@click.option("--last-digit", type=click.IntRange(0, 9), default=0, show_default=True,
              help="Accept numbers this many units off in their last digit (besides rounding).")
@click.option("--points", "points_text", default="formula=1,substitution=1,value=1", show_default=True,
              help="Points of a derivation's line for its formula, its numbers put in and its value.")
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
@click.option("--lang", default="en", show_default=True, metavar="LANG",
              help=f"Language of the report's prose (the JSON keys stay as they are): {', '.join(languages())}, "
                   "or one of --template-dir's.")
@click.option("--template-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Use templates and message catalogues from this directory (falls back to the built-in ones).")
@rule_options
def check(spec, claims, claims_file, derivation_file, derivations_dir, annotated, jobs, gradebook, chart, min_digits,
          last_digit, points_text, format_, output, carry_forward, rel_tol, digits, lang, template_dir, optimizer,
          **hyper):
    """Mark claims about SPEC's backpropagation: each is correct, incorrect, undecided or unreadable.

    A claim is QUANTITY = EXPRESSION, in plain text, LaTeX or Unicode; see the
    README for the claim language. With --derivation (or --derivations, a
    class), every equation of a student's document is marked, each link of
    its chain (formula, numbers put in, arithmetic) too. SPEC may be the
    directory of a `derive handout --variants` run: with --derivations each
    student is marked against the variant their file's name ends with
    (alice-07.md). Claims about training (E_after_100, w5_after_100,
    out_o1_after_100) are judged against a run of that many updates, by the
    spec's update rule or --optimizer's. Exit code 0 when every claim is correct, 1
    when any is not, 2 for an unreadable SPEC or claims file or an unwritable
    report, 3 for a failure of derive itself.
    """
    from .check import claims_from_data, load_claims, mark
    from .check.judge import INTERNAL_ERROR
    from .check.report import mark_derivations
    from .render.report import render_report
    # Bytes that are not UTF-8 on the command line arrive as surrogates: show them as U+FFFD, not crash.
    claims = [claim.encode("utf-8", "surrogateescape").decode("utf-8", "replace") for claim in claims]
    documents = derivation_file is not None or derivations_dir is not None
    if not claims and claims_file is None and not documents:
        raise InputError("error_no_claims")
    if documents and (claims or claims_file is not None) or derivation_file is not None and derivations_dir is not None:
        raise InputError("error_derivation_and_claims")
    if (annotated is not None or gradebook is not None) and not documents \
            or chart is not None and derivations_dir is None:
        raise InputError("error_annotate_needs_derivation")
    policy = _policy(min_digits, last_digit, points_text)
    output = None if output == Path("-") else output
    if format_ is None:
        format_ = REPORT_EXTENSIONS.get(output.suffix.lower(), "text") if output else "text"
    try:
        handout = Path(spec).is_dir() if spec is not None else False
        if handout and derivations_dir is None:
            raise InputError("error_variants_need_class", directory=spec)
        derivation = None if handout else derive_network(chosen_spec(spec, None, optimizer, hyper))
        if documents:
            from .check.report import document_kind, mark_variants, read_document
            paths = {None: derivation_file} if derivation_file is not None else _class_files(derivations_dir)
            texts = {student: read_document(path) for student, path in paths.items()}
            kinds = {student: document_kind(texts[student], path) for student, path in paths.items()}
            with progress_bar(len(texts), "progress_marking") as advance:
                if handout:  # a `derive handout --variants` directory: each student's variant by their id
                    variants, assigned = _class_variants(Path(spec), paths)
                    report = mark_variants(variants, texts, assigned, rel_tol=rel_tol, kinds=kinds, policy=policy,
                                           jobs=jobs, progress=advance)
                else:
                    report = mark_derivations(derivation, texts, rel_tol=rel_tol, kinds=kinds, policy=policy,
                                              jobs=jobs, progress=advance)
        else:
            grouped = load_claims(claims_file) if claims_file is not None else {}
            if claims:
                if None in grouped:
                    raise InputError("error_claims_one_student")
                grouped = {**claims_from_data(list(claims), "--claim"), **grouped}
            report = mark(derivation, grouped, carry_forward=carry_forward, rel_tol=rel_tol, policy=policy)
        document = render_report(report, format_, lang=lang, digits=digits, template_dir=template_dir)
        files = [(output, document)] if output is not None else []
        if gradebook is not None:
            from .check.report import gradebook as grades
            files.append((gradebook, grades(report)))
        if chart is not None:
            from .render.report import CHART_FORMATS, render_chart, render_chart_image
            kind = chart.suffix.lower().lstrip(".")
            if kind not in CHART_FORMATS:
                raise InputError("error_chart_format", file=chart.name, formats=", ".join(CHART_FORMATS))
            files.append((chart, render_chart(report, lang=lang, template_dir=template_dir) if kind == "svg"
                          else render_chart_image(report, kind, lang=lang, template_dir=template_dir)))
        for path, content in files:
            write_output(path, content if isinstance(content, bytes) else content.encode("utf-8"))
        if annotated is not None:
            from .render.annotate import annotate
            marked = [(annotated if derivation_file is not None else
                       annotated / f"{student}.marked{paths[student].suffix}",
                       annotate(texts[student], kinds[student], report.of(student), lang=lang,
                                template_dir=template_dir)) for student in texts]
            if derivation_file is not None:
                write_output(annotated, marked[0][1].encode("utf-8"))
            else:  # derive's own files in that directory, recorded in its manifest
                write_documents(None, marked, manifest_directory=annotated)
    except DeriveError as error:
        raise InputError(error) from None
    if output is None:
        click.echo(document, nl=not document.endswith("\n"))
    failed = [v for v in report.verdicts if v.message is not None and v.message.key == INTERNAL_ERROR]
    if failed:  # everything else was marked and written; derive's own failure is said, and is exit code 3
        click.echo(command_text("error_internal_lines", count=len(failed), error=dict(failed[0].message.fields)["error"]),
                   err=True)
        sys.exit(3)
    sys.exit(0 if report.passed else 1)


@cli.command()
@click.argument("spec", required=False)
@click.option("--ask", default="delta,gradient,update", show_default=True,
              help="What the sheet asks for: kinds (net, out, E, delta, gradient, update) and/or quantities "
                   "in the claim language (delta_h1, w5_new), comma-separated.")
@click.option("-f", "--format", "format_", type=click.Choice(["pdf", "tex", "md", "html"]), default="pdf",
              show_default=True, help="Format of the sheets and keys.")
@click.option("-o", "--output", "directory", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="Directory to write into (created if needed).")
@click.option("--variants", type=click.IntRange(1, 500), default=None,
              help="Write this many sheets with different numbers (same network), each with its key, its "
                   "network file and a row of the answer table.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the variants: same seed, same files.")
@click.option("--decimals", type=click.IntRange(1, 4), default=2, show_default=True,
              help="Decimals of the numbers drawn for variants.")
@click.option("--space", type=click.FloatRange(0, MAX_SPACE), default=SHEET_SPACE, show_default=True,
              help="Centimetres of working space under each question of the sheet (0: none).")
@document_options
def handout(spec, ask, format_, directory, variants, seed, decimals, space, digits, exact, notation, lang,
            diagram_labels, unit_values, round_steps, template_dir):
    """Write an exercise sheet and its answer key (the full worked derivation) for SPEC.

    Files: sheet.EXT and key.EXT; with --variants N, sheet-01.EXT, key-01.EXT,
    network-01.yaml, ... and answers.csv / answers.json (variant → every asked
    quantity, named as `derive check` reads them).
    """
    from . import handout as handouts
    options = document_settings(digits, exact, notation, lang, diagram_labels, unit_values, template_dir, space)
    try:
        base = load(resolve_spec(spec))
        with progress_bar(variants or 1, "progress_deriving") as advance:
            if variants is None:
                derived = [(None, base, derive_network(base, round_steps=round_steps))]
                advance(1)
            else:
                drawn = handouts.variants(base, variants, seed, decimals, round_steps, progress=advance)
                derived = [(f"{index:0{max(2, len(str(variants)))}d}", s, d) for index, (s, d) in enumerate(drawn, start=1)]
        asked = handouts.questions(derived[0][2], ask)
        files = []
        with progress_bar(len(derived), "progress_writing") as advance:
            for name, variant_spec, derivation in derived:
                files += handouts.documents(derivation, asked, format_, name, options, compile=False)  # built below
                if name is not None:
                    files.append((Path(f"network-{name}.yaml"), handouts.spec_yaml(variant_spec)))
                advance(1)
        from .render.pdf import PendingPDF, compile_pending  # only the commands that may write PDFs load TeX's
        pending = sum(isinstance(content, PendingPDF) for _, content in files)
        with progress_bar(pending, "progress_compiling") as advance:
            files = compile_pending(files, progress=advance)
        if variants is not None:
            rows = handouts.answer_rows([(name, d) for name, _, d in derived], asked)
            files.append((Path("answers.json"), json.dumps({"seed": seed, "questions": [q.name for q in asked],
                                                            "variants": rows}, indent=2) + "\n"))
            files.append((Path("answers.csv"), handouts.answers_csv(rows)))
        write_documents(None, [(directory / path, content) for path, content in files], manifest_directory=directory)
    except DeriveError as error:
        raise InputError(error) from None
    click.echo(f"wrote {len(files)} files to {directory}")


def _policy(min_digits, last_digit, points_text):
    """Return the marking Policy of the command's options; --points is NAME=NUMBER, comma-separated."""
    from .check.judge import LINK_POINTS, Policy
    points = []
    for item in points_text.split(","):
        name, sign, value = item.partition("=")
        try:
            number = float(value)
        except ValueError:
            number = None
        if not sign or name.strip() not in LINK_POINTS or number is None or not 0 <= number <= 1000:
            raise InputError("error_points_form", item=item.strip(), kinds=", ".join(LINK_POINTS))
        points.append((name.strip(), number))
    return Policy(min_digits=min_digits, last_digit=last_digit, points=tuple(points))


def _class_files(directory: Path) -> dict[str, Path]:
    """Return {student id: file} of a class directory: each .txt, .md or .tex file (not a marked copy)."""
    files: dict[str, Path] = {}
    for path in sorted(directory.iterdir()):
        if not path.is_file() or ".marked." in path.name or path.suffix.lower() not in (
                ".txt", ".md", ".markdown", ".tex", ".latex"):
            continue
        if path.stem in files:
            raise InputError("error_student_file_twice", student=path.stem, first=files[path.stem].name,
                             second=path.name)
        files[path.stem] = path
    if not files:
        raise InputError("error_no_derivations", directory=str(directory))
    return files


def _class_variants(directory: Path, paths: dict[str, Path]) -> tuple[dict, dict[str, str]]:
    """Return ({variant id: derivation}, {student: variant id}) for a class marked against the variants a
    handout wrote into `directory` (network-07.yaml, …): a student's id ends with the variant's number
    (`07`, `alice-07`); only the variants a student worked are derived."""
    from .handout import variant_files, variant_of
    files = variant_files(directory)
    if not files:
        raise InputError("error_no_variants", directory=str(directory))
    assigned = {}
    for student, path in paths.items():
        variant = variant_of(student, files)
        if variant is None:
            raise InputError("error_student_without_variant", file=path.name,
                             example=f"{student}-{next(iter(files))}{path.suffix}")
        assigned[student] = variant
    variants = {variant: derive_network(load(files[variant])) for variant in sorted(set(assigned.values()))}
    return variants, assigned


@cli.command(name="examples")
@click.option("--write", "directory", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Regenerate every example's documents (md with svg, tex, html), and the classic "
                   "example's handout and key (pdf and html, English and Chinese), into this directory.")
def examples_command(directory):
    """List the built-in example networks, or write their documents with --write DIR."""
    if directory is None:
        for name in examples.names():
            click.echo(f"{name:16} {examples.summary(name)}")
        return
    from .render.pdf import compile_pending
    try:
        files = compile_pending(list(example_documents()) + list(example_handouts(compile=False)))
    except DeriveError as error:
        raise InputError(error) from None
    try:
        write_documents(None, [(directory / path, content) for path, content in files], manifest_directory=directory)
    except DeriveError as error:
        raise InputError(error) from None
    for path, _ in files:
        click.echo(f"wrote {directory / path}")
    page = directory / HANDOUT_PICTURE
    if shutil.which("pdftoppm"):
        source = directory / "handout" / "en" / "sheet.pdf"
        subprocess.run(["pdftoppm", "-png", "-r", "70", "-f", "1", "-l", "1", "-singlefile", str(source),
                        str(page.with_suffix(""))], check=True)
        click.echo(f"wrote {page}")


HANDOUT_PICTURE = Path("handout") / "sheet-page-1.png"
HANDOUT_ASK = "delta,gradient,update,E_new"


def example_documents():
    """Yield (relative path, document) of every example's committed documents in outputs/."""
    for name in examples.names():
        derivation = derive_network(load(examples.path(name)), verify=True)
        options = Options(edge_labels="values")
        yield Path(f"{name}.md"), render(derivation, "md", options, diagram_file=f"{name}.svg")
        yield Path(f"{name}.svg"), render_diagram(derivation, options)
        yield Path(f"{name}.tex"), render(derivation, "tex", options)
        yield Path(f"{name}.html"), render(derivation, "html", options)


def example_handouts(formats=("html", "pdf"), compile=True):
    """Yield (relative path, content) of the classic example's sheet and key, in both languages
    (with compile=False, each PDF as a render.pdf.PendingPDF)."""
    from . import handout as handouts
    derivation = derive_network(load(examples.path("classic")))
    asked = handouts.questions(derivation, HANDOUT_ASK)
    for lang in ("en", "zh"):
        options = Options(lang=lang, edge_labels="values", space=SHEET_SPACE)
        for format_ in formats:
            for path, content in handouts.documents(derivation, asked, format_, None, options, compile=compile):
                yield Path("handout") / lang / path, content


cli.add_command(train)


def main() -> None:
    """Run the command line (see derive.cli_common.run_guarded for the exit codes; 130 interrupted)."""
    run_guarded(cli)
