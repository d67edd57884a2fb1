"""Start-up: the table path never imports NumPy (only forward passes need it), and the analysis
JSON streams out of a 50,000-layer file (the most a file may have) in bounded memory."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import archcalc
from archcalc.report.formats.json_ import analysis

# Runs the CLI in this process, then says on stderr which modules of interest it imported.
WRAPPER = """
import sys
from archcalc.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print(sorted(m for m in ("numpy", "scipy", "torch") if m in sys.modules), file=sys.stderr)
"""


def test_importing_the_cli_imports_no_numpy():
    result = subprocess.run([sys.executable, "-X", "importtime", "-c", "import archcalc.cli"],
                            capture_output=True, text=True, check=True)
    imported = {line.split("|")[-1].strip() for line in result.stderr.splitlines() if "|" in line}
    assert "archcalc.cli" in imported
    assert not imported & {"numpy", "scipy", "torch"}


@pytest.mark.parametrize("args", [["table", "vgg16"], ["table", "resnet50", "--style", "keras"],
                                  ["table", "vgg16", "--format", "json"], ["list"]])
def test_reports_import_no_numpy(args, tmp_path):
    env = {"XDG_CACHE_HOME": str(tmp_path), "PATH": ""}
    result = subprocess.run([sys.executable, "-c", WRAPPER, *args], capture_output=True, text=True,
                            check=True, env=env)
    assert result.stdout
    assert result.stderr.strip().splitlines()[-1] == "[]"


def test_the_streamed_json_is_the_analysis():
    report = archcalc.analyze("resnet18")
    assert json.loads("".join(analysis(report, records_per_chunk=7))) == report.to_dict()


def test_a_50000_layer_json_streams_in_bounded_memory(tmp_path):
    """A 69-byte file of 50,000 layers (the input and 49,999 more): its 20 MB of JSON is never held."""
    path = tmp_path / "long.yaml"
    path.write_text("name: long\ninput: [1, 8, 8]\nlayers:\n  - {type: relu, repeat: 49999}\n")
    script = ("import resource, subprocess, sys\n"
              "out = subprocess.run([sys.executable, '-m', 'archcalc', 'table', sys.argv[1], '--format', 'json'],"
              " stdout=subprocess.PIPE, check=True).stdout\n"
              "print(len(out), out.count(b'\"name\": \"'), resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    result = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True, check=True)
    size, records, peak_kib = map(int, result.stdout.split())
    assert records == 50_000 + 1  # the input, 49,999 layers, and the file's own name
    assert peak_kib < 300 * 1024, f"peak {peak_kib // 1024} MiB"


# --- the kept table: a repeated `table` on unchanged files loads no analysis ----------------------

KEPT = """
import sys
from archcalc.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print(sorted(m for m in ("pydantic", "yaml", "archcalc.analysis") if m in sys.modules), file=sys.stderr)
"""


def _archcalc(tmp_path, *args: str, env: dict | None = None) -> tuple[str, str]:
    """(stdout, the heavy modules imported) of `archcalc ARGS` in a fresh process."""
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache"), "PATH": "", **(env or {})}
    result = subprocess.run([sys.executable, "-c", KEPT, *args], capture_output=True, text=True, check=True, env=env)
    return result.stdout, result.stderr.strip().splitlines()[-1]


def _table(tmp_path, *args: str, env: dict | None = None) -> tuple[str, str]:
    return _archcalc(tmp_path, "table", *args, env=env)


def test_a_repeated_table_is_printed_from_the_cache_without_the_analysis(tmp_path):
    first, loaded = _table(tmp_path, "vgg16", "--style", "keras")
    assert loaded == "['archcalc.analysis', 'pydantic', 'yaml']"
    again, loaded = _table(tmp_path, "vgg16", "--style", "keras")
    assert again == first and loaded == "[]"
    other, loaded = _table(tmp_path, "vgg16", "--style", "keras", "--units", "si")  # other options: analysed
    assert loaded != "[]" and other != first


def test_a_changed_file_or_parent_is_analysed_again(tmp_path):
    (tmp_path / "_base.yaml").write_text("name: base\ninput: [1, 8, 8]\nlayers:\n  - {type: conv, out_channels: 2, "
                                         "kernel_size: 3}\n")
    child = tmp_path / "child.yaml"
    child.write_text("name: child\nextends: _base.yaml\n")
    first, _ = _table(tmp_path, str(child))
    assert "20" in first  # 1·3·3·2 + 2
    (tmp_path / "_base.yaml").write_text((tmp_path / "_base.yaml").read_text().replace("out_channels: 2",
                                                                                       "out_channels: 4"))
    second, loaded = _table(tmp_path, str(child))
    assert loaded != "[]" and "40" in second  # 1·3·3·4 + 4
    child.write_text("name: child\nextends: _base.yaml\ninput: [1, 10, 10]\n")
    third, loaded = _table(tmp_path, str(child))
    assert loaded != "[]" and "1×10×10" in third


def test_the_cache_can_be_turned_off_and_a_broken_entry_is_ignored(tmp_path):
    _table(tmp_path, "lenet5", env={"ARCHCALC_NO_CACHE": "1"})
    assert not (tmp_path / "cache" / "archcalc" / "tables").exists()
    first, _ = _table(tmp_path, "lenet5")
    for entry in (tmp_path / "cache" / "archcalc" / "tables").glob("*.json"):
        entry.write_text('{"files": [], "table": {"title": 3}}')
    again, loaded = _table(tmp_path, "lenet5")
    assert again == first and loaded != "[]"


def test_the_layer_types_are_listed_from_the_cache_once_listed(tmp_path):
    first, loaded = _archcalc(tmp_path, "layers", "--format", "json")
    assert "pydantic" in loaded
    again, loaded = _archcalc(tmp_path, "layers", "--format", "json")
    assert again == first and loaded == "[]"
    dense, _ = _archcalc(tmp_path, "layers", "DENSE")
    assert "linear" in dense and "conv " not in dense
