"""The layer types over one and three spatial axes ((C, L) audio, (C, T, H, W) video: `conv1d`, `conv3d`,
`convtranspose1d/3d`, max/avg/adaptive pooling 1d/3d, and `batchnorm`, global pooling on those maps)
against PyTorch's own functions and modules.

`CASES` join the forward cross-check of every type in tests/test_execute_layers.py (our forward against
the reference expression below, float32 and float64, and the registry's round trips); the tests here
hold output shapes, parameter counts and state_dict shapes to PyTorch's modules, MACs to the formula
written out by hand, and the shape errors to one clear line.
"""

from __future__ import annotations

import numpy as np
import pytest

import archcalc
from archcalc.report import render, to_table

torch = pytest.importorskip("torch")
F = torch.nn.functional
nn = torch.nn


def single(layer: dict, shape: list[int]) -> dict:
    return {"name": "case", "input": shape, "layers": [{"name": "L", **layer}]}


CASES = {
    # id: (architecture mapping, reference(x, weights) -> tensor); the case named after a type is its sample
    "conv1d": (single({"type": "conv1d", "out_channels": 6, "kernel_size": 5, "stride": 2, "padding": 3,
                       "dilation": 2, "groups": 2, "bias": False}, [4, 31]),
               lambda x, w: F.conv1d(x, w["L.weight"], None, 2, 3, 2, 2)),
    "conv1d-same": (single({"type": "conv1d", "out_channels": 3, "kernel_size": 4, "padding": "same"}, [2, 17]),
                    lambda x, w: F.conv1d(F.pad(x, (1, 2)), w["L.weight"], w["L.bias"])),
    "conv1d-asymmetric": (single({"type": "conv1d", "out_channels": 3, "kernel_size": 3, "stride": 2,
                                  "padding": [0, 1]}, [2, 12]),
                          lambda x, w: F.conv1d(F.pad(x, (0, 1)), w["L.weight"], w["L.bias"], 2)),
    "conv1d-depthwise": (single({"type": "conv1d", "out_channels": 4, "kernel_size": 3, "groups": 4}, [4, 10]),
                         lambda x, w: F.conv1d(x, w["L.weight"], w["L.bias"], groups=4)),
    "conv3d": (single({"type": "conv3d", "out_channels": 4, "kernel_size": [3, 2, 3], "stride": [1, 2, 2],
                       "padding": [1, 0, 1], "dilation": [2, 1, 1], "groups": 2, "bias": False}, [4, 7, 9, 8]),
               lambda x, w: F.conv3d(x, w["L.weight"], None, (1, 2, 2), (1, 0, 1), (2, 1, 1), 2)),
    "conv3d-c3d": (single({"type": "conv3d", "out_channels": 5, "kernel_size": 3, "padding": 1}, [3, 4, 6, 6]),
                   lambda x, w: F.conv3d(x, w["L.weight"], w["L.bias"], 1, 1)),
    "conv3d-stride-time": (single({"type": "conv3d", "out_channels": 3, "kernel_size": [3, 1, 1], "stride": [2, 1, 1],
                                   "padding": [1, 0, 0]}, [2, 7, 3, 4]),
                           lambda x, w: F.conv3d(x, w["L.weight"], w["L.bias"], (2, 1, 1), (1, 0, 0))),
    "conv3d-same": (single({"type": "conv3d", "out_channels": 3, "kernel_size": [2, 3, 3], "stride": 2,
                            "padding": "same"}, [2, 5, 7, 6]),
                    # `same`, stride 2: T 5 → 3 pads (0, 1); H 7 → 4 pads (1, 1); W 6 → 3 pads (0, 1)
                    lambda x, w: F.conv3d(F.pad(x, (0, 1, 1, 1, 0, 1)), w["L.weight"], w["L.bias"], 2)),
    "conv3d-depthwise": (single({"type": "conv3d", "out_channels": 3, "kernel_size": 3, "padding": 1, "groups": 3},
                                [3, 4, 5, 5]),
                         lambda x, w: F.conv3d(x, w["L.weight"], w["L.bias"], 1, 1, 1, 3)),
    "convtranspose1d": (single({"type": "convtranspose1d", "out_channels": 4, "kernel_size": 4, "stride": 2,
                                "padding": 1, "output_padding": 1, "groups": 2}, [2, 9]),
                        lambda x, w: F.conv_transpose1d(x, w["L.weight"], w["L.bias"], 2, 1, 1, 2)),
    "convtranspose3d": (single({"type": "convtranspose3d", "out_channels": 3, "kernel_size": [2, 3, 3],
                                "stride": [1, 2, 2], "padding": [0, 1, 1], "output_padding": [0, 1, 0],
                                "dilation": [2, 1, 1]}, [2, 3, 4, 5]),
                        lambda x, w: F.conv_transpose3d(x, w["L.weight"], w["L.bias"], (1, 2, 2), (0, 1, 1), (0, 1, 0),
                                                        1, (2, 1, 1))),
    "maxpool1d": (single({"type": "maxpool1d", "kernel_size": 3, "stride": 2, "padding": 1, "dilation": 2}, [3, 14]),
                  lambda x, w: F.max_pool1d(x, 3, 2, 1, 2)),
    "maxpool1d-ceil": (single({"type": "maxpool1d", "kernel_size": 3, "stride": 2, "padding": 1, "dilation": 2,
                               "ceil_mode": True}, [3, 14]),
                       lambda x, w: F.max_pool1d(x, 3, 2, 1, 2, ceil_mode=True)),
    "maxpool3d": (single({"type": "maxpool3d", "kernel_size": [1, 3, 3], "stride": [1, 2, 2], "padding": [0, 1, 1]},
                         [2, 3, 8, 9]),
                  lambda x, w: F.max_pool3d(x, (1, 3, 3), (1, 2, 2), (0, 1, 1))),
    "maxpool3d-ceil": (single({"type": "maxpool3d", "kernel_size": [1, 3, 3], "stride": [1, 2, 2],
                               "padding": [0, 1, 1], "ceil_mode": True}, [2, 3, 8, 9]),
                       lambda x, w: F.max_pool3d(x, (1, 3, 3), (1, 2, 2), (0, 1, 1), ceil_mode=True)),
    "maxpool3d-c3d": (single({"type": "maxpool3d", "kernel_size": 2, "stride": 2, "padding": [0, 1, 1]}, [2, 4, 7, 7]),
                      lambda x, w: F.max_pool3d(x, 2, 2, (0, 1, 1))),
    "avgpool1d": (single({"type": "avgpool1d", "kernel_size": 4, "stride": 3, "padding": 2,
                          "count_include_pad": False, "ceil_mode": True}, [3, 16]),
                  lambda x, w: F.avg_pool1d(x, 4, 3, 2, True, False)),
    "avgpool3d": (single({"type": "avgpool3d", "kernel_size": [2, 3, 3], "stride": [2, 2, 2], "padding": [1, 1, 1],
                          "count_include_pad": False}, [2, 5, 7, 6]),
                  lambda x, w: F.avg_pool3d(x, (2, 3, 3), 2, 1, count_include_pad=False)),
    "avgpool3d-asymmetric": (single({"type": "avgpool3d", "kernel_size": 2, "padding": [0, 1, 1, 0, 0, 1]},
                                    [2, 5, 5, 5]),
                             lambda x, w: F.avg_pool3d(F.pad(x, (0, 1, 1, 0, 0, 1)), 2)),
    # a type's sample pools whole multiples (ONNX's pooling has windows of one size); the others do not
    "adaptiveavgpool1d": (single({"type": "adaptiveavgpool1d", "output_size": 5}, [3, 10]),
                          lambda x, w: F.adaptive_avg_pool1d(x, 5)),
    "adaptiveavgpool1d-uneven": (single({"type": "adaptiveavgpool1d", "output_size": 4}, [3, 10]),
                                 lambda x, w: F.adaptive_avg_pool1d(x, 4)),
    "adaptiveavgpool3d": (single({"type": "adaptiveavgpool3d", "output_size": [1, 3, 2]}, [3, 4, 6, 4]),
                          lambda x, w: F.adaptive_avg_pool3d(x, (1, 3, 2))),
    "adaptiveavgpool3d-uneven": (single({"type": "adaptiveavgpool3d", "output_size": [1, 3, 2]}, [3, 4, 7, 5]),
                                 lambda x, w: F.adaptive_avg_pool3d(x, (1, 3, 2))),
    "adaptivemaxpool1d": (single({"type": "adaptivemaxpool1d", "output_size": 2}, [3, 10]),
                          lambda x, w: F.adaptive_max_pool1d(x, 2)),
    "adaptivemaxpool3d": (single({"type": "adaptivemaxpool3d", "output_size": 2}, [2, 4, 6, 8]),
                          lambda x, w: F.adaptive_max_pool3d(x, 2)),
    "adaptivemaxpool3d-uneven": (single({"type": "adaptivemaxpool3d", "output_size": 2}, [2, 5, 7, 6]),
                                 lambda x, w: F.adaptive_max_pool3d(x, 2)),
    "zeropad1d": (single({"type": "zeropad1d", "padding": [2, 1]}, [3, 7]), lambda x, w: F.pad(x, (2, 1))),
    "zeropad3d": (single({"type": "zeropad3d", "padding": [1, 0, 0, 2, 3, 1]}, [2, 3, 4, 5]),
                  lambda x, w: F.pad(x, (3, 1, 0, 2, 1, 0))),
    "zeropad3d-even": (single({"type": "zeropad3d", "padding": [1, 2, 3]}, [2, 3, 4, 5]),
                       lambda x, w: F.pad(x, (3, 3, 2, 2, 1, 1))),
    "batchnorm-1d-map": (single({"type": "batchnorm", "eps": 1e-3}, [4, 9]),
                         lambda x, w: F.batch_norm(x, w["L.running_mean"], w["L.running_var"], w["L.weight"],
                                                   w["L.bias"], False, 0.1, 1e-3)),
    "batchnorm-3d": (single({"type": "batchnorm"}, [3, 4, 5, 5]),
                     lambda x, w: F.batch_norm(x, w["L.running_mean"], w["L.running_var"], w["L.weight"],
                                               w["L.bias"], False, 0.1, 1e-5)),
    "globalavgpool-3d": (single({"type": "globalavgpool", "keepdims": False}, [3, 4, 5, 6]),
                         lambda x, w: x.mean((2, 3, 4))),
    "globalmaxpool-1d": (single({"type": "globalmaxpool"}, [3, 11]),
                         lambda x, w: F.adaptive_max_pool1d(x, 1)),
}


def _module_for(mapping: dict):
    """The PyTorch module of the one layer of a case, built from its arguments as PyTorch names them."""
    layer = {k: v for k, v in mapping["layers"][0].items() if k not in ("name", "type")}
    kind, c = mapping["layers"][0]["type"], mapping["input"][0]
    if kind.startswith("conv"):
        padding = layer.pop("padding", 0)
        cls = {"conv1d": nn.Conv1d, "conv3d": nn.Conv3d, "convtranspose1d": nn.ConvTranspose1d,
               "convtranspose3d": nn.ConvTranspose3d}[kind]
        if isinstance(padding, str) or isinstance(padding, list) and len(padding) == 2 * len(mapping["input"][1:]):
            return None  # `same` (refused with a stride) or asymmetric: PyTorch's module has no such padding
        return cls(c, layer.pop("out_channels"), padding=padding, **layer)
    return None


@pytest.mark.parametrize("case", [k for k in CASES if k.startswith("conv") and _module_for(CASES[k][0])])
def test_output_shape_and_state_dict_equal_pytorch_modules(case):
    mapping, _ = CASES[case]
    module = _module_for(mapping)
    report = archcalc.analyze(mapping)
    record = report.layer("L")
    with torch.no_grad():
        out = module(torch.zeros(1, *mapping["input"]))
    assert record.output_shape == tuple(out.shape[1:])
    state = {key: tuple(value.shape) for key, value in module.state_dict().items()}
    assert {p.name: p.shape for p in record.param_tensors} == state
    assert report.totals.params == sum(p.numel() for p in module.parameters())


def test_conv3d_macs_are_output_positions_times_filter_work():
    # C3D's conv1a on 3×16×112×112: 64 filters of 3×3×3×3, padding 1 keeps 16×112×112 positions
    report = archcalc.analyze(single({"type": "conv3d", "out_channels": 64, "kernel_size": 3, "padding": 1},
                                     [3, 16, 112, 112]))
    record = report.layer("L")
    assert record.output_shape == (64, 16, 112, 112)
    assert record.params == 3 * 27 * 64 + 64 == 5248
    assert record.macs == 16 * 112 * 112 * 64 * (3 * 27)


def test_conv1d_macs_and_receptive_field():
    # M5's first layer on 1×32000: 128 filters of 80 samples, stride 4 → (32000 − 80)/4 + 1 = 7981
    report = archcalc.analyze({"name": "m", "input": [1, 32000], "layers": [
        {"name": "c", "type": "conv1d", "out_channels": 128, "kernel_size": 80, "stride": 4},
        {"name": "p", "type": "maxpool1d", "kernel_size": 4}]})
    conv, pool = report.layer("c"), report.layer("p")
    assert conv.output_shape == (128, 7981)
    assert conv.macs == 7981 * 128 * 80
    assert conv.receptive_field.size == (80,) and conv.receptive_field.jump == (4,)
    assert pool.output_shape == (128, 1995)
    assert pool.receptive_field.size == (80 + 3 * 4,) and pool.receptive_field.jump == (16,)


def test_receptive_field_per_axis_of_a_video_stem():
    # r2plus1d's spatial then temporal stem: 1×7×7/1×2×2 then 3×1×1: field 3×7×7, jump 1×2×2
    report = archcalc.analyze({"name": "v", "input": [3, 16, 112, 112], "layers": [
        {"name": "s", "type": "conv3d", "out_channels": 45, "kernel_size": [1, 7, 7], "stride": [1, 2, 2],
         "padding": [0, 3, 3]},
        {"name": "t", "type": "conv3d", "out_channels": 64, "kernel_size": [3, 1, 1], "padding": [1, 0, 0]}]})
    field = report.layer("t").receptive_field
    assert field.size == (3, 7, 7) and field.jump == (1, 2, 2)
    assert report.layer("t").output_shape == (64, 16, 56, 56)


def test_table_shows_lengths_and_frames():
    report = archcalc.analyze(CASES["conv3d-c3d"][0])
    table = render(to_table(report), "terminal", color=False, width=400)
    assert "3×4×6×6" in table and "5×4×6×6" in table and "3×3×3/1 p1" in table
    audio = render(to_table(archcalc.analyze(CASES["conv1d"][0])), "terminal", color=False, width=400)
    assert "4×31" in audio and "6×15" in audio


@pytest.mark.parametrize("layer, shape, words", [
    ({"type": "conv3d", "out_channels": 4, "kernel_size": 3}, [3, 8, 8], "conv3d needs a (C, T, H, W) input"),
    ({"type": "conv1d", "out_channels": 4, "kernel_size": 3}, [3, 8, 8], "conv1d needs a (C, L) input"),
    ({"type": "maxpool3d", "kernel_size": 2}, [3, 8], "maxpool3d needs a (C, T, H, W) input"),
    ({"type": "conv3d", "out_channels": 4, "kernel_size": [3, 3]}, [3, 4, 8, 8], "kernel_size"),
    ({"type": "conv1d", "out_channels": 4, "kernel_size": 5, "padding": [1, 2, 3]}, [3, 8], "padding"),
    ({"type": "conv", "out_channels": 4, "kernel_size": 3}, [3, 4, 8, 8], "conv needs a (C, H, W) input"),
])
def test_a_map_of_the_wrong_rank_is_one_clear_line(layer, shape, words):
    with pytest.raises(archcalc.ArchcalcError, match=r"L.*" + words.replace("(", r"\(").replace(")", r"\)")):
        archcalc.analyze(single(layer, shape))


def test_numpy_conv3d_and_pools_match_pytorch_on_a_c3d_block():
    """A C3D block (conv 3×3×3 pad 1, relu, pool 1×2×2) end to end in float64 against PyTorch's modules."""
    mapping = {"name": "b", "input": [3, 4, 8, 8], "layers": [
        {"name": "c", "type": "conv3d", "out_channels": 4, "kernel_size": 3, "padding": 1, "activation": "relu"},
        {"name": "p", "type": "maxpool3d", "kernel_size": [1, 2, 2]}]}
    arch = archcalc.load(mapping)
    weights = archcalc.init_weights(arch, seed=2)
    x = np.random.default_rng(5).normal(size=(2, 3, 4, 8, 8))
    ours = archcalc.execute(arch, x, weights, dtype="float64")
    conv = nn.Conv3d(3, 4, 3, padding=1).double()
    conv.load_state_dict({"weight": torch.as_tensor(weights["c.weight"]), "bias": torch.as_tensor(weights["c.bias"])})
    with torch.no_grad():
        expected = F.max_pool3d(torch.relu(conv(torch.as_tensor(x))), (1, 2, 2)).numpy()
    np.testing.assert_allclose(ours, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kind, shape", [("conv1d", [3, 20]), ("conv3d", [3, 4, 6, 6])])
def test_a_batchnorm_folded_into_a_1d_or_3d_convolution_computes_what_pytorch_does(kind, shape):
    """The inference plan merges a BatchNorm into the convolution before it: the result is PyTorch's
    convolution then BatchNorm (running statistics), float64."""
    mapping = {"name": "f", "input": shape, "layers": [
        {"name": "c", "type": kind, "out_channels": 4, "kernel_size": 3, "stride": 2, "padding": 1},
        {"name": "b", "type": "batchnorm", "eps": 1e-3}, {"name": "r", "type": "relu"}]}
    arch = archcalc.load(mapping)
    weights = archcalc.init_weights(arch, seed=4, random_stats=True)
    x = np.random.default_rng(6).normal(size=(2, *shape))
    ours = archcalc.execute(arch, x, weights, dtype="float64")
    w = {key: torch.as_tensor(value) for key, value in weights.items()}
    convolve = F.conv1d if kind == "conv1d" else F.conv3d
    with torch.no_grad():
        y = convolve(torch.as_tensor(x), w["c.weight"], w["c.bias"], 2, 1)
        expected = torch.relu(F.batch_norm(y, w["b.running_mean"], w["b.running_var"], w["b.weight"], w["b.bias"],
                                           False, 0.1, 1e-3)).numpy()
    np.testing.assert_allclose(ours, expected, rtol=1e-10, atol=1e-12 * max(1.0, float(np.abs(expected).max())))


def test_the_vectors_after_a_flatten_keep_the_last_field_of_a_clip_as_of_an_image():
    """conventions.md: flatten's window is the whole map, and the vectors after it keep that field."""
    for shape, field in (([3, 8, 8], (8, 8)), ([3, 4, 8, 8], (4, 8, 8)), ([3, 8], (8,))):
        report = archcalc.analyze({"name": "v", "input": shape, "layers": [
            {"name": "f", "type": "flatten"}, {"name": "fc", "type": "linear", "out_features": 2},
            {"name": "r", "type": "relu"}]})
        assert [report.layer(n).receptive_field.size for n in ("f", "fc", "r")] == [field] * 3
