"""Charts with matplotlib (optional extra `plot`): per-layer bars with the totals, and the lectures'
comparison of networks (MACs against parameters on log axes, top-1 accuracy where published)."""

from __future__ import annotations

import io
from typing import Any

from ..analysis import Report
from ..errors import ArchcalcError, SpecError, printable
from ..units import count, nbytes, shorthand
from .metrics import MAX_BARS, WHAT, bars, envelope, total
from .svg import Drawing


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError:
        raise ArchcalcError("plotting needs matplotlib: pip install 'archcalc[plot]'") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _show(value: int, what: str) -> str:
    return nbytes(value, "si") if what == "memory" else count(value, "si")


_PROFILE_POINTS = 1_000  # a profile of more layers shows the highest value of each of this many shares


def layers(reports: list[Report], what: str = "macs", depth: int | None = None) -> Any:
    """A figure of per-layer bars, one panel per report, each titled with its total; a report with more
    than MAX_BARS rows is drawn as one profile of its layers in order, without their names."""
    if what not in WHAT:
        raise SpecError(f"unknown quantity {what!r}; choose one of {', '.join(WHAT)}")
    plt = _pyplot()
    data = [bars(r, what, depth) for r in reports]
    width = max((min(4 + 0.22 * len(d), 40) if len(d) <= MAX_BARS else 12 for d in data), default=4)
    figure, axes = plt.subplots(len(reports), 1, squeeze=False, figsize=(width, 3.6 * len(reports)))
    for axis, report, rows in zip(axes[:, 0], reports, data):
        if len(rows) > MAX_BARS:
            highest = envelope([v for _, v in rows], _PROFILE_POINTS)
            axis.stairs(highest, [i * len(rows) / len(highest) for i in range(len(highest) + 1)], fill=True,
                        color="#4a90c2")
            axis.set_xlabel(f"{len(rows):,} layers in order")
            axis.set_xlim(0, len(rows))
        else:
            axis.bar(range(len(rows)), [v for _, v in rows], color="#4a90c2")
            axis.set_xticks(range(len(rows)), [printable(n) for n, _ in rows], rotation=90, fontsize=7)
            axis.set_xlim(-0.6, max(len(rows), 1) - 0.4)
        axis.set_ylabel(WHAT[what][0])
        overall = total(report, what)
        suffix = f" — total {_show(overall, what)}" if overall is not None else ""
        axis.set_title(f"{printable(report.architecture.title)}{suffix}", fontsize=11)
        axis.grid(axis="y", alpha=0.3)
    figure.tight_layout()
    return figure


def chart(reports: list[Report]) -> Any:
    """MACs (x) against parameters (y), log axes, one labelled bubble per network; the bubble's colour
    is the published top-1 accuracy (grey where the file records none, as the legend says). Each label
    goes where it covers no other label or bubble."""
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(8, 5.5))
    accuracy = [_top1(r) for r in reports]
    known = [a for a in accuracy if a is not None]
    low, high = (min(known), max(known)) if known else (0.0, 1.0)
    colours = plt.get_cmap("viridis")
    for report, top1 in zip(reports, accuracy):
        colour = _GREY if top1 is None else colours((top1 - low) / ((high - low) or 1))
        axis.scatter([report.totals.macs], [report.totals.params], s=_BUBBLE, color=colour, edgecolor="#333",
                     alpha=0.85, zorder=3)
    axis.set_xscale("log")
    axis.set_yscale("log")
    axis.set_xlabel("multiply-accumulates per image (MACs)")
    axis.set_ylabel("parameters")
    axis.set_title("Operations against parameters" + (" (colour: published top-1 accuracy)" if known else ""))
    axis.grid(True, which="both", alpha=0.25)
    axis.margins(0.25)
    _log_ticks(axis)
    if None in accuracy:
        axis.scatter([], [], s=_BUBBLE / 2, color=_GREY, edgecolor="#333", label="no published accuracy in the file")
        axis.legend(loc="best", fontsize=8)
    if known:
        mappable = plt.cm.ScalarMappable(cmap=colours, norm=plt.Normalize(low, high))
        figure.colorbar(mappable, ax=axis, label="top-1 accuracy (%)")
    figure.tight_layout()
    labels = [printable(r.name) + (f"\n{top1:.1f}% top-1" if top1 is not None else "")
              for r, top1 in zip(reports, accuracy)]
    _place_labels(figure, axis, [(r.totals.macs, r.totals.params) for r in reports], labels)
    return figure


_GREY = "#bbbbbb"
_BUBBLE = 260  # points²
#: Where a label may go, in points from its bubble's centre (the nearest first), and how it is aligned.
_SPOTS = [(9, 6, "left", "bottom"), (9, -6, "left", "top"), (-9, 6, "right", "bottom"), (-9, -6, "right", "top"),
          (0, 11, "center", "bottom"), (0, -11, "center", "top")]
_DISTANCES = (1.0, 2.5, 4.5)  # beyond the first, a leader line joins the label to its bubble


def _log_ticks(axis: Any) -> None:
    """Labels at 1, 2 and 5 of each decade in the tables' units (200M, 1G, 5G); at 1 alone where an axis
    spans more than three decades."""
    from math import log10

    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    label = FuncFormatter(lambda value, _: shorthand(value).replace(".0", ""))
    for scale, (low, high) in ((axis.xaxis, axis.get_xlim()), (axis.yaxis, axis.get_ylim())):
        scale.set_major_formatter(label)
        scale.set_minor_locator(LogLocator(subs=(2.0, 5.0)))
        scale.set_minor_formatter(label if log10(high / low) <= 3 else NullFormatter())


def _place_labels(figure: Any, axis: Any, points: list[tuple[int, int]], labels: list[str]) -> None:
    """Each label at the first spot (six sides, three distances) that covers no bubble, no label placed
    before it and nothing outside the axes; where every spot covers something, the one covering least."""
    from matplotlib.text import Text
    from matplotlib.transforms import Bbox

    renderer = figure.canvas.get_renderer()
    frame = axis.get_window_extent(renderer)
    radius = (_BUBBLE ** 0.5) / 2 * figure.dpi / 72
    taken = [Bbox.from_extents(x - radius, y - radius, x + radius, y + radius)
             for x, y in axis.transData.transform(points)]
    if axis.get_legend():
        taken.append(axis.get_legend().get_window_extent(renderer))

    def covered(box) -> float:
        inside = Bbox.intersection(box, frame)
        outside = box.width * box.height - (inside.width * inside.height if inside else 0.0)
        return outside + sum(both.width * both.height for other in taken if (both := Bbox.intersection(box, other)))

    for point, label in zip(points, labels):
        best = None
        for distance in _DISTANCES:
            for dx, dy, ha, va in _SPOTS:
                leader = dict(arrowstyle="-", color="#777", lw=0.6, shrinkA=1, shrinkB=8) if distance > 1 else None
                note = axis.annotate(label, point, textcoords="offset points", xytext=(dx * distance, dy * distance),
                                     ha=ha, va=va, fontsize=8, arrowprops=leader)
                note.update_positions(renderer)
                box = Text.get_window_extent(note, renderer)  # the text alone, without its leader
                cover = covered(box)
                if best is None or cover < best[0]:
                    if best:
                        best[1].remove()
                    best = (cover, note, box)
                else:
                    note.remove()
                if not cover:
                    break
            if not best[0]:
                break
        taken.append(best[2])


def _top1(report: Report) -> float | None:
    accuracy = report.architecture.spec.accuracy
    return accuracy.top1 if accuracy else None


def save(figure: Any, path: str) -> None:
    """Write the figure (format from the file's suffix: svg, png, pdf)."""
    plt = _pyplot()
    try:
        figure.savefig(path, bbox_inches="tight", dpi=150)
    except (OSError, ValueError) as exc:
        raise ArchcalcError(f"cannot write {path}: {exc}") from None
    finally:
        plt.close(figure)


def svg(figure: Any) -> Drawing:
    """The figure as SVG text."""
    plt = _pyplot()
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(figure)
    return Drawing(buffer.getvalue())


def sweep_chart(rows: list[dict[str, Any]], colour: str, title: str, front: list[dict[str, Any]]) -> Any:
    """A sweep's variants (archcalc.sweep rows): MACs (x) against parameters (y) on log axes, each point
    coloured by the grid's name `colour` (a colour bar for numbers, a legend for other values); `front`,
    the rows of the Pareto front on MACs and parameters, joined by a line; invalid variants left out,
    and counted."""
    plt = _pyplot()
    valid = [r for r in rows if r.get("error") is None]
    if not valid:
        raise SpecError("no valid variant to plot: every row has an error")
    if colour not in valid[0]:
        raise SpecError(f"--colour-by: {colour!r} is not a name of the sweep")
    figure, axis = plt.subplots(figsize=(8, 5.5))
    values = [r[colour] for r in valid]
    numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
    if numeric:
        points = axis.scatter([r["macs"] for r in valid], [r["params"] for r in valid], c=values, cmap="viridis",
                              s=40, edgecolor="#333", linewidths=0.5, zorder=3)
        figure.colorbar(points, ax=axis, label=printable(colour))
    else:
        palette = plt.get_cmap("tab10")
        for index, value in enumerate(dict.fromkeys(map(str, values))):
            chosen = [r for r in valid if str(r[colour]) == value]
            axis.scatter([r["macs"] for r in chosen], [r["params"] for r in chosen], color=palette(index % 10),
                         s=40, edgecolor="#333", linewidths=0.5, zorder=3, label=printable(f"{colour} = {value}"))
        axis.legend(loc="best", fontsize=8)
    best = sorted(front, key=lambda r: r["macs"])
    axis.plot([r["macs"] for r in best], [r["params"] for r in best], color="#c0392b", lw=1, zorder=2,
              label="Pareto front")
    axis.set_xscale("log")
    axis.set_yscale("log")
    axis.set_xlabel("multiply-accumulates per image (MACs)")
    axis.set_ylabel("parameters")
    invalid = len(rows) - len(valid)
    axis.set_title(printable(title) + (f" ({invalid:,} invalid variant(s) not shown)" if invalid else ""), fontsize=11)
    axis.grid(True, which="both", alpha=0.25)
    _log_ticks(axis)
    figure.tight_layout()
    return figure
