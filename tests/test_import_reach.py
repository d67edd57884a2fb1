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


def test_convnext_onnx_exports_count_as_torchvision():
    """ConvNeXt exported to ONNX (Transpose, LayerNormalization, MatMul + Add, erf GELU, layer-scale Mul)."""
    pytest.importorskip("onnx")
    from tests.test_import_onnx import NEW_TYPES, ONNX_FILES, _stem

    exports = [p for p in ONNX_FILES if _stem(p).startswith(NEW_TYPES)]
    assert exports
    for path in exports:
        reference = REFERENCE["torchvision"][_stem(path)]
        report = archcalc.analyze(archcalc.import_model(path))
        assert conv_linear_counts(report) == (reference["trainable_params"], reference["bn_running_stats"],
                                              reference["macs_conv_linear"]), path.name


def test_keras_efficientnetb0_counts_as_keras():
    """Keras' EfficientNetB0 starts with Rescaling and Normalization (2C + 1 non-trainable weights)."""
    from tests.import_data import DATA

    reference = REFERENCE["keras"]["EfficientNetB0"]
    totals = archcalc.analyze(archcalc.import_model(DATA / "keras" / "EfficientNetB0.json.gz")).totals
    assert (totals.trainable_params, totals.non_trainable_params) == (reference["trainable_params"],
                                                                      reference["non_trainable_params"])
