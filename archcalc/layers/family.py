"""What a layer computes, as the counting tools tell layers apart: its `Family`.

Every layer class declares one (`family = Family.CONV`); several types may share one (max, adaptive
max and global max pooling are all max pooling to a counter). The count profiles
(`archcalc/profiles/`) key their rules on it, never on type names, and every profile gives each
family a rule or an explicit 0 (`tests/test_profile_contract.py`).
"""

from __future__ import annotations

from enum import Enum


class Family(Enum):
    """The operation a layer's reference PyTorch code runs, as counting tools see it."""

    CONV = "convolution"
    CONV_TRANSPOSE = "transposed convolution"
    LINEAR = "fully connected (matrix product)"
    BATCH_NORM = "batch normalization"
    LRN = "local response normalization"
    LAYER_NORM = "layer normalization over the channels at each position"
    GROUP_NORM = "group normalization over channel groups and positions"
    STANDARDIZE = "standardisation with stored per-channel mean and variance (Keras Normalization)"
    RESCALE = "multiplication and addition of constants (Keras Rescaling)"
    LAYER_SCALE = "learnt per-channel scale"
    MAX_POOL = "max pooling (windowed, adaptive or global)"
    AVG_POOL = "average or sum pooling over windows"
    ADAPTIVE_AVG_POOL = "adaptive or global average pooling"
    RELU = "rectifier"
    RELU6 = "rectifier clipped at 6"
    LEAKY_RELU = "leaky rectifier"
    ELU = "exponential linear unit"
    SIGMOID = "logistic sigmoid"
    TANH = "hyperbolic tangent"
    SILU = "sigmoid-weighted linear unit"
    HARDSWISH = "hard swish"
    HARDSIGMOID = "hard sigmoid"
    GELU = "Gaussian error linear unit"
    PRELU = "parametric rectifier"
    SOFTMAX = "softmax"
    ADD = "elementwise sum"
    MULTIPLY = "elementwise product"
    DATA = "data movement without arithmetic (input, views, padding, copies, concatenation)"
