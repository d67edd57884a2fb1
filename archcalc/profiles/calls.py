"""How the reference implementation runs the layers that a file writes as plain layers.

The same ReLU is an `nn.ReLU` module in ResNet but `F.relu(x)` in GoogLeNet's BasicConv2d; a
global average pooling is `nn.AdaptiveAvgPool2d` in ResNet, `F.adaptive_avg_pool2d` in DenseNet
and `x.mean([2, 3])` in ShuffleNet. Hook-based tools (ptflops, thop) count these differently, so
the count profiles need to know. An architecture file says so in its `calls:` mapping:
`[type:]pattern` (an `fnmatch` pattern over layer paths, optionally for one layer type) → `module`,
`functional` or `operator`; the first match wins; a layer that matches nothing is a module call.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from fnmatch import translate

from ..memo import memo
from .base import Call

_ANY_TYPE = "[^\x00]*"


def call_style(calls: Mapping[str, Call], path: str, layer_type: str) -> Call:
    """The call style of layer `path` under a file's `calls` (pattern → style); `module` by default."""
    if not calls:
        return "module"
    styles, matcher = _matcher(tuple(calls.items()))
    found = matcher.match(f"{layer_type}\x00{path}")
    return styles[int(found.lastgroup[1:])] if found else "module"


@memo(16)
def _matcher(calls: tuple[tuple[str, Call], ...]) -> tuple[tuple[Call, ...], re.Pattern]:
    """All patterns as one regular expression over `type\\0path`, a group `c<index>` per pattern
    (alternatives are tried left to right, so the first pattern that matches is the group found):
    one match per layer instead of one per layer and pattern."""
    parts = []
    for index, (pattern, _) in enumerate(calls):
        kind, _, where = pattern.rpartition(":")
        parts.append(f"(?P<c{index}>{re.escape(kind) if kind else _ANY_TYPE}\x00{translate(where)})")
    return tuple(call for _, call in calls), re.compile("|".join(parts))
