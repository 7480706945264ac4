"""numba kernel of the multimodal network: two Diehl & Cook ensembles in lock step, joined by
plastic excitatory cross-modal synapses (method 2).

Each ensemble advances with :func:`lava_thesis.stdp.kernels.ensemble_step` (the method-1 loop,
unchanged). The cross-modal synapse from ensemble A to ensemble B behaves like the Lava
``PowerLawSTDPDense`` Process it mirrors: at step ``t`` it delivers what A's excitatory spikes
of step ``t - 1`` sent, accumulates A's spikes of step ``t``, decays its presynaptic trace
``x <- x exp(-1/tau) + s_A`` and, on every spike of B at step ``t``, applies the power-law rule
``dw = eta (x - x_tar) (w_max - w)^mu`` (clipped to ``[0, w_max]``; never negative, so the
connection can only excite). After each presentation the rows that learned are scaled to sum to
``norm_total`` (0: off), which bounds the cross-modal drive any neuron can receive. No pruning or
quantization on these synapses.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import njit

from lava_thesis.stdp import kernels as K

# indices into the cross-modal parameter vector
X_ETA, X_X_TAR, X_W_MAX, X_MU, X_TRACE_DECAY, X_NORM_TOTAL = range(6)
N_CROSS_PARAMS = 6

_saved_cache_dir = numba.config.CACHE_DIR
numba.config.CACHE_DIR = K.cache_dir(__file__)


@njit(cache=True)
def _cross_step(xt, s_pre, s_post, n_post_spikes, trace, mask, dirty, buf, xp, learn,
                end_of_sample):
    """One cross-modal synapse ``pre -> post``: ``xt`` is its weight matrix transposed,
    ``(n_pre, n_post)``; ``buf`` receives the current delivered next step; ``dirty`` marks the
    post neurons whose row learned in this presentation."""
    buf[:] = 0.0
    for i in range(s_pre.size):
        if s_pre[i] > 0:
            buf += xt[i]
    K._decay_trace(trace, xp[X_TRACE_DECAY], s_pre)
    if learn and n_post_spikes > 0:
        post = np.nonzero(s_post)[0]
        K._power_law_update(xt.T, post, trace, mask, xp[X_ETA], xp[X_X_TAR], xp[X_W_MAX],
                            xp[X_MU])
        for j in post:
            dirty[j] = True
    if learn and end_of_sample:
        if xp[X_NORM_TOTAL] > 0:
            K._normalize_rows(xt.T, np.nonzero(dirty)[0], xp[X_NORM_TOTAL])
        dirty[:] = False


@njit(cache=True)
def run_pair_steps(ens_a, ens_b, ptr_a, idx_a, ptr_b, idx_b, cross, xp, learn, learn_cross,
                   counts_a, counts_b, rec_a, rec_b):
    """Advance both ensembles by ``len(ptr_a) - 1`` steps.

    ``ens_*`` = ``(wt, mask, theta, trace, fstate, istate, fp, ip, dirty, corr)`` of one
    ensemble (as in :func:`lava_thesis.stdp.kernels.ensemble_step`); ``cross`` = ``(xt_ab,
    xt_ba, mask_ab, mask_ba, trace_a, trace_b, a_x_a, a_x_b, dirty_ab, dirty_ba)``: the two
    cross-modal weight matrices transposed (``xt_ab`` is ``(n_a, n_b)``), their ``(post, pre)``
    masks, the presynaptic traces of each ensemble's excitatory spikes, the cross-modal current
    each ensemble receives next step, and the rows of ``a -> b`` / ``b -> a`` that learned
    ``counts_*`` accumulate excitatory spikes; ``rec_*`` (``(steps, n)`` or empty) record them.
    """
    wt_a, mask_a, theta_a, trace_a, fstate_a, istate_a, fp_a, ip_a, dirty_a, corr_a = ens_a
    wt_b, mask_b, theta_b, trace_b, fstate_b, istate_b, fp_b, ip_b, dirty_b, corr_b = ens_b
    xt_ab, xt_ba, xmask_ab, xmask_ba, xtr_a, xtr_b, ax_a, ax_b, dirty_ab, dirty_ba = cross
    sample_steps = ip_a[K.I_SAMPLE_STEPS]
    n_a, n_b = wt_a.shape[1], wt_b.shape[1]
    s_in_a, s_in_b = np.zeros(wt_a.shape[0]), np.zeros(wt_b.shape[0])
    s_a, s_b = np.zeros(n_a), np.zeros(n_b)
    for s in range(ptr_a.size - 1):
        na = K.ensemble_step(wt_a, mask_a, theta_a, trace_a, fstate_a, istate_a, ptr_a[s],
                             ptr_a[s + 1], idx_a, ax_a, fp_a, ip_a, learn, dirty_a, s_in_a,
                             s_a, corr_a)
        nb = K.ensemble_step(wt_b, mask_b, theta_b, trace_b, fstate_b, istate_b, ptr_b[s],
                             ptr_b[s + 1], idx_b, ax_b, fp_b, ip_b, learn, dirty_b, s_in_b,
                             s_b, corr_b)
        end = istate_a[0] % sample_steps == 0
        _cross_step(xt_ab, s_a, s_b, nb, xtr_a, xmask_ab, dirty_ab, ax_b, xp, learn_cross, end)
        _cross_step(xt_ba, s_b, s_a, na, xtr_b, xmask_ba, dirty_ba, ax_a, xp, learn_cross, end)
        if na > 0:
            counts_a += s_a
            if rec_a.shape[0] > 0:
                rec_a[s] = s_a
        if nb > 0:
            counts_b += s_b
            if rec_b.shape[0] > 0:
                rec_b[s] = s_b


numba.config.CACHE_DIR = _saved_cache_dir
