#!/usr/bin/env python3
"""Write tests/data/imported/timm/<model>.yaml: the files `archcalc import` writes for the CNNs of
tests/data/reference_timm.json (`kind: cnn`), each built as that file records (timm.create_model(name,
pretrained=False) on the meta device, or on the CPU where its constructor needs real tensors) and
imported at its `input_shape`; and tests/data/imported/timm/refused.json: each model that does not
import (or whose file written does not analyse), with archcalc's one-line reason. With `--others`, the
transformer, MLP and hybrid models of the same file instead, written to others.json: each with its kind
and archcalc's reason for refusing it (or the counts it gave, were one imported). Run with the
environment that measured the references (torch 2.14, timm), archcalc put on the path, never
installed there:

    PYTHONPATH=. nice /work/refenv/bin/python tools/reference_import_timm.py   # --models NAME... to restrict
"""

from __future__ import annotations

import argparse
import json
import os
import warnings

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "tests", "data")
FOLDER = os.path.join(DATA, "imported", "timm")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="*", help="timm models (default: every CNN of reference_timm.json)")
    parser.add_argument("--others", action="store_true", help="the models that are no CNN, to others.json")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")
    import timm
    import torch

    import archcalc
    from archcalc.errors import ArchcalcError
    from archcalc.interop.yaml_writer import dump

    with open(os.path.join(DATA, "reference_timm.json")) as source:
        reference = json.load(source)["models"]
    if args.others:
        return write_others(reference, timm, torch)
    names = args.models or sorted(n for n, r in reference.items() if r.get("kind") == "cnn" and "error" not in r)
    os.makedirs(FOLDER, exist_ok=True)
    refused_path = os.path.join(FOLDER, "refused.json")
    refused = {}
    if os.path.exists(refused_path):
        with open(refused_path) as source:
            refused = json.load(source)
    for name in names:
        record = reference[name]
        model = build(timm, torch, name, record)
        target = os.path.join(FOLDER, f"{name}.yaml")
        try:
            text = dump(archcalc.import_model(model.eval(), input=tuple(record["input_shape"]), name=name))
            archcalc.analyze(archcalc.load(f"{name}.yaml", text=text))     # the file written must analyse
        except ArchcalcError as exc:
            refused[name] = exc.message
            if os.path.exists(target):
                os.remove(target)
            print("refused", name, exc.message[:200], flush=True)
            continue
        refused.pop(name, None)
        with open(target, "w") as out:
            out.write(text)
        print("imported", name, flush=True)
    with open(refused_path, "w") as out:
        json.dump(dict(sorted(refused.items())), out, indent=1)
        out.write("\n")
    return 0


def build(timm, torch, name: str, record: dict):
    """The model as the reference measured it: on the meta device, or on the CPU."""
    if record.get("device") == "meta":
        with torch.device("meta"):
            return timm.create_model(name, pretrained=False)
    return timm.create_model(name, pretrained=False)


def write_others(reference: dict, timm, torch) -> int:
    """others.json: each transformer, MLP and hybrid model, its kind and archcalc's reason for refusing it,
    or, were it imported, the trainable parameters and Conv2d + Linear MACs the file gives."""
    import archcalc
    from archcalc.errors import ArchcalcError

    others = {}
    for name, record in sorted(reference.items()):
        if record.get("kind") == "cnn" or "error" in record:
            continue
        entry = {"kind": record["kind"]}
        try:
            report = archcalc.analyze(archcalc.import_model(build(timm, torch, name, record).eval(),
                                                            input=tuple(record["input_shape"]), name=name))
            entry["imported"] = {"trainable_params": report.totals.trainable_params, "macs": report.totals.macs}
        except ArchcalcError as exc:
            entry["refused"] = exc.message
        others[name] = entry
        print(name, "refused" if "refused" in entry else "IMPORTED", flush=True)
    with open(os.path.join(FOLDER, "others.json"), "w") as out:
        json.dump(others, out, indent=1)
        out.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
