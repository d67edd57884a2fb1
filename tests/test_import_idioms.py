"""Hand-written PyTorch in the common idioms (tests/handwritten_nets.py) imports exactly: the params,
BatchNorm statistics and conv + linear MACs of each network equal PyTorch's own, counted here with
`parameters()`, `named_buffers()` and forward hooks, independently of archcalc."""

from __future__ import annotations

import numpy as np
import pytest

import archcalc
from archcalc.errors import SpecError
from tests.import_data import conv_linear_counts

torch = pytest.importorskip("torch")
nn = torch.nn

from tests.handwritten_nets import HANDWRITTEN  # noqa: E402 - needs torch


def torch_counts(model, shape) -> tuple[int, int, int]:
    """Trainable params, BatchNorm running statistics and conv + linear MACs of one sample, by PyTorch:
    a conv's MACs are its output's elements times (in_channels / groups) · kh · kw, a linear layer's
    its output's elements times in_features (at every position, where it runs on a map)."""
    macs = []

    def hook(module, inputs, output):
        per_output = module.in_features if isinstance(module, nn.Linear) else \
            module.in_channels // module.groups * module.kernel_size[0] * module.kernel_size[1]
        macs.append(output[0].numel() * per_output)

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    with torch.no_grad():
        model(torch.zeros(1, *shape))
    for handle in handles:
        handle.remove()
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    running = sum(b.numel() for n, b in model.named_buffers() if n.endswith(("running_mean", "running_var")))
    return trainable, running, sum(macs)


@pytest.mark.parametrize("name", HANDWRITTEN)
def test_hand_written_networks_import_exactly_through_torch_fx(name):
    cls, shape = HANDWRITTEN[name]
    model = cls().eval()
    report = archcalc.analyze(archcalc.import_model(model, input=shape, name=name))
    assert conv_linear_counts(report) == torch_counts(model, shape)


def _types(model, shape):
    report = archcalc.analyze(archcalc.import_model(model, input=shape, name="net"))
    return [(r.name, r.type) for r in report.layers[1:]]


def test_the_convnext_gamma_is_a_layer_scale_on_the_channels_last_map():
    cls, shape = HANDWRITTEN["convnext"]
    types = _types(cls(), shape)
    assert ("blocks/0/gamma", "layerscale") in types
    assert not any(t == "permute" for _, t in types)       # the permutes only move the channels last and back


def test_res2net_reads_the_last_split_by_a_negative_index():
    cls, shape = HANDWRITTEN["res2net"]
    report = archcalc.analyze(archcalc.import_model(cls(), input=shape, name="res2net"))
    slices = [(r.name.split("/")[-1], r.output_shape[0]) for r in report.layers if r.type == "slice"]
    # split(conv1, 8, 1) of 32 channels: four parts of 8; chunk(2) of 64 channels: two of 32
    assert slices == [("slice", 8), ("slice_1", 8), ("slice_2", 8), ("slice_3", 8), ("slice_4", 32), ("slice_5", 32)]
    last = next(r.layer for r in report.layers if r.name.endswith("slice_3"))
    assert (last.start, last.end) == (24, 32)


def test_a_number_scales_and_divides_as_a_rescaling():
    cls, shape = HANDWRITTEN["res2net"]
    report = archcalc.analyze(archcalc.import_model(cls(), input=shape, name="res2net"))
    scales = sorted(r.layer.scale for r in report.layers if r.type == "rescaling")
    assert scales == [0.5, 0.5]      # x * 0.5 at the input, y / 2 in the block


class Flattens(nn.Module):
    """Every spelling of a flatten a hand-written classifier uses."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.fc = nn.Linear(4 * 5 * 5, 2)

    def forward(self, x):
        y = self.conv(x)
        flat = [y.view(y.size(0), -1), y.reshape(y.shape[0], -1), y.view(-1, 100), torch.flatten(y, start_dim=1),
                y.flatten(1), torch.reshape(y, (-1, 4 * 5 * 5)), y.view(y.size()[0], 100)]
        total = flat[0]
        for each in flat[1:]:
            total = total + each
        return self.fc(total)


def test_every_spelling_of_a_flatten_is_a_flatten():
    types = [t for _, t in _types(Flattens(), (3, 5, 5))]
    assert types.count("flatten") == 7 and "reshape" not in types


class WrongScale(nn.Module):
    """γ of shape (C,) times an N×C×H×W map: PyTorch broadcasts it along W, not the channels."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 6, 1)
        self.gamma = nn.Parameter(torch.ones(6))

    def forward(self, x):
        return self.conv(x) * self.gamma


def test_a_parameter_broadcast_along_the_width_is_no_layer_scale():
    with pytest.raises(SpecError, match="mul: .*not one value per channel"):
        archcalc.import_model(WrongScale(), input=(3, 6, 6), name="wrong")


onnx = pytest.importorskip("onnx")


def _exported(model, shape, tmp_path, opset: int, folded: bool) -> dict:
    """The mapping archcalc reads from `torch.onnx.export` (the TorchScript exporter) of `model`."""
    import warnings

    path = tmp_path / f"net_{opset}_{folded}.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (torch.zeros(1, *shape),), str(path), dynamo=False, opset_version=opset,
                          do_constant_folding=folded)
    return archcalc.import_model(str(path))


def _folded_counts(model, shape) -> tuple[int, int, int]:
    """PyTorch's counts of the network the exporter writes when it folds constants: each BatchNorm
    that follows a convolution is folded into it (the conv gains a bias where it had none; the
    BatchNorm's γ, β and statistics are gone)."""
    trainable, _, macs = torch_counts(model, shape)
    modules = list(model.modules())
    for before, module in zip(modules, modules[1:]):
        if isinstance(module, nn.BatchNorm2d) and isinstance(before, nn.Conv2d):
            trainable -= 2 * module.num_features - (0 if before.bias is not None else before.out_channels)
    return trainable, 0, macs


# Before opset 17 the exporter writes nn.LayerNorm as ReduceMean/Sub/Pow/Sqrt/Div steps (ConvNeXt's).
OPSETS = [(name, opset) for name in HANDWRITTEN for opset in (11, 13, 17, 18, 21)]


@pytest.mark.parametrize(("name", "opset"), OPSETS)
def test_hand_written_networks_import_exactly_through_onnx_unfolded(name, opset, tmp_path):
    cls, shape = HANDWRITTEN[name]
    model = cls().eval()
    report = archcalc.analyze(_exported(model, shape, tmp_path, opset, folded=False))
    assert conv_linear_counts(report) == torch_counts(model, shape)


@pytest.mark.parametrize("name", HANDWRITTEN)
def test_hand_written_networks_import_through_the_default_onnx_export(name, tmp_path):
    cls, shape = HANDWRITTEN[name]
    model = cls().eval()
    report = archcalc.analyze(_exported(model, shape, tmp_path, 17, folded=True))
    assert conv_linear_counts(report) == _folded_counts(model, shape)


def _trained(model):
    """`model` with BatchNorm statistics and affines as training leaves them (not the identity of a fresh
    module, which the default exporter's optimiser drops outright instead of folding)."""
    generator = torch.Generator().manual_seed(0)
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            for tensor, low, high in [(module.running_mean, -1, 1), (module.running_var, 0.5, 2),
                                      (module.weight.data, 0.5, 2), (module.bias.data, -1, 1)]:
                tensor.copy_(torch.empty_like(tensor).uniform_(low, high, generator=generator))
    return model.eval()


def _exported_by_default(model, shape, tmp_path) -> dict:
    """The mapping archcalc reads from `torch.onnx.export` called as its documentation shows it: the
    torch.export-based exporter, its weights written to a separate data file (never opened)."""
    import warnings

    pytest.importorskip("onnxscript")
    path = tmp_path / "net.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (torch.zeros(1, *shape),), str(path))
    assert (tmp_path / "net.onnx.data").exists()      # the weights are elsewhere: counted by their shapes
    return archcalc.import_model(str(path))


@pytest.mark.parametrize("name", HANDWRITTEN)
def test_hand_written_networks_import_through_the_torch_export_based_exporter(name, tmp_path):
    cls, shape = HANDWRITTEN[name]
    model = _trained(cls())
    report = archcalc.analyze(_exported_by_default(model, shape, tmp_path))
    assert conv_linear_counts(report) == _folded_counts(model, shape)     # it folds BatchNorm into the convs


def test_the_exporters_local_response_norm_is_one_lrn_layer(tmp_path):
    cls, shape = HANDWRITTEN["inception"]
    report = archcalc.analyze(_exported(cls(), shape, tmp_path, 17, folded=True))
    lrn = [r.layer for r in report.layers if r.type == "lrn"]
    assert [(m.size, m.alpha, m.beta, m.k) for m in lrn] == [(5, 1e-4, 0.75, 2.0)]      # as the module was built
    assert len(report.layers) == 1 + 16          # the input and the model's layers: no step of the decomposition


class Guarded(nn.Module):
    """A network behind Python control flow on the input's size, which torch.fx cannot trace."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        if x.shape[-1] > 1:
            return self.net(x)
        return self.net(x.mean())


@pytest.mark.parametrize("name", HANDWRITTEN)
def test_control_flow_is_captured_through_torch_export(name):
    cls, shape = HANDWRITTEN[name]
    model = Guarded(cls()).eval()
    mapping = archcalc.import_model(model, input=shape, name=name)
    assert "via torch.export" in mapping["source"]
    assert conv_linear_counts(archcalc.analyze(mapping)) == torch_counts(model, shape)


class BatchNormAct2d(nn.BatchNorm2d):
    """timm's normalisation with its own activation: a BatchNorm2d subclass running `F.batch_norm`, then
    its submodules `drop` and `act`."""

    def __init__(self, channels: int):
        super().__init__(channels)
        self.drop = nn.Identity()
        self.act = nn.SiLU()

    def forward(self, x):
        x = nn.functional.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias, False, 0.1,
                                     self.eps)
        return self.act(self.drop(x))


class NormAct(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.bn = BatchNormAct2d(8)
        self.fc = nn.Linear(8, 4)

    def forward(self, x):
        return self.fc(self.bn(self.conv(x)).mean((2, 3)))


@pytest.mark.parametrize("wrap", [NormAct, lambda: Guarded(NormAct())], ids=["fx", "export"])
def test_a_batchnorm_subclass_with_its_activation_is_a_batchnorm_and_the_activation(wrap):
    model = wrap().eval()
    report = archcalc.analyze(archcalc.import_model(model, input=(3, 6, 6), name="normact"))
    assert [r.type for r in report.layers[1:]] == ["conv", "batchnorm", "silu", "globalavgpool", "linear"]
    assert conv_linear_counts(report) == torch_counts(model, (3, 6, 6))


class Untraceable(nn.Module):
    """Control flow fx cannot trace, around an op archcalc has no layer type for."""

    def forward(self, x):
        if x.shape[-1] > 1:
            return torch.sin(x)
        return x


def test_what_neither_capture_reads_is_refused_by_name():
    with pytest.raises(SpecError, match="sin"):
        archcalc.import_model(Untraceable(), input=(3, 4, 4), name="untraceable")


class Conv2dSame(nn.Conv2d):
    """TensorFlow's `same` padding as timm writes it: pads computed in Python from the input's size,
    then `F.conv2d` of the module's own weight."""

    def forward(self, x):
        import math

        ih, iw = x.size()[-2:]
        pads = [max((math.ceil(size / s) - 1) * s + (k - 1) * d + 1 - size, 0)
                for size, s, k, d in zip((ih, iw), self.stride, self.kernel_size, self.dilation)]
        x = nn.functional.pad(x, [pads[1] // 2, pads[1] - pads[1] // 2, pads[0] // 2, pads[0] - pads[0] // 2])
        return nn.functional.conv2d(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)


class SamePadded(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv_stem = Conv2dSame(3, 8, 3, stride=2, bias=False)
        self.fc = nn.Linear(8 * 4 * 4, 3)

    def forward(self, x):
        return self.fc(torch.flatten(self.conv_stem(x), 1))


def test_same_padding_computed_in_python_is_read_through_torch_export():
    model = SamePadded().eval()
    report = archcalc.analyze(archcalc.import_model(model, input=(3, 8, 8), name="same"))
    # 8×8, stride 2, kernel 3: TensorFlow pads 0 above and left, 1 below and right
    assert [(r.type, r.output_shape) for r in report.layers[1:3]] == [("zeropad", (3, 9, 9)), ("conv", (8, 4, 4))]
    assert conv_linear_counts(report) == torch_counts(model, (3, 8, 8))


class GELU(nn.Module):
    """A module of its own named like `nn.GELU` (as timm's is), without `approximate`: traced into."""

    def forward(self, x):
        return nn.functional.gelu(x)


def test_a_class_named_like_a_torch_class_it_is_not_is_traced_into():
    net = nn.Sequential(nn.Conv2d(3, 4, 1), GELU())
    report = archcalc.analyze(archcalc.import_model(net, input=(3, 4, 4), name="impostor"))
    assert [r.type for r in report.layers[1:]] == ["conv", "gelu"]


class PaddedPools(nn.Module):
    """TensorFlow's `same` max pooling as functions (a −∞ padding, then `F.max_pool2d`), and a
    negative pad (a crop)."""

    def __init__(self, crop: bool):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 1)
        self.crop = crop

    def forward(self, x):
        y = nn.functional.max_pool2d(nn.functional.pad(self.conv(x), (0, 1, 0, 1), value=float("-inf")), 3, 2)
        return nn.functional.pad(y, (-1, 1, -1, 1)) if self.crop else y


class Shifts(nn.Module):
    """NASNet's shift by one pixel, `nn.ZeroPad2d((−1, 1, −1, 1))` (a crop, then a zero padding), and a
    crop by `F.pad` with negative widths alone."""

    def __init__(self):
        super().__init__()
        self.pad, self.pool, self.conv = nn.ZeroPad2d((-1, 1, -1, 1)), nn.AvgPool2d(1, 2), nn.Conv2d(3, 4, 1)

    def forward(self, x):
        return self.conv(self.pool(nn.functional.pad(self.pad(x), (-1, -1, 0, -2))))


def test_a_functional_max_pooling_takes_the_infinite_padding_before_it():
    report = archcalc.analyze(archcalc.import_model(PaddedPools(crop=False), input=(3, 8, 8), name="pools"))
    pool = report.layers[-1]
    assert (pool.type, list(pool.layer.padding), pool.output_shape) == ("maxpool", [0, 1, 0, 1], (4, 4, 4))


def test_a_negative_pad_is_a_crop_then_a_zero_padding():
    report = archcalc.analyze(archcalc.import_model(PaddedPools(crop=True), input=(3, 8, 8), name="crop"))
    crop, pad = report.layers[-2:]
    assert (crop.type, list(crop.layer.cropping), pad.type, list(pad.layer.padding)) == \
        ("crop", [1, 0, 1, 0], "zeropad", [0, 1, 0, 1])
    assert pad.output_shape == (4, 4, 4)


def test_shifts_by_negative_pads_run_as_pytorch():
    model = Shifts().double().eval()
    report = archcalc.analyze(archcalc.import_model(model, input=(3, 9, 9), name="shifts"))
    assert [r.type for r in report.layers[1:]] == ["crop", "zeropad", "crop", "avgpool", "conv"]
    x = np.random.default_rng(0).normal(size=(2, 3, 9, 9))
    weights = {f"conv.{k}": v.numpy() for k, v in model.conv.state_dict().items()}
    ours = archcalc.execute(report.architecture, x, weights, dtype="float64")
    np.testing.assert_allclose(ours, model(torch.from_numpy(x)).detach().numpy(), rtol=1e-10, atol=1e-12)


class GhostStyleBottleneck(nn.Module):
    """A 1×1 conv, a strided depthwise conv only in some instances, another 1×1 conv (GhostNet's block)."""

    def __init__(self, c, out, k=None):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c * 2, 1)
        self.dw = nn.Conv2d(c * 2, c * 2, k, stride=2, padding=k // 2, groups=c * 2) if k else None
        self.conv2 = nn.Conv2d(c * 2, out, 1)

    def forward(self, x):
        x = self.conv1(x)
        if self.dw is not None:
            x = self.dw(x)
        return self.conv2(x)


class GhostStyleStages(nn.Module):
    """Stages of one bottleneck each, as GhostNet nests them: the instances without the depthwise conv
    pass none of its settings, which the block's others default."""

    def __init__(self):
        super().__init__()
        self.blocks = nn.Sequential(*(nn.Sequential(GhostStyleBottleneck(c, out, k))
                                      for c, out, k in ((4, 8, None), (8, 8, 3), (8, 16, 5), (16, 16, None))))

    def forward(self, x):
        return self.blocks(x)


def test_instances_leaving_out_a_block_s_default_argument_fold_into_one_block():
    model = GhostStyleStages().eval()
    mapping = archcalc.import_model(model, input=(4, 16, 16), name="stages")
    assert sorted(mapping["blocks"]) == ["ghost_style_bottleneck", "sequential"]
    assert conv_linear_counts(archcalc.analyze(mapping)) == torch_counts(model, (4, 16, 16))


class RepMixer(nn.Module):
    """Two convolutions summed with their input in one expression (RepViT's token mixer)."""

    def __init__(self, c):
        super().__init__()
        self.conv, self.conv1 = nn.Conv2d(c, c, 3, padding=1, groups=c), nn.Conv2d(c, c, 1, groups=c)

    def forward(self, x):
        return self.conv(x) + self.conv1(x) + x


class RepVitStyleBlock(nn.Module):
    """RepViT's block: the mixer's sum, passed on through an `nn.Identity`, read by an MLP and by the
    block's own residual sum."""

    def __init__(self, c):
        super().__init__()
        self.token_mixer, self.se = RepMixer(c), nn.Identity()
        self.channel_mixer = nn.Sequential(nn.Conv2d(c, 2 * c, 1), nn.GELU(), nn.Conv2d(2 * c, c, 1))

    def forward(self, x):
        x = self.se(self.token_mixer(x))
        return x + self.channel_mixer(x)


def test_a_sum_read_again_through_an_identity_is_not_chained_into_the_next_sum():
    model = nn.Sequential(RepVitStyleBlock(4), RepVitStyleBlock(4)).eval()
    mapping = archcalc.import_model(model, input=(4, 8, 8), name="repvit")
    report = archcalc.analyze(mapping)
    sums = [len(r.inputs) for r in report.layers if r.type == "add"]
    assert sums == [3, 2, 3, 2]
    assert conv_linear_counts(report) == torch_counts(model, (4, 8, 8))


class FixedBlur(nn.Module):
    """A blur as timm's BlurPool2d writes it: `F.conv2d` with a fixed filter held in a buffer, which
    PyTorch does not count among the parameters."""

    def __init__(self):
        super().__init__()
        self.register_buffer("filt", torch.full((3, 1, 3, 3), 1 / 9), persistent=False)

    def forward(self, x):
        return nn.functional.conv2d(x, self.filt, stride=2, padding=1, groups=3)


def test_a_convolution_by_a_buffer_is_refused_not_counted_as_parameters():
    assert sum(p.numel() for p in FixedBlur().parameters()) == 0
    with pytest.raises(SpecError, match="conv2d: conv2d with a buffer"):
        archcalc.import_model(FixedBlur(), input=(3, 8, 8), name="blur")


class ReflectPad(nn.Module):
    def forward(self, x):
        return nn.functional.pad(x, [1, 1, 1, 1], mode="reflect")


def test_a_reflection_padding_is_refused_by_its_mode():
    with pytest.raises(SpecError, match="padding by reflect"):
        archcalc.import_model(ReflectPad(), input=(3, 8, 8), name="reflect")
