"""Recurrent layers on (T, F) sequences: `rnn` (Elman), `lstm` and `gru`, stacked and bidirectional.

A sequence is the 2-tuple (T, F): T steps of F features (PyTorch's `batch_first=True` per sample, Keras'
`(timesteps, features)`). Each of the `num_layers` layers runs, per direction, one cell per step on the
layer's input x_t (F features for the first layer, D·h for the next, D = 2 directions when bidirectional)
and the previous hidden state h_{t−1}. The weights are PyTorch's, gate by gate in PyTorch's order
(LSTM i, f, g, o; GRU r, z, n): `weight_ih_l{k}` (gates·h, x), `weight_hh_l{k}` (gates·h, h), `_reverse`
for the backward direction. The biases follow the `convention`: PyTorch keeps two vectors per layer
and direction (`bias_ih`, `bias_hh`), Keras one (`bias`), or two for a GRU with `reset_after` (docs/
conventions.md, "Recurrent layers"). The output is every step's hidden state (T, D·h), or with
`return_sequences: false` the last one of each direction (D·h,): PyTorch's `h_n` of the last layer,
Keras' output without `return_sequences`.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field

from ..errors import ExportError, ShapeError, SpecError
from ..formulas import recurrent_macs, recurrent_params
from ..records import PositiveInt
from .base import Arithmetic, Layer, Param, Shape, format_shape, register
from .family import Family
from .foreign import KerasForm, KerasLayer, Mismatch, OnnxForm, OnnxNode, TorchCall, TorchForm

#: The most stacked layers one recurrent layer may have. Published stacks have 1 to 16; each stacked layer
#: is listed weight by weight, so the bound keeps a file asking for 10⁸ of them from hanging the analysis.
MAX_STACKED = 1000

Convention = Literal["pytorch", "keras"]
_KERAS = {"units": "hidden_size", "use_bias": "bias", "return_sequences": "return_sequences"}


class Recurrent(Layer):
    """What RNN, LSTM and GRU share: the stack of layers and directions, shapes, counts and the loop over steps."""

    over_time = True
    #: Gates per cell (weight matrices stacked in `weight_ih`), their names in PyTorch's order.
    gate_names: ClassVar[tuple[str, ...]] = ()
    #: The cell's arithmetic per step, as the textbook writes it (for `explain`).
    cell_equations: ClassVar[str] = ""
    #: What a step computes besides the gate products (for `explain`; the count profiles count it per tool).
    elementwise: ClassVar[str] = ""
    #: A PyTorch module of this type returns (output, h_n), an LSTM (output, (h_n, c_n)): importers read it.
    returns_state: ClassVar[bool] = True
    #: Whether the cell has a cell state besides h (an LSTM's c): its state is then the pair (h_n, c_n).
    keeps_state: ClassVar[bool] = False
    #: The gates' blocks of PyTorch's weights in the order ONNX's op stacks them.
    onnx_gates: ClassVar[tuple[int, ...]] = ()

    hidden_size: PositiveInt
    num_layers: Annotated[PositiveInt, Field(le=MAX_STACKED)] = 1
    bias: bool = True
    bidirectional: bool = False
    return_sequences: bool = True
    convention: Convention = "pytorch"

    @property
    def gates(self) -> int:
        return len(self.gate_names)

    @property
    def directions(self) -> int:
        return 2 if self.bidirectional else 1

    @property
    def bias_vectors(self) -> int:
        """Bias vectors per layer and direction: PyTorch 2, Keras 1 (0 without bias)."""
        return (2 if self.convention == "pytorch" else 1) if self.bias else 0

    @property
    def has_bias(self) -> bool:
        return self.bias

    # --- shape ---------------------------------------------------------------------------------
    def sequence(self, inputs: list[Shape]) -> tuple[int, int]:
        """(T, F) of the input, or a ShapeError naming the layer type."""
        if len(inputs[0]) != 2:
            raise ShapeError(f"{self.type_name} needs a (T, F) sequence, got {format_shape(inputs[0])}")
        return inputs[0]  # type: ignore[return-value]

    def layer_inputs(self, features: int) -> list[int]:
        """The input width x of each stacked layer: F, then D·h."""
        return [features] + [self.directions * self.hidden_size] * (self.num_layers - 1)

    def output_shape(self, inputs: list[Shape]) -> Shape:
        steps, _ = self.sequence(inputs)
        width = self.directions * self.hidden_size
        return (steps, width) if self.return_sequences else (width,)

    # --- counts --------------------------------------------------------------------------------
    def suffixes(self) -> list[str]:
        return ["", "_reverse"][: self.directions]

    def bias_names(self) -> list[str]:
        return {2: ["bias_ih", "bias_hh"], 1: ["bias"], 0: []}[self.bias_vectors]

    def parameters(self, inputs: list[Shape]) -> list[Param]:
        _, features = self.sequence(inputs)
        rows, params = self.gates * self.hidden_size, []
        for k, width in enumerate(self.layer_inputs(features)):
            for sfx in self.suffixes():
                params += [Param(f"weight_ih_l{k}{sfx}", (rows, width), "weight"),
                           Param(f"weight_hh_l{k}{sfx}", (rows, self.hidden_size), "weight")]
                params += [Param(f"{name}_l{k}{sfx}", (rows,), "bias") for name in self.bias_names()]
        return params

    def macs(self, inputs: list[Shape], output: Shape) -> int:
        steps, features = self.sequence(inputs)
        return self.directions * sum(recurrent_macs(self.gates, x, self.hidden_size, steps)
                                     for x in self.layer_inputs(features))

    def arithmetic(self, inputs: list[Shape], output: Shape) -> Arithmetic:
        steps, features = self.sequence(inputs)
        g, h, d, b = self.gates, self.hidden_size, self.directions, self.bias_vectors
        bias = f" + {b} × {h}" if b else ""
        layers = self.layer_inputs(features)
        sizes = [recurrent_params(g, x, h, b) for x in layers]
        params = "; ".join(f"layer {k + 1}: " * (len(layers) > 1) + f"{g} × ({h} × ({x} + {h}){bias}) = {n:,}"
                           for k, (x, n) in enumerate(zip(layers, sizes)))
        if len(layers) > 1 or d == 2:
            summed = f"({' + '.join(f'{n:,}' for n in sizes)})" if len(layers) > 1 else f"{sizes[0]:,}"
            params += f"; {summed}{f' × {d} directions' if d == 2 else ''} = {d * sum(sizes):,}"
        steps_macs = [recurrent_macs(g, x, h) for x in layers]
        per_step = "; ".join(f"layer {k + 1}: " * (len(layers) > 1) + f"{g} × {h} × ({x} + {h}) = {m:,}"
                             for k, (x, m) in enumerate(zip(layers, steps_macs)))
        step_total = d * sum(steps_macs)
        macs = (f"per step {per_step}" + (f"; all layers and directions {step_total:,}" if step_total != steps_macs[0]
                                         else "") +
                f"; × {steps} steps = {self.macs(inputs, output):,}. The gates: {self.cell_equations}. "
                f"Not MACs, per step and direction: {self.elementwise}")
        shown = f"{output[0]} × {output[1]}" if len(output) == 2 else f"{output[0]}"
        return Arithmetic(output=shown, params=params, macs=macs)

    def describe(self) -> str:
        parts = [f"h={self.hidden_size}"]
        if self.num_layers > 1:
            parts.append(f"{self.num_layers} layers")
        if self.bidirectional:
            parts.append("bi")
        if not self.return_sequences:
            parts.append("last")
        return ", ".join(parts)

    # --- forward -------------------------------------------------------------------------------
    def cell(self, xp: Any, gi: Any, h: Any, c: Any, w_hh: Any, b_hh: Any) -> tuple[Any, Any]:
        """One step: the input's gate products `gi` (N, gates·h, bias included), the state h (and c) → new h, c."""
        raise NotImplementedError

    def forward(self, xp: Any, inputs: list[Any], params: dict[str, Any]) -> Any:
        x = inputs[0]
        n, steps, _ = x.shape
        finals = []
        for k in range(self.num_layers):
            outputs, finals = [], []
            for sfx in self.suffixes():
                key = f"_l{k}{sfx}"
                biases = [params[f"{name}{key}"] for name in self.bias_names()]
                b_ih = biases[0] if biases else 0.0
                b_hh = biases[1] if len(biases) == 2 else None
                gi_all = x @ params[f"weight_ih{key}"].T + b_ih
                h = xp.zeros((n, self.hidden_size), dtype=x.dtype)
                c = xp.zeros_like(h)
                seq = [None] * steps
                order = range(steps - 1, -1, -1) if sfx else range(steps)
                for t in order:
                    h, c = self.cell(xp, gi_all[:, t], h, c, params[f"weight_hh{key}"], b_hh)
                    seq[t] = h
                outputs.append(xp.stack(seq, axis=1))
                finals.append(h)
            x = xp.concatenate(outputs, axis=2) if len(outputs) > 1 else outputs[0]
        if self.return_sequences:
            return x
        return xp.concatenate(finals, axis=1) if len(finals) > 1 else finals[0]

    # --- PyTorch -------------------------------------------------------------------------------
    @classmethod
    def from_torch(cls, call: TorchCall) -> dict[str, Any]:
        """`nn.LSTM` / `nn.GRU` / `nn.RNN` with `batch_first=True`, read as all steps (the importer reads
        the last step where the model takes it)."""
        m = call.module
        if m is None:
            raise Mismatch(f"torch's functional {cls.type_name} has no archcalc form")
        if not m.batch_first:
            raise Mismatch(f"nn.{type(m).__name__} with batch_first=False: archcalc reads sequences as "
                           "(N, T, F), write batch_first=True")
        if getattr(m, "proj_size", 0):
            raise Mismatch("an LSTM with proj_size has no archcalc layer type")
        if call.site.shape is not None and len(call.site.shape) != 2:
            raise Mismatch(f"nn.{type(m).__name__} reads a (T, F) sequence")
        return {"hidden_size": m.hidden_size, "num_layers": m.num_layers, "bias": bool(m.bias),
                "bidirectional": bool(m.bidirectional), **cls.torch_extra(m)}

    @classmethod
    def torch_extra(cls, module: Any) -> dict[str, Any]:
        return {}

    def torch_arguments(self) -> dict[str, Any]:
        return {}

    def torch_module(self, inputs: list[Shape]) -> Any:
        from torch import nn

        from .torch_code import Group
        from .torch_modules import M, TorchLayer, X

        self.check_exportable("PyTorch")
        _, features = self.sequence(inputs)
        module = getattr(nn, self.torch_form.modules[0])(
            features, self.hidden_size, self.num_layers, bias=self.bias, batch_first=True,
            bidirectional=self.bidirectional, **self.torch_arguments())
        if self.return_sequences:
            return TorchLayer(module, Group(M(X))[0])
        state = Group(M(X))[1][0] if self.keeps_state else Group(M(X))[1]
        return TorchLayer(module, state[slice(-self.directions, None)].method("transpose", 0, 1).method("flatten", 1))

    def check_exportable(self, where: str) -> None:
        """An ExportError where the layer is not one of `where`'s: one bias vector (Keras) or a GRU resetting before."""
        if self.bias_vectors == 1:
            raise ExportError(f"{self.type_name} with one bias vector (convention: keras) has no {where} form: "
                              "PyTorch and ONNX keep two (convention: pytorch)")

    # --- Keras ---------------------------------------------------------------------------------
    @classmethod
    def from_keras(cls, layer: KerasLayer) -> dict[str, Any]:
        """Keras' layer: one bias vector (`convention: keras`), the last step unless `return_sequences`."""
        if layer.site.shape is not None and len(layer.site.shape) != 2:
            raise Mismatch(f"{layer.class_name} reads a (T, F) sequence, not a {format_shape(layer.site.shape)} map")
        found = super().from_keras(layer)
        found.setdefault("return_sequences", False)
        if layer.config.get("go_backwards") or layer.config.get("stateful"):
            raise Mismatch(f"{layer.class_name} with go_backwards or stateful has no archcalc layer type")
        return {**found, "convention": "keras"}

    # --- ONNX ----------------------------------------------------------------------------------
    @classmethod
    def from_onnx(cls, node: OnnxNode) -> dict[str, Any]:
        """One layer of ONNX's `LSTM` / `GRU` / `RNN` (the importer stacks the layers archcalc writes one
        node each): hidden size, direction, bias; the default activations only."""
        attrs = node.attributes
        direction = attrs.get("direction", "forward")
        if direction not in ("forward", "bidirectional"):
            raise Mismatch(f"{node.op} with direction {direction!r} has no archcalc layer type")
        if attrs.get("layout", 0) or attrs.get("clip") is not None or attrs.get("input_forget", 0):
            raise Mismatch(f"{node.op} with layout, clip or input_forget has no archcalc layer type")
        if any(node.has(k) for k in range(4, len(node.inputs))):
            raise Mismatch(f"{node.op} with sequence lengths or an initial state has no archcalc layer type")
        return {"hidden_size": int(attrs["hidden_size"]), "bidirectional": direction == "bidirectional",
                "bias": node.has(3), **cls.onnx_extra(node)}

    @classmethod
    def onnx_extra(cls, node: OnnxNode) -> dict[str, Any]:
        """What the op's further attributes say: the activations must be the default ones."""
        found = _activations(node)
        if found and found != list(cls.onnx_activations) * (len(found) // max(1, len(cls.onnx_activations))):
            raise Mismatch(f"{node.op} with activations {found} has no archcalc layer type")
        return {}

    #: The activations of ONNX's op that are PyTorch's (its defaults).
    onnx_activations: ClassVar[tuple[str, ...]] = ()

    def onnx_attributes(self) -> dict[str, Any]:
        return {}

    def onnx_nodes(self, graph: Any, record: Any) -> None:
        """One ONNX op per stacked layer on the steps first (T, N, x); Y (T, D, N, h) of each layer turned to
        (T, N, D·h) for the next; the output (N, T, D·h), or Y_h (D, N, h) as (N, D·h)."""
        self.check_exportable("ONNX")
        name, op = record.name, self.onnx_form.ops[0]
        g, h, d = self.gates, self.hidden_size, self.directions
        _, features = self.sequence(list(record.input_shapes))
        widths = self.layer_inputs(features)
        x = graph.node("Transpose", [record.inputs[0]], f"{name}/steps_first", perm=[1, 0, 2])

        def gates(param: str, shape: list[int]) -> str:
            """The parameter with its gates in ONNX's order, one direction of the op's input (1, *shape)."""
            tensor = graph.weight(record, param)
            if list(self.onnx_gates) != sorted(self.onnx_gates):
                split = graph.node("Reshape", [tensor, graph.constant(f"{name}/{param}/gates", [g, h, -1], "int64")],
                                   f"{name}/{param}/by_gate")
                order = graph.constant(f"{name}/{param}/order", list(self.onnx_gates), "int64")
                tensor = graph.node("Gather", [split, order], f"{name}/{param}/onnx_order", axis=0)
            return graph.node("Reshape", [tensor, graph.constant(f"{name}/{param}/shape", [1, *shape], "int64")],
                              f"{name}/{param}/onnx")

        def joined(parts: list[str], out: str) -> str:
            return parts[0] if len(parts) == 1 else graph.node("Concat", parts, out, axis=0)

        for k, width in enumerate(widths):
            layer = f"{name}/l{k}"
            inputs = [x, joined([gates(f"weight_ih_l{k}{sfx}", [g * h, width]) for sfx in self.suffixes()],
                                f"{layer}/W"),
                      joined([gates(f"weight_hh_l{k}{sfx}", [g * h, h]) for sfx in self.suffixes()], f"{layer}/R")]
            if self.bias:
                both = [graph.node("Concat", [gates(f"{b}_l{k}{sfx}", [g * h]) for b in ("bias_ih", "bias_hh")],
                                   f"{layer}/biases{sfx}", axis=1) for sfx in self.suffixes()]
                inputs.append(joined(both, f"{layer}/B"))
            y, y_h = graph.outputs(op, inputs, [f"{name}/Y_l{k}", f"{name}/Y_h_l{k}"], f"{name}/{op.lower()}_l{k}",
                                   hidden_size=h, direction="bidirectional" if d == 2 else "forward",
                                   **self.onnx_attributes())
            if k < len(widths) - 1:
                turned = graph.node("Transpose", [y], f"{name}/steps_first_l{k + 1}", perm=[0, 2, 1, 3])
                x = graph.node("Reshape", [turned, graph.constant(f"{name}/stack_l{k + 1}", [0, 0, -1], "int64")],
                               f"{name}/input_l{k + 1}")
        if self.return_sequences:
            turned = graph.node("Transpose", [y], f"{name}/batch_first", perm=[2, 0, 1, 3])
            graph.node("Reshape", [turned, graph.constant(f"{name}/join", [0, 0, -1], "int64")], name)
        else:
            turned = graph.node("Transpose", [y_h], f"{name}/batch_first", perm=[1, 0, 2])
            graph.node("Reshape", [turned, graph.constant(f"{name}/join", [0, -1], "int64")], name)


def _activations(node: OnnxNode) -> list[str]:
    return [a.decode() if isinstance(a, bytes) else str(a) for a in node.attributes.get("activations", [])]


@register
class RNN(Recurrent):
    """Elman recurrent layer (PyTorch `RNN`, Keras `SimpleRNN`): h_t = act(W_ih·x_t + W_hh·h_{t−1} + b)."""

    type_name = "rnn"
    family = Family.RNN
    gate_names = ("h",)
    cell_equations = "h_t = tanh(W_ih·x_t + b_ih + W_hh·h_{t−1} + b_hh)"
    elementwise = "the sum of the two products and the nonlinearity (h each)"
    torch_form = TorchForm(modules=("RNN",))
    onnx_form = OnnxForm(ops=("RNN",))
    onnx_gates = (0,)
    keras_form = KerasForm(classes=("SimpleRNN",), config=_KERAS)

    nonlinearity: Literal["tanh", "relu"] = "tanh"

    @classmethod
    def torch_extra(cls, module: Any) -> dict[str, Any]:
        return {"nonlinearity": module.nonlinearity}

    @classmethod
    def from_keras(cls, layer: KerasLayer) -> dict[str, Any]:
        activation = layer.config.get("activation", "tanh")
        if activation not in ("tanh", "relu"):
            raise Mismatch(f"SimpleRNN with activation {activation!r} has no archcalc layer type")
        return {**super().from_keras(layer), "nonlinearity": activation}

    def torch_arguments(self) -> dict[str, Any]:
        return {"nonlinearity": self.nonlinearity}

    @classmethod
    def onnx_extra(cls, node: OnnxNode) -> dict[str, Any]:
        """`activations` all Tanh (the default) or all Relu."""
        found = set(_activations(node)) or {"Tanh"}
        if found not in ({"Tanh"}, {"Relu"}):
            raise Mismatch(f"RNN with activations {sorted(found)} has no archcalc layer type")
        return {"nonlinearity": found.pop().lower()}

    def onnx_attributes(self) -> dict[str, Any]:
        return {"activations": [self.nonlinearity.capitalize()] * self.directions}

    def cell(self, xp: Any, gi: Any, h: Any, c: Any, w_hh: Any, b_hh: Any) -> tuple[Any, Any]:
        z = gi + h @ w_hh.T
        if b_hh is not None:
            z = z + b_hh
        return (xp.tanh(z) if self.nonlinearity == "tanh" else xp.maximum(z, 0)), c


@register
class LSTM(Recurrent):
    """Long short-term memory (Hochreiter & Schmidhuber 1997; PyTorch `LSTM`, Keras `LSTM`)."""

    type_name = "lstm"
    family = Family.LSTM
    gate_names = ("i", "f", "g", "o")
    cell_equations = ("[i, f, g, o] = W_ih·x_t + b_ih + W_hh·h_{t−1} + b_hh; i, f, o = σ(·), g = tanh(·); "
                      "c_t = f ⊙ c_{t−1} + i ⊙ g; h_t = o ⊙ tanh(c_t)")
    elementwise = ("the sum of the two products (4·h), 3 sigmoids and 2 tanh (h each), f ⊙ c, i ⊙ g and "
                   "o ⊙ tanh(c) (3 products of h) and the sum of the cell state (h)")
    torch_form = TorchForm(modules=("LSTM",))
    onnx_form = OnnxForm(ops=("LSTM",))
    onnx_gates = (0, 3, 1, 2)          # ONNX: i, o, f, c
    onnx_activations = ("Sigmoid", "Tanh", "Tanh")
    keras_form = KerasForm(classes=("LSTM",), config=_KERAS)

    keeps_state = True

    def cell(self, xp: Any, gi: Any, h: Any, c: Any, w_hh: Any, b_hh: Any) -> tuple[Any, Any]:
        z = gi + h @ w_hh.T
        if b_hh is not None:
            z = z + b_hh
        i, f, g, o = (z[:, k * self.hidden_size:(k + 1) * self.hidden_size] for k in range(4))
        sigmoid = lambda v: 1.0 / (1.0 + xp.exp(-v))  # noqa: E731
        c = sigmoid(f) * c + sigmoid(i) * xp.tanh(g)
        return sigmoid(o) * xp.tanh(c), c


@register
class GRU(Recurrent):
    """Gated recurrent unit (Cho et al. 2014; PyTorch `GRU`, Keras `GRU`). With `reset_after` (PyTorch's
    and Keras 3's default) the reset gate multiplies W_hn·h + b_hn; without (Keras' original GRU, one bias
    vector) it multiplies h before the product."""

    type_name = "gru"
    family = Family.GRU
    gate_names = ("r", "z", "n")
    cell_equations = ("[r, z] = σ(W_ih·x_t + b_ih + W_hh·h_{t−1} + b_hh); n = tanh(W_in·x_t + b_in + "
                      "r ⊙ (W_hn·h_{t−1} + b_hn)); h_t = (1 − z) ⊙ n + z ⊙ h_{t−1}")
    elementwise = ("the sum of the two products (3·h), 2 sigmoids and a tanh (h each), r ⊙ (W_hn·h + b_hn), "
                   "(1 − z) ⊙ n and z ⊙ h (3 products of h) and 2 sums (h each)")
    torch_form = TorchForm(modules=("GRU",))
    onnx_form = OnnxForm(ops=("GRU",))
    onnx_gates = (1, 0, 2)             # ONNX: z, r, h
    onnx_activations = ("Sigmoid", "Tanh")
    keras_form = KerasForm(classes=("GRU",), config={**_KERAS, "reset_after": "reset_after"})

    reset_after: bool = True

    @property
    def bias_vectors(self) -> int:
        """PyTorch 2; Keras 2 with `reset_after` (the recurrent product keeps its own bias), else 1."""
        if not self.bias:
            return 0
        return 2 if self.convention == "pytorch" or self.reset_after else 1

    def output_shape(self, inputs: list[Shape]) -> Shape:
        if not self.reset_after and self.convention == "pytorch":
            raise SpecError("gru with reset_after: false is Keras' GRU: write convention: keras")
        return super().output_shape(inputs)

    def check_exportable(self, where: str) -> None:
        if not self.reset_after:
            raise ExportError(f"gru with reset_after: false (Keras' original GRU) has no {where} form")
        super().check_exportable(where)

    @classmethod
    def from_keras(cls, layer: KerasLayer) -> dict[str, Any]:
        return {**super().from_keras(layer), "reset_after": bool(layer.config.get("reset_after", True))}

    @classmethod
    def onnx_extra(cls, node: OnnxNode) -> dict[str, Any]:
        """PyTorch's GRU is ONNX's with `linear_before_reset`: the reset gate multiplies W_hn·h + b_hn."""
        if not node.attributes.get("linear_before_reset", 0):
            raise Mismatch("GRU without linear_before_reset (the reset gate before the recurrent product) "
                           "has no archcalc form with two bias vectors")
        return super().onnx_extra(node)

    def onnx_attributes(self) -> dict[str, Any]:
        return {"linear_before_reset": 1}

    def cell(self, xp: Any, gi: Any, h: Any, c: Any, w_hh: Any, b_hh: Any) -> tuple[Any, Any]:
        n_ = self.hidden_size
        sigmoid = lambda v: 1.0 / (1.0 + xp.exp(-v))  # noqa: E731
        if self.reset_after:
            gh = h @ w_hh.T
            if b_hh is not None:
                gh = gh + b_hh
            r = sigmoid(gi[:, :n_] + gh[:, :n_])
            z = sigmoid(gi[:, n_:2 * n_] + gh[:, n_:2 * n_])
            n = xp.tanh(gi[:, 2 * n_:] + r * gh[:, 2 * n_:])
        else:
            gh = h @ w_hh[: 2 * n_].T
            r = sigmoid(gi[:, :n_] + gh[:, :n_])
            z = sigmoid(gi[:, n_:2 * n_] + gh[:, n_:])
            n = xp.tanh(gi[:, 2 * n_:] + (r * h) @ w_hh[2 * n_:].T)
        return (1 - z) * n + z * h, c
