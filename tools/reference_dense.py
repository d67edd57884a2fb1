#!/usr/bin/env python3
"""Record torchvision's segmentation and detection models part by part: ``tests/data/reference_dense.json``.

Every model is built on the meta device with ``weights=None, weights_backbone=None`` (so no download;
``num_classes`` as torchvision's defaults: 21 for segmentation, 91 for detection), in eval mode, and its
parts are run at batch 1 on meta tensors of zeros with forward hooks counting conv/linear MACs
(conventions: ``tools/reference_common.py``; ``ConvTranspose2d`` -- the Mask R-CNN and Keypoint
R-CNN predictors -- is counted per input element).

``segmentation.<model>.aux`` / ``.noaux`` (built with ``aux_loss=True`` / ``False``; LR-ASPP has
no auxiliary head, only ``noaux``) -- the whole model is run on a ``1×3×S×S`` input and each conv/linear module's MACs
are added to the part that holds it (the model's top-level child: ``backbone``, ``classifier``,
``aux_classifier``):

* ``constructor``; ``params``, ``trainable_params``, ``bn_running_stats``, ``buffers_total``;
  ``params_by_part``; ``torchvision_num_params``: ``meta["num_params"]`` of the model's default
  weights (which have the auxiliary head where the model has one).
* ``sizes.<S>`` for S = 520 and 224: ``macs_conv_linear`` (whole model), ``macs_by_part``,
  ``macs_by_module_type``, ``conv_linear_bias_adds``; ``parts.<part>``: ``input`` and ``output``
  shapes as the part received and returned them (a dict of shapes for the backbone's
  ``IntermediateLayerGetter`` output and LR-ASPP's classifier input); ``output``: the model's
  output dict; ``interpolate``: every ``F.interpolate`` call (innermost module, input/output shape,
  mode, align_corners, size, scale_factor; module "" is the model's own forward).

``detection.<model>`` -- the static parts, fed directly (``model.transform`` bypassed):

* ``params`` ... as above for the ``weights=None, weights_backbone=None`` build (plain
  ``BatchNorm2d``, everything trainable); ``as_pretrained``: the same counts for the layout
  torchvision builds when weights are given (``FrozenBatchNorm2d`` in the backbone -- its weight and
  bias become buffers --, ``trainable_backbone_layers`` at its default), obtained by building with
  the default weights while weight loading is replaced by a no-op; ``torchvision_num_params``.
* ``images.<H>x<W>``: a stated image (3×800×800, 3×480×640): ``resized`` (``model.transform``'s
  output size for it, before batching) and ``input`` (the padded batch shape the backbone gets).
  ``parts.<part>``: ``inputs`` (the shapes fed), ``outputs``, ``macs_conv_linear``,
  ``macs_by_module_type``, ``conv_linear_bias_adds``; the parts:
  ``backbone`` (one run of ``model.backbone`` on the zero batch; its MACs split in
  ``macs_by_submodule`` into ``body``/``fpn`` or ``features``/``extra``), the dense head
  (``head`` for SSD/SSDlite/RetinaNet/FCOS: ``model.head(list(features.values()))``;
  ``rpn_head`` for two-stage: ``model.rpn.head(...)``), and for two-stage detectors
  ``box_head`` (``roi_heads.box_head`` on ``rois``×256×7×7), ``box_predictor`` (on its output),
  ``mask_head``/``mask_predictor`` and ``keypoint_head``/``keypoint_predictor`` on ``rois``×256×14×14.
  ``anchors_per_location`` (per level, the anchor generator's ``num_anchors_per_location()``) and
  ``anchors`` (Σ H·W·A over the levels); ``interpolate``: the calls as above (FPN's top-down path,
  the keypoint predictor).
* ``rois``: ``rpn.post_nms_top_n()`` in eval mode (1000: the box head's RoIs) and
  ``roi_heads.detections_per_img`` (100: the mask and keypoint heads' RoIs);
  ``roi_output_size``: the RoIAlign output size of each RoI pool.  Not counted (data-dependent):
  anchor decoding, proposal selection, RoIAlign, NMS, the transform.

``versions``: python, torch, torchvision, date, command.

Re-run (a few minutes; written after every model)::

    nice /work/refenv/bin/python tools/reference_dense.py          # --models NAME... to restrict
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import warnings

import torch
from reference_common import (
    MacCounter,
    Store,
    count_parameters,
    interpolate_calls,
    log,
    one_line_error,
    sorted_counts,
    versions,
)
from torch import nn

COMMAND = "nice /work/refenv/bin/python tools/reference_dense.py"
OUT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests", "data",
                   "reference_dense.json")
SEGMENTATION = {"fcn_resnet50": True, "fcn_resnet101": True, "deeplabv3_resnet50": True,
                "deeplabv3_resnet101": True, "deeplabv3_mobilenet_v3_large": True,
                "lraspp_mobilenet_v3_large": False}  # model: has an auxiliary head
SEGMENTATION_SIZES = (520, 224)
DETECTION = ["ssd300_vgg16", "ssdlite320_mobilenet_v3_large", "retinanet_resnet50_fpn", "fcos_resnet50_fpn",
             "fasterrcnn_resnet50_fpn", "maskrcnn_resnet50_fpn", "keypointrcnn_resnet50_fpn"]
IMAGES = [(3, 800, 800), (3, 480, 640)]


def shapes(value):
    """Shapes of a tensor, or of the tensors in a dict / list / tuple."""
    if isinstance(value, torch.Tensor):
        return list(value.shape)
    if isinstance(value, dict):
        return {str(k): shapes(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [shapes(v) for v in value]
    return None


def params_by_part(model: nn.Module) -> dict:
    return {name: sum(p.numel() for p in child.parameters()) for name, child in model.named_children()}


def default_weights(name: str):
    import torchvision

    return torchvision.models.get_model_weights(name).DEFAULT


# --------------------------------------------------------------------------
# Segmentation
# --------------------------------------------------------------------------

def segmentation_variants(name: str) -> dict:
    variants = {"noaux": segmentation_entry(name, False)}
    if SEGMENTATION[name]:
        variants["aux"] = segmentation_entry(name, True)
    return variants


def segmentation_entry(name: str, aux: bool) -> dict:
    import torchvision

    kwargs = {"weights": None, "weights_backbone": None}
    if SEGMENTATION[name]:
        kwargs["aux_loss"] = aux
    with torch.device("meta"):
        model = torchvision.models.get_model(name, **kwargs).eval()
    record = {"constructor": f"torchvision.models.get_model({name!r}, **{kwargs})",
              **count_parameters(model), "params_by_part": params_by_part(model),
              "torchvision_num_params": default_weights(name).meta["num_params"], "sizes": {}}
    for size in SEGMENTATION_SIZES:
        parts: dict = {}
        hooks = []
        for part, child in model.named_children():
            hooks.append(child.register_forward_hook(
                lambda m, i, o, part=part, parts=parts: parts.__setitem__(
                    part, {"input": shapes(i[0]), "output": shapes(o)})))
        counter = MacCounter(model, part_of=lambda qualified: qualified.split(".")[0])
        try:
            with torch.no_grad(), counter, interpolate_calls(model) as calls:
                output = model(torch.zeros(1, 3, size, size, device="meta"))
        finally:
            for hook in hooks:
                hook.remove()
        record["sizes"][str(size)] = {"input": [1, 3, size, size], **counter.result(),
                                      "macs_by_part": sorted_counts(counter.by_part), "parts": parts,
                                      "output": shapes(output), "interpolate": calls}
    return record


# --------------------------------------------------------------------------
# Detection
# --------------------------------------------------------------------------

@contextlib.contextmanager
def weight_loading_skipped():
    """Every ``WeightsEnum.get_state_dict`` returns a marker that ``load_state_dict`` ignores: a model
    built with weights gets their layout (FrozenBatchNorm2d, frozen layers, classes) without a download."""
    from torchvision.models._api import WeightsEnum

    marker = object()
    get_state_dict, load_state_dict = WeightsEnum.get_state_dict, nn.Module.load_state_dict

    def load(self, state_dict, *args, **kwargs):
        return None if state_dict is marker else load_state_dict(self, state_dict, *args, **kwargs)

    WeightsEnum.get_state_dict = lambda self, *args, **kwargs: marker
    nn.Module.load_state_dict = load
    try:
        yield
    finally:
        WeightsEnum.get_state_dict, nn.Module.load_state_dict = get_state_dict, load_state_dict


def run_part(module: nn.Module, root: nn.Module, inputs: tuple, calls_into: list, part_of=None) -> tuple:
    """Run `module` on `inputs` under MAC hooks (names relative to `root`); returns (output, record)."""
    counter = MacCounter(module, part_of=part_of or (lambda qualified: "all"))
    with torch.no_grad(), counter, interpolate_calls(root) as calls:
        output = module(*inputs)
    calls_into.extend(calls)
    record = {"inputs": [shapes(x) for x in inputs], "outputs": shapes(output), **counter.result()}
    if part_of is not None:
        record["macs_by_submodule"] = sorted_counts(counter.by_part)
    return output, record


def image_entry(model: nn.Module, image: tuple) -> dict:
    cpu_image = torch.zeros(*image)
    with torch.no_grad():
        batch, _ = model.transform([cpu_image])
    x = torch.zeros(*batch.tensors.shape, device="meta")
    record: dict = {"resized": list(batch.image_sizes[0]), "input": list(batch.tensors.shape), "parts": {}}
    calls: list = []
    parts = record["parts"]
    features, parts["backbone"] = run_part(model.backbone, model, (x,), calls,
                                           part_of=lambda qualified: qualified.split(".")[0])
    levels = list(features.values())
    two_stage = hasattr(model, "rpn")
    head, generator = (model.rpn.head, model.rpn.anchor_generator) if two_stage else (model.head,
                                                                                      model.anchor_generator)
    _, parts["rpn_head" if two_stage else "head"] = run_part(head, model, (levels,), calls)
    per_location = list(generator.num_anchors_per_location())
    record["anchors_per_location"] = per_location
    record["anchors"] = sum(f.shape[-2] * f.shape[-1] * a for f, a in zip(levels, per_location))
    if two_stage:
        roi_heads = model.roi_heads
        boxes = torch.zeros(model.rpn.post_nms_top_n(), levels[0].shape[1], *roi_size(roi_heads.box_roi_pool),
                            device="meta")
        box_features, parts["box_head"] = run_part(roi_heads.box_head, model, (boxes,), calls)
        _, parts["box_predictor"] = run_part(roi_heads.box_predictor, model, (box_features,), calls)
        for kind in ("mask", "keypoint"):
            pool = getattr(roi_heads, f"{kind}_roi_pool", None)
            if pool is None:
                continue
            rois = torch.zeros(roi_heads.detections_per_img, levels[0].shape[1], *roi_size(pool), device="meta")
            head_out, parts[f"{kind}_head"] = run_part(getattr(roi_heads, f"{kind}_head"), model, (rois,), calls)
            _, parts[f"{kind}_predictor"] = run_part(getattr(roi_heads, f"{kind}_predictor"), model, (head_out,),
                                                     calls)
    record["interpolate"] = calls
    record["macs_conv_linear"] = sum(part["macs_conv_linear"] for part in parts.values())
    return record


def roi_size(pool) -> tuple:
    size = pool.output_size
    return tuple(size) if isinstance(size, (tuple, list)) else (size, size)


def detection_entry(name: str) -> dict:
    import torchvision

    kwargs = {"weights": None, "weights_backbone": None}
    with torch.device("meta"):
        model = torchvision.models.get_model(name, **kwargs).eval()
    weights = default_weights(name)
    with torch.device("meta"), weight_loading_skipped():
        pretrained = torchvision.models.get_model(name, weights=weights).eval()
    record = {"constructor": f"torchvision.models.get_model({name!r}, **{kwargs})",
              **count_parameters(model), "params_by_part": params_by_part(model),
              "as_pretrained": {"constructor": f"torchvision.models.get_model({name!r}, weights={weights}) "
                                               "without loading the weights",
                                **count_parameters(pretrained), "params_by_part": params_by_part(pretrained),
                                "norm_classes": sorted({type(m).__name__ for m in pretrained.modules()
                                                        if "Norm" in type(m).__name__})},
              "torchvision_num_params": weights.meta["num_params"],
              "norm_classes": sorted({type(m).__name__ for m in model.modules() if "Norm" in type(m).__name__})}
    if hasattr(model, "rpn"):
        record["rois"] = {"box": model.rpn.post_nms_top_n(), "mask_keypoint": model.roi_heads.detections_per_img}
        record["roi_output_size"] = {kind: list(roi_size(getattr(model.roi_heads, f"{kind}_roi_pool")))
                                     for kind in ("box", "mask", "keypoint")
                                     if getattr(model.roi_heads, f"{kind}_roi_pool", None) is not None}
    record["images"] = {"x".join(map(str, image[1:])): image_entry(model, image) for image in IMAGES}
    return record


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="*", help="only these (default: every model listed)")
    parser.add_argument("--fresh", action="store_true", help="ignore an earlier file")
    parser.add_argument("--out", default=OUT)
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")
    store = Store(args.out, versions(["torch", "torchvision"], COMMAND), fresh=args.fresh)
    jobs = [("segmentation", name, segmentation_variants) for name in SEGMENTATION]
    jobs += [("detection", name, detection_entry) for name in DETECTION]
    for section, name, build in jobs:
        if (args.models and name not in args.models) or (not args.models and store.has((section, name))):
            continue
        log(f"{name}: start")
        try:
            record = build(name)
        except Exception as exc:
            record = {"error": one_line_error(exc)}
        store.put((section, name), record)
        log(f"{name}: done {record.get('error', '')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
