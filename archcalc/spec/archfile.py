"""The file format as pydantic records (`archcalc.records`): the top level, blocks, and the keys
every layer entry shares.

A layer entry is a mapping. Its structural keys (`name`, `type`, `from`, `like`, `repeat`, `when`, `trainable`) are
described by `LayerEntry`; every other key is a hyper-parameter, validated later by the layer
class named in `type` (or an argument of the block named in `type`).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from annotated_types import MaxLen, MinLen
from pydantic import ConfigDict, Field, PrivateAttr

from ..records import Int, Record

STRUCTURAL_KEYS = ("name", "type", "from", "like", "repeat", "when", "trainable")

Value = Any


class LayerEntry(Record):
    """The keys every layer entry may have besides its hyper-parameters."""

    model_config = ConfigDict(extra="ignore")

    name: Annotated[str, MinLen(1)] | None = Field(None, description="unique within its block; paths nest as a/b/c")
    type: str = Field(description="a layer type (conv, maxpool, ...) or a block defined in `blocks`")
    from_: str | list[str] | None = Field(
        None, alias="from", description="input layer name(s); default: the previous layer (or the block's input)")
    like: Annotated[str, MinLen(1)] | None = Field(
        None, description="a layer whose height and width this one takes (upsample, crop): its second input")
    repeat: Int | str | None = Field(None, description="repeat this entry N times in a chain; names get /0, /1, ...")
    when: bool | str | None = Field(None, description="keep the entry only if this is true")
    trainable: bool | None = Field(
        None, description="false: the entry's parameters (a block's: all of its layers') are frozen")


class BlockDef(Record):
    """A reusable sub-graph with named arguments, used as `type: <block name>`."""

    args: dict[str, Value] = Field(default_factory=dict,
                                   description="argument names with defaults (null: the argument is required)")
    layers: Annotated[list[dict[str, Value]], MinLen(1)]
    output: str | None = Field(None, description="the layer whose output is the block's; default: the last")
    trainable: bool = Field(True, description="false: every instance of the block is frozen")


class Accuracy(Record):
    """A published accuracy of trained weights of this architecture, with where it is published."""

    top1: float | None = Field(None, ge=0, le=100, description="top-1 accuracy, percent")
    top5: float | None = Field(None, ge=0, le=100, description="top-5 accuracy, percent")
    dataset: str = Field(description="e.g. ImageNet-1k validation")
    source: Annotated[str, MinLen(1)] = Field(description="where the number is published")


class ArchFile(Record):
    """One architecture file."""

    name: str = Field(description="short identifier, e.g. lenet5")
    title: str = ""
    source: str = Field("", description="provenance: paper, table, implementation")
    notes: str = ""
    not_counted: list[Annotated[str, MinLen(1)]] = Field(
        default_factory=list, description="what the network does that archcalc does not count (data-dependent "
        "steps: anchor decoding, non-maximum suppression), named in every table's footer")
    extends: str | None = Field(None, description="a zoo name or path whose definitions this file starts from")
    reference: dict[str, Value] = Field(default_factory=dict,
                                        description="published numbers this architecture is checked against")
    accuracy: Accuracy | None = Field(None, description="published accuracy of trained weights (not inherited)")
    input: Annotated[list[Int | str], MinLen(1), MaxLen(4)] = Field(
        description="C, H, W of one sample (C, L or C, T, H, W over one or three spatial axes; "
                    "T, F for a sequence, T, C, H, W for frames)")
    args: dict[str, Value] = Field(default_factory=dict, description="file-level variables")
    defaults: dict[str, dict[str, Value]] = Field(default_factory=dict,
                                                  description="per-type default hyper-parameters")
    blocks: dict[str, BlockDef] = Field(default_factory=dict)
    convention: Literal["pytorch", "keras"] | None = Field(
        None, description="whose parameters the layers that differ keep (recurrent layers' bias vectors): "
        "torch (the default) or keras")
    calls: dict[str, Literal["module", "functional", "operator"]] = Field(
        default_factory=dict, description="how the reference implementation runs layers, `[type:]path pattern` → "
        "module | functional | operator (for the count profiles of hook-based tools)")
    layers: Annotated[list[dict[str, Value]], MinLen(1)]
    output: str | None = None
    outputs: list[Annotated[str, MinLen(1)]] | dict[str, Annotated[str, MinLen(1)]] | None = Field(
        None, description="several outputs: layer names, or output names → layer names "
        "(`{out: classifier, aux: aux_classifier}`); the first is the network's output")
    freeze: list[Annotated[str, MinLen(1)]] = Field(
        default_factory=list, description="glob patterns over layer paths (`features/*`, `layer1`, `*bn*`) "
        "whose parameters are frozen; a pattern naming a block instance freezes everything in it")
    #: (key path) → (file, line) of the top-level keys and layer entries (spec.loader.Document)
    _lines: dict[tuple, tuple[str, int]] = PrivateAttr(default_factory=dict)
    #: the files it was read from, itself first (spec.loader.FileRead); none for a mapping or text
    _files: tuple = PrivateAttr(default=())
