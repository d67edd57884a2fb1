"""`upsample` and `crop` beyond the per-type contract: `like:` in a file, the errors of their
arguments, the receptive field through a crop, ONNX's Resize read (PyTorch's ways of writing them,
imported and run: tests/test_resize_torch.py)."""

from __future__ import annotations

import numpy as np
import pytest

import archcalc
from archcalc.errors import ArchcalcError


def net(*layers: dict, shape=(4, 12, 12)) -> dict:
    return {"name": "net", "input": list(shape), "layers": list(layers)}


POOL = {"name": "pool", "type": "maxpool", "kernel_size": 2}


def test_like_names_a_second_input_read_for_its_size():
    report = archcalc.analyze(net(POOL, {"name": "up", "type": "upsample", "like": "input"},
                                  {"name": "crop", "type": "crop", "like": "pool", "from": "up"}))
    up, crop = report.layers[2], report.layers[3]
    assert up.inputs == ("pool", "input") and up.output_shape == (4, 12, 12)
    assert crop.inputs == ("up", "pool") and crop.output_shape == (4, 6, 6)


@pytest.mark.parametrize("layer, words", [
    ({"type": "upsample"}, "exactly one of scale_factor, size and like"),
    ({"type": "upsample", "scale_factor": 2, "size": 5}, "got scale_factor, size"),
    ({"type": "upsample", "scale_factor": 2, "like": "input"}, "got scale_factor, like"),
    ({"type": "upsample", "scale_factor": 2, "align_corners": True}, "bilinear interpolation only"),
    ({"type": "upsample", "scale_factor": 1.5}, "scale_factor"),
    ({"type": "upsample", "mode": "bicubic", "scale_factor": 2}, "mode"),
    ({"type": "upsample", "like": "nowhere"}, "like: 'nowhere' names no layer"),
    ({"type": "conv", "out_channels": 2, "kernel_size": 1, "like": "input"}, "not to conv"),
    ({"type": "crop"}, "exactly one of cropping and like"),
    ({"type": "crop", "cropping": [6, 6, 0, 0]}, "leaves nothing of 6×6"),
    ({"type": "crop", "like": "input"}, "cannot cut 12×12 out of 6×6"),
    ({"type": "crop", "like": "input", "from": "input", "offset": 1}, "12×12 at offset (1, 1) out of 12×12"),
    ({"type": "crop", "cropping": 1, "offset": 1}, "offset places a crop"),
])
def test_a_wrong_size_is_one_line_naming_the_layer(layer, words):
    with pytest.raises(ArchcalcError) as found:
        archcalc.analyze(net(POOL, {"name": "L", **layer}))
    message = str(found.value)
    assert words in message and "L" in message and "\n" not in message


def test_a_crop_shifts_the_receptive_field_of_its_first_input_only():
    plain = archcalc.analyze(net({"name": "c", "type": "conv", "out_channels": 2, "kernel_size": 3}))
    cropped = archcalc.analyze(net({"name": "c", "type": "conv", "out_channels": 2, "kernel_size": 3},
                                   {"name": "p", "type": "maxpool", "kernel_size": 2, "from": "input"},
                                   {"name": "k", "type": "crop", "like": "p", "from": "c"}))
    base = plain.layers[-1].receptive_field
    crop = cropped.layers[-1].receptive_field
    # c is 10×10, p 6×6: the crop drops 2 rows and columns before, so its first pixel is c's third
    assert crop.size == base.size and crop.jump == base.jump
    assert crop.start == (base.start[0] + 2, base.start[1] + 2)


def test_upsampling_reports_no_receptive_field():
    report = archcalc.analyze(net({"type": "upsample", "scale_factor": 2}))
    assert report.layers[-1].receptive_field is None


def test_the_arithmetic_states_the_interpolation():
    report = archcalc.analyze(net({"name": "up", "type": "upsample", "scale_factor": 2, "mode": "bilinear"}))
    text = report.layers[-1].layer.arithmetic([(4, 12, 12)], (4, 24, 24)).macs
    # 4·24·24 = 2,304 output elements, 6 multiplications and 3 additions each
    assert "2,304" in text and "13,824" in text and "6,912" in text


@pytest.mark.parametrize("scales, found", [
    ([1, 1, 2, 3], {"mode": "nearest", "scale_factor": [2, 3]}),
    ([1, 1, 1.5, 2], {"mode": "nearest", "size": [6, 8]}),       # ⌊4 · 1.5⌋, ⌊4 · 2⌋ of a 3×4×4 map
    ([1, 1, float("nan"), 2], "positive numbers"),
    ([1, 1, -2, 2], "positive numbers"),
    ([1, 2, 2, 2], "keep the batch and channels"),
])
def test_an_onnx_resize_reads_as_upsample_or_says_why_not(scales, found):
    from archcalc.layers.foreign import Mismatch, OnnxNode, Site
    from archcalc.layers.resize import Upsample

    node = OnnxNode("Resize", {"mode": "nearest", "coordinate_transformation_mode": "asymmetric",
                               "nearest_mode": "floor"}, (None, None, np.array(scales, dtype=np.float32)),
                    site=Site((3, 4, 4)))
    if isinstance(found, dict):
        assert Upsample.from_onnx(node) == found
    else:
        with pytest.raises(Mismatch, match=found):
            Upsample.from_onnx(node)
