"""How the torchvision code runs the layers that a zoo file writes as plain layers.

The same ReLU is an `nn.ReLU` module in ResNet but `F.relu(x)` in GoogLeNet's BasicConv2d; a
global average pooling is `nn.AdaptiveAvgPool2d` in ResNet, `F.adaptive_avg_pool2d` in DenseNet
and `x.mean([2, 3])` in ShuffleNet. Hook-based tools (ptflops, thop) count these differently, so
the count profiles need to know. Keys are zoo names; patterns are `fnmatch` patterns over layer
paths; the first match wins; a layer that matches nothing is a module call.
"""

from __future__ import annotations

from fnmatch import fnmatchcase

from .base import Call

TORCHVISION_CALLS: dict[str, tuple[tuple[str, Call], ...]] = {}


def call_style(architecture: str, path: str, layer_type: str) -> Call:
    """The call style of layer `path` of zoo architecture `architecture`; `module` by default."""
    for pattern, call in TORCHVISION_CALLS.get(architecture, ()):
        kind, _, where = pattern.rpartition(":")
        if (not kind or kind == layer_type) and fnmatchcase(path, where):
            return call
    return "module"
