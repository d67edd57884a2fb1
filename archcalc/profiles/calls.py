"""How the reference implementation runs the layers that a file writes as plain layers.

The same ReLU is an `nn.ReLU` module in ResNet but `F.relu(x)` in GoogLeNet's BasicConv2d; a
global average pooling is `nn.AdaptiveAvgPool2d` in ResNet, `F.adaptive_avg_pool2d` in DenseNet
and `x.mean([2, 3])` in ShuffleNet. Hook-based tools (ptflops, thop) count these differently, so
the count profiles need to know. An architecture file says so in its `calls:` mapping:
`[type:]pattern` (an `fnmatch` pattern over layer paths, optionally for one layer type) → `module`,
`functional` or `operator`; the first match wins; a layer that matches nothing is a module call.
"""

from __future__ import annotations

from collections.abc import Mapping
from fnmatch import fnmatchcase

from .base import Call


def call_style(calls: Mapping[str, Call], path: str, layer_type: str) -> Call:
    """The call style of layer `path` under a file's `calls` (pattern → style); `module` by default."""
    for pattern, call in calls.items():
        kind, _, where = pattern.rpartition(":")
        if (not kind or kind == layer_type) and fnmatchcase(path, where):
            return call
    return "module"
