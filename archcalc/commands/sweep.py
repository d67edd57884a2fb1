"""`archcalc sweep`: one file analysed over a grid of its arguments and input size."""

from __future__ import annotations

import click

from .options import DTYPES
from .report import COUNT_PROFILES, FORMATS, UNITS


def register(main: click.Group) -> None:
    main.add_command(sweep)


def sweep_options(command):
    """--set, --zip and the analysis options of a sweep (shared with `archcalc plot`)."""
    for option in reversed([
        click.option("--set", "settings", multiple=True, metavar="NAME=V1,V2",
                     help="Values of one of the file's args (or `input`, as 3x224x224): a list `1,0.75,0.5`, "
                          "a range `32:128:32` (stop included) or both; repeat for several names."),
        click.option("--zip", "zipped", is_flag=True,
                     help="Pair the names' values (the i-th of each) instead of taking every combination."),
        click.option("--batch", type=click.IntRange(min=1), default=1, show_default=True,
                     help="Batch size N (multiplies MACs, FLOPs and memory)."),
        click.option("--dtype", type=click.Choice(DTYPES), default="float32", show_default=True,
                     help="Element type for the byte counts."),
        click.option("--strict", is_flag=True, help="Make a window that does not tile its input an error."),
    ]):
        command = option(command)
    return command


@click.command()
@click.argument("architecture")
@sweep_options
@click.option("--pareto", metavar="KEYS",
              help="Show the variants no other beats on every one of these numbers, e.g. macs,params "
                   "(smaller is better).")
@click.option("--count", "counts", multiple=True, type=click.Choice(COUNT_PROFILES[1:]),
              help="Add a column of FLOPs as this tool counts them (repeatable).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="terminal", show_default=True,
              help="How the table is written (as `archcalc table`).")
@click.option("--units", type=click.Choice(UNITS), default="si", show_default=True,
              help="exact, si (K = 1000) or binary (K = 1024); csv and json carry the exact numbers.")
@click.option("--jobs", type=click.IntRange(min=1), default=1, show_default=True,
              help="Worker processes on this machine (joblib; extra `sweep`).")
@click.option("--dask", "address", metavar="ADDRESS",
              help="Run on the Dask cluster whose scheduler is at ADDRESS, e.g. tcp://host:8786 (extra `dask`).")
@click.option("--chunk", type=click.IntRange(min=1), default=None, metavar="N",
              help="Variants per task and per write (default 1000).")
@click.option("-o", "--output", metavar="FILE",
              help="Stream the rows to FILE (.csv, or .parquet: extra `dask`) instead of printing them.")
@click.option("--resume", is_flag=True, help="Continue the FILE of an interrupted run from its last row.")
def sweep(architecture: str, settings: tuple[str, ...], zipped: bool, batch: int, dtype: str, strict: bool,
          pareto: str | None, counts: tuple[str, ...], fmt: str, units: str, jobs: int, address: str | None,
          chunk: int | None, output: str | None, resume: bool):
    """Analyse ARCHITECTURE (a zoo name or a file) for every combination of the --set values: one row
    per variant with its params, MACs, FLOPs, memory and receptive field, or its one-line error."""
    from ..report import render
    from ..sweep import front, parse_settings, stream
    from ..sweep.pareto import check_keys
    from ..sweep.table import sweep_table

    if resume and output is None:
        raise click.UsageError("--resume continues an output file: give it with -o")
    grid = parse_settings(settings, zipped)
    keys = check_keys(pareto.split(","), counts) if pareto else None
    run = stream(architecture, grid, count=counts, batch=batch, dtype=dtype, strict=strict, jobs=jobs,
                 dask=address, chunk=chunk, output=output, resume=resume)
    invalid = [0]

    def every_row():
        for rows in run:
            for row in rows:
                invalid[0] += row["error"] is not None
                yield row

    shown = front(every_row(), keys) if keys else [r for r in every_row()] if output is None else None
    if shown is None:
        for _ in every_row():
            pass
    label = run.job.label
    if output is not None:
        click.echo(f"archcalc: {output} holds {run.written:,} of {len(grid):,} variants"
                   f" ({run.written - run.start:,} analysed now, {invalid[0]:,} of them invalid)", err=True)
        if shown is None:
            return
    title = f"{label}: {len(grid):,} variant(s)" + (f", Pareto front on {', '.join(keys)}" if keys else "")
    footer = [f"{invalid[0]:,} variant(s) invalid: their row says why"] if invalid[0] and not keys else []
    if keys:
        footer.append(f"{len(shown):,} variant(s) on the front (smaller is better on every one of "
                      f"{', '.join(keys)}); invalid variants are left out")
    table = sweep_table(shown, grid.keys, counts, title, units, footer)
    click.echo(render(table, fmt), nl=False)
