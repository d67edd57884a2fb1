"""PyTorch's ways of resizing (the Upsample modules, F.interpolate, slicing rows and columns) imported
as `upsample` and `crop`, and run by archcalc's executor as PyTorch runs them."""

from __future__ import annotations

import numpy as np
import pytest

import archcalc

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


class SkipSized(torch.nn.Module):
    """A decoder step as U-Net and torchvision's segmentation heads write it: the size of another map
    read while tracing (`x.shape[-2:]`, or as GhostNetV2 writes it `(x.shape[-2], x.shape[-1])`), and the
    result returned in a mapping."""

    def __init__(self, by_axis: bool = False):
        super().__init__()
        self.down = torch.nn.Conv2d(3, 4, 3, stride=2)
        self.by_axis = by_axis

    def forward(self, x):
        size = (x.shape[-2], x.shape[-1]) if self.by_axis else x.shape[-2:]
        y = torch.nn.functional.interpolate(self.down(x), size=size, mode="bilinear", align_corners=False)
        return {"out": y}


@pytest.mark.parametrize("by_axis", [False, True], ids=["shape[-2:]", "(shape[-2], shape[-1])"])
def test_a_size_read_from_another_map_imports_as_its_second_input(by_axis):
    model = SkipSized(by_axis).double().eval()
    mapping = archcalc.import_model(model, input=(3, 11, 9))
    up = next(layer for layer in mapping["layers"] if layer["type"] == "upsample")
    assert up["from"][-1] == "input" and "size" not in up
    report = archcalc.analyze(mapping, input=(3, 14, 10))           # any input: the size follows it
    assert report.layers[-1].output_shape == (4, 14, 10)
    x = np.random.default_rng(2).normal(size=(2, 3, 14, 10))
    weights = {f"down.{k}": v.numpy() for k, v in model.down.state_dict().items()}
    ours = archcalc.execute(report.architecture, x, weights, dtype="float64")
    np.testing.assert_allclose(ours, model(torch.from_numpy(x))["out"].detach().numpy(), rtol=1e-10, atol=1e-12)


class TwoHeads(torch.nn.Module):
    """A network returning two maps, as a tuple."""

    def __init__(self):
        super().__init__()
        self.body = torch.nn.Conv2d(3, 4, 3, padding=1)
        self.main, self.aux = torch.nn.Conv2d(4, 2, 1), torch.nn.Conv2d(4, 5, 1)

    def forward(self, x):
        y = self.body(x)
        return self.main(y), self.aux(y)


def test_a_model_returning_several_maps_imports_with_outputs():
    model = TwoHeads().double().eval()
    mapping = archcalc.import_model(model, input=(3, 6, 7))
    assert mapping["outputs"] == {"out0": "main", "out1": "aux"}
    report = archcalc.analyze(mapping)
    x = np.random.default_rng(4).normal(size=(2, 3, 6, 7))
    weights = {k: v.numpy() for k, v in model.state_dict().items()}
    ours = archcalc.execute(report.architecture, x, weights, dtype="float64")
    theirs = model(torch.from_numpy(x))
    for key, value in zip(("out0", "out1"), theirs):
        np.testing.assert_allclose(ours[key], value.detach().numpy(), rtol=1e-10, atol=1e-12)
