"""The reference pages stay complete: every layer type, every JSON key, every page linked."""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import archcalc
from archcalc.layers import registered_types

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def quick_start(language: str, heading: str = "Quick start") -> list[str]:
    """The lines of the README's code block in `language` under `## heading`."""
    section = (ROOT / "README.md").read_text().split(f"## {heading}", 1)[1].split("\n## ", 1)[0]
    block = re.search(rf"```{language}\n(.*?)```", section, re.S)
    assert block, f"README's quick start has no {language} block"
    return block.group(1).splitlines()


def test_every_quick_start_command_runs_as_written(tmp_path):
    shutil.copytree(ROOT / "examples", tmp_path / "examples")  # what a clone of the repository has
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    for line in quick_start("bash"):
        command = line.split("  #")[0].strip()
        done = subprocess.run(["bash", "-c", command], cwd=tmp_path, env=env, capture_output=True, text=True)
        assert done.returncode == 0, f"{command}: {done.stderr[-1000:]}"
    sheet = (tmp_path / "my_answers.csv").read_text()
    assert sheet.startswith("# archcalc sheet: architecture=lenet5 ")
    assert "\nlayer,output shape (W×H×D),params\n" in sheet
    assert '"title": "archcalc architecture file"' in (tmp_path / "archcalc.schema.json").read_text()


def test_every_command_of_the_pictures_and_exports_section_runs_as_written(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("onnx")
    pytest.importorskip("matplotlib")
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    lines = quick_start("bash", "Pictures, exports, imports and homework")
    assert lines[0].startswith("pip install")  # the extras, installed here by the test extra
    for line in lines[1:]:
        command = line.split("  #")[0].strip()
        done = subprocess.run(["bash", "-c", command], cwd=tmp_path, env=env, capture_output=True, text=True)
        assert done.returncode == 0, f"{command}: {done.stderr[-1000:]}"
    back = archcalc.analyze(str(tmp_path / "lenet5_back.yaml"))
    assert back.totals.params == 61_706  # LeNet-5's total in the seed's lecture table (Example 3.1)
    assert "<svg" in (tmp_path / "resnet18.svg").read_text() and "nn.Module" in (tmp_path / "lenet5.py").read_text()


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
