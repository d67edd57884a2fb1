"""The executor's fast paths against PyTorch: tiled im2col, direct 1×1 and depthwise convolutions,
and `Plan` (BatchNorm folded into convolutions, in-place ReLU and additions, transposed linear weights).

Every expected value is PyTorch's (`torch.nn.functional` or the module `archcalc.to_torch` builds).
Tile sizes are shrunk so that small inputs take every tiling branch.
"""

import ast
from pathlib import Path

import numpy as np
import pytest

import archcalc
from archcalc.arrays import kernels, workspace
from archcalc.errors import ExecutionError
from archcalc.executor import plan
from archcalc.executor.plan import Plan
from archcalc.executor.weights import init_weights
from archcalc.layers.base import layer_class, registered_types

torch = pytest.importorskip("torch")
F = torch.nn.functional

# (tile bytes, minimum columns): one row per tile; bands of rows; several samples per product; whole
# batch; samples side by side even for 1×1 convolutions (maps smaller than the minimum).
TILINGS = [(1, 1), (2048, 8), (4096, 64), (1 << 24, 1), (1 << 16, 4096)]
CONVS = {
    # id: (C_in, C_out, kernel, stride, padding (top, bottom, left, right), dilation, groups)
    "3x3-pad1": (3, 5, (3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 1),
    "7x7-stride2-pad3": (2, 4, (7, 7), (2, 2), (3, 3, 3, 3), (1, 1), 1),
    "asymmetric-pad-rect-stride": (3, 4, (2, 3), (2, 1), (0, 1, 2, 0), (1, 1), 1),
    "dilation": (2, 3, (3, 3), (1, 1), (2, 2, 2, 2), (2, 2), 1),
    "groups": (4, 6, (3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 2),
    "1x1-direct": (6, 7, (1, 1), (1, 1), (0, 0, 0, 0), (1, 1), 1),
    "1x1-stride2": (6, 7, (1, 1), (2, 2), (0, 0, 0, 0), (1, 1), 1),
    "depthwise-3x3-stride2": (8, 8, (3, 3), (2, 2), (1, 1, 1, 1), (1, 1), 8),
    "depthwise-rect-stride-dilation": (5, 5, (3, 2), (2, 1), (2, 0, 1, 1), (2, 3), 5),
    "depthwise-5x5-same-even": (4, 4, (5, 5), (1, 1), (2, 2, 2, 2), (1, 1), 4),
    "depthwise-multiplier": (3, 6, (3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 3),
}


@pytest.fixture
def tiling(monkeypatch, request):
    tile_bytes, min_columns = request.param
    monkeypatch.setitem(workspace.TILE_BYTES, "numpy", tile_bytes)
    monkeypatch.setattr(kernels, "MIN_TILE_COLUMNS", min_columns)
    workspace.release()
    yield
    workspace.release()


@pytest.mark.parametrize("tiling", TILINGS, indirect=True, ids=[f"tile{b}-cols{c}" for b, c in TILINGS])
@pytest.mark.parametrize("case", CONVS)
def test_conv2d_equals_pytorch_under_every_tiling(case, tiling):
    c_in, c_out, kernel, stride, (top, bottom, left, right), dilation, groups = CONVS[case]
    rng = np.random.default_rng(len(case))
    x = rng.standard_normal((3, c_in, 11, 10))
    weight = rng.standard_normal((c_out, c_in // groups, *kernel))
    bias = rng.standard_normal(c_out)
    got = kernels.conv2d(np, x, weight, bias, stride, ((top, bottom), (left, right)), dilation, groups)
    expected = F.conv2d(F.pad(torch.from_numpy(x), (left, right, top, bottom)), torch.from_numpy(weight),
                        torch.from_numpy(bias), stride, 0, dilation, groups).numpy()
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


def test_adaptive_average_pooling_keeps_float32():
    x = np.random.default_rng(0).standard_normal((2, 3, 7, 9)).astype(np.float32)
    got = kernels.adaptive_pool2d(np, x, "avg", (3, 4))
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, F.adaptive_avg_pool2d(torch.from_numpy(x), (3, 4)).numpy(), rtol=1e-5, atol=1e-5)


def test_scratch_reuses_one_buffer_per_slot():
    workspace.release()
    first = workspace.scratch(np, (4, 5), np.float32)
    second = workspace.scratch(np, (3, 2), np.float32)
    other_slot = workspace.scratch(np, (3, 2), np.float32, slot=1)
    assert np.shares_memory(first, second) and not np.shares_memory(first, other_slot)
    workspace.release()


def _torch_pair(name, dtype, input_shape):
    arch = archcalc.load(name)
    weights = init_weights(archcalc.analyze(arch, input=input_shape), seed=3, random_stats=True)
    module = archcalc.to_torch(arch, weights, input=input_shape, dtype=dtype)
    return Plan(arch, weights, input=input_shape, dtype=dtype), module


SMALL_VGG = {
    "name": "small-vgg", "input": [3, 12, 12],
    "layers": [
        {"name": "c1", "type": "conv", "out_channels": 8, "kernel_size": 3, "padding": 1, "activation": "relu"},
        {"name": "p1", "type": "maxpool", "kernel_size": 2, "stride": 2},
        {"name": "c2", "type": "conv", "out_channels": 8, "kernel_size": 3, "padding": 1, "activation": "relu6"},
        {"name": "flat", "type": "flatten"},
        {"name": "fc1", "type": "linear", "out_features": 16, "activation": "relu"},
        {"name": "fc2", "type": "linear", "out_features": 5},
    ],
}


@pytest.mark.parametrize("name,input_shape", [("resnet18", (3, 40, 40)), ("mobilenet_v2", (3, 48, 48)),
                                              (SMALL_VGG, None)], ids=["resnet18", "mobilenet_v2", "small-vgg"])
@pytest.mark.parametrize("dtype,rtol", [("float32", 1e-4), ("float64", 1e-10)])
def test_plan_equals_pytorch(name, input_shape, dtype, rtol):
    plan, module = _torch_pair(name, dtype, input_shape)
    x = np.random.default_rng(5).standard_normal((2, *plan.report.layers[0].output_shape)).astype(dtype)
    before = x.copy()
    with torch.no_grad():
        expected = module(torch.from_numpy(x)).numpy()
    got = plan(x)
    assert got.dtype == np.dtype(dtype)
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=rtol * np.abs(expected).max())
    np.testing.assert_array_equal(x, before)  # the caller's input is never written in place


def test_plan_folds_every_batchnorm_that_follows_a_convolution_alone():
    plan = Plan("resnet18", input=(3, 32, 32))
    batchnorms = [r for r in plan.report.layers if r.type == "batchnorm"]
    assert len(plan.folded) == len(batchnorms) == 20  # torchvision ResNet-18: 20 conv + BN pairs
    assert set(plan.folded.values()) == {r.name for r in batchnorms}


SHARED_CONV = {
    "name": "shared", "input": [3, 8, 8],
    "layers": [
        {"name": "c", "type": "conv", "out_channels": 4, "kernel_size": 3, "padding": 1},
        {"name": "bn", "type": "batchnorm"},
        {"name": "r", "type": "relu"},
        {"name": "sum", "type": "add", "from": ["r", "c"]},
        {"name": "r2", "type": "relu", "from": "c"},
        {"name": "out", "type": "add", "from": ["sum", "r2"]},
    ],
}


def _assert_unfolded_plan_equals_torch(spec, seed):
    plan, module = _torch_pair(spec, "float64", None)
    assert plan.folded == {}
    x = np.random.default_rng(seed).standard_normal((2, 3, 8, 8))
    with torch.no_grad():
        expected = module(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(plan(x), expected, rtol=1e-12, atol=1e-12)


def test_plan_keeps_a_convolution_read_twice_and_its_batchnorm_apart():
    _assert_unfolded_plan_equals_torch(SHARED_CONV, 2)


def test_plan_does_not_fold_a_batchnorm_into_the_convolution_that_is_the_output():
    # the network's output is the convolution; the BatchNorm after it is a side branch
    spec = {"name": "out-conv", "input": [3, 8, 8], "output": "c",
            "layers": [{"name": "c", "type": "conv", "out_channels": 4, "kernel_size": 3, "padding": 1},
                       {"name": "bn", "type": "batchnorm"}]}
    _assert_unfolded_plan_equals_torch(spec, 4)


def test_plan_rejects_an_input_of_the_wrong_size_in_one_line():
    plan = Plan("lenet5")
    with pytest.raises(ExecutionError) as error:
        plan(np.zeros((1, 1, 28, 28), dtype=np.float32))
    message = str(error.value)
    assert "\n" not in message and "lenet5" in message and "(N, 1, 32, 32)" in message


@pytest.mark.parametrize("bias,affine", [(True, True), (False, True), (True, False)],
                         ids=["bias-affine", "no-bias", "no-affine"])
def test_conv_fold_equals_pytorch_fuse_conv_bn_weights(bias, affine):
    rng = np.random.default_rng(7)
    conv = layer_class("conv")(out_channels=4, kernel_size=3, bias=bias)
    bn = layer_class("batchnorm")(affine=affine)
    params = {"weight": rng.standard_normal((4, 3, 3, 3))} | ({"bias": rng.standard_normal(4)} if bias else {})
    stats = {"running_mean": rng.standard_normal(4), "running_var": rng.uniform(0.5, 2, 4)}
    stats |= {"weight": rng.standard_normal(4), "bias": rng.standard_normal(4)} if affine else {}
    assert conv.absorbs(bn)
    got = conv.fold(params, bn, stats)
    tensors = {k: torch.from_numpy(v) for k, v in (params | {f"bn_{k}": v for k, v in stats.items()}).items()}
    weight, shift = torch.nn.utils.fusion.fuse_conv_bn_weights(
        tensors["weight"], tensors.get("bias"), tensors["bn_running_mean"], tensors["bn_running_var"], bn.eps,
        tensors.get("bn_weight"), tensors.get("bn_bias"))
    np.testing.assert_allclose(got["weight"], weight.detach().numpy(), rtol=1e-14)
    np.testing.assert_allclose(got["bias"], shift.detach().numpy(), rtol=1e-14, atol=1e-15)


def test_only_a_convolution_without_activation_absorbs_a_batchnorm_with_running_statistics():
    conv, bn = layer_class("conv"), layer_class("batchnorm")
    assert conv(out_channels=2, kernel_size=1, activation="linear").absorbs(bn())
    assert not conv(out_channels=2, kernel_size=1, activation="relu").absorbs(bn())
    assert not conv(out_channels=2, kernel_size=1).absorbs(bn(track_running_stats=False))
    assert not conv(out_channels=2, kernel_size=1).absorbs(layer_class("relu")())
    assert not layer_class("linear")(out_features=2).absorbs(bn())


CONV_BN_VARIANTS = {
    # a BatchNorm with a fused activation folds, its activation stays
    "bn-relu": ({"type": "batchnorm", "activation": "relu"}, {}, 1),
    "conv-relu": ({"type": "batchnorm"}, {"activation": "relu"}, 0),
    "batch-statistics": ({"type": "batchnorm", "track_running_stats": False}, {}, 0),
}


@pytest.mark.parametrize("variant", CONV_BN_VARIANTS)
def test_plan_folds_only_what_a_convolution_absorbs_and_equals_pytorch(variant):
    bn, conv_extra, folds = CONV_BN_VARIANTS[variant]
    spec = {"name": variant, "input": [3, 8, 8],
            "layers": [{"name": "c", "type": "conv", "out_channels": 4, "kernel_size": 3, "padding": 1, **conv_extra},
                       {"name": "bn", **bn},
                       {"name": "sum", "type": "add", "from": ["bn", "bn", "bn"]}]}  # three inputs: no in-place add
    plan, module = _torch_pair(spec, "float64", None)
    assert len(plan.folded) == folds
    x = np.random.default_rng(6).standard_normal((2, 3, 8, 8))
    with torch.no_grad():
        expected = module(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(plan(x), expected, rtol=1e-12, atol=1e-12)


def test_plan_names_no_layer_type():
    """Layer classes own what the fast path does with them: no type name appears in the plan's code."""
    strings = {node.value for node in ast.walk(ast.parse(Path(plan.__file__).read_text()))
               if isinstance(node, ast.Constant) and isinstance(node.value, str)}
    assert not strings & set(registered_types())
