"""How a layer runs in PyTorch, for the layer types whose call is more than `nn.<Module>(x)` (imported
only with torch, by the layer classes' `torch_module`).

PyTorch's own module classes are used (hook-based counting tools recognise them by exact type),
so a layer is a `TorchLayer`: its module, further modules keyed by a suffix (a fused activation),
statements that finish building them, and its call as Python source, `{m}` standing for the
module, `{m_<suffix>}` for the others and `{0}`, `{1}`, ... (or `{inputs}`, all of them) for the
inputs. The same source is written into exported code and run by `archcalc.to_torch`. The one
class of this module's own, `LayerNorm2d`, is torchvision's, and an export that uses it carries
its source. Asymmetric padding is an explicit `F.pad` before an unpadded convolution or pooling.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch.nn.functional as F
from torch import nn

Pads = tuple[tuple[int, int], tuple[int, int]]


@dataclass
class TorchLayer:
    """One layer in PyTorch: `module` (None for an operator), `extras`, `setup` and the `call` source;
    `functional` is the call as a `torch` function where the layer has one (`torch.add`), or the
    layer as a module whose forward runs that function (hooks see its call, not its class)."""

    module: nn.Module | None
    call: str = "{m}({0})"
    extras: dict[str, nn.Module] = field(default_factory=dict)
    setup: tuple[str, ...] = ()
    functional: str | TorchLayer | None = None


class LayerNorm2d(nn.LayerNorm):
    """torchvision's LayerNorm2d: nn.LayerNorm over the channels of an N×C×H×W map."""

    def forward(self, x):
        x = x.permute(0, 2, 3, 1)
        x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)


def _torch_pad(pads: Pads) -> tuple[int, int, int, int]:
    """((top, bottom), (left, right)) in `F.pad` order (left, right, top, bottom)."""
    (top, bottom), (left, right) = pads
    return (left, right, top, bottom)


def _symmetric(pads: Pads) -> bool:
    return pads[0][0] == pads[0][1] and pads[1][0] == pads[1][1]


def _same(pair: tuple[int, int]) -> int | tuple[int, int]:
    """An int where both axes agree (as a person writes `kernel_size=3`)."""
    return pair[0] if pair[0] == pair[1] else tuple(pair)


def _padded(module: nn.Module, pads: Pads, call: str, activation: nn.Module | None, value: str = "") -> TorchLayer:
    """`module` after an explicit `F.pad` when `pads` are asymmetric, then the fused `activation`."""
    if not _symmetric(pads):
        call = call.replace("{0}", f"F.pad({{0}}, {_torch_pad(pads)}{value})")
    extras = {}
    if activation is not None:
        suffix = type(activation).__name__.lower()
        extras[suffix] = activation
        call = f"{{m_{suffix}}}({call})"
    return TorchLayer(module, call, extras)


def conv2d(in_channels: int, out_channels: int, kernel, stride, pads: Pads, dilation, groups: int, bias: bool,
           activation: nn.Module | None) -> TorchLayer:
    """`nn.Conv2d` (explicitly padded when asymmetric), then the fused activation."""
    padding = _same((pads[0][0], pads[1][0])) if _symmetric(pads) else 0
    module = nn.Conv2d(in_channels, out_channels, _same(kernel), _same(stride), padding, _same(dilation), groups,
                       bias)
    return _padded(module, pads, "{m}({0})", activation)


def linear(in_features: int, out_features: int, bias: bool, activation: nn.Module | None) -> TorchLayer:
    """`nn.Linear`, then the fused activation."""
    return _padded(nn.Linear(in_features, out_features, bias), ((0, 0), (0, 0)), "{m}({0})", activation)


def batchnorm(channels: int, rank: int, eps: float, momentum: float, affine: bool, track_running_stats: bool,
              activation: nn.Module | None, scale: bool = True) -> TorchLayer:
    """`nn.BatchNorm2d` (`BatchNorm1d` on a flat input), then the fused activation. Keras `scale=False`:
    γ is a constant 1, a buffer outside the state_dict rather than a parameter."""
    cls = nn.BatchNorm2d if rank == 3 else nn.BatchNorm1d
    layer = _padded(cls(channels, eps, momentum, affine, track_running_stats), ((0, 0), (0, 0)), "{m}({0})",
                    activation)
    if affine and not scale:
        layer.setup = ("del {m}.weight  # Keras scale=False: γ is a constant 1",
                       f"{{m}}.register_buffer('weight', torch.ones({channels}), persistent=False)")
    return layer


def pool2d(mode: str, kernel, stride, pads: Pads, dilation, ceil_mode: bool, count_include_pad: bool,
           out: tuple[int, int]) -> TorchLayer:
    """Max, average or sum pooling with archcalc's padding forms and output size.

    Symmetric padding is PyTorch's own; asymmetric padding is explicit (−∞ for max, zeros for
    average and sum; average pooling that excludes padding divides by the pooled mask of the
    input), and with `ceil_mode` the result is cut to the size archcalc's rule gives.
    """
    symmetric = _symmetric(pads)
    padding = _same((pads[0][0], pads[1][0])) if symmetric else 0
    if mode == "max":
        module = nn.MaxPool2d(_same(kernel), _same(stride), padding, _same(dilation), ceil_mode=ceil_mode)
    else:
        module = nn.AvgPool2d(_same(kernel), _same(stride), padding, ceil_mode, count_include_pad or not symmetric,
                              1 if mode == "sum" else None)
    if symmetric:
        return TorchLayer(module)
    pad = _torch_pad(pads)
    if mode == "max":
        call = f"{{m}}(F.pad({{0}}, {pad}, value=float('-inf')))"
    elif mode == "avg" and not count_include_pad:
        call = f"{{m}}(F.pad({{0}}, {pad})) / {{m}}(F.pad(torch.ones_like({{0}}[:1, :1]), {pad}))"
    else:
        call = f"{{m}}(F.pad({{0}}, {pad}))"
    if ceil_mode:
        call = f"({call})[:, :, :{out[0]}, :{out[1]}]"
    return TorchLayer(module, call)


def global_pool(mode: str, keepdims: bool) -> TorchLayer:
    """Mean or max over H and W as `nn.AdaptiveAvgPool2d(1)` / `AdaptiveMaxPool2d(1)`, flattened
    to (C,) unless `keepdims`."""
    module = nn.AdaptiveMaxPool2d(1) if mode == "max" else nn.AdaptiveAvgPool2d(1)
    return TorchLayer(module, "{m}({0})" if keepdims else "{m}({0}).flatten(1)")


def add(count: int) -> TorchLayer:
    """Elementwise sum of the inputs."""
    terms = [f"{{{k}}}" for k in range(count)]
    functional = terms[0]
    for term in terms[1:]:
        functional = f"torch.add({functional}, {term})"
    return TorchLayer(None, " + ".join(terms), functional=functional)


def multiply(shapes: list[tuple[int, ...]]) -> TorchLayer:
    """Elementwise product, per-sample shapes broadcast from the right (SE gating)."""
    rank = max(len(shape) for shape in shapes)
    terms = []
    for k, shape in enumerate(shapes):
        lift = f"{{{k}}}"
        if len(shape) < rank:
            lift = f"{lift}.reshape(-1, {', '.join(map(str, [1] * (rank - len(shape)) + list(shape)))})"
        terms.append(lift)
    functional = terms[0]
    for term in terms[1:]:
        functional = f"torch.mul({functional}, {term})"
    return TorchLayer(None, " * ".join(terms), functional=functional)


def concat() -> TorchLayer:
    """Concatenation along channels (dim 1)."""
    return TorchLayer(None, "torch.cat([{inputs}], 1)")


def channel_slice(start: int, end: int) -> TorchLayer:
    """Channels [start, end)."""
    return TorchLayer(None, f"{{0}}[:, {start or ''}:{end}]")


def _channels_last(call: str) -> str:
    """`call` run with the channels last (an N×H×W×C view of the map), then the channels put back."""
    return call.replace("{0}", "{0}.permute(0, 2, 3, 1)") + ".permute(0, 3, 1, 2)"


def _per_channel(rank: int) -> str:
    """How a (C,) tensor broadcasts over one sample of this rank: along C of a (C, H, W) map."""
    return ".reshape(-1, 1, 1)" if rank == 3 else ""


def channel_layer_norm(channels: int, eps: float, affine: bool, rank: int) -> TorchLayer:
    """`nn.LayerNorm` over the channels at every position of a map, or over the features of a flat
    input; run as a function, the map's is torchvision's `LayerNorm2d` (a module calling
    `F.layer_norm`), the flat input's `F.layer_norm` with the module's γ and β."""
    module = nn.LayerNorm(channels, eps=eps, elementwise_affine=affine)
    if rank == 3:
        return TorchLayer(module, _channels_last("{m}({0})"),
                          functional=TorchLayer(LayerNorm2d(channels, eps=eps, elementwise_affine=affine)))
    return TorchLayer(module, "{m}({0})",
                      functional="F.layer_norm({0}, {m}.normalized_shape, {m}.weight, {m}.bias, {m}.eps)")


def point_linear(in_features: int, out_features: int, bias: bool) -> TorchLayer:
    """`nn.Linear` over the channels at every position of a map (ConvNeXt's Linear between permutes)."""
    return TorchLayer(nn.Linear(in_features, out_features, bias), _channels_last("{m}({0})"))


def layer_scale(channels: int, init: float, rank: int) -> TorchLayer:
    """x · γ with a learnt γ per channel (ConvNeXt's `layer_scale`, timm's `LayerScale2d`)."""
    return TorchLayer(nn.Module(), f"{{0}} * {{m}}.gamma{_per_channel(rank)}",
                      setup=(f"{{m}}.gamma = nn.Parameter(torch.full(({channels},), {float(init)!r}))",))


def normalization(channels: int, rank: int) -> TorchLayer:
    """Keras `Normalization`: (x − mean) / max(√variance, 1e-7) per channel; mean, variance and the
    sample count are non-trainable buffers."""
    r = _per_channel(rank)
    return TorchLayer(nn.Module(), f"({{0}} - {{m}}.mean{r}) / {{m}}.variance{r}.sqrt().clamp_min(1e-7)",
                      setup=(f"{{m}}.register_buffer('mean', torch.zeros({channels}))",
                             f"{{m}}.register_buffer('variance', torch.ones({channels}))",
                             "{m}.register_buffer('count', torch.zeros(()))"))


def rescaling(scale: float, offset: float) -> TorchLayer:
    """Keras `Rescaling`: x · scale + offset."""
    return TorchLayer(None, f"{{0}} * {float(scale)!r} + {float(offset)!r}")


def permute(dims: tuple[int, ...]) -> TorchLayer:
    """The per-sample axes in the order `dims` (torchvision's `Permute`, without the batch axis)."""
    order = ", ".join(str(d) for d in (0, *(d + 1 for d in dims)))
    return TorchLayer(None, f"{{0}}.permute({order}).contiguous()")
