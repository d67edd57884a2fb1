"""What a count profile is: per-layer-family rules giving the number one counting tool reports.

A rule sees one `Site` (the layer, its input and output shapes per sample, its MACs and how the
reference implementation invokes it) and returns that tool's count for one sample. Rules are keyed
by layer type name; a profile lists only the families its tool counts, and every other layer gets
the profile's default (0 for the peer tools: what they do not know, they do not count).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from math import prod
from typing import Literal

from ..layers import Layer, Shape

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
        """H·W of the output (1 for a flat output)."""
        return prod(self.output[1:]) if len(self.output) == 3 else 1

    @property
    def has_bias(self) -> bool:
        return bool(getattr(self.layer, "bias", False))


Rule = Callable[[Site], int]


def zero(site: Site) -> int:
    return 0


def rules(*entries: tuple[str | Iterable[str], Rule]) -> dict[str, Rule]:
    """A rule table from (type name or names, rule) pairs."""
    table: dict[str, Rule] = {}
    for names, rule in entries:
        for name in (names,) if isinstance(names, str) else names:
            table[name] = rule
    return table


class Profile:
    """A counting tool: its name, what its headline number is called, and its rules."""

    name: str = ""
    tool: str = ""
    unit: str = ""
    rules: dict[str, Rule] = {}
    default: Rule = staticmethod(zero)

    def count(self, site: Site) -> int:
        """This tool's count for one sample of one layer, fused activation included."""
        total = self.rules.get(site.layer.type_name, self.default)(site)
        from ..layers.activation import fused_layer

        activation = fused_layer(getattr(site.layer, "activation", None))
        if activation is not None:
            total += self.count(Site(activation, (site.output,), site.output, 0, site.call))
        return total
