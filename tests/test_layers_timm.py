"""The layer types and options of timm's CNNs (`conv` with `weight_standardization`, `scalaraffine`, ...)
against PyTorch's own functions, written out here from timm's definitions (timm/layers/std_conv.py,
timm/models/hgnet.py, ...): `CASES` join the forward cross-check and the registry round trip of every
type (tests/test_execute_layers.py, tests/test_registry_contract.py)."""

from __future__ import annotations

import pytest

import archcalc

torch = pytest.importorskip("torch")
F = torch.nn.functional


def single(layer: dict, shape: list[int]) -> dict:
    return {"name": "case", "input": shape, "layers": [{"name": "L", **layer}]}


def standardized(weight, eps, gain=None, gamma=1.0):
    """timm's StdConv2d / ScaledStdConv2d: F.batch_norm over each filter's weights (biased variance)."""
    flat = weight.reshape(1, weight.shape[0], -1)
    scale = None if gain is None else (gain * gamma * flat.shape[2] ** -0.5).view(-1)
    return F.batch_norm(flat, None, None, weight=scale, training=True, momentum=0.0, eps=eps).reshape_as(weight)


CASES = {
    # id: (architecture mapping, reference(x, weights) -> tensor)
    "conv-weight-standardized": (
        single({"type": "conv", "out_channels": 6, "kernel_size": 3, "padding": 1, "groups": 2,
                "weight_standardization": "plain", "ws_eps": 1e-5}, [4, 7, 8]),
        lambda x, w: F.conv2d(x, standardized(w["L.weight"], 1e-5), w["L.bias"], 1, 1, 1, 2)),
    "conv-weight-standardized-scaled": (
        single({"type": "conv", "out_channels": 5, "kernel_size": 3, "stride": 2, "padding": "same",
                "weight_standardization": "scaled", "ws_gamma": 1.7, "bias": False}, [3, 8, 9]),
        lambda x, w: F.conv2d(F.pad(x, (1, 1, 0, 1)), standardized(w["L.weight"], 1e-6, w["L.gain"], 1.7), None, 2)),
    "scalaraffine": (single({"type": "scalaraffine", "scale_value": 0.5, "bias_value": 0.25}, [3, 4, 5]),
                     lambda x, w: w["L.scale"] * x + w["L.bias"]),
    "scalaraffine-scale": (single({"type": "scalaraffine", "bias": False}, [3, 4, 5]),
                           lambda x, w: x * w["L.scale"]),
}


@pytest.mark.parametrize("how", ["plain", "scaled"])
def test_weight_standardization_counts_the_convolution_once(how):
    """The weights once (and, scaled, one gain per filter: timm's ScaledStdConv2d's `gain`); MACs a conv's."""
    layer = {"type": "conv", "out_channels": 8, "kernel_size": 3, "weight_standardization": how}
    report = archcalc.analyze(single(layer, [4, 10, 10]))
    plain = archcalc.analyze(single({"type": "conv", "out_channels": 8, "kernel_size": 3}, [4, 10, 10]))
    assert report.totals.params == 4 * 9 * 8 + 8 + (8 if how == "scaled" else 0)
    assert report.totals.macs == plain.totals.macs == 8 * 8 * 8 * 4 * 9


@pytest.mark.parametrize("how", ["plain", "scaled"])
def test_weight_standardization_comes_back_from_torch(how):
    layer = {"type": "conv", "out_channels": 8, "kernel_size": 3, "weight_standardization": how, "ws_eps": 1e-5,
             "ws_gamma": 1.7139}
    report = archcalc.analyze(single(layer, [4, 10, 10]))
    with torch.device("meta"):
        module = archcalc.to_torch(report.architecture)
    [back] = archcalc.import_model(module, input=(4, 10, 10))["layers"]
    assert back["weight_standardization"] == how and back["ws_eps"] == 1e-5
    assert back.get("ws_gamma", 1.0) == (1.7139 if how == "scaled" else 1.0)


def test_weight_standardization_has_no_onnx_form_yet():
    from archcalc.errors import ExportError
    from archcalc.interop.export_onnx import onnx_model

    pytest.importorskip("onnx")
    layer = {"type": "conv", "out_channels": 8, "kernel_size": 3, "weight_standardization": "plain"}
    with pytest.raises(ExportError, match="weight standardisation"):
        onnx_model(archcalc.analyze(single(layer, [4, 10, 10])), shapes_only=True)


def _simple_norm(x, w, eps):
    """timm's SimpleNorm2d (timm/layers/fast_norm.py simple_norm, channels last): x · rsqrt(var(x) + eps) · w,
    the variance unbiased (torch.var's default), the mean not subtracted."""
    last = x.permute(0, 2, 3, 1)
    return (last * torch.rsqrt(torch.var(last, dim=-1, keepdim=True) + eps) * w).permute(0, 3, 1, 2)


def _grn(x, w, eps):
    """timm's GlobalResponseNorm (timm/layers/grn.py), channels first."""
    g = x.norm(p=2, dim=(2, 3), keepdim=True)
    n = g / (g.mean(dim=1, keepdim=True) + eps)
    return x + torch.addcmul(w["L.bias"].view(1, -1, 1, 1), w["L.weight"].view(1, -1, 1, 1), x * n)


CASES.update({
    "rmsnorm": (single({"type": "rmsnorm", "eps": 1e-5}, [5, 3, 4]),
                lambda x, w: F.rms_norm(x.permute(0, 2, 3, 1), (5,), w["L.weight"], 1e-5).permute(0, 3, 1, 2)),
    "rmsnorm-variance": (single({"type": "rmsnorm", "statistic": "variance"}, [6, 3, 4]),
                         lambda x, w: _simple_norm(x, w["L.weight"], 1e-6)),
    "rmsnorm-vector": (single({"type": "rmsnorm", "elementwise_affine": False}, [7]),
                       lambda x, w: F.rms_norm(x, (7,), None, 1e-6)),
    "grn": (single({"type": "grn", "eps": 1e-5}, [5, 3, 4]), lambda x, w: _grn(x, w, 1e-5)),
})


def _eca(x, weight):
    """timm's EcaModule (timm/layers/eca.py): x · sigmoid(conv1d over the channels of the global means)."""
    y = F.conv1d(x.mean((2, 3)).view(x.shape[0], 1, -1), weight, padding=(weight.shape[2] - 1) // 2)
    return x * torch.sigmoid(y).view(x.shape[0], -1, 1, 1)


CASES["eca"] = (single({"type": "eca", "kernel_size": 5}, [7, 3, 4]), lambda x, w: _eca(x, w["L.weight"]))


def _context(x, a):
    """timm's GlobalContext (timm/layers/global_context.py) up to its context: softmax-weighted positions."""
    n, c, h, w = x.shape
    weights = F.softmax(a.reshape(n, 1, h * w), dim=-1).unsqueeze(3)
    return (x.reshape(n, c, h * w).unsqueeze(1) @ weights).view(n, c, 1, 1)


CASES["attentionpool"] = ({"name": "case", "input": [6, 3, 4], "layers": [
    {"name": "a", "type": "conv", "out_channels": 1, "kernel_size": 1},
    {"name": "L", "type": "attentionpool", "from": ["input", "a"]}]},
    lambda x, w: _context(x, F.conv2d(x, w["a.weight"], w["a.bias"])))
