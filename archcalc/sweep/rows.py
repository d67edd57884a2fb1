"""One row per variant: its values, then the network's totals (or the one-line error)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from ..analysis import Report
from ..errors import ArchcalcError
from .engine import Sweeper
from .grid import INPUT, Grid

#: the numbers of a row after the grid's names: key → (what it is, unit)
NUMBERS = {
    "params": ("parameters, BatchNorm running statistics included", "count"),
    "trainable_params": ("trainable parameters (PyTorch's parameters())", "count"),
    "macs": ("multiply-accumulates", "count"),
    "flops": ("FLOPs, 2 × MACs", "count"),
    "forward_memory_bytes": ("input and every activation (cs231n's forward memory)", "bytes"),
    "peak_memory_bytes": ("most activation memory live at once", "bytes"),
    "param_bytes": ("parameter memory", "bytes"),
    "rf_height": ("largest receptive field, height", "pixels"),
    "rf_width": ("largest receptive field, width", "pixels"),
    "layers": ("layers after expansion (the input included)", "count"),
}


def columns(grid: Grid, counts: Sequence[str] = ()) -> list[str]:
    """The keys of every row: `variant` (its index in the grid), the grid's names, the numbers, one
    `flops_<profile>` per count profile, and `error`."""
    return ["variant", *grid.keys, *NUMBERS, *(f"flops_{c}" for c in counts), "error"]


def rows(sweeper: Sweeper, grid: Grid, start: int = 0, stop: int | None = None,
         counts: Sequence[str] = ()) -> Iterator[dict[str, Any]]:
    """The rows of variants `start` … `stop` − 1."""
    for index, values in grid.variants(start, stop):
        yield row(sweeper, index, values, counts)


def row(sweeper: Sweeper, index: int, values: dict[str, Any], counts: Sequence[str] = ()) -> dict[str, Any]:
    shown = {k: "x".join(map(str, v)) if k == INPUT else v for k, v in values.items()}
    try:
        report = sweeper.report(values)
        extra = {f"flops_{c}": sweeper.report(values, count=c).totals.flops for c in counts}
    except ArchcalcError as exc:
        empty = dict.fromkeys([*NUMBERS, *(f"flops_{c}" for c in counts)])
        return {"variant": index, **shown, **empty, "error": str(exc)}
    return {"variant": index, **shown, **numbers(report), **extra, "error": None}


def numbers(report: Report) -> dict[str, int]:
    totals = report.totals
    fields = [f for f in (r.receptive_field for r in report.layers) if f is not None]
    return {"params": totals.params, "trainable_params": totals.trainable_params, "macs": totals.macs,
            "flops": totals.flops, "forward_memory_bytes": totals.forward_memory_bytes,
            "peak_memory_bytes": totals.peak_memory_bytes, "param_bytes": totals.param_bytes,
            "rf_height": max((f.size[-2] if len(f.size) > 1 else f.size[0] for f in fields), default=None),
            "rf_width": max((f.size[-1] for f in fields), default=None),
            "layers": len(report.layers)}
