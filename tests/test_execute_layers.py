"""Every layer type's forward function against PyTorch's own functions, written out independently.

Each case is one layer on a random input with random weights (BatchNorm statistics and biases
included); the expected output is PyTorch's `torch.nn.functional` applied by hand, not
`archcalc.to_torch`. float32 agrees to rtol 1e-4, float64 to rtol 1e-10; the absolute tolerance
scales with the output's largest value, since sums that cancel to near zero keep the rounding of
their terms.
"""

import math

import numpy as np
import pytest

import archcalc
from archcalc.errors import ExecutionError
from archcalc.layers import registered_types
from archcalc.layers.base import Layer
from tests.test_layers_nd import CASES as SPATIAL_AXES_CASES
from tests.test_layers_new import CASES as NEW_TYPE_CASES
from tests.test_layers_timm import CASES as TIMM_CASES

torch = pytest.importorskip("torch")
F = torch.nn.functional

TOLERANCE = {"float32": {"rtol": 1e-4, "atol": 1e-5}, "float64": {"rtol": 1e-10, "atol": 1e-12}}
NEG_INF = float("-inf")


def single(layer: dict, shape: list[int]) -> dict:
    return {"name": "case", "input": shape, "layers": [{"name": "L", **layer}]}


def conv(pad=(0, 0, 0, 0), **kw):
    """F.conv2d after an explicit F.pad given as (left, right, top, bottom)."""
    def ref(x, w):
        return F.conv2d(F.pad(x, pad), w["L.weight"], w.get("L.bias"), kw.get("stride", 1), 0,
                        kw.get("dilation", 1), kw.get("groups", 1))
    return ref


def recurrent(kind: str, last: bool = False, **kw):
    """torch.nn.<kind>(batch_first=True) holding the case's weights (by their state_dict names); all steps,
    or the last hidden state of each direction of the last layer (h_n) side by side."""
    def ref(x, w):
        module = getattr(torch.nn, kind)(x.shape[2], batch_first=True, **kw).to(x.dtype)
        module.load_state_dict({key[2:]: value for key, value in w.items()})
        out, state = module(x)
        h = state[0] if kind == "LSTM" else state
        directions = 2 if kw.get("bidirectional") else 1
        return torch.cat(list(h[-directions:]), dim=1) if last else out
    return ref


def _attention(q, k, v, heads):
    n, c, h, w = v.shape
    q, k, v = (t.reshape(n, heads, t.shape[1] // heads, h * w) for t in (q, k, v))
    attn = (q.transpose(-2, -1) @ k) * (q.shape[2] ** -0.5)
    return (v @ attn.softmax(dim=-1).transpose(-2, -1)).view(n, c, h, w)


def _detect(*maps, reg_max, strides, weight):
    n = maps[0].shape[0]
    x = torch.cat([m.view(n, m.shape[1], -1) for m in maps], 2)
    box, cls = x.split((4 * reg_max, x.shape[1] - 4 * reg_max), 1)
    dist = F.conv2d(box.view(n, 4, reg_max, -1).transpose(2, 1).softmax(1), weight).view(n, 4, -1)
    points, stride_tensor = [], []
    for m, stride in zip(maps, strides):
        h, w = m.shape[2:]
        sy, sx = torch.meshgrid(torch.arange(h, dtype=m.dtype) + 0.5, torch.arange(w, dtype=m.dtype) + 0.5,
                                indexing="ij")
        points.append(torch.stack((sx, sy), -1).view(-1, 2))
        stride_tensor.append(torch.full((h * w, 1), stride, dtype=m.dtype))
    anchors, stride_tensor = torch.cat(points).transpose(0, 1), torch.cat(stride_tensor).transpose(0, 1)
    lt, rb = dist.chunk(2, 1)
    x1y1, x2y2 = anchors - lt, anchors + rb
    boxes = torch.cat(((x1y1 + x2y2) / 2, x2y2 - x1y1), 1) * stride_tensor
    return torch.cat((boxes, cls.sigmoid()), 1).unsqueeze(2)


def _documented_boxes(maps, rois, strides):
    """(map, left, top, side) of each documented fixed box (docs/layers.md, `roialign`), level by level, in the
    positions of its level's map."""
    height, width = maps[0].shape[2] * strides[0], maps[0].shape[3] * strides[0]
    levels, boxes = len(maps), []
    for k, (x, stride) in enumerate(zip(maps, strides)):
        side = 0.75 * min(height, width) / 2 ** (levels - 1 - k) / stride
        for j in range(1, rois // levels + (k < rois % levels) + 1):
            x1 = (j * 0.6180339887498949 % 1) * (width / stride - side)
            y1 = (j * 0.7548776662466927 % 1) * (height / stride - side)
            boxes.append((x, x1, y1, side))
    return boxes


def _roi_align(maps, rois, size, ratio, strides):
    """torchvision's roi_align (aligned=False) of the documented fixed boxes (docs/layers.md, `roialign`), as
    bilinear sampling with F.grid_sample: pixel centres on the corners (align_corners), the edge repeated
    (padding_mode border; every box lies inside the image, so no sample falls beyond the maps' last pixel)."""
    pooled = []
    for x, x1, y1, side in _documented_boxes(maps, rois, strides):
        n, c, h, w = x.shape
        ys = y1 + (torch.arange(size[0] * ratio, dtype=torch.float64) + 0.5) * max(side, 1) / (size[0] * ratio)
        xs = x1 + (torch.arange(size[1] * ratio, dtype=torch.float64) + 0.5) * max(side, 1) / (size[1] * ratio)
        gy, gx = torch.meshgrid(2 * ys / (h - 1) - 1, 2 * xs / (w - 1) - 1, indexing="ij")
        grid = torch.stack([gx, gy], -1).to(x.dtype).expand(n, -1, -1, -1)
        samples = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=True)
        pooled.append(F.avg_pool2d(samples, ratio))
    return torch.stack(pooled, 1)


def _roi_pool(maps, rois, size, strides):
    """torchvision's roi_pool of the documented fixed boxes: each box's ends rounded to map pixels, bin p of L
    pixels from ⌊p·L/bins⌋ to ⌈(p + 1)·L/bins⌉, the maximum of each bin (an empty one 0)."""
    pooled = []
    for x, x1, y1, side in _documented_boxes(maps, rois, strides):
        n, c, h, w = x.shape
        top, left, bottom, right = (math.floor(v + 0.5) for v in (y1, x1, y1 + side, x1 + side))
        bin_h, bin_w = max(bottom - top + 1, 1) / size[0], max(right - left + 1, 1) / size[1]
        out = torch.zeros(n, c, *size, dtype=x.dtype)
        for a in range(size[0]):
            for b in range(size[1]):
                y0, y9 = (min(max(v + top, 0), h) for v in (math.floor(a * bin_h), math.ceil((a + 1) * bin_h)))
                x0, x9 = (min(max(v + left, 0), w) for v in (math.floor(b * bin_w), math.ceil((b + 1) * bin_w)))
                if y9 > y0 and x9 > x0:
                    out[:, :, a, b] = x[:, :, y0:y9, x0:x9].amax(dim=(2, 3))
        pooled.append(out)
    return torch.stack(pooled, 1)


CASES = {
    # id: (architecture mapping, reference(x, weights) -> tensor). The case named after a type is also
    # its sample for the round trips of tests/test_registry_contract.py: it sets arguments to values
    # other than their defaults.
    "conv": (single({"type": "conv", "out_channels": 6, "kernel_size": [3, 5], "stride": 2, "padding": [1, 2],
                     "dilation": [2, 1], "groups": 2, "bias": False}, [4, 11, 12]),
             lambda x, w: F.conv2d(x, w["L.weight"], None, 2, (1, 2), (2, 1), 2)),
    "conv-3x3-pad1": (single({"type": "conv", "out_channels": 5, "kernel_size": 3, "padding": 1}, [3, 9, 9]),
                      conv((1, 1, 1, 1))),
    "conv-stride2-valid": (single({"type": "conv", "out_channels": 4, "kernel_size": 3, "stride": 2,
                                   "padding": "valid"}, [3, 10, 11]), conv(stride=2)),
    "conv-pad-per-axis": (single({"type": "conv", "out_channels": 4, "kernel_size": [3, 5], "padding": [1, 2]},
                                 [2, 8, 9]), conv((2, 2, 1, 1))),
    "conv-pad-asymmetric": (single({"type": "conv", "out_channels": 3, "kernel_size": 3, "stride": 2,
                                    "padding": [0, 1, 2, 0]}, [2, 9, 8]), conv((2, 0, 0, 1), stride=2)),
    # 'same', stride 2 on 8: output 4, total padding (4−1)·2 + 3 − 8 = 1 → (0 top, 1 bottom)
    "conv-same-stride2-odd": (single({"type": "conv", "out_channels": 3, "kernel_size": 3, "stride": 2,
                                      "padding": "same"}, [2, 8, 8]), conv((0, 1, 0, 1), stride=2)),
    # 'same', stride 1, kernel 4: total padding 3 → 1 before, 2 after
    "conv-same-even-kernel": (single({"type": "conv", "out_channels": 3, "kernel_size": 4, "padding": "same"},
                                     [2, 7, 6]), conv((1, 2, 1, 2))),
    "conv-dilation2": (single({"type": "conv", "out_channels": 4, "kernel_size": 3, "dilation": 2, "padding": 2},
                              [3, 11, 10]), conv((2, 2, 2, 2), dilation=2)),
    "conv-dilation-stride-rect": (single({"type": "conv", "out_channels": 2, "kernel_size": [2, 3],
                                          "stride": [2, 1], "dilation": [1, 3]}, [2, 9, 12]),
                                  conv(stride=(2, 1), dilation=(1, 3))),
    "conv-groups": (single({"type": "conv", "out_channels": 6, "kernel_size": 3, "groups": 2, "padding": 1},
                           [4, 7, 7]), conv((1, 1, 1, 1), groups=2)),
    "conv-depthwise": (single({"type": "conv", "out_channels": 8, "kernel_size": 3, "groups": 4, "stride": 2,
                               "padding": 1, "bias": False}, [4, 9, 9]), conv((1, 1, 1, 1), stride=2, groups=4)),
    "conv-1x1": (single({"type": "conv", "out_channels": 7, "kernel_size": 1}, [5, 6, 4]), conv()),
    "conv-1x1-groups": (single({"type": "conv", "out_channels": 6, "kernel_size": 1, "groups": 3}, [3, 5, 5]),
                        conv(groups=3)),
    "conv-fused-relu": (single({"type": "conv", "out_channels": 3, "kernel_size": 3, "activation": "relu"},
                               [2, 6, 6]), lambda x, w: F.relu(conv()(x, w))),
    "conv-fused-sigmoid": (single({"type": "conv", "out_channels": 3, "kernel_size": 3, "activation": "sigmoid"},
                                  [2, 6, 6]), lambda x, w: torch.sigmoid(conv()(x, w))),
    "convtranspose": (single({"type": "convtranspose", "out_channels": 3, "kernel_size": 3, "stride": 2,
                              "padding": 1, "output_padding": 1}, [4, 5, 6]),
                      lambda x, w: F.conv_transpose2d(x, w["L.weight"], w["L.bias"], 2, 1, 1)),
    "convtranspose-groups-dilation": (
        single({"type": "convtranspose", "out_channels": 4, "kernel_size": [3, 2], "stride": [1, 3],
                "dilation": 2, "groups": 2, "bias": False}, [4, 4, 5]),
        lambda x, w: F.conv_transpose2d(x, w["L.weight"], None, (1, 3), 0, 0, 2, 2)),
    "maxpool": (single({"type": "maxpool", "kernel_size": 3, "stride": 2, "padding": 1, "dilation": 2}, [3, 9, 10]),
                lambda x, w: F.max_pool2d(x, 3, 2, 1, 2)),
    "maxpool-2x2": (single({"type": "maxpool", "kernel_size": 2, "stride": 2}, [3, 8, 8]),
                    lambda x, w: F.max_pool2d(x, 2, 2)),
    "maxpool-ceil": (single({"type": "maxpool", "kernel_size": 3, "stride": 2, "ceil_mode": True}, [2, 8, 10]),
                     lambda x, w: F.max_pool2d(x, 3, 2, ceil_mode=True)),
    "maxpool-pad-ceil": (single({"type": "maxpool", "kernel_size": 3, "stride": 2, "padding": 1,
                                 "ceil_mode": True}, [2, 10, 9]),
                         lambda x, w: F.max_pool2d(x, 3, 2, 1, ceil_mode=True)),
    "maxpool-dilation": (single({"type": "maxpool", "kernel_size": 2, "stride": 1, "dilation": 2}, [2, 7, 7]),
                         lambda x, w: F.max_pool2d(x, 2, 1, 0, 2)),
    "maxpool-asymmetric": (single({"type": "maxpool", "kernel_size": 3, "stride": 2, "padding": [0, 1, 1, 0]},
                                  [2, 8, 8]),
                           lambda x, w: F.max_pool2d(F.pad(x, (1, 0, 0, 1), value=NEG_INF), 3, 2)),
    "avgpool": (single({"type": "avgpool", "kernel_size": [2, 3], "stride": [2, 1], "padding": 1,
                        "count_include_pad": False}, [2, 7, 8]),
                lambda x, w: F.avg_pool2d(x, (2, 3), (2, 1), 1, count_include_pad=False)),
    "avgpool-pad": (single({"type": "avgpool", "kernel_size": 3, "stride": 2, "padding": 1}, [2, 9, 9]),
                    lambda x, w: F.avg_pool2d(x, 3, 2, 1)),
    "avgpool-pad-exclude": (single({"type": "avgpool", "kernel_size": 3, "stride": 2, "padding": 1,
                                    "count_include_pad": False}, [2, 9, 8]),
                            lambda x, w: F.avg_pool2d(x, 3, 2, 1, count_include_pad=False)),
    "avgpool-ceil-pad": (single({"type": "avgpool", "kernel_size": 3, "stride": 2, "padding": 1,
                                 "ceil_mode": True}, [2, 10, 10]),
                         lambda x, w: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True)),
    "avgpool-ceil-exclude": (single({"type": "avgpool", "kernel_size": 2, "stride": 2, "ceil_mode": True,
                                     "count_include_pad": False}, [2, 7, 5]),
                             lambda x, w: F.avg_pool2d(x, 2, 2, ceil_mode=True, count_include_pad=False)),
    "avgpool-asymmetric": (single({"type": "avgpool", "kernel_size": 2, "stride": 1, "padding": [0, 1, 0, 1]},
                                  [2, 6, 6]), lambda x, w: F.avg_pool2d(F.pad(x, (0, 1, 0, 1)), 2, 1)),
    "sumpool": (single({"type": "sumpool", "kernel_size": 2, "stride": 2}, [3, 6, 8]),
                lambda x, w: F.avg_pool2d(x, 2, 2) * 4),
    "globalavgpool": (single({"type": "globalavgpool"}, [4, 5, 6]),
                      lambda x, w: F.adaptive_avg_pool2d(x, 1)),
    "globalavgpool-flat": (single({"type": "globalavgpool", "keepdims": False}, [4, 5, 6]),
                           lambda x, w: x.mean(dim=(2, 3))),
    "globalmaxpool": (single({"type": "globalmaxpool"}, [4, 5, 6]), lambda x, w: F.adaptive_max_pool2d(x, 1)),
    "adaptiveavgpool": (single({"type": "adaptiveavgpool", "output_size": [3, 2]}, [3, 9, 6]),
                        lambda x, w: F.adaptive_avg_pool2d(x, (3, 2))),
    "adaptiveavgpool-uneven": (single({"type": "adaptiveavgpool", "output_size": [3, 2]}, [3, 7, 5]),
                               lambda x, w: F.adaptive_avg_pool2d(x, (3, 2))),
    "adaptivemaxpool": (single({"type": "adaptivemaxpool", "output_size": 4}, [3, 12, 8]),
                        lambda x, w: F.adaptive_max_pool2d(x, 4)),
    "adaptivemaxpool-uneven": (single({"type": "adaptivemaxpool", "output_size": 4}, [3, 10, 6]),
                               lambda x, w: F.adaptive_max_pool2d(x, 4)),
    "linear": (single({"type": "linear", "out_features": 7}, [20]),
               lambda x, w: F.linear(x, w["L.weight"], w["L.bias"])),
    "linear-nobias-tanh": (single({"type": "linear", "out_features": 5, "bias": False, "activation": "tanh"}, [9]),
                           lambda x, w: torch.tanh(F.linear(x, w["L.weight"]))),
    "batchnorm": (single({"type": "batchnorm"}, [4, 5, 5]),
                  lambda x, w: F.batch_norm(x, w["L.running_mean"], w["L.running_var"], w["L.weight"],
                                            w["L.bias"], False, 0.0, 1e-5)),
    "batchnorm-eps-relu6": (single({"type": "batchnorm", "eps": 1e-3, "activation": "relu6"}, [3, 4, 4]),
                            lambda x, w: F.relu6(F.batch_norm(x, w["L.running_mean"], w["L.running_var"],
                                                              w["L.weight"], w["L.bias"], False, 0.0, 1e-3))),
    "batchnorm-no-affine": (single({"type": "batchnorm", "affine": False}, [3, 4, 4]),
                            lambda x, w: F.batch_norm(x, w["L.running_mean"], w["L.running_var"], eps=1e-5)),
    "batchnorm-batch-stats": (single({"type": "batchnorm", "track_running_stats": False}, [3, 4, 4]),
                              lambda x, w: F.batch_norm(x, None, None, w["L.weight"], w["L.bias"], True)),
    "batchnorm-1d": (single({"type": "batchnorm"}, [6]),
                     lambda x, w: F.batch_norm(x, w["L.running_mean"], w["L.running_var"], w["L.weight"],
                                               w["L.bias"], False)),
    "lrn": (single({"type": "lrn", "size": 5, "alpha": 1e-2, "beta": 0.75, "k": 2.0}, [7, 4, 4]),
            lambda x, w: F.local_response_norm(x, 5, 1e-2, 0.75, 2.0)),
    "lrn-even-size": (single({"type": "lrn", "size": 4, "alpha": 0.1}, [6, 3, 3]),
                      lambda x, w: F.local_response_norm(x, 4, 0.1)),
    "l2norm": (single({"type": "l2norm", "eps": 1e-3}, [6, 3, 4]), lambda x, w: F.normalize(x, eps=1e-3)),
    "relu": (single({"type": "relu"}, [3, 4, 4]), lambda x, w: F.relu(x)),
    "relu-inplace": (single({"type": "relu", "inplace": True}, [3, 4, 4]), lambda x, w: F.relu(x)),
    "relu6": (single({"type": "relu6"}, [3, 4, 4]), lambda x, w: F.relu6(x)),
    "leakyrelu": (single({"type": "leakyrelu", "negative_slope": 0.2}, [3, 4, 4]),
                  lambda x, w: F.leaky_relu(x, 0.2)),
    "elu": (single({"type": "elu", "alpha": 0.5}, [3, 4, 4]), lambda x, w: F.elu(x, 0.5)),
    "sigmoid": (single({"type": "sigmoid"}, [3, 4, 4]), lambda x, w: torch.sigmoid(x)),
    "tanh": (single({"type": "tanh"}, [3, 4, 4]), lambda x, w: torch.tanh(x)),
    "silu": (single({"type": "silu"}, [3, 4, 4]), lambda x, w: F.silu(x)),
    "hardswish": (single({"type": "hardswish"}, [3, 4, 4]), lambda x, w: F.hardswish(x)),
    "hardsigmoid": (single({"type": "hardsigmoid"}, [3, 4, 4]), lambda x, w: F.hardsigmoid(x)),
    "gelu": (single({"type": "gelu"}, [3, 4, 4]), lambda x, w: F.gelu(x)),
    "softmax": (single({"type": "softmax"}, [5, 3, 3]), lambda x, w: F.softmax(x, dim=1)),
    "softmax-flat": (single({"type": "softmax"}, [10]), lambda x, w: F.softmax(x, dim=1)),
    "prelu": (single({"type": "prelu"}, [3, 4, 4]), lambda x, w: F.prelu(x, w["L.weight"])),
    "prelu-per-channel": (single({"type": "prelu", "num_parameters": 3}, [3, 4, 4]),
                          lambda x, w: F.prelu(x, w["L.weight"])),
    "dropout": (single({"type": "dropout", "p": 0.5}, [3, 4, 4]), lambda x, w: x),
    "identity": (single({"type": "identity"}, [3, 4, 4]), lambda x, w: x),
    "flatten": (single({"type": "flatten"}, [3, 4, 5]), lambda x, w: torch.flatten(x, 1)),
    "reshape": (single({"type": "reshape", "shape": [5, -1, 4]}, [3, 4, 5]),
                lambda x, w: x.reshape(x.shape[0], 5, 3, 4)),
    "zeropad": (single({"type": "zeropad", "padding": [1, 0, 2, 3]}, [2, 3, 3]),
                lambda x, w: F.pad(x, (2, 3, 1, 0))),
    "channelshuffle": (single({"type": "channelshuffle", "groups": 3}, [6, 2, 2]),
                       lambda x, w: F.channel_shuffle(x, 3)),
    "slice": (single({"type": "slice", "start": 2, "end": 5}, [6, 3, 3]), lambda x, w: x[:, 2:5]),
    "pixelshuffle": (single({"type": "pixelshuffle", "upscale_factor": 3}, [18, 2, 3]),
                     lambda x, w: F.pixel_shuffle(x, 3)),
    "upsample": (single({"type": "upsample", "size": [7, 11], "mode": "bilinear", "align_corners": True},
                        [3, 4, 5]),
                 lambda x, w: F.interpolate(x, size=(7, 11), mode="bilinear", align_corners=True)),
    "upsample-bilinear-half-pixel": (single({"type": "upsample", "scale_factor": [2, 3], "mode": "bilinear"},
                                            [2, 4, 5]),
                                     lambda x, w: F.interpolate(x, scale_factor=(2, 3), mode="bilinear")),
    "upsample-bilinear-odd-size": (single({"type": "upsample", "size": [9, 4], "mode": "bilinear"}, [2, 5, 7]),
                                   lambda x, w: F.interpolate(x, size=(9, 4), mode="bilinear")),
    "upsample-nearest-scale": (single({"type": "upsample", "scale_factor": 3}, [2, 4, 5]),
                               lambda x, w: F.interpolate(x, scale_factor=3, mode="nearest")),
    "upsample-nearest-size": (single({"type": "upsample", "size": [13, 7]}, [2, 5, 3]),
                              lambda x, w: F.interpolate(x, size=(13, 7), mode="nearest")),
    "upsample-like": ({"name": "case", "input": [2, 9, 10], "layers": [
        {"name": "p", "type": "maxpool", "kernel_size": 2},
        {"name": "L", "type": "upsample", "mode": "bilinear", "like": "input"}]},
        lambda x, w: F.interpolate(F.max_pool2d(x, 2), size=(9, 10), mode="bilinear")),
    "crop": (single({"type": "crop", "cropping": [1, 2, 0, 3]}, [2, 6, 7]), lambda x, w: x[:, :, 1:4, 0:4]),
    "crop-like": ({"name": "case", "input": [2, 11, 10], "layers": [
        {"name": "p", "type": "maxpool", "kernel_size": 2},
        {"name": "L", "type": "crop", "like": "p", "from": "input"}]},
        lambda x, w: x[:, :, 3:8, 2:7]),
    "crop-like-offset": ({"name": "case", "input": [2, 11, 10], "layers": [
        {"name": "p", "type": "maxpool", "kernel_size": 2},
        {"name": "L", "type": "crop", "like": "p", "offset": [4, 1], "from": "input"}]},
        lambda x, w: x[:, :, 4:9, 1:6]),
    "add": ({"name": "case", "input": [3, 4, 4], "layers": [
        {"name": "a", "type": "relu"}, {"name": "b", "type": "sigmoid", "from": "input"},
        {"name": "L", "type": "add", "from": ["a", "b", "input"]}]},
        lambda x, w: F.relu(x) + torch.sigmoid(x) + x),
    # timm's SpaceToDepth: view to (N, C, H/b, b, W/b, b), permute (0, 3, 5, 1, 2, 4), view to (N, C·b², H/b, W/b)
    "spacetodepth": (single({"type": "spacetodepth", "block_size": 2}, [3, 4, 6]),
                     lambda x, w: x.reshape(x.shape[0], 3, 2, 2, 3, 2).permute(0, 3, 5, 1, 2, 4).reshape(
                         x.shape[0], 12, 2, 3)),
    # timm's BlurPool2d: reflection padding by (s − 1 + k − 1) // 2 = 2, then the 5×5 binomial filter
    # [1, 4, 6, 4, 1]ᵀ[1, 4, 6, 4, 1] / 256 on each channel with stride 2
    "blurpool": (single({"type": "blurpool", "filt_size": 5, "stride": 2}, [3, 9, 8]),
                 lambda x, w: F.conv2d(F.pad(x, [2, 2, 2, 2], mode="reflect"),
                                       (torch.outer(*[torch.tensor([1., 4., 6., 4., 1.], dtype=x.dtype) / 16] * 2))
                                       .expand(3, 1, 5, 5), stride=2, groups=3)),
    # stride (2, 1): rows padded by (2 − 1 + 2) // 2 = 1, columns by (1 − 1 + 2) // 2 = 1
    "blurpool-constant": (single({"type": "blurpool", "pad_mode": "constant", "stride": [2, 1]}, [2, 7, 6]),
                          lambda x, w: F.conv2d(F.pad(x, [1, 1, 1, 1]), (torch.outer(
                              *[torch.tensor([1., 2., 1.], dtype=x.dtype) / 4] * 2)).expand(2, 1, 3, 3),
                              stride=(2, 1), groups=2)),
    # stride (1, 3), k = 4: rows padded by (1 − 1 + 3) // 2 = 1, columns by (3 − 1 + 3) // 2 = 2
    "blurpool-pair": (single({"type": "blurpool", "filt_size": 4, "stride": [1, 3]}, [2, 7, 9]),
                      lambda x, w: F.conv2d(F.pad(x, [2, 2, 1, 1], mode="reflect"), (torch.outer(
                          *[torch.tensor([1., 3., 3., 1.], dtype=x.dtype) / 8] * 2)).expand(2, 1, 4, 4),
                          stride=(1, 3), groups=2)),
    # timm's StarReLU: s·relu(x)² + b; s and b start at 1 and 0, and the check draws its weights
    "starrelu": (single({"type": "starrelu"}, [3, 4, 5]), lambda x, w: w["L.scale"] * F.relu(x) ** 2 + w["L.bias"]),
    # timm's LayerNorm2dNoBias: F.layer_norm over the channels with γ and no β
    "layernorm-nobias": (single({"type": "layernorm", "eps": 1e-6, "bias": False}, [4, 3, 5]),
                         lambda x, w: F.layer_norm(x.permute(0, 2, 3, 1), (4,), w["L.weight"], None, 1e-6)
                         .permute(0, 3, 1, 2)),
    "squaredrelu": (single({"type": "squaredrelu"}, [3, 4, 5]), lambda x, w: torch.square(F.relu(x))),
    "subtract": ({"name": "case", "input": [3, 5, 4], "layers": [
        {"name": "p", "type": "avgpool", "kernel_size": 3, "stride": 1, "padding": 1},
        {"name": "L", "type": "subtract", "from": ["p", "input"]}]},
        lambda x, w: F.avg_pool2d(x, 3, 1, 1) - x),
    "multiply": ({"name": "case", "input": [4, 5, 5], "layers": [
        {"name": "g", "type": "globalmaxpool"}, {"name": "s", "type": "sigmoid"},
        {"name": "L", "type": "multiply", "from": ["input", "s", "input"]}]},
        lambda x, w: x * torch.sigmoid(x.amax(dim=(2, 3), keepdim=True)) * x),
    "multiply-broadcast": ({"name": "case", "input": [4, 5, 5], "layers": [
        {"name": "g", "type": "globalavgpool"}, {"name": "s", "type": "sigmoid"},
        {"name": "L", "type": "multiply", "from": ["input", "s"]}]},
        lambda x, w: x * torch.sigmoid(x.mean(dim=(2, 3), keepdim=True))),
    "concat": ({"name": "case", "input": [3, 4, 4], "layers": [
        {"name": "a", "type": "tanh"}, {"name": "L", "type": "concat", "from": ["input", "a", "input"]}]},
        lambda x, w: torch.cat([x, torch.tanh(x), x], dim=1)),
    "rnn": (single({"type": "rnn", "hidden_size": 5, "num_layers": 2, "bidirectional": True,
                    "nonlinearity": "relu"}, [6, 4]),
            recurrent("RNN", hidden_size=5, num_layers=2, bidirectional=True, nonlinearity="relu")),
    "lstm": (single({"type": "lstm", "hidden_size": 5, "num_layers": 2, "bidirectional": True,
                     "return_sequences": False}, [6, 4]),
             recurrent("LSTM", last=True, hidden_size=5, num_layers=2, bidirectional=True)),
    "lstm-nobias-all-steps": (single({"type": "lstm", "hidden_size": 3, "bias": False}, [5, 4]),
                              recurrent("LSTM", hidden_size=3, bias=False)),
    "gru": (single({"type": "gru", "hidden_size": 5, "num_layers": 2, "bias": False}, [6, 4]),
            recurrent("GRU", hidden_size=5, num_layers=2, bias=False)),
    "gru-bi-last": (single({"type": "gru", "hidden_size": 4, "bidirectional": True, "return_sequences": False},
                           [7, 3]), recurrent("GRU", last=True, hidden_size=4, bidirectional=True)),
    "rnn-last": (single({"type": "rnn", "hidden_size": 4, "return_sequences": False}, [7, 3]),
                 recurrent("RNN", last=True, hidden_size=4)),
    "timedistributed": (single({"type": "timedistributed", "layer": {"type": "conv", "out_channels": 4,
                                                                     "kernel_size": 3, "stride": 2, "bias": False}},
                               [5, 3, 9, 8]),
                        lambda x, w: F.conv2d(x.flatten(0, 1), w["L.weight"], None, 2).unflatten(0, (-1, 5))),
    "timedistributed-linear": (single({"type": "timedistributed", "layer": {"type": "linear", "out_features": 4}},
                                      [6, 7]),
                               lambda x, w: F.linear(x, w["L.weight"], w["L.bias"])),
    # Ultralytics' Attention (ultralytics/nn/modules/block.py) after its q, k, v split, written out
    "attention": ({"name": "case", "input": [12, 3, 4], "layers": [
        {"name": "q", "type": "slice", "start": 0, "end": 4}, {"name": "k", "type": "slice", "start": 4, "end": 8,
                                                                "from": "input"},
        {"name": "v", "type": "slice", "start": 4, "end": 12, "from": "input"},
        {"name": "L", "type": "attention", "num_heads": 2, "from": ["q", "k", "v"]}]},
        lambda x, w: _attention(x[:, :4], x[:, 4:8], x[:, 4:12], 2)),
    # Ultralytics' Detect at inference (head.py, DFL in block.py, make_anchors and dist2bbox in
    # utils/tal.py), written out for two levels of 4·reg_max + 3 channels
    "dfl": ({"name": "case", "input": [15, 4, 6], "layers": [
        {"name": "p", "type": "maxpool", "kernel_size": 2},
        {"name": "L", "type": "dfl", "reg_max": 3, "strides": [4, 8], "from": ["input", "p"]}]},
        lambda x, w: _detect(x, F.max_pool2d(x, 2), reg_max=3, strides=(4, 8), weight=w["L.weight"])),
    "roialign": ({"name": "case", "input": [3, 16, 12], "layers": [
        {"name": "p", "type": "maxpool", "kernel_size": 2},
        {"name": "L", "type": "roialign", "rois": 5, "output_size": [3, 2], "sampling_ratio": 3, "strides": [4, 8],
         "from": ["input", "p"]}]},
        lambda x, w: _roi_align([x, F.max_pool2d(x, 2)], rois=5, size=(3, 2), ratio=3, strides=(4, 8))),
    "roipool": ({"name": "case", "input": [3, 16, 12], "layers": [
        {"name": "p", "type": "maxpool", "kernel_size": 2},
        {"name": "L", "type": "roipool", "rois": 5, "output_size": [3, 2], "strides": [4, 8], "from": ["input", "p"]}]},
        lambda x, w: _roi_pool([x, F.max_pool2d(x, 2)], rois=5, size=(3, 2), strides=(4, 8))),
    **NEW_TYPE_CASES,
    **SPATIAL_AXES_CASES,
    **TIMM_CASES,
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", list(CASES))
def test_forward_equals_pytorch(case, dtype):
    mapping, reference = CASES[case]
    arch = archcalc.load(mapping)
    weights = archcalc.init_weights(arch, seed=7, random_stats=True)
    x = 4 * np.random.default_rng(3).normal(size=(2, *mapping["input"]))  # reaches past relu6 and hardswish bends
    ours = archcalc.execute(arch, x, weights, dtype=dtype)
    tensors = {key: torch.as_tensor(value, dtype=getattr(torch, dtype)) for key, value in weights.items()}
    with torch.no_grad():
        expected = reference(torch.as_tensor(x, dtype=getattr(torch, dtype)), tensors).numpy()
    assert ours.dtype == np.dtype(dtype)
    assert ours.shape == expected.shape
    tolerance = TOLERANCE[dtype]
    np.testing.assert_allclose(ours, expected, rtol=tolerance["rtol"],
                               atol=tolerance["atol"] * max(1.0, float(np.abs(expected).max())))


def test_every_registered_type_has_a_forward_and_a_torch_module():
    missing = sorted({cls.type_name for cls in registered_types().values()
                      if cls.forward is Layer.forward
                      or cls.torch_module is Layer.torch_module
                      and not hasattr(torch.nn, (cls.torch_form.modules or ("",))[0])})
    assert missing == []


def test_every_layer_family_is_exercised_against_pytorch():
    tested = {layer["type"] for mapping, _ in CASES.values() for layer in mapping["layers"]}
    names = {cls.type_name for cls in registered_types().values()} - {"input"}
    assert names - tested == set()


def test_a_type_without_forward_is_an_execution_error_naming_it(monkeypatch):
    from archcalc.layers.activation import ReLU

    monkeypatch.setattr(ReLU, "forward", Layer.forward)
    with pytest.raises(ExecutionError, match=r"case: L: layer type 'relu' has no forward function"):
        archcalc.execute(archcalc.load(single({"type": "relu"}, [1, 2, 2])), np.zeros((1, 1, 2, 2)))


def test_every_fused_activation_name_is_an_activation_layer():
    """`activation: relu` on conv/linear/batchnorm is computed by the activation layer of that name."""
    from typing import get_args

    from archcalc.layers import layer_class
    from archcalc.layers.activation import FusedActivation

    names = [name for name in get_args(FusedActivation) if name != "linear"]
    assert names and all(hasattr(layer_class(name)(), "apply") for name in names)
