"""`archcalc report` and `archcalc draw` from the command line, and the page's content: one file that
fetches nothing, with the totals, drawing, table (a row per layer and per block), plots and warnings."""

from __future__ import annotations

import re
import subprocess
import sys
from html import escape
from html.parser import HTMLParser

import pytest
from click.testing import CliRunner

import archcalc
from archcalc.cli import main
from archcalc.report.page import compare_page, report_page


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def _tags(html: str):
    parser = _Tags()
    parser.feed(html)
    return parser.tags


def test_page_is_self_contained_and_complete():
    report = archcalc.analyze("nin")
    html = report_page(report)
    tags = _tags(html)
    assert not [t for t, a in tags if t in ("link", "iframe", "img")]
    assert all("src" not in a for t, a in tags if t == "script")
    assert not re.search(r"(src|href)=\"https?:", html) and "@import" not in html
    rows = [a for t, a in tags if t == "tr" and "data-path" in a]
    groups = {"/".join(r.name.split("/")[:end]) for r in report.layers for end in range(1, r.name.count("/") + 1)}
    assert len(rows) == len(report.layers) + len(groups)
    assert "61,706" not in html and f"{report.totals.params:,}" in html
    # NiN's first window leaves a row and a column unread: the warning is on the page
    assert report.warnings and all(escape(w) in html for w in report.warnings)
    assert html.count("<svg") == 4  # the graph and three plots


def test_block_rows_sum_their_layers():
    html = report_page(archcalc.analyze("resnet18"))
    row = re.search(r'<tr class="group" data-path="layer1/0".*?</tr>', html).group(0)
    # torchvision BasicBlock(64): two 3×3 convolutions of 64×64×9 and two BatchNorms of 4 × 64
    assert 'data-v="74240"' in row and "36864 + 256 + 36864 + 256" in row.replace(",", "")


def test_report_command_writes_one_page_and_compares(tmp_path):
    out = tmp_path / "r.html"
    result = CliRunner().invoke(main, ["report", "lenet5", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    result = CliRunner().invoke(main, ["report", "inception-naive", "inception-1x1", "-o", str(out)])
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert "inception-naive vs inception-1x1" in html and html.count('class="network"') == 2


def test_compare_page_holds_both_networks():
    html = compare_page([archcalc.analyze("inception-naive"), archcalc.analyze("inception-1x1")])
    assert "5,268,480" in html  # the slide's 1.5M + 3.8M = 5.3M operations, exactly


def test_draw_command_svg_needs_no_extra(tmp_path):
    out = tmp_path / "g.svg"
    result = CliRunner().invoke(main, ["draw", "resnet18", "--depth", "2", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8").startswith("<svg")


@pytest.mark.parametrize("suffix", ["png", "pdf"])
def test_draw_command_png_and_pdf(tmp_path, suffix):
    try:
        import cairosvg  # noqa: F401
    except (ImportError, OSError):  # not installed, or without the system's cairo library
        pytest.skip("cairosvg cannot run here")
    out = tmp_path / f"g.{suffix}"
    result = CliRunner().invoke(main, ["draw", "lenet5", "--kind", "blocks", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:4] == (b"\x89PNG" if suffix == "png" else b"%PDF")


def test_draw_png_without_cairosvg_names_the_extra(tmp_path):
    code = ("import sys; sys.modules['cairosvg'] = None\n"
            "from archcalc.cli import main\n"
            f"main(['draw', 'lenet5', '-o', {str(tmp_path / 'x.png')!r}])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 2
    said = done.stderr.strip().splitlines()
    assert said == ["archcalc: error: drawing PNG needs cairosvg: pip install 'archcalc[draw]'"]


@pytest.mark.parametrize("args", [["draw", "lenet5", "-o", "x.gif"], ["draw", "nope", "-o", "x.svg"],
                                  ["report", "lenet5", "-o", "/no/such/dir/r.html"]])
def test_bad_command_lines_are_one_line(args):
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1


def test_grade_displays_as_html():
    from pathlib import Path

    sheet = Path(__file__).parent / "sheets" / "lenet5-mistakes.md"
    html = archcalc.check("lenet5", sheet)._repr_html_()
    assert html.count("<tr>") > 1 and "Score:" in html
