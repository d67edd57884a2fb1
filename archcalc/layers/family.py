"""What a layer computes, as the counting tools tell layers apart: its `Family`, and the `Group` of
families a drawing colours alike and a count profile treats alike.

Every layer class declares one family (`family = Family.CONV`); several types may share one (max,
adaptive max and global max pooling are all max pooling to a counter). Each family belongs to one
group (`Family.CONV.group` is `Group.CONVOLUTION`). The count profiles (`archcalc/profiles/`) key
their rules on families and groups, never on type names, and every profile gives each family a
rule or an explicit 0 (`tests/test_profile_contract.py`); the drawings colour boxes by group
(`archcalc/draw/palette.py`). A new family is one line here, its group named with it.
"""

from __future__ import annotations

from enum import Enum


class Group(Enum):
    """Families that act alike: the legend of a drawing, the sets a count profile's rules name."""

    CONVOLUTION = "convolution"
    FULLY_CONNECTED = "fully connected"
    RECURRENT = "recurrent"
    POOLING = "pooling"
    NORMALIZATION = "normalization"
    ACTIVATION = "activation"
    ARITHMETIC = "sum, product or scale"
    DATA = "data movement"

    @property
    def families(self) -> tuple[Family, ...]:
        """The families of this group, in their declared order."""
        return tuple(family for family in Family if family.group is self)


class Family(Enum):
    """The operation a layer's reference PyTorch code runs, as counting tools see it; `value` describes it."""

    CONV = "convolution", Group.CONVOLUTION
    CONV_TRANSPOSE = "transposed convolution", Group.CONVOLUTION
    LINEAR = "fully connected (matrix product)", Group.FULLY_CONNECTED
    RNN = "recurrent layer of one gate (Elman RNN)", Group.RECURRENT
    LSTM = "long short-term memory (four gates and a cell state)", Group.RECURRENT
    GRU = "gated recurrent unit (three gates)", Group.RECURRENT
    MATMUL = "product of two feature maps (attention)", Group.FULLY_CONNECTED
    BATCH_NORM = "batch normalization", Group.NORMALIZATION
    LRN = "local response normalization", Group.NORMALIZATION
    LAYER_NORM = "layer normalization over the channels at each position", Group.NORMALIZATION
    GROUP_NORM = "group normalization over channel groups and positions", Group.NORMALIZATION
    L2_NORM = "L2 normalisation of the channels at each position", Group.NORMALIZATION
    STANDARDIZE = ("standardisation with stored per-channel mean and variance (Keras Normalization)",
                   Group.NORMALIZATION)
    RESCALE = "multiplication and addition of constants (Keras Rescaling)", Group.ARITHMETIC
    LAYER_SCALE = "learnt per-channel scale", Group.ARITHMETIC
    MAX_POOL = "max pooling (windowed, adaptive or global)", Group.POOLING
    AVG_POOL = "average or sum pooling over windows", Group.POOLING
    ADAPTIVE_AVG_POOL = "adaptive or global average pooling", Group.POOLING
    BLUR_POOL = "a fixed blur filter applied as a depthwise convolution with a stride", Group.POOLING
    RELU = "rectifier", Group.ACTIVATION
    RELU6 = "rectifier clipped at 6", Group.ACTIVATION
    LEAKY_RELU = "leaky rectifier", Group.ACTIVATION
    ELU = "exponential linear unit", Group.ACTIVATION
    SIGMOID = "logistic sigmoid", Group.ACTIVATION
    TANH = "hyperbolic tangent", Group.ACTIVATION
    SILU = "sigmoid-weighted linear unit", Group.ACTIVATION
    HARDSWISH = "hard swish", Group.ACTIVATION
    HARDSIGMOID = "hard sigmoid", Group.ACTIVATION
    GELU = "Gaussian error linear unit", Group.ACTIVATION
    PRELU = "parametric rectifier", Group.ACTIVATION
    SQUARED_RELU = "squared rectifier, an nn.ReLU module inside (StarReLU also scales and shifts)", Group.ACTIVATION
    SOFTMAX = "softmax", Group.ACTIVATION
    ADD = "elementwise sum", Group.ARITHMETIC
    MULTIPLY = "elementwise product", Group.ARITHMETIC
    SUBTRACT = "elementwise difference", Group.ARITHMETIC
    UPSAMPLE = "resizing by nearest-neighbour or bilinear interpolation", Group.DATA
    DATA = "data movement without arithmetic (input, views, padding, copies, concatenation)", Group.DATA

    def __new__(cls, description: str, group: Group) -> Family:
        member = object.__new__(cls)
        member._value_ = description
        member.group = group
        return member
