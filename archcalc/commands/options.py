"""Options shared by the commands that analyze an architecture."""

from __future__ import annotations

import click

DTYPES = ["float32", "float16", "bfloat16", "int8", "float64"]


def parse_shape(text: str | None) -> list[int] | None:
    """`3x32x32` (also `3,32,32` or `3×32×32`) as [3, 32, 32]; a clip `3x16x112x112` (C×T×H×W) too."""
    if text is None:
        return None
    parts = text.replace("×", "x").replace(",", "x").lower().split("x")
    try:
        values = [int(p) for p in parts]
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a shape like 3x224x224", param_hint="--input") from None
    if not 1 <= len(values) <= 4 or min(values) < 1:
        raise click.BadParameter(f"{text!r} is not a shape like 3x224x224", param_hint="--input")
    return values


def analysis_options(command):
    """--input, --batch, --dtype and --strict."""
    for option in reversed([
        click.option("--input", "input_shape", metavar="CxHxW",
                     help="Override the input size, e.g. 3x32x32."),
        click.option("--batch", type=click.IntRange(min=1), default=1, show_default=True,
                     help="Batch size N (multiplies MACs, FLOPs and memory)."),
        click.option("--dtype", type=click.Choice(DTYPES), default="float32", show_default=True,
                     help="Element type for the byte counts."),
        click.option("--strict", is_flag=True,
                     help="Make a window that does not tile its input an error."),
    ]):
        command = option(command)
    return command


def freezing_options(command):
    """--freeze and --train-only (archcalc.freezing), each repeatable."""
    for option in reversed([
        click.option("--freeze", "freeze", metavar="PATTERN", multiple=True,
                     help="Freeze the layers whose path (or a block above it) matches PATTERN, a glob "
                          "such as 'features/*', 'layer1' or '*bn*'; repeatable."),
        click.option("--train-only", "train_only", metavar="PATTERN", multiple=True,
                     help="Train only the layers PATTERN names and freeze every other one (the file's own "
                          "freezing set aside); repeatable."),
    ]):
        command = option(command)
    return command
