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

# DenseNet.forward: `F.relu(features)`, `F.adaptive_avg_pool2d(out, (1, 1))` after the features.
_DENSENET: tuple[tuple[str, Call], ...] = (("relu", "functional"), ("avgpool", "functional"))
# BasicConv2d.forward (GoogLeNet, Inception-v3): conv, bn, then `F.relu(x)`.
_BASIC_CONV = ("relu:*", "functional")

TORCHVISION_CALLS: dict[str, tuple[tuple[str, Call], ...]] = {
    "densenet121": _DENSENET,
    "densenet169": _DENSENET,
    "densenet201": _DENSENET,
    # MobileNetV2._forward_impl: `nn.functional.adaptive_avg_pool2d(x, (1, 1))`.
    "mobilenet_v2": (("avgpool", "functional"),),
    "googlenet": (_BASIC_CONV,),
    # Inception A–E blocks pool with F.avg_pool2d / F.max_pool2d; the stem's pools are modules.
    "inception_v3": (_BASIC_CONV, ("avgpool:Mixed*", "functional"), ("maxpool:Mixed*", "functional")),
    # ShuffleNetV2 and MNASNet pool with `x.mean([2, 3])`.
    "shufflenet_v2_x1_0": (("adaptiveavgpool:*", "operator"), ("globalavgpool:*", "operator")),
    "mnasnet1_0": (("adaptiveavgpool:*", "operator"), ("globalavgpool:*", "operator")),
}


def call_style(architecture: str, path: str, layer_type: str) -> Call:
    """The call style of layer `path` of zoo architecture `architecture`; `module` by default."""
    for pattern, call in TORCHVISION_CALLS.get(architecture, ()):
        kind, _, where = pattern.rpartition(":")
        if (not kind or kind == layer_type) and fnmatchcase(path, where):
            return call
    return "module"
