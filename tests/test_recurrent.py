"""Recurrent layers against the real libraries: parameters as PyTorch and Keras count them, MACs as the
peer tools report them (tests/data/reference_video.json, written by tools/reference_video.py with torch
2.14.1, ptflops 0.7.5, thop 0.1.1, torchinfo 1.8.0 and Keras 3.15.1), and `explain`'s gate arithmetic.
The forward passes are checked against torch.nn.RNN/LSTM/GRU in tests/test_execute_layers.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import archcalc
from archcalc.errors import SpecError

REFERENCE = json.loads((Path(__file__).parent / "data" / "reference_video.json").read_text())
TORCH = {key: entry for key, entry in REFERENCE["torch_rnn"].items() if "proj_size" not in entry["config"]}
TOOLS = {"ptflops": ("ptflops", "macs"), "thop": ("thop", "macs"), "torchinfo": ("torchinfo", "total_mult_adds"),
         "torch": ("torch_flop_counter", "total_flops")}


def torch_layer(config: dict, steps: int) -> dict:
    layer = {"name": "L", "type": config["type"].lower(), "hidden_size": config["hidden_size"],
             "num_layers": config["num_layers"], "bias": config["bias"], "bidirectional": config["bidirectional"]}
    return {"name": "rnn", "input": [steps, config["input_size"]], "layers": [layer]}


def test_the_proj_size_entries_are_the_only_ones_left_out():
    assert len(TORCH) == len(REFERENCE["torch_rnn"]) - 2 == 72


@pytest.mark.parametrize("key", TORCH)
def test_parameters_equal_pytorch(key):
    entry = TORCH[key]
    report = archcalc.analyze(torch_layer(entry["config"], entry["seq_len"]))
    assert report.totals.params == entry["params"]
    tensors = {p.name: list(p.shape) for p in report.layer("L").param_tensors}
    assert tensors == entry["param_shapes"]


@pytest.mark.parametrize("profile", TOOLS)
@pytest.mark.parametrize("key", TORCH)
def test_each_profile_equals_its_tool(key, profile):
    entry = TORCH[key]
    tool, field = TOOLS[profile]
    report = archcalc.analyze(torch_layer(entry["config"], entry["seq_len"]), count=profile)
    assert report.totals.flops == entry[tool][field]


# Keras models of the reference as archcalc files (convention: keras): key → (input, layers).
KERAS = {
    "lstm_x10_u20_last": ([10, 10], [{"type": "LSTM", "units": 20}]),
    "lstm_x10_u20_seq": ([10, 10], [{"type": "LSTM", "units": 20, "return_sequences": True}]),
    "lstm_x128_u256_last": ([10, 128], [{"type": "LSTM", "units": 256}]),
    "lstm_x10_u20_nobias": ([10, 10], [{"type": "LSTM", "units": 20, "use_bias": False}]),
    "gru_x10_u20_reset_after": ([10, 10], [{"type": "GRU", "units": 20, "reset_after": True}]),
    "gru_x10_u20_reset_before": ([10, 10], [{"type": "GRU", "units": 20, "reset_after": False}]),
    "gru_x128_u256_reset_after": ([10, 128], [{"type": "GRU", "units": 256}]),
    "gru_x128_u256_reset_before": ([10, 128], [{"type": "GRU", "units": 256, "reset_after": False}]),
    "gru_x10_u20_nobias": ([10, 10], [{"type": "GRU", "units": 20, "use_bias": False}]),
    "gru_x10_u20_seq": ([10, 10], [{"type": "GRU", "units": 20, "return_sequences": True}]),
    "simplernn_x10_u20": ([10, 10], [{"type": "SimpleRNN", "units": 20}]),
    "simplernn_x10_u20_seq": ([10, 10], [{"type": "SimpleRNN", "units": 20, "return_sequences": True}]),
    "simplernn_x10_u20_nobias": ([10, 10], [{"type": "SimpleRNN", "units": 20, "use_bias": False}]),
    "bi_lstm_x10_u20": ([10, 10], [{"type": "LSTM", "units": 20, "bidirectional": True}]),
    "bi_gru_x10_u20": ([10, 10], [{"type": "GRU", "units": 20, "bidirectional": True}]),
    "bi_gru_x10_u20_reset_before": ([10, 10], [{"type": "GRU", "units": 20, "bidirectional": True,
                                                "reset_after": False}]),
    "bi_simplernn_x10_u20": ([10, 10], [{"type": "SimpleRNN", "units": 20, "bidirectional": True}]),
    "stacked2_lstm_x10_u20": ([10, 10], [{"type": "LSTM", "units": 20, "return_sequences": True},
                                         {"type": "LSTM", "units": 20}]),
    "stacked3_lstm_x10_u20": ([10, 10], [{"type": "LSTM", "units": 20, "return_sequences": True},
                                         {"type": "LSTM", "units": 20, "return_sequences": True},
                                         {"type": "LSTM", "units": 20}]),
    "stacked2_gru_x10_u20": ([10, 10], [{"type": "GRU", "units": 20, "return_sequences": True},
                                        {"type": "GRU", "units": 20}]),
    "stacked2_bi_lstm_x10_u20": ([10, 10], [{"type": "LSTM", "units": 20, "return_sequences": True,
                                             "bidirectional": True},
                                            {"type": "LSTM", "units": 20, "bidirectional": True}]),
}
_NAMES = {"units": "hidden_size", "use_bias": "bias"}


def keras_file(key: str) -> dict:
    shape, layers = KERAS[key]
    written = [{_NAMES.get(k, k): v for k, v in layer.items()} for layer in layers]
    for layer in written:
        layer.setdefault("return_sequences", False)        # Keras' default
    return {"name": key, "input": shape, "convention": "keras", "layers": written}


@pytest.mark.parametrize("key", KERAS)
def test_parameters_and_outputs_equal_keras(key):
    entry = REFERENCE["keras"][key]
    report = archcalc.analyze(keras_file(key))
    assert report.totals.params == entry["count_params"]
    assert [r.params for r in report.layers[1:]] == [row["params"] for row in entry["layers"]]
    assert [list(r.output_shape) for r in report.layers[1:]] == [row["output_shape"][1:] for row in entry["layers"]]


def test_keras_counts_one_bias_vector_but_two_for_a_gru_resetting_after():
    one = REFERENCE["keras"]["lstm_x10_u20_last"]["count_params"]
    assert one == 4 * (20 * (10 + 20) + 20)                     # Keras: one bias vector
    assert archcalc.analyze(torch_layer(TORCH["lstm_x10_h20_l1"]["config"], 10)).totals.params == \
        4 * (20 * (10 + 20) + 2 * 20) == TORCH["lstm_x10_h20_l1"]["params"]


def test_a_layer_s_own_convention_wins_over_the_file_s():
    mapping = keras_file("lstm_x10_u20_last")
    mapping["layers"][0]["convention"] = "pytorch"
    assert archcalc.analyze(mapping).totals.params == TORCH["lstm_x10_h20_l1"]["params"]


def test_a_gru_resetting_before_under_pytorch_s_convention_is_refused_in_one_line():
    with pytest.raises(SpecError, match="reset_after: false is Keras' GRU"):
        archcalc.analyze({"name": "g", "input": [5, 3], "layers": [{"type": "gru", "hidden_size": 4,
                                                                    "reset_after": False}]})


def test_a_recurrent_layer_on_an_image_is_refused_in_one_line():
    with pytest.raises(Exception, match=r"lstm needs a \(T, F\) sequence, got \(3, 8, 8\)"):
        archcalc.analyze({"name": "g", "input": [3, 8, 8], "layers": [{"type": "lstm", "hidden_size": 4}]})


def test_explain_gives_the_gate_arithmetic():
    from archcalc.report.explain import explain

    report = archcalc.analyze({"name": "demo", "input": [10, 10], "layers": [
        {"name": "lstm", "type": "lstm", "hidden_size": 20, "return_sequences": False}]})
    text = explain(report, "lstm")
    assert "4 × (20 × (10 + 20) + 2 × 20) = 2,560" in text
    assert "per step 4 × 20 × (10 + 20) = 2,400; × 10 steps = 24,000" in text
    assert "c_t = f ⊙ c_{t−1} + i ⊙ g; h_t = o ⊙ tanh(c_t)" in text


# ptflops' aten backend, fvcore and FlopCounterMode around a training step, measured by
# tools/reference_rnn_counts.py (torch 2.14.1, ptflops 0.7.5, fvcore 0.1.5).
COUNTS = json.loads((Path(__file__).parent / "data" / "reference_rnn_counts.json").read_text())
COUNTED = [key for key in COUNTS if key != "versions"]


@pytest.mark.parametrize("key", COUNTED)
def test_ptflops_aten_fvcore_and_a_training_step_equal_their_tools(key):
    from archcalc.training import training_cost

    entry = COUNTS[key]
    config = entry["config"]
    mapping = torch_layer(config, config["seq_len"])
    assert archcalc.analyze(mapping, count="ptflops-aten").totals.flops == entry["ptflops_aten"]
    assert archcalc.analyze(mapping, count="fvcore").totals.flops == entry["fvcore"]
    cost = training_cost(archcalc.analyze(mapping, count="torch-train"))
    assert cost.forward_flops + cost.backward_flops == entry["torch_train"]["total_flops"]


def test_a_pytorch_cnn_free_lstm_classifier_imports_with_its_last_step():
    torch = pytest.importorskip("torch")

    class Classifier(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = torch.nn.LSTM(10, 20, num_layers=2, batch_first=True)
            self.fc = torch.nn.Linear(20, 5)

        def forward(self, x):
            out, _ = self.lstm(x)
            return self.fc(out[:, -1])

    model = Classifier()
    report = archcalc.analyze(archcalc.import_model(model, input=(8, 10), name="classifier"))
    assert report.totals.params == sum(p.numel() for p in model.parameters())
    assert [r.type for r in report.layers[1:]] == ["lstm", "linear"]
    assert report.layer("lstm").output_shape == (20,)


def test_the_last_hidden_state_h_n_imports_as_the_last_step():
    torch = pytest.importorskip("torch")

    class Classifier(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.gru = torch.nn.GRU(10, 20, num_layers=2, batch_first=True)
            self.fc = torch.nn.Linear(20, 5)

        def forward(self, x):
            _, h = self.gru(x)
            return self.fc(h[-1])

    report = archcalc.analyze(archcalc.import_model(Classifier(), input=(8, 10), name="classifier"))
    assert [(r.type, r.output_shape) for r in report.layers[1:]] == [("gru", (20,)), ("linear", (5,))]


def test_batch_first_false_is_refused_with_the_reason():
    torch = pytest.importorskip("torch")

    class Seq(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.gru = torch.nn.GRU(10, 20)

        def forward(self, x):
            return self.gru(x)[0]

    with pytest.raises(SpecError, match="batch_first=False"):
        archcalc.import_model(Seq(), input=(8, 10), name="seq")


VARIANTS = {
    "lstm-last": {"type": "lstm", "hidden_size": 6, "return_sequences": False},
    "lstm-stacked-bi": {"type": "lstm", "hidden_size": 4, "num_layers": 3, "bidirectional": True},
    "gru-bi-last-nobias": {"type": "gru", "hidden_size": 5, "bidirectional": True, "bias": False,
                           "return_sequences": False},
    "rnn-relu-stacked-last": {"type": "rnn", "hidden_size": 3, "num_layers": 2, "nonlinearity": "relu",
                              "return_sequences": False},
}


@pytest.mark.parametrize("route", ["torch", "onnx"])
@pytest.mark.parametrize("variant", VARIANTS)
def test_each_variant_comes_back_through_pytorch_and_onnx(variant, route, tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("onnx")
    from tests.test_registry_contract import ROUTES, assert_comes_back

    report = archcalc.analyze({"name": variant, "input": [7, 3], "layers": [{"name": "L", **VARIANTS[variant]}]})
    back = ROUTES[route](report, tmp_path)
    assert_comes_back(report, back, route)
    assert back.layers[1].layer == report.layer("L").layer


def test_a_keras_convention_lstm_is_refused_by_the_exports_with_the_reason():
    from archcalc.errors import ExportError

    report = archcalc.analyze(keras_file("lstm_x10_u20_last"))
    with pytest.raises(ExportError, match="one bias vector"):
        archcalc.to_torch(report.architecture)
