"""`timedistributed`: a layer on every frame — its parameters once, its MACs T times, hand-counted here; the
frames' shapes; one-line errors. Its forward against PyTorch is a case of tests/test_execute_layers.py, its
round trips through PyTorch and ONNX tests/test_registry_contract.py, the peer tools on an exported
network tests/test_export_torch.py (the cnn-*-video zoo files)."""

from __future__ import annotations

import pytest

import archcalc
from archcalc.errors import ArchcalcError, ExportError

FRAMES = {"name": "frames", "input": [8, 3, 64, 64], "layers": [
    {"name": "conv", "type": "timedistributed", "layer": {"type": "conv", "out_channels": 32, "kernel_size": 3}},
    {"name": "pool", "type": "timedistributed", "layer": {"type": "maxpool", "kernel_size": 2, "stride": 2}},
    {"name": "flat", "type": "timedistributed", "layer": {"type": "flatten"}},
    {"name": "fc", "type": "timedistributed", "layer": {"type": "linear", "out_features": 16}}]}


def test_parameters_once_and_macs_per_frame_times_the_frames():
    report = archcalc.analyze(FRAMES)
    conv, pool, flat, fc = report.layers[1:]
    # 3×3×3 weights × 32 + 32 biases; 62·62 outputs × 32 × 27 per frame, × 8 frames
    assert (conv.params, conv.macs, conv.output_shape) == (896, 8 * 62 * 62 * 32 * 27, (8, 32, 62, 62))
    assert (pool.output_shape, flat.output_shape) == ((8, 32, 31, 31), (8, 32 * 31 * 31))
    assert (fc.params, fc.macs) == (30752 * 16 + 16, 8 * 30752 * 16)


def test_each_count_profile_is_the_frame_s_count_times_the_frames():
    one = {"name": "one", "input": [3, 64, 64], "layers": [{"type": "conv", "out_channels": 32, "kernel_size": 3},
                                                          {"type": "relu"}, {"type": "maxpool", "kernel_size": 2}]}
    eight = {"name": "eight", "input": [8, 3, 64, 64],
             "layers": [{"type": "timedistributed", "layer": layer} for layer in one["layers"]]}
    for profile in ("archcalc", "fvcore", "ptflops", "thop", "torchinfo", "torch"):
        frame = archcalc.analyze(one, count=profile).totals.flops
        assert archcalc.analyze(eight, count=profile).totals.flops == 8 * frame, profile


def test_explain_shows_the_frames():
    from archcalc.report.explain import explain

    text = explain(archcalc.analyze(FRAMES), "conv")
    assert "8 frames × (" in text and "(shared by the 8 frames)" in text


@pytest.mark.parametrize("layer, message", [
    ({"type": "conv", "kernel_size": 3}, "layer: out_channels: missing key"),
    ({"out_channels": 3}, "layer: type: missing key"),
    ({"type": "add"}, "add cannot be applied to each frame"),
    ({"type": "timedistributed", "layer": {"type": "relu"}}, "timedistributed cannot be applied to each frame"),
])
def test_a_bad_inner_layer_is_one_line_naming_it(layer, message):
    with pytest.raises(ArchcalcError, match=message):
        archcalc.analyze({"name": "bad", "input": [4, 3, 8, 8],
                          "layers": [{"type": "timedistributed", "layer": layer}]})


def test_a_fused_activation_inside_has_no_pytorch_form():
    pytest.importorskip("torch")
    fused = {"name": "fused", "input": [4, 3, 8, 8], "layers": [
        {"type": "timedistributed",
         "layer": {"type": "conv", "out_channels": 2, "kernel_size": 3, "activation": "relu"}}]}
    with pytest.raises(ExportError, match="write its activation or padding as a timedistributed layer of its own"):
        archcalc.to_torch(fused)


@pytest.mark.parametrize("route", ["torch", "onnx"])
def test_frames_in_torchvision_s_layout_are_permuted_and_come_back(route, tmp_path):
    """(C, T, H, W) frames, as torchvision's video models read them, become (T, C, H, W) with a permute."""
    pytest.importorskip("torch")
    pytest.importorskip("onnx")
    from tests.test_registry_contract import ROUTES, assert_comes_back

    report = archcalc.analyze({"name": "ct", "input": [3, 8, 16, 16], "layers": [
        {"name": "frames", "type": "permute", "dims": [1, 0, 2, 3]},
        {"name": "conv", "type": "timedistributed", "layer": {"type": "conv", "out_channels": 4, "kernel_size": 3}},
        {"name": "pool", "type": "timedistributed", "layer": {"type": "globalavgpool"}},
        {"name": "flat", "type": "timedistributed", "layer": {"type": "flatten"}},
        {"name": "gru", "type": "gru", "hidden_size": 6, "return_sequences": False}]})
    assert report.layer("flat").output_shape == (8, 4)
    assert_comes_back(report, ROUTES[route](report, tmp_path), route)
