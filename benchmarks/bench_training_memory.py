"""archcalc's training memory (archcalc.training_memory) against PyTorch's, per category: the reference
measured with torch.profiler's memory timeline (tests/data/reference_training.json, `training_memory`;
method and versions in tools/reference_training.py). Ratios, not assertions; no torch needed.

    python benchmarks/bench_training_memory.py [--out benchmarks/results/training_memory.md]

Nothing is timed and no matrix product runs, so OPENBLAS_* settings do not apply.
"""

from __future__ import annotations

import argparse
import json
from datetime import date
from pathlib import Path

import archcalc

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "tests" / "data" / "reference_training.json"
OPTIMIZERS = {"sgd": "sgd", "sgd_momentum": "momentum", "adam": "adam"}


def rows(model: str, setup: str, measured: dict) -> list[tuple[str, int, int, str]]:
    """(category, archcalc bytes, PyTorch bytes, what PyTorch's figure is) for one model and optimizer."""
    memory = archcalc.training_memory(archcalc.analyze(model, batch=measured["batch"]), OPTIMIZERS[setup])
    peak = measured["step2"]["peak_by_category"]
    return [
        ("parameters and statistics", memory.parameters, measured["param_bytes"] + measured["buffer_bytes"],
         "parameters + buffers"),
        ("gradients", memory.gradients, measured["grad_bytes"], "`.grad` tensors after the step"),
        ("optimizer state", memory.optimizer_state, measured["optimizer_state_bytes"], "tensors in `optimizer.state`"),
        ("activations kept (input included)", memory.activations, peak.get("activation", 0) + peak.get("input", 0),
         "activation + input at the peak"),
        ("activation gradients", memory.activation_gradients, measured["step2"]["max_by_category"]["autograd_detail"],
         "largest autograd detail"),
        ("total / peak", memory.total, measured["step2"]["peak_bytes"], "peak of step 2"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "training_memory.md"))
    args = parser.parse_args()
    data = json.loads(REFERENCE.read_text())
    versions = data["versions"]
    lines = [
        "# Training memory: archcalc against PyTorch",
        "",
        f"Written {date.today()} by `python benchmarks/bench_training_memory.py`. Reference: torchvision models, "
        f"batch 8 of 3×224×224, train mode, on the CPU (torch {versions.get('torch', '?')}, measured "
        f"{versions.get('date', '?')} by tools/reference_training.py: torch.profiler's memory timeline, tensors "
        "classed by category). Ratio = archcalc / PyTorch. archcalc's total counts every category at once (an "
        "upper bound); PyTorch's peak is the timeline's highest point, early in the backward pass, when some "
        "gradients are not yet made and some activations already freed.",
        "",
    ]
    for model, setups in data["training_memory"].items():
        for setup, measured in setups.items():
            lines += [f"## {model}, {setup}", "",
                      "| category | archcalc bytes | PyTorch bytes | PyTorch's figure | ratio |",
                      "|---|---:|---:|---|---:|"]
            for category, ours, theirs, what in rows(model, setup, measured):
                ratio = f"{ours / theirs:.3f}" if theirs else "—"
                lines.append(f"| {category} | {ours:,} | {theirs:,} | {what} | {ratio} |")
            lines.append("")
    lines += [
        "Parameters differ by each BatchNorm's `num_batches_tracked` (an int64 buffer archcalc does not count) and "
        "Adam's state by a 0-d float32 `step` per parameter tensor; gradients and SGD-with-momentum state are "
        "equal exactly (tests/test_training_memory.py). Activations: PyTorch keeps what each operation's "
        "backward needs (pooling indices, BatchNorm's batch statistics, ReLU masks, copies its kernels make), "
        "archcalc each layer output read on the gradient's path.",
        "",
    ]
    Path(args.out).write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
