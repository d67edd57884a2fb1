"""`archcalc check` (grade a hand-filled answer sheet) and `archcalc template` (write a blank one)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ..errors import ArchcalcError
from .options import DTYPES, parse_shape


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


def _conventions(bias: bool, ops: str, memory: str, units: str, shapes: str, batch: int, dtype: str):
    from ..grading import Conventions

    return Conventions(bias=bias, ops=ops, memory=memory, units=units, shapes=shapes, batch=batch, dtype=dtype)


@click.command()
@click.argument("architecture")
@click.argument("answers")
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json"]), default="text",
              show_default=True, help="Output format.")
@click.option("--brief", is_flag=True, help="List only the cells that are not correct.")
@convention_options
def check(architecture: str, answers: str, fmt: str, brief: bool, bias: bool, ops: str, memory: str, units: str,
          shapes: str, batch: int, dtype: str, input_shape: str | None):
    """Grade the hand-filled table ANSWERS (CSV, markdown or JSON; `-` reads stdin) against ARCHITECTURE.

    Exit status: 0 when every graded cell is correct, 1 when some are wrong or unreadable, 2 when the
    sheet or the architecture cannot be used.
    """
    from ..grading import check as grade_sheet
    from ..grading.sheet import MAX_SHEET_BYTES

    source = sys.stdin.buffer.read(MAX_SHEET_BYTES + 1) if answers == "-" else Path(answers)
    grade = grade_sheet(architecture, source, _conventions(bias, ops, memory, units, shapes, batch, dtype),
                        input=parse_shape(input_shape))
    if fmt == "json":
        click.echo(json.dumps(grade.to_dict(), indent=1, ensure_ascii=False))
    elif fmt == "markdown":
        click.echo(grade.to_markdown(), nl=False)
    else:
        click.echo(grade.to_text(brief=brief))
    sys.exit(0 if grade.all_correct else 1)


@click.command()
@click.argument("architecture")
@click.option("--columns", default="output,params", show_default=True,
              help="Columns to fill in, among input, output, params, ops (macs/flops), memory.")
@click.option("--given", default="", help="Columns handed out filled in, e.g. --given output.")
@click.option("--format", "fmt", type=click.Choice(["csv", "markdown"]), default="csv", show_default=True,
              help="Sheet format.")
@click.option("--total/--no-total", default=True, show_default=True, help="End with a TOTAL row.")
@click.option("-o", "--output", "output_path", type=click.Path(dir_okay=False, writable=True),
              help="Write the sheet to this file instead of standard output.")
@convention_options
def template(architecture: str, columns: str, given: str, fmt: str, total: bool, output_path: str | None,
             bias: bool, ops: str, memory: str, units: str, shapes: str, batch: int, dtype: str,
             input_shape: str | None):
    """Write the blank answer sheet of ARCHITECTURE that a student fills in.

    With --shapes lecture, keras or torch the shape headers name that order (`output shape (W×H×D)`), so
    the filled sheet is graded in it; given shapes are written in it (W×H×D for auto).
    """
    from ..analysis import analyze
    from ..grading.template import column_names, render_template, template_rows

    conventions = _conventions(bias, ops, memory, units, shapes, batch, dtype)
    chosen = column_names(columns)
    handed = column_names(given, "--given") if given else []
    chosen += [c for c in handed if c not in chosen]
    report = analyze(architecture, input=parse_shape(input_shape), batch=batch, dtype=dtype)
    text = render_template(template_rows(report, chosen, handed, conventions, total), fmt)
    if output_path:
        try:
            Path(output_path).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise ArchcalcError(f"cannot write the sheet: {exc.strerror or exc}", file=output_path) from None
    else:
        click.echo(text, nl=False)
