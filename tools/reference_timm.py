#!/usr/bin/env python3
"""Record what timm's models hold and how torch captures them: ``tests/data/reference_timm.json``.

One or two models of every CNN family (timm module) that timm has, the common ones first, plus a few
transformer, MLP and hybrid (convolution + attention) models marked as not CNNs.  Each is built
with ``timm.create_model(name, pretrained=False)`` on the meta device (on the CPU, then moved to meta,
where timm's constructor needs real tensors), in eval mode, and run at batch 1 on a meta tensor of
its ``pretrained_cfg.input_size`` (on a CPU tensor of zeros where the forward needs values).
Conventions of the counts: ``tools/reference_common.py``.

``models.<name>``:

* ``kind``: ``cnn``, ``hybrid`` (convolutions and attention), ``transformer`` or ``mlp`` (the
  script's ``MODELS`` table); ``family``: the timm module that registers it (``timm.list_models(
  module=...)``); ``class``: the model's class; ``constructor``.
* ``input_shape``: ``pretrained_cfg.input_size`` (C, H, W), the size measured;
  ``test_input_shape``: ``pretrained_cfg.test_input_size`` where timm names one (not measured);
  ``fixed_input_size``: ``pretrained_cfg.fixed_input_size``; ``device``: ``meta`` or ``cpu``.
* ``params``, ``trainable_params``, ``bn_running_stats``, ``buffers_total``;
  ``params_by_owner_class``: parameters by the class of the module holding them directly (shows
  parameters outside Conv/Linear/norm modules: CondConv2d, layer scales, position embeddings).
* ``macs_conv_linear``, ``macs_by_module_type`` (torch base class), ``macs_by_module_class`` (the
  classes seen: ``StdConv2d``, ``Conv2dSame``, ``ScaledStdConv2d``, ...), ``conv_linear_bias_adds``,
  ``output_shape``; ``interpolate`` (where the model calls ``F.interpolate``, ``nn.Upsample``
  included): every call's innermost module, input/output shapes, mode, align_corners, size and
  scale_factor as passed; attention products (``q @ k``) and modules that are not torch conv/linear
  subclasses (timm's ``CondConv2d``) are not in these.
* ``torch_flop_counter``: ``torch.utils.flop_counter.FlopCounterMode`` on the same forward:
  ``total_flops`` and ``flops_by_op`` (2 FLOPs per MAC; counts matmuls that hooks miss).
* ``fx``: ``"ok"`` if ``torch.fx.symbolic_trace(model)`` succeeds, else ``{"error": one line}``.
* ``export``: ``torch.export.export(model, (x,))`` (non-strict, the default) on the meta input:
  ``"ok"`` with ``ops`` (the ``call_function`` targets of the exported graph) and ``core_aten_ops``
  (the same after ``run_decompositions()``), or ``{"error": one line}``.

A model that cannot be built or run leaves ``{"error": one line}``.  ``versions``: python, torch,
torchvision, timm, date, command.

Re-run (about 40 minutes on two busy cores; the file is written after every model and a re-run
skips the models already recorded with the same versions -- ``--fresh`` starts over)::

    /work/refenv/bin/pip install torch==2.14.1 torchvision==0.29.1 timm
    nice /work/refenv/bin/python tools/reference_timm.py        # --models NAME... to restrict
"""

from __future__ import annotations

import argparse
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
    params_by_owner_class,
    sorted_counts,
    versions,
)

COMMAND = "nice /work/refenv/bin/python tools/reference_timm.py"
OUT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests", "data",
                   "reference_timm.json")

CNN = [
    "resnet26d", "resnet18", "resnet50d", "resnet10t", "seresnet50", "ecaresnet26t", "resnext26ts", "gcresnet33ts",
    "gernet_s", "mobileone_s0", "regnetz_b16", "repvgg_a2", "convmixer_768_32", "convnext_atto", "convnextv2_atto",
    "convnext_zepto_rms", "cspresnet50", "cspresnext50", "cspdarknet53", "cs3darknet_s", "darknet17",
    "cspnext_tiny", "densenet121", "densenetblur121d", "dla34", "dla46_c", "dpn68", "dpn48b", "efficientnet_b0",
    "tf_efficientnet_b0", "efficientnetv2_rw_t", "efficientnet_lite0", "efficientnet_b0_gn",
    "efficientnet_cc_b0_4e", "mixnet_s", "tf_mixnet_s", "mobilenetv2_100", "mnasnet_100", "spnasnet_100",
    "fbnetc_100", "tinynet_e", "mobilenet_edgetpu_100", "mobilenetv1_100", "mobilenetv1_125", "fasternet_t0",
    "ghostnet_100", "ghostnetv2_100", "ghostnetv3_100", "hardcorenas_a", "hgnet_tiny", "hgnetv2_b0",
    "hrnet_w18_small", "hrnet_w18_small_v2", "inception_next_atto", "inception_resnet_v2", "inception_v3",
    "inception_v4", "lcnetv2_small", "mobilenetv3_large_100", "mobilenetv3_small_050", "lcnet_050",
    "tf_mobilenetv3_large_100", "fbnetv3_b", "mobilenetv4_conv_small", "nasnetalarge", "pnasnet5large",
    "nf_resnet26", "nf_regnet_b0", "dm_nfnet_f0", "rdnet_tiny", "regnetx_002", "regnety_002", "regnetz_005",
    "repghostnet_050", "repvit_m1", "res2net50_14w_8s", "res2next50", "resnest14d", "resnetv2_50",
    "resnetv2_50x1_bit", "rexnet_100", "selecsls42b", "legacy_seresnet18", "legacy_seresnext26_32x4d", "skresnet18",
    "starnet_s1", "tresnet_m", "vgg11_bn", "vgg16", "ese_vovnet19b_dw", "vovnet39a", "legacy_xception",
    "xception41", "mambaout_femto", "convformer_s18", "poolformer_s12", "fastvit_t8"
]
HYBRID = [
    "botnet26t_256", "halonet26t", "mobilenetv4_hybrid_medium", "mobilevit_xxs", "efficientformer_l1",
    "edgenext_xx_small", "levit_128s"
]
TRANSFORMER = ["vit_tiny_patch16_224", "deit_tiny_patch16_224", "swin_tiny_patch4_window7_224"]
MLP = ["mixer_b16_224", "resmlp_12_224", "gmlp_ti16_224"]
MODELS = {**dict.fromkeys(CNN, "cnn"), **dict.fromkeys(HYBRID, "hybrid"),
          **dict.fromkeys(TRANSFORMER, "transformer"), **dict.fromkeys(MLP, "mlp")}


def family_of() -> dict:
    import timm

    return {model: module for module in timm.list_modules() for model in timm.list_models(module=module)}


def build(name: str):
    """The model on the meta device (built on the CPU where the constructor needs real tensors)."""
    import timm

    try:
        with torch.device("meta"):
            model = timm.create_model(name, pretrained=False)
    except Exception:
        torch.manual_seed(0)
        model = timm.create_model(name, pretrained=False).to("meta")
    return model.eval()


def forward_counts(model, shape) -> tuple[dict, str]:
    """Conv/linear MACs and FlopCounterMode of one forward, on meta; on CPU zeros if meta cannot run it."""
    from torch.utils.flop_counter import FlopCounterMode

    for device in ("meta", "cpu"):
        if device == "cpu":
            model = model.to_empty(device="cpu")
            for tensor in [*model.parameters(), *model.buffers()]:
                torch.nn.init.zeros_(tensor) if tensor.is_floating_point() else None
        x = torch.zeros(1, *shape, device=device)
        try:
            counter, flops = MacCounter(model), FlopCounterMode(display=False)
            with torch.no_grad(), counter, flops, interpolate_calls(model) as calls:
                output = model(x)
        except Exception:
            if device == "cpu":
                raise
            continue
        result = counter.result()
        result["output_shape"] = list(output.shape[1:])
        if calls:
            result["interpolate"] = calls
        result["torch_flop_counter"] = {"total_flops": flops.get_total_flops(),
                                        "flops_by_op": sorted_counts(flops.get_flop_counts().get("Global", {}))}
        return result, device
    raise AssertionError("unreachable")


def capture(model, shape) -> dict:
    result: dict = {}
    try:
        torch.fx.symbolic_trace(model)
        result["fx"] = "ok"
    except Exception as exc:
        result["fx"] = {"error": one_line_error(exc)}
    x = torch.zeros(1, *shape, device="meta")
    try:
        program = torch.export.export(model, (x,))
        ops = sorted({str(n.target) for n in program.graph.nodes if n.op == "call_function"})
        core = program.run_decompositions()
        core_ops = sorted({str(n.target) for n in core.graph.nodes if n.op == "call_function"})
        result["export"] = {"result": "ok", "ops": ops, "core_aten_ops": core_ops}
    except Exception as exc:
        result["export"] = {"error": one_line_error(exc)}
    return result


def entry(name: str, kind: str, family: str) -> dict:
    import timm

    cfg = timm.get_pretrained_cfg(name)
    shape = tuple(cfg.input_size)
    record = {"kind": kind, "family": family, "constructor": f"timm.create_model({name!r}, pretrained=False)",
              "input_shape": list(shape), "fixed_input_size": bool(cfg.fixed_input_size)}
    if cfg.test_input_size:
        record["test_input_shape"] = list(cfg.test_input_size)
    model = build(name)
    record["class"] = type(model).__name__
    record.update(count_parameters(model))
    record["params_by_owner_class"] = params_by_owner_class(model)
    record.update(capture(model, shape))
    counts, record["device"] = forward_counts(model, shape)
    record.update(counts)
    return record


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="*", help="only these (default: every model of MODELS)")
    parser.add_argument("--fresh", action="store_true", help="ignore an earlier file")
    parser.add_argument("--out", default=OUT)
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")
    store = Store(args.out, versions(["torch", "torchvision", "timm"], COMMAND), fresh=args.fresh)
    families = family_of()
    for name in args.models or MODELS:
        if not args.models and store.has(("models", name)):
            continue
        log(f"{name}: start")
        try:
            record = entry(name, MODELS.get(name, "cnn"), families.get(name, ""))
        except Exception as exc:
            record = {"kind": MODELS.get(name, "cnn"), "family": families.get(name, ""),
                      "error": one_line_error(exc)}
        store.put(("models", name), record)
        log(f"{name}: {record.get('error') or record['macs_conv_linear']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
