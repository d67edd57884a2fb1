"""`archcalc check` (grade hand-filled answer sheets, one or a class) and `archcalc template` (write a blank one)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ..errors import ArchcalcError, printable
from .options import DTYPES, parse_shape

GRADEBOOK_FORMATS = ("csv", "canvas", "moodle")   # archcalc.grading.lms.FORMATS, without importing grading
_CONVENTION_NAMES = ("bias", "ops", "memory", "units", "shapes", "batch", "dtype")


def register(main: click.Group) -> None:
    main.add_command(check)
    main.add_command(template)


def convention_options(command):
    """--bias/--no-bias, --ops, --memory, --units, --shapes, --batch, --dtype and --input."""
    for option in reversed([
        click.option("--bias/--no-bias", default=True, show_default=True,
                     help="Whether params count the biases (cs231n slides: --no-bias)."),
        click.option("--ops", type=click.Choice(["macs", "flops"]), default="macs", show_default=True,
                     help="What the ops column holds: MACs or FLOPs (= 2 × MACs)."),
        click.option("--memory", type=click.Choice(["elements", "bytes"]), default="elements", show_default=True,
                     help="What the memory column holds."),
        click.option("--units", type=click.Choice(["si", "binary", "either"]), default="si", show_default=True,
                     help="What K/M/G mean in answers: 1000 (si), 1024 (binary) or either."),
        click.option("--shapes", type=click.Choice(["auto", "lecture", "keras", "torch"]), default="auto",
                     show_default=True, help="The order shapes are written in: W×H×D (lecture), H×W×C (keras), "
                     "C×H×W (torch), or auto: from the sheet's header, else from its answers."),
        click.option("--batch", type=click.IntRange(min=1), default=1, show_default=True,
                     help="Batch size the numbers are asked for."),
        click.option("--dtype", type=click.Choice(DTYPES), default="float32", show_default=True,
                     help="Element type for memory in bytes."),
        click.option("--input", "input_shape", metavar="CxHxW", help="Override the input size, e.g. 3x32x32."),
    ]):
        command = option(command)
    return command


def _given(ctx: click.Context, values: dict) -> dict:
    """The conventions typed on the command line (not their defaults): only those can contradict a sheet."""
    from click.core import ParameterSource

    return {name: values[name] for name in _CONVENTION_NAMES
            if ctx.get_parameter_source(name) not in (ParameterSource.DEFAULT, None)}


def _write(path: str, text: str, what: str) -> None:
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ArchcalcError(f"cannot write the {what}: {exc.strerror or exc}", file=path) from None


@click.command()
@click.argument("architecture")
@click.argument("sheets", nargs=-1, required=True)
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json", *GRADEBOOK_FORMATS]), default="text",
              show_default=True, help="Output format; csv, canvas and moodle: the class's gradebook as CSV (archcalc's "
              "columns, or those Canvas or Moodle import), printed or written to --gradebook.")
@click.option("--brief", is_flag=True, help="List only the cells that are not correct.")
@click.option("--gradebook", "gradebook_path", type=click.Path(dir_okay=False),
              help="Write the gradebook (one CSV row per sheet, UTF-8 with a byte-order mark) to this file.")
@click.option("--feedback", "feedback_dir", type=click.Path(file_okay=False),
              help="Write one markdown feedback file per student into this folder (never over another file).")
@click.option("--roster", type=click.Path(dir_okay=False),
              help="Roster CSV (a name column and an id column such as id, email or SIS User ID): each row gets the "
              "id of the student its sheet belongs to.")
@click.option("--assignment", help="The assignment's column name in a canvas or moodle gradebook (default: the "
              "ARCHITECTURE argument).")
@click.option("--weights", help="Weights per column, e.g. params=2,shape=1 (default 1 each).")
@click.option("--partial", type=click.FloatRange(0, 1), default=0.0, show_default=True,
              help="Credit of a wrong answer a known mistake explains (an error carried forward gets full credit).")
@click.option("--total/--no-total", default=None, help="Whether every sheet is asked the TOTAL row (default: as "
              "a template's 'archcalc sheet:' line says; a sheet without the line is asked none).")
@click.option("--override", is_flag=True, help="Grade by the options where they contradict what the sheet asks.")
@convention_options
@click.pass_context
def check(ctx: click.Context, architecture: str, sheets: tuple[str, ...], fmt: str, brief: bool,
          gradebook_path: str | None, feedback_dir: str | None, roster: str | None, assignment: str | None,
          weights: str | None, partial: float, total: bool | None, override: bool, input_shape: str | None,
          **conventions):
    """Grade the hand-filled SHEETS (CSV, TSV, markdown or JSON files, folders, globs; `-` reads stdin)
    against ARCHITECTURE (or the exercise kind, e.g. lenet-like, for `archcalc exercise` sheets).

    One sheet prints its grade. Several, a folder, --gradebook, --feedback, --roster or a gradebook format
    grade a class: a gradebook table, one row per sheet (a sheet that cannot be graded is a row "not
    graded: why" without a score). In a folder only regular files are graded: a link is followed only
    to a file inside the folder, and a pipe is never opened.
    Exit status: 0 when every asked cell is correct, 1 when some are wrong, unanswered or unreadable,
    2 when a single sheet or the architecture cannot be used.
    """
    given = _given(ctx, conventions)
    options = {"input": parse_shape(input_shape), "override": override, "weights": weights, "partial": partial,
               "total": total}
    single = len(sheets) == 1 and not (gradebook_path or feedback_dir or roster) and fmt not in GRADEBOOK_FORMATS \
        and (sheets[0] == "-" or not Path(sheets[0]).is_dir())
    if single:
        from ..grading import check as grade_sheet
        from ..grading.sheet import MAX_SHEET_BYTES

        source = sys.stdin.buffer.read(MAX_SHEET_BYTES + 1) if sheets[0] == "-" else Path(sheets[0])
        grade = grade_sheet(architecture, source, given, **options)
        for warning in grade.warnings:
            click.echo(f"archcalc: warning: {warning}", err=True)
        if fmt == "json":
            click.echo(json.dumps(grade.to_dict(), indent=1, ensure_ascii=False))
        elif fmt == "markdown":
            click.echo(grade.to_markdown(brief=brief), nl=False)
        else:
            click.echo(grade.to_text(brief=brief))
        sys.exit(0 if grade.all_correct else 1)
    from ..grading import check_many
    from ..grading.lms import left_out

    book = check_many(architecture, sheets, given, roster=roster, **options)
    warnings = [w for entry in book.entries for w in (entry.grade.warnings if entry.grade else ())]
    warnings += book.warnings
    warnings += [f"{e.sheet}: left out of the moodle gradebook: no ID number or email address (give --roster)"
                 for e in left_out(book, fmt)]
    for warning in warnings:
        click.echo(f"archcalc: warning: {printable(warning)}", err=True)
    kept = [roster] if roster else []
    if gradebook_path:
        book.write_csv(gradebook_path, fmt if fmt in GRADEBOOK_FORMATS else "csv", assignment, keep=kept)
    if feedback_dir:
        book.write_feedback(feedback_dir, keep=kept + ([gradebook_path] if gradebook_path else []),
                            warn=lambda text: click.echo(f"archcalc: warning: {printable(text)}", err=True))
    if fmt in GRADEBOOK_FORMATS and not gradebook_path:
        click.echo(book.to_csv(fmt, assignment), nl=False)
    elif fmt == "json":
        click.echo(json.dumps(book.to_dict(), indent=1, ensure_ascii=False))
    elif fmt == "markdown":
        click.echo(book.to_markdown(), nl=False)
    else:
        click.echo(book.to_text())
    sys.exit(0 if all(e.grade and e.grade.all_correct for e in book.entries) else 1)


@click.command()
@click.argument("architecture")
@click.option("--columns", default="output,params", show_default=True,
              help="Columns to fill in, among input, output, params, ops (macs/flops), memory.")
@click.option("--given", default="", help="Columns handed out filled in, e.g. --given output.")
@click.option("--format", "fmt", type=click.Choice(["csv", "tsv", "markdown"]), default="csv", show_default=True,
              help="Sheet format.")
@click.option("--total/--no-total", default=True, show_default=True, help="End with a TOTAL row.")
@click.option("-o", "--output", "output_path", type=click.Path(dir_okay=False, writable=True),
              help="Write the sheet to this file instead of standard output.")
@convention_options
def template(architecture: str, columns: str, given: str, fmt: str, total: bool, output_path: str | None,
             input_shape: str | None, **conventions):
    """Write the blank answer sheet of ARCHITECTURE that a student fills in.

    The sheet opens with an `archcalc sheet:` line (conventions, input size, architecture) that
    `archcalc check` reads back, and a `student:` line. With --shapes lecture, keras or torch the shape
    headers name that order (`output shape (W×H×D)`); given shapes are written in it (W×H×D for auto).
    """
    from ..grading.template import template as write_template

    text = write_template(architecture, columns, given=given, conventions=conventions,
                          input=parse_shape(input_shape), format=fmt, total=total)
    if output_path:
        _write(output_path, text, "sheet")
    else:
        click.echo(text, nl=False)


