"""Keras' sequence layers imported: LSTM, GRU, SimpleRNN, Bidirectional and TimeDistributed. Keras is not
installed here, so each model of tests/data/reference_video.json (section `keras`, measured with Keras
3.15.1 by tools/reference_video.py; its `code` is the Python that built it) is written below as the
`model.to_json()` config that code gives, with the keys archcalc reads; the imported model must have
Keras' own parameter count, layer by layer, and its output shapes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import archcalc
from archcalc.errors import SpecError

REFERENCE = json.loads((Path(__file__).parent / "data" / "reference_video.json").read_text())["keras"]


def layer(kind: str, **config) -> dict:
    return {"class_name": kind, "config": config}


def recurrent(kind: str, units: int, **config) -> dict:
    defaults = {"units": units, "use_bias": True, "return_sequences": False, "go_backwards": False,
                "stateful": False, "activation": "tanh"}
    if kind == "GRU":
        defaults["reset_after"] = True
    return layer(kind, **{**defaults, **config})


def conv2d(filters: int, activation: str = "linear") -> dict:
    return layer("Conv2D", filters=filters, kernel_size=[3, 3], strides=[1, 1], padding="valid",
                 data_format="channels_last", dilation_rate=[1, 1], groups=1, activation=activation, use_bias=True)


def dense(units: int, activation: str = "linear") -> dict:
    return layer("Dense", units=units, activation=activation, use_bias=True)


def td(inner: dict) -> dict:
    return layer("TimeDistributed", layer=inner)


def bi(inner: dict, merge_mode: str = "concat") -> dict:
    return layer("Bidirectional", layer=inner, merge_mode=merge_mode)


MAXPOOL = layer("MaxPooling2D", pool_size=[2, 2], strides=[2, 2], padding="valid", data_format="channels_last")
GAP = layer("GlobalAveragePooling2D", data_format="channels_last", keepdims=False)
FLATTEN = layer("Flatten", data_format="channels_last")

MODELS = {
    "lstm_x10_u20_last": ([10, 10], [recurrent("LSTM", 20)]),
    "lstm_x10_u20_seq": ([10, 10], [recurrent("LSTM", 20, return_sequences=True)]),
    "lstm_x128_u256_last": ([10, 128], [recurrent("LSTM", 256)]),
    "lstm_x10_u20_nobias": ([10, 10], [recurrent("LSTM", 20, use_bias=False)]),
    "gru_x10_u20_reset_after": ([10, 10], [recurrent("GRU", 20)]),
    "gru_x10_u20_reset_before": ([10, 10], [recurrent("GRU", 20, reset_after=False)]),
    "gru_x128_u256_reset_after": ([10, 128], [recurrent("GRU", 256)]),
    "gru_x128_u256_reset_before": ([10, 128], [recurrent("GRU", 256, reset_after=False)]),
    "gru_x10_u20_nobias": ([10, 10], [recurrent("GRU", 20, use_bias=False)]),
    "gru_x10_u20_seq": ([10, 10], [recurrent("GRU", 20, return_sequences=True)]),
    "simplernn_x10_u20": ([10, 10], [recurrent("SimpleRNN", 20)]),
    "simplernn_x10_u20_seq": ([10, 10], [recurrent("SimpleRNN", 20, return_sequences=True)]),
    "simplernn_x10_u20_nobias": ([10, 10], [recurrent("SimpleRNN", 20, use_bias=False)]),
    "bi_lstm_x10_u20": ([10, 10], [bi(recurrent("LSTM", 20))]),
    "bi_gru_x10_u20": ([10, 10], [bi(recurrent("GRU", 20))]),
    "bi_gru_x10_u20_reset_before": ([10, 10], [bi(recurrent("GRU", 20, reset_after=False))]),
    "bi_simplernn_x10_u20": ([10, 10], [bi(recurrent("SimpleRNN", 20))]),
    "stacked2_lstm_x10_u20": ([10, 10], [recurrent("LSTM", 20, return_sequences=True), recurrent("LSTM", 20)]),
    "stacked3_lstm_x10_u20": ([10, 10], [recurrent("LSTM", 20, return_sequences=True),
                                         recurrent("LSTM", 20, return_sequences=True), recurrent("LSTM", 20)]),
    "stacked2_gru_x10_u20": ([10, 10], [recurrent("GRU", 20, return_sequences=True), recurrent("GRU", 20)]),
    "stacked2_bi_lstm_x10_u20": ([10, 10], [bi(recurrent("LSTM", 20, return_sequences=True)),
                                            bi(recurrent("LSTM", 20))]),
    "timedistributed_conv2d": ([8, 64, 64, 3], [td(conv2d(16)), td(MAXPOOL), td(FLATTEN), td(dense(32))]),
    "cnn_lstm_video": ([8, 64, 64, 3], [td(conv2d(32, "relu")), td(MAXPOOL), td(conv2d(64, "relu")), td(GAP),
                                        recurrent("LSTM", 128), dense(10, "softmax")]),
    "cnn_gru_video": ([8, 64, 64, 3], [td(conv2d(32, "relu")), td(MAXPOOL), td(conv2d(64, "relu")), td(GAP),
                                       recurrent("GRU", 128), dense(10, "softmax")]),
}


def sequential(key: str, shape: list[int], layers: list[dict]) -> dict:
    named = [{**entry, "config": {**entry["config"], "name": f"layer{k}"}} for k, entry in enumerate(layers)]
    return {"class_name": "Sequential", "config": {"name": key, "layers": [
        layer("InputLayer", name="input", batch_shape=[None, *shape]), *named]}}


def imported(key: str, tmp_path):
    path = tmp_path / f"{key}.json"
    path.write_text(json.dumps(sequential(key, *MODELS[key])))
    return archcalc.analyze(archcalc.import_model(path))


def ours(shape: list[int]) -> list[int]:
    """A Keras shape (channels last) in archcalc's order."""
    return shape if len(shape) <= 2 else [*shape[:-3], shape[-1], *shape[-3:-1]]


@pytest.mark.parametrize("key", MODELS)
def test_imports_with_keras_own_counts_and_shapes(key, tmp_path):
    report = imported(key, tmp_path)
    entry = REFERENCE[key]
    assert report.totals.params == entry["count_params"]
    rows = [(r.params, list(r.output_shape)) for r in report.layers[1:] if r.type != "input"]
    assert rows == [(row["params"], ours(row["output_shape"][1:])) for row in entry["layers"]]


def test_recurrent_layers_keep_keras_convention(tmp_path):
    report = imported("lstm_x10_u20_last", tmp_path)
    lstm = report.layers[1].layer
    assert (lstm.convention, lstm.return_sequences, [p.name for p in report.layers[1].param_tensors]) == \
        ("keras", False, ["weight_ih_l0", "weight_hh_l0", "bias_l0"])


def test_a_merge_other_than_concat_is_refused_with_the_reason(tmp_path):
    layers = [bi(recurrent("LSTM", 20, return_sequences=True), merge_mode="sum")]
    path = tmp_path / "sum.json"
    path.write_text(json.dumps(sequential("sum", [10, 10], layers)))
    with pytest.raises(SpecError, match="merge_mode other than concat"):
        archcalc.import_model(path)
