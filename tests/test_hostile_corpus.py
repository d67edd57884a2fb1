"""Every hostile input kept in `tests/hostile/`, one folder per surface (export, ONNX, Keras, ...).

A folder's `manifest.json` says how its inputs are run and what each must give:

    {"command": ["import", "{input}", "-o", "out.yaml"],   # archcalc's arguments; {input}: the case's name
     "preload": ["onnx"],                                  # modules imported before the bounds are taken
     "requires": ["onnx"],                                 # modules without which the folder is skipped
     "then": [["validate", "out.yaml"]],                   # run after an "ok" case, each must succeed
     "cases": {"external-secret.onnx": {"expect": "error", "why": "external data at ../secret.txt"}}}

An "ok" case may name the exit status it gives, `"status": 1` (archcalc check: some cells wrong), 0 by default.

A case (a file, or a folder copied with its links) is copied into a fresh folder beside the canary
secret (`../secret.txt`) and the canary file (`../executed.txt`) and run there within the bounds of
`tests/hostile.py`: "error" is one line naming the input with exit status 2, "ok" exits 0 and its
`then` commands too; in both, nothing is executed and the secret appears in no output. The fuzz
harness (`tools/fuzz.py`) runs the same folders.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from hostile import one_line_error, run_archcalc

CORPUS = Path(__file__).parent / "hostile"


def _cases():
    for manifest in sorted(CORPUS.glob("*/manifest.json")):
        spec = json.loads(manifest.read_text())
        for name, case in spec["cases"].items():
            yield pytest.param(manifest.parent, spec, name, case, id=f"{manifest.parent.name}/{name}")


def test_every_case_in_a_folder_is_in_its_manifest():
    for manifest in CORPUS.glob("*/manifest.json"):
        listed = set(json.loads(manifest.read_text())["cases"])
        present = {p.name for p in manifest.parent.iterdir() if p.name not in ("manifest.json", "README.md")}
        assert listed == present, manifest.parent.name


@pytest.mark.parametrize(("surface", "spec", "name", "case"), list(_cases()))
def test_a_hostile_input_is_refused_in_one_line_or_handled(canaries, surface, spec, name, case):
    for module in spec.get("requires", ()):
        pytest.importorskip(module)
    source, target = surface / name, canaries.folder / name
    if source.is_dir():
        shutil.copytree(source, target, symlinks=True)
    else:
        shutil.copyfile(source, target)
    preload = tuple(spec.get("preload", ()))
    run = run_archcalc(canaries.folder, *(a.replace("{input}", name) for a in spec["command"]), preload=preload)
    outputs = [run.stdout, run.stderr]
    if case["expect"] == "error":
        one_line_error(run, name)
    else:
        assert case["expect"] == "ok", case
        assert run.status == case.get("status", 0), run.stderr[-2000:]
        for then in spec.get("then", ()):
            after = run_archcalc(canaries.folder, *(a.replace("{input}", name) for a in then), preload=preload)
            assert after.status == 0, after.stderr[-2000:]
            outputs += [after.stdout, after.stderr]
    canaries.assert_untouched(*outputs)
