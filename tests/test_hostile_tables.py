"""Names from a file come out of every table format as written: never a spreadsheet formula, markup
(markdown, HTML, LaTeX, rich's console markup) or a terminal control sequence. The files are the
hostile corpus of the tables (tests/hostile/tables/), which test_hostile_corpus.py runs in a bounded
process; here each format's output is read back."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

import archcalc
from archcalc.cli import main
from archcalc.errors import printable
from archcalc.escaping import one_line
from archcalc.report import render, to_table

CORPUS = Path(__file__).parent / "hostile" / "tables"
FILES = sorted(p.name for p in CORPUS.glob("*.yaml"))
STYLES = ("full", "lecture", "structural", "keras", "keras3", "cs231n", "paper", "torch")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


def names(file: str) -> list[str]:
    """The layer names the file writes."""
    return [layer["name"] for layer in yaml.safe_load((CORPUS / file).read_text(encoding="utf-8"))["layers"]]


def run(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("file", FILES)
@pytest.mark.parametrize("command", [("table", "--style", s) for s in STYLES] + [("compare",)])
def test_no_csv_cell_is_a_formula(file, command):
    path = str(CORPUS / file)
    args = [command[0], path, *([path] if command[0] == "compare" else []), *command[1:], "--format", "csv"]
    cells = [cell for row in csv.reader(io.StringIO(run(*args))) for cell in row]
    risky = [c for c in cells if c.startswith(FORMULA_START) and not _is_number(c) and c.strip("-")]
    assert not risky, risky


def test_a_formula_name_is_kept_behind_an_apostrophe():
    path = str(CORPUS / "formula-names.yaml")
    cells = {row[0] for row in csv.reader(io.StringIO(run("table", path, "--format", "csv")))}
    for name in names("formula-names.yaml"):
        assert ("'" + name if name.startswith(FORMULA_START) else name) in cells
    header = next(csv.reader(io.StringIO(run("compare", path, path, "--format", "csv"))))
    assert "'=HYPERLINK(\"http:evil\",\"open\")" in header  # the file's name heads a column


def _markdown_cells(line: str) -> list[str]:
    return [html.unescape(re.sub(r"\\(.)", r"\1", c.strip())) for c in re.split(r"(?<!\\)\|", line)[1:-1]]


@pytest.mark.parametrize("file", FILES)
@pytest.mark.parametrize("style", ["full", "keras", "torch"])
def test_markdown_shows_names_as_written(file, style):
    text = run("table", str(CORPUS / file), "--style", style, "--format", "markdown")
    assert not re.search(r"(?<!\\)<", text) and "\n#" not in text  # no tag can open, no heading start
    lines = [line for line in text.splitlines() if line.startswith("|")]
    widths = {len(_markdown_cells(line)) for line in lines}
    assert len(widths) == 1, widths  # no `|` in a name opened a column
    if style == "torch":
        return  # torchinfo's tree shows the types, not the names
    first_cells = [_markdown_cells(line)[0] for line in lines]
    for name in names(file):
        assert any(one_line(name).strip() in cell for cell in first_cells), name  # on one line, else as written


@pytest.mark.parametrize("file", FILES)
@pytest.mark.parametrize("style", ["full", "lecture", "torch"])
def test_latex_keeps_names_and_title_inside_their_cells_and_comments(file, style):
    text = run("table", str(CORPUS / file), "--style", style, "--format", "latex")
    for line in text.splitlines():
        assert line.startswith(("%", "\\begin{tabular}", "\\toprule", "\\midrule", "\\bottomrule", "\\end{tabular}")) \
            or line.endswith(" \\\\"), line
    assert "\\input" not in text.replace("\\textbackslash{}input", "")
    assert "\x1b" not in text


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: set[str] = set()

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)


@pytest.mark.parametrize("file", FILES)
def test_html_has_only_its_own_tags(file):
    parser = _Tags()
    parser.feed(run("table", str(CORPUS / file), "--format", "html"))
    assert parser.tags <= {"html", "head", "meta", "title", "style", "body", "table", "caption", "thead", "tbody",
                           "tfoot", "tr", "th", "td", "p"}


@pytest.mark.parametrize("file", FILES)
@pytest.mark.parametrize("color", [True, False])
def test_the_terminal_prints_names_without_markup_or_control_sequences(file, color):
    table = to_table(archcalc.analyze(str(CORPUS / file)))
    text = render(table, "terminal", color=color, width=400)
    own_styles = re.sub(r"\x1b\[[0-9;]*m", "", text) if color else text
    assert not [c for c in own_styles if not c.isprintable() and c != "\n"]
    for name in names(file):
        assert printable(name) in own_styles, name
    assert printable(table.title) in own_styles


def test_rich_markup_in_a_name_prints_literally():
    table = to_table(archcalc.analyze(str(CORPUS / "markup-names.yaml")))
    text = re.sub(r"\x1b\[[0-9;]*m", "", render(table, "terminal", color=True, width=400))
    assert "[bold red]x" in text and "[link=https:evil]y" in text and "[bold red]T[/]" in text
    assert "\x1b]8;" not in text  # no hyperlink made


@pytest.mark.parametrize("file", FILES)
def test_json_carries_the_names_exactly(file):
    data = json.loads(run("table", str(CORPUS / file), "--style", "full", "--format", "json"))
    assert [row["layer"] for row in data["rows"]][1:] == names(file)


def test_explain_and_validate_print_names_escaped():
    path = str(CORPUS / "control-names.yaml")
    for name in names("control-names.yaml"):
        text = run("explain", path, name)
        assert printable(name) in text and not [c for c in text if not c.isprintable() and c != "\n"]
    assert "\x1b" not in run("validate", path)
