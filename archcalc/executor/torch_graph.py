"""The network `to_torch` builds: the exported PyTorch source, run, with a walk that can return every
layer's output (imported only with torch)."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..interop.export_torch import Source

_NAMESPACE = {"torch": torch, "nn": nn, "F": F}


def network_class(source: Source, label: str, input_path: str, output_path: str) -> type[nn.Module]:
    """The top class of `source`, extended so that `forward(x, return_intermediates=True)` also returns
    every layer's output by path (the walk runs each layer's own call on the same modules)."""
    namespace = dict(_NAMESPACE)
    exec(compile(source.text, label, "exec"), namespace)  # noqa: S102 - archcalc's own generated code
    steps = []
    for step in source.steps:
        names = list(step.modules)
        inputs = [f"x{k}" for k in range(len(step.inputs))]
        fields = {name: name for name in names}
        call = step.call.format(*inputs, inputs=", ".join(inputs), **fields)
        function = eval(f"lambda {', '.join(names + inputs)}: {call}", dict(_NAMESPACE))  # noqa: S307
        steps.append((step.path, function, list(step.modules.values()), step.inputs))
    exported = namespace[source.class_name]

    def forward(self: nn.Module, x: torch.Tensor, return_intermediates: bool = False) -> Any:
        if not return_intermediates:
            return exported.forward(self, x)
        values = {input_path: x}
        for path, function, modules, inputs in steps:
            values[path] = function(*(None if m is None else self.get_submodule(m) for m in modules),
                                    *(values[src] for src in inputs))
        return values[output_path], values

    return type(exported.__name__, (exported,), {"forward": forward, "__doc__": exported.__doc__})
