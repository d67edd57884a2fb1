#!/usr/bin/env python3
"""Record video CNNs, recurrent layers and Keras' sequence layers: ``tests/data/reference_video.json``.

``video.<model>`` -- torchvision's video CNNs (``r3d_18``, ``mc3_18``, ``r2plus1d_18``, ``s3d``), built
with ``weights=None`` on the meta device, eval mode, batch 1:

* ``constructor``; ``params``, ``trainable_params``, ``bn_running_stats``, ``buffers_total``;
  ``weights_meta``: the default weights' ``num_params``, ``min_size``, ``min_temporal_size`` (where
  given) and the crop size of their transforms (the size the weights were evaluated at).
* ``inputs.<C>x<T>x<H>x<W>`` for 3×16×112×112 and 3×16×224×224: ``macs_conv_linear`` (Conv3d and
  Linear with forward hooks; ``tools/reference_common.py``), ``macs_by_module_type``,
  ``macs_by_module_class``, ``macs_by_part`` (the model's top-level children), ``conv_linear_bias_adds``,
  ``output_shape``; ``{"error": one line}`` where the model cannot run at that size (s3d's last
  pool needs 224×224).
``video_refused``: the other models of ``torchvision.models.video`` (video transformers) and why.

``torch_rnn.<key>`` -- ``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU`` (``batch_first=False``), key
``<type>_x<input>_h<hidden>_l<layers>[_bi][_nobias][_proj<p>]``: ``config`` (the constructor's
arguments), ``params``, ``param_shapes`` (name: shape, as ``named_parameters()``), and the MACs
that peer tools report for one sequence of ``SEQ_LEN`` = 10 steps, batch 1 (input ``10×1×input``):
``ptflops`` (pytorch backend; its RNN hook reads dimension 0 as the batch and 1 as time whatever
``batch_first`` says, so it is fed the same numbers as ``1×10×input``), ``thop``
(``profile``), ``torchinfo`` (``summary(input_data=...)``'s ``total_mult_adds``) and
``torch_flop_counter`` (FlopCounterMode ``total_flops`` and ``flops_by_op``); a tool that fails
leaves ``{"error": one line}``.

``keras.<key>`` -- small Keras 3 models (``KERAS_BACKEND=jax``): ``code`` (the Python that builds it),
``count_params``, ``trainable_params``, ``non_trainable_params`` (sums of the weights' sizes) and
``layers``: one row per layer: ``name``, ``class``, ``output_shape``, ``params``
(``layer.count_params()``), ``weights`` (each weight's path and shape).  The models: LSTM, GRU
(``reset_after`` True and False), SimpleRNN, with and without bias, ``return_sequences`` True and
False, Bidirectional (default ``merge_mode="concat"`` and ``"sum"``), stacked (2 and 3 layers),
Conv1D, Conv3D, TimeDistributed(Conv2D) and TimeDistributed(Dense), and a CNN+LSTM video classifier.

``versions``: python, torch, torchvision, ptflops, thop, torchinfo, keras, jax, date, command.

Re-run (a few minutes)::

    KERAS_BACKEND=jax nice /work/refenv/bin/python tools/reference_video.py   # --only video|rnn|keras
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import warnings

os.environ.setdefault("KERAS_BACKEND", "jax")

import torch  # noqa: E402
from reference_common import MacCounter, Store, count_parameters, log, one_line_error, sorted_counts, versions  # noqa: E402
from torch import nn  # noqa: E402

COMMAND = "KERAS_BACKEND=jax nice /work/refenv/bin/python tools/reference_video.py"
OUT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests", "data",
                   "reference_video.json")
VIDEO = ["r3d_18", "mc3_18", "r2plus1d_18", "s3d"]
VIDEO_INPUTS = [(3, 16, 112, 112), (3, 16, 224, 224)]
REFUSED = {"mvit": "multiscale vision transformer: pooling attention is not a CNN layer type",
           "swin3d": "3-D shifted-window transformer: windowed self-attention is not a CNN layer type"}
SEQ_LEN = 10


# --------------------------------------------------------------------------
# Video CNNs
# --------------------------------------------------------------------------

def video_entry(name: str) -> dict:
    import torchvision

    with torch.device("meta"):
        model = torchvision.models.get_model(name, weights=None).eval()
    weights = torchvision.models.get_model_weights(name).DEFAULT
    crop = weights.transforms.keywords.get("crop_size")
    record = {"constructor": f"torchvision.models.get_model({name!r}, weights=None)", **count_parameters(model),
              "weights_meta": {"weights": str(weights), "num_params": weights.meta["num_params"],
                               "min_size": list(weights.meta.get("min_size", [])),
                               "min_temporal_size": weights.meta.get("min_temporal_size"),
                               "crop_size": list(crop) if crop else None},
              "inputs": {}}
    for shape in VIDEO_INPUTS:
        counter = MacCounter(model, part_of=lambda qualified: qualified.split(".")[0])
        try:
            with torch.no_grad(), counter:
                output = model(torch.zeros(1, *shape, device="meta"))
        except Exception as exc:  # s3d's last pool needs 224×224
            record["inputs"]["x".join(map(str, shape))] = {"error": one_line_error(exc)}
            continue
        record["inputs"]["x".join(map(str, shape))] = {
            **counter.result(), "macs_by_part": sorted_counts(counter.by_part), "output_shape": list(output.shape[1:])}
    return record


def refused_video() -> dict:
    import torchvision

    names = torchvision.models.list_models(module=torchvision.models.video)
    return {n: REFUSED[n.split("_")[0]] for n in sorted(names) if n.split("_")[0] in REFUSED}


# --------------------------------------------------------------------------
# PyTorch recurrent layers
# --------------------------------------------------------------------------

def rnn_configs() -> dict:
    configs = {}
    for kind in ("RNN", "LSTM", "GRU"):
        for input_size, hidden in ((10, 20), (128, 256)):
            for layers in (1, 2, 3):
                for bidirectional in (False, True):
                    for bias in (True, False):
                        key = f"{kind.lower()}_x{input_size}_h{hidden}_l{layers}" + \
                              ("_bi" if bidirectional else "") + ("" if bias else "_nobias")
                        configs[key] = {"type": kind, "input_size": input_size, "hidden_size": hidden,
                                        "num_layers": layers, "bidirectional": bidirectional, "bias": bias}
    for bidirectional in (False, True):
        key = "lstm_x10_h20_l2" + ("_bi" if bidirectional else "") + "_proj8"
        configs[key] = {"type": "LSTM", "input_size": 10, "hidden_size": 20, "num_layers": 2,
                        "bidirectional": bidirectional, "bias": True, "proj_size": 8}
    return configs


def build_rnn(config: dict) -> nn.Module:
    torch.manual_seed(0)
    kwargs = {k: v for k, v in config.items() if k != "type"}
    return getattr(nn, config["type"])(**kwargs).eval()


def rnn_input(config: dict) -> torch.Tensor:
    return torch.zeros(SEQ_LEN, 1, config["input_size"])


def rnn_tools(config: dict) -> dict:
    import ptflops
    import thop
    import torchinfo
    from torch.utils.flop_counter import FlopCounterMode

    def run_ptflops():
        macs, _ = ptflops.get_model_complexity_info(
            build_rnn(config), (1, SEQ_LEN, config["input_size"]), as_strings=False, print_per_layer_stat=False,
            ost=io.StringIO(), backend="pytorch", input_constructor=lambda _res: rnn_input(config).transpose(0, 1))
        if macs is None:
            raise RuntimeError("ptflops returned None (it caught an exception)")
        return {"macs": macs}

    def run_thop():
        macs, _ = thop.profile(build_rnn(config), inputs=(rnn_input(config),), verbose=False)
        return {"macs": macs}

    def run_torchinfo():
        stats = torchinfo.summary(build_rnn(config), input_data=[rnn_input(config)], verbose=0, device="cpu")
        return {"total_mult_adds": stats.total_mult_adds, "total_params": stats.total_params}

    def run_flop_counter():
        counter = FlopCounterMode(display=False)
        with torch.no_grad(), counter:
            build_rnn(config)(rnn_input(config))
        return {"total_flops": counter.get_total_flops(),
                "flops_by_op": sorted_counts(counter.get_flop_counts().get("Global", {}))}

    results = {}
    for tool, run in (("ptflops", run_ptflops), ("thop", run_thop), ("torchinfo", run_torchinfo),
                      ("torch_flop_counter", run_flop_counter)):
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                value = run()
            results[tool] = {k: (int(v) if isinstance(v, float) and v.is_integer() else v) for k, v in value.items()}
        except Exception as exc:
            results[tool] = {"error": one_line_error(exc)}
    return results


def rnn_entry(config: dict) -> dict:
    model = build_rnn(config)
    return {"config": config, "params": sum(p.numel() for p in model.parameters()),
            "param_shapes": {name: list(p.shape) for name, p in model.named_parameters()},
            "seq_len": SEQ_LEN, **rnn_tools(config)}


# --------------------------------------------------------------------------
# Keras
# --------------------------------------------------------------------------

KERAS_MODELS = {
    "lstm_x10_u20_last": "Sequential([Input((10, 10)), LSTM(20)])",
    "lstm_x10_u20_seq": "Sequential([Input((10, 10)), LSTM(20, return_sequences=True)])",
    "lstm_x128_u256_last": "Sequential([Input((10, 128)), LSTM(256)])",
    "lstm_x10_u20_nobias": "Sequential([Input((10, 10)), LSTM(20, use_bias=False)])",
    "gru_x10_u20_reset_after": "Sequential([Input((10, 10)), GRU(20, reset_after=True)])",
    "gru_x10_u20_reset_before": "Sequential([Input((10, 10)), GRU(20, reset_after=False)])",
    "gru_x128_u256_reset_after": "Sequential([Input((10, 128)), GRU(256)])",
    "gru_x128_u256_reset_before": "Sequential([Input((10, 128)), GRU(256, reset_after=False)])",
    "gru_x10_u20_nobias": "Sequential([Input((10, 10)), GRU(20, use_bias=False)])",
    "gru_x10_u20_seq": "Sequential([Input((10, 10)), GRU(20, return_sequences=True)])",
    "simplernn_x10_u20": "Sequential([Input((10, 10)), SimpleRNN(20)])",
    "simplernn_x10_u20_seq": "Sequential([Input((10, 10)), SimpleRNN(20, return_sequences=True)])",
    "simplernn_x10_u20_nobias": "Sequential([Input((10, 10)), SimpleRNN(20, use_bias=False)])",
    "bi_lstm_x10_u20": "Sequential([Input((10, 10)), Bidirectional(LSTM(20))])",
    "bi_lstm_x10_u20_sum_seq": "Sequential([Input((10, 10)), Bidirectional(LSTM(20, return_sequences=True), "
                               "merge_mode='sum')])",
    "bi_gru_x10_u20": "Sequential([Input((10, 10)), Bidirectional(GRU(20))])",
    "bi_gru_x10_u20_reset_before": "Sequential([Input((10, 10)), Bidirectional(GRU(20, reset_after=False))])",
    "bi_simplernn_x10_u20": "Sequential([Input((10, 10)), Bidirectional(SimpleRNN(20))])",
    "stacked2_lstm_x10_u20": "Sequential([Input((10, 10)), LSTM(20, return_sequences=True), LSTM(20)])",
    "stacked3_lstm_x10_u20": "Sequential([Input((10, 10)), LSTM(20, return_sequences=True), "
                             "LSTM(20, return_sequences=True), LSTM(20)])",
    "stacked2_gru_x10_u20": "Sequential([Input((10, 10)), GRU(20, return_sequences=True), GRU(20)])",
    "stacked2_bi_lstm_x10_u20": "Sequential([Input((10, 10)), Bidirectional(LSTM(20, return_sequences=True)), "
                                "Bidirectional(LSTM(20))])",
    "conv1d": "Sequential([Input((32000, 1)), Conv1D(128, 80, strides=4), BatchNormalization(), "
              "MaxPooling1D(4), Conv1D(128, 3, padding='same'), GlobalAveragePooling1D(), Dense(35)])",
    "conv1d_nobias_dilated": "Sequential([Input((100, 16)), Conv1D(32, 5, dilation_rate=2, use_bias=False), "
                             "Conv1D(32, 3, groups=4)])",
    "conv3d": "Sequential([Input((16, 112, 112, 3)), Conv3D(64, 3, padding='same'), MaxPooling3D((1, 2, 2)), "
              "Conv3D(128, (3, 3, 3), strides=(1, 2, 2)), BatchNormalization(), GlobalAveragePooling3D(), "
              "Dense(101)])",
    "timedistributed_conv2d": "Sequential([Input((8, 64, 64, 3)), TimeDistributed(Conv2D(16, 3)), "
                              "TimeDistributed(MaxPooling2D(2)), TimeDistributed(Flatten()), "
                              "TimeDistributed(Dense(32))])",
    "cnn_lstm_video": "Sequential([Input((8, 64, 64, 3)), TimeDistributed(Conv2D(32, 3, activation='relu')), "
                      "TimeDistributed(MaxPooling2D(2)), TimeDistributed(Conv2D(64, 3, activation='relu')), "
                      "TimeDistributed(GlobalAveragePooling2D()), LSTM(128), Dense(10, activation='softmax')])",
    "cnn_gru_video": "Sequential([Input((8, 64, 64, 3)), TimeDistributed(Conv2D(32, 3, activation='relu')), "
                     "TimeDistributed(MaxPooling2D(2)), TimeDistributed(Conv2D(64, 3, activation='relu')), "
                     "TimeDistributed(GlobalAveragePooling2D()), GRU(128), Dense(10, activation='softmax')])",
}


def keras_entry(code: str) -> dict:
    import keras
    from keras import Input, Sequential, layers

    keras.utils.set_random_seed(0)
    namespace = {"Input": Input, "Sequential": Sequential, **{n: getattr(layers, n) for n in dir(layers)
                                                                  if n[0].isupper()}}
    model = eval(code, namespace)  # noqa: S307 -- the script's own constant strings
    size = lambda weights: sum(int(w.numpy().size) for w in weights)  # noqa: E731
    rows = [{"name": layer.name, "class": type(layer).__name__,
             "output_shape": list(layer.output.shape), "params": int(layer.count_params()),
             "weights": [{"path": w.path, "shape": list(w.shape)} for w in layer.weights]}
            for layer in model.layers]
    record = {"code": code, "count_params": int(model.count_params()),
              "trainable_params": size(model.trainable_weights),
              "non_trainable_params": size(model.non_trainable_weights), "layers": rows}
    keras.backend.clear_session()
    return record


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=["video", "rnn", "keras"], help="one section only")
    parser.add_argument("--fresh", action="store_true", help="ignore an earlier file")
    parser.add_argument("--out", default=OUT)
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")
    packages = ["torch", "torchvision", "ptflops", "thop", "torchinfo", "keras", "jax"]
    store = Store(args.out, versions(packages, COMMAND), fresh=args.fresh)
    jobs = []
    if args.only in (None, "video"):
        jobs += [("video", name, lambda name=name: video_entry(name)) for name in VIDEO]
    if args.only in (None, "rnn"):
        jobs += [("torch_rnn", key, lambda c=config: rnn_entry(c)) for key, config in rnn_configs().items()]
    if args.only in (None, "keras"):
        jobs += [("keras", key, lambda code=code: keras_entry(code)) for key, code in KERAS_MODELS.items()]
    for section, name, run in jobs:
        if store.has((section, name)):
            continue
        log(f"{section} {name}")
        try:
            record = run()
        except Exception as exc:
            record = {"error": one_line_error(exc)}
        store.put((section, name), record)
    if args.only in (None, "video"):
        store.data["video_refused"] = refused_video()
        store.write()
    return 0


if __name__ == "__main__":
    sys.exit(main())
