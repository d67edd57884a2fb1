"""Colours of the boxes by the group of a layer's family (`archcalc.layers.family.Group`); the legend
names each group by its own words."""

from __future__ import annotations

from ..layers.family import Family, Group

_FILLS = {  # in the legend's order
    Group.CONVOLUTION: "#9ecae1",
    Group.FULLY_CONNECTED: "#c6b3e0",
    Group.RECURRENT: "#bcbddc",
    Group.POOLING: "#a1d99b",
    Group.NORMALIZATION: "#fdd49e",
    Group.ACTIVATION: "#fee391",
    Group.ARITHMETIC: "#fcbba1",
    Group.DATA: "#e0e0e0",
}
BLOCK = ("block (folded)", "#d9f0ef")
FILL = {family.name: _FILLS[family.group] for family in Family} | {"block": BLOCK[1]}
LABEL = {family.name: family.group.value for family in Family} | {"block": BLOCK[0]}


def legend(families: set[str]) -> list[tuple[str, str]]:
    """(label, fill) of the families present, in a fixed order."""
    present = {Family[name].group for name in families if name != "block"}
    entries = [(group.value, fill) for group, fill in _FILLS.items() if group in present]
    return entries + ([BLOCK] if "block" in families else [])
