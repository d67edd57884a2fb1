"""`archcalc table`, `compare`, `explain` and `list`: the reports (styles × formats in report/)."""

from __future__ import annotations

import click

from ..step_memory import OPTIMIZER_SLOTS
from .options import analysis_options, freezing_options, parse_shape

# archcalc.profiles.NAMES
COUNT_PROFILES = ["archcalc", "fvcore", "ptflops", "ptflops-modules", "ptflops-aten", "thop", "torchinfo", "torch",
                  "torch-train", "ultralytics"]

STYLES = ["full", "lecture", "structural", "keras", "keras3", "cs231n", "paper", "torch"]
FORMATS = ["terminal", "markdown", "csv", "json", "latex", "html"]
UNITS = ["exact", "si", "binary"]


def register(main: click.Group) -> None:
    for command in (table, compare, explain, list_zoo):
        main.add_command(command)


def _format_option(command):
    return click.option("--format", "fmt", type=click.Choice(FORMATS), default="terminal", show_default=True,
                        help="terminal (colour only on a terminal), markdown, csv, json, latex (booktabs) "
                             "or html (one self-contained page).")(command)


def _columns(text: str | None) -> list[str] | None:
    return [c.strip() for c in text.split(",") if c.strip()] if text else None


def _analyze(name: str, input_shape, batch: int, dtype: str, strict: bool, count: str = "archcalc",
             freeze: tuple[str, ...] = (), train_only: tuple[str, ...] = ()):
    from ..analysis import analyze
    from ..errors import SpecError

    try:
        shape = parse_shape(input_shape)
    except click.BadParameter as exc:
        raise SpecError(f"--input: {exc.message}") from None
    return analyze(name, input=shape, batch=batch, dtype=dtype, strict=strict, count=count, freeze=freeze,
                   train_only=train_only)


def _echo(text: str) -> None:
    click.echo(text, nl=False)


def _warn(option: str, by: str, why: str) -> None:
    click.echo(f"archcalc: warning: {option} is ignored by {by} ({why})", err=True)


def _warn_ignored(style: str | None, fmt: str, analysis: bool, depth, units, ops: str, count: str) -> None:
    """One warning per option the chosen style or format cannot honour: nothing is dropped silently."""
    given = {"depth": depth is not None, "units": units is not None, "ops": ops != "macs",
             "count": count != "archcalc"}
    flags = {"depth": f"--depth {depth}", "units": f"--units {units}", "ops": f"--ops {ops}",
             "count": f"--count {count}"}
    if analysis:
        for option in ("units", "ops"):
            if given[option]:
                _warn(flags[option], "--format json", "the analysis carries exact MACs and FLOPs; add --style "
                      "full for a table")
        return
    from ..report.styles import STYLES, ignored

    for option in ignored(style or "full", [o for o, on in given.items() if on]):
        by = [s for s in STYLES if not ignored(s, [option])]
        _warn(flags[option], f"--style {style}", f"honoured by --style {', '.join(by)}")
    if given["units"] and fmt == "csv":
        _warn(flags["units"], "--format csv", "numbers are written in full, for spreadsheets")


@click.command()
@click.argument("architecture")
@click.option("--style", type=click.Choice(STYLES), default=None,
              help="Layout: full (default), lecture (LeNet table), structural (AlexNet/ResNet18), keras (the "
                   "lecture's Keras 1 summary), keras3 (Keras 3's summary today), cs231n, "
                   "paper (GoogLeNet Table 1) or torch (torchinfo tree). With --format json and no --style, --depth "
                   "or --columns, the output is the analysis itself (docs/json.md), the form graders parse.")
@_format_option
@click.option("--depth", type=click.IntRange(min=1), default=None, metavar="K",
              help="Sum the layers below depth K of the block paths into one row per block.")
@click.option("--units", type=click.Choice(UNITS), default=None,
              help="exact (1,728), si (1.7K, K = 1000) or binary (K = 1024); default: the style's own.")
@click.option("--ops", type=click.Choice(["macs", "flops"]), default="macs", show_default=True,
              help="Show multiply-accumulates or FLOPs (2 × MACs); full style.")
@click.option("--columns", metavar="KEYS", help="Comma-separated column keys to keep, in order "
              "(the keys are listed by --style full --format json).")
@click.option("--count", type=click.Choice(COUNT_PROFILES), default="archcalc", show_default=True,
              help="Whose FLOPs to show: archcalc (2 × MACs) or as fvcore, ptflops, thop, torchinfo, "
                   "torch or torch-train (forward and backward, with --training) count them "
                   "(implies --ops flops; full style; see docs/conventions.md).")
@click.option("--training", is_flag=True,
              help="The cost of one training step per layer: forward, grad-input and grad-weight MACs and the "
                   "parameters updated (docs/training.md); --count torch-train adds FlopCounterMode's FLOPs. With "
                   "--format json alone, the analysis with the training counts.")
@click.option("--optimizer", type=click.Choice(list(OPTIMIZER_SLOTS)), default=None,
              help="With --training, the optimizer whose state the training memory counts: sgd (none), momentum "
                   "(one value per trainable parameter) or adam (two); default adam.")
@analysis_options
@freezing_options
def table(architecture: str, style: str | None, fmt: str, depth: int | None, units: str | None, ops: str,
          columns: str | None, count: str, training: bool, optimizer: str | None, input_shape: str | None,
          batch: int, dtype: str, strict: bool, freeze: tuple[str, ...], train_only: tuple[str, ...]):
    """Per-layer shapes, parameters, MACs, memory and receptive field of ARCHITECTURE
    (a zoo name or a file)."""
    from ..report import render, table_cache

    analysis = fmt == "json" and style is None and depth is None and columns is None
    if training:
        from ..training import require_backward, training_cost

        require_backward(count)
        report = _analyze(architecture, input_shape, batch, dtype, strict, count, freeze, train_only)
        _training_view(report, training_cost(report, optimizer=optimizer or "adam"), style, fmt, depth, units, ops,
                       columns, analysis)
        return
    if optimizer is not None:
        _warn(f"--optimizer {optimizer}", "a table without --training", "only the training view counts memory")
    if analysis:
        report = _analyze(architecture, input_shape, batch, dtype, strict, count, freeze, train_only)
        _warn_ignored(style, fmt, analysis, depth, units, ops, count)
        from ..report.formats.json_ import analysis

        for piece in analysis(report):
            click.echo(piece, nl=False)
        return
    shown = "flops" if count != "archcalc" else ops
    options = {"style": style or "full", "units": units, "ops": shown, "depth": depth, "columns": columns,
               "count": count, "input": input_shape, "batch": batch, "dtype": dtype, "strict": strict,
               "freeze": freeze, "train_only": train_only}
    table_ = table_cache.lookup(architecture, options)
    if table_ is None:
        from ..report import to_table

        report = _analyze(architecture, input_shape, batch, dtype, strict, count, freeze, train_only)
        table_ = to_table(report, style or "full", units=units, ops=shown, depth=depth, columns=_columns(columns))
        table_cache.keep(architecture, options, table_, report.architecture.files)
    _warn_ignored(style, fmt, analysis, depth, units, ops, count)
    _echo(render(table_, fmt))


def _training_view(report, cost, style: str | None, fmt: str, depth: int | None, units: str | None, ops: str,
                   columns: str | None, analysis: bool) -> None:
    """`table --training`: the analysis with the training counts (JSON), or the training table."""
    if style is not None:
        _warn(f"--style {style}", "--training", "the training view is a table of its own")
    if ops != "macs":
        _warn(f"--ops {ops}", "--training", "it shows MACs; --count torch-train adds a tool's FLOPs")
    if analysis:
        if units is not None:
            _warn(f"--units {units}", "--format json", "the analysis carries exact numbers")
        from ..report.formats.json_ import analysis as json_analysis

        for piece in json_analysis(report, training=cost):
            click.echo(piece, nl=False)
        return
    if units is not None and fmt == "csv":
        _warn(f"--units {units}", "--format csv", "numbers are written in full, for spreadsheets")
    from ..report import render
    from ..report.training_table import training_table

    table_ = training_table(report, cost, units, depth)
    _echo(render(table_.select(_columns(columns)) if columns else table_, fmt))


@click.command()
@click.argument("architectures", nargs=-1, required=True)
@_format_option
@click.option("--units", type=click.Choice(UNITS), default="si", show_default=True,
              help="exact, si (K = 1000) or binary (K = 1024).")
@click.option("--depth", type=click.IntRange(min=1), default=1, show_default=True, metavar="K",
              help="Align rows by the first K parts of the layer paths.")
@analysis_options
@freezing_options
def compare(architectures: tuple[str, ...], fmt: str, units: str, depth: int, input_shape: str | None,
            batch: int, dtype: str, strict: bool, freeze: tuple[str, ...], train_only: tuple[str, ...]):
    """Compare ARCHITECTURES side by side: totals, ratios to the first, rows aligned by name."""
    from ..report import render
    from ..report.compare import compare_table

    if len(architectures) < 2:
        from ..errors import SpecError

        raise SpecError("compare needs at least two architectures")
    reports = [_analyze(a, input_shape, batch, dtype, strict, "archcalc", freeze, train_only) for a in architectures]
    if fmt == "csv" and units != "si":
        _warn(f"--units {units}", "--format csv", "numbers are written in full, for spreadsheets")
    _echo(render(compare_table(reports, units, depth), fmt))


@click.command()
@click.argument("architecture")
@click.argument("layer")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="The worked arithmetic as text, or the layer's numbers and arithmetic as JSON.")
@click.option("--training", is_flag=True,
              help="Add the layer's share of a training step: forward, grad-input and grad-weight MACs with the "
                   "arithmetic of both gradients, and what FlopCounterMode counts (docs/training.md).")
@analysis_options
@freezing_options
def explain(architecture: str, layer: str, fmt: str, training: bool, input_shape: str | None, batch: int,
            dtype: str, strict: bool, freeze: tuple[str, ...], train_only: tuple[str, ...]):
    """The arithmetic behind every number of LAYER (a path such as layer1/0/conv1)."""
    report = _analyze(architecture, input_shape, batch, dtype, strict, "archcalc", freeze, train_only)
    steps = _training_steps(report, layer) if training else None
    if fmt == "json":
        import json

        record = report.layer(layer)
        maths = record.arithmetic()
        data = {**record.to_dict(), "arithmetic": {"output": maths.output, "params": maths.params,
                                                    "macs": maths.macs}}
        if steps:
            from ..report.training_explain import gradient_arithmetic

            step, tool = steps
            data["training"] = {**step.to_dict(), "torch_train": {"forward_flops": tool.forward_flops,
                                                                   "backward_flops": tool.backward_flops},
                                "arithmetic": gradient_arithmetic(record, step, report.batch)}
        click.echo(json.dumps(data, indent=1, ensure_ascii=False))
        return
    from ..report.explain import explain as explain_text

    text = explain_text(report, layer, architecture)
    if steps:
        from ..errors import printable
        from ..report.training_explain import training_lines

        text += "\n".join(map(printable, training_lines(report, report.layer(layer), *steps))) + "\n"
    _echo(text)


def _training_steps(report, layer: str):
    """The layer's training step as archcalc and as torch-train count it; None for a block's path."""
    from ..report.explain import block_records
    from ..training import training_cost

    if block_records(report, layer):
        _warn("--training", "a block's path", "explain one of its layers")
        return None
    record = report.layer(layer)
    return training_cost(report).layer(record.name), training_cost(report, "torch-train").layer(record.name)


@click.command("list")
@click.argument("pattern", default="")
@_format_option
@click.option("--units", type=click.Choice(UNITS), default="exact", show_default=True,
              help="exact, si (K = 1000) or binary (K = 1024).")
def list_zoo(pattern: str, fmt: str, units: str):
    """The zoo: name, title, input, params, MACs and source; PATTERN filters by name or title."""
    from ..report import render
    from ..report.zoo_table import zoo_table

    _echo(render(zoo_table(pattern, units, shorten=fmt == "terminal"), fmt))
