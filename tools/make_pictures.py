"""Regenerate the pictures docs/pictures.md shows (run from the repository root):

    python tools/make_pictures.py

Drawings are archcalc's own SVG (no extra needed); the plots need matplotlib (`pip install -e '.[plot]'`).
"""

from __future__ import annotations

from pathlib import Path

import archcalc
from archcalc.draw import draw

OUT = Path(__file__).resolve().parent.parent / "docs" / "pictures"
NETWORKS = {"lenet5": None, "alexnet-lecture": None, "resnet18": 2, "inception-1x1": None}  # name → graph depth
CHART = ["alexnet", "vgg16-torchvision", "googlenet", "resnet18", "resnet50", "mobilenet_v2", "densenet121",
         "squeezenet1_1", "efficientnet_b0"]


def drawings() -> dict[str, str]:
    """File name → SVG text of every drawing (deterministic)."""
    out = {}
    for name, depth in NETWORKS.items():
        report = archcalc.analyze(name)
        out[f"{name}-graph.svg"] = draw(report, depth=depth)
        out[f"{name}-blocks.svg"] = draw(report, "blocks")
    return out


def main() -> None:
    import matplotlib

    from archcalc.draw import plot

    matplotlib.rcParams["svg.hashsalt"] = "archcalc"
    OUT.mkdir(exist_ok=True)
    for file, svg in drawings().items():
        (OUT / file).write_text(svg, encoding="utf-8")
    for name in NETWORKS:
        figure = plot.layers([archcalc.analyze(name)], "macs")
        figure.savefig(OUT / f"{name}-macs.svg", metadata={"Date": None}, bbox_inches="tight")
    figure = plot.chart([archcalc.analyze(n) for n in CHART])
    figure.savefig(OUT / "chart.svg", metadata={"Date": None}, bbox_inches="tight")
    print(f"wrote {len(list(OUT.glob('*.svg')))} pictures to {OUT}")


if __name__ == "__main__":
    main()
