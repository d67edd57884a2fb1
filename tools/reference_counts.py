#!/usr/bin/env python3
"""Record ground-truth parameter / MAC / FLOP counts and layer shapes of real models.

This script builds real models in the real libraries (torchvision, Keras 3) and
writes what they contain, and what the common third-party counters report for
them, into two JSON files that archcalc's tests compare against.  The tests
only read the JSON, so CI never needs torch, torchvision or Keras.

Files written (into ``--out``, default ``tests/data``):

``reference_counts.json``
    ``models.<name>``: one entry per torch model (every CNN that
    ``torchvision.models.list_models(module=torchvision.models)`` names -- all
    but the transformers ViT, Swin and MaxViT, ``NON_CNN_PREFIXES`` -- built
    with default arguments, ``weights=None``, eval mode, batch 1, input
    3x224x224 -- inception_v3 3x299x299; googlenet and inception_v3 with
    ``aux_logits=False, init_weights=False`` -- plus the lecture LeNet-5 in two
    variants, ``lenet5`` and ``lenet5-relu``, input 1x32x32):

    * ``params`` / ``trainable_params``: numel summed over ``parameters()``.
    * ``bn_running_stats``: numel of every ``running_mean`` + ``running_var``
      buffer (``num_batches_tracked`` excluded); ``buffers_total``: numel of
      all buffers (``num_batches_tracked`` included, one element each);
      ``buffers_saved``: numel of the buffers ``state_dict()`` holds (not a
      non-persistent one, such as timm's BlurPool2d filter).
    * ``macs_conv_linear``: multiply-accumulates of every ``nn.Conv2d``
      (N*H_out*W_out*C_out*(C_in/groups)*k_h*k_w) and ``nn.Linear``
      (in_features*out_features per output row), counted with forward hooks
      on the real model, bias additions NOT included.  ``macs_by_module_type``
      splits the same number by module class; ``conv_linear_bias_adds`` is
      the number of bias additions of those layers (one per output element of
      a layer that has a bias), for comparison with tools that count them.
    * ``fvcore``: ``FlopCountAnalysis(model, x)``: ``total``, ``by_operator``,
      ``unsupported_ops`` (operators it saw but counted as zero).
    * ``ptflops``: ``get_model_complexity_info(model, input_res,
      as_strings=False, print_per_layer_stat=False)`` once per backend
      (``pytorch`` and ``aten``), ``macs`` and ``params`` each, and
      ``default_backend`` naming the one used when none is passed.  The
      breakdowns (``module_macs_by_type`` + ``non_module_macs`` for the
      pytorch backend, ``macs_by_op`` for aten) come from a second run of the
      same ptflops machinery on a fresh model.  ``pytorch_no_functional``:
      ``macs`` and ``params`` of the pytorch backend with
      ``backend_specific_config={"count_functional": False}`` (module hooks
      only, no wrapped functions or tensor operations).
    * ``thop``: ``profile(model, inputs=(x,))``: ``macs``, ``params`` and
      ``macs_by_module_type`` (from ``ret_layer_info=True``).
    * ``torchinfo``: ``summary(model, input_size=(1, C, H, W), verbose=0)``:
      ``total_mult_adds``, ``total_params``, ``trainable_params`` and
      ``mult_adds_by_layer_type`` (leaf layers, as torchinfo sums them).
    * ``torch_flop_counter``: ``torch.utils.flop_counter.FlopCounterMode``:
      ``total_flops`` and ``flops_by_op`` (the "Global" entry).

    Every tool gets a fresh model instance (thop, ptflops and the aten counter
    attach buffers or hooks to the model) and runs under ``torch.no_grad()``.
    A tool that fails on a model leaves ``{"error": "<one line>"}`` in that
    cell; a tool that cannot be imported leaves ``"unavailable"``.

    ``keras.<Name>``: Keras 3 ``keras.applications`` models (``weights=None``,
    default input shape, ``include_top=True``, torch backend; ``KERAS_MODELS``):
    ``count_params``, ``trainable_params``, ``non_trainable_params`` and, for
    VGG16, ``layers``: the (name, class, output shape, params) rows that
    ``model.summary()`` prints.

    ``versions``: python, the libraries above and the date of the run.

``reference_shapes.json``
    ``<model>.layers``: for the ``SHAPE_MODELS`` (alexnet, vgg16, resnet50,
    googlenet, mobilenet_v2, densenet121, efficientnet_b0, inception_v3, lenet5,
    convnext_tiny, regnet_y_400mf, regnet_x_400mf, efficientnet_v2_s,
    mnasnet0_5, shufflenet_v2_x0_5), one row per call of
    a leaf module in execution order (forward hooks):
    ``{"module": qualified name, "type": class name, "output_shape": [C, H, W]
    or [F]}`` (batch dimension dropped).  A module called more than once
    (e.g. the shared ReLU of a ResNet block) appears once per call.  Purely
    functional operations (``torch.flatten``, ``F.relu``, ``F.max_pool2d`` ...)
    are not modules and do not appear.

``reference_layer_counts.json`` (with ``--layer-models``)
    ``models.<name>``: the same fields as ``reference_counts.json`` for small
    plain-torch networks (``LAYER_MODELS``, input 3x16x16: a 3x3 convolution
    followed by the layer types no torchvision model uses -- LRN, transposed
    convolutions, PReLU, Softmax, sum pooling as ``AvgPool2d(divisor_override=1)``,
    padded average and ceil-mode max pooling, adaptive and global max pooling,
    ELU, LeakyReLU, Tanh, Sigmoid, GELU, Hardsigmoid, SiLU, Hardswish, ReLU6,
    BatchNorm without γ/β or on batch statistics, a bias-free Linear after
    Flatten and Dropout, ZeroPad2d, ChannelShuffle, and ``torch.add`` / ``*`` /
    ``torch.cat`` / slicing in a two-branch network -- and ConvNeXt's layer
    types one at a time: LayerNorm and Linear on a channels-last view (with
    and without γ/β or bias), ``LayerNorm2d``, a layer scale as ``gamma * x``
    and as ``torch.mul``, a permute before Flatten, ``StochasticDepth``, plus
    GroupNorm and Keras's Normalization and Rescaling written as tensor
    operators).

Re-running (needs a separate virtualenv, not the project's own)::

    python3 -m venv /work/refenv
    /work/refenv/bin/pip install torch==2.14.1 torchvision==0.29.1
    /work/refenv/bin/pip install fvcore ptflops thop torchinfo keras
    /work/refenv/bin/python tools/reference_counts.py --out tests/data

The run is deterministic (fixed seeds; the counts do not depend on weights or
input values anyway) apart from ``versions.date``.  It takes about two hours
on two CPU cores (the Keras models first, then the torch models as they are
done, so that an interrupted run still leaves complete entries).  ``--update``
keeps what the files in ``--out`` hold and replaces only the models run (the
tool versions must be the same), to finish an interrupted run.  ``--models`` and ``--skip-keras`` restrict a run
for debugging; they still write complete files, containing only what was run.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import datetime
import gc
import importlib
import importlib.metadata
import inspect
import io
import json
import logging
import os
import platform
import sys
import time
import warnings

# Keras 3 picks its backend at import time.
os.environ.setdefault("KERAS_BACKEND", "torch")

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

# Every torchvision classification model is recorded except the transformers (ViT, Swin, MaxViT:
# attention is not a CNN layer type); their names start with these prefixes.
NON_CNN_PREFIXES = ("vit_", "swin_", "maxvit_")


def torchvision_models() -> list:
    """Every CNN in ``torchvision.models.list_models(module=torchvision.models)``, sorted."""
    import torchvision

    names = torchvision.models.list_models(module=torchvision.models)
    return sorted(n for n in names if not n.startswith(NON_CNN_PREFIXES))


LENET_MODELS = ["lenet5", "lenet5-relu"]
SHAPE_MODELS = [
    "alexnet", "vgg16", "resnet50", "googlenet", "mobilenet_v2",
    "densenet121", "efficientnet_b0", "inception_v3", "lenet5",
    "convnext_tiny", "regnet_y_400mf", "regnet_x_400mf", "efficientnet_v2_s",
    "mnasnet0_5", "shufflenet_v2_x0_5",
]
KERAS_MODELS = ["VGG16", "ResNet50", "Xception", "MobileNet", "InceptionV3",
                "MobileNetV2", "DenseNet121", "EfficientNetB0"]
KERAS_LAYER_TABLES = {"VGG16"}

# Extra constructor arguments (on top of weights=None) and input sizes.
TORCHVISION_KWARGS = {
    "googlenet": {"aux_logits": False, "init_weights": False},
    "inception_v3": {"aux_logits": False, "init_weights": False},
}
INPUT_SHAPES = {"inception_v3": (3, 299, 299), "lenet5": (1, 32, 32), "lenet5-relu": (1, 32, 32)}
DEFAULT_INPUT_SHAPE = (3, 224, 224)

SEED = 0
UNAVAILABLE = "unavailable"
PEER_TOOLS = ["fvcore", "ptflops", "thop", "torchinfo", "torch_flop_counter"]
# Distribution names whose versions are recorded (and whose import is required
# by the matching tool function).
TOOL_MODULES = {
    "fvcore": "fvcore",
    "ptflops": "ptflops",
    "thop": "thop",
    "torchinfo": "torchinfo",
    "torch_flop_counter": "torch.utils.flop_counter",
    "keras": "keras",
}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def one_line_error(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    first = text[0] if text else ""
    return f"{type(exc).__name__}: {first}"[:400]


def as_number(value):
    """Turn tool outputs (tensors, numpy scalars, floats) into int where exact."""
    if isinstance(value, torch.Tensor):
        value = value.item()
    if hasattr(value, "item") and not isinstance(value, (int, float)):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def sorted_counts(counter) -> dict:
    return {str(k): as_number(v) for k, v in sorted(counter.items(), key=lambda kv: str(kv[0]))}


def tool_available(tool: str) -> bool:
    try:
        importlib.import_module(TOOL_MODULES[tool])
    except Exception:  # ImportError, or a broken install
        return False
    return True


# --------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------

def build_lenet5(relu: bool) -> nn.Module:
    """The lecture LeNet-5: 7 layers, all convolutions with bias, no padding."""
    layers: list[nn.Module] = [nn.Conv2d(1, 6, 5)]
    if relu:
        layers.append(nn.ReLU())
    layers.append(nn.MaxPool2d(2, 2))
    layers.append(nn.Conv2d(6, 16, 5))
    if relu:
        layers.append(nn.ReLU())
    layers.append(nn.MaxPool2d(2, 2))
    layers.append(nn.Conv2d(16, 120, 5))
    if relu:
        layers.append(nn.ReLU())
    layers.append(nn.Conv2d(120, 84, 1))
    if relu:
        layers.append(nn.ReLU())
    layers.append(nn.Conv2d(84, 10, 1))
    return nn.Sequential(*layers)


class _Branches(nn.Module):
    """Two convolutions of the input, merged as a reference implementation would write it:
    ``torch.add`` (a function), ``*`` (an operator), ``torch.cat`` and a channel slice."""

    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(3, 8, 3, padding=1)
        self.b = nn.Conv2d(3, 8, 3, padding=1)

    def forward(self, x):
        a, b = self.a(x), self.b(x)
        return torch.cat([torch.add(a, b), a * b], 1)[:, :12]


class _Difference(nn.Module):
    """Two convolutions of the input, the second subtracted from the first: ``a - b``, or ``torch.sub``."""

    def __init__(self, functional: bool = False):
        super().__init__()
        self.a = nn.Conv2d(3, 8, 3, padding=1)
        self.b = nn.Conv2d(3, 8, 3, padding=1)
        self.functional = functional

    def forward(self, x):
        a, b = self.a(x), self.b(x)
        return torch.sub(a, b) if self.functional else a - b


def _blur_pool(**kw) -> nn.Module:
    """timm's BlurPool2d (reflection or zero padding, a fixed binomial filter in a buffer, F.conv2d)."""
    from timm.layers import BlurPool2d

    return BlurPool2d(8, **kw)


def _star_relu(squared_only: bool = False) -> nn.Module:
    """timm's StarReLU (s * relu(x) ** 2 + b) or SquaredReLU (torch.square(relu(x))), an nn.ReLU their child."""
    from timm.models.metaformer import SquaredReLU, StarReLU

    return SquaredReLU() if squared_only else StarReLU()


class _Permute(nn.Module):
    """torchvision's ``ops.misc.Permute``: ``x.permute(dims)``."""

    def __init__(self, *dims: int):
        super().__init__()
        self.dims = list(dims)

    def forward(self, x):
        return torch.permute(x, self.dims)


class _Interpolate(nn.Module):
    """``F.interpolate(x, size, mode=..., align_corners=...)`` as U-Net and FCN code calls it."""

    def __init__(self, size: tuple[int, int], mode: str, align_corners: bool | None = None):
        super().__init__()
        self.size, self.mode, self.align_corners = size, mode, align_corners

    def forward(self, x):
        return F.interpolate(x, size=self.size, mode=self.mode, align_corners=self.align_corners)


class _L2Norm(nn.Module):
    """SSD's conv4_3 normalisation as torchvision writes it, ``F.normalize(x)`` (its scale is a layer scale)."""

    def forward(self, x):
        return F.normalize(x)


class _Crop(nn.Module):
    """U-Net's copy-and-crop: ``x[:, :, top:H - bottom, left:W - right]``."""

    def __init__(self, top: int, bottom: int, left: int, right: int):
        super().__init__()
        self.widths = (top, bottom, left, right)

    def forward(self, x):
        top, bottom, left, right = self.widths
        return x[:, :, top:x.shape[2] - bottom, left:x.shape[3] - right]


class _LayerNorm2d(nn.LayerNorm):
    """torchvision's ConvNeXt ``LayerNorm2d``: F.layer_norm over the channels between two permutes."""

    def forward(self, x):
        x = x.permute(0, 2, 3, 1)
        x = nn.functional.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)


class _LayerScale(nn.Module):
    """A learnt per-channel scale: ``gamma * x`` (ConvNeXt's ``layer_scale``), or ``torch.mul``."""

    def __init__(self, channels: int, functional: bool = False):
        super().__init__()
        self.gamma = nn.Parameter(torch.full((channels, 1, 1), 1e-6))
        self.functional = functional

    def forward(self, x):
        return torch.mul(x, self.gamma) if self.functional else self.gamma * x


class _KerasNormalization(nn.Module):
    """Keras ``Normalization`` in torch: (x - mean) / sqrt(variance), the statistics and count as buffers."""

    def __init__(self, channels: int):
        super().__init__()
        self.register_buffer("mean", torch.zeros(channels, 1, 1))
        self.register_buffer("variance", torch.ones(channels, 1, 1))
        self.register_buffer("count", torch.zeros(()))

    def forward(self, x):
        return (x - self.mean) / torch.sqrt(self.variance)


class _KerasRescaling(nn.Module):
    """Keras ``Rescaling`` in torch: x * scale + offset."""

    def forward(self, x):
        return x * (1 / 127.5) - 1


def _channels_last(*layers: nn.Module) -> list:
    """``layers`` on an N×H×W×C view, as ConvNeXt's blocks run LayerNorm and Linear."""
    return [_Permute(0, 2, 3, 1), *layers, _Permute(0, 3, 1, 2)]


def _stochastic_depth() -> nn.Module:
    from torchvision.ops import StochasticDepth

    return StochasticDepth(0.2, "row")


def _after_conv(*layers: nn.Module) -> nn.Module:
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), *layers)


LAYER_MODELS = {
    "lrn": lambda: _after_conv(nn.LocalResponseNorm(5)),
    "convtranspose": lambda: _after_conv(nn.ConvTranspose2d(8, 4, 3, stride=2, padding=1, output_padding=1)),
    "convtranspose-grouped": lambda: _after_conv(nn.ConvTranspose2d(8, 4, 3, stride=2, groups=2, bias=False)),
    "prelu": lambda: _after_conv(nn.PReLU(8)),
    "prelu-shared": lambda: _after_conv(nn.PReLU()),
    "softmax": lambda: _after_conv(nn.Softmax(dim=1)),
    "sumpool": lambda: _after_conv(nn.AvgPool2d(2, divisor_override=1)),
    "avgpool-padded": lambda: _after_conv(nn.AvgPool2d(3, stride=2, padding=1)),
    "maxpool-ceil": lambda: _after_conv(nn.MaxPool2d(3, stride=2, ceil_mode=True)),
    "adaptivemaxpool": lambda: _after_conv(nn.AdaptiveMaxPool2d(4)),
    "globalmaxpool": lambda: _after_conv(nn.AdaptiveMaxPool2d(1)),
    "elu": lambda: _after_conv(nn.ELU()),
    "leakyrelu": lambda: _after_conv(nn.LeakyReLU()),
    "tanh": lambda: _after_conv(nn.Tanh()),
    "sigmoid": lambda: _after_conv(nn.Sigmoid()),
    "gelu": lambda: _after_conv(nn.GELU()),
    "hardsigmoid": lambda: _after_conv(nn.Hardsigmoid()),
    "silu": lambda: _after_conv(nn.SiLU()),
    "hardswish": lambda: _after_conv(nn.Hardswish()),
    "relu6": lambda: _after_conv(nn.ReLU6()),
    "batchnorm-plain": lambda: _after_conv(nn.BatchNorm2d(8, affine=False)),
    "batchnorm-batchstats": lambda: _after_conv(nn.BatchNorm2d(8, track_running_stats=False)),
    "linear-nobias": lambda: _after_conv(nn.Flatten(), nn.Dropout(0.5), nn.Linear(8 * 16 * 16, 10, bias=False)),
    "zeropad": lambda: _after_conv(nn.ZeroPad2d((1, 2, 0, 1))),
    "channelshuffle": lambda: _after_conv(nn.ChannelShuffle(2)),
    "branches": _Branches,
    "layernorm": lambda: _after_conv(*_channels_last(nn.LayerNorm(8))),
    "layernorm-plain": lambda: _after_conv(*_channels_last(nn.LayerNorm(8, elementwise_affine=False))),
    "layernorm2d": lambda: _after_conv(_LayerNorm2d(8, eps=1e-6)),
    "groupnorm": lambda: _after_conv(nn.GroupNorm(2, 8)),
    "groupnorm-plain": lambda: _after_conv(nn.GroupNorm(4, 8, affine=False)),
    "layerscale": lambda: _after_conv(_LayerScale(8)),
    "layerscale-mul": lambda: _after_conv(_LayerScale(8, functional=True)),
    # the Linear reads a contiguous tensor (LayerNorm's output), as in ConvNeXt; on a permuted view
    # (or GELU's output of one, which keeps its strides) torch's linear runs mm and a separate add
    "pointlinear": lambda: _after_conv(*_channels_last(nn.LayerNorm(8), nn.Linear(8, 12))),
    "pointlinear-nobias": lambda: _after_conv(*_channels_last(nn.Linear(8, 12, bias=False), nn.GELU())),
    "permute-flatten": lambda: _after_conv(_Permute(0, 2, 3, 1), nn.Flatten(), nn.Linear(8 * 16 * 16, 10)),
    "stochasticdepth": lambda: _after_conv(_stochastic_depth()),
    "normalization": lambda: _after_conv(_KerasNormalization(8)),
    "rescaling": lambda: _after_conv(_KerasRescaling()),
    "upsample-nearest": lambda: _after_conv(nn.Upsample(scale_factor=2)),
    "upsample-bilinear": lambda: _after_conv(nn.Upsample(scale_factor=(2, 3), mode="bilinear")),
    "upsample-bilinear-corners": lambda: _after_conv(nn.Upsample(size=(20, 24), mode="bilinear", align_corners=True)),
    "interpolate-nearest": lambda: _after_conv(_Interpolate((13, 17), "nearest")),
    "interpolate-bilinear": lambda: _after_conv(_Interpolate((13, 17), "bilinear", align_corners=False)),
    "crop": lambda: _after_conv(_Crop(1, 2, 0, 3)),
    "l2norm": lambda: _after_conv(_L2Norm()),
    "subtract": lambda: _Difference(),
    "subtract-sub": lambda: _Difference(functional=True),
    "starrelu": lambda: _after_conv(_star_relu()),
    "squaredrelu": lambda: _after_conv(_star_relu(squared_only=True)),
    "blurpool": lambda: _after_conv(_blur_pool()),
    "blurpool-constant": lambda: _after_conv(_blur_pool(filt_size=5, stride=2, pad_mode="constant")),
}
LAYER_INPUT_SHAPE = (3, 16, 16)


def build_model(name: str) -> nn.Module:
    """A fresh instance of model `name` in eval mode, deterministically initialised."""
    torch.manual_seed(SEED)
    if name in LAYER_MODELS:
        model = LAYER_MODELS[name]()
    elif name == "lenet5":
        model = build_lenet5(relu=False)
    elif name == "lenet5-relu":
        model = build_lenet5(relu=True)
    else:
        import torchvision

        kwargs = {"weights": None, **TORCHVISION_KWARGS.get(name, {})}
        model = getattr(torchvision.models, name)(**kwargs)
    return model.eval()


def input_shape(name: str) -> tuple:
    return LAYER_INPUT_SHAPE if name in LAYER_MODELS else INPUT_SHAPES.get(name, DEFAULT_INPUT_SHAPE)


def make_input(name: str) -> torch.Tensor:
    generator = torch.Generator().manual_seed(SEED)
    return torch.randn((1, *input_shape(name)), generator=generator)


def build_kwargs(name: str) -> dict:
    if name in LENET_MODELS or name in LAYER_MODELS:
        return {}
    return {"weights": None, **TORCHVISION_KWARGS.get(name, {})}


# --------------------------------------------------------------------------
# Ground truth from the model itself
# --------------------------------------------------------------------------

def count_parameters(model: nn.Module) -> dict:
    bn_stats = 0
    buffers_total = 0
    for buffer_name, buffer in model.named_buffers():
        buffers_total += buffer.numel()
        if buffer_name.rsplit(".", 1)[-1] in ("running_mean", "running_var"):
            bn_stats += buffer.numel()
    saved = set(model.state_dict())
    return {
        "params": sum(p.numel() for p in model.parameters()),
        "trainable_params": sum(p.numel() for p in model.parameters() if p.requires_grad),
        "bn_running_stats": bn_stats,
        "buffers_total": buffers_total,
        "buffers_saved": sum(b.numel() for name, b in model.named_buffers() if name in saved),
    }


def count_conv_linear_macs(model: nn.Module, x: torch.Tensor) -> dict:
    """MACs of nn.Conv2d and nn.Linear, from the real output shapes (forward hooks)."""
    by_type: collections.Counter = collections.Counter()
    bias_adds = 0

    def hook(module, _inputs, output):
        nonlocal bias_adds
        if isinstance(module, nn.Conv2d):
            k_h, k_w = module.kernel_size
            macs = output.numel() * (module.in_channels // module.groups) * k_h * k_w
        else:  # nn.Linear: in_features MACs per output element
            macs = output.numel() * module.in_features
        by_type[type(module).__name__] += macs
        if module.bias is not None:
            bias_adds += output.numel()

    handles = [
        m.register_forward_hook(hook)
        for m in model.modules()
        if isinstance(m, (nn.Conv2d, nn.Linear))
    ]
    try:
        with torch.no_grad():
            output = model(x)
    finally:
        for handle in handles:
            handle.remove()
    return {
        "macs_conv_linear": sum(by_type.values()),
        "macs_by_module_type": sorted_counts(by_type),
        "conv_linear_bias_adds": bias_adds,
        "output_shape": list(output.shape[1:]),
    }


def record_leaf_shapes(model: nn.Module, x: torch.Tensor) -> list:
    """One row per leaf-module call, in execution order."""
    rows = []

    def make_hook(qualified_name):
        def hook(module, _inputs, output):
            # a tuple output is not expected from torchvision leaves, but is recorded per element
            tensor = isinstance(output, torch.Tensor)
            shape = list(output.shape[1:]) if tensor else [list(o.shape[1:]) for o in output]
            rows.append({"module": qualified_name, "type": type(module).__name__, "output_shape": shape})
        return hook

    handles = [
        m.register_forward_hook(make_hook(n))
        for n, m in model.named_modules()
        if n and not any(True for _ in m.children())
    ]
    try:
        with torch.no_grad():
            model(x)
    finally:
        for handle in handles:
            handle.remove()
    return rows


# --------------------------------------------------------------------------
# Peer tools, one function each.  Each gets the model name and builds its own
# fresh instance(s).
# --------------------------------------------------------------------------

def run_fvcore(name: str) -> dict:
    from fvcore.nn import FlopCountAnalysis

    model, x = build_model(name), make_input(name)
    with torch.no_grad():
        analysis = FlopCountAnalysis(model, x)
        analysis.unsupported_ops_warnings(False)
        analysis.uncalled_modules_warnings(False)
        total = analysis.total()
        by_operator = analysis.by_operator()
        unsupported = analysis.unsupported_ops()
    return {
        "total": as_number(total),
        "by_operator": sorted_counts(by_operator),
        "unsupported_ops": sorted_counts(unsupported),
    }


def _ptflops_pytorch_breakdown(name: str) -> dict:
    """Per-module-type MACs from ptflops' own pytorch-backend hooks."""
    from ptflops import pytorch_engine

    model, x = build_model(name), make_input(name)
    pytorch_engine.CUSTOM_MODULES_MAPPING = {}
    flops_model = pytorch_engine.add_flops_counting_methods(model)
    flops_model.eval()
    flops_model.start_flops_count(ost=io.StringIO(), verbose=False, ignore_list=[])
    try:
        with torch.no_grad():
            flops_model(x)
        by_type: collections.Counter = collections.Counter()
        for module in flops_model.modules():
            if pytorch_engine.is_supported_instance(module):
                by_type[type(module).__name__] += module.__flops__ / flops_model.__batch_counter__
    finally:
        flops_model.stop_flops_count()
    return sorted_counts(by_type)


def _ptflops_aten_breakdown(name: str) -> dict:
    """Per-aten-op MACs from ptflops' own aten-backend dispatch counter."""
    from ptflops.aten_engine import FlopCounterMode as PtflopsAtenCounter

    model, x = build_model(name), make_input(name)
    counter = PtflopsAtenCounter(model, output_params={"print_params": {"file": io.StringIO()}})
    with torch.no_grad(), counter:
        model(x)
    return sorted_counts(counter.flop_counts["Global"])


def _ptflops_no_functional(name: str) -> dict:
    """The pytorch backend with ``backend_specific_config={"count_functional": False}``: module hooks only."""
    import ptflops

    try:
        with torch.no_grad():
            macs, params = ptflops.get_model_complexity_info(
                build_model(name), tuple(input_shape(name)), as_strings=False, print_per_layer_stat=False,
                ost=io.StringIO(), backend="pytorch", backend_specific_config={"count_functional": False})
    except Exception as exc:
        return {"error": one_line_error(exc)}
    if macs is None:
        return {"error": "ptflops returned None (it caught an exception)"}
    return {"macs": as_number(macs), "params": as_number(params)}


def run_ptflops(name: str) -> dict:
    import ptflops

    signature = inspect.signature(ptflops.get_model_complexity_info)
    backend_param = signature.parameters.get("backend")
    result: dict = {}
    if backend_param is None:  # old ptflops without backends
        backends = [None]
        result["default_backend"] = "pytorch"
    else:
        default = backend_param.default
        result["default_backend"] = getattr(default, "value", default)
        backends = ["pytorch", "aten"]
    for backend in backends:
        key = backend or "pytorch"
        try:
            model = build_model(name)
            kwargs = {} if backend is None else {"backend": backend}
            with torch.no_grad():
                macs, params = ptflops.get_model_complexity_info(
                    model, tuple(input_shape(name)), as_strings=False,
                    print_per_layer_stat=False, ost=io.StringIO(), **kwargs)
            if macs is None:
                cell = {"error": "ptflops returned None (it caught an exception)"}
            else:
                cell = {"macs": as_number(macs), "params": as_number(params)}
                if key == "pytorch":
                    by_type = _ptflops_pytorch_breakdown(name)
                    cell["module_macs_by_type"] = by_type
                    # functional (F.relu, ...) and tensor ops (torch.add, ...)
                    cell["non_module_macs"] = as_number(cell["macs"] - sum(by_type.values()))
                else:
                    cell["macs_by_op"] = _ptflops_aten_breakdown(name)
        except Exception as exc:
            cell = {"error": one_line_error(exc)}
        result[key] = cell
    if backend_param is not None:
        result["pytorch_no_functional"] = _ptflops_no_functional(name)
    result["macs"] = result[result["default_backend"]].get("macs")
    result["params"] = result[result["default_backend"]].get("params")
    return result


def run_thop(name: str) -> dict:
    from thop import profile

    model, x = build_model(name), make_input(name)
    modules = dict(model.named_modules())
    types_by_name = {n: type(m).__name__ for n, m in modules.items()}
    if "ret_layer_info" in inspect.signature(profile).parameters:
        macs, params, layer_info = profile(model, inputs=(x,), verbose=False, ret_layer_info=True)
    else:
        macs, params = profile(model, inputs=(x,), verbose=False)
        layer_info = None
    result = {"macs": as_number(macs), "params": as_number(params)}
    if layer_info is not None:
        by_type: collections.Counter = collections.Counter()

        def walk(info, prefix):
            for child, (ops, _params, sub) in info.items():
                qualified = f"{prefix}.{child}" if prefix else child
                if sub:
                    walk(sub, qualified)
                else:
                    by_type[types_by_name[qualified]] += ops

        walk(layer_info, "")
        result["macs_by_module_type"] = sorted_counts(by_type)
    return result


def run_torchinfo(name: str) -> dict:
    from torchinfo import summary

    model = build_model(name)
    stats = summary(model, input_size=(1, *input_shape(name)), verbose=0, device="cpu")
    by_type: collections.Counter = collections.Counter()
    for layer in stats.summary_list:
        if layer.is_leaf_layer:
            by_type[layer.class_name] += layer.macs
    return {
        "total_mult_adds": as_number(stats.total_mult_adds),
        "total_params": as_number(stats.total_params),
        "trainable_params": as_number(stats.trainable_params),
        "mult_adds_by_layer_type": sorted_counts(by_type),
    }


def run_torch_flop_counter(name: str) -> dict:
    from torch.utils.flop_counter import FlopCounterMode

    model, x = build_model(name), make_input(name)
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        model(x)
    return {
        "total_flops": as_number(counter.get_total_flops()),
        "flops_by_op": sorted_counts(counter.get_flop_counts().get("Global", {})),
    }


TOOL_FUNCTIONS = {
    "fvcore": run_fvcore,
    "ptflops": run_ptflops,
    "thop": run_thop,
    "torchinfo": run_torchinfo,
    "torch_flop_counter": run_torch_flop_counter,
}


# --------------------------------------------------------------------------
# Keras
# --------------------------------------------------------------------------

def keras_counts(name: str) -> dict:
    import keras

    keras.utils.set_random_seed(SEED)
    model = getattr(keras.applications, name)(weights=None)
    trainable = sum(int(keras.ops.size(w)) for w in model.trainable_weights)
    non_trainable = sum(int(keras.ops.size(w)) for w in model.non_trainable_weights)
    result = {
        "constructor": f"keras.applications.{name}(weights=None)",
        "input_shape": list(model.input_shape),
        "output_shape": list(model.output_shape),
        "count_params": int(model.count_params()),
        "trainable_params": trainable,
        "non_trainable_params": non_trainable,
        "num_layers": len(model.layers),
    }
    if name in KERAS_LAYER_TABLES:
        result["layers"] = [
            {
                "name": layer.name,
                "class_name": type(layer).__name__,
                "output_shape": list(layer.output.shape),
                "params": int(layer.count_params()),
            }
            for layer in model.layers
        ]
    del model
    keras.backend.clear_session()
    return result


# --------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------

def versions(available: dict) -> dict:
    import torchvision

    result = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "date": datetime.date.today().isoformat(),
    }
    for dist in ("fvcore", "ptflops", "thop", "torchinfo", "keras"):
        try:
            result[dist] = importlib.metadata.version(dist) if available[dist] else UNAVAILABLE
        except importlib.metadata.PackageNotFoundError:
            result[dist] = UNAVAILABLE
    return result


def torch_model_entry(name: str, available: dict) -> dict:
    entry = {
        "source": "lecture" if name in LENET_MODELS else "layer" if name in LAYER_MODELS else "torchvision",
        "input_shape": list(input_shape(name)),
        "build_kwargs": build_kwargs(name),
    }
    entry.update(count_parameters(build_model(name)))
    entry.update(count_conv_linear_macs(build_model(name), make_input(name)))
    for tool in PEER_TOOLS:
        if not available[tool]:
            entry[tool] = UNAVAILABLE
            continue
        started = time.monotonic()
        try:
            entry[tool] = TOOL_FUNCTIONS[tool](name)
        except Exception as exc:
            entry[tool] = {"error": one_line_error(exc)}
        gc.collect()
        log(f"  {name}: {tool} done in {time.monotonic() - started:.1f}s")
    return entry


def write_json(path: str, data: dict) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(data, handle, sort_keys=True, indent=1)
        handle.write("\n")


def quiet_libraries() -> None:
    warnings.filterwarnings("ignore")
    logging.getLogger("fvcore").setLevel(logging.ERROR)
    logging.getLogger().setLevel(logging.ERROR)


def earlier_run(out: str, counts: dict, shapes: dict) -> tuple[dict, dict]:
    """The files an earlier run left in `out`, under this run's versions; an error if its tools differ."""
    with open(os.path.join(out, "reference_counts.json"), encoding="utf-8") as handle:
        old_counts = json.load(handle)
    with open(os.path.join(out, "reference_shapes.json"), encoding="utf-8") as handle:
        old_shapes = json.load(handle)
    ours = {k: v for k, v in counts["versions"].items() if k != "date"}
    theirs = {k: v for k, v in old_counts["versions"].items() if k != "date"}
    if ours != theirs:
        raise SystemExit(f"--update: the earlier run used other versions: {theirs}")
    return {**old_counts, "versions": counts["versions"]}, {**old_shapes, "versions": counts["versions"]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="tests/data", help="directory for the JSON files (default: tests/data)")
    parser.add_argument("--models", nargs="*", default=None,
                        help="only these torch models (debugging; default: all)")
    parser.add_argument("--skip-keras", action="store_true", help="do not record the Keras models")
    parser.add_argument("--update", action="store_true",
                        help="keep the entries already in --out and replace only those run (same tool versions)")
    parser.add_argument("--layer-models", action="store_true",
                        help="record the small layer-type networks into reference_layer_counts.json instead")
    args = parser.parse_args(argv)

    quiet_libraries()
    torch.manual_seed(SEED)
    os.makedirs(args.out, exist_ok=True)

    available = {tool: tool_available(tool) for tool in TOOL_MODULES}
    log("tools available: " + ", ".join(f"{k}={v}" for k, v in sorted(available.items())))
    if args.layer_models:
        layers = {"versions": versions(available), "models": {}}
        for name in args.models or LAYER_MODELS:
            layers["models"][name] = torch_model_entry(name, available)
        write_json(os.path.join(args.out, "reference_layer_counts.json"), layers)
        log("finished")
        return 0
    names = args.models if args.models else torchvision_models() + LENET_MODELS

    counts = {"versions": versions(available), "models": {}, "keras": {}}
    shapes = {"versions": counts["versions"]}
    if args.update:
        counts, shapes = earlier_run(args.out, counts, shapes)
    if not args.skip_keras:
        for name in KERAS_MODELS:
            if not available["keras"]:
                counts["keras"][name] = UNAVAILABLE
                continue
            started = time.monotonic()
            try:
                with contextlib.redirect_stdout(io.StringIO()):
                    counts["keras"][name] = keras_counts(name)
            except Exception as exc:
                counts["keras"][name] = {"error": one_line_error(exc)}
            log(f"keras {name}: done in {time.monotonic() - started:.1f}s")

    for name in names:
        started = time.monotonic()
        log(f"{name}: start")
        try:
            counts["models"][name] = torch_model_entry(name, available)
        except Exception as exc:
            counts["models"][name] = {"error": one_line_error(exc)}
        if name in SHAPE_MODELS:
            try:
                shapes[name] = {
                    "input_shape": list(input_shape(name)),
                    "layers": record_leaf_shapes(build_model(name), make_input(name)),
                }
            except Exception as exc:
                shapes[name] = {"error": one_line_error(exc)}
        gc.collect()
        log(f"{name}: done in {time.monotonic() - started:.1f}s")
        # Write as we go so that a long run can be inspected midway.
        write_json(os.path.join(args.out, "reference_counts.json"), counts)
        write_json(os.path.join(args.out, "reference_shapes.json"), shapes)

    write_json(os.path.join(args.out, "reference_counts.json"), counts)
    write_json(os.path.join(args.out, "reference_shapes.json"), shapes)
    log("finished")
    return 0


if __name__ == "__main__":
    sys.exit(main())
