"""The file format as pydantic models: the top level, blocks, and the keys every layer entry shares.

A layer entry is a mapping. Its structural keys (`name`, `type`, `from`, `repeat`, `when`) are
described by `LayerEntry`; every other key is a hyper-parameter, validated later by the layer
class named in `type` (or an argument of the block named in `type`).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt

STRUCTURAL_KEYS = ("name", "type", "from", "repeat", "when")

Value = Any


class LayerEntry(BaseModel):
    """The keys every layer entry may have besides its hyper-parameters."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    name: str | None = Field(default=None, min_length=1, description="unique within its block; paths nest as a/b/c")
    type: str = Field(description="a layer type (conv, maxpool, ...) or a block defined in `blocks`")
    from_: str | list[str] | None = Field(
        default=None, alias="from",
        description="input layer name(s); default: the previous layer (or the block's input)",
    )
    repeat: StrictInt | str | None = Field(
        default=None, description="repeat this entry N times in a chain; names get /0, /1, ...")
    when: bool | str | None = Field(default=None, description="keep the entry only if this is true")


class BlockDef(BaseModel):
    """A reusable sub-graph with named arguments, used as `type: <block name>`."""

    model_config = ConfigDict(extra="forbid")

    args: dict[str, Value] = Field(default_factory=dict, description="argument names with defaults "
                                   "(null: the argument is required)")
    layers: list[dict[str, Value]] = Field(min_length=1)
    output: str | None = Field(default=None, description="the layer whose output is the block's; "
                               "default: the last")


class ArchFile(BaseModel):
    """One architecture file."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="short identifier, e.g. lenet5")
    title: str = ""
    source: str = Field(default="", description="provenance: paper, table, implementation")
    notes: str = ""
    extends: str | None = Field(default=None, description="a zoo name or path whose definitions "
                                "this file starts from")
    reference: dict[str, Value] = Field(default_factory=dict, description="published numbers "
                                        "this architecture is checked against")
    input: list[int | str] = Field(min_length=1, max_length=3, description="C, H, W of one sample")
    args: dict[str, Value] = Field(default_factory=dict, description="file-level variables")
    defaults: dict[str, dict[str, Value]] = Field(default_factory=dict,
                                                  description="per-type default hyper-parameters")
    blocks: dict[str, BlockDef] = Field(default_factory=dict)
    calls: dict[str, Literal["module", "functional", "operator"]] = Field(
        default_factory=dict, description="how the reference implementation runs layers, "
        "`[type:]path pattern` → module | functional | operator (for the count profiles of hook-based tools)")
    layers: list[dict[str, Value]] = Field(min_length=1)
    output: str | None = None
