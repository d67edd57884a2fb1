"""`archcalc plot`: per-layer bars and the comparison chart (matplotlib), and one line naming the extra
where matplotlib is missing."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET

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
