"""`archcalc table`: the per-layer report (JSON for now; styles and formats live in report/)."""

from __future__ import annotations

import json

import click

from .options import analysis_options, parse_shape


def register(main: click.Group) -> None:
    main.add_command(table)


@click.command()
@click.argument("architecture")
@click.option("--format", "fmt", type=click.Choice(["json"]), default="json", show_default=True,
              help="Output format.")
@analysis_options
def table(architecture: str, fmt: str, input_shape: str | None, batch: int, dtype: str, strict: bool):
    """Per-layer shapes, parameters, MACs, memory and receptive field of ARCHITECTURE."""
    from ..analysis import analyze

    report = analyze(architecture, input=parse_shape(input_shape), batch=batch, dtype=dtype,
                     strict=strict)
    click.echo(json.dumps(report.to_dict(), indent=1))
