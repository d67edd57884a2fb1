"""The scaled families: `mobilenet_v1` (width multiplier α, resolution) against the MobileNet paper's
Tables 6-7, timm and a PyTorch implementation; `efficientnet` (width, depth, resolution) against
torchvision's efficientnet_b0 … b7.

Reference numbers: `tests/data/reference_scaling.json` (tools/reference_scaling.py: timm 1.0.31's
MobileNet v1 and torchvision 0.29.1's EfficientNets on the meta device; parameters() are our trainable
parameters, BatchNorm running statistics our non-trainable ones, Conv2d + Linear MACs our MACs).
Paper: Howard et al. 2017, arXiv 1704.04861, Table 6 (α at 224) and Table 7 (α = 1): million
mult-adds and million parameters, as printed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import archcalc

SCALING = json.loads((Path(__file__).parent / "data" / "reference_scaling.json").read_text())
MOBILENET = {k: v for k, v in SCALING["mobilenet_v1"].items() if k != "layout"}
EFFICIENTNET = SCALING["efficientnet"]
ALPHAS, RESOLUTIONS = [1.0, 0.75, 0.5, 0.25], [224, 192, 160, 128]
# Table 6: α → (million mult-adds, million parameters) at 224; Table 7: resolution → (the same) at α = 1
TABLE6 = {1.0: (569, 4.2), 0.75: (325, 2.6), 0.5: (149, 1.3), 0.25: (41, 0.5)}
TABLE7 = {224: (569, 4.2), 192: (418, 4.2), 160: (290, 4.2), 128: (186, 4.2)}
# docs/errata.md: the 160 row's layers make 290,675,200 mult-adds, 291 million (TensorFlow's own model
# table, research/slim/nets/mobilenet_v1.md, lists MobileNet_v1_1.0_160 at 291 million MACs)
TABLE7_ERRATA = {160: 291}


@pytest.fixture(scope="module")
def mobilenet_grid():
    rows = archcalc.sweep("mobilenet_v1", {"alpha": ALPHAS, "resolution": RESOLUTIONS})
    return {(r["alpha"], r["resolution"]): r for r in rows}


def test_mobilenet_v1_equals_timm_at_every_width_and_resolution(mobilenet_grid):
    assert len(mobilenet_grid) == len(MOBILENET) == 16
    for entry in MOBILENET.values():
        row = mobilenet_grid[(entry["alpha"], entry["resolution"])]
        assert row["error"] is None
        assert row["trainable_params"] == entry["params"]
        assert row["params"] - row["trainable_params"] == entry["bn_running_stats"]
        assert row["macs"] == entry["macs_conv_linear"]


def test_mobilenet_v1_layers_equal_timm_layout():
    report = archcalc.analyze("mobilenet_v1")
    weighted = [r for r in report.layers if r.type in ("conv", "linear")]
    layout = SCALING["mobilenet_v1"]["layout"]
    assert [r.name.replace("/", ".") for r in weighted] == [row["module"] for row in layout]
    assert [(r.trainable_params, r.macs, [1, *r.output_shape]) for r in weighted] == \
        [(row["params"], row["macs"], row["output_shape"]) for row in layout]


def test_mobilenet_v1_tables_6_and_7_to_the_papers_rounding(mobilenet_grid):
    for alpha, (mult_adds, params) in TABLE6.items():
        row = mobilenet_grid[(alpha, 224)]
        assert (round(row["macs"] / 1e6), round(row["trainable_params"] / 1e6, 1)) == (mult_adds, params)
    for resolution, (mult_adds, params) in TABLE7.items():
        row = mobilenet_grid[(1.0, resolution)]
        assert round(row["trainable_params"] / 1e6, 1) == params
        assert round(row["macs"] / 1e6) == TABLE7_ERRATA.get(resolution, mult_adds)
    assert mobilenet_grid[(1.0, 160)]["macs"] == 290_675_200


def mobilenet_v1_torch(alpha: float):
    """MobileNet v1 written in PyTorch from the paper's Table 1: a 3×3/2 stem, 13 depthwise-separable
    blocks (3×3 depthwise + BatchNorm + ReLU, 1×1 pointwise + BatchNorm + ReLU; the stride on the
    depthwise), global average pooling and a fully connected layer; channels α·c (whole numbers, and
    multiples of 8, for the paper's four α)."""
    from torch import nn

    def width(c):
        assert (c * alpha).is_integer() and c * alpha % 8 == 0
        return int(c * alpha)

    def conv_bn(cin, cout, kernel, stride, groups=1):
        return [nn.Conv2d(cin, cout, kernel, stride, kernel // 2, groups=groups, bias=False), nn.BatchNorm2d(cout),
                nn.ReLU(inplace=True)]

    table1 = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)] + [(512, 1)] * 5 + [(1024, 2), (1024, 1)]
    layers, cin = conv_bn(3, width(32), 3, 2), width(32)
    for filters, stride in table1:
        layers += conv_bn(cin, cin, 3, stride, groups=cin) + conv_bn(cin, width(filters), 1, 1)
        cin = width(filters)
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, 1000))


def torch_counts(model, resolution: int) -> tuple[int, int]:
    """(parameters, multiply-accumulates): torch's FlopCounterMode counts 2 FLOPs per multiply-add of
    its convolutions and matrix products, the only operations it counts."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        model(torch.zeros(1, 3, resolution, resolution, device="meta"))
    return sum(p.numel() for p in model.parameters()), counter.get_total_flops() // 2


@pytest.mark.parametrize(("alpha", "resolution"), [(a, 224) for a in ALPHAS] + [(1.0, r) for r in RESOLUTIONS[1:]])
def test_mobilenet_v1_equals_a_pytorch_implementation(mobilenet_grid, alpha, resolution):
    torch = pytest.importorskip("torch")
    with torch.device("meta"):
        model = mobilenet_v1_torch(alpha).eval()
    params, macs = torch_counts(model, resolution)
    row = mobilenet_grid[(alpha, resolution)]
    assert (row["trainable_params"], row["macs"]) == (params, macs)
    # the same layout as timm's MobileNet v1, whose numbers were recorded with timm itself
    timm = MOBILENET[f"{alpha:g}_{resolution}"]
    assert (params, macs) == (timm["params"], timm["macs_conv_linear"])


@pytest.fixture(scope="module")
def efficientnets():
    names = sorted(EFFICIENTNET)
    grid = {"width": [], "depth": [], "resolution": []}
    for name in names:
        for resolution in EFFICIENTNET[name]["macs_conv_linear_by_resolution"]:
            grid["width"].append(EFFICIENTNET[name]["scaling"]["width_mult"])
            grid["depth"].append(EFFICIENTNET[name]["scaling"]["depth_mult"])
            grid["resolution"].append(int(resolution))
    return archcalc.sweep("efficientnet", grid, zip=True)


def test_efficientnet_b0_to_b7_equal_torchvision_at_every_resolution(efficientnets):
    by_scaling = {(r["width"], r["depth"], r["resolution"]): r for r in efficientnets}
    assert len(by_scaling) == 72
    for entry in EFFICIENTNET.values():
        width, depth = entry["scaling"]["width_mult"], entry["scaling"]["depth_mult"]
        for resolution, macs in entry["macs_conv_linear_by_resolution"].items():
            row = by_scaling[(width, depth, int(resolution))]
            assert row["error"] is None
            assert row["trainable_params"] == entry["params"]
            assert row["params"] - row["trainable_params"] == entry["bn_running_stats"]
            assert row["macs"] == macs


def test_efficientnet_lists_each_variant_as_torchvision_builds_it():
    listed = archcalc.load("efficientnet").spec.reference["torchvision"]
    for name, entry in EFFICIENTNET.items():
        assert listed[name]["width"] == entry["scaling"]["width_mult"]
        assert listed[name]["depth"] == entry["scaling"]["depth_mult"]
        assert listed[name]["resolution"] == entry["resolution"]
        assert (listed[name]["params"], listed[name]["macs"]) == (entry["params"], entry["macs_conv_linear"])


def test_efficientnet_b0_is_the_family_at_its_defaults():
    family, b0 = archcalc.analyze("efficientnet"), archcalc.analyze("efficientnet_b0")
    assert [r.to_dict() for r in family.layers] == [r.to_dict() for r in b0.layers]
    assert b0.totals.trainable_params == EFFICIENTNET["b0"]["params"]
