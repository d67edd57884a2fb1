#!/usr/bin/env python3
"""Record the reference data of the importers: torchvision's own counts, shape-only ONNX exports,
Keras application configs and the YAML files `archcalc import` writes for torchvision's CNNs.

Run with a separate environment holding torch 2.14, torchvision 0.29, onnx and keras 3 (+ jax);
archcalc itself is put on the path (PYTHONPATH), never installed there.

    --counts    tests/data/reference_import.json `torchvision.<model>`: `params` and
                `trainable_params` (numel over parameters()), `bn_running_stats` (numel of every
                running_mean + running_var) and `macs_conv_linear` (Conv2d: N·H_out·W_out·C_out·
                (C_in/groups)·k_h·k_w; Linear: in·out per output row) counted with forward hooks on
                the model built on the meta device (batch 1, input 3×224×224, inception_v3 3×299×299;
                googlenet and inception_v3 with aux_logits=False, init_weights=False);
                `refused`: the non-CNN models and why.
    --onnx      tests/data/onnx/<model>.onnx.gz: torch.onnx.export (TorchScript exporter, opset 17,
                export_params=False so that every parameter is a graph input with its shape and no
                data, do_constant_folding=False), gzip'd.
    --keras     tests/data/keras/<Name>.json.gz: keras.applications.<Name>(weights=None).to_json(),
                gzip'd; reference_import.json `keras.<Name>`: count_params() trainable and
                non-trainable (sum of the weights' sizes).
    --imported  tests/data/imported/torchvision/<model>.yaml: `archcalc.import_model` + the writer
                (with `calls:`, how the traced model runs each layer).
    --segmentation  tests/data/imported/segmentation/<model>.yaml and <model>-aux.yaml: the same for
                every model of torchvision.models.segmentation without and with its auxiliary classifier
    --video     tests/data/imported/video/<model>.yaml: the same for every CNN of torchvision.models.video
                (3×16×112×112; S3D at 3×16×224×224, the clips of its weights)
                (aux_loss=False / True, weights=None, weights_backbone=None), imported at 3×224×224;
                their reference counts are in reference_dense.json (tools/reference_dense.py).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import gzip
import importlib.metadata
import io
import json
import os
import sys
import warnings

os.environ.setdefault("KERAS_BACKEND", "jax")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "tests", "data")
REFUSED = {"vit": "vision transformer: multi-head self-attention and a class token are not CNN layer types",
           "swin": "shifted-window transformer: windowed multi-head self-attention is not a CNN layer type",
           "maxvit": "MaxViT: block and grid multi-head self-attention are not CNN layer types"}
KWARGS = {"googlenet": {"aux_logits": False, "init_weights": False},
          "inception_v3": {"aux_logits": False, "init_weights": False}}
KERAS_MODELS = ["VGG16", "ResNet50", "InceptionV3", "Xception", "MobileNet", "MobileNetV2", "DenseNet121",
                "EfficientNetB0"]


def refusal(name: str) -> str | None:
    family = name.split("_")[0]
    return REFUSED.get(family)


def cnn_models() -> list[str]:
    import torchvision
    return [m for m in torchvision.models.list_models(module=torchvision.models) if refusal(m) is None]


def input_shape(name: str) -> tuple[int, int, int]:
    return (3, 299, 299) if name == "inception_v3" else (3, 224, 224)


def build(name: str, device: str = "meta"):
    import torch
    import torchvision
    try:
        with torch.device("meta"):
            model = torchvision.models.get_model(name, weights=None, **KWARGS.get(name, {}))
    except NotImplementedError:  # RegNet computes its widths with tensors: build it for real
        model = torchvision.models.get_model(name, weights=None, **KWARGS.get(name, {})).to("meta")
    if device != "meta":
        model = model.to_empty(device=device)
    return model.eval()


def counts(name: str) -> dict:
    import torch
    from torch import nn
    model = build(name)
    params = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    running = sum(b.numel() for n, b in model.named_buffers() if n.endswith(("running_mean", "running_var")))
    macs = [0]

    def hook(module, _inputs, output):
        if isinstance(module, nn.Conv2d):
            macs[0] += output.numel() * module.in_channels // module.groups * module.weight[0, 0].numel()
        else:
            macs[0] += output.numel() * module.in_features

    for module in model.modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            module.register_forward_hook(hook)
    with torch.no_grad():
        model(torch.zeros(1, *input_shape(name), device="meta"))
    return {"params": params, "trainable_params": trainable, "bn_running_stats": running,
            "macs_conv_linear": macs[0], "input": list(input_shape(name)),
            "constructor": f"torchvision.models.get_model({name!r}, weights=None, **{KWARGS.get(name, {})})"}


def export_onnx(name: str) -> None:
    import torch
    model = build(name, "cpu")
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (torch.zeros(1, *input_shape(name)),), buffer, dynamo=False, export_params=False,
                          do_constant_folding=False, opset_version=17, input_names=["input"])
    os.makedirs(os.path.join(DATA, "onnx"), exist_ok=True)
    with gzip.GzipFile(os.path.join(DATA, "onnx", f"{name}.onnx.gz"), "wb", mtime=0) as out:
        out.write(buffer.getvalue())


def keras_config(name: str) -> dict:
    import keras
    model = getattr(keras.applications, name)(weights=None)
    os.makedirs(os.path.join(DATA, "keras"), exist_ok=True)
    with gzip.GzipFile(os.path.join(DATA, "keras", f"{name}.json.gz"), "wb", mtime=0) as out:
        out.write(model.to_json().encode())
    size = lambda weights: sum(int(w.numpy().size) if hasattr(w, "numpy") else int(w.size) for w in weights)  # noqa: E731
    return {"constructor": f"keras.applications.{name}(weights=None)", "count_params": model.count_params(),
            "trainable_params": size(model.trainable_weights),
            "non_trainable_params": size(model.non_trainable_weights)}


def imported(name: str) -> None:
    import archcalc
    from archcalc.interop.yaml_writer import dump
    model = build(name)
    mapping = archcalc.import_model(model, input=input_shape(name), name=name)
    folder = os.path.join(DATA, "imported", "torchvision")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, f"{name}.yaml"), "w") as out:
        out.write(dump(mapping))


def segmentation_imported(name: str) -> None:
    import torch
    import torchvision

    import archcalc
    from archcalc.interop.yaml_writer import dump
    folder = os.path.join(DATA, "imported", "segmentation")
    os.makedirs(folder, exist_ok=True)
    for aux in (False, True):
        if name.startswith("lraspp") and aux:       # LR-ASPP has no auxiliary classifier
            continue
        options = {} if name.startswith("lraspp") else {"aux_loss": aux}
        with torch.device("meta"):
            model = torchvision.models.get_model(name, weights=None, weights_backbone=None, **options)
        label = f"{name}-aux" if aux else name
        mapping = archcalc.import_model(model.eval(), input=(3, 224, 224), name=label)
        with open(os.path.join(folder, f"{label}.yaml"), "w") as out:
            out.write(dump(mapping))


VIDEO_CNNS = ("r3d_18", "mc3_18", "r2plus1d_18", "s3d")  # torchvision.models.video less its transformers


def video_imported(name: str) -> None:
    import torch
    import torchvision

    import archcalc
    from archcalc.interop.yaml_writer import dump
    folder = os.path.join(DATA, "imported", "video")
    os.makedirs(folder, exist_ok=True)
    with torch.device("meta"):
        model = torchvision.models.get_model(name, weights=None)
    side = 224 if name == "s3d" else 112
    mapping = archcalc.import_model(model.eval(), input=(3, 16, side, side), name=name)
    with open(os.path.join(folder, f"{name}.yaml"), "w") as out:
        out.write(dump(mapping))


def versions() -> dict:
    found = {}
    for package in ("torch", "torchvision", "onnx", "keras", "jax"):
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            found[package] = importlib.metadata.version(package)
    found["python"] = sys.version.split()[0]
    found["date"] = datetime.date.today().isoformat()
    return found


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    for flag in ("counts", "onnx", "keras", "imported", "segmentation", "video"):
        parser.add_argument(f"--{flag}", action="store_true")
    parser.add_argument("--models", nargs="*", help="torchvision models (default: every CNN)")
    args = parser.parse_args(argv)
    models = args.models or cnn_models()
    path = os.path.join(DATA, "reference_import.json")
    data = {}
    if os.path.exists(path):
        with open(path) as handle:
            data = json.load(handle)
    if args.counts:
        import torchvision
        data.setdefault("torchvision", {})
        for name in models:
            print(name, flush=True)
            data["torchvision"][name] = counts(name)
        data["refused"] = {m: refusal(m) for m in torchvision.models.list_models(module=torchvision.models)
                           if refusal(m)}
    if args.keras:
        data["keras"] = {name: keras_config(name) for name in KERAS_MODELS}
    if args.counts or args.keras:
        data["versions"] = {**data.get("versions", {}), **versions()}
        with open(path, "w") as out:
            json.dump(data, out, indent=1, sort_keys=True)
            out.write("\n")
    if args.segmentation:
        import torchvision
        for name in args.models or torchvision.models.list_models(module=torchvision.models.segmentation):
            print("segmentation", name, flush=True)
            segmentation_imported(name)
    if args.video:
        for name in args.models or VIDEO_CNNS:
            print("video", name, flush=True)
            video_imported(name)
    for flag, step in (("onnx", export_onnx), ("imported", imported)):
        if getattr(args, flag):
            for name in models:
                print(flag, name, flush=True)
                step(name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
