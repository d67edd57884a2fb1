"""`archcalc export --to pytorch`: an architecture as readable PyTorch source (torch imported lazily).

Written from the layer tree (`torch_tree`): one class per block type, whose numbers that differ
between the block's uses become constructor arguments (named after the block's own arguments or
the input channels where they match); a repeat of blocks is an `nn.Sequential`, a repeat of layers
an `nn.Sequential` or `nn.ModuleList`s run in a loop; every layer is an attribute named after it.
The forward reuses a variable once nothing reads it any more (`out = self.bn1(out)`), so it reads
as a person writes it.

Names from the file never become code: a layer's attribute is `self.name` only for a plain ASCII
identifier (else its name is a quoted string), variables, arguments and classes are ASCII words made
from the names (never a keyword or a name the code reads), and titles and names in comments and
docstrings are one printable line that cannot end them. `check_source` holds the finished text to
that. `archcalc.to_torch` builds the same modules from the same tree without running this text.
"""

from __future__ import annotations

import ast
import inspect
import keyword
import re
import textwrap
import unicodedata
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch import nn

from ..analysis import Report
from ..errors import ExportError, printable
from ..layers.torch_code import Bound, literal
from .torch_source_check import check_source
from .torch_tree import (
    Container,
    Leaf,
    build,
    identifier,
    module_attribute,
    module_names,
    module_source,
    own_class,
    ties,
    without_defaults,
)

_WIDTH = 110
#: Module-level names of the source, and names its functions read: never a variable, argument or class.
_READ = frozenset({"self", "torch", "nn", "F", "super", "range", "zip", "getattr", "float", "layer", "_"})


@dataclass
class Source:
    """The exported source and its top class name; the layer tree it was written from, and the class
    of each block written as one (by container path, "" for the network)."""

    text: str
    class_name: str
    tree: Container
    classes: dict[str, str]


def torch_source(report: Report) -> Source:
    """The PyTorch source of `report`'s architecture (at its input size)."""
    tree = build(report)
    writer = _Writer(report)
    text = writer.write(tree)
    check_source(text)
    return Source(text, writer.top_name, tree, writer.class_of)


def _module_reference(names: tuple[str, ...]) -> str:
    """`self.layer1[0]._modules['a-b']`: the submodule these names lead to (`module_names`)."""
    return "self" + "".join(f"[{name}]" if name.isdigit() else f".{name}" if identifier(name)
                            else f"._modules[{name!r}]" for name in names)


def _ascii(name: str) -> str:
    """`name` in ASCII letters and digits, accents dropped (`é` → `e`), anything else `_`."""
    plain = (ch for ch in unicodedata.normalize("NFKD", name) if not unicodedata.combining(ch))
    return "".join(ch if ch.isascii() and ch.isalnum() else "_" for ch in plain)


def _camel(name: str) -> str:
    words = _ascii(name).replace("_", " ").split()
    text = "".join(word[:1].upper() + word[1:] for word in words) or "Block"
    return text if text[0].isalpha() else f"Net{text}"


def _ref(attr: str) -> str:
    if identifier(attr):
        return f"self.{attr}"
    return f"self._modules[{attr!r}]" if module_attribute(attr) else f"getattr(self, {attr!r})"


def _assign(attr: str, value: str) -> str:
    if identifier(attr):
        return f"self.{attr} = {value}"
    return f"self._modules[{attr!r}] = {value}" if module_attribute(attr) else f"self.add_module({attr!r}, {value})"


def _variable(name: str, taken: set[str] | frozenset[str] = frozenset()) -> str:
    """A variable or argument named after `name`: an ASCII identifier that is no keyword, no name the
    code reads and none of `taken` (`_` appended until it is free)."""
    text = _ascii(name)
    if not text.strip("_") or text[0].isdigit() or text.startswith("__"):
        text = f"v{text}" if text.startswith("_") else f"v_{text}"
    while keyword.iskeyword(text) or text in _READ or text in taken:
        text += "_"
    return text


def _comment(text: str) -> str:
    """`text` for a `#` comment: one printable line that never declares the file's encoding."""
    return re.sub(r"coding([:=])", r"coding \1", printable(" ".join(text.split())))


def _docstring(text: str) -> str:
    """`text` as a docstring: in triple quotes where it holds no quote or backslash, else quoted by `repr`."""
    text = " ".join(text.split())
    return f'"""{text}"""' if text.isprintable() and '"' not in text and "\\" not in text else repr(text)


def _sequence(items: list[str]) -> list[str]:
    """Runs of equal constructors as `*[... for _ in range(n)]`."""
    result: list[str] = []
    k = 0
    while k < len(items):
        n = 1
        while k + n < len(items) and items[k + n] == items[k]:
            n += 1
        result.append(items[k] if n == 1 else f"*[{items[k]} for _ in range({n})]")
        k += n
    return result


@dataclass
class _Instance:
    node: Container
    init: list[str]
    forward: list[str]
    arguments: list[str]


class _Writer:
    def __init__(self, report: Report):
        self.report = report
        self.ctor: dict[str, str] = {}  # block instance path -> constructor source
        self.classes: list[str] = []
        self.names: set[str] = set()
        self.block_of: dict[str, str] = {}  # class name -> block name
        self.defaults: dict[str, dict[str, Any]] = {}  # class name -> its arguments' defaults
        self.class_of: dict[str, str] = {}  # container path -> the class written for it
        self.top_name = ""

    # --- the whole file ----------------------------------------------------------------------
    def write(self, top: Container) -> str:
        own = list(dict.fromkeys(cls for cls in (type(leaf.torch.module) for leaf in top.leaves()) if own_class(cls)))
        self.names.update(cls.__name__ for cls in own)
        blocks = [node for node in _containers(top) if node is not top and not node.repeat]
        for height in sorted({_height(node) for node in blocks}):
            level = [node for node in blocks if _height(node) == height and not self.inline(node)]
            for block in dict.fromkeys(node.block for node in level):
                self.write_block([node for node in level if node.block == block])
        self.top_name = self.unique(_camel(self.report.architecture.name))
        self.names.add(self.top_name)
        self.class_of[""] = self.top_name
        network = self.instance(top)
        network.init += self.freezing(top) + self.sharing(top)
        self.classes.append(self.class_source(self.top_name, [], network.init, network.forward, network.arguments))
        body = "\n\n\n".join([*(inspect.getsource(cls).strip() for cls in own), *self.classes])
        imports = ["import torch"] if "torch." in body else []
        imports += ["import torch.nn.functional as F"] if "F." in body else []
        imports += ["from torch import nn"]
        return "\n".join(self.header(top) + [""] + imports + ["", "", ""]) + body + "\n"

    def header(self, top: Container) -> list[str]:
        report, totals = self.report, self.report.totals
        arch = report.architecture
        source = arch.source if not Path(arch.source).is_absolute() else Path(arch.source).name
        shape = "×".join(map(str, report.input_shape))
        lines = textwrap.wrap(_comment(arch.title), _WIDTH) + [
            f"PyTorch code written by `archcalc export` from {_comment(source)}.",
            f"Input {shape}: {totals.params:,} parameters ({totals.trainable_params:,} trainable),",
            f"{totals.macs:,} multiply-accumulates per sample. `{self.top_name}()` builds it; its",
            "state_dict keys are archcalc's weight names with '/' written '.'."]
        renamed = [(child.path, node.attribute(child.name)) for node in _containers(top) for child in node.children
                   if node.attribute(child.name) != child.name]
        if renamed:
            shown = ", ".join(f"{path} is {attr}" for path, attr in renamed[:3]) + (", ..." if renamed[3:] else "")
            note = f"A layer named as nn.Module's own state is named with '_' added: {shown}."
            lines += textwrap.wrap(_comment(note), _WIDTH)
        return [f"# {line}" for line in lines]

    def freezing(self, top: Container) -> list[str]:
        """`self.layer1.requires_grad_(False)` for the frozen layers: per frozen layer, the outermost
        module above it (or its own) that holds no trained parameter."""
        modules = module_names(top)
        trained, frozen = set(), []
        for record in self.report.layers:
            path = modules.get(record.name, {}).get("")
            if path is not None and record.trainable_params:
                trained.update(path[:k] for k in range(1, len(path) + 1))
            elif path is not None and record.frozen_params:
                frozen.append(path)
        statements: list[str] = []
        for path in frozen:
            shortest = path[:next(k for k in range(1, len(path) + 1) if path[:k] not in trained)]
            reference = "self" + "".join(f"[{part}]" if part.isdigit() else f".{part}" for part in shortest)
            statement = f"{reference}.requires_grad_(False)"
            if statement not in statements:
                statements.append(statement)
        return statements

    def sharing(self, top: Container) -> list[str]:
        """`self.head_p4.conv.weight = self.head_p3.conv.weight` for each tensor of a layer that `shares:`."""
        return [f"{_module_reference(sharer)}.{name} = {_module_reference(owner)}.{name}"
                for sharer, owner, names in ties(self.report, top) for name in names]

    def unique(self, name: str) -> str:
        found, k = name, 2
        while found in self.names or found in _READ or keyword.iskeyword(found):
            found, k = f"{name}{k}", k + 1
        return found

    # --- blocks ------------------------------------------------------------------------------
    def inline(self, node: Container) -> bool:
        """A block of numbered plain layers and blocks in a chain is an `nn.Sequential`, not a class."""
        if node.chained and node.numbered and all(
                c.plain if isinstance(c, Leaf) else not c.repeat for c in node.children):
            self.ctor[node.path] = "nn.Sequential(" + ", ".join(
                module_source(c.torch.module) if isinstance(c, Leaf) else self.ctor[c.path]
                for c in node.children) + ")"
            return True
        return False

    def write_block(self, nodes: list[Container]) -> None:
        """One class for each shape of the block's instances; the numbers that differ are arguments."""
        variants: dict[tuple, list[_Instance]] = {}
        for node in nodes:
            instance = self.instance(node)
            key = (tuple(ast.dump(_blank(statement)) for statement in instance.init), tuple(instance.forward),
                   tuple(instance.arguments))
            variants.setdefault(key, []).append(instance)
        for instances in variants.values():
            name = self.unique(_camel(instances[0].node.block))
            self.names.add(name)
            self.block_of[name] = instances[0].node.block
            params, init, calls = _parametrise(instances, self.names)
            self.classes.append(self.class_source(name, params, init, instances[0].forward, instances[0].arguments))
            self.defaults[name] = {p: default for p, default in params if default is not _REQUIRED}
            for instance, call in zip(instances, calls):
                self.ctor[instance.node.path] = f"{name}({call})"
                self.class_of[instance.node.path] = name

    def class_source(self, name: str, params: list[tuple[str, Any]], init: list[str], forward: list[str],
                     arguments: list[str]) -> str:
        signature = "".join(f", {p}" if default is _REQUIRED else f", {p}={literal(default)}" for p, default in params)
        title = " ".join(self.report.architecture.title.replace("\\", "/").replace('"', "'").split())
        doc = f"{title}, as archcalc analyzes it." if name == self.top_name else \
            f"The `{self.block_of[name]}` block of {title}."
        lines = [f"class {name}(nn.Module):", f"    {_docstring(doc)}", "",
                 f"    def __init__(self{signature}):", "        super().__init__()"]
        init = [ast.unparse(without_defaults(ast.parse(statement), self.defaults)) for statement in init]
        lines += [f"        {line}" for statement in init for line in _wrap(statement).splitlines()]
        lines += ["", f"    def forward(self, {', '.join(arguments)}):"]
        lines += [f"        {line}" for line in forward]
        return "\n".join(lines)

    # --- one container's body ----------------------------------------------------------------
    def instance(self, node: Container) -> _Instance:
        init: list[str] = []
        for child in node.children:
            if isinstance(child, Leaf):
                init += self.leaf_init(node, child.name, [child])
            elif not child.repeat:
                init.append(_assign(node.attribute(child.name), self.ctor[child.path]))
            elif all(isinstance(c, Container) for c in child.children):
                if not (child.chained and child.numbered):
                    raise ExportError("a repeat whose copies are not a chain", layer=child.path)
                items = _sequence([self.ctor[c.path] for c in child.children])
                init.append(_assign(node.attribute(child.name), f"nn.Sequential({', '.join(items)})"))
            else:
                init += self.leaf_init(node, child.name, child.children, repeat=True)
        arguments, forward = self.forward(node)
        return _Instance(node, init, forward, arguments)

    def leaf_init(self, node: Container, name: str, leaves: list[Leaf], repeat: bool = False) -> list[str]:
        """The statements building `node`'s layer `name`, or (`repeat`) the layers of its repeat `name`."""
        first, attr = leaves[0], node.attribute(name)
        if repeat and all(leaf.plain for leaf in leaves):
            items = _sequence([module_source(leaf.torch.module) for leaf in leaves])
            return [_assign(attr, f"nn.Sequential({', '.join(items)})")]
        if repeat and any((leaf.uses_module, sorted(leaf.torch.extras)) != (first.uses_module,
                                                                            sorted(first.torch.extras))
                          for leaf in leaves):
            raise ExportError("the copies of a repeated layer run differently in PyTorch", layer=first.path)
        statements = []
        suffixes = ([""] if first.uses_module else []) + list(first.torch.extras)
        for suffix in suffixes:
            modules = [leaf.torch.extras[suffix] if suffix else leaf.torch.module for leaf in leaves]
            sources = [module_source(module) for module in modules]
            items = _sequence(sources)
            listed = items[0][1:] if len(items) == 1 and items[0].startswith("*") else f"[{', '.join(items)}]"
            value = f"nn.ModuleList({listed})" if repeat else sources[0]
            statements.append(_assign(node.attribute(name, suffix), value))
        if not repeat:
            names = Bound({"": _ref(attr)}, [])
            statements += [statement.source(names) for statement in first.torch.setup]
        elif first.torch.setup:
            raise ExportError("a repeated layer that needs set-up statements", layer=first.path)
        return statements

    def forward(self, node: Container) -> tuple[list[str], list[str]]:
        """The forward's arguments and body: each value in a variable, reused once nothing reads it."""
        variable: dict[str, str] = {}
        arguments: list[str] = []
        for k, path in enumerate(node.inputs):
            name = "x" if k == 0 else _variable(path.rpartition("/")[2], {*arguments, "x"})
            variable[path] = name
            arguments.append(name)
        last = {}
        for k, child in enumerate(node.children):
            for src in child.inputs:
                last[src] = k
        for path in (node.output, *node.results.values()):
            last[path] = len(node.children)
        live = dict.fromkeys(arguments)
        lines: list[str] = []
        for k, child in enumerate(node.children):
            ins = [variable[src] for src in child.inputs]
            dead = [variable[src] for src in child.inputs if last[src] == k]
            for name in dead:
                live.pop(name, None)
            target = dead[0] if dead else "out" if "out" not in live else None
            if target is None:
                target = _variable(child.name, {*live, *arguments})
            live[target] = None
            variable[child.output] = target
            lines += self.child_lines(node, child, ins, target, set(live))
        returned = "{" + ", ".join(f"{literal(name)}: {variable[path]}" for name, path in node.results.items()) + "}" \
            if node.results else variable[node.output]
        return arguments, lines + [f"return {returned}"]

    def child_lines(self, node: Container, child: Leaf | Container, ins: list[str], target: str,
                    live: set[str]) -> list[str]:
        """The lines computing `child` of `node` into `target` (a loop's variables none of `live`)."""
        if isinstance(child, Leaf):
            extra = {suffix: _ref(node.attribute(child.name, suffix)) for suffix in child.torch.extras}
            return [f"{target} = {_format(child, _ref(node.attribute(child.name)), extra, ins)}"]
        if not child.repeat or all(isinstance(c, Container) for c in child.children) or all(
                leaf.plain for leaf in child.children):
            return [f"{target} = {_ref(node.attribute(child.name))}({', '.join(ins)})"]
        leaves: list[Leaf] = child.children  # type: ignore[assignment]
        lines = [] if target == ins[0] else [f"{target} = {ins[0]}"]
        first = leaves[0]
        words = (["layer"] if first.uses_module else []) + list(first.torch.extras)
        loop = {}
        for word in words:
            name = word
            while name in live or name in loop.values():
                name += "_"
            loop[word] = name
        calls = {_format(leaf, loop.get("layer", ""), {s: loop[s] for s in leaf.torch.extras}, [target])
                 for leaf in leaves}
        lists = {word: _ref(node.attribute(child.name, "" if word == "layer" else word)) for word in words}
        if len(calls) == 1 and words:
            head = f"for {loop[words[0]]} in {lists[words[0]]}:" if len(words) == 1 else \
                f"for {', '.join(loop.values())} in zip({', '.join(lists.values())}):"
            return lines + [head, f"    {target} = {calls.pop()}"]
        for k, leaf in enumerate(leaves):
            extra = {s: f"{lists[s]}[{k}]" for s in leaf.torch.extras}
            lines.append(f"{target} = " + _format(leaf, f"{_ref(node.attribute(child.name))}[{k}]", extra, [target]))
        return lines


_REQUIRED = object()


def _format(leaf: Leaf, module: str, extras: dict[str, str], ins: list[str]) -> str:
    """The source of `leaf`'s call on the modules written `module` and `extras` (by suffix) and inputs `ins`."""
    return leaf.call.source(Bound({"": module, **extras}, ins))


def _containers(node: Container):
    for child in node.children:
        if isinstance(child, Container):
            yield from _containers(child)
    yield node


def _height(node: Container) -> int:
    return 1 + max((_height(child) for child in node.children if isinstance(child, Container)), default=0)


def _blank(statement: str) -> ast.AST:
    """The statement with every literal blanked: instances alike up to their numbers compare equal."""
    tree = ast.parse(statement)
    for found in ast.walk(tree):
        if isinstance(found, ast.Constant):
            found.value = None
    return tree


def _wrap(statement: str) -> str:
    """A long `self.x = f(a, b, ...)` one argument (or list item) per line, as deep as needed (at the
    class body's indentation of 8)."""
    if len(statement) + 8 <= _WIDTH:
        return statement
    tree = ast.parse(statement).body[0]
    if not isinstance(tree, ast.Assign):
        return statement
    head = f"{ast.unparse(tree.targets[0])} = "
    return head + _spread(tree.value, 8, len(head))


def _spread(node: ast.expr, indent: int, used: int) -> str:
    text = ast.unparse(node)
    if indent + used + len(text) <= _WIDTH or not isinstance(node, ast.Call | ast.List):
        return text
    if isinstance(node, ast.List):
        opening, closing, items = "[", "]", [(None, item) for item in node.elts]
    else:
        opening, closing = f"{ast.unparse(node.func)}(", ")"
        items = [(None, a) for a in node.args] + [(k.arg, k.value) for k in node.keywords]
    inner = indent + 4
    lines = []
    for key, item in items:
        prefix = f"{key}=" if key else ""
        lines.append(" " * 4 + prefix + _spread(item, inner, len(prefix)).replace("\n", "\n    ") + ",\n")
    return opening + "\n" + "".join(lines) + closing


def _parametrise(instances: list[_Instance], taken: set[str]) -> tuple[list[tuple[str, Any]], list[str], list[str]]:
    """The class's parameters (name, default; none of `taken`), its `__init__` statements with the
    differing numbers replaced by them, and each instance's constructor arguments."""
    trees = [[ast.parse(statement) for statement in instance.init] for instance in instances]
    constants = [[c for tree in statements for c in ast.walk(tree) if isinstance(c, ast.Constant)]
                 for statements in trees]
    slots: dict[tuple, list[int]] = {}
    for index in range(len(constants[0])):
        vector = tuple((type(c[index].value), c[index].value) for c in constants)
        if len(set(vector)) > 1:
            slots.setdefault(vector, []).append(index)
    candidates = {"in_channels": tuple((int, i.node.in_channels) for i in instances)}
    for arg in instances[0].node.args:
        values = [i.node.args.get(arg) for i in instances]
        if all(isinstance(v, int | float | str) for v in values):
            candidates.setdefault(_variable(arg, taken), tuple((type(v), v) for v in values))
    parents = {child: parent for tree in trees[0] for parent in ast.walk(tree)
               for child in ast.iter_child_nodes(parent)}
    params: dict[str, tuple] = {}
    for vector, indices in slots.items():
        name, factor = _name(vector, candidates, constants[0][indices[0]], parents, taken)
        while name in params and params[name] != candidates.get(name, vector):
            name += "_"
        params[name] = candidates.get(name, vector) if factor else vector
        for index in indices:
            node = constants[0][index]
            replacement: ast.expr = ast.Name(name)
            if factor and factor != 1:
                replacement = ast.BinOp(ast.Name(name), ast.Mult(), ast.Constant(factor))
            parent = parents[node]
            for field_name, value in ast.iter_fields(parent):
                if value is node:
                    setattr(parent, field_name, replacement)
                elif isinstance(value, list):
                    setattr(parent, field_name, [replacement if v is node else v for v in value])
    order = [name for name in candidates if name in params] + [name for name in params if name not in candidates]
    signature: list[tuple[str, Any]] = []
    for name in order:
        values = [value for _, value in params[name]]
        common, count = Counter(values).most_common(1)[0]
        signature.append((name, common if name != "in_channels" and count * 2 > len(values) else _REQUIRED))
    signature.sort(key=lambda item: item[1] is not _REQUIRED)
    calls = []
    for k in range(len(instances)):
        words = []
        for name, default in signature:
            value = params[name][k][1]
            if default is _REQUIRED:
                words.append(literal(value))
            else:
                words.append(f"{name}={literal(value)}")
        calls.append(", ".join(words))
    return signature, [ast.unparse(tree) for tree in trees[0]], calls


def _name(vector: tuple, candidates: dict[str, tuple], node: ast.Constant, parents: dict,
          taken: set[str]) -> tuple[str, int]:
    """The parameter standing for a differing number: a candidate (factor 1), a multiple of one
    (factor k), or a name made from where it sits (factor 0): `conv1_stride`."""
    for name, values in candidates.items():
        if values == vector:
            return name, 1
    for name, values in candidates.items():
        numbers = [v for _, v in values]
        mine = [v for _, v in vector]
        if all(type(v) is int for v in numbers + mine) and all(numbers) and all(m % n == 0 for m, n in
                                                                                 zip(mine, numbers)):
            ratios = {m // n for m, n in zip(mine, numbers)}
            if len(ratios) == 1:
                return name, ratios.pop()
    return _place(node, parents, taken), 0


def _place(node: ast.AST, parents: dict, taken: set[str]) -> str:
    """`<attribute>_<argument>` of a literal in a constructor call."""
    word, child, parent = "value", node, parents.get(node)
    while parent is not None and not isinstance(parent, ast.Assign | ast.Expr):
        if isinstance(parent, ast.keyword):
            word = parent.arg or word
            break
        if isinstance(parent, ast.Call) and child in parent.args:
            word = _positional(parent, parent.args.index(child))
            break
        child, parent = parent, parents.get(parent)
    while parent is not None and not isinstance(parent, ast.Assign):
        parent = parents.get(parent)
    target = parent.targets[0] if isinstance(parent, ast.Assign) else None
    owner = target.attr if isinstance(target, ast.Attribute) else "arg"
    return _variable(f"{owner}_{word}", taken)


def _positional(call: ast.Call, index: int) -> str:
    """The name of positional argument `index` of an `nn.<Module>` call."""
    func = call.func
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "nn":
        cls = getattr(nn, func.attr, None)
        if cls is not None:
            names = list(inspect.signature(cls.__init__).parameters)[1:]
            if index < len(names):
                return names[index]
    return f"arg{index}"
