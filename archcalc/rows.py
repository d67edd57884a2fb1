"""What the report styles and the drawings share: shape notations, which layers a lecture table lists,
and the collapse of block paths into summed rows (`--depth`)."""

from __future__ import annotations

from dataclasses import dataclass
from math import prod

from .analysis import LayerRecord, Report
from .layers import AxisWindow, Shape


def whd_dims(shape: Shape) -> tuple[int, ...]:
    """Lecture order W×H×D (the spatial axes from the last, then the channels: L×D, W×H×T×D); a flat
    vector of n is 1×1×n."""
    if len(shape) == 1:
        return (1, 1, shape[0])
    return (*reversed(shape[1:]), shape[0])


def whd(shape: Shape, sep: str = " × ") -> str:
    """`whd_dims` written out: `224 × 224 × 64`."""
    return sep.join(str(v) for v in whd_dims(shape))


def chw(shape: Shape) -> str:
    """PyTorch order per sample, C×H×W."""
    return "×".join(str(v) for v in shape)


def windows(record: LayerRecord):
    """The (height, width) windows a layer slides, or None."""
    if not record.input_shapes:
        return None
    return record.layer.windows(list(record.input_shapes))


def kernel_window(record: LayerRecord) -> tuple[AxisWindow, AxisWindow] | None:
    """The (height, width) kernel a layer applies, for the kernel and stride columns: its sliding
    windows, or the kernel geometry of a layer that slides none for the receptive field (a
    transposed convolution); None for a layer without a kernel."""
    window = windows(record)
    if window is not None or not record.input_shapes:
        return window
    geometry = record.layer.geometry(record.input_shapes[0])
    return None if geometry is None else geometry.windows()


def edges(record: LayerRecord) -> tuple[tuple[int, int, int, int], ...] | None:
    """Per spatial axis (size in, size out, cut before, cut after) of a layer that only moves a map's
    edges (a crop; a zero padding cuts a negative width): windows of 1 with stride 1 that change the
    size. None for every other layer."""
    window = windows(record)
    if window is None or record.params or any(a.kernel != 1 or a.stride != 1 for a in window):
        return None
    sizes = zip(record.input_shapes[0][1:], record.output_shape[1:])
    found = tuple((n, m, -a.pad_before, n - m + a.pad_before) for a, (n, m) in zip(window, sizes))
    return found if any(n != m for n, m, _, _ in found) else None


def edge_text(record: LayerRecord) -> str | None:
    """What a crop or padding does, width first as the lecture writes sizes: `64 → 56, 4 cut per side`;
    `28 → 30, 1 added per side`; `65×64 → 56×56, cut 4+5 × 4+4` where the sides differ."""
    found = edges(record)
    if found is None:
        return None
    n, m, before, after = found[0]
    if all(axis == found[0] for axis in found) and before == after:
        return f"{n} → {m}, {abs(before)} {'cut' if before >= 0 else 'added'} per side"
    axes = found[::-1]
    sides = " × ".join(f"{b}+{a}" for _, _, b, a in axes)
    verb = "cut" if all(b >= 0 and a >= 0 for _, _, b, a in axes) else "cut (negative: added)"
    return (f"{'×'.join(str(n) for n, _, _, _ in axes)} → {'×'.join(str(m) for _, m, _, _ in axes)}, "
            f"{verb} {sides}")


def padding(record: LayerRecord) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """((top, bottom), (left, right)) for a layer with a kernel geometry, else None."""
    geometry = record.layer.geometry(record.input_shapes[0]) if record.input_shapes else None
    return None if geometry is None else geometry.pads



def is_listed(record: LayerRecord) -> bool:
    """Whether a lecture table lists the layer: it owns parameters or slides a window (and is
    not a mere reshape such as flatten)."""
    return (bool(record.input_shapes) and not is_reshape(record)
            and (record.params > 0 or windows(record) is not None))


def is_reshape(record: LayerRecord) -> bool:
    """A parameter-free change of shape only (flatten): not a row of a paper's table."""
    if not record.input_shapes or record.params:
        return False
    before = record.input_shapes[0]
    return before != record.output_shape and prod(before) == prod(record.output_shape)


@dataclass(frozen=True)
class Entry:
    """One row of a per-layer table: a layer, or (with --depth) a block summed into one row."""

    name: str
    type: str
    records: tuple[LayerRecord, ...]
    group: bool

    @property
    def first(self) -> LayerRecord:
        return self.records[0]

    @property
    def last(self) -> LayerRecord:
        return self.records[-1]

    @property
    def input_shape(self) -> Shape | None:
        return self.first.input_shapes[0] if self.first.input_shapes else None

    @property
    def output_shape(self) -> Shape:
        return self.last.output_shape

    def total(self, attribute: str) -> int:
        return sum(getattr(r, attribute) for r in self.records)

    @property
    def memory_bytes(self) -> int:
        """Bytes of the outputs that allocate (views and in-place layers add nothing)."""
        return sum(r.activation_bytes for r in self.records if r.allocates)

    @property
    def weight_depth(self) -> int:
        """The most layers with weights on one path through the entry (the paper's `depth`)."""
        depth: dict[str, int] = {}
        for r in self.records:
            before = max((depth[s] for s in r.inputs if s in depth), default=0)
            depth[r.name] = before + (1 if r.weights else 0)
        return max(depth.values(), default=0)


def entries(report: Report, depth: int | None = None) -> list[Entry]:
    """The report's layers in order; with `depth`, paths longer than `depth` parts are summed
    into one entry named by their first `depth` parts."""
    blocks = {g.path: g.block for g in report.architecture.groups}
    order: list[str | LayerRecord] = []  # a layer, or the key of a block (first seen here)
    members: dict[str, list[LayerRecord]] = {}
    for record in report.layers:
        parts = record.name.split("/")
        if depth is None or len(parts) <= depth:
            order.append(record)
            continue
        key = "/".join(parts[:depth])
        if key not in members:
            members[key] = []
            order.append(key)
        members[key].append(record)
    return [Entry(item, blocks.get(item, "block"), tuple(members[item]), True) if isinstance(item, str)
            else Entry(item.name, item.type, (item,), False) for item in order]
