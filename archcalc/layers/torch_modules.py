"""How a layer runs in PyTorch, for the layer types whose call is more than `nn.<Module>(x)` (imported
only with torch, by the layer classes' `torch_module`).

PyTorch's own module classes are used (hook-based counting tools recognise them by exact type),
so a layer is a `TorchLayer`: its module, further modules keyed by a suffix (a fused activation),
statements that finish building them, and its call as an expression (`archcalc.layers.torch_code`:
`M` stands for the module, `Module(suffix)` for the others, `X` and `Input(k)` for the inputs). The
same expression is written as source into exported code and run as Python by `archcalc.to_torch`.
The classes of this module's own are torchvision's `LayerNorm2d`, timm's `StdConv2d` and
`ScaledStdConv2d`, and archcalc's; an export that uses one carries its source. Asymmetric padding
is an explicit `F.pad` before an unpadded convolution or pooling.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ExportError
from .torch_code import Code, Const, Delete, Do, Group, Input, Inputs, Module, Name, SetAttr, Statement

Pads = tuple[tuple[int, int], ...]

#: The most inputs of a sum or product written as one expression (`a + b + ...`, `torch.add(torch.add(...))`):
#: Python's parser refuses much deeper nesting, and no network needs more.
MAX_TERMS = 100

#: The layer's module and its first input.
M, X = Module(), Input(0)
#: `module(x)`: a layer called as its module and nothing more.
PLAIN = M(X)


@dataclass
class TorchLayer:
    """One layer in PyTorch: `module` (None for an operator), `extras`, `setup` and the `call`;
    `functional` is the call as a `torch` function where the layer has one (`torch.add`), or the
    layer as a module whose forward runs that function (hooks see its call, not its class)."""

    module: nn.Module | None
    call: Code = PLAIN
    extras: dict[str, nn.Module] = field(default_factory=dict)
    setup: tuple[Statement, ...] = ()
    functional: Code | TorchLayer | None = None


class LayerNorm2d(nn.LayerNorm):
    """torchvision's LayerNorm2d: nn.LayerNorm over the channels of an N×C×H×W map."""

    def forward(self, x):
        x = x.permute(0, 2, 3, 1)
        x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)


class StdConv2d(nn.Conv2d):
    """timm's StdConv2d: nn.Conv2d whose weights are standardised per filter in the forward."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                 eps=1e-6):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias)
        self.eps = eps

    def forward(self, x):
        weight = F.batch_norm(self.weight.reshape(1, self.out_channels, -1), None, None, training=True, momentum=0.0,
                              eps=self.eps).reshape_as(self.weight)
        return F.conv2d(x, weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


class ScaledStdConv2d(nn.Conv2d):
    """timm's ScaledStdConv2d: StdConv2d's weights times a learnt gain per filter and gamma/sqrt(fan-in)."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                 eps=1e-6, gamma=1.0):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias)
        self.eps, self.gamma = eps, gamma
        fan_in = torch.tensor(float(self.weight[0].numel()), dtype=torch.float64, device="cpu")
        self.scale = gamma * float(fan_in.rsqrt())
        self.gain = nn.Parameter(torch.ones((self.out_channels, 1, 1, 1), device=self.weight.device))

    def forward(self, x):
        weight = F.batch_norm(self.weight.reshape(1, self.out_channels, -1), None, None,
                              weight=(self.gain * self.scale).view(-1), training=True, momentum=0.0,
                              eps=self.eps).reshape_as(self.weight)
        return F.conv2d(x, weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


class LearnableAffineBlock(nn.Module):
    """timm's LearnableAffineBlock (HGNetV2): x · s + b with one learnt scale s and bias b for every channel."""

    def __init__(self, scale_value=1.0, bias_value=0.0):
        super().__init__()
        self.scale_value, self.bias_value = scale_value, bias_value
        self.scale = nn.Parameter(torch.full((1,), float(scale_value)))
        self.bias = nn.Parameter(torch.full((1,), float(bias_value)))

    def forward(self, x):
        return self.scale * x + self.bias


class ScalarGain(nn.Module):
    """archcalc's `scalaraffine` without a bias: x · s with one learnt s for every channel (NF-Net's
    `skipinit_gain`)."""

    def __init__(self, scale_value=1.0):
        super().__init__()
        self.scale_value = scale_value
        self.scale = nn.Parameter(torch.full((1,), float(scale_value)))

    def forward(self, x):
        return x * self.scale


class RmsNorm2d(nn.Module):
    """timm's RmsNorm2d: x / sqrt(mean(x^2) + eps) over the channels (axis 1), times a learnt weight per channel."""

    def __init__(self, channels, eps=1e-6):
        super().__init__()
        self.channels, self.eps, self.normalized_shape = channels, eps, (channels,)
        self.weight = nn.Parameter(torch.ones(channels))

    def forward(self, x):
        x = x * torch.rsqrt(x.square().mean(1, keepdim=True) + self.eps)
        return x * self.weight.reshape([-1] + [1] * (x.dim() - 2))


class SimpleNorm2d(nn.Module):
    """timm's SimpleNorm2d: x / sqrt(var(x) + eps) over the channels (axis 1; the variance unbiased, the mean
    not subtracted from x), times a learnt weight per channel."""

    def __init__(self, channels, eps=1e-6):
        super().__init__()
        self.channels, self.eps, self.normalized_shape = channels, eps, (channels,)
        self.weight = nn.Parameter(torch.ones(channels))

    def forward(self, x):
        x = x * torch.rsqrt(torch.var(x, dim=1, keepdim=True) + self.eps)
        return x * self.weight.reshape([-1] + [1] * (x.dim() - 2))


class GlobalResponseNorm(nn.Module):
    """timm's GlobalResponseNorm (ConvNeXt-V2), on an N×C×H×W map: x + weight·(x·n) + bias, n the L2 norm of
    each channel over the positions divided by its mean over the channels (+ eps)."""

    def __init__(self, dim, eps=1e-6, channels_last=False):
        super().__init__()
        self.dim, self.eps, self.channels_last, self.spatial_dim = dim, eps, channels_last, (2, 3)
        self.weight = nn.Parameter(torch.zeros(dim))
        self.bias = nn.Parameter(torch.zeros(dim))

    def forward(self, x):
        norm = x.norm(p=2, dim=(2, 3), keepdim=True)
        response = norm / (norm.mean(dim=1, keepdim=True) + self.eps)
        return x + torch.addcmul(self.bias.view(1, -1, 1, 1), self.weight.view(1, -1, 1, 1), x * response)


class EcaModule(nn.Module):
    """timm's EcaModule (ECA-Net): x times the sigmoid of a 1-D convolution along the channels of its
    global averages (its weight the module's own, where timm's is that of a `conv` submodule)."""

    def __init__(self, kernel_size=3, padding=1):
        super().__init__()
        self.kernel_size, self.padding = kernel_size, padding
        self.weight = nn.Parameter(torch.empty(1, 1, kernel_size))
        nn.init.kaiming_uniform_(self.weight)

    def forward(self, x):
        y = F.conv1d(x.mean((2, 3)).view(x.shape[0], 1, -1), self.weight, padding=self.padding)
        return x * torch.sigmoid(y).view(x.shape[0], -1, 1, 1)


class AttentionPool(nn.Module):
    """archcalc's `attentionpool` (GCNet's context modelling): the positions of x averaged with the weights
    softmax(a) over the positions of the logits a (N, 1, H, W): (N, C, 1, 1)."""

    def forward(self, x, a):
        weights = F.softmax(a.flatten(2), dim=-1).unsqueeze(3)
        return torch.matmul(x.flatten(2).unsqueeze(1), weights).view(x.shape[0], x.shape[1], 1, 1)


class MapAttention(nn.Module):
    """archcalc's `attention`: per head, softmax(qᵀk / √d_k) over the keys, and v times its transpose."""

    def __init__(self, num_heads=1):
        super().__init__()
        self.num_heads = num_heads

    def forward(self, q, k, v):
        heads = [x.flatten(2).unflatten(1, (self.num_heads, -1)) for x in [q, k, v]]
        scale = heads[0].new_tensor(float(heads[0].shape[2])).rsqrt()
        scores = torch.matmul(heads[0].transpose(-2, -1), heads[1]) * scale
        return torch.matmul(heads[2], scores.softmax(-1).transpose(-2, -1)).reshape(v.shape)


class DFLDecode(nn.Module):
    """archcalc's `dfl`: the boxes (centre, width, height) and class scores of every anchor of the levels."""

    def __init__(self, reg_max=16, strides=(8, 16, 32)):
        super().__init__()
        self.reg_max = reg_max
        self.strides = strides
        self.weight = nn.Parameter(torch.arange(reg_max).float().view(1, reg_max, 1, 1))

    def forward(self, maps):
        n = maps[0].shape[0]
        flat = torch.cat([x.flatten(2) for x in maps], 2)
        logits = flat[:, :4 * self.reg_max].view(n, 4, self.reg_max, -1).transpose(2, 1).softmax(1)
        distances = F.conv2d(logits, self.weight).view(n, 4, -1)
        centres = []
        strides = []
        for x, stride in zip(maps, self.strides):
            h, w = x.shape[2:]
            ys, xs = torch.meshgrid(torch.arange(h, dtype=x.dtype) + 0.5, torch.arange(w, dtype=x.dtype) + 0.5,
                                    indexing="ij")
            centres.append(torch.stack([xs.flatten(), ys.flatten()]))
            strides.append(torch.full((h * w,), float(stride), dtype=x.dtype))
        centre = torch.cat(centres, 1)
        low = centre - distances[:, :2]
        high = centre + distances[:, 2:]
        box = torch.cat([(low + high) / 2, high - low], 1) * torch.cat(strides)
        return torch.cat([box, flat[:, 4 * self.reg_max:].sigmoid()], 1).unsqueeze(2)


class FixedRoIAlign(nn.Module):
    """archcalc's `roialign`: torchvision's `roi_align` (aligned=False) of the fixed boxes of each level
    (`archcalc.layers.roi.fixed_boxes`: `counts` squares of side `sides` per level), the RoIs after the
    batch: N×R×C×h×w."""

    def __init__(self, rois, output_size=(7, 7), sampling_ratio=2, strides=(1,), counts=(1,), sides=(1.0,)):
        super().__init__()
        self.rois = rois
        self.output_size = output_size
        self.sampling_ratio = sampling_ratio
        self.strides = strides
        self.counts = counts
        self.sides = sides

    def forward(self, maps):
        height, width = maps[0].shape[-2] * self.strides[0], maps[0].shape[-1] * self.strides[0]
        pooled = []
        for x, stride, count, side in zip(maps, self.strides, self.counts, self.sides):
            j = torch.arange(1, count + 1, dtype=torch.float64, device=x.device)
            x1 = torch.remainder(j * 0.6180339887498949, 1.0) * (width - side) / stride
            y1 = torch.remainder(j * 0.7548776662466927, 1.0) * (height - side) / stride
            rows = self.sampling(y1, side / stride, self.output_size[0], x.shape[-2]).to(x.dtype)
            cols = self.sampling(x1, side / stride, self.output_size[1], x.shape[-1]).to(x.dtype)
            pooled.append(torch.einsum("rah,nchw,rbw->nrcab", rows, x, cols))
        return torch.cat(pooled, 1)

    def sampling(self, starts, size, bins, n):
        """(B, bins, n): each input position's weight in each bin's mean of bilinear samples."""
        ratio = self.sampling_ratio
        steps = torch.arange(bins, dtype=starts.dtype, device=starts.device)[:, None]
        offsets = steps + (torch.arange(ratio, dtype=starts.dtype, device=starts.device) + 0.5) / ratio
        length = torch.full_like(starts, size).clamp(min=1.0)
        at = starts[:, None, None] + offsets * (length / bins)[:, None, None]
        inside = torch.logical_and(at.ge(-1.0), at.le(n))
        at = at.clamp(min=0.0)
        low = at.floor().long().clamp(max=n - 1)
        high = (low + 1).clamp(max=n - 1)
        frac = torch.where(low.ge(n - 1), torch.zeros_like(at), at - low)
        weight = torch.zeros(at.shape[0], bins, n, dtype=at.dtype, device=at.device)
        weight.scatter_add_(2, low, torch.where(inside, 1 - frac, torch.zeros_like(at)) / ratio)
        weight.scatter_add_(2, high, torch.where(inside, frac, torch.zeros_like(at)) / ratio)
        return weight


class FixedRoIPool(nn.Module):
    """archcalc's `roipool`: torchvision's `roi_pool` of the fixed boxes of each level (`counts` squares of side
    `sides`, as `FixedRoIAlign`), the RoIs after the batch: N×R×C×h×w."""

    def __init__(self, rois, output_size=(7, 7), strides=(1,), counts=(1,), sides=(1.0,)):
        super().__init__()
        self.rois = rois
        self.output_size = output_size
        self.strides = strides
        self.counts = counts
        self.sides = sides

    def forward(self, maps):
        height, width = maps[0].shape[-2] * self.strides[0], maps[0].shape[-1] * self.strides[0]
        pooled = []
        for x, stride, count, side in zip(maps, self.strides, self.counts, self.sides):
            j = torch.arange(1, count + 1, dtype=torch.float64, device=x.device)
            x1 = torch.remainder(j * 0.6180339887498949, 1.0) * (width - side) / stride
            y1 = torch.remainder(j * 0.7548776662466927, 1.0) * (height - side) / stride
            rows = self.bins(y1, y1 + side / stride, self.output_size[0], x.shape[-2])
            cols = self.bins(x1, x1 + side / stride, self.output_size[1], x.shape[-1])
            lowest = torch.full((), float("-inf"), dtype=x.dtype, device=x.device)
            across = torch.where(cols[None, :, None, None], x[:, None, :, :, None, :], lowest).amax(-1)
            found = torch.where(rows[None, :, None, :, :, None], across[:, :, :, None], lowest).amax(4)
            pooled.append(torch.where(torch.isinf(found), torch.zeros_like(found), found))
        return torch.cat(pooled, 1)

    def bins(self, starts, ends, bins, n):
        """(B, bins, n) booleans: the input positions each bin takes its maximum over."""
        low = torch.floor(starts + 0.5)
        length = (torch.floor(ends + 0.5) - low + 1).clamp(min=1.0)[:, None] / bins
        steps = torch.arange(bins, dtype=starts.dtype, device=starts.device)[None, :]
        first = (torch.floor(steps * length) + low[:, None]).clamp(0, n)
        last = (torch.ceil((steps + 1) * length) + low[:, None]).clamp(0, n)
        positions = torch.arange(n, dtype=starts.dtype, device=starts.device)[None, None, :]
        return torch.logical_and(positions.ge(first[:, :, None]), positions.lt(last[:, :, None]))


class SpaceToDepth(nn.Module):
    """timm's SpaceToDepth: (C, H, W) → (C·b², H/b, W/b), the b×b block's row and column before the channel."""

    def __init__(self, block_size=4):
        super().__init__()
        self.block_size = block_size

    def forward(self, x):
        blocks = x.unflatten(3, (-1, self.block_size)).unflatten(2, (-1, self.block_size))   # N, C, H/b, b, W/b, b
        return blocks.permute(0, 3, 5, 1, 2, 4).flatten(1, 3)


class StarReLU(nn.Module):
    """timm's StarReLU: s · relu(x)² + b, s and b one learnt value each."""

    def __init__(self):
        super().__init__()
        self.relu = nn.ReLU()
        self.scale = nn.Parameter(torch.ones(1))
        self.bias = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        y = self.relu(x)
        return self.scale * (y * y) + self.bias


class SquaredReLU(nn.Module):
    """timm's SquaredReLU: relu(x)²."""

    def __init__(self):
        super().__init__()
        self.relu = nn.ReLU()

    def forward(self, x):
        return torch.square(self.relu(x))


class BlurPool2d(nn.Module):
    """timm's BlurPool2d: each channel padded (reflect or constant) by `padding` (rows, columns), timm's
    (stride − 1 + filt_size − 1) // 2, then convolved with stride `stride` by the fixed filt_size² filter of
    binomial coefficients (a buffer)."""

    def __init__(self, filt_size=3, stride=2, pad_mode="reflect", padding=1):
        super().__init__()
        self.filt_size = filt_size
        self.stride = stride
        self.pad_mode = pad_mode
        self.padding = padding
        row = torch.ones(1)
        for _ in range(filt_size - 1):
            row = torch.cat([row, torch.zeros(1)]) + torch.cat([torch.zeros(1), row])
        row = row / row.sum()
        self.register_buffer("filt", (row[:, None] * row[None, :])[None, None], persistent=False)

    def forward(self, x):
        rows, columns = nn.modules.utils._pair(self.padding)
        x = F.pad(x, [columns, columns, rows, rows], mode=self.pad_mode)
        weight = self.filt.expand(x.shape[1], 1, self.filt_size, self.filt_size)
        return F.conv2d(x, weight, stride=self.stride, groups=x.shape[1])


def _torch_pad(pads: Pads) -> tuple[int, ...]:
    """((top, bottom), (left, right)) in `F.pad` order, the last axis first: (left, right, top, bottom)."""
    return tuple(p for side in reversed(pads) for p in side)


def _symmetric(pads: Pads) -> bool:
    return all(before == after for before, after in pads)


def _same(values: tuple[int, ...]) -> int | tuple[int, ...]:
    """An int where every axis agrees (as a person writes `kernel_size=3`)."""
    return values[0] if len(set(values)) == 1 else tuple(values)


def _padded(module: nn.Module, pads: Pads, activation: nn.Module | None) -> TorchLayer:
    """`module` after an explicit `F.pad` when `pads` are asymmetric, then the fused `activation`."""
    call = PLAIN if _symmetric(pads) else M(Name("F.pad")(X, _torch_pad(pads)))
    extras = {}
    if activation is not None:
        suffix = type(activation).__name__.lower()
        extras[suffix] = activation
        call = Module(suffix)(call)
    return TorchLayer(module, call, extras)


def conv(in_channels: int, out_channels: int, kernel, stride, pads: Pads, dilation, groups: int, bias: bool,
         activation: nn.Module | None, standardized: tuple[str, float, float] | None = None) -> TorchLayer:
    """`nn.Conv2d` (`Conv1d`, `Conv3d` by the kernel's axes; explicitly padded when asymmetric), then the
    fused activation; with its weights `standardized` ("plain" or "scaled", ε, γ), a `StdConv2d` or
    `ScaledStdConv2d` (2-D only)."""
    padding = _same(tuple(before for before, _ in pads)) if _symmetric(pads) else 0
    arguments = (in_channels, out_channels, _same(kernel), _same(stride), padding, _same(dilation), groups, bias)
    if standardized is None:
        module = _by_axes("Conv", len(kernel))(*arguments)
    elif len(kernel) != 2:
        raise ExportError("weight standardisation has a PyTorch module for 2-D convolutions only")
    elif standardized[0] == "plain":
        module = StdConv2d(*arguments, standardized[1])
    else:
        module = ScaledStdConv2d(*arguments, *standardized[1:])
    return _padded(module, pads, activation)


def linear(in_features: int, out_features: int, bias: bool, activation: nn.Module | None) -> TorchLayer:
    """`nn.Linear`, then the fused activation."""
    return _padded(nn.Linear(in_features, out_features, bias), ((0, 0), (0, 0)), activation)


def batchnorm(channels: int, rank: int, eps: float, momentum: float, affine: bool, track_running_stats: bool,
              activation: nn.Module | None, scale: bool = True) -> TorchLayer:
    """`nn.BatchNorm2d` (`BatchNorm1d` on a flat or (C, L) input, `BatchNorm3d` on (C, T, H, W)), then the
    fused activation. Keras `scale=False`: γ is a constant 1, a buffer outside the state_dict rather than a
    parameter."""
    cls = _by_axes("BatchNorm", max(rank - 1, 1))
    layer = _padded(cls(channels, eps, momentum, affine, track_running_stats), ((0, 0), (0, 0)), activation)
    if affine and not scale:
        layer.setup = (Delete(M.attr("weight"), "Keras scale=False: γ is a constant 1"),
                       Do(M.method("register_buffer", "weight", Name("torch.ones")(channels), persistent=False)))
    return layer


def _by_axes(name: str, axes: int) -> type[nn.Module]:
    """PyTorch's module `name` over `axes` spatial axes: `Conv` and 3 → `nn.Conv3d`."""
    return getattr(nn, f"{name}{axes}d")


def pool(mode: str, kernel, stride, pads: Pads, dilation, ceil_mode: bool, count_include_pad: bool,
         out: tuple[int, ...]) -> TorchLayer:
    """Max, average or sum pooling with archcalc's padding forms and output size (`nn.MaxPool2d`, or
    `MaxPool1d` or `MaxPool3d` by the kernel's axes, ...).

    Symmetric padding is PyTorch's own; asymmetric padding is explicit (−∞ for max, zeros for
    average and sum; average pooling that excludes padding divides by the pooled mask of the
    input), and with `ceil_mode` the result is cut to the size archcalc's rule gives.
    """
    symmetric = _symmetric(pads)
    padding = _same(tuple(before for before, _ in pads)) if symmetric else 0
    if mode == "max":
        module = _by_axes("MaxPool", len(kernel))(_same(kernel), _same(stride), padding, _same(dilation),
                                                  ceil_mode=ceil_mode)
    else:
        divisor = (1 if mode == "sum" else None,) if len(kernel) > 1 else ()  # AvgPool1d has no divisor_override
        module = _by_axes("AvgPool", len(kernel))(_same(kernel), _same(stride), padding, ceil_mode,
                                                  count_include_pad or not symmetric, *divisor)
    if symmetric:
        return TorchLayer(module)
    pad, f_pad = _torch_pad(pads), Name("F.pad")
    if mode == "max":
        call = M(f_pad(X, pad, value=Name("float")("-inf")))
    elif mode == "avg" and not count_include_pad:
        call = M(f_pad(X, pad)) / M(f_pad(Name("torch.ones_like")(X[:1, :1]), pad))
    else:
        call = M(f_pad(X, pad))
    if ceil_mode:
        call = Group(call)[(slice(None), slice(None), *(slice(None, o) for o in out))]
    return TorchLayer(module, call)


def global_pool(mode: str, keepdims: bool, axes: int = 2) -> TorchLayer:
    """Mean or max over H and W (over all `axes` spatial axes) as `nn.AdaptiveAvgPool2d(1)` /
    `AdaptiveMaxPool2d(1)` (`1d`, `3d`), flattened to (C,) unless `keepdims`."""
    module = _by_axes("AdaptiveMaxPool" if mode == "max" else "AdaptiveAvgPool", axes)(1)
    return TorchLayer(module, PLAIN if keepdims else PLAIN.method("flatten", 1))


def _terms(count: int, what: str) -> list[Code]:
    if count > MAX_TERMS:
        raise ExportError(f"{what} of {count:,} inputs: PyTorch code is written for at most {MAX_TERMS}")
    return [Input(k) for k in range(count)]


def _chain(function: str, terms: list[Code]) -> Code:
    """`torch.add(torch.add(a, b), c)`: a binary function over the terms, from the left."""
    result = terms[0]
    for term in terms[1:]:
        result = Name(function)(result, term)
    return result


def add(count: int) -> TorchLayer:
    """Elementwise sum of the inputs."""
    terms = _terms(count, "a sum")
    call = terms[0]
    for term in terms[1:]:
        call = call + term
    return TorchLayer(None, call, functional=_chain("torch.add", terms))


def subtract() -> TorchLayer:
    """The first input minus the second."""
    first, second = _terms(2, "a difference")
    return TorchLayer(None, first - second, functional=Name("torch.sub")(first, second))


def multiply(shapes: list[tuple[int, ...]]) -> TorchLayer:
    """Elementwise product, per-sample shapes broadcast from the right (SE gating)."""
    rank = max(len(shape) for shape in shapes)
    terms = _terms(len(shapes), "a product")
    for k, shape in enumerate(shapes):
        term = terms[k]
        if len(shape) < rank:
            terms[k] = term.method("reshape", -1, *([1] * (rank - len(shape)) + list(shape)))
    call = terms[0]
    for term in terms[1:]:
        call = call * term
    return TorchLayer(None, call, functional=_chain("torch.mul", terms))


def concat() -> TorchLayer:
    """Concatenation along channels (dim 1)."""
    return TorchLayer(None, Name("torch.cat")(Inputs(), 1))


def channel_slice(start: int, end: int) -> TorchLayer:
    """Channels [start, end)."""
    return TorchLayer(None, X[:, slice(start or None, end)])


def _channels_last(call: Code) -> Code:
    """`call` run with the channels last (an N×H×W×C view of the map), then the channels put back."""
    return call.replaced(X, X.method("permute", 0, 2, 3, 1)).method("permute", 0, 3, 1, 2)


def _per_channel(tensor: Code, rank: int) -> Code:
    """How a (C,) tensor broadcasts over one sample of this rank: along C of a (C, H, W) map."""
    return tensor.method("reshape", -1, 1, 1) if rank == 3 else tensor


def channel_layer_norm(channels: int, eps: float, affine: bool, rank: int, bias: bool = True) -> TorchLayer:
    """`nn.LayerNorm` over the channels at every position of a map, or over the features of a flat
    input; run as a function, the map's is torchvision's `LayerNorm2d` (a module calling
    `F.layer_norm`), the flat input's `F.layer_norm` with the module's γ and β."""
    module = nn.LayerNorm(channels, eps=eps, elementwise_affine=affine, bias=bias)
    if rank == 3:
        return TorchLayer(module, _channels_last(PLAIN),
                          functional=TorchLayer(LayerNorm2d(channels, eps=eps, elementwise_affine=affine, bias=bias)))
    return TorchLayer(module, PLAIN, functional=Name("F.layer_norm")(
        X, M.attr("normalized_shape"), M.attr("weight"), M.attr("bias"), M.attr("eps")))


def point_linear(in_features: int, out_features: int, bias: bool) -> TorchLayer:
    """`nn.Linear` over the channels at every position of a map (ConvNeXt's Linear between permutes)."""
    return TorchLayer(nn.Linear(in_features, out_features, bias), _channels_last(PLAIN))


def layer_scale(channels: int, init: float, rank: int) -> TorchLayer:
    """x · γ with a learnt γ per channel (ConvNeXt's `layer_scale`, timm's `LayerScale2d`)."""
    gamma = Name("nn.Parameter")(Name("torch.full")((channels,), float(init)))
    return TorchLayer(nn.Module(), X * _per_channel(M.attr("gamma"), rank), setup=(SetAttr(M.attr("gamma"), gamma),))


def l2_norm(eps: float) -> TorchLayer:
    """x / max(‖x‖₂, eps) over the channels: `F.normalize`."""
    return TorchLayer(None, Name("F.normalize")(X, p=2.0, dim=1, eps=float(eps)))


def normalization(channels: int, rank: int) -> TorchLayer:
    """Keras `Normalization`: (x − mean) / max(√variance, 1e-7) per channel; mean, variance and the
    sample count are non-trainable buffers."""
    mean, variance = _per_channel(M.attr("mean"), rank), _per_channel(M.attr("variance"), rank)
    buffers = (("mean", Name("torch.zeros")(channels)), ("variance", Name("torch.ones")(channels)),
               ("count", Name("torch.zeros")(())))
    return TorchLayer(nn.Module(), (X - mean) / variance.method("sqrt").method("clamp_min", Const(1e-7, "1e-7")),
                      setup=tuple(Do(M.method("register_buffer", key, value)) for key, value in buffers))


def rescaling(scale: float, offset: float) -> TorchLayer:
    """Keras `Rescaling`: x · scale + offset."""
    return TorchLayer(None, X * float(scale) + float(offset))


def permute(dims: tuple[int, ...]) -> TorchLayer:
    """The per-sample axes in the order `dims` (torchvision's `Permute`, without the batch axis)."""
    return TorchLayer(None, X.method("permute", 0, *(d + 1 for d in dims)).method("contiguous"))


def reshape(shape: tuple[int, ...]) -> TorchLayer:
    """Each sample laid out as `shape`, the batch axis kept: `x.reshape(-1, *shape)`."""
    return TorchLayer(None, X.method("reshape", -1, *shape))


def crop(widths: Pads, size: tuple[int, int]) -> TorchLayer:
    """Rows and columns cut off the edges: ((top, bottom), (left, right)) of an H×W map."""
    (top, bottom), (left, right) = widths
    return TorchLayer(None, X[:, :, slice(top or None, size[0] - bottom), slice(left or None, size[1] - right)])
