"""The network `to_torch` returns: the modules of the PyTorch export, built directly from its layer tree
(`torch_tree`) with each layer's call run as Python (`layers.torch_code`): no generated text
is executed. Imported only with torch.

Blocks written as classes in the export are `Block`s here, of a class of the same name; inline
blocks, repeats of blocks and repeats of plain layers are `nn.Sequential`s, other repeated layers
`nn.ModuleList`s run in a loop, exactly as the export's forward runs them, so that the modules,
their names and the calls PyTorch sees are the export's.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ..layers.torch_code import Bound
from .export_torch import Source
from .torch_tree import Container, Leaf, module_names


def network(source: Source, input_path: str, output_path: str) -> nn.Module:
    """The export's network as modules; `forward(x, return_intermediates=True)` also returns every
    layer's output by path."""
    top = _Builder(source.classes).block(source.tree, Network)
    modules = module_names(source.tree)
    walk = [(leaf.path, leaf.call, modules[leaf.path], leaf.inputs) for leaf in source.tree.leaves()]
    _hold(top, "_archcalc_walk", walk)
    _hold(top, "_archcalc_ends", (input_path, output_path))
    return top


def _hold(module: nn.Module, name: str, value: Any) -> None:
    """Keep `value` as a plain attribute of `module`, whatever submodules it has (one may be so named)."""
    object.__setattr__(module, name, value)


class Block(nn.Module):
    """A block instance (or the network): its layers and blocks as submodules, run as the export runs them.
    Each step: (kind, call(s), suffix → submodule name, input paths, output path, paths read no more)."""

    _archcalc_inputs: list[str]
    _archcalc_output: str
    _archcalc_results: dict[str, str]
    _archcalc_steps: list[tuple[str, Any, dict[str, str], tuple[str, ...], str, tuple[str, ...]]]

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        values = dict(zip(self._archcalc_inputs, inputs))
        for kind, call, modules, sources, output, dead in self._archcalc_steps:
            ins = [values[src] for src in sources]
            if kind == "call":
                values[output] = call.run(Bound({s: self._modules[m] for s, m in modules.items()}, ins))
            elif kind == "loop":
                lists = {s: self._modules[m] for s, m in modules.items()}
                value = ins[0]
                for k, each in enumerate(call):
                    value = each.run(Bound({s: found[k] for s, found in lists.items()}, [value]))
                values[output] = value
            else:
                values[output] = self._modules[modules[""]](*ins)
            for name in dead:
                values.pop(name, None)
        if self._archcalc_results:
            return {name: values[path] for name, path in self._archcalc_results.items()}
        return values[self._archcalc_output]


class Network(Block):
    """The network: `forward(x, return_intermediates=True)` gives (output, {layer path: output})."""

    def forward(self, x: torch.Tensor, return_intermediates: bool = False) -> Any:  # type: ignore[override]
        if not return_intermediates:
            return super().forward(x)
        input_path, output_path = self._archcalc_ends
        values = {input_path: x}
        for path, call, modules, inputs in self._archcalc_walk:
            found = {suffix: _submodule(self, names) for suffix, names in modules.items()}
            values[path] = call.run(Bound(found, [values[src] for src in inputs]))
        return values[output_path], values


def _submodule(module: nn.Module, names: tuple[str, ...]) -> nn.Module:
    for name in names:
        module = module._modules[name]  # type: ignore[assignment]
    return module


class _Builder:
    """Builds the modules of one network; a block class of the export is one class here."""

    def __init__(self, classes: dict[str, str]):
        self.classes = classes
        self.made: dict[str, type[Block]] = {}

    def block(self, node: Container, base: type[Block] = Block) -> Block:
        """The module of a block written as a class (`classes[path]`), its children built in."""
        name = self.classes[node.path]
        if name not in self.made:
            self.made[name] = type(name, (base,), {"__doc__": base.__doc__})
        block = self.made[name]()
        last = {src: k for k, child in enumerate(node.children) for src in child.inputs}
        steps = []
        for k, child in enumerate(node.children):
            dead = tuple(dict.fromkeys(src for src in child.inputs if last[src] == k and src != node.output
                                       and src not in node.results.values()))
            if isinstance(child, Leaf):
                names = _names(node, child.name, child)
                for suffix, attr in names.items():
                    block._modules[attr] = _leaf_module(child, suffix)
                steps.append(("call", child.call, names, tuple(child.inputs), child.output, dead))
            elif child.repeat and not all(isinstance(c, Container) for c in child.children) and not all(
                    leaf.plain for leaf in child.children):
                leaves: list[Leaf] = child.children  # type: ignore[assignment]
                names = _names(node, child.name, leaves[0])
                for suffix, attr in names.items():
                    block._modules[attr] = nn.ModuleList(_leaf_module(leaf, suffix) for leaf in leaves)
                steps.append(("loop", tuple(leaf.call for leaf in leaves), names, tuple(child.inputs),
                              child.output, dead))
            else:
                block._modules[node.attribute(child.name)] = self.container(child)
                steps.append(("module", None, {"": node.attribute(child.name)}, tuple(child.inputs), child.output,
                              dead))
        _hold(block, "_archcalc_inputs", list(node.inputs))
        _hold(block, "_archcalc_output", node.output)
        _hold(block, "_archcalc_results", node.results)
        _hold(block, "_archcalc_steps", steps)
        return block

    def container(self, node: Container) -> nn.Module:
        """A block as its class, or an inline block or a repeat as an `nn.Sequential`."""
        if node.path in self.classes:
            return self.block(node)
        return nn.Sequential(*(_leaf_module(child, "") if isinstance(child, Leaf) else self.container(child)
                               for child in node.children))


def _names(node: Container, name: str, leaf: Leaf) -> dict[str, str]:
    """Suffix → the submodule of `node` holding the module(s) of its child `name` run as `leaf` is."""
    names = {"": node.attribute(name)} if leaf.uses_module else {}
    return names | {suffix: node.attribute(name, suffix) for suffix in leaf.torch.extras}


def _leaf_module(leaf: Leaf, suffix: str) -> nn.Module:
    """A layer's module (`suffix` ""), set up as its statements say, or one of its further modules."""
    if suffix:
        return leaf.torch.extras[suffix]
    module = leaf.torch.module
    for statement in leaf.torch.setup:
        statement.run(Bound({"": module}, []))
    return module
