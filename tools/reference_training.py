#!/usr/bin/env python3
"""Record the cost of training steps and the parameter split of frozen models:
``tests/data/reference_training.json``.

``flop_counter.<model>.<setup>`` -- torchvision ``resnet18``, ``mobilenet_v2``, ``vgg11`` (``weights=None``,
meta device, batch 1, input 1×3×224×224 of zeros, every module in eval mode -- BatchNorm uses its running
statistics in all set-ups --, loss ``out.sum()``) under four set-ups (``requires_grad=False`` on the
frozen parameters):

* ``all_trainable``; ``last_linear_only`` (only the last Linear: ``fc``, ``classifier.1``,
  ``classifier.6``); ``first_half_frozen`` (resnet18: ``conv1``, ``bn1``, ``layer1``, ``layer2``; the
  others: ``features[:len(features) // 2]``, i.e. ``features.0``-``features.8`` of mobilenet_v2's 19
  and ``features.0``-``features.9`` of vgg11's 21 -- its first 4 of 8 convolutions);
  ``bn_frozen`` (every BatchNorm2d weight and bias).
* ``frozen_param_names`` (exact), ``trainable_params``, ``frozen_params``.
* ``forward`` / ``backward``: ``torch.utils.flop_counter.FlopCounterMode`` around ``out =
  model(x); loss = out.sum()`` and, separately, around ``loss.backward()``: ``total_flops`` and
  ``flops_by_op``.
* ``layers``: one row per Conv2d / Linear call, in execution order: ``module``, ``type``, ``macs``
  (forward, hooks: ``tools/reference_common.py``), ``input_grad`` (the input requires grad, so
  autograd computes the gradient with respect to it), ``weight_grad`` (``weight.grad`` is set after
  backward), ``fcm_forward`` / ``fcm_backward``: the FLOPs FlopCounterMode attributes to that module
  (one counter around forward and backward of a second instance, less the forward counter's share).

``keras_transfer`` -- the Keras book's feature-extraction model (Keras 3, ``KERAS_BACKEND=jax``):
``VGG16(weights=None, include_top=False, input_shape=(150, 150, 3))`` with ``trainable = False``, then
``Flatten``, ``Dense(256, relu)``, ``Dense(1, sigmoid)``: ``code``, ``count_params``,
``trainable_params``, ``non_trainable_params``, ``summary_lines`` (the totals ``model.summary()``
prints), ``layers`` (name, class, output shape, params, trainable); ``before_freezing``: the same
counts with the base trainable.

``torch_transfer.<model>`` -- torchvision ``vgg16`` (``classifier[6] = Linear(4096, 2)``) and
``resnet50`` (``fc = Linear(2048, 2)``), every other parameter ``requires_grad=False``:
``params``, ``trainable_params``, ``frozen_params``, ``bn_running_stats``, ``buffers_total``,
``trainable_names``.

``training_memory.<model>.<optimizer>`` -- a benchmark reference, not a test value: torchvision
``resnet18`` and ``mobilenet_v2`` on the CPU, train mode, batch 8 of 3×224×224 ``randn``, loss
``cross_entropy(out, zeros)``, optimizer ``sgd`` (lr 0.1), ``sgd_momentum`` (lr 0.1, momentum
0.9) or ``adam`` (defaults); two steps of ``zero_grad(set_to_none=True)``, forward, backward,
``step()``.  Method: ``torch.profiler.profile(activities=[CPU], profile_memory=True,
record_shapes=True, with_stack=True)`` around each step and the profiler's memory timeline
(``torch.profiler._memory_profiler.MemoryProfileTimeline``: every tensor allocation and free of
the CPU allocator, each tensor classed as parameter, gradient, optimizer state, activation, input,
temporary, autograd detail or unknown; tensors alive before the step are included).  ``step1``
(optimizer state created) and ``step2`` (steady state): ``peak_bytes`` (the timeline's highest total),
``peak_by_category`` (the categories at that moment), ``max_by_category``, ``end_bytes``; and
``param_bytes``, ``grad_bytes`` (after step 2), ``optimizer_state_bytes`` (tensors in
``optimizer.state``).

``versions``: python, torch, torchvision, keras, jax, date, command.

Re-run (about ten minutes, most of it the memory profiles)::

    KERAS_BACKEND=jax nice /work/refenv/bin/python tools/reference_training.py   # --only flops|keras|torch|memory
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import warnings

os.environ.setdefault("KERAS_BACKEND", "jax")

import torch  # noqa: E402
from reference_common import MacCounter, Store, count_parameters, log, one_line_error, sorted_counts, versions  # noqa: E402
from torch import nn  # noqa: E402

COMMAND = "KERAS_BACKEND=jax nice /work/refenv/bin/python tools/reference_training.py"
OUT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests", "data",
                   "reference_training.json")
FLOP_MODELS = ["resnet18", "mobilenet_v2", "vgg11"]
LAST_LINEAR = {"resnet18": "fc", "mobilenet_v2": "classifier.1", "vgg11": "classifier.6"}
SETUPS = ["all_trainable", "last_linear_only", "first_half_frozen", "bn_frozen"]
MEMORY_MODELS = ["resnet18", "mobilenet_v2"]
OPTIMIZERS = {"sgd": lambda p: torch.optim.SGD(p, lr=0.1),
              "sgd_momentum": lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9),
              "adam": lambda p: torch.optim.Adam(p)}
MEMORY_BATCH = 8


def build(name: str, device: str = "meta") -> nn.Module:
    import torchvision

    torch.manual_seed(0)
    with torch.device(device):
        return torchvision.models.get_model(name, weights=None)


def under(name: str, prefixes) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def frozen_names(model: nn.Module, name: str, setup: str) -> list:
    params = [n for n, _ in model.named_parameters()]
    if setup == "all_trainable":
        return []
    if setup == "last_linear_only":
        return [n for n in params if not under(n, [LAST_LINEAR[name]])]
    if setup == "first_half_frozen":
        prefixes = ["conv1", "bn1", "layer1", "layer2"] if name == "resnet18" else \
            [f"features.{i}" for i in range(len(model.features) // 2)]
        return [n for n in params if under(n, prefixes)]
    norms = [m for m, module in model.named_modules() if isinstance(module, nn.BatchNorm2d)]
    return [n for n in params if n.rsplit(".", 1)[0] in norms]


def prepared(name: str, setup: str) -> tuple[nn.Module, list]:
    model = build(name).eval()
    frozen = frozen_names(model, name, setup)
    for parameter_name, parameter in model.named_parameters():
        parameter.requires_grad_(parameter_name not in frozen)
    return model, frozen


class LayerFlops:
    """The FLOPs a FlopCounterMode adds while each Conv2d/Linear runs forward (forward pre-hook to
    forward hook) and while its output's autograd node runs backward (node pre-hook to hook; the
    node is the op the layer ran -- ConvolutionBackward0, AddmmBackward0 -- captured before any
    in-place activation replaces it)."""

    def __init__(self, model: nn.Module, forward, backward):
        self.forward, self.backward = forward, backward
        self.input_grad, self.fcm_forward, self.fcm_backward = {}, {}, {}
        self._started: dict = {}
        self._handles = []
        for name, module in model.named_modules():
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                self._handles.append(module.register_forward_pre_hook(self._pre(name)))
                self._handles.append(module.register_forward_hook(self._post(name)))

    def _pre(self, name):
        def hook(_module, inputs):
            self.input_grad[name] = bool(inputs[0].requires_grad)
            self._started[name] = self.forward.get_total_flops()
        return hook

    def _post(self, name):
        def hook(_module, _inputs, output):
            self.fcm_forward[name] = self.forward.get_total_flops() - self._started[name]
            self.fcm_backward[name] = 0
            node = output.grad_fn
            if node is not None:
                node.register_prehook(lambda grads: self._started.__setitem__(("bw", name),
                                                                               self.backward.get_total_flops()))
                node.register_hook(lambda grads_in, grads_out: self.fcm_backward.__setitem__(
                    name, self.backward.get_total_flops() - self._started[("bw", name)]))
        return hook

    def remove(self):
        for handle in self._handles:
            handle.remove()


def flop_entry(name: str, setup: str) -> dict:
    from torch.utils.flop_counter import FlopCounterMode

    model, frozen = prepared(name, setup)
    x = torch.zeros(1, 3, 224, 224, device="meta")
    forward, backward = FlopCounterMode(display=False), FlopCounterMode(display=False)
    macs, per_layer = MacCounter(model, layers=True), LayerFlops(model, forward, backward)
    with forward, macs:
        loss = model(x).sum()
    with backward:
        loss.backward()
    per_layer.remove()
    modules = dict(model.named_modules())
    layers = [{"module": row["module"], "type": row["type"], "macs": row["macs"],
               "input_grad": per_layer.input_grad[row["module"]],
               "weight_grad": modules[row["module"]].weight.grad is not None,
               "fcm_forward": per_layer.fcm_forward[row["module"]],
               "fcm_backward": per_layer.fcm_backward[row["module"]]}
              for row in macs.layers]
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return {"frozen_param_names": frozen, "trainable_params": trainable,
            "frozen_params": sum(p.numel() for p in model.parameters()) - trainable,
            "loss": "out.sum()", "mode": "eval", "input": [1, 3, 224, 224],
            "forward": {"total_flops": forward.get_total_flops(),
                        "flops_by_op": sorted_counts(forward.get_flop_counts()["Global"])},
            "backward": {"total_flops": backward.get_total_flops(),
                         "flops_by_op": sorted_counts(backward.get_flop_counts()["Global"])},
            "layers": layers}


# --------------------------------------------------------------------------
# Transfer learning: parameter splits
# --------------------------------------------------------------------------

KERAS_TRANSFER = ("Sequential([Input((150, 150, 3)), conv_base, Flatten(), Dense(256, activation='relu'), "
                  "Dense(1, activation='sigmoid')]) with conv_base = VGG16(weights=None, include_top=False, "
                  "input_shape=(150, 150, 3)); conv_base.trainable = False")


def keras_transfer() -> dict:
    import keras
    from keras import Input, Sequential, layers

    keras.utils.set_random_seed(0)
    conv_base = keras.applications.VGG16(weights=None, include_top=False, input_shape=(150, 150, 3))
    model = Sequential([Input((150, 150, 3)), conv_base, layers.Flatten(), layers.Dense(256, activation="relu"),
                        layers.Dense(1, activation="sigmoid")])
    size = lambda weights: sum(int(w.numpy().size) for w in weights)  # noqa: E731

    def counts() -> dict:
        lines: list = []
        model.summary(print_fn=lambda line, **_: lines.append(line))
        text = "\n".join(lines)
        return {"count_params": int(model.count_params()), "trainable_params": size(model.trainable_weights),
                "non_trainable_params": size(model.non_trainable_weights),
                "summary_lines": [line.strip() for line in text.splitlines() if "params:" in line]}

    before = counts()
    conv_base.trainable = False
    record = {"code": KERAS_TRANSFER, **counts(), "before_freezing": before,
              "layers": [{"name": layer.name, "class": type(layer).__name__, "output_shape": list(layer.output.shape),
                          "params": int(layer.count_params()), "trainable": bool(layer.trainable)}
                         for layer in model.layers]}
    keras.backend.clear_session()
    return record


def torch_transfer(name: str) -> dict:
    model = build(name)
    if name == "vgg16":
        model.classifier[6] = nn.Linear(4096, 2, device="meta")
        head = "classifier.6"
    else:
        model.fc = nn.Linear(2048, 2, device="meta")
        head = "fc"
    for parameter_name, parameter in model.named_parameters():
        parameter.requires_grad_(under(parameter_name, [head]))
    counts = count_parameters(model)
    return {"code": f"torchvision.models.{name}(weights=None); {head} = nn.Linear(..., 2); "
                    "requires_grad=False on every other parameter",
            **counts, "frozen_params": counts["params"] - counts["trainable_params"],
            "trainable_names": [n for n, p in model.named_parameters() if p.requires_grad]}


# --------------------------------------------------------------------------
# Training memory (a benchmark reference)
# --------------------------------------------------------------------------

def profile_step(model, optimizer, x, y) -> dict:
    from torch.profiler import ProfilerActivity, profile
    from torch.profiler._memory_profiler import _CATEGORY_TO_INDEX, MemoryProfileTimeline

    with profile(activities=[ProfilerActivity.CPU], profile_memory=True, record_shapes=True,
                 with_stack=True) as prof:
        optimizer.zero_grad(set_to_none=True)
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
    _times, sizes = MemoryProfileTimeline(prof._memory_profile())._coalesce_timeline("cpu")
    names = ["unknown" if c is None else c.name.lower() for c in _CATEGORY_TO_INDEX]
    totals = [sum(row) for row in sizes]
    peak = max(range(len(totals)), key=totals.__getitem__)
    return {"peak_bytes": totals[peak],
            "peak_by_category": {n: sizes[peak][i + 1] for i, n in enumerate(names) if sizes[peak][i + 1]},
            "max_by_category": {n: max(row[i + 1] for row in sizes) for i, n in enumerate(names)
                                if any(row[i + 1] for row in sizes)},
            "end_bytes": totals[-1]}


def memory_entry(name: str, optimizer_name: str) -> dict:
    model = build(name, "cpu").train()
    optimizer = OPTIMIZERS[optimizer_name](model.parameters())
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(MEMORY_BATCH, 3, 224, 224, generator=generator)
    y = torch.zeros(MEMORY_BATCH, dtype=torch.long)
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        step1 = profile_step(model, optimizer, x, y)
        step2 = profile_step(model, optimizer, x, y)
    bytes_of = lambda tensors: sum(t.numel() * t.element_size() for t in tensors)  # noqa: E731
    state = [v for s in optimizer.state.values() for v in s.values() if isinstance(v, torch.Tensor)]
    return {"batch": MEMORY_BATCH, "input": [MEMORY_BATCH, 3, 224, 224], "mode": "train",
            "loss": "cross_entropy(out, zeros)", "optimizer": optimizer_name,
            "param_bytes": bytes_of(model.parameters()),
            "buffer_bytes": bytes_of(model.buffers()),
            "grad_bytes": bytes_of(p.grad for p in model.parameters() if p.grad is not None),
            "optimizer_state_bytes": bytes_of(state), "input_bytes": bytes_of([x, y]),
            "step1": step1, "step2": step2}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=["flops", "keras", "torch", "memory"], help="one section only")
    parser.add_argument("--fresh", action="store_true", help="ignore an earlier file")
    parser.add_argument("--out", default=OUT)
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")
    store = Store(args.out, versions(["torch", "torchvision", "keras", "jax"], COMMAND), fresh=args.fresh)
    jobs = []
    if args.only in (None, "flops"):
        jobs += [(("flop_counter", m, s), lambda m=m, s=s: flop_entry(m, s)) for m in FLOP_MODELS for s in SETUPS]
    if args.only in (None, "keras"):
        jobs.append((("keras_transfer",), keras_transfer))
    if args.only in (None, "torch"):
        jobs += [(("torch_transfer", m), lambda m=m: torch_transfer(m)) for m in ("vgg16", "resnet50")]
    if args.only in (None, "memory"):
        jobs += [(("training_memory", m, o), lambda m=m, o=o: memory_entry(m, o))
                 for m in MEMORY_MODELS for o in OPTIMIZERS]
    for keys, run in jobs:
        if store.has(keys):
            continue
        log(" ".join(keys))
        try:
            record = run()
        except Exception as exc:
            record = {"error": one_line_error(exc)}
        store.put(keys, record)
    return 0


if __name__ == "__main__":
    sys.exit(main())
