"""Synapse count, weight memory and the energy/area estimate of a pruned, quantized network.

The estimate (stated, not measured on hardware): in an in-memory-computing crossbar or a
digital synapse memory, *area* scales with the number of stored weight bits, and the *energy*
of a synaptic event with the width of the weight word read. So, against the dense float32
network on the same input:

    area ratio   = (n_exc * n_input * 32) / (live synapses * bits)
    energy ratio = sum_i E[s_i] n_exc 32 / sum_i E[s_i] live_i bits

where ``E[s_i]`` is input ``i``'s expected spike count (its mean intensity over the test
images) and ``live_i`` its surviving fan-out. ``bits = ceil(log2(levels))`` for a quantized
network (the levels include 0; pruned synapses are not stored), 32 for float.

Example:
    >>> mask = np.ones((2, 4)); mask[0, :2] = 0
    >>> c = synapse_cost(mask, levels=4, input_rates=np.ones(4))
    >>> c["synapses"], c["weight_bits"], c["area_ratio"]
    (6, 12, 21.333333333333332)
"""

from __future__ import annotations

import math

import numpy as np


def bits_per_weight(levels: int) -> int:
    """Bits to store one of ``levels`` levels (32 for float, ``levels`` = 0)."""
    if levels < 0 or levels == 1:
        raise ValueError(f"levels must be 0 (float) or >= 2, got {levels}")
    return 32 if levels == 0 else max(1, math.ceil(math.log2(levels)))


def synapse_cost(mask: np.ndarray, levels: int, input_rates: np.ndarray) -> dict[str, float]:
    """Synapses, weight bits and the area/energy ratios vs. the dense float network.

    ``mask`` ``(n_exc, n_input)``; ``input_rates`` ``(n_input,)`` relative input activity.
    """
    mask = np.asarray(mask) > 0
    rates = np.asarray(input_rates, np.float64)
    if rates.shape != (mask.shape[1],):
        raise ValueError(f"input_rates must be ({mask.shape[1]},), got {rates.shape}")
    bits = bits_per_weight(levels)
    live = int(mask.sum())
    dense = mask.size
    fanout = mask.sum(0)
    events_dense = float(rates.sum() * mask.shape[0] * 32)
    events = float((rates * fanout).sum() * bits)
    return {
        "synapses": live,
        "pruned_fraction": 1.0 - live / dense,
        "bits_per_weight": bits,
        "weight_bits": live * bits,
        "area_ratio": dense * 32 / max(live * bits, 1),
        "energy_ratio": events_dense / events if events > 0 else math.inf,
    }
