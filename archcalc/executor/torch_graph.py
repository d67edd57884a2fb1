"""`GraphModule`: the network `to_torch` builds, running the layers in archcalc's order (imported
only with torch)."""

from __future__ import annotations

import torch
from torch import nn

from ..graph import last_readers


class GraphModule(nn.Module):
    """A network that runs its layers in archcalc's order, tensors in a dict by layer path.

    Each layer is a submodule registered under its own path (`layer1/0/conv1`), so the
    state_dict keys are archcalc's weight keys (plus BatchNorm's `num_batches_tracked`).
    """

    def __init__(self, steps: list[tuple[str, tuple[str, ...], nn.Module]], input_path: str, output_path: str):
        super().__init__()
        self.steps = [(name, inputs) for name, inputs, _ in steps]
        self.input_path, self.output_path = input_path, output_path
        for name, _, module in steps:
            self.add_module(name, module)
        last_use = last_readers(self.steps, output_path)
        self.frees = [[src for src in set(inputs) if last_use[src] == index] for index, (_, inputs)
                      in enumerate(self.steps)]

    def forward(self, x: torch.Tensor, return_intermediates: bool = False):
        values = {self.input_path: x}
        for index, (name, inputs) in enumerate(self.steps):
            values[name] = self._modules[name](*(values[src] for src in inputs))
            if not return_intermediates:
                for src in self.frees[index]:
                    del values[src]
        output = values[self.output_path]
        return (output, values) if return_intermediates else output
