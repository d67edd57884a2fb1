#!/usr/bin/env python3
"""Record scaled model families as the libraries build them: ``tests/data/reference_scaling.json``.

(``tests/data/reference_counts.json`` already holds torchvision's efficientnet_b0 … b7 at 224×224;
this file adds each at its own resolution, and MobileNet v1's width and resolution grid.)
Conventions of the counts: ``tools/reference_common.py``.  Every model on the meta device, eval mode,
batch 1.

``efficientnet.<b0 … b7>`` -- torchvision ``efficientnet_bN(weights=None)``:

* ``resolution``: the crop size of the default weights' transforms (torchvision's evaluation size);
  ``scaling``: the ``width_mult`` and ``depth_mult`` the builder passes to ``_efficientnet_conf``;
  ``stages``: the MBConv stages as built (``expand_ratio``, ``kernel``, ``stride``,
  ``input_channels``, ``out_channels``, ``num_layers``: already scaled); ``head_channels``: the
  last 1×1 convolution's output channels.
* ``params``, ``trainable_params``, ``bn_running_stats``, ``buffers_total``; at the resolution:
  ``macs_conv_linear``, ``macs_by_module_type``, ``conv_linear_bias_adds``, ``output_shape``;
  ``macs_conv_linear_by_resolution``: the same model's conv+linear MACs at each size of
  ``EFFICIENTNET_RESOLUTIONS`` (the weights' sizes and the paper's, whose B2 is 260 where
  torchvision's weights use 288); ``weights_num_params``: the weights' ``meta["num_params"]``.

``mobilenet_v1.<alpha>_<resolution>`` -- timm's MobileNet v1 (``_gen_mobilenet_v1('mobilenetv1_100',
channel_multiplier=alpha)``, the function timm's ``mobilenetv1_100`` / ``_125`` call; timm rounds
channels to multiples of 8, every width here is one already), for alpha in 1, 0.75, 0.5, 0.25 and
resolution in 224, 192, 160, 128 (the full grid): ``alpha``, ``resolution``, the counts above and
``channels`` (output channels of every convolution in order).  ``mobilenet_v1.layout``: one row per
convolution and linear layer of alpha 1 at 224: ``module``, ``type``, ``in_channels``,
``out_channels``, ``kernel``, ``stride``, ``padding``, ``groups``, ``bias``, ``params``, ``input_shape``,
``output_shape``, ``macs`` -- timm's layout: a 3×3/2 stem of 32 channels, 13 depthwise-separable
blocks (depthwise 3×3 + BN + ReLU6, pointwise 1×1 + BN + ReLU6), no head convolution, global average
pool, Linear(1024, 1000).

``versions``: python, torch, torchvision, timm, date, command.

Re-run (about a minute)::

    nice /work/refenv/bin/python tools/reference_scaling.py
"""

from __future__ import annotations

import os
import sys
import warnings

import torch
from reference_common import MacCounter, Store, count_parameters, log, versions
from torch import nn

COMMAND = "nice /work/refenv/bin/python tools/reference_scaling.py"
OUT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests", "data",
                   "reference_scaling.json")
ALPHAS = [1.0, 0.75, 0.5, 0.25]
RESOLUTIONS = [224, 192, 160, 128]
# every B0-B7 evaluation size of torchvision's weights (B2: 288) and of the EfficientNet paper (B2: 260)
EFFICIENTNET_RESOLUTIONS = [224, 240, 260, 288, 300, 380, 456, 528, 600]


def forward_counts(model: nn.Module, resolution: int, layers: bool = False) -> tuple[dict, MacCounter]:
    counter = MacCounter(model, layers=layers)
    with torch.no_grad(), counter:
        output = model(torch.zeros(1, 3, resolution, resolution, device="meta"))
    return {**counter.result(), "output_shape": list(output.shape[1:])}, counter


def efficientnet_entry(variant: str) -> dict:
    import torchvision
    from torchvision.models import efficientnet

    seen = {}
    conf = efficientnet._efficientnet_conf

    def recording(arch, **kwargs):
        seen.update(kwargs)
        setting, last = conf(arch, **kwargs)
        seen["stages"] = [{"expand_ratio": s.expand_ratio, "kernel": s.kernel, "stride": s.stride,
                           "input_channels": s.input_channels, "out_channels": s.out_channels,
                           "num_layers": s.num_layers} for s in setting]
        return setting, last

    name = f"efficientnet_{variant}"
    efficientnet._efficientnet_conf = recording
    try:
        with torch.device("meta"):
            model = torchvision.models.get_model(name, weights=None).eval()
    finally:
        efficientnet._efficientnet_conf = conf
    weights = torchvision.models.get_model_weights(name).DEFAULT
    resolution = weights.transforms.keywords["crop_size"]
    resolution = resolution[0] if isinstance(resolution, (list, tuple)) else resolution
    counts, _ = forward_counts(model, resolution)
    by_resolution = {str(r): forward_counts(model, r)[0]["macs_conv_linear"] for r in EFFICIENTNET_RESOLUTIONS}
    return {"constructor": f"torchvision.models.get_model({name!r}, weights=None)", "resolution": resolution,
            "scaling": {"width_mult": seen["width_mult"], "depth_mult": seen["depth_mult"]},
            "stages": seen["stages"], "head_channels": model.features[-1][0].out_channels,
            **count_parameters(model), **counts, "macs_conv_linear_by_resolution": by_resolution,
            "weights_num_params": weights.meta["num_params"]}


def build_mobilenet_v1(alpha: float) -> nn.Module:
    from timm.models.efficientnet import _gen_mobilenet_v1

    with torch.device("meta"):
        return _gen_mobilenet_v1("mobilenetv1_100", channel_multiplier=alpha).eval()


def mobilenet_v1_entry(alpha: float, resolution: int) -> dict:
    model = build_mobilenet_v1(alpha)
    counts, _ = forward_counts(model, resolution)
    return {"constructor": f"timm.models.efficientnet._gen_mobilenet_v1('mobilenetv1_100', channel_multiplier={alpha})",
            "alpha": alpha, "resolution": resolution, **count_parameters(model), **counts,
            "channels": [m.out_channels for m in model.modules() if isinstance(m, nn.Conv2d)]}


def mobilenet_v1_layout() -> list:
    model = build_mobilenet_v1(1.0)
    _, counter = forward_counts(model, 224, layers=True)
    modules = dict(model.named_modules())
    rows = []
    for row in counter.layers:
        module = modules[row["module"]]
        params = sum(p.numel() for p in module.parameters())
        if isinstance(module, nn.Conv2d):
            row = {**row, "in_channels": module.in_channels, "out_channels": module.out_channels,
                   "kernel": list(module.kernel_size), "stride": list(module.stride),
                   "padding": list(module.padding), "groups": module.groups}
        else:
            row = {**row, "in_channels": module.in_features, "out_channels": module.out_features}
        rows.append({**row, "bias": module.bias is not None, "params": params})
    return rows


def main() -> int:
    warnings.filterwarnings("ignore")
    store = Store(OUT, versions(["torch", "torchvision", "timm"], COMMAND))
    for variant in [f"b{i}" for i in range(8)]:
        if not store.has(("efficientnet", variant)):
            log(f"efficientnet_{variant}")
            store.put(("efficientnet", variant), efficientnet_entry(variant))
    for alpha in ALPHAS:
        for resolution in RESOLUTIONS:
            key = f"{alpha:g}_{resolution}"
            if not store.has(("mobilenet_v1", key)):
                log(f"mobilenet_v1 {key}")
                store.put(("mobilenet_v1", key), mobilenet_v1_entry(alpha, resolution))
    if not store.has(("mobilenet_v1", "layout")):
        store.put(("mobilenet_v1", "layout"), mobilenet_v1_layout())
    return 0


if __name__ == "__main__":
    sys.exit(main())
