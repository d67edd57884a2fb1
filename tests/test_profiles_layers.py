"""Count profiles on the layer types no torchvision model uses (LRN, transposed convolution, PReLU,
Softmax, sum pooling, the rarer activations and pools, merges, group norm, Keras's Normalization and
Rescaling, upsampling, cropping and L2 normalisation) and on ConvNeXt's one at a time: each small network below is the
archcalc twin of a plain-torch network in tools/reference_counts.py (`LAYER_MODELS`), and the
expected totals are what fvcore, ptflops (three settings), thop, torchinfo and torch's FlopCounterMode reported on
that torch network (tests/data/reference_layer_counts.json, `--layer-models`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import archcalc

REFERENCE = json.loads((Path(__file__).parent / "data" / "reference_layer_counts.json").read_text())
MODELS = REFERENCE["models"]
# profile -> where its tool's total is recorded (keys into a model's entry)
TOTAL_KEYS = {"fvcore": ("fvcore", "total"), "ptflops": ("ptflops", "pytorch", "macs"),
              "ptflops-modules": ("ptflops", "pytorch_no_functional", "macs"),
              "ptflops-aten": ("ptflops", "aten", "macs"),
              "thop": ("thop", "macs"), "torchinfo": ("torchinfo", "total_mult_adds"),
              "torch": ("torch_flop_counter", "total_flops"), "torch-train": ("torch_flop_counter", "total_flops")}

CONV = {"name": "conv", "type": "conv", "out_channels": 8, "kernel_size": 3, "padding": 1}


def after_conv(*layers: dict, **file_keys) -> dict:
    """The twin of tools/reference_counts.py `_after_conv`: Conv2d(3, 8, 3, padding=1), then `layers`."""
    return {"name": "twin", "input": [3, 16, 16], "layers": [CONV, *layers], **file_keys}


TWINS = {
    "lrn": after_conv({"type": "lrn", "size": 5}),
    "convtranspose": after_conv({"type": "convtranspose", "out_channels": 4, "kernel_size": 3, "stride": 2,
                                 "padding": 1, "output_padding": 1}),
    "convtranspose-grouped": after_conv({"type": "convtranspose", "out_channels": 4, "kernel_size": 3, "stride": 2,
                                         "groups": 2, "bias": False}),
    "prelu": after_conv({"type": "prelu", "num_parameters": 8}),
    "prelu-shared": after_conv({"type": "prelu"}),
    "softmax": after_conv({"type": "softmax"}),
    "sumpool": after_conv({"type": "sumpool", "kernel_size": 2}),
    "avgpool-padded": after_conv({"type": "avgpool", "kernel_size": 3, "stride": 2, "padding": 1}),
    "maxpool-ceil": after_conv({"type": "maxpool", "kernel_size": 3, "stride": 2, "ceil_mode": True}),
    "adaptivemaxpool": after_conv({"type": "adaptivemaxpool", "output_size": 4}),
    "globalmaxpool": after_conv({"type": "globalmaxpool"}),
    **{kind: after_conv({"type": kind}) for kind in
       ("elu", "leakyrelu", "tanh", "sigmoid", "gelu", "hardsigmoid", "silu", "hardswish", "relu6")},
    "batchnorm-plain": after_conv({"type": "batchnorm", "affine": False}),
    "batchnorm-batchstats": after_conv({"type": "batchnorm", "track_running_stats": False}),
    "linear-nobias": after_conv({"type": "flatten"}, {"type": "dropout"},
                                {"type": "linear", "out_features": 10, "bias": False}),
    # torch's ZeroPad2d((1, 2, 0, 1)) is (left, right, top, bottom); archcalc writes (top, bottom, left, right)
    "zeropad": after_conv({"type": "zeropad", "padding": [0, 1, 1, 2]}),
    "channelshuffle": after_conv({"type": "channelshuffle", "groups": 2}),
    # torch.cat([torch.add(a, b), a * b], 1)[:, :12]
    "branches": {"name": "twin", "input": [3, 16, 16],
                 "calls": {"add:*": "functional", "multiply:*": "operator"},
                 "layers": [{**CONV, "name": "a"}, {**CONV, "name": "b", "from": "input"},
                            {"name": "add", "type": "add", "from": ["a", "b"]},
                            {"name": "mul", "type": "multiply", "from": ["a", "b"]},
                            {"name": "cat", "type": "concat", "from": ["add", "mul"]},
                            {"name": "slice", "type": "slice", "end": 12}]},
    # ConvNeXt's types: nn.LayerNorm and nn.Linear on a channels-last view are layernorm and pointlinear
    # on the map; LayerNorm2d, a subclass no hook table knows, runs F.layer_norm (call: functional)
    "layernorm": after_conv({"type": "layernorm"}),
    "layernorm-plain": after_conv({"type": "layernorm", "elementwise_affine": False}),
    "layernorm2d": after_conv({"name": "ln", "type": "layernorm", "eps": 1e-6}, calls={"layernorm:*": "functional"}),
    "groupnorm": after_conv({"type": "groupnorm", "num_groups": 2}),
    "groupnorm-plain": after_conv({"type": "groupnorm", "num_groups": 4, "affine": False}),
    # `gamma * x`, and torch.mul(x, gamma)
    "layerscale": after_conv({"type": "layerscale"}, calls={"layerscale:*": "operator"}),
    "layerscale-mul": after_conv({"type": "layerscale"}, calls={"layerscale:*": "functional"}),
    "pointlinear": after_conv({"type": "layernorm"}, {"type": "pointlinear", "out_features": 12}),
    "pointlinear-nobias": after_conv({"type": "pointlinear", "out_features": 12, "bias": False}, {"type": "gelu"}),
    "permute-flatten": after_conv({"type": "permute", "dims": [1, 2, 0]}, {"type": "flatten"},
                                  {"type": "linear", "out_features": 10}),
    "stochasticdepth": after_conv({"type": "stochasticdepth", "p": 0.2}),
    # Keras layers written as tensor operators: (x - mean) / sqrt(variance); x * (1/127.5) - 1
    "normalization": after_conv({"type": "normalization"}),
    "rescaling": after_conv({"type": "rescaling", "scale": 1 / 127.5, "offset": -1}),
    # nn.Upsample (its hook and the F.interpolate it runs) and F.interpolate alone; x[:, :, 1:-2, 0:-3]
    "upsample-nearest": after_conv({"type": "upsample", "scale_factor": 2}),
    "upsample-bilinear": after_conv({"type": "upsample", "scale_factor": [2, 3], "mode": "bilinear"}),
    "upsample-bilinear-corners": after_conv({"type": "upsample", "size": [20, 24], "mode": "bilinear",
                                             "align_corners": True}),
    "interpolate-nearest": after_conv({"type": "upsample", "size": [13, 17]}, calls={"upsample:*": "functional"}),
    "interpolate-bilinear": after_conv({"type": "upsample", "size": [13, 17], "mode": "bilinear"},
                                       calls={"upsample:*": "functional"}),
    "crop": after_conv({"type": "crop", "cropping": [1, 2, 0, 3]}, calls={"crop:*": "operator"}),
    "l2norm": after_conv({"type": "l2norm"}, calls={"l2norm:*": "functional"}),
    # a - b and torch.sub(a, b) of two convolutions of the input
    **{name: {"name": "twin", "input": [3, 16, 16], "calls": {"subtract:*": call},
              "layers": [{**CONV, "name": "a"}, {**CONV, "name": "b", "from": "input"},
                         {"name": "sub", "type": "subtract", "from": ["a", "b"]}]}
       for name, call in (("subtract", "operator"), ("subtract-sub", "functional"))},
    # timm's StarReLU and SquaredReLU (an nn.ReLU inside each), BlurPool2d (its filter a buffer state_dict omits)
    "starrelu": after_conv({"type": "starrelu"}),
    "squaredrelu": after_conv({"type": "squaredrelu"}),
    "blurpool": after_conv({"type": "blurpool"}),
    "blurpool-constant": after_conv({"type": "blurpool", "filt_size": 5, "pad_mode": "constant"}),
}


def test_every_recorded_network_has_a_twin():
    assert set(TWINS) == set(MODELS)


@pytest.mark.parametrize("model", sorted(TWINS))
def test_the_twin_has_the_torch_network_parameters_and_output_shape(model):
    report = archcalc.analyze(TWINS[model])
    assert list(report.layers[-1].output_shape) == MODELS[model]["output_shape"]
    totals = report.totals
    assert totals.trainable_params == MODELS[model]["trainable_params"]
    # BatchNorm's running statistics, or (no BatchNorm) every buffer state_dict holds: the Keras Normalization's
    # mean, variance, count (not BlurPool2d's filter, a non-persistent buffer: a constant, not a parameter)
    assert totals.non_trainable_params == (MODELS[model]["bn_running_stats"] or MODELS[model]["buffers_saved"])


@pytest.mark.parametrize("tool", list(TOTAL_KEYS))
@pytest.mark.parametrize("model", sorted(TWINS))
def test_profile_reproduces_tool_total_on_the_layer_type(model, tool):
    *keys, field = TOTAL_KEYS[tool]
    cell = MODELS[model]
    for key in keys:
        cell = cell[key]
    assert isinstance(cell, dict) and "error" not in cell, cell
    assert archcalc.analyze(TWINS[model], count=tool).totals.flops == cell[field]
