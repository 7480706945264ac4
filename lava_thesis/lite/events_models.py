"""Event-sequence classifiers (method 5): a DIET-style convolutional SNN and a
CNN+GRU baseline of similar size, with parameter counts and energy per inference.

Input: a recording cut into ``T`` time bins; bin ``t`` is a binary event frame
``e[t] in {0, 1}^(2, 34, 34)`` (1 where the pixel emitted at least one event of that polarity,
:func:`binary_frames`). Both models see exactly these frames.

SNN: a :class:`~lava_thesis.diet.DietSNN` (SLAYER CUBA blocks, learnable per-layer leak and
threshold, hard reset, strided convolutions since netx has no pooling) fed one frame per step:

.. math::
    u_l[t] = \\lambda_l u_l[t-1] + W_l s_{l-1}[t], \\quad s_l[t] = H(u_l[t] - \\vartheta_l),
    \\quad s_0[t] = \\tfrac{255}{256} e[t]

Events travel to Lava as 8-bit graded spikes of value 255 (the tested direct-input path; the
first layer's current is ``floor(W 255 / 256)`` on both sides). SLAYER's ``delay_shift`` delays
every block by one step, so each sequence is followed by ``net.delay`` silent steps; the class
is the output neuron with most spikes over the whole window.

The readout is the output neuron with most spikes over the whole window (``readout="spikes"``),
or, with ``readout="integrator"``, a non-spiking, non-leaking output layer whose voltage at the
window's last step is the class score (DIET's readout: it sums the weighted hidden spikes of
every time step, ``score_c = sum_t (W s_{L-1}[t])_c``).

Baselines, both with dense compute on every frame:

* :class:`CnnGru`: the same convolution stack with ReLU on each frame, flattened, a GRU over
  the ``T`` frames, a linear readout of the last hidden state:
  ``h_t = GRU(flatten(CNN(e[t])), h_{t-1})``, ``logits = V h_T + c``.
* :class:`ConvLstm`: the convolutions but the last with ReLU on each frame, then a ConvLSTM
  layer in place of the last convolution (same kernel and stride on the input, its hidden
  state convolved with the same kernel at stride 1), a linear readout of the last hidden map:

  .. math::
      (i, f, o, g) = W_x * x_t + W_h * h_{t-1} + b, \\quad
      c_t = \\sigma(f) c_{t-1} + \\sigma(i) \\tanh(g), \\quad h_t = \\sigma(o) \\tanh(c_t)

Energy (45 nm, :mod:`lava_thesis.energy`): the SNN's first layer gets binary events, so it is
charged like every other layer, ``0.9 pJ`` per synaptic operation (non-zero input x fan-out);
the baselines ``4.6 pJ`` per MAC: ``T (sum_conv MACs) + gru_macs(F, H, T) + H * classes``, and
``T (sum_conv MACs + MACs(W_x) + MACs(W_h)) + (H h w) * classes`` (gate products and
activations are not counted, as for the GRU).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from lava_thesis import energy
from lava_thesis.diet import DietSNN, parse_spec
from lava_thesis.diet.energy import energy_from_input
from lava_thesis.hybrid.deploy import spike_payload
from lava_thesis.lite.events_dataset import SyntheticEventSet
from lava_thesis.lite.events_synth import SynthConfig, events_to_frames

SNN_SPEC = ("c16k5s2", "c32k3s2", "c32k3s2", "f", "d64", "d10")
INPUT_BITS = 8

__all__ = ["SNN_SPEC", "CnnGru", "ConvLstm", "baseline_energy", "binary_frames", "build_snn",
           "calibrate_thresholds", "convlstm_energy", "gru_parameters", "recording_frames",
           "snn_energy", "snn_input", "snn_payload"]


def binary_frames(data: SyntheticEventSet, n_bins: int, indices: Sequence[int] | None = None
                  ) -> np.ndarray:
    """``(N, T, 2, H, W)`` bool: an event of polarity ``p`` at ``(y, x)`` in time bin ``t``."""
    idx = range(len(data)) if indices is None else indices
    return np.stack([data.frames(int(i), n_bins) > 0 for i in idx])


def recording_frames(events: np.ndarray, n_bins: int, config: SynthConfig | None = None
                     ) -> np.ndarray:
    """A recording read from a file (structured ``x, y, t, p`` events, e.g. from
    :func:`~lava_thesis.data.nmnist.read_nmnist_bin`) as the models' input: ``(n_bins, 2, H,
    W)`` bool, binned as the synthetic recordings of ``config`` are (default
    :class:`~lava_thesis.lite.events_synth.SynthConfig`: a 34 x 34 sensor, 300 ms).

    Times count from the recording's first event; events at or after ``duration_us`` are left
    out. Raises ValueError (naming the field) for events outside the sensor or an empty
    recording.
    """
    cfg = config or SynthConfig()
    if len(events) == 0:
        raise ValueError("the recording holds no events")
    shifted = np.array(events, copy=True)
    shifted["t"] = shifted["t"] - shifted["t"].min()
    return events_to_frames(shifted, cfg.sensor_size, n_bins, cfg.duration_us) > 0


def snn_payload(frames: np.ndarray, pad: int) -> np.ndarray:
    """Binary frames ``(N, T, 2, H, W)`` -> Lava payload ``(N, 2, H, W, T + pad)`` float32:
    255 where an event is, then ``pad`` silent steps (SLAYER's delay, one step per layer);
    the hybrid method's spike payload (:func:`lava_thesis.hybrid.deploy.spike_payload`)."""
    return spike_payload(np.moveaxis(np.asarray(frames), 1, -1), pad)


def snn_input(frames: np.ndarray, pad: int) -> torch.Tensor:
    """The SLAYER input for ``frames``: ``payload / 256`` (exact in float32)."""
    return torch.from_numpy(snn_payload(frames, pad) / (1 << INPUT_BITS))


def build_snn(spec: Sequence[str] = SNN_SPEC, input_shape: tuple[int, int, int] = (2, 34, 34),
              readout: str = "spikes") -> DietSNN:
    """A DIET-SNN for event frames (thresholds 1.0 until :func:`calibrate_thresholds`);
    ``readout`` ``"spikes"`` (spike counts) or ``"integrator"`` (the last voltage)."""
    return DietSNN(spec, input_shape, readout=readout)


@torch.no_grad()
def calibrate_thresholds(net: DietSNN, x: torch.Tensor, percentile: float = 99.7,
                         scale: float = 0.5) -> list[float]:
    """Set each layer's threshold to ``scale`` times the ``percentile`` of its synaptic current
    ``W_l s_{l-1}`` on ``x`` (layer by layer, earlier layers already set) and return them.

    The same rule DIET uses on its ANN, applied to the SNN itself: a network trained from
    scratch keeps spikes flowing to the output from the first batch.
    """
    thetas = []
    for block in net.blocks:
        if hasattr(block, "neuron"):
            hook = block.synapse.pre_hook_fx
            hook.log_gain.fill_(0.0)
            current = block.synapse(x)
            theta = max(scale * float(np.percentile(current.numpy(), percentile)), 1e-3)
            hook.log_gain.fill_(float(np.log(theta / hook.theta_ref)))
            thetas.append(theta)
        x = block(x)
    return thetas


def snn_energy(net: DietSNN, x: torch.Tensor) -> energy.EnergyReport:
    """Energy report of ``net`` on the SLAYER input ``x``: every layer charged SynOps (its
    input, events included, is binary), from the measured spikes."""
    return energy_from_input(net, x, analog_input=False)


def _conv_layers(spec: Sequence[str], input_shape: tuple[int, int, int]) -> list[tuple]:
    layers = [layer for layer in parse_spec(spec, input_shape) if layer[0] == "conv"]
    if not layers:
        raise ValueError("the baseline needs at least one convolution in the spec")
    return layers


def _relu_convs(conv_layers: Sequence[tuple[int, int, int, int]]) -> list[torch.nn.Module]:
    """``Conv2d(c_in, c_out, k, s, padding k // 2)`` + ReLU per ``(c_in, c_out, k, s)``."""
    modules: list[torch.nn.Module] = []
    for c_in, c_out, k, s in conv_layers:
        modules += [torch.nn.Conv2d(c_in, c_out, k, s, k // 2), torch.nn.ReLU()]
    return modules


def _conv_macs(conv_layers: Sequence[tuple[int, int, int, int]], hw: Sequence[int]
               ) -> tuple[int, tuple[int, int]]:
    """MACs of :func:`_relu_convs`' convolutions on one ``hw`` frame, and the output size."""
    total = 0
    for c_in, c_out, k, s in conv_layers:
        macs, hw = energy.conv_macs(c_in, c_out, k, hw, stride=s, padding=k // 2)
        total += macs
    return total, tuple(hw)


class CnnGru(torch.nn.Module):
    """Per-frame CNN (the SNN's convolutions with ReLU) -> GRU -> linear readout.

    ``forward(frames)``: ``(N, T, C, H, W)`` -> logits ``(N, classes)``.
    """

    def __init__(self, spec: Sequence[str] = SNN_SPEC, input_shape: tuple[int, int, int] =
                 (2, 34, 34), hidden: int = 20, classes: int = 10) -> None:
        super().__init__()
        layers = _conv_layers(spec, input_shape)
        self.conv_layers = [(c_in, c_out, k, s) for _, c_in, c_out, k, s, _ in layers]
        self.input_shape, self.hidden = tuple(input_shape), hidden
        self.cnn = torch.nn.Sequential(*_relu_convs(self.conv_layers), torch.nn.Flatten())
        self.features = int(np.prod(layers[-1][5]))
        self.gru = torch.nn.GRU(self.features, hidden, batch_first=True)
        self.head = torch.nn.Linear(hidden, classes)

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        n, t = frames.shape[:2]
        feats = self.cnn(frames.reshape(n * t, *frames.shape[2:])).reshape(n, t, -1)
        _, h = self.gru(feats)
        return self.head(h[-1])


def gru_parameters(input_size: int, hidden: int) -> int:
    """Parameters of one torch GRU layer: ``3 (I H + H H + 2 H)`` (two bias vectors)."""
    return 3 * (input_size * hidden + hidden * hidden + 2 * hidden)


def baseline_energy(model: CnnGru, n_bins: int, mac_pj: float = energy.MAC_PJ
                    ) -> dict[str, float]:
    """MACs and energy (pJ) per inference of ``model`` on ``n_bins`` frames (dense compute)."""
    conv, _ = _conv_macs(model.conv_layers, model.input_shape[1:])
    gru = energy.gru_macs(model.features, model.hidden, n_bins)
    head = energy.dense_macs(model.hidden, model.head.out_features)
    total = n_bins * conv + gru + head
    return {"macs": float(total), "conv_macs": float(n_bins * conv), "gru_macs": float(gru),
            "energy_pj": mac_pj * total}


class ConvLstm(torch.nn.Module):
    """Per-frame CNN (the SNN's convolutions but the last, with ReLU) -> a ConvLSTM layer with
    ``hidden`` channels in place of the last convolution -> linear readout of ``h_T``.

    ``forward(frames)``: ``(N, T, C, H, W)`` -> logits ``(N, classes)``. The default (24
    hidden channels on :data:`SNN_SPEC`) has 59,946 parameters, the SNN 66,474.

    Example:
        >>> model = ConvLstm(hidden=4)
        >>> model(torch.zeros(2, 3, 2, 34, 34)).shape
        torch.Size([2, 10])
    """

    def __init__(self, spec: Sequence[str] = SNN_SPEC, input_shape: tuple[int, int, int] =
                 (2, 34, 34), hidden: int = 24, classes: int = 10) -> None:
        super().__init__()
        layers = _conv_layers(spec, input_shape)
        if hidden < 1:
            raise ValueError(f"hidden must be >= 1, got {hidden}")
        self.conv_layers = [(c_in, c_out, k, s) for _, c_in, c_out, k, s, _ in layers]
        self.input_shape, self.hidden = tuple(input_shape), hidden
        self.cnn = torch.nn.Sequential(*_relu_convs(self.conv_layers[:-1]))
        c_in, _, k, s = self.conv_layers[-1]
        self.x_gates = torch.nn.Conv2d(c_in, 4 * hidden, k, s, k // 2)
        self.h_gates = torch.nn.Conv2d(hidden, 4 * hidden, k, 1, k // 2, bias=False)
        self.out_hw = tuple(layers[-1][5][1:])
        self.head = torch.nn.Linear(hidden * int(np.prod(self.out_hw)), classes)

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        n, t = frames.shape[:2]
        feats = self.cnn(frames.reshape(n * t, *frames.shape[2:]))
        gx = self.x_gates(feats).reshape(n, t, 4 * self.hidden, *self.out_hw)
        h = gx.new_zeros(n, self.hidden, *self.out_hw)
        c = torch.zeros_like(h)
        for step in range(t):
            i, f, o, g = (gx[:, step] + self.h_gates(h)).chunk(4, 1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
        return self.head(h.flatten(1))


def convlstm_energy(model: ConvLstm, n_bins: int, mac_pj: float = energy.MAC_PJ
                    ) -> dict[str, float]:
    """MACs and energy (pJ) per inference of ``model`` on ``n_bins`` frames (dense compute:
    the front convolutions and both gate convolutions on every frame, the readout once)."""
    conv, hw = _conv_macs(model.conv_layers[:-1], model.input_shape[1:])
    c_in, _, k, s = model.conv_layers[-1]
    x_macs, out_hw = energy.conv_macs(c_in, 4 * model.hidden, k, hw, stride=s, padding=k // 2)
    h_macs, _ = energy.conv_macs(model.hidden, 4 * model.hidden, k, out_hw, stride=1,
                                 padding=k // 2)
    head = energy.dense_macs(model.head.in_features, model.head.out_features)
    total = n_bins * (conv + x_macs + h_macs) + head
    return {"macs": float(total), "conv_macs": float(n_bins * conv),
            "lstm_macs": float(n_bins * (x_macs + h_macs)), "energy_pj": mac_pj * total}
