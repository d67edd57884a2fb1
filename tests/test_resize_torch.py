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
