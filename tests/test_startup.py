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
