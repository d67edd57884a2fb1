"""The reference pages stay complete: every layer type, every JSON key, every page linked."""

from __future__ import annotations

import re
from pathlib import Path

import archcalc
from archcalc.layers import registered_types

DOCS = Path(__file__).resolve().parent.parent / "docs"


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
