"""The file format as declared records (`archcalc.fields`): the top level, blocks, and the keys
every layer entry shares.

A layer entry is a mapping. Its structural keys (`name`, `type`, `from`, `repeat`, `when`) are
described by `LayerEntry`; every other key is a hyper-parameter, validated later by the layer
class named in `type` (or an argument of the block named in `type`).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from ..fields import Length, Record, field

STRUCTURAL_KEYS = ("name", "type", "from", "repeat", "when")

Value = Any


class LayerEntry(Record):
    """The keys every layer entry may have besides its hyper-parameters."""

    forbid_extra = False

    name: Annotated[str, Length(min=1)] | None = field(None, "unique within its block; paths nest as a/b/c")
    type: str = field(description="a layer type (conv, maxpool, ...) or a block defined in `blocks`")
    from_: str | list[str] | None = field(
        None, "input layer name(s); default: the previous layer (or the block's input)", alias="from")
    repeat: int | str | None = field(None, "repeat this entry N times in a chain; names get /0, /1, ...")
    when: bool | str | None = field(None, "keep the entry only if this is true")


class BlockDef(Record):
    """A reusable sub-graph with named arguments, used as `type: <block name>`."""

    args: dict[str, Value] = field(description="argument names with defaults (null: the argument is required)",
                                   factory=dict)
    layers: Annotated[list[dict[str, Value]], Length(min=1)]
    output: str | None = field(None, "the layer whose output is the block's; default: the last")


class ArchFile(Record):
    """One architecture file."""

    name: str = field(description="short identifier, e.g. lenet5")
    title: str = ""
    source: str = field("", "provenance: paper, table, implementation")
    notes: str = ""
    extends: str | None = field(None, "a zoo name or path whose definitions this file starts from")
    reference: dict[str, Value] = field(description="published numbers this architecture is checked against",
                                        factory=dict)
    input: Annotated[list[int | str], Length(min=1, max=3)] = field(description="C, H, W of one sample")
    args: dict[str, Value] = field(description="file-level variables", factory=dict)
    defaults: dict[str, dict[str, Value]] = field(description="per-type default hyper-parameters", factory=dict)
    blocks: dict[str, BlockDef] = field(factory=dict)
    calls: dict[str, Literal["module", "functional", "operator"]] = field(
        description="how the reference implementation runs layers, `[type:]path pattern` → module | functional | "
        "operator (for the count profiles of hook-based tools)", factory=dict)
    layers: Annotated[list[dict[str, Value]], Length(min=1)]
    output: str | None = None
