"""The memory of one training step, by category, for a batch: computed from an analysis' records (their
parameter tensors, frozen or not, their outputs and the graph); `archcalc.training_memory(report)` gives
it for a report.

* **parameters**: every parameter and running statistic, trained or not, once.
* **gradients**: one per trainable parameter (frozen weights and statistics get none).
* **optimizer state**: per trainable parameter, 0 values for SGD, 1 for SGD with momentum (the velocity),
  2 for Adam (the two moments).
* **activations kept**: each activation (the input included; a view or an in-place output shares the
  storage of its input) that a layer the backward pass goes through reads — a layer with a trainable
  parameter or one whose input gradient is computed — and the network's output when a gradient reaches
  it. A frozen prefix keeps none.
* **activation gradients**: one per activation whose gradient is computed (some trainable parameter
  lies at or before it), all counted at once: an upper bound, as backward frees them as it goes.

Not included: the framework's workspace and temporaries, the small tensors layers save besides their
inputs (pooling indices, BatchNorm's batch statistics), the labels and the loss, the optimizer's step
counters, the allocator's caching; every tensor has the report's dtype (no mixed precision).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .errors import SpecError

OPTIMIZER_SLOTS = {"sgd": 0, "momentum": 1, "adam": 2}
"""Values of optimizer state per trainable parameter."""

NOT_INCLUDED = ("framework workspace and temporaries, pooling indices and BatchNorm batch statistics, labels and "
                "loss, optimizer step counters, allocator caching; mixed precision is not modelled (every tensor "
                "in the report's dtype)")


@dataclass(frozen=True)
class TrainingMemory:
    """Bytes of one training step by category (module docstring); `total` is their sum, every category at
    once."""

    optimizer: str
    parameters: int
    gradients: int
    optimizer_state: int
    activations: int
    activation_gradients: int

    @property
    def total(self) -> int:
        return self.parameters + self.gradients + self.optimizer_state + self.activations + self.activation_gradients

    def to_dict(self) -> dict:
        return {"optimizer": self.optimizer, "param_bytes": self.parameters, "grad_bytes": self.gradients,
                "optimizer_state_bytes": self.optimizer_state, "activation_bytes": self.activations,
                "activation_grad_bytes": self.activation_gradients, "total_bytes": self.total,
                "not_included": NOT_INCLUDED}


def trained_before(records: Iterable) -> dict[str, str]:
    """Layer name → the first layer at or before its output (along any path) with a trainable parameter,
    '' for none: where it is not empty, the layer's output gets a gradient."""
    first: dict[str, str] = {}
    for record in records:
        before = next((first[src] for src in record.inputs if first.get(src)), "")
        first[record.name] = before or (record.name if any(p.trainable for p in record.param_tensors) else "")
    return first


def require_optimizer(optimizer: str) -> None:
    """A SpecError naming the optimizers when `optimizer` is not one."""
    if optimizer not in OPTIMIZER_SLOTS:
        raise SpecError(f"unknown optimizer {optimizer!r}; choose one of {', '.join(OPTIMIZER_SLOTS)}")


def training_memory_of(records: list, output: str, dtype_bytes: int, optimizer: str = "adam") -> TrainingMemory:
    """The training memory of the layers `records` (in order) whose output is the layer `output`."""
    require_optimizer(optimizer)
    first = trained_before(records)
    storage: dict[str, str] = {}
    size: dict[str, int] = {}
    kept: set[str] = set()
    gradients = 0
    for record in records:
        if record.allocates or not record.inputs:
            storage[record.name] = record.name
            size[record.name] = record.activation_bytes
            if first[record.name]:
                gradients += record.activation_bytes
        else:
            storage[record.name] = storage[record.inputs[0]]
        before = any(first.get(src) for src in record.inputs)
        if before or any(p.trainable for p in record.param_tensors):
            kept.update(storage[src] for src in record.inputs)
    if first.get(output):
        kept.add(storage[output])
    trainable = sum(p.size for r in records for p in r.param_tensors if p.trainable)
    every = sum(p.size for r in records for p in r.param_tensors)
    return TrainingMemory(optimizer, parameters=every * dtype_bytes, gradients=trainable * dtype_bytes,
                          optimizer_state=OPTIMIZER_SLOTS[optimizer] * trainable * dtype_bytes,
                          activations=sum(size[name] for name in kept), activation_gradients=gradients)

