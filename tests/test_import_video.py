"""`archcalc import` of torchvision's video CNNs: the files it wrote (tests/data/imported/video/, by
tools/reference_import.py --video, torch 2.14.1 and torchvision 0.29.1) give torchvision's trainable
parameters, BatchNorm statistics and convolution and linear MACs, counted with forward hooks on the real
models (tests/data/reference_video.json, tools/reference_video.py), at both clip sizes measured."""

from __future__ import annotations

import json

import pytest

import archcalc
from tests.import_data import DATA

REFERENCE = json.loads((DATA / "reference_video.json").read_text())["video"]
FOLDER = DATA / "imported" / "video"
# the clip sizes torchvision could run each model at (S3D's last pooling does not fit a 112×112 clip)
SIZES = {name: [size for size, found in REFERENCE[name]["inputs"].items() if "error" not in found]
         for name in REFERENCE}


def test_every_video_cnn_was_imported():
    assert {path.stem for path in FOLDER.glob("*.yaml")} == set(REFERENCE)


@pytest.mark.parametrize("name, size", [(name, size) for name, sizes in SIZES.items() for size in sizes])
def test_the_imported_file_counts_as_torchvision(name, size):
    reference = REFERENCE[name]
    clip = tuple(int(side) for side in size.split("x"))
    report = archcalc.analyze(str(FOLDER / f"{name}.yaml"), input=clip)
    assert report.totals.trainable_params == reference["params"]
    assert report.totals.non_trainable_params == reference["bn_running_stats"]
    assert report.totals.macs == reference["inputs"][size]["macs_conv_linear"]
    assert report.layers[-1].output_shape == tuple(reference["inputs"][size]["output_shape"])
