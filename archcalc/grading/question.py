"""One question of an exercise, with its key."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Question:
    """One question: its id, the kind of cell it asks (`output`, `params`, ...), text, key and arithmetic."""

    id: str
    column: str
    text: str
    value: int | tuple[int, ...] | str
    arithmetic: str
    layer: str = ""
    mistakes: tuple[tuple[str, int], ...] = ()   # (what went wrong, the number it gives), for a network's count

    @property
    def answer(self) -> str:
        """The key's answer as a student writes it."""
        if isinstance(self.value, tuple):
            return "×".join(map(str, self.value))
        return f"{self.value:,}" if isinstance(self.value, int) else self.value
