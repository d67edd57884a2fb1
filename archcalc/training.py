"""The cost of one training step, per layer and in total, for the report's batch: computed from a
finished analysis (its records, their frozen parameters and the graph), not during it.

A step is the forward pass, the backward pass and the update:

* **forward**: the layer's MACs (`LayerRecord.macs`).
* **grad-input**: the gradient with respect to the layer's input, computed only when some trainable
  parameter lies before the layer (closer to the input, along any path of the graph): a frozen prefix
  sends no gradient back. It costs the forward's MACs (a transposed product with the same weights).
* **grad-weight**: the gradient with respect to the layer's weight, computed only when the weight is
  trained. It costs the forward's MACs: each weight sums one product per output position it touched
  (for a grouped or depthwise convolution the real work, C_in/groups inputs per filter).
* **update**: one operation per trainable parameter (SGD's `w -= lr · g`, a multiply-add), whatever the
  batch.

Only convolutions and linear layers have MACs (docs/conventions.md), forward and backward: the
gradients of BatchNorm, pooling, activations and merges, and a bias's gradient (a sum of the output's
gradient), are elementwise work and count 0 MACs, as their forward does. The count profile of the
report gives the same step's FLOPs as its tool counts them, where it counts a backward pass
(`Profile.counts_backward`: `archcalc`, 2 × MACs; `torch-train`, FlopCounterMode's).
"""

from __future__ import annotations

from dataclasses import dataclass

from . import profiles
from .analysis import DTYPE_BYTES, LayerRecord, Report
from .errors import SpecError
from .step_memory import TrainingMemory, trained_before, training_memory_of


@dataclass(frozen=True)
class LayerTraining:
    """One layer's share of a training step (MACs for the report's batch). `input_grad` / `weight_grad`:
    whether autograd computes the gradient with respect to the input / the weight; `after`: the first
    trained layer before this one (the reason its input gradient is computed), or ''; `update`: its
    trainable parameters; `forward_flops` / `backward_flops`: the profile's count (None when it counts no
    backward pass)."""

    name: str
    forward: int
    grad_input: int
    grad_weight: int
    update: int
    input_grad: bool
    weight_grad: bool
    after: str = ""
    forward_flops: int | None = None
    backward_flops: int | None = None

    @property
    def backward(self) -> int:
        return self.grad_input + self.grad_weight

    def to_dict(self) -> dict:
        return {"forward_macs": self.forward, "grad_input_macs": self.grad_input,
                "grad_weight_macs": self.grad_weight, "backward_macs": self.backward, "update_ops": self.update,
                "input_grad": self.input_grad, "weight_grad": self.weight_grad,
                **({"forward_flops": self.forward_flops, "backward_flops": self.backward_flops}
                   if self.backward_flops is not None else {})}


@dataclass(frozen=True)
class TrainingCost:
    """A training step of a report: its layers (in the report's order), their sums, and its memory with the
    optimizer named (archcalc.step_memory)."""

    count: str
    batch: int
    layers: tuple[LayerTraining, ...]
    memory: TrainingMemory

    def _sum(self, attribute: str) -> int:
        return sum(getattr(layer, attribute) for layer in self.layers)

    @property
    def forward(self) -> int:
        return self._sum("forward")

    @property
    def grad_input(self) -> int:
        return self._sum("grad_input")

    @property
    def grad_weight(self) -> int:
        return self._sum("grad_weight")

    @property
    def backward(self) -> int:
        return self.grad_input + self.grad_weight

    @property
    def update(self) -> int:
        return self._sum("update")

    @property
    def forward_flops(self) -> int | None:
        return self._sum("forward_flops") if self.counts_flops else None

    @property
    def backward_flops(self) -> int | None:
        return self._sum("backward_flops") if self.counts_flops else None

    @property
    def counts_flops(self) -> bool:
        return all(layer.backward_flops is not None for layer in self.layers)

    def layer(self, name: str) -> LayerTraining:
        return next(layer for layer in self.layers if layer.name == name)

    def totals(self) -> dict:
        flops = {"forward_flops": self.forward_flops, "backward_flops": self.backward_flops} \
            if self.counts_flops else {}
        return {"forward_macs": self.forward, "grad_input_macs": self.grad_input,
                "grad_weight_macs": self.grad_weight, "backward_macs": self.backward, "update_ops": self.update,
                **flops}


def training_cost(report: Report, count: str | None = None, optimizer: str = "adam") -> TrainingCost:
    """The training step of `report`: per layer, the MACs of the forward pass and of each gradient
    computed, and the update; the FLOPs as the count profile `count` (default: the report's)
    counts them, when it counts a backward pass; and the memory with `optimizer` (sgd, momentum, adam)."""
    count = count or report.count
    profile = profiles.get(count)
    memory = training_memory(report, optimizer)
    calls = report.architecture.spec.calls
    after = trained_before(report.layers)  # layer → the first trained layer at or before its output
    layers = []
    for record in report.layers:
        before = next((after[src] for src in record.inputs if after.get(src)), "")
        input_grad = bool(before)
        weights = report.layer(record.shares).param_tensors if record.shares else record.param_tensors
        weight_grad = any(p.trainable and p.role == "weight" for p in weights)  # a sharer's adds to its owner's
        forward_flops, backward_flops = _profile_flops(profile, calls, record, report.batch, input_grad, weight_grad)
        layers.append(LayerTraining(
            name=record.name, forward=record.macs, grad_input=record.macs if input_grad else 0,
            grad_weight=record.macs if weight_grad else 0, update=record.trainable_params,
            input_grad=input_grad, weight_grad=weight_grad, after=before,
            forward_flops=forward_flops, backward_flops=backward_flops))
    return TrainingCost(count, report.batch, tuple(layers), memory)


def training_memory(report: Report, optimizer: str = "adam") -> TrainingMemory:
    """The memory of one training step of `report` (its batch and dtype) with `optimizer`: sgd, momentum or
    adam (archcalc.step_memory)."""
    return training_memory_of(list(report.layers), report.architecture.output_path, DTYPE_BYTES[report.dtype],
                              optimizer)


def require_backward(count: str) -> None:
    """A SpecError when the count profile `count` counts no backward pass."""
    if not profiles.get(count).counts_backward:
        which = " and ".join(name for name in profiles.NAMES if profiles.get(name).counts_backward)
        raise SpecError(f"--count {count} counts no backward pass; a training step is counted by {which}")


def _profile_flops(profile, calls, record: LayerRecord, batch: int, input_grad: bool,
                   weight_grad: bool) -> tuple[int | None, int | None]:
    """(forward, backward) FLOPs of the layer as `profile` counts them; (None, None) for a profile that
    counts no backward pass."""
    if not profile.counts_backward:
        return None, None
    if not record.input_shapes:
        return 0, 0
    call = profiles.call_style(calls, record.name, record.layer.type_name) if calls else "module"
    site = profiles.Site(record.layer, record.input_shapes, record.output_shape, record.macs // batch, call)
    return profile.count(site) * batch, profile.backward(site, input_grad, weight_grad) * batch
