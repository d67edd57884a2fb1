"""The imported torchvision CNNs that need the layer types LayerNorm, layer scale, per-position linear
and stochastic depth (ConvNeXt, EfficientNet): their stored files analyse to torchvision's own counts
(tests/data/reference_import.json, measured by tools/reference_import.py)."""

from __future__ import annotations

import pytest

import archcalc
from tests.import_data import IMPORTED, REFERENCE, conv_linear_counts, needs_new_types


@pytest.mark.parametrize("path", [p for p in IMPORTED if needs_new_types(p.stem)], ids=lambda p: p.stem)
def test_stored_torchvision_imports_count_as_torchvision(path):
    reference = REFERENCE["torchvision"][path.stem]
    report = archcalc.analyze(str(path))
    assert conv_linear_counts(report) == (reference["trainable_params"], reference["bn_running_stats"],
                               reference["macs_conv_linear"])


def test_every_torchvision_cnn_is_stored():
    assert {p.stem for p in IMPORTED} == set(REFERENCE["torchvision"])
