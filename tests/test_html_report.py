"""`archcalc report` and `archcalc draw` from the command line, and the page's content: one file that
fetches nothing, with the totals, drawing, table (a row per layer and per block), plots and warnings."""

from __future__ import annotations

import re
import subprocess
import sys
from html import escape
from html.parser import HTMLParser
from pathlib import Path

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


HOSTILE = Path(__file__).parent / "hostile" / "draw" / "hostile-names.yaml"


def test_names_from_the_file_are_escaped_everywhere_on_the_page():
    """Markup in names, titles and block names is shown as text: no tag or attribute of the file's
    making, every embedded SVG well-formed, a name's `<`, `&` and quotes escaped."""
    import xml.etree.ElementTree as ET

    report = archcalc.analyze(str(HOSTILE))
    for html in (report_page(report), compare_page([report, report])):
        assert "<script>alert" not in html and "<svg onload" not in html and "<b>" not in html
        assert html.count("<script>") == 1  # the page's own
        tags = {tag for tag, _ in _tags(html)}
        assert tags <= {"html", "head", "meta", "title", "style", "body", "h1", "h2", "p", "code", "dl", "dt", "dd",
                        "div", "table", "caption", "thead", "tbody", "tr", "th", "td", "button", "span", "ul", "li",
                        "svg", "defs", "marker", "path", "g", "rect", "text", "polyline", "line", "script"}, tags
        for svg in re.findall(r"<svg.*?</svg>", html, re.S):
            ET.fromstring(svg)
        assert "c\\x07&lt;x&gt;&amp;&quot;q&#x27;" in html


def test_the_comparison_keeps_only_the_rows_every_network_has():
    """resnet18, mobilenet_v2 and efficientnet_b0 share no block name: the comparison is their totals,
    with a line saying what was left out (the `compare` command lists it)."""
    from archcalc.report.page import comparison

    reports = [archcalc.analyze(n) for n in ("resnet18", "mobilenet_v2", "efficientnet_b0")]
    table = comparison(reports)
    assert [row[0].text for row in table.rows] == ["Params", "  trainable", "  + running statistics", "MACs",
                                                   "FLOPs (2 × MACs)", "Forward memory", "Peak memory",
                                                   "Parameter memory"]
    assert not any(cell.text == "—" for row in table.rows for cell in row)
    assert table.footer[-1] == ("Not every network has a layer or block named conv1, bn1, layer1, layer2, layer3, "
                                "layer4, fc, features, classifier: their rows are left out (archcalc compare "
                                "resnet18 mobilenet_v2 efficientnet_b0 lists them).")


def test_a_table_past_its_row_limit_unfolds_only_as_deep_as_fits(monkeypatch):
    from archcalc.report import page

    # torchvision's ResNet-18: 70 layers (8 at the top, 62 in 4 stages of 2 blocks, 3 of them with a
    # downsample block): 85 rows in all, 79 down to depth 3, 20 down to depth 2, 12 at depth 1
    report = archcalc.analyze("resnet18")
    monkeypatch.setattr(page, "_MAX_ROWS", 40)
    html = page.table(report)
    assert "Blocks below depth 2 are not unfolded here" in html and "its 85 layers and blocks" in html
    rows = [a for t, a in _tags(html) if t == "tr" and "data-path" in a]
    assert len(rows) == 20 and {r["data-path"].count("/") for r in rows} == {0, 1}
    assert html.count('class="tog"') == 4  # layer1 … layer4 unfold; their blocks (layer1/0, …) do not
    monkeypatch.setattr(page, "_MAX_ROWS", 5)
    assert page.table(report).startswith("<p>Not listed: the table has 12 rows even with every block folded")


def test_a_graph_past_the_drawing_limit_is_not_drawn(monkeypatch):
    from archcalc.report import page

    monkeypatch.setattr(page, "_MAX_BOXES", 5)
    html = page.drawing(archcalc.analyze("lenet5"))  # the input and LeNet-5's 7 layers, no block to fold
    assert html == ("<p>Not drawn: the drawing has 8 boxes, more than the 5 a drawing holds, even with every block "
                    "folded.</p>")


def test_per_layer_bars_of_a_long_network_are_one_profile(tmp_path):
    import xml.etree.ElementTree as ET

    from archcalc.draw.bars import svg_bars
    from archcalc.draw.metrics import MAX_BARS

    path = tmp_path / "long.yaml"
    path.write_text(f"name: long\ninput: [4, 8, 8]\nlayers:\n"
                    f"  - {{name: c, type: conv, out_channels: 4, kernel_size: 1, repeat: {MAX_BARS * 10}}}\n")
    root = ET.fromstring(svg_bars(archcalc.analyze(str(path)), "macs"))
    assert not root.findall(".//{http://www.w3.org/2000/svg}rect[@class='bar']")
    assert len(root.findall(".//{http://www.w3.org/2000/svg}path[@class='profile']")) == 1
    assert float(root.get("width")) < 1000
