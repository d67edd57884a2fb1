"""`roialign` and `roipool` refuse what they cannot pool in one line naming the file and layer, and state the
arithmetic they do not count (the forward of each, against PyTorch, is in tests/test_execute_layers.py;
against torchvision's own `roi_align`, `MultiScaleRoIAlign` and `roi_pool`, checked when the layer was written)."""

from __future__ import annotations

import pytest

import archcalc
from archcalc.errors import ArchcalcError


def pooled(kind: str, input_shape: list[int], **arguments):
    layers = [{"name": "p", "type": "maxpool", "kernel_size": 2},
              {"name": "L", "type": kind, "from": ["input", "p"], "rois": 8, "strides": [4, 8], **arguments}]
    return archcalc.analyze({"name": "net", "input": input_shape, "layers": layers})


@pytest.mark.parametrize("kind", ["roialign", "roipool"])
@pytest.mark.parametrize("arguments, expected", [
    ({"strides": [4]}, "reads 2 level(s) but has 1 strides"),
    ({"strides": [4, 16]}, "powers of two each twice the last"),
    ({"strides": [3, 6]}, "powers of two each twice the last"),
    ({"rois": 1}, "at least one RoI per level (2), got rois 1"),
    ({"rois": 0}, "rois"),
    ({"output_size": [7, 0]}, "output_size"),
])
def test_what_cannot_be_pooled_is_refused_in_one_line(kind, arguments, expected):
    with pytest.raises(ArchcalcError) as caught:
        pooled(kind, [4, 16, 16], **arguments)
    text = str(caught.value)
    assert expected in text and "L" in text and "\n" not in text


def test_a_flat_input_is_refused():
    with pytest.raises(ArchcalcError) as caught:
        archcalc.analyze({"name": "net", "input": [16], "layers": [{"name": "L", "type": "roialign", "rois": 4}]})
    assert "roialign needs a (C, H, W) input" in str(caught.value)


def test_the_rois_are_the_frames_of_the_heads_after_it():
    """Mask R-CNN's mask head at its declared 100 RoIs: the weights once, the MACs once per RoI."""
    report = archcalc.analyze({"name": "net", "input": [256, 50, 50], "layers": [
        {"name": "pool", "type": "roialign", "rois": 100, "output_size": 14},
        {"name": "conv", "type": "timedistributed", "layer": {"type": "conv", "out_channels": 256, "kernel_size": 3,
                                                               "padding": 1}}]})
    assert report.layer("pool").output_shape == (100, 256, 14, 14)
    assert report.layer("conv").params == 256 * 256 * 9 + 256
    assert report.layer("conv").macs == 100 * 14 * 14 * 256 * 256 * 9
    assert report.layer("pool").macs == 0 and report.layer("pool").params == 0


def test_explain_states_the_bilinear_sampling_it_does_not_count():
    report = archcalc.analyze({"name": "net", "input": [256, 200, 200], "layers": [
        {"name": "pool", "type": "roialign", "rois": 1000, "output_size": 7, "sampling_ratio": 2}]})
    text = report.layer("pool").arithmetic().macs
    # 1000 RoIs × 256 channels × 7×7 bins × 2×2 samples, each sample 4 products of a weight and a pixel
    assert text.startswith("0 counted") and "50,176,000 bilinear samples" in text and "200,704,000" in text


def test_an_upsampling_per_roi_is_pytorch_s_interpolate_of_the_rois_as_a_batch():
    """Keypoint R-CNN's last step, F.interpolate(scale_factor=2, bilinear) on its (R, 17, 28, 28) maps."""
    torch = pytest.importorskip("torch")
    import numpy as np

    arch = archcalc.load({"name": "net", "input": [3, 2, 5, 4], "layers": [
        {"name": "up", "type": "timedistributed",
         "layer": {"type": "upsample", "scale_factor": 2, "mode": "bilinear"}}]})
    x = np.random.default_rng(0).normal(size=(2, 3, 2, 5, 4))
    expected = torch.nn.functional.interpolate(torch.from_numpy(x).flatten(0, 1), scale_factor=2, mode="bilinear",
                                               align_corners=False).unflatten(0, (2, 3)).numpy()
    np.testing.assert_allclose(archcalc.execute(arch, x, {}, dtype="float64"), expected, rtol=1e-12, atol=1e-12)
