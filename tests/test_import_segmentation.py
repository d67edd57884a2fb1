"""`archcalc import` of torchvision's segmentation models (without their auxiliary classifiers): the files
it wrote (tests/data/imported/segmentation/, by tools/reference_import.py --segmentation) give
torchvision's trainable parameters and convolution MACs, counted with forward hooks on the real models
(tests/data/reference_dense.json, tools/reference_dense.py), at 224×224 and 520×520. The final
upsampling to the input's size is imported as a second input read for its size, so one file holds for
every input size."""

from __future__ import annotations

import json

import pytest

import archcalc
from tests.import_data import DATA

REFERENCE = json.loads((DATA / "reference_dense.json").read_text())["segmentation"]
FOLDER = DATA / "imported" / "segmentation"


def test_every_segmentation_model_was_imported():
    assert {path.stem for path in FOLDER.glob("*.yaml")} == set(REFERENCE)


@pytest.mark.parametrize("size", ["224", "520"])
@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_the_imported_file_counts_as_torchvision(name, size):
    reference = REFERENCE[name]["noaux"]
    side = int(size)
    report = archcalc.analyze(str(FOLDER / f"{name}.yaml"), input=(3, side, side))
    assert report.totals.trainable_params == reference["params"]
    assert report.totals.non_trainable_params == reference["bn_running_stats"]
    assert report.totals.macs == reference["sizes"][size]["macs_conv_linear"]
    assert report.layers[-1].output_shape == tuple(reference["sizes"][size]["output"]["out"][1:])
