"""The grading conventions an instructor chooses: what a params, ops or memory cell is asked to hold."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from ..errors import ArchcalcError

_CHOICES = {
    "ops": ("macs", "flops"),
    "memory": ("elements", "bytes"),
    "units": ("si", "binary", "either"),
    "shapes": ("auto", "lecture", "keras", "torch"),
}
SHAPE_ORDER_NAMES = {"lecture": "W×H×D (lecture)", "keras": "H×W×C (Keras)", "torch": "C×H×W (PyTorch)"}
#: Which of (C, H, W) each shape order writes first, second and third, by the order's name.
SHAPE_ORDERS = {SHAPE_ORDER_NAMES["lecture"]: (2, 1, 0), SHAPE_ORDER_NAMES["keras"]: (1, 2, 0),
                SHAPE_ORDER_NAMES["torch"]: (0, 1, 2)}


def written_in(chw: tuple[int, int, int], order: str) -> tuple[int, int, int]:
    """A (C, H, W) shape as the shape order named `order` writes it."""
    return tuple(chw[axis] for axis in SHAPE_ORDERS[order])  # type: ignore[return-value]


def read_in(dims: tuple[int, int, int], order: str) -> tuple[int, int, int]:
    """Three dimensions written in the shape order named `order`, as (C, H, W)."""
    chw = [0, 0, 0]
    for position, axis in enumerate(SHAPE_ORDERS[order]):
        chw[axis] = dims[position]
    return tuple(chw)  # type: ignore[return-value]


@dataclass(frozen=True)
class Conventions:
    """What the sheet's cells are asked to hold.

    - `bias`: params count the biases (the lecture tables) or leave them out (the cs231n slides).
    - `ops`: the ops column holds MACs (multiply-accumulates) or FLOPs (2 × MACs).
    - `memory`: activation memory in elements (cs231n) or in bytes of `dtype`.
    - `units`: K/M/G in an answer mean 1000 (`si`), 1024 (`binary`) or `either`.
    - `batch`, `dtype`: the batch size and element type the numbers are asked for.
    - `shapes`: the order shapes are written in: W×H×D (`lecture`), H×W×C (`keras`), C×H×W (`torch`),
      or `auto`: decided once per sheet, from its column header or else from its answers.
    """

    bias: bool = True
    ops: Literal["macs", "flops"] = "macs"
    memory: Literal["elements", "bytes"] = "elements"
    units: Literal["si", "binary", "either"] = "si"
    batch: int = 1
    dtype: str = "float32"
    shapes: Literal["auto", "lecture", "keras", "torch"] = "auto"

    def __post_init__(self) -> None:
        for name, allowed in _CHOICES.items():
            if getattr(self, name) not in allowed:
                raise ArchcalcError(f"conventions: {name} must be one of {', '.join(allowed)}, "
                                    f"got {getattr(self, name)!r}")
        if not isinstance(self.bias, bool):
            raise ArchcalcError(f"conventions: bias must be true or false, got {self.bias!r}")
        if isinstance(self.batch, bool) or not isinstance(self.batch, int) or self.batch < 1:
            raise ArchcalcError(f"conventions: batch must be a positive integer, got {self.batch!r}")

    @property
    def bases(self) -> tuple[int, ...]:
        """The values of K accepted in answers."""
        return {"si": (1000,), "binary": (1024,), "either": (1000, 1024)}[self.units]

    def describe(self) -> str:
        k = {"si": "K = 1000", "binary": "K = 1024", "either": "K = 1000 or 1024"}[self.units]
        parts = ["params with biases" if self.bias else "params without biases",
                 "ops in MACs" if self.ops == "macs" else "ops in FLOPs (2 × MACs)",
                 f"memory in {self.memory}" + (f" ({self.dtype})" if self.memory == "bytes" else ""), k]
        if self.batch > 1:
            parts.append(f"batch {self.batch}")
        if self.shapes != "auto":
            parts.append(f"shapes {SHAPE_ORDER_NAMES[self.shapes]}")
        return ", ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def coerce(cls, value: Conventions | dict[str, Any] | None) -> Conventions:
        """Conventions from an instance, a mapping of its fields, or None (the defaults)."""
        if value is None:
            return cls()
        if isinstance(value, cls):
            return value
        if isinstance(value, dict):
            unknown = sorted(set(value) - set(cls.__dataclass_fields__))
            if unknown:
                raise ArchcalcError(f"conventions: unknown field(s) {', '.join(unknown)}; "
                                    f"known: {', '.join(cls.__dataclass_fields__)}")
            return cls(**value)
        raise ArchcalcError(f"conventions must be a Conventions or a mapping, got {type(value).__name__}")
