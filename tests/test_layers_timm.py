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


STANDARDIZED = {how: {"type": "conv", "out_channels": 8, "kernel_size": 3, "stride": 2, "padding": "same", "groups": 2,
                     "weight_standardization": how, "ws_eps": 1e-5, "ws_gamma": 1.7139, "bias": how == "plain",
                     "activation": "relu"} for how in ("plain", "scaled")}


@pytest.mark.parametrize("how", ["plain", "scaled"])
@pytest.mark.parametrize("route", ["torch", "onnx"])
def test_weight_standardization_comes_back(how, route, tmp_path):
    """Out through `to_torch` (timm's StdConv2d / ScaledStdConv2d) or archcalc's ONNX functions, and back: the
    same option, ε and γ, and the same counts."""
    from tests.test_registry_contract import ROUTES

    report = archcalc.analyze(single(STANDARDIZED[how], [4, 10, 9]))
    back = ROUTES[route](report, tmp_path)
    conv = next(r.layer for r in back.layers if r.type == "conv")
    assert (conv.weight_standardization, conv.ws_eps, conv.bias) == (how, 1e-5, how == "plain")
    assert conv.ws_gamma == (1.7139 if how == "scaled" else 1.0)
    assert (back.totals.params, back.totals.macs) == (report.totals.params, report.totals.macs)


@pytest.mark.parametrize("how", ["plain", "scaled"])
def test_weight_standardization_s_onnx_form_computes_its_forward(how):
    ort = pytest.importorskip("onnxruntime")
    import numpy as np

    from archcalc.interop.export_onnx import onnx_model

    report = archcalc.analyze(single(STANDARDIZED[how], [4, 10, 9]))
    weights = archcalc.init_weights(report, seed=3, random_stats=True)
    x = np.random.default_rng(3).normal(size=(2, 4, 10, 9)).astype(np.float32)
    session = ort.InferenceSession(onnx_model(report, weights).SerializeToString(), providers=["CPUExecutionProvider"])
    theirs = session.run(None, {report.architecture.input_path: x})[0]
    ours = archcalc.execute(report.architecture, x, weights, dtype="float64")
    np.testing.assert_allclose(theirs, ours, rtol=1e-4, atol=1e-5 * max(1.0, float(np.abs(ours).max())))


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


CASES["eca"] = (single({"type": "eca", "k_size": 5}, [7, 3, 4]), lambda x, w: _eca(x, w["L.weight"]))


def _context(x, a):
    """timm's GlobalContext (timm/layers/global_context.py) up to its context: softmax-weighted positions."""
    n, c, h, w = x.shape
    weights = F.softmax(a.reshape(n, 1, h * w), dim=-1).unsqueeze(3)
    return (x.reshape(n, c, h * w).unsqueeze(1) @ weights).view(n, c, 1, 1)


CASES["attentionpool"] = ({"name": "case", "input": [6, 3, 4], "layers": [
    {"name": "a", "type": "conv", "out_channels": 1, "kernel_size": 1},
    {"name": "L", "type": "attentionpool", "from": ["input", "a"]}]},
    lambda x, w: _context(x, F.conv2d(x, w["a.weight"], w["a.bias"])))

CASES["add-broadcast"] = ({"name": "case", "input": [6, 3, 4], "layers": [
    {"name": "p", "type": "globalavgpool", "keepdims": True},
    {"name": "L", "type": "add", "broadcast": True, "from": ["input", "p"]}]},
    lambda x, w: x + x.mean((2, 3), keepdim=True))


class GlobalContext(torch.nn.Module):
    """GCNet's block as timm writes it (timm/layers/global_context.py, `fuse_add`, without the MLP's norm)."""

    def __init__(self, channels, hidden):
        super().__init__()
        self.conv_attn = torch.nn.Conv2d(channels, 1, 1)
        self.fc1, self.fc2 = torch.nn.Conv2d(channels, hidden, 1), torch.nn.Conv2d(hidden, channels, 1)

    def forward(self, x):
        B, C, H, W = x.shape
        attn = self.conv_attn(x).reshape(B, 1, H * W)
        attn = F.softmax(attn, dim=-1).unsqueeze(3)
        context = x.reshape(B, C, H * W).unsqueeze(1) @ attn
        context = context.view(B, C, 1, 1)
        return x + self.fc2(torch.relu(self.fc1(context)))


def test_global_context_imports_as_an_attention_pooling():
    """conv_attn (C + 1 weights), the pooling (C·H·W MACs), the MLP, and the broadcast sum."""
    with torch.device("meta"):
        module = GlobalContext(16, 4)
    report = archcalc.analyze(archcalc.import_model(module, input=(16, 5, 6), name="gc"))
    assert [r.type for r in report.layers[1:]] == ["conv", "attentionpool", "conv", "relu", "conv", "add"]
    assert report.totals.params == (16 + 1) + (16 * 4 + 4) + (4 * 16 + 16)
    assert report.totals.macs == 30 * 16 + 16 * 30 + 16 * 4 + 4 * 16
    assert report.layers[-1].output_shape == (16, 5, 6)


def test_a_reshape_to_three_axes_of_other_sizes_is_a_plain_reshape():
    """Not GCNet's pattern: the sizes read from x.shape, known, make it a `reshape` of the sample."""
    class Other(torch.nn.Module):
        def forward(self, x):
            B, C, H, W = x.shape
            return x.reshape(B, C // 2, 2 * H * W)

    report = archcalc.analyze(archcalc.import_model(Other(), input=(4, 3, 3)))
    assert [(r.type, r.output_shape) for r in report.layers[1:]] == [("reshape", (2, 18))]
    assert tuple(Other()(torch.zeros(1, 4, 3, 3)).shape[1:]) == (2, 18)
