"""Colours of the boxes by layer family (`archcalc.layers.family`), and the legend's words for them."""

from __future__ import annotations

from ..layers.family import Family

_GROUPS = (  # (legend label, fill, families)
    ("convolution", "#9ecae1", {Family.CONV, Family.CONV_TRANSPOSE}),
    ("fully connected", "#c6b3e0", {Family.LINEAR}),
    ("pooling", "#a1d99b", {Family.MAX_POOL, Family.AVG_POOL, Family.ADAPTIVE_AVG_POOL}),
    ("normalization", "#fdd49e", {Family.BATCH_NORM, Family.LRN, Family.LAYER_NORM, Family.GROUP_NORM,
                                  Family.STANDARDIZE}),
    ("activation", "#fee391", {Family.RELU, Family.RELU6, Family.LEAKY_RELU, Family.ELU, Family.SIGMOID,
                               Family.TANH, Family.SILU, Family.HARDSWISH, Family.HARDSIGMOID, Family.GELU,
                               Family.PRELU, Family.SOFTMAX}),
    ("sum, product or scale", "#fcbba1", {Family.ADD, Family.MULTIPLY, Family.LAYER_SCALE, Family.RESCALE}),
    ("data movement", "#e0e0e0", {Family.DATA}),
)
BLOCK = ("block (folded)", "#d9f0ef")
FILL = {family.name: fill for _, fill, families in _GROUPS for family in families} | {"block": BLOCK[1]}
LABEL = {family.name: label for label, _, families in _GROUPS for family in families} | {"block": BLOCK[0]}


def legend(families: set[str]) -> list[tuple[str, str]]:
    """(label, fill) of the families present, in a fixed order."""
    entries = [(label, fill) for label, fill, members in _GROUPS if families & {f.name for f in members}]
    return entries + ([BLOCK] if "block" in families else [])
