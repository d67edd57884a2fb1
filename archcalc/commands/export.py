"""`archcalc export`: the network as readable PyTorch source or as an ONNX model."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import ArchcalcError, ExportError, printable
from .options import parse_shape


def register(main: click.Group) -> None:
    main.add_command(export)


@click.command()
@click.argument("architecture")
@click.option("--to", "target", type=click.Choice(["pytorch", "onnx"]), required=True, help="What to write.")
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="The file to write (PyTorch source goes to standard output without it).")
@click.option("--input", "input_shape", metavar="CxHxW", help="Override the input size, e.g. 3x32x32.")
@click.option("--weights", type=click.Path(exists=True, dir_okay=False),
              help="ONNX: weights as .npz (layer.param keys) or a PyTorch state_dict file (.pt, needs torch).")
@click.option("--seed", type=int, default=0, show_default=True,
              help="ONNX: the seed of the weights made without --weights.")
def export(architecture: str, target: str, output: str | None, input_shape: str | None, weights: str | None,
           seed: int):
    """Write ARCHITECTURE (a zoo name or a file) as PyTorch code (`--to pytorch`, an nn.Module whose
    state_dict keys are archcalc's weight names) or as an ONNX model (`--to onnx`, opset 17)."""
    from ..analysis import analyze

    report = analyze(architecture, input=parse_shape(input_shape))
    if target == "pytorch":
        if weights is not None:
            raise click.UsageError("--weights goes with --to onnx (load them into the PyTorch module with "
                                   "load_state_dict)")
        text = _pytorch(report)
        if output is None:
            click.echo(text, nl=False)
            return
        _write(output, text.encode())
    else:
        if output is None:
            raise click.UsageError("--to onnx needs -o FILE")
        _write(output, _onnx(report, weights, seed))
    click.echo(f"{printable(output)}: {printable(' '.join(report.architecture.title.split()))}, "
               f"{report.totals.params:,} parameters", err=True)


def _pytorch(report) -> str:
    try:
        from ..interop.export_torch import torch_source
    except ImportError:
        raise ExportError("PyTorch export needs torch: pip install 'archcalc[torch]'") from None
    try:
        return torch_source(report).text
    except ArchcalcError as exc:
        raise exc.located(file=report.architecture.source) from None


def _onnx(report, weights: str | None, seed: int) -> bytes:
    try:
        import onnx  # noqa: F401
    except ImportError:
        raise ExportError("ONNX export needs onnx: pip install 'archcalc[onnx]'") from None
    from ..interop.export_onnx import onnx_model

    return onnx_model(report, weights, seed=seed).SerializeToString()


def _write(path: str, data: bytes) -> None:
    try:
        Path(path).write_bytes(data)
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {exc.strerror or exc}") from None
