"""The check that an imported file says what was imported: the mapping written (nested blocks, `repeat`,
`when`, `defaults`) analyses to the same layers as the flat graph read from the source, each layer by
its type, shapes, parameters and MACs, and to the same outputs, or the import fails in one line."""

from __future__ import annotations

from collections import Counter
from typing import Any

from ..errors import ArchcalcError, SpecError
from .imported import NETWORK_INPUT, ImportedGraph


def check_written(graph: ImportedGraph, mapping: dict[str, Any]) -> None:
    """Refuse `mapping` unless it analyses as `graph` does, layer for layer (in any order), in its totals
    and output for output. A graph that does not analyse itself is left to fail where the file is
    analysed, with the network's own reason."""
    from ..analysis import analyze

    flat = _flat_report(graph)
    if flat is None:
        return
    try:
        written = analyze(mapping)
    except ArchcalcError as exc:
        raise SpecError(f"the file written for the imported network does not load: {exc.message}",
                        file=graph.source) from None
    ours, theirs = _layers(written), _layers(flat)
    if ours != theirs:
        missing, extra = theirs - ours, ours - theirs
        what = f"lacks {_shown(missing)}" if missing else f"adds {_shown(extra)}"
        raise SpecError(f"the file written for the imported network {what}", file=graph.source)
    for what, numbers in (("totals", _totals), ("outputs", _outputs)):
        if numbers(written) != numbers(flat):
            raise SpecError(f"the file written for the imported network has the {what} {numbers(written)}, "
                            f"the network {numbers(flat)}", file=graph.source)


def _flat_report(graph: ImportedGraph) -> Any:
    """The analysis of `graph` written layer by layer (`l0`, `l1`, …), with no structure; None where it
    does not analyse."""
    from ..analysis import analyze

    def name(index: int) -> str:
        return "input" if index == NETWORK_INPUT else f"l{index}"

    layers = [{"name": name(k), "type": n.type, **n.params, "from": [name(i) for i in n.inputs]}
              for k, n in enumerate(graph.layers)]
    flat: dict[str, Any] = {"name": graph.name, "input": list(graph.input), "layers": layers}
    frozen = [name(k) for k, n in enumerate(graph.layers) if n.trainable is False]
    if frozen:
        flat["freeze"] = frozen
    if graph.outputs:
        flat["outputs"] = {key: name(index) for key, index in graph.outputs.items()}
    elif graph.output is not None:
        flat["output"] = name(graph.output)
    try:
        return analyze(flat)
    except ArchcalcError:
        return None


def _layers(report: Any) -> Counter:
    """Each layer (the input aside) as (type, input shapes, output shape, trainable and other
    parameters, MACs)."""
    from ..analysis import param_counts

    return Counter((r.type, r.input_shapes, r.output_shape, *_params(r, param_counts), r.macs)
                   for r in report.layers[1:])


def _params(record: Any, param_counts: Any) -> tuple[int, int]:
    weights, biases, statistics = param_counts(record.param_tensors)
    return weights + biases, statistics


def _totals(report: Any) -> tuple[int, ...]:
    totals = report.totals
    return totals.params, totals.trainable_params, totals.non_trainable_params, totals.macs, totals.flops


def _outputs(report: Any) -> list[tuple[str, tuple]]:
    """The type and shape of each output layer."""
    records = {r.name: r for r in report.layers}
    return [(records[path].type, records[path].output_shape) for path in report.architecture.output_paths]


def _shown(layers: Counter) -> str:
    (type_, inputs, output, params, statistics, macs), _ = sorted(layers.items(), key=repr)[0]
    count = sum(layers.values())
    more = f" (and {count - 1} other layer(s))" if count > 1 else ""
    return (f"a {type_} layer of {list(map(list, inputs))} → {list(output)}, {params:,} parameters, "
            f"{statistics:,} statistics, {macs:,} MACs{more}")
