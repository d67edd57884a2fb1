"""Diagnoses of the classic mistakes, each computed from the layer's real hyper-parameters.

A diagnosis is an alternative value (what the answer would be had the student made that mistake)
with a sentence saying so; it is named in a verdict only when the wrong answer equals that value.
An alternative is offered only when the layer makes the mistake possible: "forgot the bias"
needs biases, "forgot the input depth" a filter deeper than one channel, "ceil instead of floor"
a window that does not tile its input.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from math import prod

from ..analysis import LayerRecord, Report
from ..errors import ArchcalcError
from ..formulas import window_span
from ..units import exact
from .conventions import Conventions
from .numbers import Number, ShapeAnswer, as_chw, shape_readings

Alternative = tuple[str, int]


def matching(answer: Number, alternatives: Iterable[Alternative], conventions: Conventions,
             expected: int) -> list[str]:
    """The sentences of the alternatives the answer equals (never one equal to the expected value)."""
    return [label for label, value in alternatives
            if value != expected and value >= 0 and any(answer.matches(value, b) for b in conventions.bases)]


def unit_diagnoses(answer: Number, reference: int, conventions: Conventions) -> list[str]:
    """K = 1000 vs 1024, and a shorthand cut off instead of rounded."""
    found = []
    if answer.prefixed:
        for base in (1000, 1024):
            if base not in conventions.bases and answer.matches(reference, base):
                wanted = " or ".join(str(b) for b in conventions.bases)
                found.append(f"used K = {base} where the convention is K = {wanted}: "
                             f"{exact(reference)} is {answer.rounded(reference, conventions.bases[0])}")
    if not found and any(answer.truncates(reference, b) for b in conventions.bases) and not any(
            answer.matches(reference, b) for b in conventions.bases):
        found.append(f"cut off instead of rounded: {exact(reference)} rounds to "
                     f"{answer.rounded(reference, conventions.bases[0])}")
    return found


def _filter_bank(record: LayerRecord) -> tuple[int, int, int, int, int] | None:
    return record.layer.filter_bank(list(record.input_shapes)) if record.input_shapes else None


def param_alternatives(record: LayerRecord, expected: int, conventions: Conventions) -> list[Alternative]:
    alternatives = []
    biases = record.biases
    if biases and conventions.bias:
        alternatives.append((f"forgot the bias: {exact(expected - biases)} weights + {exact(biases)} biases",
                             expected - biases))
    if biases and not conventions.bias:
        alternatives.append((f"counted the {exact(biases)} biases, which this convention leaves out",
                             expected + biases))
    statistics = record.non_trainable_params - record.frozen_params
    if statistics:
        alternatives.append((f"left out the {exact(statistics)} non-trainable statistics "
                             "(BatchNorm running mean and variance)", expected - statistics))
    weight = _filter_bank(record)
    if weight:
        k, d, kh, kw, groups = weight
        full = k * d * kh * kw
        if d > 1:
            shallow = expected - full + k * kh * kw
            alternatives.append((f"forgot the input depth: F·F·K = {kh} × {kw} × {k} instead of F·F·D·K = "
                                 f"{kh} × {kw} × {d} × {k}", shallow))
            if biases and conventions.bias:
                alternatives.append(("forgot the input depth (F·F·K instead of F·F·D·K) and the bias",
                                     shallow - biases))
        if groups > 1:
            alternatives.append((f"ignored groups = {groups}: each filter sees {d} input channel(s), "
                                 f"not all {d * groups}", expected - full + full * groups))
    return alternatives


def ops_alternatives(record: LayerRecord, expected: int, conventions: Conventions, report: Report) -> list[Alternative]:
    if not expected:
        return []
    alternatives = ops_unit_alternatives(expected, conventions, report)
    weight = _filter_bank(record)
    if weight:
        k, d, kh, kw, groups = weight
        per_filter = prod(record.output_shape[1:]) * k * d * kh * kw * report.batch
        if d > 1 and record.macs == per_filter:
            alternatives.append((f"forgot the input depth: H·W·K·F·F instead of H·W·K·F·F·D (D = {d})",
                                 expected // d))
        if groups > 1:
            alternatives.append((f"ignored groups = {groups}: each filter sees {d} input channel(s), "
                                 f"not all {d * groups}", expected * groups))
    return alternatives


def ops_unit_alternatives(expected: int, conventions: Conventions, report: Report) -> list[Alternative]:
    alternatives = []
    if conventions.ops == "macs":
        alternatives.append(("counted FLOPs (2 per multiply-accumulate) where MACs are asked", 2 * expected))
    elif expected % 2 == 0:
        alternatives.append(("gave MACs where FLOPs (2 × MACs) are asked", expected // 2))
    if report.batch > 1:
        alternatives.append((f"forgot the batch: × {report.batch}", expected // report.batch))
    return alternatives


def memory_alternatives(elements: int, size: int, answer: Number, conventions: Conventions,
                        report: Report) -> tuple[int, list[Alternative]]:
    """(the value the answer is compared with, its alternatives) for `elements` of `size` bytes each."""
    data_bytes = elements * size
    if answer.byte_unit:
        reference = data_bytes
        alternatives = [(f"wrote the element count with a byte unit: {exact(elements)} elements × {size} B "
                         f"= {exact(data_bytes)} B", elements)]
    elif conventions.memory == "elements":
        reference = elements
        alternatives = [(f"gave bytes ({exact(elements)} × {size} B) where the element count is asked", data_bytes)]
    else:
        reference = data_bytes
        alternatives = [(f"gave the element count where bytes are asked (× {size} B for {report.dtype})", elements)]
    if report.batch > 1:
        alternatives.append((f"forgot the batch: × {report.batch}", reference // report.batch))
    return reference, alternatives


def total_memory_alternatives(report: Report, reference: int, per_element: int) -> list[Alternative]:
    """Memory totals: the input left out, or views and in-place outputs counted as new memory."""
    first = report.layers[0]
    alternatives = [(f"left out the input ({exact(first.activation_elements)} elements)",
                     reference - first.activation_elements * per_element)]
    shared = sum(r.activation_elements for r in report.layers if not r.allocates)
    if shared:
        names = ", ".join(r.name for r in report.layers if not r.allocates)[:60]
        alternatives.append((f"counted outputs that share their input's memory ({names}) as new memory",
                             reference + shared * per_element))
    return alternatives


def shape_alternatives(record: LayerRecord) -> list[tuple[str, tuple[int, ...]]]:
    """Output sizes from the usual slips in `(W − F + 2P)/S + 1`, for a windowed layer that follows it."""
    if not record.input_shapes or len(record.output_shape) != 3:
        return []
    try:
        g = record.layer.geometry(record.input_shapes[0])
        if g is None or g.output() != record.output_shape[1:]:
            return []
    except ArchcalcError:
        return []
    stride, pads = g.stride, g.pads
    spans = [window_span(n, k, p, d) for n, k, p, d in zip(g.size, g.kernel, pads, g.dilation)]
    channels = record.output_shape[0]
    slips = {
        "rounded up (ceil) where the output-size formula rounds down (floor)":
            [-(-s // st) + 1 for s, st in zip(spans, stride)],
        "forgot the + 1 in (W − F + 2P)/S + 1": [s // st for s, st in zip(spans, stride)],
    }
    if any(p[0] for p in pads):
        slips["applied the padding once (W − F + P) instead of on both sides (W − F + 2P)"] = [
            (s - p[1]) // st + 1 for s, p, st in zip(spans, pads, stride)]
        slips["forgot the padding"] = [(s - p[0] - p[1]) // st + 1 for s, p, st in zip(spans, pads, stride)]
    return [(label, (channels, *hw)) for label, hw in slips.items()
            if hw != list(record.output_shape[1:]) and min(hw) > 0]


def carried_shape(record: LayerRecord, answer: ShapeAnswer, previous: ShapeAnswer | None, previous_name: str,
                  batch: int, orders: Collection[str]) -> str | None:
    """The sentence for an output that follows correctly (in one of `orders`) from the student's own wrong input."""
    if previous is None or len(record.input_shapes) != 1:
        return None
    for chw in as_chw(previous, batch, orders).values():
        try:
            output = record.layer.output_shape([chw])
        except (ArchcalcError, ValueError, TypeError, IndexError):
            continue
        if output != record.output_shape and shape_readings(answer, output, batch, orders):
            return (f"follows from your answer {previous.text} for {previous_name}: this step is right, "
                    "the error is carried forward")
    return None


#: A short name for each diagnosis, by the start of its sentence; the gradebook counts them.
KINDS = (
    ("forgot the bias", r"forgot the bias"), ("counted the biases", r"counted the [\d,]+ biases"),
    ("forgot the input depth", r"forgot the input depth"), ("ignored the groups", r"ignored groups"),
    ("left out BatchNorm statistics", r"left out the [\d,]+ non-trainable"),
    ("ceil instead of floor", r"rounded up \(ceil\)"), ("forgot the + 1", r"forgot the \+ 1"),
    ("padding applied once", r"applied the padding once"), ("forgot the padding", r"forgot the padding"),
    ("error carried forward", r"follows from your answer"), ("H and W swapped", r"H and W swapped"),
    ("channels moved", r"channels (first|last)"), ("shape order unknown", r"the right sizes in an order"),
    ("FLOPs for MACs", r"counted FLOPs"), ("MACs for FLOPs", r"gave MACs"), ("forgot the batch", r"forgot the batch"),
    ("elements with a byte unit", r"wrote the element count"), ("bytes for elements", r"gave bytes"),
    ("elements for bytes", r"gave the element count"), ("K = 1000 / 1024", r"used K ="),
    ("cut off, not rounded", r"cut off instead of rounded"),
    ("total: not the sum of the rows", r"does not equal the sum"), ("total: sums wrong rows", r"equals the sum"),
    ("memory total without the input", r"left out the input"), ("views counted as memory", r"counted outputs that"),
)
CARRIED = "error carried forward"


def kind_of(sentence: str) -> str:
    """The short name of a diagnosis sentence (`other` when it is none of KINDS)."""
    return next((kind for kind, start in KINDS if re.match(start, sentence)), "other")
