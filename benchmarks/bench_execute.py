"""Forward-pass speed and memory of archcalc's executor against PyTorch, written to a markdown report.

    python benchmarks/bench_execute.py [--quick] [--out FILE]

(benchmarks/results/execute.md holds one run's tables with the analysis written around them: write
a new run to another file and carry its tables over.)

The run measures itself twice, each time in a fresh subprocess: once with the environment as it
is and once without OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE (which pin OpenBLAS to a slower
kernel on some machines); threadpoolctl says which kernel ran. For each model and batch it times
a prepared `Plan` (NumPy) and the same network built by `archcalc.to_torch` with the same weights
(float32, eval, no_grad, `torch.set_num_threads(2)`): median of several runs after a warm-up. It
reports the ratio, the achieved GFLOP/s (2·MACs from the analyzer over the time), a large
`np.matmul` as the practical ceiling, the peak memory of a forward pass (tracemalloc, weights
included) against the analyzer's peak activations plus parameters, and where the time goes
(cProfile, grouped by kernel). Where CuPy and a CUDA device exist, the same against PyTorch CUDA.
Needs torch and threadpoolctl.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime
import json
import os
import platform
import pstats
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
from machine import cpu_name

MODELS = ("resnet18", "resnet50", "vgg16-torchvision", "mobilenet_v2")
OPENBLAS_VARIABLES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
# Targets: archcalc-numpy time / PyTorch CPU time (never asserted, only reported).
CPU_TARGETS = {"resnet50": 1.25, "vgg16-torchvision": 1.25, "mobilenet_v2": 2.0}
GPU_TARGETS = {("resnet50", 64): 2.0}
PROFILED = (("resnet18", 1), ("resnet50", 1), ("resnet50", 8), ("vgg16-torchvision", 1), ("mobilenet_v2", 1))
# cProfile function name → the part of the work it stands for.
KERNEL_GROUPS = {
    "_im2col_products": "matrix products (GEMM)", "_fill_columns": "im2col copies",
    "_depthwise": "depthwise multiply-adds", "conv2d": "bias", "pool2d": "pooling", "adaptive_pool2d": "pooling",
    "apply_in_place": "in-place activations", "_step": "linear layers, add, walk (Python)",
    "forward_prepared": "linear layers, add, walk (Python)",
    "__call__": "linear layers, add, walk (Python)", "forward": "other layers", "scratch": "scratch buffers",
}


def median_seconds(function, repeat: int, warmup: int = 1, synchronize=None) -> float:
    for _ in range(warmup):
        function()
    if synchronize:
        synchronize()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        if synchronize:
            synchronize()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def gemm_rate(xp=np, size: int = 2048, synchronize=None) -> float:
    """GFLOP/s of a size×size float32 matrix product."""
    a = xp.asarray(np.random.default_rng(0).standard_normal((size, size), dtype=np.float32))
    seconds = median_seconds(lambda: xp.matmul(a, a), 7, 2, synchronize)
    return 2 * size ** 3 / seconds / 1e9


def openblas_kernel() -> str:
    from threadpoolctl import threadpool_info

    found = [f"{i.get('internal_api')} {i.get('version')} {i.get('architecture')} ({i.get('num_threads')} threads)"
             for i in threadpool_info() if i.get("user_api") == "blas"]
    return "; ".join(found) or "unknown"


def prepare(name: str):
    import archcalc
    from archcalc.executor.weights import init_weights

    report = archcalc.analyze(name)
    weights = init_weights(report, seed=0, random_stats=True)
    return report, weights


def cpu_case(name: str, batch: int, repeat: int, report, plan, module) -> dict:
    import torch

    import archcalc

    x = np.random.default_rng(1).standard_normal((batch, *report.layers[0].output_shape), dtype=np.float32)
    with torch.no_grad():
        expected = module(torch.from_numpy(x)).numpy()
        torch_s = median_seconds(lambda: module(torch.from_numpy(x)), repeat)
    got = plan(x)
    ours_s = median_seconds(lambda: plan(x), repeat)
    macs = archcalc.analyze(report.architecture, batch=batch).totals.macs
    return {"model": name, "batch": batch, "archcalc_s": ours_s, "torch_s": torch_s,
            "ratio": ours_s / torch_s, "gflops": 2 * macs / ours_s / 1e9, "torch_gflops": 2 * macs / torch_s / 1e9,
            "max_rel_error": float(np.abs(got - expected).max() / np.abs(expected).max()),
            **peak_memory(plan, x, report, batch)}


def peak_memory(plan, x, report, batch: int) -> dict:
    """tracemalloc's peak over one forward pass plus the prepared weights, against the analyzer's
    peak activations (input included) plus parameter bytes."""
    import archcalc

    weight_bytes = sum(int(a.nbytes) for params in plan.params.values() for a in params.values())
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    plan(x)
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    totals = archcalc.analyze(report.architecture, batch=batch).totals
    predicted = totals.peak_memory_bytes + totals.param_bytes
    measured = peak + int(x.nbytes) + weight_bytes
    return {"measured_bytes": measured, "predicted_bytes": predicted, "memory_ratio": measured / predicted}


def where_time_goes(plan, report, batch: int) -> dict:
    x = np.random.default_rng(1).standard_normal((batch, *report.layers[0].output_shape), dtype=np.float32)
    plan(x)
    profiler = cProfile.Profile()
    profiler.enable()
    plan(x)
    profiler.disable()
    groups: dict[str, float] = {}
    for (filename, _, function), (_, _, tottime, _, _) in pstats.Stats(profiler).stats.items():
        group = KERNEL_GROUPS.get(function) if "archcalc" in filename else None
        groups[group or "other"] = groups.get(group or "other", 0.0) + tottime
    total = sum(groups.values())
    return {key: value / total for key, value in sorted(groups.items(), key=lambda kv: -kv[1])}


def gpu_cases(models, batches, repeat: int) -> dict:
    """archcalc-cupy against PyTorch CUDA (float32, TF32 off on both sides), or why it cannot run."""
    from archcalc.executor.backend import cupy_problem

    problem = cupy_problem()
    import torch

    if problem is None and not torch.cuda.is_available():
        problem = "PyTorch has no CUDA device"
    if problem:
        return {"skipped": problem}
    import cupy

    import archcalc
    from archcalc.executor.plan import Plan

    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.benchmark = True
    sync_cupy, sync_torch = cupy.cuda.Device().synchronize, torch.cuda.synchronize
    rows = []
    for name in models:
        report, weights = prepare(name)
        plan = Plan(report.architecture, weights, backend="cupy")
        module = archcalc.to_torch(report.architecture, weights).cuda()
        for batch in batches:
            x = np.random.default_rng(1).standard_normal((batch, *report.layers[0].output_shape), dtype=np.float32)
            x_gpu, x_torch = cupy.asarray(x), torch.from_numpy(x).cuda()
            with torch.no_grad():
                expected = module(x_torch).cpu().numpy()
                torch_s = median_seconds(lambda: module(x_torch), repeat, 3, sync_torch)  # noqa: B023
            got = cupy.asnumpy(plan(x_gpu))
            ours_s = median_seconds(lambda: plan(x_gpu), repeat, 3, sync_cupy)  # noqa: B023
            macs = archcalc.analyze(report.architecture, batch=batch).totals.macs
            rows.append({"model": name, "batch": batch, "archcalc_s": ours_s, "torch_s": torch_s,
                         "ratio": ours_s / torch_s, "gflops": 2 * macs / ours_s / 1e9,
                         "max_rel_error": float(np.abs(got - expected).max() / np.abs(expected).max())})
    return {"device": cupy.cuda.runtime.getDeviceProperties(0)["name"].decode(), "cupy": cupy.__version__,
            "gemm_gflops": gemm_rate(cupy, 8192, sync_cupy), "rows": rows}


def child(args) -> dict:
    import torch

    from archcalc.executor.plan import Plan

    torch.set_num_threads(2)
    result = {"env": {key: os.environ.get(key) for key in OPENBLAS_VARIABLES}, "openblas": openblas_kernel(),
              "gemm_gflops": gemm_rate(), "torch_gemm_gflops": torch_gemm_rate(), "rows": [], "profile": {}}
    for name in args.models:
        report, weights = prepare(name)
        plan = Plan(report.architecture, weights)
        module = archcalc_torch(report, weights)
        for batch in args.batches:
            result["rows"].append(cpu_case(name, batch, args.repeat, report, plan, module))
            print(json.dumps(result["rows"][-1]), file=sys.stderr)
            if args.profile and (name, batch) in PROFILED:
                result["profile"][f"{name} b{batch}"] = where_time_goes(plan, report, batch)
    if args.gpu:
        result["gpu"] = gpu_cases(args.models, args.gpu_batches, args.repeat)
    return result


def archcalc_torch(report, weights):
    import archcalc

    return archcalc.to_torch(report.architecture, weights)


def torch_gemm_rate(size: int = 2048) -> float:
    import torch

    a = torch.from_numpy(np.random.default_rng(0).standard_normal((size, size), dtype=np.float32))
    return 2 * size ** 3 / median_seconds(lambda: torch.matmul(a, a), 7, 2) / 1e9


def versions() -> dict:
    import torch

    info = {"python": platform.python_version(), "numpy": np.__version__, "torch": torch.__version__,
            "cpu": cpu_name(), "cores": os.cpu_count(), "affinity": len(os.sched_getaffinity(0)),
            "date": datetime.date.today().isoformat()}
    try:
        import cupy

        info["cupy"] = cupy.__version__
    except ImportError:
        pass
    return info


def markdown(info: dict, runs: dict[str, dict]) -> str:
    lines = ["# Executor benchmark: archcalc (NumPy / CuPy) against PyTorch", "",
             f"Date {info['date']}; CPU {info['cpu']} ({info['affinity']} of {info['cores']} cores usable); "
             f"Python {info['python']}, NumPy {info['numpy']}, PyTorch {info['torch']}"
             + (f", CuPy {info['cupy']}" if "cupy" in info else "") + ".",
             "Generated by `python benchmarks/bench_execute.py`: float32, median after a warm-up, archcalc as a "
             "prepared `Plan` (BatchNorm folded), PyTorch via `archcalc.to_torch` with the same weights "
             "(eval, no_grad, 2 threads). Ratio = archcalc time / PyTorch time; GFLOP/s = 2·MACs / time.", ""]
    for label, run in runs.items():
        env = ", ".join(f"{k}={v}" for k, v in run["env"].items() if v is not None) or "neither variable set"
        lines += [f"## CPU, {label} ({env})", "",
                  f"OpenBLAS kernel: {run['openblas']}. Ceiling: `np.matmul` 2048² float32 "
                  f"{run['gemm_gflops']:.0f} GFLOP/s (torch.matmul {run['torch_gemm_gflops']:.0f}).", "",
                  "| model | batch | archcalc ms | PyTorch ms | ratio | target | archcalc GFLOP/s | PyTorch GFLOP/s "
                  "| max rel. error | peak memory MB (measured / predicted) |",
                  "|---|---:|---:|---:|---:|---|---:|---:|---:|---|"]
        for row in run["rows"]:
            target = CPU_TARGETS.get(row["model"])
            verdict = "–" if target is None else f"≤ {target} {'met' if row['ratio'] <= target else 'MISSED'}"
            lines.append(f"| {row['model']} | {row['batch']} | {row['archcalc_s'] * 1e3:.1f} | "
                         f"{row['torch_s'] * 1e3:.1f} | {row['ratio']:.2f} | {verdict} | {row['gflops']:.0f} | "
                         f"{row['torch_gflops']:.0f} | {row['max_rel_error']:.1e} | "
                         f"{row['measured_bytes'] / 1e6:.0f} / {row['predicted_bytes'] / 1e6:.0f} "
                         f"({row['memory_ratio']:.2f}) |")
        if run["profile"]:
            lines += ["", "Where the time goes (cProfile, share of one forward pass):", ""]
            for case, groups in run["profile"].items():
                lines.append(f"- {case}: " + ", ".join(f"{k} {v:.0%}" for k, v in groups.items() if v >= 0.01))
        lines.append("")
    gpu = next((run["gpu"] for run in runs.values() if "gpu" in run), None)
    if gpu is not None:
        lines += ["## GPU", ""]
        if "skipped" in gpu:
            lines += [f"Not measured: {gpu['skipped']}.", ""]
        else:
            lines += [f"{gpu['device']}, CuPy {gpu['cupy']}; TF32 off on both sides (true float32); "
                      f"`cupy.matmul` 8192² float32 {gpu['gemm_gflops']:.0f} GFLOP/s.", "",
                      "| model | batch | archcalc-cupy ms | PyTorch CUDA ms | ratio | target | archcalc GFLOP/s "
                      "| max rel. error |", "|---|---:|---:|---:|---:|---|---:|---:|"]
            for row in gpu["rows"]:
                target = GPU_TARGETS.get((row["model"], row["batch"]))
                verdict = "–" if target is None else f"≤ {target} {'met' if row['ratio'] <= target else 'MISSED'}"
                lines.append(f"| {row['model']} | {row['batch']} | {row['archcalc_s'] * 1e3:.2f} | "
                             f"{row['torch_s'] * 1e3:.2f} | {row['ratio']:.2f} | {verdict} | {row['gflops']:.0f} | "
                             f"{row['max_rel_error']:.1e} |")
            lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="batch 1 only, 3 runs, no profile")
    parser.add_argument("--models", nargs="+", default=list(MODELS))
    parser.add_argument("--batches", nargs="+", type=int, default=[1, 8])
    parser.add_argument("--gpu-batches", nargs="+", type=int, default=[1, 8, 64])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", type=Path, help="write the markdown report here (default: print it)")
    parser.add_argument("--child", choices=("as-is", "unset"), help=argparse.SUPPRESS)
    parser.add_argument("--gpu", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--profile", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.quick:
        args.batches, args.repeat = [1], 3
    if args.child:
        print(json.dumps(child(args)))
        return
    common = [sys.executable, __file__, "--models", *args.models, "--batches", *map(str, args.batches),
              "--gpu-batches", *map(str, args.gpu_batches), "--repeat", str(args.repeat)]
    runs = {}
    for label in ("environment as is", f"without {' and '.join(OPENBLAS_VARIABLES)}"):
        env = dict(os.environ)
        extra = ["--child", "as-is", "--gpu"] + ([] if args.quick else ["--profile"])
        if label.startswith("without"):
            extra = ["--child", "unset"]
            for key in OPENBLAS_VARIABLES:
                env.pop(key, None)
        done = subprocess.run(common + extra, env=env, stdout=subprocess.PIPE, text=True, check=True)
        runs[label] = json.loads(done.stdout.strip().splitlines()[-1])
    report = markdown(versions(), runs)
    if args.out:
        args.out.write_text(report + "\n")
    print(report)


if __name__ == "__main__":
    main()
