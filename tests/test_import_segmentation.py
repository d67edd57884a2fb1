"""`archcalc import` of torchvision's segmentation models, without and with their auxiliary classifiers
(`<model>-aux`: two outputs, `out` and `aux`): the files it wrote (tests/data/imported/segmentation/, by
tools/reference_import.py --segmentation) give torchvision's trainable parameters, BatchNorm statistics
and convolution MACs, counted with forward hooks on the real models (tests/data/reference_dense.json,
tools/reference_dense.py), at 224×224 and 520×520. The upsamplings to the input's size are imported with
the input as a second input read for its size, so one file holds for every input size."""

from __future__ import annotations

import json

import pytest

import archcalc
from tests.import_data import DATA

REFERENCE = json.loads((DATA / "reference_dense.json").read_text())["segmentation"]
FOLDER = DATA / "imported" / "segmentation"


FILES = {f"{name}-aux" if variant == "aux" else name: (name, variant)
         for name, variants in REFERENCE.items() for variant in variants}


def test_every_segmentation_model_was_imported_with_and_without_its_auxiliary_classifier():
    assert {path.stem for path in FOLDER.glob("*.yaml")} == set(FILES)


@pytest.mark.parametrize("size", ["224", "520"])
@pytest.mark.parametrize("file", sorted(FILES))
def test_the_imported_file_counts_as_torchvision(file, size):
    name, variant = FILES[file]
    reference = REFERENCE[name][variant]
    side = int(size)
    report = archcalc.analyze(str(FOLDER / f"{file}.yaml"), input=(3, side, side))
    assert report.totals.trainable_params == reference["params"]
    assert report.totals.non_trainable_params == reference["bn_running_stats"]
    assert report.totals.macs == reference["sizes"][size]["macs_conv_linear"]
    outputs = report.architecture.outputs or {"out": report.architecture.output_path}
    assert {key: report.layer(path).output_shape for key, path in outputs.items()} == \
        {key: tuple(shape[1:]) for key, shape in reference["sizes"][size]["output"].items()}
