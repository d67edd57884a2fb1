"""Declared fields (`archcalc.fields`): conversion, refusal, messages, read-only records, and the
JSON Schema agreeing with the validator on every layer type's fields."""

from __future__ import annotations

from typing import Annotated, Literal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archcalc.fields import Bounds, FieldError, Length, NonNegativeInt, PositiveInt, Record, field, json_schema
from archcalc.layers import registered_types


class Window(Record):
    """A test record."""

    size: PositiveInt | tuple[PositiveInt, PositiveInt]
    pad: NonNegativeInt | Literal["same", "valid"] = 0
    rate: Annotated[float, Bounds(ge=0, le=1)] = 0.5
    on: bool = True
    source: str | list[str] | None = field(None, "where from", alias="from")


class Outer(Record):
    windows: Annotated[list[Window], Length(min=1)]
    named: dict[str, Window] = field(factory=dict)


def _message(cls, data) -> str:
    with pytest.raises(FieldError) as info:
        cls.validate(data)
    return str(info.value)


def test_values_are_converted_to_the_declared_types():
    w = Window.validate({"size": [3, 5], "pad": 2.0, "rate": 1, "from": ["a", "b"]})
    assert w.size == (3, 5) and w.pad == 2 and isinstance(w.pad, int)
    assert w.rate == 1.0 and isinstance(w.rate, float)
    assert w.source == ["a", "b"] and w.on is True


@pytest.mark.parametrize(("data", "words"), [
    ({"size": 0}, "size: should be an integer greater than 0 or a list of 2 values, each an integer greater "
                  "than 0 (got 0)"),
    ({"size": 2.5}, "size: should be an integer greater than 0"),
    ({"size": True}, "(got true)"),
    ({"size": 3, "pad": "full"}, "pad: should be an integer of at least 0 or 'same' or 'valid' (got 'full')"),
    ({"size": 3, "rate": 1.5}, "rate: should be a number from 0 to 1 (got 1.5)"),
    ({"size": 3, "rate": float("inf")}, "rate: should be a number from 0 to 1 (got inf)"),
    ({"size": 3, "on": 1}, "on: should be true or false (got 1)"),
    ({"size": 3, "from": 7}, "from: should be a string or a list of values, each a string or null (got 7)"),
    ({"size": 3, "sise": 4}, "sise: unknown key (did you mean 'size'?)"),
    ({"sise": 3}, "sise: unknown key (did you mean 'size'?)"),
    ({"pad": 1}, "size: missing key"),
    ({"size": 3, "from_": "a"}, "from_: unknown key (did you mean 'from'?)"),
])
def test_a_value_that_does_not_fit_gives_one_line_naming_the_key(data, words):
    assert words in _message(Window, data)


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


def test_records_are_read_only_comparable_and_report_what_differs_from_the_defaults():
    w = Window.validate({"size": [3, 3], "from": "a"})
    with pytest.raises(AttributeError, match="read-only"):
        w.size = 4
    assert w == Window.validate({"size": (3, 3), "from": "a"}) and w != Window.validate({"size": 3})
    assert hash(w) == hash(Window.validate({"size": (3, 3), "from": "a"}))
    assert w.changed() == {"size": [3, 3], "from": "a"}
    assert repr(Window.validate({"size": 1})) == "Window(size=1, pad=0, rate=0.5, on=True, source=None)"
    assert Outer.validate({"windows": [{"size": 1}]}).named == {}  # the factory's default
    assert Outer.validate({"windows": [{"size": 1}]}).named is not Outer.validate({"windows": [{"size": 1}]}).named


def test_an_entry_that_allows_extra_keys_ignores_them():
    class Loose(Record):
        forbid_extra = False
        type: str

    assert Loose.validate({"type": "conv", "out_channels": 3}).type == "conv"
    assert "additionalProperties" not in json_schema(Loose)


def test_the_schema_of_a_record():
    schema = json_schema(Outer)
    assert schema["required"] == ["windows"] and schema["additionalProperties"] is False
    assert schema["properties"]["windows"] == {"type": "array", "items": {"$ref": "#/$defs/Window"}, "minItems": 1}
    window = schema["$defs"]["Window"]
    assert window["description"] == "A test record."
    assert window["properties"]["from"]["description"] == "where from"
    assert window["properties"]["rate"] == {"type": "number", "minimum": 0, "maximum": 1, "default": 0.5}
    assert window["properties"]["pad"]["anyOf"][1] == {"enum": ["same", "valid"]}


# --- the validator and the JSON Schema agree ---------------------------------------------------------

_WORDS = ["same", "valid", "relu", "linear", "x", ""]
_SCALARS = (st.none() | st.booleans() | st.integers(-3, 300) | st.sampled_from([0.0, 0.25, 1.0, 2.0, 2.5, -1.5, 1e-5])
            | st.sampled_from(_WORDS))
_VALUES = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
    st.sampled_from(_WORDS), inner, max_size=2), max_leaves=6)
_FIELDS = sorted((name, key) for name, cls in registered_types().items() for key in cls.fields())


_PROBES = [None, True, False, 0, 1, -1, 3, 2.0, 2.5, 1e-5, "same", "valid", "relu", "x", [], [1, 1], [0, 2],
           [1, 2, 3], [True, 1], [1.5, 1], {"a": 1}]


def _agree(cls, key, value, jsonschema):
    data = {k: 1 for k, spec in cls.fields().items() if spec.required} | {key: value}
    try:
        cls.validate(data)
        accepted = True
    except FieldError:
        accepted = False
    schema_errors = list(jsonschema.Draft202012Validator(json_schema(cls)).iter_errors(data))
    assert accepted == (not schema_errors), (cls.type_name, data, [e.message for e in schema_errors])


@pytest.mark.parametrize("site", _FIELDS, ids=[f"{t}.{k}" for t, k in _FIELDS])
def test_the_validator_and_the_schema_agree_on_probe_values(site):
    jsonschema = pytest.importorskip("jsonschema")
    for value in _PROBES:
        _agree(registered_types()[site[0]], site[1], value, jsonschema)


@pytest.mark.parametrize("record", ["ArchFile", "BlockDef", "LayerEntry"])
def test_the_file_format_records_and_their_schema_agree_on_probe_values(record):
    jsonschema = pytest.importorskip("jsonschema")
    from archcalc.spec import model

    cls = getattr(model, record)
    base = {"name": "t", "input": [1], "layers": [{}], "type": "relu"}
    validator = jsonschema.Draft202012Validator(json_schema(cls))
    for spec in cls.fields().values():
        for value in [*_PROBES, [{"a": 1}], {"b": {"layers": [{}]}}, {"conv": {"bias": False}}, {"x": "module"}]:
            data = {f.key: base[f.key] for f in cls.fields().values() if f.required} | {spec.key: value}
            try:
                cls.validate(data)
                accepted = True
            except FieldError:
                accepted = False
            errors = [e.message for e in validator.iter_errors(data)]
            assert accepted == (not errors), (record, data, errors)


@settings(max_examples=400, deadline=None)
@given(site=st.sampled_from(_FIELDS), value=_VALUES)
def test_the_validator_and_the_schema_accept_the_same_values(site, value):
    jsonschema = pytest.importorskip("jsonschema")
    _agree(registered_types()[site[0]], site[1], value, jsonschema)


def test_keyword_construction_is_checked_like_a_mapping():
    assert Window(size=[2, 3]).size == (2, 3)
    with pytest.raises(FieldError, match="size: should be"):
        Window(size=0)
    with pytest.raises(FieldError, match="colour: unknown key"):
        Window(size=1, colour="red")
