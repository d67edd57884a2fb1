"""`archcalc run` (a forward pass, optionally profiled) and `archcalc demo` (the lecture's worked examples)."""

from __future__ import annotations

from typing import Any

import click

from ..errors import printable
from ..executor.backend import BACKENDS, DTYPES


def register(main: click.Group) -> None:
    main.add_command(run)
    main.add_command(demo)


def _top(values: Any, k: int) -> str:
    import numpy as np

    flat = np.asarray(values).reshape(-1)
    order = np.argsort(-flat, kind="stable")[:k]
    return ", ".join(f"#{i} {flat[i]:.4g}" for i in order)


@click.command()
@click.argument("architecture")
@click.option("--backend", type=click.Choice(BACKENDS), default="numpy", show_default=True,
              help="Array library: NumPy on the CPU, CuPy on the GPU, or CuPy when available.")
@click.option("--batch", type=click.IntRange(min=1), default=1, show_default=True, help="Batch size N.")
@click.option("--dtype", type=click.Choice(DTYPES), default="float32", show_default=True)
@click.option("--input-file", type=click.Path(exists=True, dir_okay=False),
              help="Input as .npy (C×H×W or N×C×H×W) or an image (PNG, JPEG, GIF, BMP, TIFF, WebP, PPM; as grey "
                   "or RGB to fit the network, alpha dropped); default: seeded random normal.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the random input and weights.")
@click.option("--weights", type=click.Path(exists=True, dir_okay=False),
              help="Weights as .npz (layer.param keys) or a PyTorch state_dict file (.pt, needs torch).")
@click.option("--top", "top_k", type=click.IntRange(min=1), default=5, show_default=True,
              help="How many of the largest outputs to list.")
@click.option("--profile", is_flag=True, help="Per-layer time, MACs, achieved GFLOP/s and memory.")
def run(architecture: str, backend: str, batch: int, dtype: str, input_file: str | None, seed: int,
        weights: str | None, top_k: int, profile: bool):
    """Run ARCHITECTURE forward and summarise its output."""
    import numpy as np

    from ..analysis import analyze
    from ..architecture import load
    from ..executor.backend import array_module, to_numpy
    from ..executor.runner import check_memory
    from ..executor.runner import run as run_forward
    from ..executor.weights import check_seed

    check_seed(seed)
    arch = load(architecture)

    def check(shape: tuple[int, ...] | None = None) -> Any:
        """The analysis at this input size, its memory checked before the input is made or decoded."""
        report = analyze(arch, input=shape, batch=batch, dtype=dtype)
        check_memory(report, array_module(backend))
        return report

    if input_file:
        from ..executor.inputs import read_input

        shape = analyze(arch).input_shape
        x = read_input(input_file, batch, shape[0] if len(shape) == 3 else 0, check)
    else:
        report = check()
        x = np.random.default_rng(seed).standard_normal((batch, *report.input_shape), dtype=np.float32)
    result = run_forward(arch, x, weights, backend=backend, dtype=dtype, profile=profile, seed=seed)
    output = to_numpy(result.output)
    seconds = sum(t.seconds for t in result.timings)
    click.echo(f"{printable(arch.name)}: input {tuple(x.shape)} → output {tuple(output.shape)} "
               f"({result.backend}, {dtype})")
    if weights is None:
        click.echo(f"  weights: random (seed {seed}), so the classes below mean nothing; load trained ones "
                   "with --weights")
    if input_file is None:
        click.echo(f"  input: random normal (seed {seed}); give an image or .npy with --input-file")
    for index, sample in enumerate(output[:3]):
        click.echo(f"  sample {index} top-{top_k}: {_top(sample, top_k)}")
    if profile:
        click.echo(_profile_table(result))
    totals = result.report.totals
    click.echo(f"time {seconds * 1e3:.2f} ms, {2 * totals.macs / max(seconds, 1e-12) / 1e9:.2f} GFLOP/s; "
               f"peak activations {result.peak_bytes:,} B measured, {totals.peak_memory_bytes:,} B predicted")


def _profile_table(result: Any) -> str:
    """Per layer: time, predicted MACs, achieved GFLOP/s, output bytes measured and predicted."""
    from ..report.table_writer import aligned

    rows = [["layer", "type", "time ms", "MACs", "GFLOP/s", "out bytes", "predicted"]]
    for timing, record in zip(result.timings, result.report.layers):
        rate = 2 * record.macs / timing.seconds / 1e9 if record.macs and timing.seconds > 0 else 0.0
        rows.append([record.name, record.type, f"{timing.seconds * 1e3:.3f}", f"{record.macs:,}",
                     f"{rate:.2f}" if record.macs else "-", f"{timing.output_bytes:,}",
                     f"{record.activation_bytes:,}"])
    return "\n".join(aligned(rows, ["left", "left", *["right"] * 5]))


@click.command()
@click.argument("name", required=False)
@click.option("--backend", type=click.Choice(BACKENDS), default="numpy", show_default=True)
def demo(name: str | None, backend: str):
    """Run a worked example of the lectures on the slide's own numbers (no NAME: list them)."""
    from ..executor.demos import DEMOS
    from ..executor.demos import demo as find_demo

    if name is None:
        width = max(len(n) for n in DEMOS)
        for item in DEMOS.values():
            click.echo(f"{item.name.ljust(width)}  {item.title}  [{item.source}]")
        return
    _show(find_demo(name), backend)


def _grid(array: Any) -> str:
    """Rows of a 2-D map, numbers right-aligned, integers without decimals."""
    import numpy as np

    cells = [[f"{v:.0f}" if float(v).is_integer() else f"{v:.2f}" for v in row] for row in np.asarray(array)]
    width = max(len(c) for row in cells for c in row)
    return "\n".join("    " + " ".join(c.rjust(width) for c in row) for row in cells)


def _show(item: Any, backend: str) -> None:
    import numpy as np

    from ..executor.demos import run_demo

    click.echo(f"{item.title}\n  source: {item.source}")
    values = run_demo(item, backend)
    for channel, plane in enumerate(item.image):
        click.echo(f"  input channel {channel}:\n{_grid(plane)}")
    for key, kernel in item.weights.items():
        array = np.asarray(kernel, dtype=float)
        if array.ndim == 4:
            for out, filters in enumerate(array):
                for channel, plane in enumerate(filters):
                    click.echo(f"  {key} [filter {out}, channel {channel}]:\n{_grid(plane)}")
        else:
            click.echo(f"  {key}: {array.tolist()}")
    for layer, value in values.items():
        if layer == "input":
            continue
        for channel, plane in enumerate(value):
            click.echo(f"  {layer} output channel {channel}:\n{_grid(plane)}")
        if layer in item.expected:
            same = np.array_equal(value, np.asarray(item.expected[layer], dtype=float))
            click.echo(f"  {layer}: {'matches the slide' if same else 'DIFFERS from the slide'}")
    if item.note:
        click.echo(f"  note: {item.note}")
