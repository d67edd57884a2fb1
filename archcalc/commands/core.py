"""`archcalc validate`, `archcalc schema` and `archcalc layers`: the file format."""

from __future__ import annotations

import json
import sys

import click

from ..errors import ArchcalcError, printable


def register(main: click.Group) -> None:
    main.add_command(validate)
    main.add_command(schema)
    main.add_command(layers)


@click.command()
@click.argument("files", nargs=-1, required=True)
@click.option("--strict", is_flag=True, help="Make a window that does not tile its input an error.")
def validate(files: tuple[str, ...], strict: bool):
    """Check architecture FILES: syntax, keys, references, cycles and every shape."""
    from ..analysis import analyze
    from ..report.styles.common import params_words
    from ..tiling import grouped

    failed = False
    for name in files:
        try:
            report = analyze(name, strict=strict)
        except ArchcalcError as exc:
            click.echo(f"archcalc: error: {exc}", err=True)
            failed = True
            continue
        source = printable(report.architecture.source)
        for line in grouped(report.warnings):
            kind = "" if line.startswith("note: ") else "warning: "
            click.echo(f"{source}: {kind}{printable(line)}", err=True)
        click.echo(f"{source}: ok ({len(report.layers)} layers, {params_words(report.totals)})")
    sys.exit(2 if failed else 0)


@click.command()
def schema():
    """Print the JSON Schema of architecture files (for editors)."""
    from ..spec.schema import json_schema

    click.echo(json.dumps(json_schema(), indent=1))


@click.command()
@click.argument("pattern", default="")
@click.option("--format", "fmt", type=click.Choice(["terminal", "markdown", "csv", "json"]), default="terminal",
              show_default=True, help="A table, or JSON with each argument's default and accepted values.")
def layers(pattern: str, fmt: str):
    """Every layer type `type:` accepts: its aliases, the PyTorch and Keras class names it also reads,
    and its arguments with their defaults; PATTERN keeps the types whose names contain it."""
    from ..report.layer_types import layer_types_table, type_entries

    entries = type_entries(pattern)
    if fmt == "json":
        click.echo(json.dumps({"types": entries}, indent=1))
        return
    from ..report import render

    click.echo(render(layer_types_table(entries), fmt), nl=False)
