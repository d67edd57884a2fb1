"""What a count profile is: per-layer-family rules giving the number one counting tool reports.

A rule sees one `Site` (the layer, its input and output shapes per sample, its MACs and how the
reference implementation invokes it) and returns that tool's count for one sample. Rules are keyed
by the `Family` each layer class declares (`archcalc/layers/family.py`), never by type name; a
profile gives every family a rule, `zero` for those its tool does not count.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from math import prod
from typing import Any, Literal

from ..layers import Layer, Shape
from ..layers.family import Family

Call = Literal["module", "functional", "operator"]
"""How the reference PyTorch code runs a layer: an `nn.Module` (hooks see it), a `torch.nn.functional`
call (`F.relu(x)`), or a tensor operator / method (`x + y`, `x.mean([2, 3])`) that no hook or patch sees."""


@dataclass(frozen=True)
class Site:
    """One layer as a counting rule sees it (shapes per sample, no batch axis)."""

    layer: Layer
    inputs: tuple[Shape, ...]
    output: Shape
    macs: int
    call: Call = "module"

    @property
    def in_numel(self) -> int:
        return prod(self.inputs[0]) if self.inputs else 0

    @property
    def out_numel(self) -> int:
        return prod(self.output)

    @property
    def out_spatial(self) -> int:
        """H·W of the output (L of a signal's, T·H·W of a clip's; 1 for a flat output)."""
        return prod(self.output[1:]) if len(self.output) > 1 else 1

    @property
    def has_bias(self) -> bool:
        return self.layer.has_bias


def per_frame(site: Site) -> Site | None:
    """The site of the layer a wrapper applies to each frame, on one frame; None for any other layer."""
    inner = site.layer.inner_layer
    if inner is None:
        return None
    steps = site.inputs[0][0]
    return Site(inner, tuple(shape[1:] for shape in site.inputs), site.output[1:], site.macs // steps, site.call)


Rule = Callable[[Site], int]
BackwardRule = Callable[[Site, bool, bool], int]
"""A tool's count of one sample's backward pass through a layer, given whether the gradient with
respect to the layer's input and the one with respect to its weight are computed."""


def zero(site: Site) -> int:
    return 0


def two_macs(site: Site) -> int:
    return 2 * site.macs


def no_backward(site: Site, input_grad: bool, weight_grad: bool) -> int:
    return 0


def rules(*entries: tuple[Family | Iterable[Family], Any]) -> dict[Family, Any]:
    """A rule table from (family or families, rule) pairs (forward or backward rules)."""
    table: dict[Family, Any] = {}
    for families, rule in entries:
        for family in (families,) if isinstance(families, Family) else families:
            table[family] = rule
    return table


class Profile:
    """A counting tool: its name, what its headline number is called, and its rules: one for every
    family, `zero` for those the tool does not count (`tests/test_profile_contract.py` holds them to it).
    A tool that counts a backward pass as well has `backward_rules`, also one for every family."""

    name: str = ""
    tool: str = ""
    unit: str = ""
    rules: dict[Family, Rule] = {}
    backward_rules: dict[Family, BackwardRule] = {}

    @property
    def counts_backward(self) -> bool:
        return bool(self.backward_rules)

    def count(self, site: Site) -> int:
        """This tool's count for one sample of one layer, fused activation included; a layer applied to each
        of T frames, T times its count on one frame (the tools see it at a batch T times larger)."""
        frame = per_frame(site)
        if frame is not None:
            return site.inputs[0][0] * self.count(frame)
        total = self.rules[site.layer.family](site)
        activation = site.layer.fused_activation
        if activation is not None:
            total += self.count(Site(activation, (site.output,), site.output, 0, site.call))
        return total

    def count_of(self, layer: Layer, inputs: tuple[Shape, ...], output: Shape, macs: int,
                 call: Call = "module") -> int:
        """`count` of the site of these, made only where the layer's rule needs it (most layers' rule is
        `zero` or `two_macs`, which read the MACs alone)."""
        if layer.fused_activation is None and layer.inner_layer is None:
            rule = self.rules[layer.family]
            if rule is zero:
                return 0
            if rule is two_macs:
                return 2 * macs
        return self.count(Site(layer, inputs, output, macs, call))

    def backward(self, site: Site, input_grad: bool, weight_grad: bool) -> int:
        """This tool's count of one sample's backward pass through one layer, fused activation included."""
        frame = per_frame(site)
        if frame is not None:
            return site.inputs[0][0] * self.backward(frame, input_grad, weight_grad)
        total = self.backward_rules[site.layer.family](site, input_grad, weight_grad)
        activation = site.layer.fused_activation
        if activation is not None:
            total += self.backward(Site(activation, (site.output,), site.output, 0, site.call), input_grad, False)
        return total
