"""The pages are true and complete: every code block of README.md and docs/*.md runs as written (see
tests/doc_blocks.py), every layer type, every JSON key, every page linked."""

from __future__ import annotations

import ast
import re
import shutil
from pathlib import Path

import pytest

import archcalc
from archcalc.layers import registered_types
from tests.doc_blocks import Page, blocks

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_every_code_block_of_the_page_runs_as_written(page, tmp_path):
    runner = Page(tmp_path / "work", tmp_path / "cache")
    for block in blocks(page):
        runner.run(block)
    if runner.skipped:
        pytest.skip("blocks needing what this machine lacks: " + "; ".join(runner.skipped))


def test_a_block_neither_run_nor_marked_fails_the_page(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("Text.\n\n<!-- not run: an example of a mark -->\n```yaml\na: 1\n```\n\n```\nplain\n```\n")
    found = blocks(page)
    runner = Page(tmp_path / "work", tmp_path / "cache")
    runner.run(found[0])
    with pytest.raises(AssertionError, match="page.md:8: a ``` block that is neither run nor marked"):
        runner.run(found[1])
    page.write_text("<!-- not rn: a typo -->\n```bash\ntrue\n```\n")
    with pytest.raises(AssertionError, match="no mark"):
        blocks(page)
    page.write_text("<!-- output of: echo one -->\n```text\ntwo\n```\n")
    with pytest.raises(AssertionError, match="printed"):
        runner.run(blocks(page)[0])


def quick_start(language: str, heading: str = "Quick start") -> list[str]:
    """The lines of the README's code block in `language` under `## heading`."""
    section = (ROOT / "README.md").read_text().split(f"## {heading}", 1)[1].split("\n## ", 1)[0]
    block = re.search(rf"```{language}\n(.*?)```", section, re.S)
    assert block, f"README's quick start has no {language} block"
    return block.group(1).splitlines()


def test_the_quick_start_python_gives_the_values_it_shows(tmp_path, monkeypatch):
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    names: dict = {}
    for line in quick_start("python"):
        code, _, comment = line.partition("  #")
        try:
            expected = ast.literal_eval(comment.split(":")[0].strip())
        except (ValueError, SyntaxError):
            exec(code, names)
            continue
        assert eval(code, names) == expected, line


def test_every_registered_type_and_alias_is_in_layers_md():
    text = (DOCS / "layers.md").read_text()
    missing = [name for name in registered_types() if f"`{name}`" not in text]
    assert not missing, f"docs/layers.md does not describe {missing}"


def test_every_json_key_is_in_json_md():
    text = (DOCS / "json.md").read_text()
    data = archcalc.analyze("lenet5").to_dict()
    keys = set(data) | set(data["totals"]) | set(data["layers"][1])
    keys |= {"path", "block", "args", "size", "jump", "start"}
    missing = sorted(k for k in keys if f"`{k}`" not in text)
    assert not missing, f"docs/json.md does not describe {missing}"


def test_index_links_every_page():
    linked = set(re.findall(r"\]\(([\w.-]+\.md)\)", (DOCS / "index.md").read_text()))
    expected = {"guide.md", "format.md", "layers.md", "conventions.md", "json.md", "cli.md", "grading.md",
                "executor.md", "errata.md"}
    assert expected <= linked
    present = {p.name for p in DOCS.glob("*.md")} - {"index.md"}
    assert present <= linked, f"docs/index.md does not link {sorted(present - linked)}"


def test_conventions_keeps_the_count_profiles_section():
    assert "\n## Count profiles\n" in (DOCS / "conventions.md").read_text()
