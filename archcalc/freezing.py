"""Which layers are frozen (their weights and biases not trained): `trainable: false` in the file
(read while it is expanded: `spec.expand`), the file's `freeze:` patterns, and the patterns an
analysis is given (`archcalc.analyze(..., freeze=[...], train_only=[...])`, `--freeze`, `--train-only`).

A pattern is an `fnmatch` glob over layer paths (`features/*`, `layer1`, `*bn*`). It names a layer
when it matches the layer's path or the path of a block instance or repeat the layer lies in, so
`layer1` names everything inside `layer1`. A pattern that names no layer is an error.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from fnmatch import fnmatchcase
from typing import Any

from .errors import SpecError, suggestion


def names(pattern: str, path: str) -> bool:
    """Whether `pattern` matches `path` or one of the block paths above it (`layer1` in `layer1/0/conv1`)."""
    while True:
        if fnmatchcase(path, pattern):
            return True
        cut = path.rfind("/")
        if cut <= 0:
            return False
        path = path[:cut]


def named(patterns: Sequence[str], paths: Sequence[str], where: str) -> set[str]:
    """The paths some pattern names; a SpecError (at `where`) for a pattern that names none."""
    chosen: set[str] = set()
    for pattern in patterns:
        found = [path for path in paths if names(pattern, path)]
        if not found:
            raise SpecError(f"{pattern!r} matches no layer{_near(pattern, paths)}", layer=where)
        chosen.update(found)
    return chosen


def _near(pattern: str, paths: Iterable[str]) -> str:
    """A suggestion among the layer paths, the block paths above them and `block/*` for each block."""
    candidates: dict[str, None] = {}
    for path in paths:
        parts = path.split("/")
        for n in range(1, len(parts)):
            block = "/".join(parts[:n])
            candidates[block] = candidates[block + "/*"] = None
        candidates[path] = None
    return suggestion(pattern, candidates)


def patterns(value: Any, where: str) -> tuple[str, ...]:
    """Patterns as given to an analysis: a string (one pattern) or a sequence of non-empty strings."""
    if value is None:
        return ()
    if isinstance(value, str):
        value = (value,)
    if not isinstance(value, list | tuple | set | frozenset):
        raise SpecError(f"expected a list of patterns, got {type(value).__name__}", layer=where)
    for pattern in value:
        if not isinstance(pattern, str) or not pattern:
            raise SpecError(f"a pattern must be a non-empty string, got {pattern!r}", layer=where)
    return tuple(value)


def freeze_named(nodes: Sequence[Any], file_patterns: Sequence[str]) -> None:
    """Mark the nodes the file's `freeze:` patterns name as not trainable (at load time)."""
    chosen = named(file_patterns, [node.path for node in nodes], "freeze")
    for node in nodes:
        if node.path in chosen:
            node.trainable = False


def frozen_layers(nodes: Sequence[Any], freeze: Any = None, train_only: Any = None) -> frozenset[str]:
    """The paths of the frozen layers: those the file freezes, or, with `train_only`, every layer it
    does not name (the file's own freezing set aside); then those `freeze` names."""
    freeze, train_only = patterns(freeze, "freeze"), patterns(train_only, "train_only")
    paths = [node.path for node in nodes] if freeze or train_only else []
    if train_only:
        trained = named(train_only, paths, "train_only")
        frozen = {path for path in paths if path not in trained}
    else:
        frozen = {node.path for node in nodes if not node.trainable}
    if freeze:
        frozen |= named(freeze, paths, "freeze")
    return frozenset(frozen)
