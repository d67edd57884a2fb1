"""The executor's contract: weights (seeded, .npz, PyTorch state_dicts), memory, backends, CLI."""

import numpy as np
import pytest
from click.testing import CliRunner

import archcalc
from archcalc.cli import main
from archcalc.errors import ExecutionError
from archcalc.executor import backend, runner

LENET_X = np.random.default_rng(0).normal(size=(2, 1, 32, 32))

RESIDUAL = {"name": "residual", "input": [3, 8, 8], "layers": [
    {"name": "conv1", "type": "conv", "out_channels": 4, "kernel_size": 3, "padding": 1},
    {"name": "bn1", "type": "batchnorm"},
    {"name": "relu1", "type": "relu", "inplace": True},
    {"name": "conv2", "type": "conv", "out_channels": 4, "kernel_size": 3, "padding": 1, "from": "relu1"},
    {"name": "add", "type": "add", "from": ["conv2", "relu1"]},
    {"name": "relu2", "type": "relu", "inplace": True},
    {"name": "flat", "type": "flatten"},
    {"name": "fc", "type": "linear", "out_features": 3},
]}


# --- weights -----------------------------------------------------------------------------------

def test_init_weights_is_reproducible_and_seeded():
    a = archcalc.init_weights("lenet5", seed=3)
    b = archcalc.init_weights("lenet5", seed=3)
    c = archcalc.init_weights("lenet5", seed=4)
    assert list(a) == ["C1.weight", "C1.bias", "C3.weight", "C3.bias", "C5.weight", "C5.bias", "F6.weight",
                       "F6.bias", "F7.weight", "F7.bias"]
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(a["C3.weight"], c["C3.weight"])


def test_he_and_glorot_scales_and_default_values():
    he = archcalc.init_weights("lenet5", seed=0)
    glorot = archcalc.init_weights("lenet5", seed=0, init="glorot")
    # He: std √(2/fan_in), fan_in of C5 = 16·5·5 = 400; Glorot: √(2/(400 + 120·25))
    assert he["C5.weight"].std() == pytest.approx(np.sqrt(2 / 400), rel=0.02)
    assert glorot["C5.weight"].std() == pytest.approx(np.sqrt(2 / (400 + 3000)), rel=0.02)
    assert not he["C5.bias"].any()
    bn = archcalc.init_weights(RESIDUAL)
    assert (bn["bn1.weight"] == 1).all() and (bn["bn1.running_var"] == 1).all()
    assert not bn["bn1.bias"].any() and not bn["bn1.running_mean"].any()
    random = archcalc.init_weights(RESIDUAL, random_stats=True)
    assert random["bn1.running_mean"].any() and (random["bn1.running_var"] != 1).all()


def test_unknown_init_is_an_error():
    with pytest.raises(ExecutionError, match="init must be one of he, glorot"):
        archcalc.init_weights("lenet5", init="xavier")


def test_npz_round_trip(tmp_path):
    weights = archcalc.init_weights(RESIDUAL, seed=5, random_stats=True)
    path = tmp_path / "w.npz"
    archcalc.save_weights(weights, path)
    loaded = archcalc.load_weights(RESIDUAL, str(path))
    assert loaded.keys() == weights.keys()
    x = np.random.default_rng(1).normal(size=(1, 3, 8, 8))
    np.testing.assert_array_equal(archcalc.execute(RESIDUAL, x, str(path)), archcalc.execute(RESIDUAL, x, weights))


def test_missing_extra_and_misshapen_weights_are_named():
    weights = archcalc.init_weights("lenet5")
    del weights["C3.bias"]
    with pytest.raises(ExecutionError, match=r"missing weight 'C3.bias' \(shape \(16\)\)"):
        archcalc.load_weights("lenet5", weights)
    weights = archcalc.init_weights("lenet5")
    weights["C9.weight"] = np.zeros(3)
    with pytest.raises(ExecutionError, match="unexpected weight 'C9.weight'"):
        archcalc.load_weights("lenet5", weights)
    weights = archcalc.init_weights("lenet5")
    weights["C3.weight"] = np.zeros((16, 6, 3, 3))
    with pytest.raises(ExecutionError, match=r"lenet5.yaml: weight 'C3.weight' has shape \(16, 6, 3, 3\), "
                                             r"expected \(16, 6, 5, 5\)"):
        archcalc.execute("lenet5", LENET_X, weights)


def test_unreadable_weights_file_is_an_error(tmp_path):
    path = tmp_path / "bad.npz"
    path.write_text("not a zip")
    with pytest.raises(ExecutionError, match="cannot read weights"):
        archcalc.load_weights("lenet5", str(path))


def test_torch_state_dict_by_name_and_by_order():
    torch = pytest.importorskip("torch")
    network = archcalc.to_torch(RESIDUAL)
    by_name = archcalc.load_weights(RESIDUAL, network.state_dict())
    assert all(np.array_equal(by_name[k], v.numpy()) for k, v in network.state_dict().items() if k in by_name)
    # a hand-built PyTorch model with its own names: matched by order and shape
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.BatchNorm2d(4), torch.nn.ReLU(),
                                torch.nn.Conv2d(4, 4, 3, padding=1), torch.nn.Flatten(), torch.nn.Linear(256, 3))
    by_order = archcalc.load_weights(RESIDUAL, model)
    assert np.array_equal(by_order["conv2.weight"], model[3].weight.detach().numpy())
    assert np.array_equal(by_order["bn1.running_var"], model[1].running_var.numpy())
    wrong = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 5), torch.nn.BatchNorm2d(4), torch.nn.Conv2d(4, 4, 3),
                                torch.nn.Linear(256, 3))
    with pytest.raises(ExecutionError, match=r"weight '0.weight' of shape \(4, 3, 5, 5\) does not fit "
                                             r"'conv1.weight' of shape \(4, 3, 3, 3\)"):
        archcalc.load_weights(RESIDUAL, wrong)


def test_weights_copy_into_torch_and_back():
    torch = pytest.importorskip("torch")
    weights = archcalc.init_weights(RESIDUAL, seed=2, random_stats=True)
    network = archcalc.to_torch(RESIDUAL, weights, dtype="float64")
    assert set(network.state_dict()) == set(weights) | {"bn1.num_batches_tracked"}
    back = archcalc.load_weights(RESIDUAL, network)
    assert all(np.array_equal(back[k], weights[k]) for k in weights)
    x = np.random.default_rng(4).normal(size=(2, 3, 8, 8))
    with torch.no_grad():
        expected = network(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(archcalc.execute(RESIDUAL, x, weights, dtype="float64"), expected, rtol=1e-10)


# --- memory ------------------------------------------------------------------------------------

def test_the_walk_frees_tensors_as_the_analyzer_predicts():
    """The reference walk's live tensors (their storage, views and in-place writes resolved) follow
    the analyzer's liveness rule: the same peak. This checks the walk keeps no tensor longer."""
    for name, x in (("lenet5", LENET_X), (RESIDUAL, np.ones((3, 3, 8, 8)))):
        result = runner.run(name, x)
        assert result.peak_bytes == result.report.totals.peak_memory_bytes


def test_traced_allocations_bound_the_predicted_peak():
    """Independent of the walk's own bookkeeping: Python's allocation tracer sees at least the
    predicted live activations (the input excepted, it exists before) and at most those plus the
    parameters and the executor's im2col scratch (a NumPy tile of workspace.TILE_BYTES and its product)."""
    import tracemalloc

    from archcalc.arrays import workspace

    x = np.random.default_rng(0).standard_normal((2, 3, 64, 64)).astype("float32")
    arch = archcalc.load("resnet18")
    totals = archcalc.analyze(arch, input=x.shape[1:], batch=2).totals
    weights = archcalc.init_weights(arch, input=x.shape[1:])
    runner.run(arch, x, weights)  # warm-up: imports and one-off caches
    tracemalloc.start()
    runner.run(arch, x, weights)
    traced = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    activations = traced - totals.param_bytes
    scratch = 2 * workspace.TILE_BYTES["numpy"]
    assert totals.peak_memory_bytes - x.nbytes <= activations <= totals.peak_memory_bytes + scratch


def test_in_place_activation_does_not_touch_the_callers_input():
    arch = {"name": "t", "input": [2, 3, 3], "layers": [{"type": "relu", "inplace": True}]}
    x = -np.ones((1, 2, 3, 3), dtype="float32")
    assert not archcalc.execute(arch, x).any()
    assert (x == -1).all()


def test_intermediates_are_all_kept_on_request():
    output, values = archcalc.execute(RESIDUAL, np.ones((1, 3, 8, 8)), return_intermediates=True)
    assert list(values) == ["input", "conv1", "bn1", "relu1", "conv2", "add", "relu2", "flat", "fc"]
    assert values["fc"] is output
    assert (values["relu1"] >= 0).all()  # in-place ReLU is not applied when values are kept


def test_memory_refusal_names_predicted_and_available(monkeypatch):
    monkeypatch.setattr(backend, "available_memory", lambda xp: 1000)
    report = archcalc.analyze("lenet5", batch=2)
    predicted = report.totals.peak_memory_bytes + report.totals.param_bytes
    with pytest.raises(ExecutionError, match=f"lenet5.yaml: predicted memory {predicted:,} bytes .* exceeds "
                                             "80 % of the 1,000 bytes available in RAM"):
        archcalc.execute("lenet5", LENET_X)


@pytest.mark.parametrize(("share", "refused"), [(0.7, False), (0.9, True)])
def test_a_run_may_plan_to_fill_80_percent_of_the_free_memory(monkeypatch, share, refused):
    # the prediction leaves out a layer's temporaries: a run predicted at 90 % of the free memory
    # is refused, one at 70 % runs
    from archcalc.executor.runner import check_memory

    report = archcalc.analyze("lenet5", batch=2)
    predicted = report.totals.peak_memory_bytes + report.totals.param_bytes
    monkeypatch.setattr(backend, "available_memory", lambda xp: int(predicted / share))
    if refused:
        with pytest.raises(ExecutionError, match="exceeds 80 % of the"):
            check_memory(report, np)
    else:
        check_memory(report, np)


def test_run_refuses_a_batch_that_cannot_fit_before_making_its_input():
    # 100,000 × 3 × 224 × 224 float32 inputs alone are 60 GB: one line, exit 2, nothing allocated
    result = CliRunner().invoke(main, ["run", "resnet18", "--batch", "100000"])
    assert result.exit_code == 2
    assert "predicted memory" in result.output and "exceeds" in result.output and "Traceback" not in result.output


def test_memory_probe_reads_meminfo():
    assert backend.available_memory(np) > 0


# --- backends and inputs -----------------------------------------------------------------------

def test_unknown_backend_and_dtype():
    with pytest.raises(ExecutionError, match="backend must be one of numpy, cupy, auto"):
        archcalc.execute("lenet5", LENET_X, backend="jax")
    with pytest.raises(ExecutionError, match="dtype must be one of float32, float64"):
        archcalc.execute("lenet5", LENET_X, dtype="int8")


def test_auto_backend_falls_back_to_numpy(monkeypatch):
    monkeypatch.setattr(backend, "cupy_problem", lambda: "CuPy is not installed")
    assert backend.array_module("auto") is np
    with pytest.raises(ExecutionError, match="the cupy backend cannot run: CuPy is not installed"):
        backend.array_module("cupy")


def test_input_without_batch_axis_is_an_error():
    expected = (r"lenet5.yaml: input: the input must be a batch of shape \(N, 1, 32, 32\), "
                r"got an array of shape \(1, 32, 32\)")
    with pytest.raises(ExecutionError, match=expected):
        archcalc.execute("lenet5", LENET_X[0])


def test_other_input_size_runs_at_that_size():
    arch = {"name": "t", "input": [1, 8, 8], "layers": [{"type": "conv", "out_channels": 2, "kernel_size": 3}]}
    assert archcalc.execute(arch, np.ones((1, 1, 12, 10))).shape == (1, 2, 10, 8)


def test_shape_error_at_execution_names_the_layer():
    with pytest.raises(archcalc.ShapeError, match=r"lenet5.yaml:\d+: C5"):
        archcalc.execute("lenet5", np.ones((1, 1, 16, 16)))


# --- CLI ---------------------------------------------------------------------------------------

def test_run_command_summary_and_profile(tmp_path):
    x = np.random.default_rng(0).normal(size=(1, 32, 32))
    np.save(tmp_path / "x.npy", x)
    archcalc.save_weights(archcalc.init_weights("lenet5", seed=9), tmp_path / "w.npz")
    result = CliRunner().invoke(main, ["run", "lenet5", "--input-file", str(tmp_path / "x.npy"), "--weights",
                                       str(tmp_path / "w.npz"), "--profile", "--batch", "2"])
    assert result.exit_code == 0, result.output
    assert "output (2, 10, 1, 1)" in result.output
    expected = archcalc.execute("lenet5", np.stack([x, x]), str(tmp_path / "w.npz"))[0].reshape(-1)
    assert f"#{int(np.argmax(expected))} " in result.output.splitlines()[1]
    assert "C3     conv" in result.output and "480,000" in result.output  # lecture C3: 10·10·16·(6·5·5)
    assert "47,040 B measured, 47,040 B predicted" in result.output


def test_run_command_errors_are_one_line(tmp_path):
    (tmp_path / "w.npz").write_bytes(b"junk")
    result = CliRunner().invoke(main, ["run", "lenet5", "--weights", str(tmp_path / "w.npz")])
    assert result.exit_code == 2
    assert result.output.startswith("archcalc: error: lenet5.yaml: cannot read weights")


def _hostile_weights(folder) -> dict[str, tuple[str, str]]:
    """File name → (its contents' problem, the words the one-line error must hold)."""
    weights = archcalc.init_weights("lenet5")
    np.savez(folder / "good.npz", **weights)
    whole = (folder / "good.npz").read_bytes()
    (folder / "truncated.npz").write_bytes(whole[: len(whole) // 2])
    (folder / "zip-header-only.npz").write_bytes(b"PK\x03\x04garbage")
    np.savez(folder / "text.npz", **{k: np.full(v.shape, "a") for k, v in weights.items()})
    np.savez(folder / "text-by-order.npz", **{f"w{i}": np.full(v.shape, "a") for i, v in enumerate(weights.values())})
    np.savez(folder / "complex.npz", **{k: v.astype(complex) for k, v in weights.items()})
    return {"truncated.npz": "cannot read weights", "zip-header-only.npz": "cannot read weights",
            "text.npz": "is not an array of numbers", "text-by-order.npz": "is not an array of numbers",
            "complex.npz": "is not an array of numbers"}


def test_broken_or_non_numeric_weight_files_are_one_line_errors(tmp_path):
    for name, words in _hostile_weights(tmp_path).items():
        result = CliRunner().invoke(main, ["run", "lenet5", "--weights", str(tmp_path / name)])
        assert result.exit_code == 2, (name, result.output)
        assert result.output.startswith("archcalc: error: lenet5.yaml: ") and words in result.output, name


def test_a_non_numeric_input_is_refused(tmp_path):
    np.save(tmp_path / "text.npy", np.full((1, 1, 32, 32), "a"))
    result = CliRunner().invoke(main, ["run", "lenet5", "--input-file", str(tmp_path / "text.npy")])
    assert result.exit_code == 2 and "not an array of real numbers" in result.output
    with pytest.raises(ExecutionError, match="lenet5.yaml: input: the input must be an array of real numbers"):
        archcalc.execute("lenet5", np.full((1, 1, 32, 32), "a"))


# --- CuPy --------------------------------------------------------------------------------------

def _cupy_or_skip():
    problem = backend.cupy_problem()
    if problem:
        pytest.skip(problem)
    import cupy

    return cupy


def test_cupy_equals_numpy():
    cupy = _cupy_or_skip()
    weights = archcalc.init_weights(RESIDUAL, seed=1, random_stats=True)
    x = np.random.default_rng(2).normal(size=(2, 3, 8, 8))
    gpu = archcalc.execute(RESIDUAL, x, weights, backend="cupy", dtype="float64")
    assert isinstance(gpu, cupy.ndarray)
    np.testing.assert_allclose(cupy.asnumpy(gpu), archcalc.execute(RESIDUAL, x, weights, dtype="float64"),
                               rtol=1e-10)


def test_cupy_runs_every_layer_case_like_numpy():
    cupy = _cupy_or_skip()
    from tests.test_execute_layers import CASES

    for name, (mapping, _) in CASES.items():
        weights = archcalc.init_weights(mapping, seed=7, random_stats=True)
        x = np.random.default_rng(3).normal(size=(2, *mapping["input"]))
        gpu = cupy.asnumpy(archcalc.execute(mapping, x, weights, backend="cupy", dtype="float64"))
        np.testing.assert_allclose(gpu, archcalc.execute(mapping, x, weights, dtype="float64"), rtol=1e-10,
                                   atol=1e-12, err_msg=name)


def test_cupy_lenet5_and_demos():
    _cupy_or_skip()
    from archcalc.executor.demos import demo, run_demo

    assert run_demo(demo("maxpool"), backend="cupy")["pool"][0].tolist() == [[9, 6], [9, 8]]
    result = runner.run("lenet5", LENET_X, backend="cupy")
    assert result.backend == "cupy"
    assert result.peak_bytes == result.report.totals.peak_memory_bytes


def test_gamma_less_batchnorm_matches_torch_with_one_fewer_parameter_per_channel():
    """Keras BatchNormalization(scale=False): β only; the PyTorch build holds γ = 1 as a constant."""
    torch = pytest.importorskip("torch")
    spec = {"name": "bn-no-scale", "input": [4, 5, 5],
            "layers": [{"name": "bn", "type": "batchnorm", "scale": False},
                       {"name": "conv", "type": "conv", "out_channels": 3, "kernel_size": 1}]}
    arch = archcalc.load(spec)
    weights = archcalc.init_weights(arch, seed=1, random_stats=True)
    network = archcalc.to_torch(arch, weights, dtype="float64").eval()
    assert sum(p.numel() for p in network.parameters()) == 4 + 3 * 4 + 3  # β, conv weight, conv bias
    x = np.random.default_rng(0).standard_normal((2, 4, 5, 5))
    with torch.no_grad():
        expected = network(torch.tensor(x)).numpy()
    np.testing.assert_allclose(archcalc.execute(arch, x, weights, dtype="float64"), expected, rtol=1e-10)


def test_a_state_dict_with_dotted_module_names_loads_by_name():
    """torchvision's keys (`layer1.0.conv1.weight`) name archcalc's paths (`layer1/0/conv1.weight`):
    they load by name even when the order differs."""
    arch = archcalc.load("resnet18")
    ours = archcalc.init_weights(arch, seed=3)
    dotted = {key.replace("/", "."): value for key, value in reversed(list(ours.items()))}
    loaded = archcalc.load_weights(arch, dotted)
    assert all(np.array_equal(loaded[key], ours[key]) for key in ours)
