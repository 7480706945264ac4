"""Deploy a converted / STDB-tuned SNN: its hard-reset IF twin as lava-dl SLAYER blocks -> netx.

Lava's CUBA neuron (and Loihi) resets to zero, so the deployable network is the ``reset="hard"``
variant. The twin is a :class:`~lava_thesis.diet.DietSNN` with no leak (integrate-and-fire) and
the balanced thresholds folded into its 8-bit weights. Input spikes travel to Lava as 8-bit
graded spikes of value 255 (the twin sees 255/256; its first threshold is scaled by the same
factor, so the dynamics are those of a binary spike). The twin reads the class from output
*spikes* (Lava has no membrane readout), with the output threshold ``out_scale`` times the
balanced one.
"""

from __future__ import annotations

import numpy as np
import torch

from lava_thesis.diet import DietSNN
from lava_thesis.diet.model import THETA_REF
from lava_thesis.hybrid.snn import HybridSNN, weight_layers

SPIKE_PAYLOAD = 255  # 8-bit graded value carrying one input spike


def lava_twin(snn: HybridSNN, spec: list[str], input_shape: tuple[int, int, int],
              out_scale: float = 0.5, readout: str = "spikes") -> DietSNN:
    """The SLAYER / netx twin of ``snn`` (weights copied, thresholds folded).

    ``readout="spikes"``: the output layer fires at ``out_scale`` times its balanced threshold
    and the class is the most spikes; ``"integrator"``: the output layer never fires and its
    voltage, the sum of its input currents, is the score (``snn``'s own membrane readout,
    with 8-bit weights; read in Lava from the layer's ``v``)."""
    thetas = snn.thresholds.tolist()
    thetas[0] *= SPIKE_PAYLOAD / 256
    if readout == "spikes":
        thetas[-1] *= out_scale
    twin = DietSNN(spec, input_shape, thresholds=thetas, readout=readout)
    layers = weight_layers(torch.nn.Sequential(*snn.layers))
    if len(layers) != len(twin.weight_blocks):
        raise ValueError("the SNN and its spec disagree on the weight layers")
    with torch.no_grad():
        for layer, block in zip(layers, twin.weight_blocks, strict=True):
            w = layer.weight.detach()
            block.synapse.weight.copy_(w[..., None] if w.ndim == 4 else w[:, :, None, None, None])
            block.synapse.pre_hook_fx.log_gain.fill_(0.0)  # set below, per threshold
        for block, theta in zip(twin.weight_blocks, thetas, strict=True):
            block.synapse.pre_hook_fx.log_gain.fill_(float(np.log(theta / THETA_REF)))
    return twin


def spike_payload(spikes: np.ndarray, pad: int) -> np.ndarray:
    """Binary spikes ``(N, C, H, W, T)`` -> Lava graded payload with ``pad`` silent steps."""
    spikes = np.asarray(spikes, np.float32) * SPIKE_PAYLOAD
    return np.concatenate([spikes, np.zeros(spikes.shape[:-1] + (pad,), np.float32)], -1)


@torch.no_grad()
def twin_output(twin: DietSNN, payload: np.ndarray, record: list | None = None) -> np.ndarray:
    """The twin's output ``(N, classes, T + pad)`` on a Lava payload (torch side): spikes, or
    the integrator's voltage; ``record`` receives every block's output."""
    twin.eval()
    return twin(torch.from_numpy(payload / 256.0), record=record).numpy()
