"""Charts with matplotlib (optional extra `plot`): per-layer bars with the totals, and the lectures'
comparison of networks (MACs against parameters on log axes, top-1 accuracy where published)."""

from __future__ import annotations

import io
from typing import Any

from ..analysis import Report
from ..errors import ArchcalcError, SpecError
from ..units import count, nbytes, shorthand
from .metrics import WHAT, bars, total
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


def layers(reports: list[Report], what: str = "macs", depth: int | None = None) -> Any:
    """A figure of per-layer bars, one panel per report, each titled with its total."""
    if what not in WHAT:
        raise SpecError(f"unknown quantity {what!r}; choose one of {', '.join(WHAT)}")
    plt = _pyplot()
    data = [bars(r, what, depth) for r in reports]
    longest = max((len(d) for d in data), default=1)
    figure, axes = plt.subplots(len(reports), 1, squeeze=False,
                                figsize=(min(4 + 0.22 * longest, 40), 3.6 * len(reports)))
    for axis, report, rows in zip(axes[:, 0], reports, data):
        axis.bar(range(len(rows)), [v for _, v in rows], color="#4a90c2")
        axis.set_xticks(range(len(rows)), [n for n, _ in rows], rotation=90, fontsize=7)
        axis.set_ylabel(WHAT[what][0])
        overall = total(report, what)
        suffix = f" — total {_show(overall, what)}" if overall is not None else ""
        axis.set_title(f"{report.architecture.title}{suffix}", fontsize=11)
        axis.grid(axis="y", alpha=0.3)
        axis.set_xlim(-0.6, max(len(rows), 1) - 0.4)
    figure.tight_layout()
    return figure


def chart(reports: list[Report]) -> Any:
    """MACs (x) against parameters (y), log axes, one labelled bubble per network; the bubble's colour
    is the published top-1 accuracy (grey where the file records none)."""
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(8, 5.5))
    accuracy = [_top1(r) for r in reports]
    known = [a for a in accuracy if a is not None]
    low, high = (min(known), max(known)) if known else (0.0, 1.0)
    colours = plt.get_cmap("viridis")
    for report, top1 in zip(reports, accuracy):
        x, y = report.totals.macs, report.totals.params
        colour = "#bbbbbb" if top1 is None else colours((top1 - low) / ((high - low) or 1))
        axis.scatter([x], [y], s=260, color=colour, edgecolor="#333", alpha=0.85, zorder=3)
        label = report.name + (f"\n{top1:.1f}% top-1" if top1 is not None else "")
        axis.annotate(label, (x, y), textcoords="offset points", xytext=(9, 6), fontsize=8)
    axis.set_xscale("log")
    axis.set_yscale("log")
    from matplotlib.ticker import FuncFormatter, LogLocator

    label = FuncFormatter(lambda value, _: shorthand(value).replace(".0", ""))  # 200M, 1G, 5G
    for scale in (axis.xaxis, axis.yaxis):  # labels at 1, 2 and 5 of each decade, in the tables' units
        scale.set_major_formatter(label)
        scale.set_minor_locator(LogLocator(subs=(2.0, 5.0)))
        scale.set_minor_formatter(label)
    axis.set_xlabel("multiply-accumulates per image (MACs)")
    axis.set_ylabel("parameters")
    axis.set_title("Operations against parameters" + (" (colour: published top-1 accuracy)" if known else ""))
    axis.grid(True, which="both", alpha=0.25)
    axis.margins(0.25)
    if known:
        mappable = plt.cm.ScalarMappable(cmap=colours, norm=plt.Normalize(low, high))
        figure.colorbar(mappable, ax=axis, label="top-1 accuracy (%)")
    figure.tight_layout()
    return figure


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
