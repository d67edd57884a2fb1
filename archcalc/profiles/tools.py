"""The count profiles: archcalc's own FLOPs and five peer tools (ptflops with three settings), each
counted as that tool counts.

Every rule restates the tool's own source (the versions are in docs/conventions.md, "Count
profiles") for the layer families archcalc knows; `tests/test_profiles.py` and
`tests/test_profiles_layers.py` hold each profile against the tool's real totals on torchvision
models and on small networks of the remaining layer types (`tests/data/reference_*counts.json`).
"""

from __future__ import annotations

from ..layers.family import Family as F
from ..layers.family import Group
from .base import Profile, Rule, Site, no_backward, rules, two_macs, zero
from .base import rules as gradient_rules

WEIGHTED = (*Group.CONVOLUTION.families, *Group.FULLY_CONNECTED.families)
NORMS = tuple(f for f in Group.NORMALIZATION.families if f is not F.STANDARDIZE)
# Elementwise scaling by learnt or stored values: tensor operators (`x * γ`, `(x - mean) / std`) every tool misses.
SCALES = (F.LAYER_SCALE, F.STANDARDIZE, F.RESCALE)
# `F.normalize` (l2norm) runs Tensor.norm, clamp_min and torch.div: no tool hooks, wraps or handles any of them.
POOLS = Group.POOLING.families
ACTIVATIONS = Group.ACTIVATION.families
MERGES = (F.ADD, F.MULTIPLY)
RECURRENT = Group.RECURRENT.families
RESIZES = (F.UPSAMPLE,)


def but(families, *left_out: F) -> tuple[F, ...]:
    """`families` without those `left_out` (a tool's rule for every activation but two)."""
    return tuple(f for f in families if f not in left_out)


# --- shared rules ------------------------------------------------------------------------------
def macs(site: Site) -> int:
    return site.macs


def bias_adds(site: Site) -> int:
    """One addition per output element of a layer with a bias."""
    return site.out_numel if site.has_bias else 0


def module_only(rule: Rule) -> Rule:
    """The rule for an nn.Module call; 0 for a functional call or operator (no hook sees it)."""
    return lambda site: rule(site) if site.call == "module" else 0


def _affine(site: Site) -> bool:
    return site.layer.has_affine


def per_input_element(factor: int, affine_factor: int) -> Rule:
    """`factor` per input element, `affine_factor` with γ/β."""
    return lambda site: site.in_numel * (affine_factor if _affine(site) else factor)


# --- recurrent layers ---------------------------------------------------------------------------
def _stack(site: Site) -> tuple[int, list[int], int, int, int]:
    """(steps T, each stacked layer's input width x, hidden size h, directions D, gates G) of a recurrent layer."""
    layer = site.layer
    steps, features = site.inputs[0]
    return steps, layer.layer_inputs(features), layer.hidden_size, layer.directions, layer.gates


def per_cell(count) -> Rule:
    """A tool that counts each cell alike: `count(x, h, G, layer)` for one step of one layer and direction,
    × T steps × D directions."""
    def rule(site: Site) -> int:
        steps, widths, h, d, g = _stack(site)
        return steps * d * sum(count(x, h, g, site.layer) for x in widths)
    return rule


def _recurrent_ih_macs(site: Site, first_only: bool) -> int:
    """The MACs of the input products W_ih·x: of the first stacked layer, or of all the others."""
    steps, widths, h, d, g = _stack(site)
    chosen = widths[:1] if first_only else widths[1:]
    return steps * d * g * h * sum(chosen)


# --- archcalc and torch ------------------------------------------------------------------------
UNWEIGHTED = (*NORMS, *SCALES, *but(POOLS, F.BLUR_POOL), *ACTIVATIONS, *MERGES, F.SUBTRACT, *RESIZES, F.DATA)


def _gradients(site: Site, input_grad: bool, weight_grad: bool) -> int:
    """2·MACs for each gradient computed: the input's (a transposed product with the weights) and the
    weight's (a product of the input with the output's gradient), each the forward's work."""
    return 2 * site.macs * (input_grad + weight_grad)


class Archcalc(Profile):
    """archcalc's convention (design §4): FLOPs = 2·MACs of convolutions, linear and recurrent layers; backward,
    2·MACs of each gradient computed (archcalc.training)."""

    name = "archcalc"
    tool = "archcalc"
    unit = "FLOPs = 2 × MACs of convolutions and linear layers"
    rules = rules(((*WEIGHTED, *RECURRENT, F.BLUR_POOL), two_macs), (UNWEIGHTED, zero))
    backward_rules = gradient_rules(((*WEIGHTED, *RECURRENT, F.BLUR_POOL), _gradients), (UNWEIGHTED, no_backward))


class Torch(Profile):
    """`torch.utils.flop_counter.FlopCounterMode`: 2 per multiply-accumulate of convolution and
    mm/addmm (also the steps of nn.RNN and nn.GRU); the bias addition of addmm, nn.LSTM (one fused
    `aten.lstm` on the CPU) and every other operator count 0."""

    name = "torch"
    tool = "torch.utils.flop_counter.FlopCounterMode"
    unit = "FLOPs = 2 × MACs of convolution and matrix products"
    rules = rules(((*WEIGHTED, F.RNN, F.GRU, F.BLUR_POOL), two_macs), ((*UNWEIGHTED, F.LSTM), zero))


def _torch_weighted_backward(site: Site, input_grad: bool, weight_grad: bool) -> int:
    """`convolution_backward`: the input's gradient as a transposed convolution of the output's gradient
    with the weights, 2·MACs; the weight's as a convolution of the input (channels and batch swapped)
    with the output's gradient, whose formula takes all C_in input channels as its batch and ignores
    the groups: 2·MACs·groups. A linear layer's `addmm` has an `mm` per gradient, 2·MACs each; the
    bias's gradient (a sum) counts 0."""
    bank = site.layer.filter_bank(list(site.inputs))
    groups = bank[4] if bank else 1
    return 2 * site.macs * (input_grad + groups * weight_grad)


def _torch_recurrent_backward(site: Site, input_grad: bool, weight_grad: bool) -> int:
    """nn.RNN and nn.GRU's backward `mm`s: 2·MACs for the weights' gradients; for the gradients of the
    states, 2·MACs but the first layer's input products unless the input's gradient is wanted, and the
    first step of each layer and direction (its h₀ = 0 needs none: G·h·h). nn.LSTM: 0."""
    if not (input_grad or weight_grad):
        return 0
    steps, widths, h, d, g = _stack(site)
    states = site.macs - _recurrent_ih_macs(site, first_only=True) - d * len(widths) * g * h * h
    inputs = _recurrent_ih_macs(site, first_only=True) if input_grad else 0
    return 2 * ((site.macs if weight_grad else 0) + states + inputs)


class TorchTrain(Torch):
    """FlopCounterMode around one training step: the forward as `torch`; around `loss.backward()`,
    `convolution_backward` and the `mm`s of the linear layers' gradients (a grouped convolution's
    weight gradient `groups` times its work, as the tool's formula counts it); BatchNorm, pooling
    and activation gradients 0."""

    name = "torch-train"
    tool = "torch.utils.flop_counter.FlopCounterMode (forward and loss.backward())"
    unit = "FLOPs = 2 × MACs of convolution and matrix products, forward and backward"
    backward_rules = gradient_rules((WEIGHTED, _torch_weighted_backward), ((F.RNN, F.GRU), _torch_recurrent_backward),
                                    (F.BLUR_POOL, _gradients), ((*UNWEIGHTED, F.LSTM), no_backward))


# --- fvcore ------------------------------------------------------------------------------------
def _fvcore_batchnorm(site: Site) -> int:
    """Eval mode: 1 per element, 2 with γ/β; on batch statistics its norm rule: 4, or 5 with γ/β."""
    if not site.layer.tracks_running_stats:
        return site.in_numel * (5 if _affine(site) else 4)
    return site.in_numel * (2 if _affine(site) else 1)


def _fvcore_upsample(site: Site) -> int:
    """`aten::upsample_nearest2d` 1 per output element, `aten::upsample_bilinear2d` 4 (module or functional alike)."""
    return site.out_numel * (4 if site.layer.bilinear else 1)


def _fvcore_adaptive_avg(site: Site) -> int:
    """aten::adaptive_avg_pool2d (module or functional alike): 1 per input element; a mean is 0, and so is
    the 1-D and 3-D pooling (fvcore has no rule for `adaptive_avg_pool1d` or `3d`)."""
    return site.in_numel if site.call != "operator" and len(site.inputs[0]) == 3 else 0


class Fvcore(Profile):
    """fvcore `FlopCountAnalysis` (jit trace): one "flop" per multiply-accumulate of convolution
    and linear (no bias); `batch_norm` 1 per element, 2 with γ/β; `layer_norm` and `group_norm` 4 per
    element, 5 with γ/β; `adaptive_avg_pool2d` 1 per input element; `upsample_nearest2d` 1 and
    `upsample_bilinear2d` 4 per output element; every other operator (ReLU,
    max/avg pooling, additions, products, means) is "unsupported": 0."""

    name = "fvcore"
    tool = "fvcore.nn.FlopCountAnalysis"
    unit = '"flops" = MACs (one fused multiply-add is one flop)'
    rules = rules(
        (WEIGHTED, macs),
        (F.BATCH_NORM, _fvcore_batchnorm),
        ((F.LAYER_NORM, F.GROUP_NORM), per_input_element(4, 5)),
        (F.ADAPTIVE_AVG_POOL, _fvcore_adaptive_avg),
        (F.UPSAMPLE, _fvcore_upsample),
        (F.BLUR_POOL, macs),
        ((F.LRN, F.L2_NORM, *SCALES, F.MAX_POOL, F.AVG_POOL, *ACTIVATIONS, *MERGES, F.SUBTRACT, F.DATA, *RECURRENT),
         zero),
    )


# --- ptflops -----------------------------------------------------------------------------------
# The pytorch backend hooks known nn.Module classes (the exact class: a subclass such as torchvision's
# LayerNorm2d is unknown) AND wraps some torch.nn.functional functions and tensor methods. A module
# whose forward runs a wrapped function (nn.ReLU → F.relu, nn.MaxPool2d → F.max_pool2d, ...) is
# counted by both: twice. nn.ReLU6 runs F.hardtanh and nn.LeakyReLU F.leaky_relu (not wrapped);
# nn.SiLU and nn.Softmax have no hook but run the wrapped F.silu / F.softmax. With
# `backend_specific_config={"count_functional": False}` nothing is wrapped: module hooks only.
_PTFLOPS_HOOKED = {F.RELU, F.PRELU, F.ELU, F.LEAKY_RELU, F.RELU6, F.GELU, *POOLS}
_PTFLOPS_WRAPPED = {F.RELU, F.PRELU, F.ELU, F.RELU6, F.GELU, F.SILU, F.SOFTMAX, *POOLS}
_PTFLOPS_MODULE_RUNS_WRAPPED = _PTFLOPS_WRAPPED - {F.RELU6}


def _ptflops_elementwise(site: Site) -> int:
    """Activations and pooling: one per input element, per hook or wrapper that fires."""
    kind = site.layer.family
    if site.call == "module":
        hits = (kind in _PTFLOPS_HOOKED) + (kind in _PTFLOPS_MODULE_RUNS_WRAPPED)
    else:
        hits = int(site.call == "functional" and kind in _PTFLOPS_WRAPPED)
    return hits * site.in_numel


def _ptflops_hooked_elementwise(site: Site) -> int:
    """Activations and pooling with module hooks only: one per input element of a hooked module."""
    return site.in_numel if site.call == "module" and site.layer.family in _PTFLOPS_HOOKED else 0


def _ptflops_weighted(site: Site) -> int:
    return site.macs + bias_adds(site)


def _ptflops_lrn(site: Site) -> int:
    """F.local_response_norm (which nn.LocalResponseNorm runs) is made of wrapped tensor operations:
    x·x, x·α and + k one per element each, and avg_pool3d over the C + size − 1 zero-padded channels."""
    c, h, w = site.inputs[0]
    return (3 * c + c + site.layer.size - 1) * h * w if site.call != "operator" else 0


def _ptflops_merge(site: Site) -> int:
    """torch.add / torch.mul (call: functional) count the output elements; `+` and `*` are not seen."""
    return site.out_numel * (len(site.inputs) - 1) if site.call == "functional" else 0


def _ptflops_upsample(site: Site) -> int:
    """nn.Upsample's hook counts the output elements of the first sample, and the `F.interpolate` its forward
    runs (wrapped) the output elements again: twice; `F.interpolate` alone once (whole scale factors)."""
    return site.out_numel * {"module": 2, "functional": 1}.get(site.call, 0)


def _ptflops_layer_scale(site: Site) -> int:
    """torch.mul(x, γ) (call: functional) with γ shaped (C, 1, 1) as torchvision keeps it: ptflops
    aligns the two shapes from the left, (1, C, H, W) against (C, 1, 1), and counts C·C·H·W (a known
    bug; C per output element); `γ * x` is not seen."""
    return site.out_numel * site.inputs[0][0] if site.call == "functional" else 0


#: ptflops' `rnn_flops_counter_hook`: elementwise work per step, in h: RNN the sum of the products; GRU
#: r ⊙ (·) and 3 sums and 3 products/sums of the update; LSTM 4 sums, and 3 + 3 for c and h.
_PTFLOPS_CELL = {F.RNN: 1, F.GRU: 7, F.LSTM: 10}


def _ptflops_cell(x: int, h: int, g: int, layer) -> int:
    """G·h·x + G·h·h (the weights' shapes), each bias vector's G·h, and the cell's elementwise work."""
    return g * h * (x + h) + layer.bias_vectors * g * h + _PTFLOPS_CELL[layer.family] * h


def _ptflops_aten_recurrent(site: Site) -> int:
    """nn.RNN and nn.GRU run `addmm` (`mm` without bias) per product: MACs + the bias elements; nn.LSTM
    one `aten.lstm` the backend does not count."""
    if site.layer.family is F.LSTM:
        return 0
    return per_cell(lambda x, h, g, layer: g * h * (x + h) + layer.bias_vectors * g * h)(site)


# BatchNorm, InstanceNorm, GroupNorm and LayerNorm share one hook: 1 per input element, 2 when the module
# has a true `affine` attribute (nn.LayerNorm calls it `elementwise_affine`: always 1).
_PTFLOPS_HOOKED_NORMS = (
    (F.BATCH_NORM, module_only(per_input_element(1, 2))),
    (F.GROUP_NORM, module_only(per_input_element(1, 2))),
    (F.LAYER_NORM, module_only(lambda site: site.in_numel)),
)


class Ptflops(Profile):
    """ptflops `get_model_complexity_info` (default pytorch backend): "MACs" of convolution and
    linear plus one per bias element; BatchNorm and GroupNorm 1 per element, 2 with γ/β; LayerNorm
    1 per element; activations and pooling 1 per element, twice when an nn.Module runs a wrapped
    functional (a known bug); torch.add and torch.mul 1 per element; LRN through the tensor
    operations it is made of; nn.Upsample 1 per output element, twice through the F.interpolate it runs
    (F.interpolate alone once); `+`, `+=`, `*`, `x.mean()`, subclasses and unknown modules 0."""

    name = "ptflops"
    tool = "ptflops.get_model_complexity_info (pytorch backend)"
    unit = "MACs + bias, normalisation, activation and pooling elements"
    rules = rules(
        (WEIGHTED, module_only(_ptflops_weighted)),
        *_PTFLOPS_HOOKED_NORMS,
        ((*ACTIVATIONS, *POOLS), _ptflops_elementwise),
        (F.LRN, _ptflops_lrn),
        (MERGES, _ptflops_merge),
        (F.LAYER_SCALE, _ptflops_layer_scale),
        (RECURRENT, module_only(per_cell(_ptflops_cell))),
        (F.UPSAMPLE, _ptflops_upsample),
        ((F.L2_NORM, F.STANDARDIZE, F.RESCALE, F.SUBTRACT, F.BLUR_POOL, F.DATA), zero),
        (F.SQUARED_RELU, module_only(lambda site: 2 * site.in_numel)),   # its nn.ReLU: the hook, then F.relu
    )


class PtflopsModules(Profile):
    """ptflops' pytorch backend with `count_functional=False`: module hooks only, so an activation or
    pooling module counts once, nn.Upsample 1 per output element, and functional calls, tensor operations
    and LRN count 0."""

    name = "ptflops-modules"
    tool = 'ptflops.get_model_complexity_info (pytorch backend, backend_specific_config={"count_functional": False})'
    unit = "MACs + bias, normalisation, activation and pooling elements of hooked modules"
    rules = rules(
        (WEIGHTED, module_only(_ptflops_weighted)),
        *_PTFLOPS_HOOKED_NORMS,
        ((*ACTIVATIONS, *POOLS), _ptflops_hooked_elementwise),
        (RECURRENT, module_only(per_cell(_ptflops_cell))),
        (F.UPSAMPLE, module_only(lambda site: site.out_numel)),
        ((F.LRN, F.L2_NORM, *MERGES, F.SUBTRACT, *SCALES, F.BLUR_POOL, F.DATA), zero),
        (F.SQUARED_RELU, module_only(lambda site: site.in_numel)),   # the hook of its nn.ReLU
    )


class PtflopsAten(Profile):
    """ptflops' `aten` backend (a torch dispatch mode): convolution (also transposed) and matrix
    products (mm, addmm), MACs plus one per bias element; every other operator 0. (A linear layer
    on a permuted, non-contiguous tensor runs mm and a separate add, and its bias counts 0; a
    `pointlinear` stands for ConvNeXt's, which reads LayerNorm's contiguous output: addmm.)"""

    name = "ptflops-aten"
    tool = 'ptflops.get_model_complexity_info (backend="aten")'
    unit = "MACs + bias of convolution and matrix products"
    rules = rules((WEIGHTED, _ptflops_weighted), (RECURRENT, _ptflops_aten_recurrent),
                  ((*NORMS, *SCALES, *but(POOLS, F.BLUR_POOL), *ACTIVATIONS, *MERGES, F.SUBTRACT, *RESIZES, F.DATA),
                   zero), (F.BLUR_POOL, macs))


# --- thop --------------------------------------------------------------------------------------
def _thop_convtranspose(site: Site) -> int:
    """thop applies its conv formula: output elements × C_in/groups × k_h·k_w."""
    kh, kw = site.layer.kernel_size
    return site.out_numel * (site.inputs[0][0] // site.layer.groups) * kh * kw


def _thop_adaptive_avg(site: Site) -> int:
    """(window area + 1) per output element, the area as a float ratio of the sizes (a product over the
    axes from the first), truncated."""
    size = site.inputs[0][1:]
    out = site.output[1:] if len(site.output) == len(site.inputs[0]) else (1,) * len(size)
    area = 1.0
    for n, o in zip(size, out):
        area *= n / o
    return int((area + 1) * site.out_numel)


def _thop_softmax(site: Site) -> int:
    """exp, add and divide per feature: (3·C − 1) per position."""
    c = site.inputs[0][0]
    return (site.in_numel // c) * (3 * c - 1)


#: thop's `rnn_hooks`: besides each gate's G·(h·(x + h) + h + 2h with bias), the cell's own work in h:
#: GRU r ⊙ (·) and (1 − z) ⊙ n + z ⊙ h (4), LSTM f ⊙ c + i ⊙ g and o ⊙ tanh(c) (4), RNN none.
_THOP_CELL = {F.RNN: 0, F.GRU: 4, F.LSTM: 4}


def _thop_cell(x: int, h: int, g: int, layer) -> int:
    return g * (h * (x + h) + h + (2 * h if layer.has_bias else 0)) + _THOP_CELL[layer.family] * h


def _thop_upsample(site: Site) -> int:
    """`calculate_upsample`: 1 per output element for nearest, 11 for bilinear."""
    return site.out_numel * (11 if site.layer.bilinear else 1)


class Thop(Profile):
    """thop `profile` (0.1.1): forward hooks on nn.Module classes only (functional calls 0):
    convolution and linear MACs without bias; BatchNorm and nn.LayerNorm 2 per element doubled
    again with γ/β (4: a known bug); AvgPool2d 1 per output element; AdaptiveAvgPool2d (area + 1)
    per output element; PReLU 1 and Softmax 3·C − 1; Upsample 1 per output element (nearest) or 11
    (bilinear); ReLU, ReLU6, max pooling, GroupNorm, subclasses
    (LayerNorm2d) and unknown classes 0."""

    name = "thop"
    tool = "thop.profile"
    unit = "MACs + normalisation and average-pooling operations"
    rules = rules(
        ((F.CONV, F.LINEAR), module_only(macs)),
        (F.CONV_TRANSPOSE, module_only(_thop_convtranspose)),
        ((F.BATCH_NORM, F.LAYER_NORM), module_only(per_input_element(2, 4))),
        (F.AVG_POOL, module_only(lambda site: site.out_numel)),
        (F.ADAPTIVE_AVG_POOL, module_only(_thop_adaptive_avg)),
        (F.PRELU, module_only(lambda site: site.in_numel)),
        (F.SOFTMAX, module_only(_thop_softmax)),
        (RECURRENT, module_only(per_cell(_thop_cell))),
        (F.UPSAMPLE, module_only(_thop_upsample)),
        ((F.LRN, F.L2_NORM, F.GROUP_NORM, *SCALES, F.MAX_POOL, *but(ACTIVATIONS, F.PRELU, F.SOFTMAX), *MERGES,
          F.SUBTRACT, F.DATA, F.BLUR_POOL, F.MATMUL), zero),
    )


# --- ultralytics -------------------------------------------------------------------------------
def _doubled(rule: Rule) -> Rule:
    return lambda site: 2 * rule(site)


class Ultralytics(Profile):
    """The GFLOPs Ultralytics' `model.info()` prints (`utils.torch_utils.get_flops`): 2 × the MACs of
    its thop fork (ultralytics-thop 2.2) at the image size -- thop's rules, but that nn.Upsample counts
    0 and a product of two maps (`q @ k`, attention) counts its multiply-accumulates. (It runs one
    stride-sized proxy image and scales by the number of stride cells, which gives the same number
    for the networks it builds, whose every layer's work grows with the cells.)"""

    name = "ultralytics"
    tool = "ultralytics model.info() (ultralytics-thop profile ×2)"
    unit = "FLOPs = 2 × (MACs + normalisation and average-pooling operations)"
    rules = {**{family: _doubled(rule) for family, rule in Thop.rules.items()},
             F.UPSAMPLE: zero, F.MATMUL: two_macs}


# --- torchinfo ---------------------------------------------------------------------------------
def _trainable(site: Site) -> int:
    return sum(p.size for p in site.layer.parameters(list(site.inputs)) if p.trainable)


class Torchinfo(Profile):
    """torchinfo `summary` (1.8) "mult-adds": leaf modules with parameters only — a convolution's
    parameters times its output positions (MACs plus one per bias element; a transposed
    convolution uses its output positions too), any other layer's parameters named weight or bias
    once per sample (linear in·out + out, also at every position; BatchNorm, LayerNorm, GroupNorm
    2·C; PReLU its slopes); a layer scale's γ 0."""

    name = "torchinfo"
    tool = "torchinfo.summary"
    unit = "mult-adds = parameters × output positions"
    rules = rules(
        ((F.CONV, F.CONV_TRANSPOSE), lambda site: _trainable(site) * site.out_spatial),
        ((F.LINEAR, F.BATCH_NORM, F.LAYER_NORM, F.GROUP_NORM, F.PRELU), _trainable),
        (RECURRENT, lambda site: _trainable(site) * site.inputs[0][0]),
        ((F.LRN, F.L2_NORM, *SCALES, *POOLS, *but(ACTIVATIONS, F.PRELU), *MERGES, F.SUBTRACT, *RESIZES, F.DATA,
          F.MATMUL), zero),
    )


PROFILES: dict[str, Profile] = {
    p.name: p for p in (Archcalc(), Fvcore(), Ptflops(), PtflopsModules(), PtflopsAten(), Thop(), Torchinfo(),
                        Torch(), TorchTrain(), Ultralytics())
}
