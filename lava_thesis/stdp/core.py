"""The functional core of the STDP network: pure array functions, state in place.

The Lava ProcessModels (``lava_thesis.processes``) call these functions as plain numpy; the fast
engine (:mod:`lava_thesis.stdp.engine`) compiles the very same functions with numba. Weights are
``(n_post, n_pre)`` as in Lava's ``Dense`` (row ``j`` = the input weights of neuron ``j``).

Every function is written in the subset of numpy that numba compiles: no keyword-only
arguments, no Python objects, arrays modified in place.
"""

from __future__ import annotations

import numpy as np


def decay_trace(trace: np.ndarray, decay: float, spikes: np.ndarray) -> None:
    """Presynaptic trace: ``x <- decay * x + s`` (``decay = exp(-1/tau)``, +1 per spike)."""
    trace *= decay
    trace += spikes


def power_law_update(w: np.ndarray, post: np.ndarray, trace: np.ndarray, mask: np.ndarray,
                     eta: float, x_tar: float, w_max: float, mu: float) -> None:
    """Power-law weight-dependent STDP, applied on the post spikes in ``post`` (indices):

        dw_ji = eta * (x_i - x_tar) * (w_max - w_ji)^mu      for every unmasked synapse i -> j

    ``x_i - x_tar < 0`` depresses synapses whose input was silent (the D&C depression offset).
    ``(w_max - w)`` is floored at 0, and weights are clipped to ``[0, w_max]``; masked (pruned)
    synapses stay exactly zero.
    """
    drive = trace - x_tar
    for j in post:
        room = np.maximum(w_max - w[j], 0.0)
        row = w[j] + eta * drive * room ** mu
        w[j] = np.minimum(np.maximum(row, 0.0), w_max) * mask[j]


def normalize_rows(w: np.ndarray, rows: np.ndarray, total: float) -> None:
    """Scale each row in ``rows`` to sum to ``total`` (D&C: 78 for 784 inputs)."""
    for j in rows:
        s = w[j].sum()
        if s > 0:
            w[j] = w[j] * (total / s)


def accumulate_correlation(c: np.ndarray, post: np.ndarray, trace: np.ndarray) -> None:
    """Pre/post correlation of every synapse, accumulated on the post spikes in ``post``:

        C_ji += x_i      for each spike of j

    (the presynaptic trace at the post spike: how much input ``i`` fired just before ``j``,
    the coincidence STDP potentiates). :func:`prune_rows` can prune by it."""
    for j in post:
        c[j] += trace


def prune_rows(w: np.ndarray, mask: np.ndarray, fraction: float, key: np.ndarray) -> int:
    """Prune, per post neuron, the synapses of lowest ``key`` (the weights themselves, or their
    pre/post correlation, :func:`accumulate_correlation`) until ``fraction`` of the row is
    pruned.

    Already pruned synapses stay pruned (the mask only loses ones); ties are broken by input
    index. Returns the number of synapses pruned by this call.
    """
    n_pre = w.shape[1]
    target = int(np.floor(fraction * n_pre + 1e-9))
    removed = 0
    for j in range(w.shape[0]):
        pruned = n_pre - int(mask[j].sum())
        extra = target - pruned
        if extra <= 0:
            continue
        rank = np.where(mask[j] > 0, key[j], np.inf)
        order = np.argsort(rank, kind="mergesort")[:extra]
        mask[j, order] = 0.0
        w[j, order] = 0.0
        removed += extra
    return removed


def quantize(w: np.ndarray, mask: np.ndarray, levels: int, w_max: float) -> None:
    """Map every weight to the nearest of ``levels`` uniform levels in ``[0, w_max]``
    (``w_max * k / (levels - 1)``, ``k = 0..levels-1``; 2 levels = binary). A live synapse
    quantized to 0 stays live (it may grow again); pruned synapses stay 0."""
    step = w_max / (levels - 1)
    k = np.minimum(np.maximum(np.rint(w / step), 0.0), float(levels - 1))
    w[:] = k * step * mask


def adapt_threshold(theta: np.ndarray, spikes: np.ndarray, theta_plus: float,
                    theta_decay: float) -> None:
    """Homeostatic threshold: ``theta <- theta * (1 - theta_decay) + theta_plus * s``."""
    theta *= 1.0 - theta_decay
    theta += theta_plus * spikes
