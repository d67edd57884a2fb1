"""Hostile arguments to the library API and the executor and grading commands: each is refused with an
`ArchcalcError` naming the argument (or graded unparseable), never a traceback, a blow-up or a wrong
number. Command-line cases run in a fresh process, measured: exit 2, one stderr line, and, where the
defect was a blow-up, generous bounds on time and memory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile

import numpy as np
import pytest

import archcalc
from archcalc import formulas
from archcalc.errors import ArchcalcError, ExecutionError
from archcalc.executor import backend
from archcalc.grading.numbers import Unreadable, parse_count

NAN, INF = float("nan"), float("inf")

# ---------------------------------------------------------------- the formulas


@pytest.mark.parametrize("call, argument", [
    (lambda: formulas.conv_output_size(NAN, 3), "input size"),
    (lambda: formulas.conv_output_size("10", 3), "input size"),
    (lambda: formulas.conv_output_size(True, 3), "input size"),
    (lambda: formulas.conv_output_size(10.0, 3), "input size"),
    (lambda: formulas.conv_output_size(10**16, 3), "input size"),
    (lambda: formulas.conv_output_size(-10**5000, 3), "input size"),
    (lambda: formulas.conv_output_size(10, 3, stride=INF), "stride"),
    (lambda: formulas.conv_output_size(10, 3, dilation=0), "dilation"),
    (lambda: formulas.conv_output_size(10, 3, padding=(1, -1)), "padding"),
    (lambda: formulas.conv_output_size(10, 3, padding=(1, 2, 3)), "padding"),
    (lambda: formulas.conv_output_size(10, 3, ceil_mode=1), "ceil_mode"),
    (lambda: formulas.conv_params(3, 4, 3, groups=0), "groups"),
    (lambda: formulas.conv_params(3, 4, 3, groups=2), "groups"),
    (lambda: formulas.conv_params(3, 4, 2.5), "kernel_size"),
    (lambda: formulas.conv_params(3, 4, 3, bias="yes"), "bias"),
    (lambda: formulas.conv_params(0, 4, 3), "in_channels"),
    (lambda: formulas.conv_macs(1, 1, 3, 4, (3, 3, 3)), "kernel_size"),
    (lambda: formulas.conv_macs(0, 1, 3, 4, 3), "out_h"),
    (lambda: formulas.conv_macs(1, 1, 4, 4, 3, groups=-2), "groups"),
    (lambda: formulas.linear_params(-1, 4), "in_features"),
    (lambda: formulas.linear_params(3, 0), "out_features"),
    (lambda: formulas.linear_params(3, NAN), "out_features"),
    (lambda: formulas.same_padding(10, 3, 0), "stride"),
    (lambda: formulas.same_padding(10, 3, dilation=1.0), "dilation"),
    (lambda: formulas.resolve_padding((1, "a"), (8, 8), (3, 3), (1, 1)), "padding"),
    (lambda: formulas.tiling_remainder(10, 3, 1, (0, -1)), "padding"),
], ids=lambda value: value if isinstance(value, str) else "")
def test_a_formula_refuses_a_bad_argument_by_name(call, argument):
    with pytest.raises(ArchcalcError, match=argument):
        call()


def test_formulas_take_any_whole_number_type():
    # AlexNet's first layer, (227 − 11)/4 + 1 = 55 (cs231n; Krizhevsky et al. 2012)
    assert formulas.conv_output_size(np.int64(227), np.int32(11), stride=4) == 55
    assert formulas.conv_params(3, 96, (11, 11)) == 34_944  # cs231n's AlexNet CONV1: 11·11·3·96 + 96

# ---------------------------------------------------------------- the weights API


def test_save_weights_to_a_missing_folder_is_an_execution_error(tmp_path):
    weights = archcalc.init_weights("lenet5")
    with pytest.raises(ExecutionError, match="cannot write weights"):
        archcalc.save_weights(weights, tmp_path / "absent" / "w.npz")
    with pytest.raises(ExecutionError, match="weight 'a' is not an array of numbers"):
        archcalc.save_weights({"a": "text"}, tmp_path / "w.npz")
    with pytest.raises(ExecutionError, match="mapping"):
        archcalc.save_weights([1, 2], tmp_path / "w.npz")


@pytest.mark.parametrize("seed", [-1, 1.5, True, "3", 2**64, 10**5000],
                         ids=["negative", "fraction", "bool", "text", "2**64", "10**5000"])
def test_a_seed_that_is_not_a_whole_number_from_zero_is_refused(seed):
    with pytest.raises(ExecutionError, match="seed must be a whole number"):
        archcalc.init_weights("lenet5", seed=seed)
    with pytest.raises(ExecutionError, match="seed must be a whole number"):
        archcalc.execute("lenet5", np.zeros((1, 1, 32, 32)), seed=seed)


@pytest.mark.parametrize("value", [NAN, INF, -INF])
def test_non_finite_weights_are_refused_naming_the_key(value):
    weights = archcalc.init_weights("lenet5")
    weights["C3.weight"] = weights["C3.weight"].copy()
    weights["C3.weight"][0, 0, 0, 0] = value
    with pytest.raises(ExecutionError, match=r"lenet5\.yaml: weight 'C3\.weight' holds NaN or infinite values"):
        archcalc.execute("lenet5", np.zeros((1, 1, 32, 32)), weights)


def test_a_negative_running_variance_is_refused_naming_the_key():
    # √(var + ε) of a negative variance is NaN: the whole output would be NaN without a word
    weights = archcalc.init_weights("resnet18", input=[3, 32, 32])
    weights["layer1/0/bn1.running_var"] = np.full(64, 1.0)
    weights["layer1/0/bn1.running_var"][5] = -0.5
    with pytest.raises(ExecutionError, match=r"resnet18\.yaml: weight 'layer1/0/bn1\.running_var' holds -0\.5: "
                                             r"it may not be below 0"):
        archcalc.execute("resnet18", np.zeros((1, 3, 32, 32)), weights)
    weights["layer1/0/bn1.running_var"][5] = 0.0  # a variance of 0 is allowed (ε keeps the root positive)
    assert np.isfinite(archcalc.execute("resnet18", np.ones((1, 3, 32, 32)), weights)).all()


def test_to_torch_refuses_a_module_larger_than_the_memory_available(monkeypatch):
    pytest.importorskip("torch")
    monkeypatch.setattr(backend, "available_memory", lambda xp: 1000)
    # LeNet-5 has 61,706 parameters (LeCun et al. 1998): 246,824 bytes in float32
    with pytest.raises(ExecutionError, match=r"lenet5\.yaml: .*61,706 parameters \(246,824 bytes\) exceeds 80 % of the "
                                             r"1,000 bytes available in RAM"):
        archcalc.to_torch("lenet5")


def _npz_with_extra_member(path, weights, extra_shape, extra_bytes, descr="<f4"):
    """The weights as an .npz, plus a member `bogus` whose header says `extra_shape` and whose data
    is `extra_bytes` zero bytes (deflated: a small file)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for key, array in weights.items():
            with archive.open(f"{key}.npy", "w") as member:
                np.lib.format.write_array(member, array)
        with archive.open("bogus.npy", "w", force_zip64=True) as member:
            np.lib.format.write_array_header_1_0(member, {"descr": descr, "fortran_order": False,
                                                          "shape": extra_shape})
            block = bytes(1 << 22)
            for start in range(0, extra_bytes, len(block)):
                member.write(block[:extra_bytes - start])


def test_an_npz_key_is_refused_from_its_header_before_its_data_is_read(tmp_path):
    # the header claims 400 MB and no data follows: only the header may be read
    path = tmp_path / "w.npz"
    _npz_with_extra_member(path, archcalc.init_weights("lenet5"), (100_000_000,), 0)
    with pytest.raises(ExecutionError, match="unexpected weight 'bogus'"):
        archcalc.load_weights("lenet5", path)


def test_an_npz_array_that_is_not_numbers_is_refused_from_its_header(tmp_path):
    weights = archcalc.init_weights("lenet5")
    path = tmp_path / "w.npz"
    _npz_with_extra_member(path, {k: v for k, v in weights.items() if k != "F7.bias"}, (10,), 0, descr="|O")
    with pytest.raises(ExecutionError, match="weight 'bogus' is not an array of numbers"):
        archcalc.load_weights("lenet5", path)

# ---------------------------------------------------------------- the command line, measured

_MEASURE = """
import resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
seconds = time.perf_counter() - start
peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
sys.stdout.write(f"{done.returncode} {seconds} {peak_mb}\\n" + done.stderr)
"""


def _measured(*args, cwd):
    """Run `archcalc ARGS` in its own measuring process: (exit status, stderr, seconds, peak MB)."""
    done = subprocess.run([sys.executable, "-c", _MEASURE, sys.executable, "-m", "archcalc", *args],
                          capture_output=True, text=True, cwd=cwd, check=True)
    first, _, stderr = done.stdout.partition("\n")
    status, seconds, peak_mb = first.split()
    return int(status), stderr, float(seconds), float(peak_mb)


def _one_error_line(stderr, *words):
    assert stderr.count("\n") == 1 and stderr.startswith("archcalc: error: "), stderr
    assert all(word in stderr for word in words), stderr


def test_run_with_a_negative_seed_is_one_line(tmp_path):
    status, stderr, _, _ = _measured("run", "lenet5", "--seed", "-1", cwd=tmp_path)
    assert status == 2
    _one_error_line(stderr, "seed")


@pytest.mark.skipif(not os.path.exists("/proc/meminfo"), reason="the memory check reads /proc/meminfo")
def test_run_checks_memory_before_repeating_an_input_file_to_the_batch(tmp_path):
    np.save(tmp_path / "x.npy", np.zeros((1, 32, 32), dtype="float32"))
    # 10**9 LeNet-5 inputs are 4 TB: refused from the shapes, nothing allocated
    status, stderr, seconds, peak_mb = _measured("run", "lenet5", "--input-file", "x.npy", "--batch",
                                                 str(10**9), cwd=tmp_path)
    assert status == 2
    _one_error_line(stderr, "predicted memory", "exceeds")
    assert seconds < 2 and peak_mb < 300  # generous: the blow-up was tens of GB


def test_run_refuses_an_npz_bomb_under_an_unexpected_key_without_unpacking_it(tmp_path):
    # 1.7 MB on disk, 400 MB of zeros once decompressed
    _npz_with_extra_member(tmp_path / "w.npz", archcalc.init_weights("lenet5"), (100_000_000,), 400_000_000)
    status, stderr, seconds, peak_mb = _measured("run", "lenet5", "--weights", "w.npz", cwd=tmp_path)
    assert status == 2
    _one_error_line(stderr, "unexpected weight 'bogus'")
    assert seconds < 2 and peak_mb < 300  # generous: it took 6 s and 430 MB


def test_run_refuses_nan_weights_in_one_line(tmp_path):
    weights = archcalc.init_weights("lenet5")
    weights["F7.bias"] = np.full(10, np.nan)
    archcalc.save_weights(weights, tmp_path / "w.npz")
    status, stderr, _, _ = _measured("run", "lenet5", "--weights", "w.npz", cwd=tmp_path)
    assert status == 2
    _one_error_line(stderr, "F7.bias", "NaN")

# ---------------------------------------------------------------- grading


@pytest.mark.parametrize("text", ["0G", "0M", "0K", "0.0M", "0e9", "0e999", "0×10^6"])
def test_a_zero_with_a_unit_is_exactly_zero(text):
    number = parse_count(text)
    assert number.matches(0)
    assert not number.matches(1) and not number.matches(156)


def test_a_sheet_of_zeros_with_units_is_right_only_where_the_answer_is_zero():
    # LeNet-5 (seed 000, Example 3.1): C1 has 156 parameters, the pooling layer S2 none
    for zero in ("0G", "0M", "0e999"):
        grade = archcalc.check("lenet5", [{"layer": "C1", "params": zero}, {"layer": "S2", "params": zero},
                                          {"layer": "TOTAL", "params": zero}], total=True)
        assert [grade.cell(layer, "params").verdict for layer in ("C1", "S2", "TOTAL")] == \
            ["wrong", "correct", "wrong"], zero


@pytest.mark.parametrize("value", ["1e309", "1e999", "1.8×10^999", "1.8e30", 10**30, 10**5000, 1e308],
                         ids=["1e309", "1e999", "1.8×10^999", "1.8e30", "10**30", "10**5000", "float 1e308"])
def test_a_count_beyond_ten_to_the_thirty_is_unparseable(value):
    with pytest.raises(Unreadable):
        parse_count(value)
    grade = archcalc.check("lenet5", [{"layer": "C1", "params": value}, {"layer": "TOTAL", "params": value}],
                           total=True)
    assert {cell.verdict for cell in grade.cells if cell.verdict != "unanswered"} == {"unparseable"}


def test_an_integer_too_long_to_write_out_is_unparseable_wherever_it_stands():
    huge = 10**5000
    grade = archcalc.check("lenet5", [{"layer": "C1", "params": huge, "output": [huge, 1]},
                                      {"layer": "C3", "params": [huge]}, {"layer": huge, "params": 1}])
    assert [cell.verdict for cell in grade.cells if cell.verdict != "unanswered"] == ["unparseable"] * 3
    assert "row 3 'a value too large to write out' is no layer of lenet5: not graded" in grade.notes


@pytest.mark.parametrize("cell", ["1e309", "1.8×10^999", "0G"])
def test_check_grades_hostile_count_cells_without_a_traceback(tmp_path, cell):
    (tmp_path / "s.csv").write_text(f"layer,params\nC1,{cell}\nS2,{cell}\nTOTAL,{cell}\n")
    status, stderr, _, _ = _measured("check", "lenet5", "s.csv", cwd=tmp_path)
    assert status == 1 and stderr == ""


def test_check_reads_a_json_sheet_with_a_5000_digit_number(tmp_path):
    (tmp_path / "s.json").write_text('[{"layer": "C1", "params": ' + "9" * 5000 + "}]")
    grade = archcalc.check("lenet5", tmp_path / "s.json")
    assert grade.cell("C1", "params").verdict == "unparseable"
    status, stderr, _, _ = _measured("check", "lenet5", "s.json", cwd=tmp_path)
    assert status == 1 and stderr == ""


def test_json_sheet_numbers_of_ordinary_length_are_still_numbers():
    grade = archcalc.check("lenet5", json.dumps([{"layer": "C1", "params": 156}]))
    assert grade.cell("C1", "params").correct
