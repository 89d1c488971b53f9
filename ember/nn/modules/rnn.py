"""Recurrent layers: RNN, LSTM, GRU (multi-layer, bidirectional, batch_first, dropout, proj_size
for LSTM) and their cells, with torch's parameter names, shapes, init and gate order.

The input projections of a whole sequence are one GEMM per layer and direction; only the hidden
projection runs per time step.
"""

from __future__ import annotations

import math
from typing import Any

from ember.nn import functional as F
from ember.nn import init
from ember.nn.modules.module import Module
from ember.nn.parameter import Parameter
from ember.ops.creation import empty, zeros
from ember.tensor import Tensor

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


class RNNBase(Module):
    """Shared parameters and the time loop of RNN, LSTM and GRU."""

    def __init__(
        self,
        mode: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        if not (0 <= dropout <= 1) or isinstance(dropout, bool):
            raise ValueError(
                "dropout should be a number in range [0, 1] representing the probability of an element being zeroed"
            )
        if hidden_size <= 0:
            raise ValueError("hidden_size must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError(
                "proj_size should be a positive integer or zero to disable projections"
            )
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if dropout > 0 and num_layers == 1:
            import warnings

            warnings.warn(
                "dropout option adds dropout after all but last recurrent layer, so non-zero "
                f"dropout expects num_layers greater than 1, but got dropout={dropout} and "
                f"num_layers={num_layers}",
                UserWarning,
                stacklevel=3,
            )
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        gate = _GATES[mode] * hidden_size
        dirs = 2 if bidirectional else 1
        real_hidden = proj_size if proj_size > 0 else hidden_size
        self._flat_weights_names: list[str] = []
        kw = dict(device=device, dtype=dtype)
        for layer in range(num_layers):
            for d in range(dirs):
                in_size = input_size if layer == 0 else real_hidden * dirs
                sfx = f"_l{layer}" + ("_reverse" if d == 1 else "")
                names = [f"weight_ih{sfx}", f"weight_hh{sfx}"]
                setattr(self, names[0], Parameter(empty((gate, in_size), **kw)))
                setattr(self, names[1], Parameter(empty((gate, real_hidden), **kw)))
                if bias:
                    names += [f"bias_ih{sfx}", f"bias_hh{sfx}"]
                    setattr(self, names[2], Parameter(empty(gate, **kw)))
                    setattr(self, names[3], Parameter(empty(gate, **kw)))
                if proj_size > 0:
                    names.append(f"weight_hr{sfx}")
                    setattr(self, names[-1], Parameter(empty((proj_size, hidden_size), **kw)))
                self._flat_weights_names += names
        self.reset_parameters()

    def reset_parameters(self) -> None:
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for w in self.parameters():
            init.uniform_(w, -stdv, stdv)

    @property
    def _flat_weights(self) -> list[Tensor]:
        return [getattr(self, n) for n in self._flat_weights_names]

    @property
    def all_weights(self) -> list[list[Tensor]]:
        per = len(self._flat_weights_names) // (self.num_layers * (2 if self.bidirectional else 1))
        w = self._flat_weights
        return [w[i : i + per] for i in range(0, len(w), per)]

    def flatten_parameters(self) -> None:
        """No-op (cuDNN weight packing has no counterpart here)."""

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s

    def _weights(self, layer: int, d: int) -> tuple:
        sfx = f"_l{layer}" + ("_reverse" if d == 1 else "")
        g = lambda n: getattr(self, n + sfx, None)
        return g("weight_ih"), g("weight_hh"), g("bias_ih"), g("bias_hh"), g("weight_hr")

    def _run(self, x: Tensor, hx: Any, lengths: Any = None) -> tuple[Tensor, Any]:
        """x: (L, N, H_in); hx: (layers*dirs, N, H) [and c for LSTM]. Returns output, h_n[, c_n].

        With `lengths` (packed input), sequence n only updates its state for t < lengths[n], so
        its final state and the reverse direction's start are its own ends, as torch's.
        """
        from ember.ops import cat, stack, where
        from ember.ops._core import _make

        lstm = self.mode == "LSTM"
        dirs = 2 if self.bidirectional else 1
        L = x.shape[0]
        h_out, c_out = [], []
        layer_in = x
        for layer in range(self.num_layers):
            outs_dir = []
            for d in range(dirs):
                w_ih, w_hh, b_ih, b_hh, w_hr = self._weights(layer, d)
                k = layer * dirs + d
                h = hx[0][k] if lstm else hx[k]
                c = hx[1][k] if lstm else None
                xp = layer_in @ w_ih.t()  # (L, N, G*H): all time steps in one GEMM
                if b_ih is not None:
                    xp = xp + b_ih
                steps = range(L - 1, -1, -1) if d == 1 else range(L)
                outs = [None] * L
                for t in steps:
                    gh = h @ w_hh.t()
                    if b_hh is not None:
                        gh = gh + b_hh
                    h2, c2 = self._cell(xp[t], gh, h, c)
                    if w_hr is not None:
                        h2 = h2 @ w_hr.t()
                    if lengths is not None:
                        live = _make((lengths > t)[:, None])
                        h2 = where(live, h2, h)
                        if c2 is not None:
                            c2 = where(live, c2, c)
                        outs[t] = h2 * live
                    else:
                        outs[t] = h2
                    h, c = h2, c2
                outs_dir.append(stack(outs, 0) if L else layer_in[:, :, :0])
                h_out.append(h)
                if lstm:
                    c_out.append(c)
            layer_in = outs_dir[0] if dirs == 1 else cat(outs_dir, -1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_in = F.dropout(layer_in, self.dropout, True)
        h_n = stack(h_out, 0)
        return layer_in, ((h_n, stack(c_out, 0)) if lstm else h_n)

    def _cell(self, xg: Tensor, hg: Tensor, h: Tensor, c: Any) -> tuple[Tensor, Any]:
        raise NotImplementedError

    def _prepare(self, input: Tensor, hx: Any) -> tuple[Tensor, Any, bool]:
        batched = input.dim() == 3
        if input.dim() not in (2, 3):
            raise ValueError(
                f"{type(self).__name__}: Expected input to be 2D or 3D, got {input.dim()}D tensor instead"
            )
        if not batched:
            input = input.unsqueeze(1)
        elif self.batch_first:
            input = input.transpose(0, 1)
        if input.shape[-1] != self.input_size:
            raise RuntimeError(
                f"input.size(-1) must be equal to input_size. Expected {self.input_size}, got {input.shape[-1]}"
            )
        n = input.shape[1]
        dirs = 2 if self.bidirectional else 1
        real_hidden = self.proj_size if self.proj_size > 0 else self.hidden_size
        shape_h = (self.num_layers * dirs, n, real_hidden)
        if hx is None:
            h0 = zeros(*shape_h, dtype=input.dtype, device=input.device)
            if self.mode == "LSTM":
                hx = (
                    h0,
                    zeros(
                        self.num_layers * dirs,
                        n,
                        self.hidden_size,
                        dtype=input.dtype,
                        device=input.device,
                    ),
                )
            else:
                hx = h0
        elif not batched:
            hx = tuple(h.unsqueeze(1) for h in hx) if self.mode == "LSTM" else hx.unsqueeze(1)
        hs = hx if self.mode == "LSTM" else (hx,)
        if tuple(hs[0].shape) != shape_h:
            raise RuntimeError(f"Expected hidden size {shape_h}, got {list(hs[0].shape)}")
        return input, hx, batched

    def forward(self, input: Any, hx: Any = None) -> tuple[Any, Any]:
        from ember.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

        if isinstance(input, PackedSequence):
            padded, lengths = pad_packed_sequence(input)  # (L, N, *) in the original batch order
            bf, self.batch_first = self.batch_first, False
            try:
                x, hx, _ = self._prepare(padded, hx)
            finally:
                self.batch_first = bf
            out, h = self._run(x, hx, lengths._data)
            return pack_padded_sequence(out, lengths, enforce_sorted=False), h
        x, hx, batched = self._prepare(input, hx)
        out, h = self._run(x, hx)
        if not batched:
            out = out.squeeze(1)
            h = tuple(t.squeeze(1) for t in h) if isinstance(h, tuple) else h.squeeze(1)
        elif self.batch_first:
            out = out.transpose(0, 1)
        return out, h


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) (or relu)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        nonlinearity = kwargs.pop("nonlinearity", "tanh")
        if len(args) > 3:
            nonlinearity = args[3]
            args = args[:3] + args[4:]
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(
                f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'."
            )
        self.nonlinearity = nonlinearity
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", *args, **kwargs)

    def _cell(self, xg: Tensor, hg: Tensor, h: Tensor, c: Any) -> tuple[Tensor, Any]:
        z = xg + hg
        return (z.tanh() if self.nonlinearity == "tanh" else z.relu()), None


class LSTM(RNNBase):
    """Long short-term memory; returns output, (h_n, c_n). Gates i, f, g, o as torch."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__("LSTM", *args, **kwargs)

    def _cell(self, xg: Tensor, hg: Tensor, h: Tensor, c: Any) -> tuple[Tensor, Any]:
        i, f, g, o = (xg + hg).chunk(4, -1)
        c2 = f.sigmoid() * c + i.sigmoid() * g.tanh()
        return o.sigmoid() * c2.tanh(), c2


class GRU(RNNBase):
    """Gated recurrent unit: gates r, z, n as torch (r applied to the hidden projection)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if kwargs.get("proj_size", 0):
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__("GRU", *args, **kwargs)

    def _cell(self, xg: Tensor, hg: Tensor, h: Tensor, c: Any) -> tuple[Tensor, Any]:
        ir, iz, inn = xg.chunk(3, -1)
        hr, hz, hn = hg.chunk(3, -1)
        r = (ir + hr).sigmoid()
        z = (iz + hz).sigmoid()
        n = (inn + r * hn).tanh()
        return (1 - z) * n + z * h, None


class RNNCellBase(Module):
    """Parameters of a single-step cell: weight_ih (G*H, in), weight_hh (G*H, H), biases."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool,
        num_chunks: int,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        kw = dict(device=device, dtype=dtype)
        self.weight_ih = Parameter(empty((num_chunks * hidden_size, input_size), **kw))
        self.weight_hh = Parameter(empty((num_chunks * hidden_size, hidden_size), **kw))
        if bias:
            self.bias_ih = Parameter(empty(num_chunks * hidden_size, **kw))
            self.bias_hh = Parameter(empty(num_chunks * hidden_size, **kw))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def reset_parameters(self) -> None:
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for w in self.parameters():
            init.uniform_(w, -stdv, stdv)

    def _h0(self, input: Tensor) -> Tensor:
        n = () if input.dim() == 1 else (input.shape[0],)
        return zeros(*n, self.hidden_size, dtype=input.dtype, device=input.device)


class RNNCell(RNNCellBase):
    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: str = "tanh",
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        hx = self._h0(input) if hx is None else hx
        cell = F.rnn_tanh_cell if self.nonlinearity == "tanh" else F.rnn_relu_cell
        return cell(input, hx, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)


class LSTMCell(RNNCellBase):
    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(
        self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None
    ) -> tuple[Tensor, Tensor]:
        if hx is None:
            z = self._h0(input)
            hx = (z, z)
        return F.lstm_cell(input, hx, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)


class GRUCell(RNNCellBase):
    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        hx = self._h0(input) if hx is None else hx
        return F.gru_cell(input, hx, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
