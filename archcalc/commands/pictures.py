"""`archcalc draw`, `plot` and `report`: the network drawn, its numbers charted, one HTML page."""

from __future__ import annotations

from pathlib import Path

import click

from .options import analysis_options
from .report import _analyze

_WHAT = ["params", "macs", "memory", "rf", "chart"]


def register(main: click.Group) -> None:
    for command in (draw, plot, report):
        main.add_command(command)


def _write(path: str, data: str | bytes) -> None:
    from ..errors import ArchcalcError

    try:
        if isinstance(data, bytes):
            Path(path).write_bytes(data)
        else:
            Path(path).write_text(data, encoding="utf-8")
    except OSError as exc:
        raise ArchcalcError(f"cannot write {path}: {exc.strerror or exc}") from None


@click.command()
@click.argument("architecture")
@click.option("-o", "--output", required=True, metavar="FILE", help="out.svg, out.png or out.pdf.")
@click.option("--kind", type=click.Choice(["graph", "blocks"]), default="graph", show_default=True,
              help="graph: a box per layer; blocks: the lecture figure of feature maps.")
@click.option("--depth", type=click.IntRange(min=1), default=None, metavar="K",
              help="Fold the layers below depth K of the block paths into one box per block (graph).")
@click.option("--layout", "engine", type=click.Choice(["archcalc", "dot"]), default="archcalc", show_default=True,
              help="Who places the boxes: archcalc, or Graphviz's dot program if installed (graph).")
@analysis_options
def draw(architecture: str, output: str, kind: str, depth: int | None, engine: str, input_shape: str | None,
         batch: int, dtype: str, strict: bool):
    """Draw ARCHITECTURE (a zoo name or a file) as SVG, PNG or PDF."""
    from ..draw import draw as make
    from ..errors import SpecError

    suffix = Path(output).suffix.lower().lstrip(".")
    if suffix not in ("svg", "png", "pdf"):
        raise SpecError(f"{output}: the file name must end in .svg, .png or .pdf")
    svg = make(_analyze(architecture, input_shape, batch, dtype, strict), kind, depth=depth, engine=engine)
    if suffix != "svg":
        from ..draw.convert import convert

        _write(output, convert(svg, suffix, output))
    else:
        _write(output, svg)


@click.command()
@click.argument("architectures", nargs=-1, required=True)
@click.option("-o", "--output", required=True, metavar="FILE", help="chart.svg, .png or .pdf.")
@click.option("--what", type=click.Choice(_WHAT), default=None,
              help="Per-layer bars of params, macs, memory or rf (receptive field), or the chart of MACs "
                   "against parameters; default: macs for one network, the chart for several.")
@click.option("--depth", type=click.IntRange(min=1), default=None, metavar="K",
              help="One bar per block below depth K.")
@click.option("--set", "settings", multiple=True, metavar="NAME=V1,V2",
              help="Sweep ARCHITECTURE over these values (as `archcalc sweep`) and chart its variants: MACs "
                   "against parameters, with the Pareto front.")
@click.option("--zip", "zipped", is_flag=True, help="With --set: pair the values instead of combining them.")
@click.option("--colour-by", "colour", metavar="NAME", help="With --set: colour the variants by this name "
              "(default: the first --set).")
@analysis_options
def plot(architectures: tuple[str, ...], output: str, what: str | None, depth: int | None, settings: tuple[str, ...],
         zipped: bool, colour: str | None, input_shape: str | None, batch: int, dtype: str, strict: bool):
    """Chart ARCHITECTURES: per-layer bars with the totals, several networks compared, or (--set) the
    variants of one network (matplotlib)."""
    from ..draw import plot as charts

    charts._pyplot()  # before any work: one line naming the extra if matplotlib is missing
    if settings:
        from ..errors import SpecError
        from ..sweep import front, parse_settings, sweep

        if len(architectures) != 1 or input_shape:
            raise SpecError("--set sweeps one architecture (give the input size as --set input=3x224x224)")
        grid = parse_settings(settings, zipped)
        rows = sweep(architectures[0], grid, batch=batch, dtype=dtype, strict=strict)
        title = f"{architectures[0]}: {len(rows):,} variants"
        best = front(rows, ["macs", "params"])
        charts.save(charts.sweep_chart(rows, colour or grid.keys[0], title, best), output)
        return
    reports = [_analyze(a, input_shape, batch, dtype, strict) for a in architectures]
    what = what or ("chart" if len(reports) > 1 else "macs")
    figure = charts.chart(reports) if what == "chart" else charts.layers(reports, what, depth)
    charts.save(figure, output)


@click.command()
@click.argument("architectures", nargs=-1, required=True)
@click.option("-o", "--output", required=True, metavar="FILE", help="report.html")
@analysis_options
def report(architectures: tuple[str, ...], output: str, input_shape: str | None, batch: int, dtype: str,
           strict: bool):
    """One self-contained HTML page of ARCHITECTURE (totals, drawing, table, plots, warnings);
    several architectures side by side."""
    from ..report.page import compare_page, report_page

    reports = [_analyze(a, input_shape, batch, dtype, strict) for a in architectures]
    _write(output, report_page(reports[0]) if len(reports) == 1 else compare_page(reports))
