"""`archcalc validate` and `archcalc schema`."""

from __future__ import annotations

import json
import sys

import click

from ..errors import ArchcalcError


def register(main: click.Group) -> None:
    main.add_command(validate)
    main.add_command(schema)


@click.command()
@click.argument("files", nargs=-1, required=True)
@click.option("--strict", is_flag=True, help="Make a window that does not tile its input an error.")
def validate(files: tuple[str, ...], strict: bool):
    """Check architecture FILES: syntax, keys, references, cycles and every shape."""
    from ..analysis import analyze
    from ..tiling import grouped

    failed = False
    for name in files:
        try:
            report = analyze(name, strict=strict)
        except ArchcalcError as exc:
            click.echo(f"archcalc: error: {exc}", err=True)
            failed = True
            continue
        for line in grouped(report.warnings):
            kind = "" if line.startswith("note: ") else "warning: "
            click.echo(f"{report.architecture.source}: {kind}{line}", err=True)
        click.echo(f"{report.architecture.source}: ok ({len(report.layers)} layers, "
                   f"{report.totals.params:,} params)")
    sys.exit(2 if failed else 0)


@click.command()
def schema():
    """Print the JSON Schema of architecture files (for editors)."""
    from ..spec.schema import json_schema

    click.echo(json.dumps(json_schema(), indent=1))
