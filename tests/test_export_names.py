"""The PyTorch export for every name a file may hold: names that are Python words, `nn.Module`'s own
attributes, quotes that would end a docstring, backslashes, line breaks, other scripts, leading
digits, and names carrying code. Each exported file runs (in a fresh namespace), builds, and computes
what archcalc's executor computes (float64), as does `to_torch`; code in a name never runs.
"""

from __future__ import annotations

import ast
import random
from pathlib import Path

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

import archcalc
from archcalc.cli import main
from tests.graphgen import random_graph

torch = pytest.importorskip("torch")

from archcalc.interop.export_torch import torch_source  # noqa: E402
from archcalc.interop.torch_source_check import check_source  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")

#: Names that are Python words or names the generated code reads, nn.Module's attributes and state,
#: text that ends strings and comments, other scripts (NFKC would fold `ﬁlter` into `filter`).
NAMES = [
    "forward", "training", "eval", "cuda", "_modules", "_parameters", "__init__", "__class__", "__dict__", "__foo",
    "type", "super", "self", "x", "F", "nn", "torch", "layer", "relu", "out", "range", "zip", "getattr", "float",
    "_", "None", "True", "if", "class", "lambda", "T_destination", "dump_patches", "add_module", "state_dict",
    'a"""b', "a'''b", 'ends"', "ends'", "back\\slash", "\\", "new\nline", "cr\rreturn", "tab\tname", "nul\x00",
    "sep\u2028line", "zero\u200bwidth", "层1", "résumé", "ﬁlter", "x²", "Ω", "1conv", "0", "-", "a b",
    "coding: utf-7", "# -*- coding: latin-1 -*-", "_archcalc_steps", "_archcalc_walk",
]


def plain_payload(trap) -> str:
    """A Python expression creating the canary file, without '/' or '.' (a layer name holds neither)."""
    return f"print('ran', file=open(str(bytes({list(str(trap).encode())}), 'ascii'), 'w'))"


def carrying(payload: str) -> list[str]:
    """Names that would run `payload` if written raw into a docstring, a string or a comment."""
    return [f'x""" if {payload} else """', f"x''' if {payload} else '''", f"x' if {payload} else '",
            f"x\n{payload}\n", f"x\r{payload}\r", f"\\\n{payload}", f"x\"); {payload}; (\"",
            f"+AAo-{payload}+AAo-"]


def network_named(name: str, argument: str = "width", title: str | None = None, sibling: str = "_relu") -> dict:
    """A network in which `name` names everything the export writes: the network, a layer with a
    fused activation and a sibling (named as its activation module), a block used twice with different
    numbers (`argument` becomes a constructor argument), a block's second input, a repeated layer run
    in a loop, and the inputs of a concatenation."""
    block = {"args": {argument: 4}, "layers": [
        {"name": name, "type": "conv", "out_channels": argument, "kernel_size": 3, "padding": 1, "activation": "relu"},
        {"name": f"{name}{sibling}", "type": "conv", "out_channels": 4, "kernel_size": 1},
        {"name": f"{name}+", "type": "add", "from": [f"{name}{sibling}", "input"]}]}
    return {"name": name, "title": name if title is None else title, "input": [3, 6, 6], "blocks": {name: block},
            "layers": [
                {"name": name, "type": "conv", "out_channels": 4, "kernel_size": 3, "padding": 1,
                 "activation": "relu"},
                {"name": f"{name}1", "type": name, argument: 4},
                {"name": f"{name}2", "type": name, argument: 6},
                {"name": f"{name}r", "type": "conv", "out_channels": 4, "kernel_size": 3, "padding": 1,
                 "activation": "tanh", "repeat": 2},
                {"name": f"{name}c", "type": "concat", "from": [name, f"{name}r"]},
                {"name": f"{name}p", "type": "globalavgpool"}]}


def run_export(report, seed: int = 0) -> None:
    """Run the exported source in a fresh namespace; its network, `to_torch`'s (readable forward and
    every layer's output) and `execute` agree in float64 on the same weights."""
    source = torch_source(report)
    namespace: dict = {}
    exec(compile(source.text, "<export>", "exec"), namespace)  # the exported file, as `python net.py` runs it
    weights = archcalc.init_weights(report, seed=seed, random_stats=True)
    built = archcalc.to_torch(report.architecture, weights, dtype="float64")
    exported = namespace[source.class_name]().double().eval()
    exported.load_state_dict(built.state_dict())  # strict: the same modules under the same names
    x = np.random.default_rng(seed).normal(size=(2, *report.input_shape))
    expected = archcalc.execute(report.architecture, x, weights, dtype="float64")
    with torch.no_grad():
        ours, every = built(torch.from_numpy(x), return_intermediates=True)
        for value in (exported(torch.from_numpy(x)), built(torch.from_numpy(x)), ours):
            np.testing.assert_allclose(value.numpy(), expected, rtol=1e-9, atol=1e-9)
    assert set(every) == {record.name for record in report.layers}
    back = archcalc.load_weights(report, built)  # its weights load back into archcalc by name or order
    assert all(np.array_equal(back[key], weights[key]) for key in weights)


def argument_for(name: str) -> str:
    """`name` as a block argument where a file may have it so, else `width`."""
    try:
        archcalc.analyze(network_named("n", name))
    except archcalc.ArchcalcError:
        return "width"
    return name


@pytest.mark.parametrize("name", NAMES, ids=[ascii(n) for n in NAMES])
def test_every_name_exports_to_source_that_runs_and_computes_what_execute_does(name):
    run_export(archcalc.analyze(network_named(name, argument_for(name))))


@pytest.mark.parametrize("name", ["self", "x", "F", "nn", "torch", "super", "range", "layer", "_", "forward",
                                  "None_", "Width", "Block", "__init__", "层"])
def test_every_block_argument_name_becomes_a_constructor_argument_that_runs(name):
    report = archcalc.analyze(network_named("block", name))
    assert "def __init__(self, " in torch_source(report).text
    run_export(report)


def test_ordinary_names_keep_their_state_dict_keys_and_state_names_get_an_underscore():
    report = archcalc.analyze(network_named("forward", title="T"))
    keys = set(archcalc.to_torch(report.architecture).state_dict())
    assert {"forward.weight", "forward1.forward.weight", "forwardr.0.weight"} <= keys
    report = archcalc.analyze(network_named("training", title="T"))
    text = torch_source(report).text
    assert "self.training_ = nn.Conv2d(" in text and "training is training_" in text
    assert "training_.weight" in archcalc.to_torch(report.architecture).state_dict()


@pytest.mark.parametrize("seed", range(24))
def test_random_graphs_with_hostile_names_export_and_run(seed):
    mapping = random_graph(seed)
    rng = random.Random(seed)
    names = rng.sample(NAMES, len(mapping["layers"])) if len(NAMES) >= len(mapping["layers"]) else NAMES
    renamed = {layer["name"]: f"{new}{k}" for k, (layer, new) in enumerate(zip(mapping["layers"], names))}
    for layer in mapping["layers"]:
        layer["name"] = renamed[layer["name"]]
        if "from" in layer:
            sources = layer["from"] if isinstance(layer["from"], list) else [layer["from"]]
            layer["from"] = [renamed.get(src, src) for src in sources]
    mapping["name"] = names[0]
    run_export(archcalc.analyze(mapping), seed)


def test_code_in_a_name_title_or_file_name_never_runs(canaries, tmp_path, monkeypatch):
    monkeypatch.chdir(canaries.folder)
    payload = plain_payload(canaries.trap)
    short = "open(chr(46)*2+chr(47)+'executed.txt','w')"  # the trap, from the folder: fits in a file name
    written = []
    for k, name in enumerate(carrying(payload)):
        mapping = network_named(name, title=f"{name}\n{canaries.payload}\n# coding: utf-7\n+AAo-{payload}",
                                sibling="-1x1")
        mapping["blocks"] = {f"{name} {canaries.payload}": mapping["blocks"].pop(name)}
        for layer in mapping["layers"]:
            if layer.get("type") == name:
                layer["type"] = f"{name} {canaries.payload}"
        path = tmp_path / f"net{k}\n{short}\n.yaml"
        path.write_text(yaml.safe_dump(mapping, allow_unicode=True))
        out = tmp_path / f"net{k}.py"
        result = CliRunner().invoke(main, ["export", str(path), "--to", "pytorch", "-o", str(out)])
        assert result.exit_code == 0, result.output
        written.append(out)
        run_export(archcalc.analyze(str(path)))
        archcalc.to_torch(str(path))
    for out in written:
        exec(compile(out.read_text(), str(out), "exec"), {})
    canaries.assert_untouched(*(out.read_text() for out in written))


def test_a_name_with_a_dot_is_refused_in_one_line():
    mapping = {"name": "n", "input": [3, 6, 6], "layers": [{"name": "a.b", "type": "relu"}]}
    with pytest.raises(archcalc.ArchcalcError, match=r"a\.b: .*'\.'"):
        torch_source(archcalc.analyze(mapping))
    with pytest.raises(archcalc.ArchcalcError, match=r"a\.b: .*'\.'"):
        archcalc.to_torch(mapping)


def test_a_sum_of_more_inputs_than_one_expression_holds_is_refused_in_one_line():
    layers = [{"name": f"c{k}", "type": "relu", "from": "input"} for k in range(150)]
    mapping = {"name": "wide", "input": [1, 2, 2], "layers": [*layers, {"name": "sum", "type": "add",
                                                                          "from": [f"c{k}" for k in range(150)]}]}
    for build in (lambda: torch_source(archcalc.analyze(mapping)), lambda: archcalc.to_torch(mapping)):
        with pytest.raises(archcalc.ArchcalcError, match=r"sum: a sum of 150 inputs: PyTorch code is written for "
                                                         r"at most 100"):
            build()


def test_archcalc_calls_no_exec_eval_or_compile():
    root = Path(archcalc.__file__).parent
    found = [f"{path.relative_to(root)}:{node.lineno}" for path in root.rglob("*.py")
             for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.Call)
             and isinstance(node.func, ast.Name) and node.func.id in ("exec", "eval", "compile", "__import__")]
    assert not found


@pytest.mark.parametrize("line", [
    "import os", "from os import system", "__import__('os').system('x')", "open('x', 'w')", "eval('1')",
    "x = (lambda: 1)()", "x = self.__class__", "x = getattr(x, '__class__')", "x = getattr(torch, 'load')",
    "x = f'{self}'", "global y", "x = y", "x = breakpoint()", "x = [v for v in self.__dict__]",
])
def test_the_safety_check_refuses_what_archcalc_never_writes(line):
    text = torch_source(archcalc.analyze("lenet5")).text.replace("        x = self.C1(x)\n",
                                                                 f"        {line}\n        x = self.C1(x)\n")
    with pytest.raises(archcalc.ArchcalcError, match="safety check"):
        check_source(text)
    with pytest.raises(archcalc.ArchcalcError, match="safety check"):
        check_source(f"{line}\n" + torch_source(archcalc.analyze("lenet5")).text)
