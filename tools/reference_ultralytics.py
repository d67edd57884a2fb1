#!/usr/bin/env python3
"""Record Ultralytics YOLO detection models as Ultralytics builds and counts them:
``tests/data/reference_ultralytics.json``.  Only numbers are stored (Ultralytics is AGPL): no
configuration file, no code.

Each model is built from the configuration name that ships inside the package
(``DetectionModel("yolov8n.yaml", verbose=True)``: the scale letter in the name picks the row of the
config's ``scales``), without weights, on the CPU, in eval mode.

``models.<name>``:

* ``config``: the configuration name; ``scale``: the scale letter; ``scale_row``: the config's
  ``[depth, width, max_channels]`` for it; ``nc``: classes; ``stride``: ``model.stride``.
* ``params``, ``trainable_params``, ``bn_running_stats``, ``buffers_total``
  (``tools/reference_common.py``); ``info``: ``model.info(imgsz=640)``'s ``layers``, ``parameters``,
  ``gradients`` and ``gflops`` (unrounded) and ``summary``, the line it prints (``8.9 GFLOPs`` is
  ``gflops`` rounded to one decimal); ``fused``: the same after ``model.fuse()`` (BatchNorm folded
  into the convolutions), on a second instance.
* How ``gflops`` comes about (ultralytics ``utils.torch_utils.get_flops``): ``thop.profile(model,
  [1×3×640×640], stride=max(model.stride, 32))`` -- thop's stride-aware mode runs a proxy image
  one stride tall and wide and multiplies its MACs by the number of stride cells (400 at 640),
  for a model without Linear layers or functional products, or fits proxies of several widths
  where it has them (YOLO11's attention) -- then ×2 / 1e9.  ``thop``: thop's own MACs
  (``profile(..., ret_layer_info=True)``, which runs the image itself) at ``32`` (one stride cell,
  1×3×32×32) and ``640``: ``total``, ``by_module_class`` (leaf modules) and ``functional`` (the
  rest: matrix products thop counts outside modules).  For these five models ``gflops`` equals
  2·``thop.640.total``/1e9; for YOLOv8 also 2·400·``thop.32.total``/1e9.
* ``macs_conv_linear`` etc.: conv/linear MACs with forward hooks at 1×3×640×640
  (``tools/reference_common.py``); ``head_input_shapes``: the three maps the detect head reads.
* ``layers``: one row per entry of the config as ``parse_model`` parsed it (read from the table it
  logs): ``index``, ``from``, ``n`` (repeats after depth scaling), ``params``, ``module`` (the class
  name), ``args`` (as parsed: channels scaled and the input channels prepended), plus
  ``macs_conv_linear`` (hooks, 640), ``thop_macs_640``, ``thop_macs_32`` and ``output_shape``
  (C, H, W at 640; absent for the head, whose output is a tuple).

``versions``: python, ultralytics, ultralytics-thop, torch, date, command.

Re-run (a minute or two), in a separate environment that is never the project's own::

    python3 -m venv /work/ultraenv && /work/ultraenv/bin/pip install ultralytics
    YOLO_OFFLINE=1 nice /work/ultraenv/bin/python tools/reference_ultralytics.py
"""

from __future__ import annotations

import ast
import copy
import io
import logging
import os
import sys
import tempfile
import warnings

os.environ.setdefault("YOLO_OFFLINE", "1")
os.environ.setdefault("YOLO_CONFIG_DIR", tempfile.mkdtemp(prefix="ultralytics-settings-"))

import torch  # noqa: E402
from reference_common import MacCounter, Store, count_parameters, log, sorted_counts, versions  # noqa: E402

COMMAND = "YOLO_OFFLINE=1 nice /work/ultraenv/bin/python tools/reference_ultralytics.py"
OUT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests", "data",
                   "reference_ultralytics.json")
MODELS = ["yolov8n", "yolov8s", "yolo11n", "yolov8m", "yolo11s"]
IMGSZ = 640


def build(config: str):
    """The model and the rows of the table `parse_model` logs while building it."""
    from ultralytics.nn.tasks import DetectionModel

    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    logger = logging.getLogger("ultralytics")
    logger.addHandler(handler)
    try:
        torch.manual_seed(0)
        model = DetectionModel(config, verbose=True)
    finally:
        logger.removeHandler(handler)
    return model.eval(), parse_table(buffer.getvalue())


def parse_table(text: str) -> list:
    """The rows of parse_model's table: f"{i:>3}{f!s:>20}{n:>3}{params:10.0f}  {type:<45}{args!s:<30}"."""
    rows = []
    for line in text.splitlines():
        if len(line) < 40 or not line[:3].strip().isdigit():
            continue
        rows.append({"index": int(line[:3]), "from": ast.literal_eval(line[3:23].strip()),
                     "n": int(line[23:26]), "params": int(line[26:36]),
                     "module": line[38:83].strip().rsplit(".", 1)[-1],
                     "args": ast.literal_eval(line[83:].strip())})
    return rows


def info(model) -> dict:
    from ultralytics.utils import LOGGER

    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    LOGGER.addHandler(handler)
    try:
        n_layers, n_params, n_gradients, gflops = model.info(imgsz=IMGSZ)
    finally:
        LOGGER.removeHandler(handler)
    summary = [line for line in buffer.getvalue().splitlines() if "summary" in line]
    return {"layers": n_layers, "parameters": n_params, "gradients": n_gradients, "gflops": gflops,
            "summary": summary[-1].strip() if summary else ""}


def thop_counts(model, size: int) -> tuple[dict, list]:
    """thop's MACs of one 1×3×size×size image (run directly), in total, by leaf class and by layer."""
    import thop

    model = copy.deepcopy(model)
    classes = {name: type(module).__name__ for name, module in model.named_modules(remove_duplicate=False)}
    total, _params, tree = thop.profile(model, inputs=[torch.zeros(1, 3, size, size)], verbose=False,
                                        ret_layer_info=True)
    by_class: dict = {}

    def walk(node, prefix):
        for child, (ops, _p, sub) in node.items():
            name = f"{prefix}.{child}" if prefix else child
            if sub:
                walk(sub, name)
            else:
                by_class[classes[name]] = by_class.get(classes[name], 0) + ops
    walk(tree, "")
    per_layer = [tree["model"][2][str(i)][0] for i in range(len(model.model))]
    functional = total - sum(by_class.values())  # products thop counts outside modules (attention's matmuls)
    return {"total": total, "by_module_class": sorted_counts(by_class), "functional": functional}, per_layer


def entry(name: str) -> dict:
    model, rows = build(f"{name}.yaml")
    record = {"config": f"{name}.yaml", "scale": model.yaml.get("scale"), "nc": model.yaml.get("nc"),
              "stride": [int(s) for s in model.stride.tolist()], "imgsz": IMGSZ}
    if model.yaml.get("scales"):
        record["scale_row"] = model.yaml["scales"][record["scale"]]
    record.update(count_parameters(model))
    record["info"] = info(model)

    per_layer_macs, shapes = {}, {}
    counter = MacCounter(model, part_of=lambda qualified: qualified.split(".")[1])
    head = model.model[-1]
    hooks = [layer.register_forward_hook(lambda m, i, o, k=k: shapes.__setitem__(k, list(o.shape[1:])))
             for k, layer in enumerate(model.model) if layer is not head]
    hooks.append(head.register_forward_pre_hook(
        lambda m, i: record.__setitem__("head_input_shapes", [list(t.shape[1:]) for t in i[0]])))
    with torch.no_grad(), counter:
        model(torch.zeros(1, 3, IMGSZ, IMGSZ))
    for hook in hooks:
        hook.remove()
    per_layer_macs = counter.by_part
    record.update(counter.result())

    record["thop"] = {}
    thop_layers = {}
    for size in (32, IMGSZ):
        record["thop"][str(size)], thop_layers[size] = thop_counts(model, size)
    for row in rows:
        k = row["index"]
        row["macs_conv_linear"] = per_layer_macs.get(str(k), 0)
        row["thop_macs_640"], row["thop_macs_32"] = thop_layers[IMGSZ][k], thop_layers[32][k]
        if k in shapes:
            row["output_shape"] = shapes[k]
    record["layers"] = rows

    fused, _ = build(f"{name}.yaml")
    fused.fuse(verbose=False)
    record["fused"] = {**count_parameters(fused), "info": info(fused)}
    return record


def main(argv=None) -> int:
    warnings.filterwarnings("ignore")
    store = Store(OUT, versions(["ultralytics", "ultralytics-thop", "torch"], COMMAND))
    for name in argv or MODELS:
        if not argv and store.has(("models", name)):
            continue
        log(f"{name}: start")
        store.put(("models", name), entry(name))
        log(f"{name}: {store.data['models'][name]['info']['summary']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
