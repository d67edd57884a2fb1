"""The zoo files the export tests run, and the small inputs they run them at."""

from __future__ import annotations

import archcalc

SIZES = (32, 48, 64, 75, 96, 128, 160, 224, 227, 299)
ADAPTIVE = ("adaptiveavgpool", "adaptivemaxpool")


def small_input(name: str) -> list[int]:
    """The smallest square input the file accepts whose adaptive poolings (if any) pool whole windows
    (as ONNX can): the exports are checked there rather than at the full size, to keep tests short."""
    native = list(archcalc.analyze(name).input_shape)
    for size in SIZES:
        if len(native) != 3 or size >= native[1]:
            break
        try:
            report = archcalc.analyze(name, input=[native[0], size, size])
        except archcalc.ArchcalcError:
            continue
        if all(r.input_shapes[0][1] % r.layer.output_size[0] == 0 and r.input_shapes[0][2] % r.layer.output_size[1]
               == 0 for r in report.layers if r.layer.type_name in ADAPTIVE):
            return [native[0], size, size]
    return native


# One file per combination of layer types and call styles (modules, F.relu, x.mean(), fused
# activations, BatchNorm without γ, LRN, SE gating, channel shuffle and slices), each at a small input.
TOOLS_ON = ["lenet5", "alexnet-lecture", "resnet18", "se-resnet50", "googlenet", "inception_v3",
            "inception-v3-keras", "densenet121", "mobilenet_v2", "mobilenet_v3_small", "shufflenet_v2_x1_0",
            "squeezenet1_1", "mnasnet1_0", "efficientnet_b0", "xception", "resnet50-keras"]
