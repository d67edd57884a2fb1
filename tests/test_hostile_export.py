"""The hostile PyTorch-export corpus (tests/hostile/export/) beyond what the generic runner checks:
every `out.py` written is imported, built and run in a fresh Python process, and `archcalc.to_torch`
builds and runs every file, in the input's folder, with the canary file never created."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import archcalc
from archcalc.cli import main

torch = pytest.importorskip("torch")

CORPUS = Path(__file__).parent / "hostile" / "export"
CASES = json.loads((CORPUS / "manifest.json").read_text())["cases"]
OK = sorted(name for name, case in CASES.items() if case["expect"] == "ok")

#: Run in the input's folder: import each written file, build its network (the last class) and run
#: it; build each architecture with `to_torch` and run it.
_CHILD = """
import inspect, runpy, sys
import torch
import archcalc
for out, source in zip(sys.argv[1::2], sys.argv[2::2]):
    namespace = runpy.run_path(out, run_name="exported")
    classes = [v for v in namespace.values() if inspect.isclass(v) and issubclass(v, torch.nn.Module)
               and v.__module__ == "exported"]
    network = classes[-1]().eval()
    report = archcalc.analyze(source)
    x = torch.zeros(1, *report.input_shape)
    with torch.no_grad():
        assert network(x).shape[1:] == report.layers[-1].output_shape
        assert archcalc.to_torch(source)(x).shape == network(x).shape
    print("ran", out)
"""


def test_every_exported_file_and_to_torch_run_without_running_the_names(canaries):
    pairs = []
    for name in OK:
        shutil.copyfile(CORPUS / name, canaries.folder / name)
        out = f"{Path(name).stem}.py"
        result = CliRunner().invoke(main, ["export", str(canaries.folder / name), "--to", "pytorch", "-o",
                                           str(canaries.folder / out)])
        assert result.exit_code == 0, result.output
        assert len(result.output.splitlines()) == 1 and result.output[:-1].isprintable()
        pairs += [out, name]
    done = subprocess.run([sys.executable, "-c", _CHILD, *pairs], cwd=canaries.folder, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("ran ") == len(OK)
    canaries.assert_untouched(done.stdout, done.stderr)


def test_a_refused_file_is_one_line_from_to_torch_too():
    for name, case in CASES.items():
        if case["expect"] == "error":
            with pytest.raises(archcalc.ArchcalcError) as caught:
                archcalc.to_torch(str(CORPUS / name))
            assert name in str(caught.value) and "\n" not in str(caught.value)
