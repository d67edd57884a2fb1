"""The Report `archcalc.analyze` returns shows itself: in Jupyter (`_repr_html_`), in rich, and as any
style in any format; its numbers are the analysis's."""

import io

from rich.console import Console

import archcalc
from archcalc.analysis import Report as Numbers

# LeNet-5's 61,706 parameters and C3's 2,416: LeCun et al. 1998 as tabulated in the lecture
# (shared/seeds, Example 3.1).
LENET_PARAMS = "61,706"
C3_PARAMS = "2,416"


def test_the_public_report_is_the_analysis_with_display():
    report = archcalc.analyze("lenet5")
    assert isinstance(report, Numbers) and isinstance(report, archcalc.Report)
    assert report.totals.params == 61706
    assert report.layer("C3").arithmetic().params.endswith(f"= {C3_PARAMS}")


def test_jupyter_shows_the_table_as_html():
    html = archcalc.analyze("lenet5")._repr_html_()
    assert html.startswith("<table>") and "</table>" in html
    assert "<td class=\"left\">C3</td>" in html
    assert LENET_PARAMS in html


def test_rich_renders_the_table():
    buffer = io.StringIO()
    Console(file=buffer, width=200, force_terminal=False).print(archcalc.analyze("lenet5"))
    text = buffer.getvalue()
    assert "C3" in text and C3_PARAMS in text and LENET_PARAMS in text


def test_render_and_to_table():
    report = archcalc.analyze("lenet5")
    markdown = report.render("markdown", style="lecture")
    assert f"= {C3_PARAMS} |" in markdown and f"**{LENET_PARAMS}**" in markdown
    table = report.to_table("full", columns=["layer", "params"])
    assert [c.text for c in table.rows[3]] == ["C3", C3_PARAMS]
