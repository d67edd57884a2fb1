"""The counting engine: one walk in execution order gives every layer's numbers and the totals.

Conventions (docs/conventions.md): shapes are per sample (C, H, W); the batch multiplies MACs,
FLOPs and activations; FLOPs = 2·MACs; an activation is a layer output that allocates; the
forward memory is the input plus every allocating output (cs231n); the peak is the most memory
live at once when each tensor is freed after its last use.
"""

from __future__ import annotations

import itertools
import numbers
import re
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from functools import cached_property, partial
from typing import Any, NamedTuple

from . import freezing, profiles
from .architecture import Architecture, last_readers, load
from .errors import ArchcalcError, MismatchError, ShapeError, SpecError, TilingError, channels_last_hint, suggestion
from .expr import names_read
from .gc_pause import cycle_collection_paused
from .layers import Arithmetic, Layer, Param, Shape
from .layers.base import numel
from .records import FieldError
from .spec import Node, resolve_value
from .spec.expand import hashable, with_names
from .step_memory import training_memory_of
from .tiling import tiling_note

DTYPE_BYTES = {"float64": 8, "float32": 4, "float16": 2, "bfloat16": 2, "int8": 1}
MAX_ELEMENTS = 10**11  # per tensor and sample: 400 GB of float32
MAX_SIDE = 2**20  # height or width: a million pixels


def check_size(shape: Shape, what: str) -> None:
    """ShapeError for a tensor no machine could hold (so a typo like `10**12` fails fast)."""
    if len(shape) == 3 and max(shape[1:]) > MAX_SIDE:
        raise ShapeError(f"{what} {list(shape)} is impossibly large (height or width above {MAX_SIDE:,})")
    if numel(shape) > MAX_ELEMENTS:
        raise ShapeError(f"{what} {list(shape)} is impossibly large (more than 10**11 elements)")


@dataclass(frozen=True, init=False, slots=True)
class ReceptiveField:
    """Receptive field per spatial axis ((height, width); (length,) or (time, height, width) over one or
    three axes): size, jump (effective stride) and start (centre of the first output position, in input
    pixel coordinates)."""

    size: tuple[int, ...]
    jump: tuple[int, ...]
    start: tuple[float, ...]

    def __init__(self, size: tuple[int, ...], jump: tuple[int, ...], start: tuple[float, ...]):
        # set through the slots: a frozen dataclass's own __init__ goes through object.__setattr__, slower
        _set_size(self, size)
        _set_jump(self, jump)
        _set_start(self, start)

    def to_dict(self) -> dict[str, list]:
        return {"size": list(self.size), "jump": list(self.jump),
                "start": [int(s) if float(s).is_integer() else s for s in self.start]}


_set_size, _set_jump, _set_start = (getattr(ReceptiveField, name).__set__ for name in ("size", "jump", "start"))


class ReceptiveFields:
    """The receptive fields of one analysis' layers, worked out together when one is first asked for
    (an analysis only counted does not pay for them): from the layers' inputs, their input and output
    shapes, and how each layer's windows step (`field_steps`), in execution order."""

    __slots__ = ("nodes", "shapes", "sites", "windows", "fields")

    def __init__(self, nodes: tuple[Node, ...], shapes: dict[str, Shape], windows: dict[Any, Any]):
        self.nodes, self.shapes, self.windows = nodes, shapes, windows
        self.sites: list[Any] = []  # per layer, `_INPUT` or its facts (the walk's tuple of a distinct layer)
        self.fields: list[ReceptiveField | None] | None = None

    def at(self, position: int) -> ReceptiveField | None:
        if self.fields is None:
            self.fields = self.work_out()
        return self.fields[position]

    def work_out(self) -> list[ReceptiveField | None]:
        by_path: dict[str, ReceptiveField | None] = {}
        steps_of: dict[int, Any] = {}  # id of a layer's facts → its field steps (the facts are kept in `sites`)
        shapes, found = self.shapes, []
        for node, site in zip(self.nodes, self.sites):
            output = shapes[node.path]
            if site is _INPUT:
                axes = len(output) - 1  # a map's spatial axes: (C, H, W), (C, L), (C, T, H, W)
                field_ = ReceptiveField((1,) * axes, (1,) * axes, (0.0,) * axes) if 1 <= axes <= 3 else None
            else:  # a layer sized by a second input (`like:`) sees through its first alone
                steps = steps_of.get(id(site))
                if steps is None:
                    steps = steps_of[id(site)] = field_steps(site[0], site[8], site[1], self.windows)
                inputs = node.inputs[:1] if node.layer_cls.sized_by_second_input else node.inputs
                field_ = receptive_field(steps, inputs, tuple([shapes[src] for src in inputs]), output, by_path)
            by_path[node.path] = field_
            found.append(field_)
        return found


def field_steps(layer: Layer, in_shapes: tuple[Shape, ...], output: Shape, windows: dict[Any, Any]) -> tuple | object:
    """How `layer` on these inputs changes the receptive field: per axis of its windows (the span its kernel
    adds, in input steps; how far the centre of its first window moves, in input steps; its stride), `_KEPT`
    (no window: the input's field carries over) or `_ENDED` (no field past this layer). `windows` keeps
    each layer's windows on given inputs, with the layer (so that its id is not reused while it is kept)."""
    if not layer.receptive_field_defined:
        return _ENDED
    key = (id(layer), in_shapes)
    kept = windows.get(key)
    if kept is None:
        kept = windows[key] = (layer, layer.windows(list(in_shapes)))
    found = kept[1]
    if found is None:
        # a map keeps its field, and so does a vector after it; a map made a vector here loses it
        return _KEPT if len(output) == len(in_shapes[0]) or len(in_shapes[0]) == 1 else _ENDED
    steps = []
    for window in found:
        span = window.dilation * (window.kernel - 1)
        steps.append((span, span / 2 - window.pad_before, window.stride))
    return tuple(steps)


def param_counts(params: tuple[Param, ...]) -> tuple[int, int, int]:
    """(weights, biases, running statistics) of these parameter tensors."""
    counts = {"weight": 0, "bias": 0, "stat": 0}
    for p in params:
        counts[p.role] += p.size
    return counts["weight"], counts["bias"], counts["stat"]


def frozen_count(params: tuple[Param, ...]) -> int:
    """The frozen weights and biases among these parameter tensors."""
    return sum(p.size for p in params if p.frozen)


class LayerRecord(NamedTuple):
    """Everything archcalc knows about one layer, per the report's batch and dtype. A named tuple: made
    once per layer of every analysis, it costs a tuple (a frozen dataclass costs several times that)."""

    name: str
    type: str
    layer: Layer
    inputs: tuple[str, ...]
    input_shapes: tuple[Shape, ...]
    output_shape: Shape
    param_tensors: tuple[Param, ...]
    macs: int
    flops: int
    activation_elements: int
    activation_bytes: int
    allocates: bool
    field_table: ReceptiveFields  # the analysis' receptive fields (not compared, not shown)
    position: int  # of the layer, in execution order (not compared, not shown)
    warnings: tuple[str, ...] = ()
    shares: str | None = None  # the layer whose weights it applies (`shares:`): it owns none itself

    def _compared(self) -> tuple:
        return (*self[:_FIELD_TABLE], self.warnings, self.shares)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LayerRecord):
            return NotImplemented
        return self._compared() == other._compared()

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __hash__(self) -> int:
        return hash(self._compared())

    def __repr__(self) -> str:
        shown = (f"{name}={value!r}" for name, value in zip(self._fields, self) if name not in _NOT_SHOWN)
        return f"LayerRecord({', '.join(shown)})"

    @property
    def receptive_field(self) -> ReceptiveField | None:
        """Of one output position, in input pixels; None past a layer that has none (a flatten)."""
        return self.field_table.at(self.position)

    def _param_counts(self) -> tuple[int, int, int]:
        """(weights, biases, running statistics) in one pass over the parameter tensors."""
        return param_counts(self.param_tensors)

    @property
    def weights(self) -> int:
        return self._param_counts()[0]

    @property
    def biases(self) -> int:
        return self._param_counts()[1]

    @property
    def trainable_params(self) -> int:
        """Weights and biases that are trained (PyTorch's `requires_grad`, Keras's trainable weights)."""
        weights, biases, _ = self._param_counts()
        return weights + biases - self.frozen_params

    @property
    def frozen_params(self) -> int:
        """Weights and biases of a frozen layer (`trainable: false`, `freeze:`)."""
        return frozen_count(self.param_tensors)

    @property
    def non_trainable_params(self) -> int:
        """Frozen weights and biases plus the running statistics, as Keras counts them."""
        return self._param_counts()[2] + self.frozen_params

    @property
    def params(self) -> int:
        return sum(self._param_counts())

    @property
    def depth(self) -> int:
        return self.name.count("/")

    def arithmetic(self) -> Arithmetic:
        return self.layer.arithmetic(list(self.input_shapes), self.output_shape)

    def to_dict(self) -> dict[str, Any]:
        weights, biases, stats = self._param_counts()
        frozen = frozen_count(self.param_tensors)
        return {
            "name": self.name,
            "type": self.type,
            "inputs": list(self.inputs),
            "input_shapes": [list(s) for s in self.input_shapes],
            "output_shape": list(self.output_shape),
            "hyperparameters": self.layer.changed(),
            "params": weights + biases + stats,
            "weights": weights,
            "biases": biases,
            "trainable_params": weights + biases - frozen,
            "non_trainable_params": stats + frozen,
            "frozen_params": frozen,
            "macs": self.macs,
            "flops": self.flops,
            "activation_elements": self.activation_elements,
            "activation_bytes": self.activation_bytes,
            "allocates": self.allocates,
            "receptive_field": self.receptive_field.to_dict() if self.receptive_field else None,
            "warnings": list(self.warnings),
            **({"shares": self.shares} if self.shares else {}),
        }


_FIELD_TABLE = LayerRecord._fields.index("field_table")
_OUTPUT, _MACS, _FLOPS, _ELEMENTS, _ALLOCATES, _WARNINGS = map(
    LayerRecord._fields.index, ("output_shape", "macs", "flops", "activation_elements", "allocates", "warnings"))
_new_tuple = tuple.__new__
_NOT_SHOWN = ("field_table", "position")


@dataclass(frozen=True)
class Totals:
    """The network's numbers. The parameters: `trainable_params` (trained weights and biases),
    `non_trainable_params` (the frozen ones and the running statistics, as Keras counts),
    `frozen_params` (the frozen weights and biases alone)."""

    params: int
    trainable_params: int
    non_trainable_params: int
    macs: int
    flops: int
    activation_elements: int
    forward_memory_bytes: int
    param_bytes: int
    frozen_params: int = 0
    #: Compute `peak_memory_bytes` and `training_memory_bytes` (walks over the layers) when first asked for.
    peak_memory: Callable[[], int] = field(default=lambda: 0, repr=False, compare=False)
    training_memory: Callable[[], int] = field(default=lambda: 0, repr=False, compare=False)

    @property
    def statistics(self) -> int:
        """The running statistics (BatchNorm's running mean and variance): never trained."""
        return self.non_trainable_params - self.frozen_params

    @cached_property
    def peak_memory_bytes(self) -> int:
        """Most activation bytes live at once in a forward pass (`peak_activation_bytes`)."""
        return self.peak_memory()

    @cached_property
    def training_memory_bytes(self) -> int:
        """The training memory with Adam (archcalc/step_memory.py), worked out when first asked for."""
        return self.training_memory()

    def to_dict(self) -> dict[str, int]:
        numbers = {f.name: getattr(self, f.name) for f in fields(self) if f.repr and f.name != "frozen_params"}
        numbers["peak_memory_bytes"] = self.peak_memory_bytes
        numbers["param_bytes"] = numbers.pop("param_bytes")  # the order of docs/json.md
        return {**numbers, "training_memory_bytes": self.training_memory_bytes, "frozen_params": self.frozen_params}


def _training_memory_total(records: tuple[LayerRecord, ...], output: str, nbytes: int) -> int:
    return training_memory_of(records, output, nbytes).total


@dataclass(frozen=True)
class Report:
    """The analysis of one architecture at one input size, batch and dtype (immutable)."""

    architecture: Architecture
    input_shape: Shape
    batch: int
    dtype: str
    layers: tuple[LayerRecord, ...]
    totals: Totals
    warnings: tuple[str, ...] = field(default=())
    count: str = "archcalc"

    @property
    def name(self) -> str:
        return self.architecture.name

    def layer(self, name: str) -> LayerRecord:
        for record in self.layers:
            if record.name == name:
                return record

        raise ArchcalcError(f"no layer {name!r}{suggestion(name, [r.name for r in self.layers])}",
                            file=self.architecture.source)

    def to_dict(self, layers: bool = True) -> dict[str, Any]:
        """The analysis as plain values (docs/json.md); `layers=False` leaves the layer records out
        (their key stays, empty), for a writer that makes them one at a time."""
        spec = self.architecture.spec
        return {
            "name": spec.name,
            "title": spec.title,
            "source": spec.source,
            "input_shape": list(self.input_shape),
            "batch": self.batch,
            "dtype": self.dtype,
            "count": self.count,
            "totals": self.totals.to_dict(),
            "layers": [r.to_dict() for r in self.layers] if layers else [],
            "groups": [{"path": g.path, "block": g.block, "args": g.args}
                       for g in self.architecture.groups],
            "warnings": list(self.warnings),
            **({"not_counted": list(spec.not_counted)} if spec.not_counted else {}),
            **({"outputs": {name: {"layer": path, "shape": list(self.layer(path).output_shape)}
                            for name, path in self.architecture.outputs.items()}}
               if self.architecture.outputs else {}),
        }


@dataclass
class LayerCache:
    """What analyses may share about layers: each layer built from its hyper-parameters, and its facts,
    windows and FLOPs on given input shapes. `archcalc.sweep` passes one to every analysis of the
    variants of a file (with the same `strict`), so that a layer whose hyper-parameters and inputs did
    not change is not built or counted again."""

    layers: dict = field(default_factory=dict)  # (class, frozen hyper-parameters) → Layer
    static: dict = field(default_factory=dict)  # id of a hyper-parameter dict → (the dict, its Layer, names read)
    bound: dict = field(default_factory=dict)  # (id of a dict above, first input shape, values it reads) → Layer
    facts: dict = field(default_factory=dict)  # (id of a layer above, input shapes) → facts
    windows: dict = field(default_factory=dict)  # (id of a layer, input shapes) → (the layer, its windows)
    flops: dict = field(default_factory=dict)  # count profile → (id of a layer, shapes, call) → FLOPs

    def __len__(self) -> int:
        return (len(self.layers) + len(self.static) + len(self.bound) + len(self.facts) + len(self.windows)
                + sum(map(len, self.flops.values())))

    def clear(self) -> None:
        """Forget everything at once (the facts are keyed by the layers' ids)."""
        for table in (self.layers, self.static, self.bound, self.facts, self.windows, self.flops):
            table.clear()


def analyze(arch: Architecture | str | Any, *, input: Shape | list[int] | None = None, batch: int = 1,
            dtype: str = "float32", strict: bool = False, count: str = "archcalc",
            layer_cache: LayerCache | None = None, freeze: Any = None, train_only: Any = None) -> Report:
    """Analyze a loaded architecture (or a zoo name / path): every layer's numbers and totals.

    `count` picks whose FLOPs the records carry (archcalc.profiles: archcalc = 2·MACs, or fvcore,
    ptflops, thop, torchinfo, torch as those tools count); `layer_cache` is shared with other analyses
    (LayerCache); `freeze` and `train_only` are layer-path patterns (archcalc.freezing) that freeze
    more layers, or every layer but those named."""
    with cycle_collection_paused():
        arch = arch if isinstance(arch, Architecture) else load(arch)
        try:
            frozen = freezing.frozen_layers(arch.nodes, freeze, train_only)
            return _Walk(arch, input, batch, dtype, strict, count, layer_cache, frozen).run()
        except ArchcalcError as exc:
            raise exc.located(file=arch.source) from None


class _Walk:
    def __init__(self, arch: Architecture, input_shape, batch: int, dtype: str, strict: bool,
                 count: str = "archcalc", layer_cache: LayerCache | None = None,
                 frozen: frozenset[str] = frozenset()):
        if dtype not in DTYPE_BYTES:
            raise SpecError(f"dtype must be one of {', '.join(DTYPE_BYTES)}, got {dtype!r}")
        if isinstance(batch, bool) or not isinstance(batch, numbers.Integral) or batch < 1:
            raise SpecError(f"batch must be a positive integer, got {batch!r}")
        batch = int(batch)
        self.arch = arch
        self.input_path = arch.input_path
        self.batch = batch
        self.dtype = dtype
        self.bytes = DTYPE_BYTES[dtype]
        self.strict = strict
        self.count = count
        self.profile = profiles.get(count)
        self.input_shape = self.resolve_input(input_shape)
        shared = layer_cache if layer_cache is not None else LayerCache()
        self.cache: dict[Any, Layer] = shared.layers
        self.facts_cache: dict[Any, tuple] = shared.facts
        # id of a hyper-parameter dict → (the dict, kept so that its id is not reused; its layer, None
        # when the dict has expressions; the names its expressions read, `_STATIC` without any)
        self.static_layers: dict[int, tuple[dict, Layer | None, Any]] = shared.static
        self.bound_layers: dict[tuple, Layer] = shared.bound
        self.windows_cache: dict[Any, Any] = shared.windows
        self.flops_cache: dict[Any, int] = shared.flops.setdefault(count, {})
        self.frozen_layers = frozen  # paths of the layers whose weights and biases are frozen
        self.trainable = self.frozen = self.statistics = 0  # parameters of the layers visited
        self.calls = arch.spec.calls
        self.seen: dict[tuple, tuple] = {}  # node_key → the layer's `counted` numbers
        self.found_of: dict[int, tuple] = {}  # id of a node visited that others were copied from → its `seen` entry
        # path → record of the layers visited with weights, where some layer applies another's (`shares:`)
        self.visited: dict[str, LayerRecord] | None = {} if any(n.owner is not None for n in arch.nodes) else None

    def resolve_input(self, override) -> Shape:
        if override is not None and (isinstance(override, str | bytes) or not hasattr(override, "__iter__")):
            raise SpecError(f"input must be a sequence (C, H, W) such as [3, 224, 224], got {override!r}",
                            layer="input")
        raw = list(override) if override is not None else self.arch.spec.input
        try:
            shape = tuple(resolve_value(v, dict(self.arch.spec.args)) for v in raw)
        except ArchcalcError as exc:
            raise exc.located(layer="input") from None
        if not all(isinstance(s, numbers.Integral) and not isinstance(s, bool) and s >= 1 for s in shape):
            raise SpecError(f"input must be positive integers (C, H, W), got {list(shape)}", layer="input")
        shape = tuple(int(s) for s in shape)
        try:
            check_size(shape, "input")
        except ArchcalcError as exc:
            raise exc.located(layer="input") from None
        return shape

    def run(self) -> Report:
        shapes: dict[str, Shape] = {}
        self.field_table = ReceptiveFields(self.arch.nodes, shapes, self.windows_cache)
        self.add_site = self.field_table.sites.append
        records: list[LayerRecord] = []
        warnings: list[str] = list(self.arch.warnings)
        macs = flops = elements = 0
        visit = self.visit
        for position, node in enumerate(self.arch.nodes):
            try:
                record = visit(node, shapes, position)
            except ArchcalcError as exc:
                if isinstance(exc, MismatchError):
                    exc.naming(node.inputs)
                if isinstance(exc, ShapeError):
                    exc.message += channels_last_hint(self.input_shape)
                raise exc.located(layer=node.path, where=node.where) from None
            shapes[node.path] = record[_OUTPUT]
            records.append(record)
            macs += record[_MACS]
            flops += record[_FLOPS]
            if record[_ALLOCATES]:
                elements += record[_ELEMENTS]
            if record[_WARNINGS]:
                warnings += [f"{node.path}: {w}" for w in record[_WARNINGS]]
        totals = self.totals(records, macs, flops, elements,
                             partial(peak_activation_bytes, records, self.arch.output_paths))
        return Report(self.arch, self.input_shape, self.batch, self.dtype, tuple(records), totals,
                      tuple(warnings), self.count)

    def visit(self, node: Node, shapes: dict[str, Shape], position: int) -> LayerRecord:
        inputs = node.inputs
        in_shapes = (shapes[inputs[0]],) if len(inputs) == 1 else tuple([shapes[src] for src in inputs])
        if node.path == self.input_path:
            return self.visit_input(node, in_shapes, position)
        twin = node.twin
        found = self.found_of.get(id(twin)) if twin is not None else None
        if found is not None and found[8] == in_shapes:  # a replayed layer on the same inputs as its twin
            key = None
        else:
            key = self.node_key(node, in_shapes)
            try:
                found = self.seen.get(key) if key is not None else None
            except TypeError:  # a value read that cannot be part of a key
                key = found = None
        if found is None:
            found = self.counted(node, in_shapes)
            if key is not None:
                self.seen[key] = found
        elif self.calls:  # the call style follows the path; the input shapes of the first of equal keys are kept
            found = (*found[:6], self.flops(node, found[0], found[8], found[1], found[3] // self.batch) * self.batch,
                     *found[7:])
        if node.copied:
            self.found_of[id(node)] = found
        self.add_site(found)
        layer, output, params, macs, notes, counts, flops, elements, in_shapes, allocates, size = found
        shares = None
        if node.owner is not None and (params or node.shares is not None):  # a block's layers without any share none
            shares, params = self.owner(node, layer, in_shapes, params), ()
        elif node.path in self.frozen_layers:
            params = tuple(p if p.role == "stat" else replace(p, frozen=True) for p in params)
            self.frozen += counts[0] + counts[1]
        else:
            self.trainable += counts[0] + counts[1]
        if shares is None:
            self.statistics += counts[2]
        # the named tuple made without its generated `__new__` (a Python call per layer), in field order
        record = _new_tuple(LayerRecord, (node.path, layer.type_name, layer, tuple(inputs), in_shapes, output, params,
                                          macs, flops, elements, size, allocates, self.field_table, position, notes,
                                          shares))
        if self.visited is not None and (params or shares):
            self.visited[node.path] = record
        return record

    def counted(self, node: Node, in_shapes: tuple[Shape, ...]) -> tuple:
        """A layer's numbers on these inputs, for the batch and dtype: (layer, output, params, MACs, notes,
        counts, FLOPs, elements, input shapes, whether the output allocates, its bytes)."""
        layer = self.instantiate(node, in_shapes)
        output, params, macs, notes, counts = self.facts(layer, in_shapes)
        flops = self.flops(node, layer, in_shapes, output, macs)
        elements = numel(output) * self.batch
        return (layer, output, params, macs * self.batch, notes, counts, flops * self.batch, elements, in_shapes,
                layer.allocates, elements * self.bytes)

    def owner(self, node: Node, layer: Layer, in_shapes: tuple[Shape, ...], params: tuple[Param, ...]) -> str:
        """The path of the layer whose weights `node` applies (`shares:`), checked to be the same layer on
        as many input channels; following a layer that shares in turn to the one that owns them."""
        record = self.visited.get(node.owner)
        if record is None:
            raise SpecError(f"shares: {node.owner!r} must name a layer with parameters before it")
        if record.shares is not None:
            record = self.visited[record.shares]
        if record.layer != layer:
            raise SpecError(f"shares: {record.name!r} is {_described(record.layer)}, this layer "
                            f"{_described(layer)}; a layer that shares weights must equal the layer that owns them")
        theirs = [p.shape for p in record.param_tensors]
        if theirs != [p.shape for p in params]:
            raise SpecError(f"shares: {record.name!r} reads {record.input_shapes[0][0]} channels, this layer "
                            f"{in_shapes[0][0]}; their weights differ in shape")
        return record.name

    def visit_input(self, node: Node, in_shapes: tuple[Shape, ...], position: int) -> LayerRecord:
        layer = self.instantiate(node, in_shapes)
        output = self.input_shape
        self.add_site(_INPUT)
        elements = numel(output) * self.batch
        return LayerRecord(node.path, layer.type_name, layer, tuple(node.inputs), in_shapes, output, (), 0, 0,
                           elements, elements * self.bytes, layer.allocates, self.field_table, position, ())

    def node_key(self, node: Node, in_shapes: tuple[Shape, ...]) -> tuple | None:
        """What a layer's numbers depend on: its hyper-parameter dict (by id), its input shapes and the
        values of the names its expressions read; None where that cannot be a key."""
        hyper = node.hyper
        known = self.static_layers.get(id(hyper))
        if known is None:
            known = self.static_layers[id(hyper)] = (hyper, None, _names_read(hyper))
        names = known[2]
        if names is _STATIC:
            return (id(hyper), in_shapes)
        if names is None:
            return None
        values = node.values
        return (id(hyper), in_shapes, *[hashable(v) for v in map(values.get, names, _MISSING)])

    def facts(self, layer: Layer, in_shapes: tuple[Shape, ...]) -> tuple:
        """Output shape, parameters, MACs, tiling notes and parameter counts of `layer` on these inputs,
        computed once per distinct (layer, input shapes): repeated blocks and chains reuse them."""
        key = (id(layer), in_shapes)
        found = self.facts_cache.get(key)
        if found is None:
            shapes = list(in_shapes)
            layer.check_arity(shapes)
            output = tuple(layer.output_shape(shapes))
            if min(output, default=1) < 1:
                raise ShapeError(f"output shape {list(output)} is impossible")
            check_size(output, "output shape")
            params = tuple(layer.parameters(shapes))
            for param in params:
                check_size(param.shape, f"parameter {param.name}")
            found = (output, params, layer.macs(shapes, output), self.tiling(layer, shapes),
                     param_counts(params))
            self.facts_cache[key] = found
        return found

    def flops(self, node: Node, layer: Layer, in_shapes: tuple[Shape, ...], output: Shape, macs: int) -> int:
        """One sample's FLOPs as the chosen count profile counts them, once per distinct layer, inputs
        and call style."""
        calls = self.arch.spec.calls
        call = profiles.call_style(calls, node.path, layer.type_name) if calls else "module"
        key = (id(layer), in_shapes, call)
        found = self.flops_cache.get(key)
        if found is None:
            found = self.flops_cache[key] = self.profile.count_of(layer, in_shapes, output, macs, call)
        return found

    def instantiate(self, node: Node, in_shapes: tuple[Shape, ...]) -> Layer:
        """Evaluate the hyper-parameters (they may use in_channels) and build the layer: once per
        hyper-parameter dict without expressions, else once per values of the names they read
        (and input shape), so that repeated blocks and chains do not evaluate them again."""
        hyper = node.hyper
        known = self.static_layers.get(id(hyper))
        if known is None:
            known = self.static_layers[id(hyper)] = (hyper, None, _names_read(hyper))
        layer, names = known[1], known[2]
        if layer is not None:
            return layer
        if names is _STATIC:
            layer = self.build(node, hyper)
            self.static_layers[id(hyper)] = (hyper, layer, names)
            return layer
        key = None
        if names is not None:
            values = node.values
            # the input's shape is part of the key only where an expression reads it (`in_channels`, ...)
            shape = in_shapes[0] if in_shapes and not _CONTEXT.isdisjoint(names) else None
            key = (id(hyper), shape, *[hashable(values.get(n, _UNSEEN)) for n in names])
            try:
                layer = self.bound_layers.get(key)
            except TypeError:  # a value that cannot be a key
                key = None
            if layer is not None:
                return layer
        scope = with_names(node.values, _input_names(in_shapes[0]) if in_shapes else {})
        layer = self.build(node, {k: _resolved(node, k, v, scope) if isinstance(v, _EXPRESSIONS) else v
                                  for k, v in hyper.items()})
        if key is not None:
            self.bound_layers[key] = layer
        return layer

    def build(self, node: Node, hyper: dict[str, Any]) -> Layer:
        """The layer of these (evaluated) hyper-parameters, validated once per distinct values."""
        key = (node.layer_cls, *[(k, hashable(v)) for k, v in hyper.items()])
        layer = self.cache.get(key)
        if layer is None:
            try:
                layer = node.layer_cls.from_mapping(hyper)
            except FieldError as exc:
                message = str(exc)
                written = node.hyper.get(exc.where.split(".")[0])
                if isinstance(written, str) and "whole number" in exc.text:
                    message += f" from {written}; divide with // for a whole number"
                kind = node.layer_cls.type_name
                # an automatic name (`conv2d_1`) already says the type as the file wrote it
                named = node.path.rsplit("/", 1)[-1].split("_")[0] in (kind, *node.layer_cls.aliases)
                raise SpecError(message if named else f"{kind}: {message}").located(
                    where=node.line_of(exc.where)) from None
            self.cache[key] = layer
        return layer

    def tiling(self, layer: Layer, in_shapes: list[Shape]) -> tuple[str, ...]:
        remainders = layer.tiling_remainders(in_shapes)
        if not any(remainders):
            return ()
        message = tiling_note(layer.windows(in_shapes), in_shapes[0][1:], remainders)
        if self.strict:
            raise TilingError(message)
        return (message,)

    def totals(self, records: list[LayerRecord], macs: int, flops: int, elements: int,
               peak: Callable[[], int]) -> Totals:
        """The totals from the sums over the layers (MACs, FLOPs, allocated activation elements)."""
        trainable, fixed = self.trainable, self.frozen + self.statistics
        param_bytes = (trainable + fixed) * self.bytes
        forward = elements * self.bytes
        return Totals(
            params=trainable + fixed, trainable_params=trainable, non_trainable_params=fixed,
            frozen_params=self.frozen, macs=macs, flops=flops, activation_elements=elements,
            forward_memory_bytes=forward, peak_memory=peak, param_bytes=param_bytes,
            training_memory=partial(_training_memory_total, tuple(records), self.arch.output_path, self.bytes),
        )


def peak_activation_bytes(records: list[LayerRecord], outputs: tuple[str, ...]) -> int:
    """Most activation bytes live at once: outputs are freed after their last reader (the network's
    outputs live to the end); a view (flatten, in-place op) shares its input's storage and extends its life."""
    index: dict[str, int] = {}  # path → position in execution order
    roots: list[int] = []  # per layer, the position of the layer whose storage holds its output
    for position, record in enumerate(records):
        index[record.name] = position
        roots.append(position if record.allocates or not record.inputs else roots[index[record.inputs[0]]])
    sizes = [record.activation_bytes for record in records]
    last = last_readers(((record.name, record.inputs) for record in records), outputs)
    until = [0] * len(records)  # per storage: position of the last reader of anything that lives in it
    for record, root in zip(records, roots, strict=True):
        reader = last[record.name]
        if reader > until[root]:
            until[root] = reader
    freed = [0] * (len(records) + 1)  # per position: the bytes freed after it
    for position, root in enumerate(roots):
        if root == position:
            freed[until[position]] += sizes[position]
    live = peak = 0
    for position, root in enumerate(roots):
        if root == position:
            live += sizes[position]
            peak = max(peak, live)
        live -= freed[position]
    return peak


def receptive_field(steps: tuple | object, inputs: list[str], in_shapes: tuple[Shape, ...], output: Shape,
                    fields) -> ReceptiveField | None:
    """The field of a layer's output from its inputs' fields and its `field_steps`."""
    if steps is _ENDED:
        return None
    if len(inputs) == 1:
        base = fields[inputs[0]]
        if base is None:
            return None
    else:
        known = [(fields[src], shape) for src, shape in zip(inputs, in_shapes) if fields.get(src) is not None]
        if len(known) < len(inputs):   # an input's field unknown (after a transposed convolution): the join's too
            return None
        if len(known) == 1:
            base = known[0][0]
        else:
            base = _union([f for f, _ in known], [f for f, shape in known if shape[1:] == output[1:]])
    if steps is _KEPT:
        return base
    size, jump, start = base.size, base.jump, base.start
    if len(steps) == 2:  # the common case, unrolled
        (span0, shift0, stride0), (span1, shift1, stride1) = steps
        jump0, jump1 = jump[0], jump[1]
        # what a step leaves as it was is shared, not copied (fewer objects on long chains)
        return ReceptiveField(
            size if not span0 and not span1 else (size[0] + span0 * jump0, size[1] + span1 * jump1),
            jump if stride0 == 1 and stride1 == 1 else (jump0 * stride0, jump1 * stride1),
            start if not shift0 and not shift1 else (start[0] + shift0 * jump0, start[1] + shift1 * jump1))
    return ReceptiveField(tuple([size[axis] + span * jump[axis] for axis, (span, _, _) in enumerate(steps)]),
                          tuple([jump[axis] * stride for axis, (_, _, stride) in enumerate(steps)]),
                          tuple([start[axis] + shift * jump[axis] for axis, (_, shift, _) in enumerate(steps)]))


def _union(fields: list[ReceptiveField], steps: list[ReceptiveField]) -> ReceptiveField:
    """The field of a join: per axis the smallest span covering every input's region; the jump is that
    of `steps`, the inputs whose (H, W) the output keeps (a 1×1 gate broadcast over a map, as in a
    squeeze-and-excitation block, widens the region but does not step the map's positions)."""
    size, start = [], []
    axes = range(len(fields[0].size))
    for axis in axes:
        low, high = [], []
        for f in fields:
            half = (f.size[axis] - 1) / 2
            low.append(f.start[axis] - half)
            high.append(f.start[axis] + half)
        least, most = min(low), max(high)
        size.append(int(round(most - least)) + 1)
        start.append((least + most) / 2)
    stepping = steps or fields
    jump = tuple([max([f.jump[axis] for f in stepping]) for axis in axes])
    return ReceptiveField(tuple(size), jump, tuple(start))  # type: ignore[arg-type]


def _described(layer: Layer) -> str:
    """`a conv with out_channels=256, kernel_size=3`: a layer's type and the hyper-parameters it sets."""
    changed = ", ".join(f"{key}={value}" for key, value in layer.changed().items())
    return f"a {layer.type_name}" + (f" with {changed}" if changed else "")


_UNSEEN = object()
_EXPRESSIONS = (str, list)  # the values `resolve_value` evaluates: any other is taken as it is
_CONTEXT = frozenset(("in_channels", "in_height", "in_width"))  # the names of `_input_names`
_MISSING = itertools.repeat(_UNSEEN)  # the default of each name looked up in `node_key`
_KEPT, _ENDED = object(), object()  # what `field_steps` says of a layer without windows
_INPUT = object()  # the `field_steps` of the input: its field is one pixel
_STATIC = frozenset()  # what `_names_read` says of hyper-parameters without expressions


def _input_names(shape: Shape) -> dict[str, int]:
    """What a layer's expressions may read of its (first) input: `in_channels`, and of a (C, H, W) map
    `in_height` and `in_width`."""
    if len(shape) == 3:
        return {"in_channels": shape[0], "in_height": shape[1], "in_width": shape[2]}
    return {"in_channels": shape[0]}


def _names_read(hyper: dict[str, Any]) -> frozenset[str] | tuple[str, ...] | None:
    """The names the expressions among these hyper-parameters read, sorted; `_STATIC` where there is
    no expression (no string or list), None where one does not parse (its error comes when evaluated)."""
    texts: list[str] = []
    stack = [v for v in hyper.values() if isinstance(v, str | list)]
    if not stack:
        return _STATIC
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            texts.append(value)
        elif isinstance(value, list):
            stack.extend(value)
    names: set[str] = set()
    for text in texts:
        found = names_read(text)
        if found is None:
            return None
        names |= found
    return tuple(sorted(names))


_PAIR_WRITTEN_AS_PRODUCT = re.compile(r"\s*(\d+)\s*[x×X]\s*(\d+)\s*")


def _resolved(node: Node, key: str, value: Any, names) -> Any:
    """A hyper-parameter's value with its expressions evaluated; an error names the key (and its line)
    and reads `5x5` as the pair it most likely means."""
    try:
        return resolve_value(value, names)
    except ArchcalcError as exc:
        pair = _PAIR_WRITTEN_AS_PRODUCT.fullmatch(value) if isinstance(value, str) else None
        exc.message = f"{key}: " + (f"{value!r} is not a number; write a pair as [{pair[1]}, {pair[2]}]" if pair
                                     else exc.message)
        raise exc.located(where=node.line_of(key)) from None


