"""Compute energy of a trained DIET-SNN (or any :class:`~lava_thesis.diet.DietSNN`), measured
from the spikes of every layer on real input (45 nm model of :mod:`lava_thesis.energy`).

Per sample, with ``s_{l-1}[t]`` the input events of layer ``l`` and ``fanout`` its synapses::

    E = 0.9 pJ * sum_{l: spike input} sum_t ||s_{l-1}[t]||_0 * fanout_l
      + 4.6 pJ * MACs_1 * A_1          (direct input only: the analog first layer)

``A_1`` is the number of steps that carry input (the silent steps that flush SLAYER's
per-layer delay are free). An integrator readout never fires: its output counts no spikes.
Used by the DIET and hybrid experiments and by the LITE-SNN event models.
"""

from __future__ import annotations

import numpy as np
import torch

from lava_thesis import energy
from lava_thesis.diet.model import DietSNN
from lava_thesis.diet.train import snn_input

__all__ = ["energy_from_input", "energy_report"]


def energy_report(net: DietSNN, images: np.ndarray, num_steps: int) -> energy.EnergyReport:
    """Spike counts of every layer on ``images`` -> 45 nm energy (first layer: analog MACs).

    ``images`` are uint8 ``(N, H, W)`` or ``(N, C, H, W)``, fed as direct input for
    ``num_steps`` steps (:func:`lava_thesis.diet.train.snn_input`).
    """
    return energy_from_input(net, snn_input(images, num_steps, net.delay), analog_input=True)


def energy_from_input(net: DietSNN, x: torch.Tensor, *, analog_input: bool
                      ) -> energy.EnergyReport:
    """Energy of ``net`` on the SLAYER input ``x`` ``(N, C, H, W, T)``.

    Parameters
    ----------
    net : DietSNN
        The network; run once on ``x`` in eval mode, recording every block's output spikes.
    x : torch.Tensor
        Its input, time last, delay steps included.
    analog_input : bool
        True: the first layer is charged MACs on every step that carries input (direct input;
        the silent steps that flush the delay are free). False: its input events are counted
        as synaptic operations like every other layer's.
    """
    record: list = []
    net.eval()
    with torch.no_grad():  # on the network's device; the counts on the CPU
        net(x.to(next(net.parameters()).device), record=record)
    record = [r.cpu() for r in record]
    specs, inputs, outputs = [], [], []
    shape, prev = net.input_shape, x
    if net.readout == "integrator":  # the readout only integrates: it emits no spikes
        record[-1] = torch.zeros_like(record[-1])
    for i, (block, out) in enumerate(zip(net.blocks, record, strict=True)):
        if hasattr(block, "neuron"):
            specs.append(energy.spec_from_slayer_block(
                block, shape, name=f"{len(specs) + 1}:{net.spec[i]}",
                analog_input=analog_input and not specs))
            inputs.append(prev)
            outputs.append(out)
        prev, shape = out, tuple(out.shape[1:-1])
    return energy.EnergyReport(energy.count_from_spikes(specs, inputs, outputs))
