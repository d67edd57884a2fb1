"""`archcalc plot`: per-layer bars and the comparison chart (matplotlib), and one line naming the extra
where matplotlib is missing."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

import archcalc
from archcalc.cli import main
from archcalc.draw.metrics import bars, total


def test_bars_are_the_analysis_per_layer():
    report = archcalc.analyze("lenet5")
    # the lecture table, Example 3.1: C1 156, C3 2,416, C5 48,120, F6 10,164, F7 850 parameters
    assert bars(report, "params") == [("C1", 156), ("C3", 2416), ("C5", 48120), ("F6", 10164), ("F7", 850)]
    assert total(report, "params") == 61706 and total(report, "rf") is None
    assert dict(bars(report, "rf"))["C5"] == 32  # C5 sees the whole 32×32 input


@pytest.mark.parametrize("args", [["resnet18", "--what", "params"], ["lenet5", "--what", "rf"],
                                  ["resnet18", "mobilenet_v2", "alexnet"], ["lenet5", "nin", "--what", "memory"]])
def test_plot_writes_svg(tmp_path, args):
    pytest.importorskip("matplotlib")
    out = tmp_path / "chart.svg"
    result = CliRunner().invoke(main, ["plot", *args, "-o", str(out)])
    assert result.exit_code == 0, result.output
    root = ET.parse(out).getroot()
    assert root.tag.endswith("svg")


def test_chart_names_the_networks_and_their_accuracy(tmp_path):
    pytest.importorskip("matplotlib")
    from archcalc.draw.plot import chart, svg

    text = svg(chart([archcalc.analyze("resnet18"), archcalc.analyze("googlenet-paper")]))
    # matplotlib writes text as paths by default; the labels are in its comments
    assert "resnet18" in text and "69.8% top-1" in text  # torchvision: ResNet18_Weights.IMAGENET1K_V1 acc@1 69.758


def test_without_matplotlib_plot_names_the_extra(tmp_path):
    code = ("import sys; sys.modules['matplotlib'] = None\n"
            "from archcalc.cli import main\n"
            f"main(['plot', 'lenet5', '-o', {str(tmp_path / 'x.svg')!r}])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 2
    said = done.stderr.strip().splitlines()
    assert said == ["archcalc: error: plotting needs matplotlib: pip install 'archcalc[plot]'"]


def test_chart_labels_cover_no_label_and_no_bubble_and_grey_is_explained():
    """The docs' chart of nine torchvision networks and LeNet-5 (which records no accuracy): no label
    overlaps another label or any bubble, each lies inside the axes, and the legend explains grey."""
    pytest.importorskip("matplotlib")
    from matplotlib.text import Text

    from archcalc.draw.plot import _BUBBLE, chart

    names = ["alexnet", "vgg16-torchvision", "googlenet", "resnet18", "resnet50", "mobilenet_v2", "densenet121",
             "squeezenet1_1", "efficientnet_b0", "lenet5"]
    reports = [archcalc.analyze(n) for n in names]
    figure = chart(reports)
    axis = figure.axes[0]
    renderer = figure.canvas.get_renderer()
    labels = [Text.get_window_extent(t, renderer) for t in axis.texts]
    assert len(labels) == len(names)
    radius = (_BUBBLE ** 0.5) / 2 * figure.dpi / 72
    centres = axis.transData.transform([(r.totals.macs, r.totals.params) for r in reports])
    frame = axis.get_window_extent(renderer)
    for index, box in enumerate(labels):
        assert frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1
        assert not any(box.overlaps(other) for other in labels[index + 1:])
        assert not any(box.x0 < x + radius and x - radius < box.x1 and box.y0 < y + radius and y - radius < box.y1
                       for x, y in centres)
    legend = [t.get_text() for t in axis.get_legend().get_texts()]
    assert legend == ["no published accuracy in the file"]
    import matplotlib.pyplot as plt

    plt.close(figure)


def test_a_network_with_more_layers_than_bars_is_plotted_as_a_profile(tmp_path):
    pytest.importorskip("matplotlib")
    from archcalc.draw.metrics import MAX_BARS
    from archcalc.draw.plot import layers

    path = tmp_path / "long.yaml"
    path.write_text(f"name: long\ninput: [4, 8, 8]\nlayers:\n"
                    f"  - {{name: c, type: conv, out_channels: 4, kernel_size: 1, repeat: {MAX_BARS + 50}}}\n")
    figure = layers([archcalc.analyze(str(path))], "params")
    axis = figure.axes[0]
    figure.canvas.draw()
    assert len(axis.patches) == 1  # one outline, no bar per layer
    assert not any(t.get_text().startswith("c/") for t in axis.get_xticklabels())  # and no layer's name
    assert axis.get_xlabel() == f"{MAX_BARS + 50:,} layers in order"
    import matplotlib.pyplot as plt

    plt.close(figure)


PICTURES_DOC = Path(__file__).resolve().parent.parent / "docs" / "pictures.md"


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", PICTURES_DOC.read_text(encoding="utf-8"), re.S)


def test_every_command_of_the_pictures_page_runs_as_written(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    try:
        import cairosvg  # noqa: F401  (a PNG is drawn)
    except (ImportError, OSError):  # not installed, or without the system's cairo library
        pytest.skip("cairosvg cannot run here")
    monkeypatch.chdir(tmp_path)
    commands = [line.split("  #")[0].strip() for block in _blocks("bash") for line in block.splitlines()]
    assert commands
    for command in commands:
        words = shlex.split(command)
        assert words[0] == "archcalc", command
        result = CliRunner().invoke(main, words[1:])
        assert result.exit_code == 0, f"{command}: {result.output}"


def test_every_python_block_of_the_pictures_page_runs_as_written(tmp_path, monkeypatch):
    """In a fresh process each: `archcalc.draw` must be the function and the package whichever comes first."""
    pytest.importorskip("matplotlib")
    blocks = _blocks("python")
    assert blocks
    for block in blocks:
        done = subprocess.run([sys.executable, "-c", block], cwd=tmp_path, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr[-2000:]


def test_the_plot_module_is_reached_through_archcalc_draw_in_either_order():
    pytest.importorskip("matplotlib")
    for code in ("import archcalc; archcalc.draw('lenet5'); archcalc.draw.plot.layers([archcalc.analyze('lenet5')])",
                 "import archcalc.draw.plot, archcalc; archcalc.draw('lenet5'); archcalc.draw.plot.chart([])"):
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr[-2000:]
