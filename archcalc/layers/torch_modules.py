"""PyTorch modules for the layer types PyTorch lacks or pads differently (imported only with torch,
by the layer classes' `torch_module`).

The modules keep PyTorch's parameter names (`weight`, `bias`, `running_mean`, `running_var`), so
a state_dict of the whole network has the keys `<layer path>.<parameter>`, as archcalc's own.
Asymmetric padding is an explicit `F.pad` followed by an unpadded convolution or pooling.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

Pads = tuple[tuple[int, int], tuple[int, int]]


def _torch_pad(pads: Pads) -> tuple[int, int, int, int]:
    """((top, bottom), (left, right)) in `F.pad` order (left, right, top, bottom)."""
    (top, bottom), (left, right) = pads
    return (left, right, top, bottom)


def _symmetric(pads: Pads) -> bool:
    return pads[0][0] == pads[0][1] and pads[1][0] == pads[1][1]


class Conv2d(nn.Conv2d):
    """`nn.Conv2d` with explicit (possibly asymmetric) padding, then `act` (the fused activation's module)."""

    def __init__(self, in_channels: int, out_channels: int, kernel, stride, pads: Pads, dilation, groups: int,
                 bias: bool, act: nn.Module):
        symmetric = _symmetric(pads)
        padding = (pads[0][0], pads[1][0]) if symmetric else 0
        super().__init__(in_channels, out_channels, kernel, stride, padding, dilation, groups, bias)
        self.explicit_pad = None if symmetric else _torch_pad(pads)
        self.act = act

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.explicit_pad is not None:
            x = F.pad(x, self.explicit_pad)
        return self.act(super().forward(x))


class Linear(nn.Linear):
    """`nn.Linear`, then `act` (the fused activation's module)."""

    def __init__(self, in_features: int, out_features: int, bias: bool, act: nn.Module):
        super().__init__(in_features, out_features, bias)
        self.act = act

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(super().forward(x))


class BatchNorm(nn.modules.batchnorm._BatchNorm):
    """BatchNorm1d/2d in one class (the input's rank decides), then `act` (the fused activation's module)."""

    def __init__(self, channels: int, eps: float, momentum: float, affine: bool, track_running_stats: bool,
                 act: nn.Module, scale: bool = True):
        super().__init__(channels, eps, momentum, affine, track_running_stats)
        self.act = act
        if affine and not scale:  # Keras scale=False: γ is a constant 1, not a parameter
            del self.weight
            self.register_buffer("weight", torch.ones(channels), persistent=False)

    def _check_input_dim(self, x: torch.Tensor) -> None:
        if x.dim() not in (2, 4):
            raise ValueError(f"expected a 2-D or 4-D input, got {x.dim()}-D")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(super().forward(x))


class Pool2d(nn.Module):
    """Max, average or sum pooling with archcalc's padding forms and output size.

    Symmetric padding uses PyTorch's own padded pooling; asymmetric padding pads explicitly
    (−∞ for max, zeros for average and sum; average pooling that excludes padding divides by a
    pooled mask) and the result is cut to the size archcalc's ceil_mode rule gives.
    """

    def __init__(self, mode: str, kernel, stride, pads: Pads, dilation, ceil_mode: bool, count_include_pad: bool,
                 out: tuple[int, int]):
        super().__init__()
        self.mode, self.kernel, self.stride, self.pads = mode, kernel, stride, pads
        self.dilation, self.ceil_mode, self.count_include_pad, self.out = dilation, ceil_mode, count_include_pad, out

    def pool(self, x: torch.Tensor, padding, count_include_pad: bool) -> torch.Tensor:
        if self.mode == "max":
            return F.max_pool2d(x, self.kernel, self.stride, padding, self.dilation, self.ceil_mode)
        divisor = 1 if self.mode == "sum" else None
        return F.avg_pool2d(x, self.kernel, self.stride, padding, self.ceil_mode, count_include_pad, divisor)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if _symmetric(self.pads):
            return self.pool(x, (self.pads[0][0], self.pads[1][0]), self.count_include_pad)
        pad = _torch_pad(self.pads)
        if self.mode == "max":
            y = self.pool(F.pad(x, pad, value=float("-inf")), 0, True)
        elif self.mode == "avg" and not self.count_include_pad:
            mask = F.pad(torch.ones_like(x[:1, :1]), pad)
            y = self.pool(F.pad(x, pad), 0, True) / self.pool(mask, 0, True)
        else:
            y = self.pool(F.pad(x, pad), 0, True)
        return y[:, :, :self.out[0], :self.out[1]]


class GlobalPool(nn.Module):
    """Mean or max over H and W, keeping (C, 1, 1) or flattening to (C,)."""

    def __init__(self, mode: str, keepdims: bool):
        super().__init__()
        self.mode, self.keepdims = mode, keepdims

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.mode == "max":
            return x.amax(dim=(2, 3), keepdim=self.keepdims)
        return x.mean(dim=(2, 3), keepdim=self.keepdims)


class Add(nn.Module):
    """Elementwise sum of the inputs."""

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        total = xs[0]
        for x in xs[1:]:
            total = total + x
        return total


class Multiply(nn.Module):
    """Elementwise product, per-sample shapes broadcast from the right (SE gating)."""

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        rank = max(x.dim() for x in xs)
        product = None
        for x in xs:
            x = x.reshape(x.shape[0], *([1] * (rank - x.dim())), *x.shape[1:])
            product = x if product is None else product * x
        return product


class Concat(nn.Module):
    """Concatenation along channels (dim 1)."""

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        return torch.cat(xs, dim=1)


class Slice(nn.Module):
    """Channels [start, end)."""

    def __init__(self, start: int, end: int):
        super().__init__()
        self.start, self.end = start, end

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, self.start:self.end]


class ChannelLayerNorm(nn.LayerNorm):
    """`LayerNorm` over the channels of an N×C×H×W map at every position (torchvision's `LayerNorm2d`),
    or over the features of an N×F input."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4:
            return super().forward(x)
        return super().forward(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


class PointLinear(nn.Linear):
    """`nn.Linear` over the channels at every position of an N×C×H×W map (ConvNeXt's Linear between permutes)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


def _per_channel(values: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return values.reshape((-1,) + (1,) * (x.dim() - 2))


class LayerScale(nn.Module):
    """x · γ with a learnt γ per channel (timm's `LayerScale2d`, ConvNeXt's `layer_scale`)."""

    def __init__(self, channels: int, init: float):
        super().__init__()
        self.gamma = nn.Parameter(torch.full((channels,), float(init)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * _per_channel(self.gamma, x)


class Normalization(nn.Module):
    """Keras `Normalization`: (x − mean) / max(√variance, 1e-7) per channel; mean, variance and the
    sample count are non-trainable (buffers)."""

    def __init__(self, channels: int):
        super().__init__()
        self.register_buffer("mean", torch.zeros(channels))
        self.register_buffer("variance", torch.ones(channels))
        self.register_buffer("count", torch.zeros(()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - _per_channel(self.mean, x)) / _per_channel(self.variance, x).sqrt().clamp_min(1e-7)


class Rescaling(nn.Module):
    """Keras `Rescaling`: x · scale + offset."""

    def __init__(self, scale: float, offset: float):
        super().__init__()
        self.scale, self.offset = scale, offset

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.scale + self.offset


class Permute(nn.Module):
    """The per-sample axes in the order `dims` (torchvision's `Permute`, without the batch axis)."""

    def __init__(self, dims: tuple[int, ...]):
        super().__init__()
        self.dims = (0, *(d + 1 for d in dims))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.permute(self.dims).contiguous()
