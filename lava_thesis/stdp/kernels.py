"""numba kernels of the STDP engine: the per-step loop of the whole network.

The loop mirrors, step for step, what Lava's CPU backend does with the Processes of
``lava_thesis.processes`` (see :class:`lava_thesis.processes.diehl_cook.process.DiehlCookNetwork`):

* every ``Dense``-like connection sends at step ``t`` what it accumulated at ``t - 1``;
* the LIF arithmetic is Lava's ``PyLifRefractoryModelFloat`` (``u <- u (1 - du) + a``;
  ``v <- v (1 - dv) + u`` outside the refractory window; spike if ``v > vth (+ theta)``,
  then ``v <- 0``);
* learning, normalisation, pruning and quantization are the shared functions of
  :mod:`lava_thesis.stdp.core`, compiled here with numba.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numba
import numpy as np
from numba import njit

from lava_thesis.stdp import core


def cache_dir(*sources: str) -> str:
    """numba's on-disk cache for kernels defined in ``sources`` (module files), keyed by their
    source *and* that of ``core`` and this module: numba invalidates a cached kernel when its
    own file changes, not when a function it calls from another file does (a stale kernel
    would silently run old equations)."""
    digest = hashlib.sha1()
    for source in (core.__file__, __file__, *sources):
        digest.update(Path(source).read_bytes())
    base = os.environ.get("NUMBA_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "lava-thesis",
        "numba")
    return os.path.join(base, digest.hexdigest()[:16])


_saved_cache_dir = numba.config.CACHE_DIR
numba.config.CACHE_DIR = cache_dir()  # read when each cache=True function below is created

_decay_trace = njit(cache=True)(core.decay_trace)
_power_law_update = njit(cache=True)(core.power_law_update)
_normalize_rows = njit(cache=True)(core.normalize_rows)
_prune_rows = njit(cache=True)(core.prune_rows)
_quantize = njit(cache=True)(core.quantize)
_adapt_threshold = njit(cache=True)(core.adapt_threshold)

# indices into the float parameter vector handed to the kernel
(P_EXC_DU, P_EXC_DV, P_EXC_VTH, P_THETA_PLUS, P_THETA_DECAY, P_INH_DU, P_INH_DV, P_INH_VTH,
 P_W_EI, P_W_IE, P_ETA, P_X_TAR, P_MU, P_TRACE_DECAY, P_W_MAX, P_NORM_TOTAL,
 P_PRUNE_FRACTION) = range(17)
# indices into the int parameter vector
I_EXC_REF, I_INH_REF, I_SAMPLE_STEPS, I_PRUNE_EVERY, I_LEVELS = range(5)
N_FLOAT_PARAMS, N_INT_PARAMS = 17, 5


@njit(cache=True)
def seed(value: int) -> None:
    """Seed numba's own random generator (used by :func:`poisson_csr`)."""
    np.random.seed(value)


#: spike probabilities per step at or below this are treated as 0 (no spike in 10^12 steps)
P_NEVER = 1e-12


@njit(cache=True)
def poisson_csr(prob: np.ndarray, active_steps: int, total_steps: int):
    """Poisson spikes, probability ``prob[i]`` per step for input ``i`` during the first
    ``active_steps`` of ``total_steps``, as CSR: step ``s`` fires inputs
    ``idx[ptr[s]:ptr[s + 1]]`` (increasing). Geometric inter-spike intervals: O(spikes)."""
    n = prob.size
    n_on = 0
    for i in range(n):
        if prob[i] > P_NEVER:
            n_on += 1
    cap = max(n_on * active_steps, 1)
    steps = np.empty(cap, np.int64)
    pixels = np.empty(cap, np.int64)
    k = 0
    for i in range(n):
        p = prob[i]
        if p <= P_NEVER:  # also keeps geometric() from dividing by log(1 - p) == 0
            continue
        if p >= 1:
            for s in range(active_steps):
                steps[k] = s
                pixels[k] = i
                k += 1
            continue
        s = np.random.geometric(p) - 1
        while s < active_steps:
            steps[k] = s
            pixels[k] = i
            k += 1
            s += np.random.geometric(p)
    ptr = np.zeros(total_steps + 1, np.int64)
    for m in range(k):
        ptr[steps[m] + 1] += 1
    for s in range(total_steps):
        ptr[s + 1] += ptr[s]
    fill = ptr[:-1].copy()
    idx = np.empty(k, np.int64)
    for m in range(k):  # pixels were generated in increasing order: stable per step
        idx[fill[steps[m]]] = pixels[m]
        fill[steps[m]] += 1
    return ptr, idx


@njit(cache=True)
def ensemble_step(wt, mask, theta, trace, fstate, istate, lo, hi, idx, a_x, fp, ip, learn,
                  dirty, s_in, s_e, new_pl):
    """Advance one Diehl & Cook ensemble by one step; return its number of excitatory spikes
    (left in ``s_e``).

    Input spikes of this step are ``idx[lo:hi]``. ``a_x`` ``(n_exc,)`` is extra current that
    reaches the excitatory neurons this step (the cross-modal synapses of method 2; zeros for
    one network). ``wt`` is the input weight matrix transposed, ``(n_input, n_exc)`` (rows
    contiguous for the spike-driven accumulation); the learning functions see ``wt.T`` = Lava's
    ``(post, pre)``. ``fstate`` rows: u_exc, v_exc, u_inh, v_inh, a_plastic, a_exc_inh,
    a_inh_exc (buffers sent next step); ``istate``: [time_step, presentations, refractory ends
    exc..., inh...]. ``s_in`` and ``new_pl`` are scratch arrays.
    """
    n_exc = wt.shape[1]
    w = wt.T
    u_e, v_e, u_i, v_i = fstate[0], fstate[1], fstate[2], fstate[3]
    a_pl, a_ei, a_ie = fstate[4], fstate[5], fstate[6]
    ref_e = istate[2:2 + n_exc]
    ref_i = istate[2 + n_exc:2 + 2 * n_exc]
    istate[0] += 1
    t = istate[0]
    # Dense-like connections: what arrives now was accumulated last step
    new_pl[:] = 0.0
    s_in[:] = 0.0
    for k in range(lo, hi):
        i = idx[k]
        s_in[i] = 1.0
        new_pl += wt[i]
    _decay_trace(trace, fp[P_TRACE_DECAY], s_in)
    # excitatory LIF (refractory) with adaptive threshold
    n_spk = 0
    for j in range(n_exc):
        u_e[j] = u_e[j] * (1 - fp[P_EXC_DU])
        u_e[j] += a_pl[j] + a_ie[j] + a_x[j]
        if ref_e[j] < t:
            v_e[j] = v_e[j] * (1 - fp[P_EXC_DV]) + u_e[j]
        if v_e[j] > fp[P_EXC_VTH] + theta[j]:
            s_e[j] = 1.0
            ref_e[j] = t + ip[I_EXC_REF]
            v_e[j] = 0.0
            n_spk += 1
        else:
            s_e[j] = 0.0
    # inhibitory LIF driven by last step's excitatory spikes
    n_inh = 0
    for j in range(n_exc):
        u_i[j] = u_i[j] * (1 - fp[P_INH_DU])
        u_i[j] += a_ei[j]
        if ref_i[j] < t:
            v_i[j] = v_i[j] * (1 - fp[P_INH_DV]) + u_i[j]
        if v_i[j] > fp[P_INH_VTH]:
            ref_i[j] = t + ip[I_INH_REF]
            v_i[j] = 0.0
            a_ie[j] = 1.0  # temporarily: inhibitory spike flag
            n_inh += 1
        else:
            a_ie[j] = 0.0
    for j in range(n_exc):  # lateral inhibition onto all other excitatory neurons
        a_ie[j] = -fp[P_W_IE] * (n_inh - a_ie[j])
        a_ei[j] = fp[P_W_EI] * s_e[j]
    a_pl[:] = new_pl
    if n_spk > 0 and learn:
        post = np.nonzero(s_e)[0]
        _power_law_update(w, post, trace, mask, fp[P_ETA], fp[P_X_TAR], fp[P_W_MAX],
                          fp[P_MU])
        for j in post:
            dirty[j] = True
    if learn:
        _adapt_threshold(theta, s_e, fp[P_THETA_PLUS], fp[P_THETA_DECAY])
        if t % ip[I_SAMPLE_STEPS] == 0:
            end_of_sample(w, mask, dirty, istate, fp, ip)
    return n_spk


@njit(cache=True)
def run_steps(wt, mask, theta, trace, fstate, istate, ptr, idx, fp, ip, learn, dirty,
              counts, record):
    """Advance one network by ``len(ptr) - 1`` steps of input ``(ptr, idx)`` (step ``s`` fires
    ``idx[ptr[s]:ptr[s + 1]]``); arguments as in :func:`ensemble_step`. ``counts``
    accumulates excitatory spikes; ``record`` (``(steps, n_exc)`` or empty) gets them per step.
    """
    n_in, n_exc = wt.shape
    s_in = np.zeros(n_in)
    s_e = np.zeros(n_exc)
    new_pl = np.zeros(n_exc)
    no_extra = np.zeros(n_exc)
    for s in range(ptr.size - 1):
        n_spk = ensemble_step(wt, mask, theta, trace, fstate, istate, ptr[s], ptr[s + 1], idx,
                              no_extra, fp, ip, learn, dirty, s_in, s_e, new_pl)
        if n_spk > 0:
            counts += s_e
            if record.shape[0] > 0:
                record[s] = s_e


@njit(cache=True)
def end_of_sample(w, mask, dirty, istate, fp, ip):
    """After each presentation (learning on): normalise the rows that learned, and every
    ``prune_every`` presentations prune to ``prune_fraction`` and quantize to ``levels``."""
    if fp[P_NORM_TOTAL] > 0:
        _normalize_rows(w, np.nonzero(dirty)[0], fp[P_NORM_TOTAL])
    dirty[:] = False
    istate[1] += 1
    every = ip[I_PRUNE_EVERY]
    if every > 0 and istate[1] % every == 0:
        if fp[P_PRUNE_FRACTION] > 0:
            _prune_rows(w, mask, fp[P_PRUNE_FRACTION])
        if ip[I_LEVELS] > 0:
            _quantize(w, mask, ip[I_LEVELS], fp[P_W_MAX])


numba.config.CACHE_DIR = _saved_cache_dir
