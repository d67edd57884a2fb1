"""The order a sheet writes its shapes in, decided once for the whole sheet.

An instructor may name it (`Conventions.shapes`). Otherwise a shape column's header may say it
(`Output W×H×D`, `(None, H, W, C)`, `C×H×W`); otherwise the answers decide: each right answer
votes for the orders it is right in, and the orders with the most votes win (the first answer
right in only one order breaks a tie). A square map with as many channels as sides tells nothing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .conventions import SHAPE_ORDER_NAMES, Conventions, written_in
from .expected import SHAPE_COLUMNS
from .sheet import Sheet, SheetError

ALL_ORDERS = tuple(SHAPE_ORDER_NAMES.values())
LECTURE, KERAS, TORCH = ALL_ORDERS
_LETTERS = re.compile(r"(?<![a-z])([whcd])\s*[,x×*]\s*([whcd])\s*[,x×*]\s*([whcd])(?![a-z])", re.IGNORECASE)
_BY_LETTERS = {("w", "h", "d"): LECTURE, ("w", "h", "c"): LECTURE, ("h", "w", "c"): KERAS, ("h", "w", "d"): KERAS,
               ("c", "h", "w"): TORCH, ("d", "h", "w"): TORCH}


def short(order: str) -> str:
    """`W×H×D (lecture)` → `W×H×D`."""
    return order.split(" ")[0]


def header_order(header: str) -> str | None:
    """The order a column header names (`Output W×H×D`, `(None, H, W, C)`), None if it names none."""
    match = _LETTERS.search(header)
    return _BY_LETTERS.get(tuple(letter.lower() for letter in match.groups())) if match else None


def sheet_header_order(sheet: Sheet) -> tuple[str, str] | None:
    """(order, header) from the sheet's shape columns; headers naming two different orders are refused."""
    named = [(order, sheet.headers[c]) for c in SHAPE_COLUMNS
             if c in sheet.headers and (order := header_order(sheet.headers[c]))]
    if len({order for order, _ in named}) > 1:
        (first, one), (second, other) = named
        raise SheetError(f"columns {one!r} and {other!r} name different shape orders ({short(first)} and "
                         f"{short(second)}): write both in one order", file=sheet.label)
    return named[0] if named else None


def vote(readings: Sequence[Sequence[str]]) -> tuple[str, ...]:
    """The orders most answers are right in; `readings` lists, per answer, the orders it is right in."""
    counts = dict.fromkeys(ALL_ORDERS, 0)
    first_alone: dict[str, int] = {}
    for index, orders in enumerate(readings):
        orders = [o for o in orders if o in counts]
        if len(orders) == len(ALL_ORDERS):
            continue
        for order in orders:
            counts[order] += 1
        if len(orders) == 1:
            first_alone.setdefault(orders[0], index)
    if not any(counts.values()):
        return ALL_ORDERS
    rank = {o: (-counts[o], first_alone.get(o, len(readings))) for o in ALL_ORDERS}
    best = min(rank.values())
    return tuple(o for o in ALL_ORDERS if rank[o] == best)


def decide(conventions: Conventions, sheet: Sheet, readings: Sequence[Sequence[str]]) -> tuple[tuple[str, ...], str]:
    """(the orders accepted on this sheet, a note saying why; empty when every order stays accepted)."""
    if conventions.shapes != "auto":
        return (SHAPE_ORDER_NAMES[conventions.shapes],), ""
    from_header = sheet_header_order(sheet)
    if from_header:
        order, header = from_header
        return (order,), f"shapes read as {order}, as the header {header!r} says"
    orders = vote(readings)
    if len(orders) == 1:
        return orders, f"shapes read as {orders[0]}, the order the sheet's answers are written in"
    return orders, ""


def misordered(readings: Sequence[str], accepted: Sequence[str]) -> str | None:
    """The diagnosis of a shape right in another order than the sheet's (H and W swapped, channels moved)."""
    others = [o for o in readings if o in ALL_ORDERS and o not in accepted]
    if not others:
        return None
    wanted = " or ".join(accepted)
    if {*others, *accepted} == {LECTURE, KERAS}:
        return f"H and W swapped: written {others[0]}, the sheet's order is {wanted}"
    kind = "channels first" if TORCH in others else "channels last"
    return f"{kind}: written {' or '.join(others)}, the sheet's order is {wanted}"


def written(shape: tuple[int, int, int], order: str) -> str:
    """A (C, H, W) shape written in `order`, with the order's name: `62×30×8 (W×H×D)`."""
    return "×".join(map(str, written_in(shape, order))) + f" ({short(order)})"
