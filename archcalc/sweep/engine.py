"""Analysing many variants of one file, reusing what does not change between them.

* The file is read, merged with what it `extends` and validated once (`Sweeper.__init__`).
* Each variant only binds its arguments: the file's `args` become `Arguments`, a mapping that the
  expansion reads through (archcalc.spec.expand does not copy a mapping that is not a dict) and that
  notes the arguments the expansion read. An expansion is kept and used again for every variant
  that gives those arguments the same values (a sweep over the input size, or over widths that only
  reach hyper-parameters, expands the file once): its layers' names are then bound to the variant's
  values, one flat dict per scope (`bind`), for the analysis to read at dict speed.
* One `analysis.LayerCache` serves every analysis: a layer whose hyper-parameters and input shapes
  did not change is neither built nor counted again.
"""

from __future__ import annotations

from collections import ChainMap, OrderedDict
from collections.abc import Iterator, Mapping
from typing import Any

from ..analysis import LayerCache, Report, analyze
from ..architecture import Architecture, build
from ..errors import ArchcalcError, SpecError, suggestion
from ..spec import ArchFile, load_spec
from ..spec.expand import hashable
from .grid import INPUT, Grid

MAX_EXPANSIONS = 32  # expansions kept (the most recently used)
MAX_CACHED = 20_000  # entries of the layer cache before it is emptied, so that memory stays flat


class Arguments(Mapping):
    """A file's `args` with the values of the variant being analysed; while `reads` is a set, every
    name looked up is added to it."""

    def __init__(self, defaults: Mapping[str, Any]):
        self.defaults = dict(defaults)
        self.values = self.defaults
        self.reads: set[str] | None = None

    def bind(self, values: Mapping[str, Any]) -> None:
        self.values = {**self.defaults, **values}

    def __getitem__(self, key: str) -> Any:
        value = self.values[key]
        if self.reads is not None:
            self.reads.add(key)
        return value

    def __contains__(self, key: object) -> bool:
        return key in self.values

    def __iter__(self) -> Iterator[str]:
        return iter(self.values)

    def __len__(self) -> int:
        return len(self.values)


class Sweeper:
    """Analyses variants of one architecture: `report(values)` for `{argument or 'input': value}`."""

    def __init__(self, source: str | ArchFile | Mapping[str, Any], *, label: str | None = None, batch: int = 1,
                 dtype: str = "float32", strict: bool = False, count: str = "archcalc"):
        if isinstance(source, ArchFile):
            self.spec, self.label = source, label or source.name
        else:
            self.spec, self.label = load_spec(source if isinstance(source, str) else dict(source))
        self.arguments = Arguments(self.spec.args)
        self.bound_spec = self.spec.model_copy(update={"args": self.arguments})
        self.options = {"batch": batch, "dtype": dtype, "strict": strict, "count": count}
        self.layer_cache = LayerCache()
        # (names the expansion read, their values frozen) → (the Architecture and the names of each of its
        # layers as expanded), or the error of expanding
        self.expansions: OrderedDict[tuple, tuple | ArchcalcError] = OrderedDict()
        self.read_sets: dict[frozenset[str], int] = {}  # names read → expansions kept that read them

    def check(self, grid: Grid) -> None:
        """SpecError naming a grid name that is neither an argument of the file nor `input`."""
        for key in grid.keys:
            if key != INPUT and key not in self.spec.args:
                known = [*self.spec.args, INPUT]
                hint = suggestion(key, known)
                listed = ", ".join(self.spec.args) or "none"
                raise SpecError(f"{key!r} is not an argument of the file{hint} (its args: {listed}; "
                                f"or `input` for the input size)", file=self.label)

    def report(self, values: Mapping[str, Any], count: str | None = None) -> Report:
        """The analysis of the variant with these values; ArchcalcError where it is invalid."""
        arguments = {k: v for k, v in values.items() if k != INPUT}
        self.arguments.bind(arguments)
        arch = self.architecture()
        if len(self.layer_cache) > MAX_CACHED:
            self.layer_cache.clear()
        options = dict(self.options, count=count or self.options["count"])
        return analyze(arch, input=values.get(INPUT), layer_cache=self.layer_cache, **options)

    def architecture(self) -> Architecture:
        """The expansion for the bound values: one kept for the same values of the names it read, or a new one."""
        for names in self.read_sets:
            key = self.key(names)
            found = self.expansions.get(key)
            if found is not None:
                self.expansions.move_to_end(key)
                break
        else:
            self.arguments.reads = reads = set()
            try:
                arch = build(self.bound_spec, self.label)
                found = arch, [node.values for node in arch.nodes]
            except ArchcalcError as exc:
                found = exc.located(file=self.label)
            finally:
                self.arguments.reads = None
            self.keep(self.key(frozenset(reads)), found)
        if isinstance(found, ArchcalcError):
            raise found.with_traceback(None)
        arch, scopes = found
        self.bind(arch, scopes)
        return arch

    def bind(self, arch: Architecture, scopes: list[Mapping[str, Any]]) -> None:
        """Give each layer its names as the bound variant sees them: the chain of its scope's mappings
        (block arguments, `i`, then `Arguments`) read into one dict, once per scope."""
        flat: dict[int, Mapping[str, Any]] = {}
        arguments = self.arguments

        def flatten(names: Mapping[str, Any]) -> Mapping[str, Any]:
            found = flat.get(id(names))
            if found is None:
                if names is arguments:
                    found = arguments.values
                elif isinstance(names, ChainMap):
                    found = {}
                    for inner in reversed(names.maps):
                        found.update(flatten(inner))
                else:
                    found = names
                flat[id(names)] = found
            return found

        for node, names in zip(arch.nodes, scopes):
            node.values = flatten(names)

    def key(self, names: frozenset[str]) -> tuple:
        current = self.arguments.values
        return names, tuple(sorted((name, hashable(current[name])) for name in names))

    def keep(self, key: tuple, found: tuple | ArchcalcError) -> None:
        self.expansions[key] = found
        self.read_sets[key[0]] = self.read_sets.get(key[0], 0) + 1
        if len(self.expansions) > MAX_EXPANSIONS:
            (names, _), _ = self.expansions.popitem(last=False)
            self.read_sets[names] -= 1
            if not self.read_sets[names]:
                del self.read_sets[names]
