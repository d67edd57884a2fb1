"""`upsample` and `crop` beyond the per-type contract: `like:` in a file, the errors of their
arguments, the receptive field through a crop, and PyTorch's ways of writing them imported and run."""

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


torch = pytest.importorskip("torch")
F = torch.nn.functional


class Decoder(torch.nn.Module):
    """PyTorch's ways of resizing: the Upsample modules, F.interpolate, and slicing rows and columns."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3)
        self.corners = torch.nn.UpsamplingBilinear2d(scale_factor=2)
        self.nearest = torch.nn.UpsamplingNearest2d(size=(20, 21))
        self.up = torch.nn.Upsample(scale_factor=3, mode="bilinear")

    def forward(self, x):
        y = self.conv(x)                                    # 4×8×8
        a, b, c = self.corners(y), self.nearest(y), self.up(y)
        d = F.interpolate(y, size=(13, 17), mode="bilinear", align_corners=False)
        return torch.cat([F.interpolate(b, scale_factor=2)[:, :, :12, :12], d[:, :, :12, :12],
                          a[:, :, 2:-2, 1:13], c[..., 3:15, 3:15]], 1)


def test_pytorch_resizing_imports_and_runs_as_pytorch():
    model = Decoder().double().eval()
    mapping = archcalc.import_model(model, input=(3, 10, 10))
    types = [layer["type"] for layer in mapping["layers"]]
    assert types.count("upsample") == 5 and types.count("crop") == 4
    report = archcalc.analyze(mapping)
    weights = {f"conv.{k}": v.numpy() for k, v in model.conv.state_dict().items()}
    x = np.random.default_rng(0).normal(size=(2, 3, 10, 10))
    ours = archcalc.execute(report.architecture, x, weights, dtype="float64")
    theirs = model(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)
