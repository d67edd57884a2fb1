"""The `transfer` exercise: a LeNet-like network with part of it frozen (pretrained, not updated); how many
parameters train, which layers compute a weight gradient, and the MACs of one training step on a batch
(the conventions of docs/training.md: each gradient computed costs its layer's forward MACs)."""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from typing import Any

from ..analysis import Report, analyze
from ..training import training_cost
from ..units import exact
from .question import Question
from .result import CellResult

LAYERS = "layers"
FREEZES = (("C1",), ("C1", "C3"), ("C1", "C3", "F5"), ("C3",))
BATCHES = (8, 16, 32, 64)
_NONE = {"", "none", "-", "—"}


Drawn = tuple[dict[str, Any], tuple[str, ...]]


def network(drawn: Drawn, rng: random.Random) -> Drawn:
    """A drawn LeNet-like network (and its description) with some of its layers frozen."""
    net, described = drawn
    frozen = rng.choice(FREEZES)
    return ({**net, "name": "transfer", "freeze": list(frozen)},
            (*described, f"frozen (pretrained and not updated): {' and '.join(frozen)} · every other layer trains"))


def questions(rng: random.Random, net: dict[str, Any], report: Report) -> list[Question]:
    batch = rng.choice(BATCHES)
    step = training_cost(analyze(net, batch=batch))
    weighted = [r for r in report.layers if any(p.role == "weight" for p in r.param_tensors)]
    trained = [r for r in weighted if any(p.trainable for p in r.param_tensors)]
    frozen = [r for r in weighted if r not in trained]
    totals = report.totals
    biases = sum(p.size for r in trained for p in r.param_tensors if p.trainable and p.role == "bias")
    sums = " + ".join(exact(r.trainable_params) for r in trained)
    q1 = Question("Q1", "trainable", "How many parameters are trained (updated by the optimizer)?",
                  totals.trainable_params,
                  "; ".join(f"{r.name}: {r.arithmetic().params}" for r in trained)
                  + (f"; total {sums} = {exact(totals.trainable_params)}" if len(trained) > 1 else "")
                  + f"; the frozen {', '.join(r.name for r in frozen)} are not trained",
                  mistakes=(("counted the frozen parameters too", totals.params),
                            ("counted the frozen parameters instead of the trained ones", totals.frozen_params),
                            ("forgot the biases", totals.trainable_params - biases)))
    computing = [r.name for r in weighted if step.layer(r.name).weight_grad]
    q2 = Question("Q2", LAYERS, "Which layers compute a gradient with respect to their weights in backpropagation? "
                  "Name them, separated by commas (or write none).", ", ".join(computing) or "none",
                  f"those whose weights train: {', '.join(computing) or 'none'}; not the frozen "
                  f"{', '.join(r.name for r in frozen)}, nor the layers without weights")
    total = step.forward + step.backward
    by = lambda flag: [r.name for r in weighted if getattr(step.layer(r.name), flag)]  # noqa: E731
    first_input = sum(r.macs for r in weighted if not step.layer(r.name).input_grad and step.layer(r.name).weight_grad)
    frozen_weights = sum(step.layer(r.name).forward for r in frozen)
    q3 = Question("Q3", "training", f"Multiply-accumulates (MACs) of one training step on a batch of {batch} images: "
                  "the forward pass plus the backward pass. Count a gradient only where backpropagation computes it; "
                  "each costs as many MACs as its layer's forward pass; leave out the update.", total,
                  f"forward {exact(step.forward)} (every layer) + grad-input {exact(step.grad_input)} "
                  f"({', '.join(by('input_grad')) or 'none'}: a trained layer lies before them) + grad-weight "
                  f"{exact(step.grad_weight)} ({', '.join(by('weight_grad')) or 'none'}) = {exact(total)} "
                  f"for {batch} images",
                  mistakes=(("counted the forward pass only", step.forward),
                            ("counted the backward pass only", step.backward),
                            (f"counted one image, not the batch of {batch}", total // batch),
                            ("counted every gradient, as if nothing were frozen (3 × forward)", 3 * step.forward),
                            ("counted the weight gradients of the frozen layers too", total + frozen_weights),
                            ("counted the input gradient of the first trained layer too (no trained parameter lies "
                             "before it)", total + first_input)))
    return [q1, q2, q3]


def grade_layers(q: Question, text: str, report: Report, verdict: Callable[..., CellResult]) -> CellResult:
    """A list of layer names against the key's: correct when the same set, whatever the order and case."""
    names = {r.name.upper(): r.name for r in report.layers}
    words = [w for w in re.split(r"[,;\s]+|\band\b", text, flags=re.IGNORECASE) if w.strip()]
    if len(words) == 1 and words[0].lower() in _NONE:
        words = []
    unknown = [w for w in words if w.upper() not in names]
    if unknown:
        return verdict("unparseable", note=f"no layer {unknown[0]!r} in this network; name layers such as C1 or F5")
    given = {names[w.upper()] for w in words}
    wanted = set() if q.value == "none" else set(str(q.value).split(", "))
    if given == wanted:
        return verdict("correct")
    missing, extra = sorted(wanted - given), sorted(given - wanted)
    found = ([f"missing {', '.join(missing)}: its weights train"] if missing else []) + \
        ([f"{', '.join(extra)} computes no weight gradient (frozen, or without weights)"] if extra else [])
    return verdict("wrong", diagnosis=tuple(found))
