"""What the ``reference_*.py`` measuring scripts share: counting parameters and conv/linear MACs with
forward hooks, recording interpolation calls, and a JSON store written after every entry.

Conventions (every script's docstring refers to these):

* ``params`` / ``trainable_params``: numel summed over ``parameters()`` (all / ``requires_grad``).
* ``bn_running_stats``: numel of every ``running_mean`` + ``running_var`` buffer;
  ``buffers_total``: numel of all buffers (``num_batches_tracked`` included, one element each).
* MACs counted with forward hooks on every module that is an instance (subclasses included) of
  ``nn.Conv1d/2d/3d`` (N·prod(out spatial)·C_out · C_in/groups · prod(kernel): output numel ×
  C_in/groups × prod(kernel)), ``nn.ConvTranspose1d/2d/3d`` (input numel × C_out/groups × prod(kernel):
  every input element is multiplied into a C_out/groups × kernel block) and ``nn.Linear`` (output
  numel × in_features), from the shapes the module really sees; bias additions NOT included
  (``conv_linear_bias_adds`` counts them: one per output element of a layer with a bias).
  ``macs_by_module_type``: by the torch base class (``Conv2d``, ``Conv1d``, ``ConvTranspose2d``,
  ``Linear``, ...); ``macs_by_module_class``: by the module's own class (``StdConv2d``,
  ``Conv2dSame``, ...), so that a subclass shows where it was seen.
"""

from __future__ import annotations

import collections
import contextlib
import datetime
import importlib.metadata
import json
import math
import os
import platform
import sys
import time

from torch import nn

SEED = 0
CONV_BASES = (nn.Conv1d, nn.Conv2d, nn.Conv3d)
TRANSPOSED_BASES = (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)
COUNTED_BASES = (*CONV_BASES, *TRANSPOSED_BASES, nn.Linear)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def one_line_error(exc: BaseException) -> str:
    lines = [line for line in str(exc).strip().splitlines() if line.strip()]
    return f"{type(exc).__name__}: {lines[0].strip() if lines else ''}"[:400]


def sorted_counts(counter) -> dict:
    """A counter as a dict sorted by key (as text), whole numbers as int."""
    items = sorted(counter.items(), key=lambda kv: str(kv[0]))
    return {str(k): (int(v) if float(v).is_integer() else v) for k, v in items}


def versions(packages, command: str) -> dict:
    """Python, each installed package of `packages`, today's date and the command that re-runs the script."""
    found = {"python": platform.python_version(), "date": datetime.date.today().isoformat(), "command": command}
    for package in packages:
        try:
            found[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            found[package] = "unavailable"
    return found


def count_parameters(model: nn.Module) -> dict:
    bn_stats = buffers_total = 0
    for name, buffer in model.named_buffers():
        buffers_total += buffer.numel()
        if name.rsplit(".", 1)[-1] in ("running_mean", "running_var"):
            bn_stats += buffer.numel()
    return {
        "params": sum(p.numel() for p in model.parameters()),
        "trainable_params": sum(p.numel() for p in model.parameters() if p.requires_grad),
        "bn_running_stats": bn_stats,
        "buffers_total": buffers_total,
    }


def params_by_owner_class(model: nn.Module) -> dict:
    """numel of the parameters by the class of the module that holds them directly."""
    counter: collections.Counter = collections.Counter()
    for module in model.modules():
        for parameter in module.parameters(recurse=False):
            counter[type(module).__name__] += parameter.numel()
    return sorted_counts(counter)


def torch_base(module: nn.Module) -> str:
    for base in COUNTED_BASES:
        if isinstance(module, base):
            return base.__name__
    raise TypeError(type(module).__name__)


def module_macs(module: nn.Module, inputs, output) -> int:
    if isinstance(module, TRANSPOSED_BASES):
        return inputs[0].numel() * (module.out_channels // module.groups) * math.prod(module.kernel_size)
    if isinstance(module, CONV_BASES):
        return output.numel() * (module.in_channels // module.groups) * math.prod(module.kernel_size)
    return output.numel() * module.in_features


class MacCounter:
    """Forward hooks on every conv/linear module of `model`; ``part_of(qualified_name)`` names the part
    a module's MACs are added to (default: one part, ``"model"``).  Use as a context manager, run the
    model (or its parts) inside, then read ``result()``.  ``layers=True`` also keeps one row per call."""

    def __init__(self, model: nn.Module, part_of=lambda name: "model", layers: bool = False):
        self.model, self.part_of, self.keep_layers = model, part_of, layers
        self.by_type: collections.Counter = collections.Counter()
        self.by_class: collections.Counter = collections.Counter()
        self.by_part: collections.Counter = collections.Counter()
        self.bias_adds = 0
        self.layers: list = []
        self._handles: list = []

    def __enter__(self):
        for name, module in self.model.named_modules():
            if isinstance(module, COUNTED_BASES):
                self._handles.append(module.register_forward_hook(self._hook(name)))
        return self

    def __exit__(self, *exc):
        for handle in self._handles:
            handle.remove()
        self._handles.clear()

    def _hook(self, name):
        def hook(module, inputs, output):
            macs = module_macs(module, inputs, output)
            self.by_type[torch_base(module)] += macs
            self.by_class[type(module).__name__] += macs
            self.by_part[self.part_of(name)] += macs
            if getattr(module, "bias", None) is not None:
                self.bias_adds += output.numel()
            if self.keep_layers:
                self.layers.append({"module": name, "type": type(module).__name__,
                                    "input_shape": list(inputs[0].shape), "output_shape": list(output.shape),
                                    "macs": macs})
        return hook

    def result(self) -> dict:
        return {
            "macs_conv_linear": sum(self.by_type.values()),
            "macs_by_module_type": sorted_counts(self.by_type),
            "macs_by_module_class": sorted_counts(self.by_class),
            "conv_linear_bias_adds": self.bias_adds,
        }


@contextlib.contextmanager
def interpolate_calls(model: nn.Module):
    """Record every ``F.interpolate`` call (``nn.Upsample`` included) made while the block runs: the
    innermost module of `model` running it, input and output shapes, mode, align_corners, size and
    scale_factor as passed."""
    import torch.nn.functional as F

    calls: list = []
    stack: list = []
    names = {module: name for name, module in model.named_modules()}
    original = F.interpolate

    def recording(input, size=None, scale_factor=None, mode="nearest", align_corners=None, *args, **kwargs):
        output = original(input, size, scale_factor, mode, align_corners, *args, **kwargs)
        as_list = lambda v: list(v) if isinstance(v, (tuple, list)) else v  # noqa: E731
        calls.append({"module": stack[-1] if stack else "", "input_shape": list(input.shape),
                      "output_shape": list(output.shape), "mode": mode, "align_corners": align_corners,
                      "size": as_list(size), "scale_factor": as_list(scale_factor)})
        return output

    def enter(module, _inputs):
        stack.append(names[module])

    def leave(_module, _inputs, _output):
        stack.pop()  # returns None: a forward hook's return value would replace the output

    handles = []
    for module in names:
        handles.append(module.register_forward_pre_hook(enter))
        handles.append(module.register_forward_hook(leave))
    F.interpolate = recording
    try:
        yield calls
    finally:
        F.interpolate = original
        for handle in handles:
            handle.remove()


class Store:
    """A JSON file of ``{"versions": ..., <section>: {<name>: ... entry}}`` written after every entry.

    An earlier file is kept (and its finished entries skipped) when its versions, apart from the
    date, equal this run's; otherwise it is started afresh."""

    def __init__(self, path: str, run_versions: dict, fresh: bool = False):
        self.path = path
        self.data = {"versions": run_versions}
        if not fresh and os.path.exists(path):
            with open(path, encoding="utf-8") as handle:
                old = json.load(handle)
            same = {k: v for k, v in old.get("versions", {}).items() if k != "date"} == \
                {k: v for k, v in run_versions.items() if k != "date"}
            if same:
                self.data = {**old, "versions": run_versions}
            else:
                log(f"{path}: written with other versions; starting afresh")

    def has(self, keys: tuple) -> bool:
        node = self.data
        for key in keys:
            if not isinstance(node, dict) or key not in node:
                return False
            node = node[key]
        return True

    def put(self, keys: tuple, entry) -> None:
        """Store `entry` at ``data[keys[0]][keys[1]]...`` and write the file."""
        node = self.data
        for key in keys[:-1]:
            node = node.setdefault(key, {})
        node[keys[-1]] = entry
        self.write()

    def write(self) -> None:
        with open(self.path + ".tmp", "w", encoding="utf-8") as handle:
            handle.write(compact_json(self.data) + "\n")
        os.replace(self.path + ".tmp", self.path)


def compact_json(value, indent: int = 0, width: int = 110) -> str:
    """JSON with sorted keys, one key per line, but any list or dict that fits in `width` on one line."""
    flat = json.dumps(value, sort_keys=True)
    if not isinstance(value, (dict, list)) or len(flat) + indent <= width or not value:
        return flat
    pad = " " * (indent + 1)
    if isinstance(value, dict):
        items = [f"{pad}{json.dumps(str(k))}: {compact_json(v, indent + 1, width)}" for k, v in sorted(value.items())]
        return "{\n" + ",\n".join(items) + "\n" + " " * indent + "}"
    items = [pad + compact_json(v, indent + 1, width) for v in value]
    return "[\n" + ",\n".join(items) + "\n" + " " * indent + "]"
