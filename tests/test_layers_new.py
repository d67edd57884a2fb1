"""The layer types of ConvNeXt, RegNet, EfficientNetV2 and Keras's input layers (`layernorm`,
`groupnorm`, `layerscale`, `pointlinear`, `permute`, `stochasticdepth`, `normalization`,
`rescaling`) against PyTorch's own functions and modules.

`CASES` join the forward cross-check of every type in tests/test_execute_layers.py (our forward
against the reference expression below, float32 and float64); the tests here hold parameter
counts and state_dict shapes to PyTorch's modules, and the shape errors to one clear line.
"""

from __future__ import annotations

import numpy as np
import pytest

import archcalc

torch = pytest.importorskip("torch")
F = torch.nn.functional


def single(layer: dict, shape: list[int]) -> dict:
    return {"name": "case", "input": shape, "layers": [{"name": "L", **layer}]}


def channels_last(function):
    """`function` applied to an N×H×W×C view of an N×C×H×W tensor, as ConvNeXt's blocks run it."""
    return lambda x: function(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


def per_channel(values, x):
    return values.reshape((-1,) + (1,) * (x.dim() - 2))


CASES = {
    # id: (architecture mapping, reference(x, weights) -> tensor)
    "layernorm": (single({"type": "layernorm", "eps": 1e-3}, [5, 3, 4]),
                  lambda x, w: channels_last(lambda t: F.layer_norm(t, (5,), w["L.weight"], w["L.bias"], 1e-3))(x)),
    "layernorm-map": (single({"type": "layernorm", "eps": 1e-6}, [6, 4, 5]),
                      lambda x, w: channels_last(lambda t: F.layer_norm(t, (6,), w["L.weight"], w["L.bias"], 1e-6))(x)),
    "layernorm-plain": (single({"type": "layernorm", "elementwise_affine": False}, [5, 3, 3]),
                        lambda x, w: channels_last(lambda t: F.layer_norm(t, (5,)))(x)),
    "layernorm-vector": (single({"type": "layernorm"}, [12]),
                         lambda x, w: F.layer_norm(x, (12,), w["L.weight"], w["L.bias"])),
    "groupnorm": (single({"type": "groupnorm", "num_groups": 3}, [6, 4, 4]),
                  lambda x, w: F.group_norm(x, 3, w["L.weight"], w["L.bias"])),
    "groupnorm-plain-eps": (single({"type": "groupnorm", "num_groups": 2, "eps": 1e-3, "affine": False}, [4, 3, 5]),
                            lambda x, w: F.group_norm(x, 2, eps=1e-3)),
    "groupnorm-vector": (single({"type": "groupnorm", "num_groups": 4}, [8]),
                         lambda x, w: F.group_norm(x, 4, w["L.weight"], w["L.bias"])),
    "layerscale": (single({"type": "layerscale", "init": 0.5}, [4, 3, 3]),
                   lambda x, w: x * per_channel(w["L.gamma"], x)),
    "pointlinear": (single({"type": "pointlinear", "out_features": 7}, [5, 3, 4]),
                    lambda x, w: channels_last(lambda t: F.linear(t, w["L.weight"], w["L.bias"]))(x)),
    "pointlinear-nobias": (single({"type": "pointlinear", "out_features": 3, "bias": False}, [6, 2, 2]),
                           lambda x, w: channels_last(lambda t: F.linear(t, w["L.weight"]))(x)),
    "permute": (single({"type": "permute", "dims": [1, 2, 0]}, [3, 4, 5]), lambda x, w: x.permute(0, 2, 3, 1)),
    "permute-hw": (single({"type": "permute", "dims": [0, 2, 1]}, [2, 3, 4]), lambda x, w: x.transpose(2, 3)),
    "stochasticdepth": (single({"type": "stochasticdepth", "p": 0.3, "mode": "batch"}, [3, 4, 4]), lambda x, w: x),
    "normalization": (single({"type": "normalization"}, [3, 4, 4]),
                      lambda x, w: (x - per_channel(w["L.mean"], x)) / per_channel(w["L.variance"], x).sqrt()),
    "rescaling": (single({"type": "rescaling", "scale": 1 / 255, "offset": -0.5}, [3, 2, 2]),
                  lambda x, w: x / 255 - 0.5),
}

# the PyTorch module each type stands for, and the per-sample input shape it is built for
TORCH_TWINS = {
    "layernorm": ({"type": "layernorm"}, [6, 4, 4], lambda: torch.nn.LayerNorm(6)),
    "groupnorm": ({"type": "groupnorm", "num_groups": 2}, [6, 4, 4], lambda: torch.nn.GroupNorm(2, 6)),
    "groupnorm-plain": ({"type": "groupnorm", "num_groups": 2, "affine": False}, [6, 4, 4],
                        lambda: torch.nn.GroupNorm(2, 6, affine=False)),
    "pointlinear": ({"type": "pointlinear", "out_features": 24}, [6, 4, 4], lambda: torch.nn.Linear(6, 24)),
    "pointlinear-nobias": ({"type": "pointlinear", "out_features": 24, "bias": False}, [6, 4, 4],
                           lambda: torch.nn.Linear(6, 24, bias=False)),
}


@pytest.mark.parametrize("twin", list(TORCH_TWINS))
def test_parameters_and_state_dict_equal_pytorch_module(twin):
    layer, shape, module = TORCH_TWINS[twin]
    report = archcalc.analyze(single(layer, shape))
    theirs = {key: tuple(value.shape) for key, value in module().state_dict().items()}
    ours = {p.name: p.shape for p in report.layers[1].layer.parameters([tuple(shape)])}
    assert ours == theirs
    assert report.totals.trainable_params == sum(p.numel() for p in module().parameters())


def test_pointlinear_counts_a_linear_layer_at_every_position():
    # ConvNeXt-T's first block: Linear(96, 384) on a 56×56 map
    record = archcalc.analyze(single({"type": "pointlinear", "out_features": 384}, [96, 56, 56])).layers[1]
    assert record.params == 96 * 384 + 384
    assert record.macs == 56 * 56 * 96 * 384
    assert record.output_shape == (384, 56, 56)


def test_layerscale_and_normalization_parameter_roles():
    scale = archcalc.analyze(single({"type": "layerscale"}, [8, 2, 2])).totals
    assert (scale.trainable_params, scale.non_trainable_params) == (8, 0)
    # Keras's Normalization: mean and variance per channel and a scalar count, none trainable (2·C + 1)
    norm = archcalc.analyze(single({"type": "normalization"}, [3, 2, 2])).totals
    assert (norm.trainable_params, norm.non_trainable_params) == (0, 7)


def test_keras_normalization_module_keeps_its_statistics_as_buffers():
    report = archcalc.analyze(single({"type": "normalization"}, [3, 2, 2]))
    network = archcalc.to_torch(report.architecture)
    assert sum(p.numel() for p in network.parameters()) == 0
    assert sum(b.numel() for b in network.buffers()) == 7


def test_stochastic_depth_and_permute_memory():
    report = archcalc.analyze({"name": "m", "input": [2, 3, 4], "layers": [
        {"name": "sd", "type": "stochasticdepth", "p": 0.1}, {"name": "p", "type": "permute", "dims": [2, 0, 1]}]})
    assert not report.layer("sd").layer.allocates
    assert report.layer("p").output_shape == (4, 2, 3)


@pytest.mark.parametrize("layer, shape, words", [
    ({"type": "groupnorm", "num_groups": 4}, [6, 2, 2], "num_groups=4 must divide the 6 channels"),
    ({"type": "permute", "dims": [0, 1, 1]}, [3, 2, 2], "dims [0, 1, 1] is not an order of the input's axes"),
    ({"type": "permute", "dims": [1, 0]}, [3, 2, 2], "dims [1, 0] is not an order"),
    ({"type": "pointlinear", "out_features": 4}, [12], "pointlinear needs a (C, H, W) input"),
    ({"type": "layerscale"}, [2, 3], "layerscale needs a (C, H, W) or (F,) input"),
    ({"type": "stochasticdepth", "p": 1.5}, [3, 2, 2], "p"),
    ({"type": "stochasticdepth", "p": 0.1, "mode": "column"}, [3, 2, 2], "mode"),
])
def test_bad_settings_are_one_line_errors_naming_the_layer(layer, shape, words):
    with pytest.raises(archcalc.ArchcalcError) as caught:
        archcalc.analyze(single(layer, shape))
    message = str(caught.value)
    assert "\n" not in message and "L" in message and words in message


def test_convnext_block_runs_like_torchvision_code():
    """One ConvNeXt block as torchvision's CNBlock computes it (permute, LayerNorm, Linear, GELU,
    Linear, permute, layer scale, residual), with archcalc's weights, in float64."""
    arch = {"name": "cnblock", "input": [8, 5, 5], "layers": [
        {"name": "dw", "type": "conv", "out_channels": 8, "kernel_size": 7, "padding": 3, "groups": 8},
        {"name": "norm", "type": "layernorm", "eps": 1e-6},
        {"name": "pw1", "type": "pointlinear", "out_features": 32},
        {"name": "act", "type": "gelu"},
        {"name": "pw2", "type": "pointlinear", "out_features": 8},
        {"name": "scale", "type": "layerscale", "init": 0.5},
        {"name": "sd", "type": "stochasticdepth", "p": 0.1},
        {"name": "add", "type": "add", "from": ["sd", "input"]}]}
    report = archcalc.analyze(arch)
    weights = archcalc.init_weights(report, seed=2, random_stats=True)
    x = np.random.default_rng(2).normal(size=(2, 8, 5, 5))
    ours = archcalc.execute(report.architecture, x, weights, dtype="float64")
    w = {key: torch.from_numpy(np.asarray(value, dtype="float64")) for key, value in weights.items()}
    t = torch.from_numpy(x)
    with torch.no_grad():
        y = F.conv2d(t, w["dw.weight"], w["dw.bias"], padding=3, groups=8).permute(0, 2, 3, 1)
        y = F.layer_norm(y, (8,), w["norm.weight"], w["norm.bias"], 1e-6)
        y = F.linear(F.gelu(F.linear(y, w["pw1.weight"], w["pw1.bias"])), w["pw2.weight"], w["pw2.bias"])
        expected = (w["scale.gamma"].reshape(8, 1, 1) * y.permute(0, 3, 1, 2) + t).numpy()
    np.testing.assert_allclose(ours, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name, random_stats", [("convnext_tiny", True), ("regnet_y_400mf", True),
                                                 # 40 blocks of random statistics blow the activations up
                                                 # until float64 rounding shows: fresh statistics there
                                                 ("efficientnet_v2_s", False)])
def test_zoo_file_runs_like_its_pytorch_module(name, random_stats):
    """The whole network through `to_torch` (PyTorch's LayerNorm, Linear, GroupNorm...) and through
    archcalc's forward, with the same weights, at a small input."""
    shape = [3, 32, 32]
    report = archcalc.analyze(name, input=shape)
    weights = archcalc.init_weights(report, seed=4, random_stats=random_stats)
    x = np.random.default_rng(4).normal(size=(1, *shape))
    network = archcalc.to_torch(report.architecture, weights, input=shape, dtype="float64")
    with torch.no_grad():
        expected = network(torch.from_numpy(x)).numpy()
    ours = archcalc.execute(report.architecture, x, weights, dtype="float64")
    np.testing.assert_allclose(ours, expected, rtol=1e-8, atol=1e-8 * np.abs(expected).max())
