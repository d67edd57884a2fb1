"""Declared fields on pydantic (`archcalc.records`): conversion, refusal, one-line messages, frozen
records, pairs stored as pairs, models built on first use, and the JSON Schema agreeing with the
validator on every layer type's fields."""

from __future__ import annotations

import subprocess
import sys
from typing import Annotated, Literal

import pytest
from annotated_types import Ge, Le, MinLen
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ConfigDict, Field, ValidationError

from archcalc.layers import registered_types
from archcalc.records import FieldError, IntOrPair, NonNegativeInt, Record, keys


class Window(Record):
    """A test record."""

    size: IntOrPair
    pad: NonNegativeInt | Literal["same", "valid"] = 0
    rate: Annotated[float, Ge(0), Le(1)] = 0.5
    on: bool = True
    source: str | list[str] | None = Field(None, alias="from", description="where from")


class Outer(Record):
    windows: Annotated[list[Window], MinLen(1)]
    named: dict[str, Window] = Field(default_factory=dict)


def _message(cls, data) -> str:
    with pytest.raises(FieldError) as info:
        cls.from_mapping(data)
    return str(info.value)


def test_values_are_converted_to_the_declared_types():
    w = Window.from_mapping({"size": [3, 5], "pad": 2.0, "rate": 1, "from": ["a", "b"]})
    assert w.size == (3, 5) and w.pad == 2 and isinstance(w.pad, int)
    assert w.rate == 1.0 and isinstance(w.rate, float)
    assert w.source == ["a", "b"] and w.on is True


def test_an_int_or_pair_is_stored_as_a_pair_and_shown_as_written():
    w = Window.from_mapping({"size": 3})
    assert w.size == (3, 3)
    assert w.changed() == {"size": 3}
    assert Window.from_mapping({"size": [2, 3]}).changed() == {"size": [2, 3]}


@pytest.mark.parametrize(("data", "words"), [
    ({"size": 0}, "size: should be an integer greater than 0 or a list of 2 values, each an integer greater "
                  "than 0 (got 0)"),
    ({"size": 2.5}, "size: is not a whole number (got 2.5)"),
    ({"size": True}, "(got true)"),
    ({"size": "3"}, "(got '3')"),
    ({"size": 3, "pad": "full"}, "pad: should be an integer of at least 0 or 'same' or 'valid' (got 'full')"),
    ({"size": 3, "rate": 1.5}, "rate: should be a number from 0 to 1 (got 1.5)"),
    ({"size": 3, "rate": float("inf")}, "rate: should be a number from 0 to 1 (got inf)"),
    ({"size": 3, "rate": "0.5"}, "rate: should be a number from 0 to 1 (got '0.5')"),
    ({"size": 3, "on": 1}, "on: should be true or false (got 1)"),
    ({"size": 3, "on": "yes"}, "on: should be true or false (got 'yes')"),
    ({"size": 3, "from": 7}, "from: should be a string or a list of values, each a string or null (got 7)"),
    ({"size": 3, "sise": 4}, "sise: unknown key (did you mean 'size'?)"),
    ({"sise": 3}, "sise: unknown key (did you mean 'size'?)"),
    ({"pad": 1}, "size: missing key"),
    ({"size": 3, "from_": "a"}, "from_: unknown key (did you mean 'from'?)"),
])
def test_a_value_that_does_not_fit_gives_one_line_naming_the_key(data, words):
    message = _message(Window, data)
    assert words in message and "\n" not in message


def test_errors_inside_lists_and_mappings_name_the_position():
    assert _message(Outer, {"windows": [{"size": 1}, 7]}) == "windows.1: should be a mapping (got 7)"
    assert _message(Outer, {"windows": [{"size": 1}, {"size": -1}]}).startswith("windows.1.size: should be")
    assert _message(Outer, {"windows": []}) == "windows: should have at least 1 item (got [])"
    assert _message(Outer, {"windows": [{"size": 1}], "named": {"a": {"siz": 1}}}).startswith(
        "named.a.siz: unknown key")
    assert _message(Outer, {"windows": [{"size": 1}], "named": {3: {"size": 1}}}).startswith("named: should be")
    assert _message(Outer, []) == "should be a mapping (got [])"


def test_a_long_value_is_cut_short_in_the_message():
    text = _message(Window, {"size": "x" * 200})
    assert text.endswith("...)") and len(text) < 200


def test_records_are_frozen_comparable_and_report_what_differs_from_the_defaults():
    w = Window.from_mapping({"size": [3, 2], "from": "a"})
    with pytest.raises(ValidationError):
        w.size = 4
    assert w == Window.from_mapping({"size": (3, 2), "from": "a"}) and w != Window.from_mapping({"size": 3})
    assert hash(w) == hash(Window.from_mapping({"size": (3, 2), "from": "a"}))
    assert w.changed() == {"size": [3, 2], "from": "a"}
    assert Outer.from_mapping({"windows": [{"size": 1}]}).named == {}  # the factory's default
    one, two = (Outer.from_mapping({"windows": [{"size": 1}]}) for _ in range(2))
    assert one.named is not two.named


def test_an_entry_that_allows_extra_keys_ignores_them():
    class Loose(Record):
        model_config = ConfigDict(extra="ignore")
        type: str

    assert Loose.from_mapping({"type": "conv", "out_channels": 3}).type == "conv"
    assert "additionalProperties" not in Loose.model_json_schema()


def test_the_schema_of_a_record():
    schema = Outer.model_json_schema()
    assert schema["required"] == ["windows"] and schema["additionalProperties"] is False
    assert schema["properties"]["windows"].items() >= {"type": "array", "items": {"$ref": "#/$defs/Window"},
                                                       "minItems": 1}.items()
    window = schema["$defs"]["Window"]
    assert window["description"] == "A test record."
    assert window["properties"]["from"]["description"] == "where from"
    assert window["properties"]["rate"].items() >= {"type": "number", "minimum": 0, "maximum": 1,
                                                    "default": 0.5}.items()
    assert window["properties"]["pad"]["anyOf"][1]["enum"] == ["same", "valid"]


def test_keyword_construction_is_checked_like_a_mapping():
    assert Window(size=[2, 3]).size == (2, 3)
    with pytest.raises(ValidationError):
        Window(size=0)
    with pytest.raises(ValidationError):
        Window(size=1, colour="red")


# --- every layer type's pairs ------------------------------------------------------------------------

_PAIRED = ("kernel_size", "stride", "padding", "dilation", "output_padding", "output_size")
_PAIR_SITES = sorted((name, key) for name, cls in registered_types().items() if name == cls.type_name
                     for key in cls.model_fields if key in _PAIRED)


@pytest.mark.parametrize("site", _PAIR_SITES, ids=[f"{t}.{k}" for t, k in _PAIR_SITES])
def test_every_int_or_pair_of_every_layer_type_is_a_pair_after_validation(site):
    """An int is the same on every spatial axis: a pair for a 2-D type, one per axis over one or three."""
    cls = registered_types()[site[0]]
    required = {k: 2 for k, info in cls.model_fields.items() if info.is_required()}
    layer = cls.from_mapping(required | {site[1]: 1})
    assert getattr(layer, site[1]) == (1,) * cls.spatial_axes
    default = cls.model_fields[site[1]].default
    assert default is None or isinstance(default, tuple) or cls.model_fields[site[1]].is_required()


# --- start-up ------------------------------------------------------------------------------------------

def _run(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout


def test_importing_the_command_line_imports_no_pydantic():
    imports = subprocess.run([sys.executable, "-X", "importtime", "-c", "import archcalc.cli"], capture_output=True,
                             text=True, check=True).stderr
    assert "archcalc.cli" in imports and "pydantic" not in imports


@pytest.mark.parametrize("argv", [["--help"], ["--version"], ["list", "--help"]])
def test_the_command_line_starts_without_pydantic(argv):
    code = (f"import sys\nfrom archcalc.cli import main\ntry:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
            "print('pydantic' in sys.modules)")
    assert _run(code).splitlines()[-1] == "False"


def test_a_layer_type_is_built_only_when_a_file_uses_it():
    code = ("import archcalc\nfrom archcalc.layers import registered_types as t\n"
            "archcalc.analyze({'name': 'x', 'input': [1, 8, 8], 'layers': [{'type': 'conv', 'out_channels': 2, "
            "'kernel_size': 3}]})\nprint(t()['conv'].__pydantic_complete__, t()['lrn'].__pydantic_complete__)")
    assert _run(code).split() == ["True", "False"]


# --- the validator and the JSON Schema agree ---------------------------------------------------------

_WORDS = ["same", "valid", "relu", "linear", "x", ""]
_SCALARS = (st.none() | st.booleans() | st.integers(-3, 300) | st.sampled_from([0.0, 0.25, 1.0, 2.0, 2.5, -1.5, 1e-5])
            | st.sampled_from(_WORDS))
_VALUES = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=5) | st.dictionaries(
    st.sampled_from(_WORDS), inner, max_size=2), max_leaves=6)
_FIELDS = sorted((name, key) for name, cls in registered_types().items() for key in cls.model_fields)

_PROBES = [None, True, False, 0, 1, -1, 3, 2.0, 2.5, 1e-5, "same", "valid", "relu", "x", "3", [], [1, 1], [0, 2],
           [1, 2, 3], [1, 2, 3, 4], [True, 1], [1.5, 1], {"a": 1}]


def _accepted(cls, data) -> bool:
    try:
        cls.from_mapping(data)
    except FieldError:
        return False
    return True


def _agree(cls, key, value, jsonschema):
    data = {k: 1 for k, info in cls.model_fields.items() if info.is_required()} | {key: value}
    schema_errors = list(jsonschema.Draft202012Validator(cls.model_json_schema()).iter_errors(data))
    assert _accepted(cls, data) == (not schema_errors), (cls.type_name, data, [e.message for e in schema_errors])


@pytest.mark.parametrize("site", _FIELDS, ids=[f"{t}.{k}" for t, k in _FIELDS])
def test_the_validator_and_the_schema_agree_on_probe_values(site):
    jsonschema = pytest.importorskip("jsonschema")
    for value in _PROBES:
        _agree(registered_types()[site[0]], site[1], value, jsonschema)


@pytest.mark.parametrize("record", ["ArchFile", "BlockDef", "LayerEntry"])
def test_the_file_format_records_and_their_schema_agree_on_probe_values(record):
    jsonschema = pytest.importorskip("jsonschema")
    from archcalc.spec import archfile

    cls = getattr(archfile, record)
    base = {"name": "t", "input": [1], "layers": [{}], "type": "relu"}
    validator = jsonschema.Draft202012Validator(cls.model_json_schema())
    required = [key for key, name in keys(cls).items() if cls.model_fields[name].is_required()]
    for key in keys(cls):
        for value in [*_PROBES, [{"a": 1}], {"b": {"layers": [{}]}}, {"conv": {"bias": False}}, {"x": "module"}]:
            data = {k: base[k] for k in required} | {key: value}
            errors = [e.message for e in validator.iter_errors(data)]
            assert _accepted(cls, data) == (not errors), (record, data, errors)


@settings(max_examples=400, deadline=None)
@given(site=st.sampled_from(_FIELDS), value=_VALUES)
def test_the_validator_and_the_schema_accept_the_same_values(site, value):
    jsonschema = pytest.importorskip("jsonschema")
    _agree(registered_types()[site[0]], site[1], value, jsonschema)
