"""Compute energy of an SNN and of its equivalent ANN (45 nm CMOS, Horowitz 2014).

Per inference (one sample)::

    E_ANN = MAC_PJ * sum_l MACs_l
    E_SNN = AC_PJ * sum_{l: spike input} SynOps_l + MAC_PJ * sum_{l: analog input} MACs_l * A_l
    SynOps_l = sum_t sum_i s_i[t] * fanout_i

``MAC_PJ = 4.6`` pJ (32-bit float multiply-accumulate), ``AC_PJ = 0.9`` pJ (accumulate).
``s_i[t]`` is 1 when input neuron ``i`` of the layer emits an event at step ``t`` (any non-zero
entry, so a graded spike counts once) and ``fanout_i`` is the number of synapses it drives, exact
also at the border of padded or strided convolutions (:func:`conv_fanout`). The first layer of a
direct-input SNN receives analog values, so it does its ANN MACs at every step that brings it
input: ``A_l`` is the mean number of steps per sample whose input is not all zero (the silent
steps that flush SLAYER's per-layer delay cost nothing; ``A_l = T`` when the input is not
given). Only synaptic
compute is counted (no neuron updates, memory access or data movement). MACs follow the usual
convention ``C_out * H_out * W_out * C_in / groups * kh * kw``, zero padding included.

Spike tensors use the SLAYER layout, time last: ``(N, C, T)`` (dense) or ``(N, C, H, W, T)``
(conv); counts are summed over batch and time and divided by ``N`` (numbers per sample).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from lava_thesis.plots import plot_energy_bars

__all__ = [
    "AC_PJ", "MAC_PJ", "EnergyReport", "LayerSpec", "LayerStats", "ann_energy", "conv_fanout",
    "conv_macs", "count_from_spikes", "dense_macs", "gru_macs", "lstm_macs", "plot_report",
    "report_dict", "report_table", "rnn_macs", "spec_from_slayer_block",
]

MAC_PJ = 4.6  #: pJ per 32-bit float multiply-accumulate (45 nm)
AC_PJ = 0.9  #: pJ per 32-bit float accumulate (45 nm)
Pair = tuple[int, int]


def _pair(v: int | Sequence[int], what: str) -> Pair:
    t = (v, v) if isinstance(v, int | np.integer) else tuple(v)
    if len(t) != 2 or any(int(x) != x for x in t):
        raise ValueError(f"{what} must be an int or a pair of ints, got {v!r}")
    return int(t[0]), int(t[1])


def _conv(
    in_channels: int, out_channels: int, kernel: int | Sequence[int], input_hw: Sequence[int],
    stride: int | Sequence[int], padding: int | Sequence[int], dilation: int | Sequence[int],
    groups: int,
) -> tuple[int, Pair, np.ndarray]:
    """Validated conv geometry: MACs, output ``(H_out, W_out)`` and the ``(H, W)`` fan-out map."""
    (kh, kw), (sh, sw) = _pair(kernel, "kernel"), _pair(stride, "stride")
    (ph, pw), (dh, dw) = _pair(padding, "padding"), _pair(dilation, "dilation")
    h, w = _pair(tuple(input_hw), "input_hw")
    if min(in_channels, out_channels, groups) < 1 or in_channels % groups or out_channels % groups:
        raise ValueError(f"channels {in_channels}->{out_channels} not divisible by {groups=}")
    out = ((h + 2 * ph - dh * (kh - 1) - 1) // sh + 1, (w + 2 * pw - dw * (kw - 1) - 1) // sw + 1)
    if min(*out, kh, kw, sh, sw, dh, dw, h, w) < 1 or min(ph, pw) < 0:
        raise ValueError(f"bad conv geometry: kernel {kernel}, input {input_hw} -> output {out}")
    uses = []  # per axis: how many (output position, kernel tap) pairs read each input index
    for size, n_out, k, st, pad, dil in ((h, out[0], kh, sh, ph, dh), (w, out[1], kw, sw, pw, dw)):
        pos = np.arange(n_out)[:, None] * st - pad + np.arange(k)[None, :] * dil
        uses.append(np.bincount(pos[(pos >= 0) & (pos < size)], minlength=size))
    fan = (out_channels // groups) * np.outer(*uses).astype(np.int64)
    return out_channels * out[0] * out[1] * (in_channels // groups) * kh * kw, out, fan


def dense_macs(in_features: int, out_features: int) -> int:
    """MACs of a dense layer for one input: ``in_features * out_features``."""
    return int(in_features) * int(out_features)


def conv_macs(
    in_channels: int, out_channels: int, kernel: int | Sequence[int], input_hw: Sequence[int],
    *, stride: int | Sequence[int] = 1, padding: int | Sequence[int] = 0,
    dilation: int | Sequence[int] = 1, groups: int = 1,
) -> tuple[int, Pair]:
    """MACs and output ``(H_out, W_out)`` of a 2-D convolution for one input.

    ``MACs = C_out * H_out * W_out * (C_in / groups) * kh * kw`` with
    ``H_out = (H + 2 p - d (kh - 1) - 1) // s + 1`` (likewise ``W_out``).

    >>> conv_macs(1, 1, 3, (3, 3), padding=1)
    (81, (3, 3))
    """
    return _conv(in_channels, out_channels, kernel, input_hw, stride, padding, dilation,
                 groups)[:2]


def conv_fanout(
    out_channels: int, kernel: int | Sequence[int], input_hw: Sequence[int],
    *, stride: int | Sequence[int] = 1, padding: int | Sequence[int] = 0,
    dilation: int | Sequence[int] = 1, groups: int = 1,
) -> np.ndarray:
    """Exact fan-out (synapses driven) of each input position, an ``(H, W)`` int array.

    The same for every input channel: ``(C_out / groups) * r[h] * c[w]``, where ``r[h]`` counts the
    (output row, kernel row) pairs that read input row ``h`` (a transposed convolution of ones).
    Unpadded, ``C_in * fanout.sum() == MACs``; padded, the taps on zero padding are left out.

    >>> conv_fanout(1, 3, (3, 3), padding=1)
    array([[4, 6, 4],
           [6, 9, 6],
           [4, 6, 4]])
    """
    return _conv(groups, out_channels, kernel, input_hw, stride, padding, dilation, groups)[2]


def rnn_macs(input_size: int, hidden_size: int, seq_len: int = 1) -> int:
    """MACs of a vanilla (Elman) RNN layer: ``seq_len * (input*hidden + hidden*hidden)``."""
    return int(seq_len) * (input_size * hidden_size + hidden_size * hidden_size)


def lstm_macs(input_size: int, hidden_size: int, seq_len: int = 1) -> int:
    """MACs of an LSTM layer: ``seq_len * 4 * (input*hidden + hidden*hidden)`` (4 gates).

    Biases, element-wise gate products and activations are not counted (nor in :func:`gru_macs`).

    >>> lstm_macs(10, 20, 5)
    12000
    """
    return int(seq_len) * 4 * (input_size * hidden_size + hidden_size * hidden_size)


def gru_macs(input_size: int, hidden_size: int, seq_len: int = 1) -> int:
    """MACs of a GRU layer: ``seq_len * 3 * (input*hidden + hidden*hidden)`` (3 gates)."""
    return int(seq_len) * 3 * (input_size * hidden_size + hidden_size * hidden_size)


@dataclass(frozen=True)
class LayerSpec:
    """Geometry of one synaptic layer (``kind`` ``"dense"`` or ``"conv"``).

    Dense: ``in_channels``/``out_channels`` are in/out features; the input may have any shape with
    ``in_channels`` elements per step. Conv: ``input_hw`` is required. ``analog_input`` marks the
    first layer of a direct-input SNN (charged ``MACs * T`` instead of SynOps).

    >>> LayerSpec("c1", "conv", 2, 4, kernel=3, padding=1, input_hw=(8, 8)).macs_per_step
    4608
    """

    name: str
    kind: str
    in_channels: int
    out_channels: int
    kernel: int | Pair = 1
    stride: int | Pair = 1
    padding: int | Pair = 0
    dilation: int | Pair = 1
    groups: int = 1
    input_hw: Pair | None = None
    analog_input: bool = False
    macs_per_step: int = field(init=False)  #: MACs of the equivalent ANN layer for one input
    input_shape: tuple[int, ...] = field(init=False)  #: ``(C,)`` or ``(C, H, W)``
    output_shape: tuple[int, ...] = field(init=False)

    def __post_init__(self) -> None:
        put = partial(object.__setattr__, self)
        try:
            if self.kind not in ("dense", "conv") or min(self.in_channels, self.out_channels) < 1:
                raise ValueError(f"kind must be 'dense' or 'conv', channels >= 1 ({self.kind!r})")
            for f in ("kernel", "stride", "padding", "dilation"):
                put(f, _pair(getattr(self, f), f))
            if self.kind == "dense":
                put("input_shape", (self.in_channels,))
                put("output_shape", (self.out_channels,))
                put("macs_per_step", dense_macs(self.in_channels, self.out_channels))
                return
            if self.input_hw is None:
                raise ValueError("a conv spec needs input_hw")
            put("input_hw", _pair(tuple(self.input_hw), "input_hw"))
            put("input_shape", (self.in_channels, *self.input_hw))
            macs, out, _ = _conv(self.in_channels, self.out_channels, self.kernel, self.input_hw,
                                 self.stride, self.padding, self.dilation, self.groups)
            put("output_shape", (self.out_channels, *out))
            put("macs_per_step", macs)
        except ValueError as err:
            raise ValueError(f"layer {self.name!r}: {err}") from None

    def fanout(self) -> np.ndarray:
        """Exact fan-out of each input element, shaped like :attr:`input_shape`."""
        if self.kind == "dense":
            return np.full(self.input_shape, self.out_channels, dtype=np.int64)
        fan = _conv(self.in_channels, self.out_channels, self.kernel, self.input_hw, self.stride,
                    self.padding, self.dilation, self.groups)[2]
        return np.broadcast_to(fan, self.input_shape)


def spec_from_slayer_block(
    block: Any, input_shape: Sequence[int] | None = None, *, name: str = "layer",
    analog_input: bool = False,
) -> LayerSpec:
    """:class:`LayerSpec` of a lava-dl SLAYER block whose ``synapse`` is ``Dense``, ``Conv`` or
    ``Pool`` (a per-channel window sum, counted as the depthwise convolution it is).

    ``input_shape`` is the per-sample input shape without batch and time, ``(C, H, W)``; it is
    needed for conv blocks. After a forward pass the output shape is checked against the block's.
    """
    from lava.lib.dl.slayer import synapse as syn_mod

    syn = getattr(block, "synapse", None)
    if not isinstance(syn, syn_mod.Dense | syn_mod.Conv | syn_mod.Pool):
        raise ValueError(f"layer {name!r}: synapse {type(syn).__name__} is not slayer "
                         "Dense/Conv/Pool")
    kh, kw = syn.kernel_size[:2]
    if isinstance(syn, syn_mod.Pool):  # per-channel window sum: a depthwise convolution
        if input_shape is None or len(input_shape) != 3:
            raise ValueError(f"layer {name!r}: pool needs input_shape (C, H, W), got "
                             f"{input_shape}")
        channels = int(input_shape[0])
        spec = LayerSpec(name, "conv", channels, channels, (kh, kw), syn.stride[:2],
                         syn.padding[:2], syn.dilation[:2], channels, tuple(input_shape[1:]),
                         analog_input)
    elif isinstance(syn, syn_mod.Dense):  # (in, 1, 1) or an image-sized kernel (C, H, W)
        spec = LayerSpec(name, "dense", syn.in_channels * kh * kw, syn.out_channels,
                         analog_input=analog_input)
    else:
        if input_shape is None or len(input_shape) != 3 or input_shape[0] != syn.in_channels:
            raise ValueError(f"layer {name!r}: conv needs input_shape (C={syn.in_channels}, H, W),"
                             f" got {input_shape}")
        spec = LayerSpec(name, "conv", syn.in_channels, syn.out_channels, (kh, kw),
                         syn.stride[:2], syn.padding[:2], syn.dilation[:2], syn.groups,
                         tuple(input_shape[1:]), analog_input)
    shape = getattr(getattr(block, "neuron", None), "shape", None)
    if shape is not None and math.prod(shape) != math.prod(spec.output_shape):
        raise ValueError(f"layer {name!r}: block output {tuple(shape)} != {spec.output_shape}")
    return spec


@dataclass(frozen=True)
class LayerStats:
    """Per-sample activity of one layer (spike counts summed over time steps)."""

    name: str
    kind: str
    neurons: int
    fan_out: float  #: mean synapses per input neuron (SynOps use the exact map)
    macs_per_step: int
    input_spikes: float
    output_spikes: float
    synops: float
    time_steps: int
    analog_input: bool = False
    #: analog layers: mean steps per sample with non-zero input (MACs are done on those steps)
    input_steps: float | None = None

    @property
    def spike_rate(self) -> float:
        """``output_spikes / (neurons * T)``: spikes per neuron per step."""
        return self.output_spikes / (self.neurons * self.time_steps)

    def snn_energy_pj(self, mac_pj: float = MAC_PJ, ac_pj: float = AC_PJ) -> float:
        if self.analog_input:
            steps = self.time_steps if self.input_steps is None else self.input_steps
            return mac_pj * self.macs_per_step * steps
        return ac_pj * self.synops

    def ann_energy_pj(self, mac_pj: float = MAC_PJ) -> float:
        return mac_pj * self.macs_per_step


def _array(x: Any) -> np.ndarray:
    return np.asarray(x.detach().cpu().numpy() if hasattr(x, "detach") else x)


def count_from_spikes(
    specs: Sequence[LayerSpec], input_spikes: Sequence[Any], output_spikes: Sequence[Any],
) -> list[LayerStats]:
    """Per-layer stats from each layer's recorded input and output spike tensors.

    ``input_spikes[l]`` / ``output_spikes[l]`` are numpy arrays or torch tensors, batch first and
    time last; the input of an ``analog_input`` layer is not counted and may be ``None``. For a
    feed-forward stack: ``inputs = [x, *outputs[:-1]]``.

    >>> spec = LayerSpec("fc", "dense", 3, 2)
    >>> x = np.array([[[1, 0], [1, 1], [0, 0]]])             # (N=1, C=3, T=2): 3 spikes
    >>> y = np.array([[[0, 1], [0, 0]]])
    >>> count_from_spikes([spec], [x], [y])[0].synops          # 3 spikes * 2 synapses
    6.0
    """
    if not len(specs) == len(input_spikes) == len(output_spikes):
        raise ValueError("specs, input_spikes and output_spikes must have the same length")
    stats = []
    for spec, x, y in zip(specs, input_spikes, output_spikes, strict=True):
        y = _array(y)
        if y.ndim < 3 or math.prod(y.shape[1:-1]) != math.prod(spec.output_shape):
            raise ValueError(f"layer {spec.name!r}: output spikes {y.shape} do not match "
                             f"(N, {spec.output_shape}, T)")
        n, t = y.shape[0], y.shape[-1]
        fan = spec.fanout()
        in_events = synops = 0.0
        input_steps = None
        if spec.analog_input:
            input_steps = float(t)
            if x is not None:
                x = _array(x)
                if x.ndim < 3 or x.shape[0] != n or x.shape[-1] != t:
                    raise ValueError(f"layer {spec.name!r}: analog input {x.shape} does not "
                                     f"match (N={n}, ..., T={t})")
                busy = np.any(x.reshape(n, -1, t) != 0, axis=1)  # (N, T)
                input_steps = float(busy.sum()) / n
        else:
            x = _array(x) if x is not None else np.empty(0)
            inner = x.shape[1:-1]
            ok = (math.prod(inner) == spec.in_channels) if spec.kind == "dense" else (
                inner == spec.input_shape)
            if x.ndim < 3 or x.shape[0] != n or x.shape[-1] != t or not ok:
                raise ValueError(f"layer {spec.name!r}: input spikes {x.shape} do not match "
                                 f"(N={n}, {spec.input_shape}, T={t})")
            per_input = np.count_nonzero(x, axis=(0, x.ndim - 1)).reshape(fan.shape)
            in_events = float(per_input.sum()) / n
            synops = float((per_input * fan).sum()) / n
        stats.append(LayerStats(
            spec.name, spec.kind, math.prod(spec.output_shape), float(fan.sum()) / fan.size,
            spec.macs_per_step, in_events, float(np.count_nonzero(y)) / n, synops, int(t),
            spec.analog_input, input_steps))
    return stats


def ann_energy(layers: Iterable[LayerSpec | int], *, mac_pj: float = MAC_PJ) -> float:
    """ANN energy in pJ: ``mac_pj * sum(MACs)``; items are specs or MAC counts (e.g. lstm_macs).

    >>> round(ann_energy([LayerSpec("fc", "dense", 3, 2), lstm_macs(1, 1)]), 6)
    64.4
    """
    return mac_pj * sum(x.macs_per_step if isinstance(x, LayerSpec) else int(x) for x in layers)


@dataclass(frozen=True)
class EnergyReport:
    """Layer stats and totals in pJ; ``ratio = ann_energy_pj / snn_energy_pj`` (inf: silent SNN)."""

    layers: tuple[LayerStats, ...]
    mac_pj: float = MAC_PJ
    ac_pj: float = AC_PJ
    synops: float = field(init=False)
    snn_energy_pj: float = field(init=False)
    ann_energy_pj: float = field(init=False)
    ratio: float = field(init=False)

    def __post_init__(self) -> None:
        put, layers = partial(object.__setattr__, self), tuple(self.layers)
        snn = sum(s.snn_energy_pj(self.mac_pj, self.ac_pj) for s in layers)
        ann = sum(s.ann_energy_pj(self.mac_pj) for s in layers)
        put("layers", layers)
        put("synops", sum(s.synops for s in layers))
        put("snn_energy_pj", snn)
        put("ann_energy_pj", ann)
        put("ratio", ann / snn if snn > 0 else (math.inf if ann > 0 else math.nan))


def report_table(report: EnergyReport) -> str:
    """Markdown table: one row per layer, a total row and the ANN/SNN ratio (energies in nJ)."""
    head = ("| layer | kind | neurons | T | in spikes | out spikes | rate | fan-out | SynOps "
            "| ANN MACs | SNN nJ | ANN nJ |")
    rows = [head, "|" + "---|" * 12]
    for s in report.layers:
        rows.append(
            f"| {s.name}{' (analog in)' if s.analog_input else ''} | {s.kind} | {s.neurons} | "
            f"{s.time_steps}{'' if s.input_steps is None else f' ({s.input_steps:.3g} in)'} | "
            f"{s.input_spikes:.4g} | {s.output_spikes:.4g} | {s.spike_rate:.4g} "
            f"| {s.fan_out:.4g} | {s.synops:.4g} | {s.macs_per_step} | "
            f"{s.snn_energy_pj(report.mac_pj, report.ac_pj) / 1e3:.4g} | "
            f"{s.ann_energy_pj(report.mac_pj) / 1e3:.4g} |")
    rows.append(f"| **total** | | | | | | | | {report.synops:.4g} | "
                f"{sum(s.macs_per_step for s in report.layers)} | "
                f"{report.snn_energy_pj / 1e3:.4g} | {report.ann_energy_pj / 1e3:.4g} |")
    return "\n".join(rows) + f"\n\nANN/SNN compute-energy ratio: {report.ratio:.4g}\n"


def report_dict(report: EnergyReport) -> dict[str, float]:
    """Flat finite numbers for a results JSON (``energy_ratio`` is left out when not finite)."""
    out: dict[str, float] = {
        "snn_energy_uj": report.snn_energy_pj / 1e6, "ann_energy_uj": report.ann_energy_pj / 1e6,
        "synops": report.synops, "ann_macs": float(sum(s.macs_per_step for s in report.layers)),
    }
    if math.isfinite(report.ratio):
        out["energy_ratio"] = report.ratio
    for s in report.layers:
        out[f"spike_rate_{re.sub(r'[^0-9A-Za-z_]+', '_', s.name)}"] = s.spike_rate
    return out


def plot_report(report: EnergyReport, path: str | Path, *, per_layer: bool = True,
                log: bool = False) -> Path:
    """Bar chart of ANN and SNN energy per inference (µJ), plus each layer's SNN energy."""
    bars: Mapping[str, float] = {"ANN": report.ann_energy_pj / 1e6,
                                 "SNN": report.snn_energy_pj / 1e6}
    if per_layer:
        bars = {**bars, **{f"SNN {s.name}": s.snn_energy_pj(report.mac_pj, report.ac_pj) / 1e6
                           for s in report.layers}}
    return plot_energy_bars(bars, path, unit="µJ", log=log,
                            title="Compute energy per inference (45 nm)")
