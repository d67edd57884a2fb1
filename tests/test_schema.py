"""`archcalc schema`: the JSON Schema generated from the pydantic models, driven through the
`jsonschema` package as an editor (yaml-language-server) would use it."""

from __future__ import annotations

import json

import pytest
import yaml

from archcalc import zoo
from archcalc.layers import registered_types
from archcalc.spec.schema import json_schema

jsonschema = pytest.importorskip("jsonschema")


@pytest.fixture(scope="module")
def schema():
    return json_schema()


@pytest.fixture(scope="module")
def validator(schema):
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _file(*layers, **top):
    return {"name": "x", "input": [1, 8, 8], "layers": list(layers), **top}


def _zoo_files():
    return sorted(p for p in zoo.zoo_dir().iterdir() if p.suffix in (".yaml", ".yml", ".json"))


def test_the_top_level_and_the_layer_union(schema):
    assert schema["$schema"].endswith("2020-12/schema")
    assert {"name", "input", "layers", "blocks", "defaults", "args", "extends"} <= set(schema["properties"])
    assert schema["additionalProperties"] is False
    refs = [ref["$ref"] for ref in schema["properties"]["layers"]["items"]["oneOf"]]
    branches = [schema["$defs"][ref.rsplit("/", 1)[1]] for ref in refs]
    assert {b["title"] for b in branches} == {cls.type_name for cls in registered_types().values()} | {"block"}
    names = [n for b in branches if b["title"] != "block" for n in b["properties"]["type"]["enum"]]
    assert sorted(names) == sorted(registered_types())  # each type and alias in exactly one branch
    assert schema["$defs"]["BlockDef"]["properties"]["layers"]["items"] == schema["properties"]["layers"]["items"]


def test_a_layer_branch_carries_its_class_doc_for_hover(schema):
    conv_cls = registered_types()["conv"]
    conv = schema["$defs"][conv_cls.__name__]
    doc = conv_cls.__doc__.strip()
    assert conv["properties"]["type"] == {"enum": ["conv", "conv2d"], "title": "conv", "description": doc}
    assert conv["description"] == doc and conv["additionalProperties"] is False
    assert {"out_channels", "kernel_size", "from", "repeat", "when", "name"} <= set(conv["properties"])


@pytest.mark.parametrize("path", _zoo_files(), ids=lambda p: p.name)
def test_every_zoo_file_is_valid(validator, path):
    errors = [e.message for e in validator.iter_errors(yaml.safe_load(path.read_text()))]
    assert not errors, errors[:3]


@pytest.mark.parametrize("entry", [
    {"type": "covn", "out_channels": 3, "kernel_size": 3},  # swapped letters
    {"type": "Conv", "out_channels": 3, "kernel_size": 3},
    {"type": "maxpol", "kernel_size": 2},  # a letter left out
    {"type": "batchnorms"},  # one too many
    {"type": "conv", "out_chanels": 3, "kernel_size": 3},  # unknown key on a registered type
    {"type": "conv2d", "out_channels": 3, "kernel_size": 3, "colour": "red"},
    {"type": "conv", "out_channels": -1, "kernel_size": 3},
    {"type": "conv", "out_channels": 3, "kernel_size": [1, 2, 3]},
    {"type": "relu", "inplace": [1]},
    {"type": 3},
    {"out_channels": 3},
])
def test_bad_entries_fail(validator, entry):
    assert list(validator.iter_errors(_file(entry)))


@pytest.mark.parametrize("entry", [
    {"type": "fire", "squeeze": 16, "expand": 64},  # a block from `blocks`: any arguments
    {"type": "conv1", "width": 8},  # a digit is no misspelling
    {"type": "bn", "affine": False},  # short names are not checked for slips
    {"type": "conv", "out_channels": "2*width", "kernel_size": [3, "k"], "padding": "same", "from": ["a", "b"]},
])
def test_good_entries_pass(validator, entry):
    assert not list(validator.iter_errors(_file(entry)))


def test_a_file_that_extends_another_may_leave_out_input_and_layers(validator):
    assert not list(validator.iter_errors({"name": "x", "extends": "vgg16"}))
    assert list(validator.iter_errors({"name": "x"}))


def test_schema_command_prints_the_schema(schema):
    from click.testing import CliRunner

    from archcalc.cli import main

    result = CliRunner().invoke(main, ["schema"])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == json.loads(json.dumps(schema))
