"""numba kernels of the STDP engine: the per-step loop of the whole network.

The loop mirrors, step for step, what Lava's CPU backend does with the Processes of
``lava_thesis.processes`` (see :class:`lava_thesis.processes.diehl_cook.process.DiehlCookNetwork`):

* every ``Dense``-like connection sends at step ``t`` what it accumulated at ``t - 1``;
* the LIF arithmetic is Lava's ``PyLifRefractoryModelFloat`` (``u <- u (1 - du) + a``;
  ``v <- v (1 - dv) + u`` outside the refractory window; spike if ``v > vth (+ theta)``,
  then ``v <- 0``);
* learning, normalisation, pruning and quantization are the shared functions of
  :mod:`lava_thesis.stdp.core`, compiled here with numba.

:func:`run_steps` runs on one thread; :func:`run_steps_parallel` splits the neurons into
contiguous ranges advanced on several threads (numba ``prange``). Each neuron's arithmetic is
the same and only integer spike counts are summed across ranges, so both give bit-identical
spikes, weights and thetas. The kernels are cached on disk under :func:`cache_dir`.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numba
import numpy as np
from numba import njit, prange

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
_accumulate_correlation = njit(cache=True)(core.accumulate_correlation)
_quantize = njit(cache=True)(core.quantize)
_adapt_threshold = njit(cache=True)(core.adapt_threshold)

# indices into the float parameter vector handed to the kernel
(P_EXC_DU, P_EXC_DV, P_EXC_VTH, P_THETA_PLUS, P_THETA_DECAY, P_INH_DU, P_INH_DV, P_INH_VTH,
 P_W_EI, P_W_IE, P_ETA, P_X_TAR, P_MU, P_TRACE_DECAY, P_W_MAX, P_NORM_TOTAL,
 P_PRUNE_FRACTION) = range(17)
# indices into the int parameter vector
I_EXC_REF, I_INH_REF, I_SAMPLE_STEPS, I_PRUNE_EVERY, I_LEVELS, I_PRUNE_BY = range(6)
N_FLOAT_PARAMS, N_INT_PARAMS = 17, 6
#: values of ``ip[I_PRUNE_BY]``: what pruning ranks the synapses by
PRUNE_BY = {"weight": 0, "correlation": 1}


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
def _begin_step(trace, istate, lo, hi, idx, fp, s_in):
    """Start a step: advance the clock ``istate[0]`` and return it; decay the input trace with
    this step's input spikes ``idx[lo:hi]`` (``s_in`` is scratch)."""
    istate[0] += 1
    s_in[:] = 0.0
    for k in range(lo, hi):
        s_in[idx[k]] = 1.0
    _decay_trace(trace, fp[P_TRACE_DECAY], s_in)
    return istate[0]


@njit(cache=True)
def _lateral(fstate, s_e, fp, n_inh, j0, j1):
    """Fill the buffers sent next step to neurons ``j0..j1-1``: lateral inhibition
    ``a_ie = -w_ie (n_inh - s_inh)`` (all inhibitory spikes but the neuron's own; ``a_ie`` holds
    the neuron's inhibitory spike ``s_inh`` on entry) and one-to-one excitation
    ``a_ei = w_ei s_e``."""
    a_ei, a_ie, spk = fstate[5, j0:j1], fstate[6, j0:j1], s_e[j0:j1]
    w_ie, w_ei = -fp[P_W_IE], fp[P_W_EI]
    for j in range(j1 - j0):
        a_ie[j] = w_ie * (n_inh - a_ie[j])
        a_ei[j] = w_ei * spk[j]


@njit(cache=True)
def _neurons(j0, j1, t, wt, mask, theta, trace, fstate, istate, lo, hi, idx, a_x, fp, ip,
             learn, dirty, s_e, pending_inh, corr):
    """Advance the excitatory and inhibitory neurons ``j0..j1-1`` by step ``t``; return
    ``(excitatory spikes, inhibitory spikes)`` among them (spikes left in ``s_e`` and, for
    the inhibitory ones, in ``fstate[6]``, see :func:`_lateral`).

    Everything here is per neuron (its state, its input column ``wt[:, j]``, its row of the
    learning rule), so disjoint ranges can run on different threads with the same arithmetic,
    and thus the same results, as one range. ``pending_inh >= 0`` first applies the previous
    step's :func:`_lateral` with that many inhibitory spikes (the one quantity shared by all
    neurons); ``-1``: already applied. Then, per neuron (Lava's ``PyLifRefractoryModelFloat``):
    ``u <- u (1 - du) + a``; ``v <- v (1 - dv) + u`` outside the refractory window; spike if
    ``v > vth (+ theta)``, then ``v <- 0``. With ``learn``, the power-law rule updates the rows
    of the neurons that spiked and theta adapts; when pruning goes by correlation, their rows
    of ``corr`` (``(post, pre)``) accumulate the trace (:func:`core.accumulate_correlation`).
    Last, the input spikes of this step are accumulated into ``fstate[4]`` (delivered next
    step).
    """
    n_exc = wt.shape[1]
    # views of the range, indexed from 0: numba then knows every index is >= 0 (no negative-
    # index wraparound), which lets the compiler vectorise the loops
    n = j1 - j0
    u_e, v_e, u_i, v_i = fstate[0, j0:j1], fstate[1, j0:j1], fstate[2, j0:j1], fstate[3, j0:j1]
    a_pl, a_ei, a_ie = fstate[4, j0:j1], fstate[5, j0:j1], fstate[6, j0:j1]
    ref_e = istate[2 + j0:2 + j1]
    ref_i = istate[2 + n_exc + j0:2 + n_exc + j1]
    th, ax, spk = theta[j0:j1], a_x[j0:j1], s_e[j0:j1]
    # the constants as locals (loaded once, not per neuron; same values and operations)
    e_du, e_dv, e_vth, e_ref = 1 - fp[P_EXC_DU], 1 - fp[P_EXC_DV], fp[P_EXC_VTH], ip[I_EXC_REF]
    i_du, i_dv, i_vth, i_ref = 1 - fp[P_INH_DU], 1 - fp[P_INH_DV], fp[P_INH_VTH], ip[I_INH_REF]
    n_spk = 0
    n_inh = 0
    if pending_inh >= 0:
        _lateral(fstate, s_e, fp, pending_inh, j0, j1)
    # branch-free loops (selects; the discarded products have no side effects), so that the
    # compiler can vectorise them; the same operations in the same order as the equations
    for j in range(n):  # excitatory LIF (refractory) with adaptive threshold
        u = u_e[j] * e_du + (a_pl[j] + a_ie[j] + ax[j])
        u_e[j] = u
        v = v_e[j] * e_dv + u if ref_e[j] < t else v_e[j]
        fire = v > e_vth + th[j]
        spk[j] = 1.0 if fire else 0.0
        ref_e[j] = t + e_ref if fire else ref_e[j]
        v_e[j] = 0.0 if fire else v
        n_spk += 1 if fire else 0
    for j in range(n):  # inhibitory LIF driven by the excitatory spike of the last step
        u = u_i[j] * i_du + a_ei[j]
        u_i[j] = u
        v = v_i[j] * i_dv + u if ref_i[j] < t else v_i[j]
        fire = v > i_vth
        ref_i[j] = t + i_ref if fire else ref_i[j]
        v_i[j] = 0.0 if fire else v
        a_ie[j] = 1.0 if fire else 0.0  # until _lateral: the inhibitory spike
        n_inh += 1 if fire else 0
    # Dense-like input connection: what arrives next step (read before the rows learn)
    a_pl[:] = 0.0
    for k in range(lo, hi):
        row = wt[idx[k], j0:j1]
        for j in range(n):
            a_pl[j] += row[j]
    if learn:
        if n_spk > 0:
            post = np.nonzero(spk)[0] + j0
            _power_law_update(wt.T, post, trace, mask, fp[P_ETA], fp[P_X_TAR], fp[P_W_MAX],
                              fp[P_MU])
            if ip[I_PRUNE_BY] == 1:
                _accumulate_correlation(corr, post, trace)
            for j in post:
                dirty[j] = True
        _adapt_threshold(th, spk, fp[P_THETA_PLUS], fp[P_THETA_DECAY])
    return n_spk, n_inh


@njit(cache=True)
def ensemble_step(wt, mask, theta, trace, fstate, istate, lo, hi, idx, a_x, fp, ip, learn,
                  dirty, s_in, s_e, corr):
    """Advance one Diehl & Cook ensemble by one step; return its number of excitatory spikes
    (left in ``s_e``).

    Input spikes of this step are ``idx[lo:hi]``. ``a_x`` ``(n_exc,)`` is extra current that
    reaches the excitatory neurons this step (the cross-modal synapses of method 2; zeros for
    one network). ``wt`` is the input weight matrix transposed, ``(n_input, n_exc)`` (rows
    contiguous for the spike-driven accumulation); the learning functions see ``wt.T`` = Lava's
    ``(post, pre)``. ``fstate`` rows: u_exc, v_exc, u_inh, v_inh, a_plastic, a_exc_inh,
    a_inh_exc (buffers sent next step); ``istate``: [time_step, presentations, refractory ends
    exc..., inh...]. ``s_in`` is scratch. ``corr`` ``(post, pre)``: the pre/post correlations
    (used when ``ip[I_PRUNE_BY]`` is 1; else it may be empty).
    """
    t = _begin_step(trace, istate, lo, hi, idx, fp, s_in)
    n_spk, n_inh = _neurons(0, wt.shape[1], t, wt, mask, theta, trace, fstate, istate, lo, hi,
                            idx, a_x, fp, ip, learn, dirty, s_e, -1, corr)
    _lateral(fstate, s_e, fp, n_inh, 0, wt.shape[1])
    if learn and t % ip[I_SAMPLE_STEPS] == 0:
        end_of_sample(wt.T, mask, dirty, istate, fp, ip, corr)
    return n_spk


@njit(cache=True)
def _after_step(s, t, n_spk, s_e, counts, record, wt, mask, dirty, istate, fp, ip, learn,
                corr):
    """Bookkeeping after step ``s`` (clock ``t``) of :func:`run_steps`: count/record the
    excitatory spikes, end the presentation when one is complete."""
    if n_spk > 0:
        counts += s_e
        if record.shape[0] > 0:
            record[s] = s_e
    if learn and t % ip[I_SAMPLE_STEPS] == 0:
        end_of_sample(wt.T, mask, dirty, istate, fp, ip, corr)


@njit(cache=True)
def run_steps(wt, mask, theta, trace, fstate, istate, ptr, idx, fp, ip, learn, dirty, corr,
              counts, record):
    """Advance one network by ``len(ptr) - 1`` steps of input ``(ptr, idx)`` (step ``s`` fires
    ``idx[ptr[s]:ptr[s + 1]]``); arguments as in :func:`ensemble_step`. ``counts``
    accumulates excitatory spikes; ``record`` (``(steps, n_exc)`` or empty) gets them per step.
    One thread; :func:`run_steps_parallel` gives the same results on several.
    """
    n_in, n_exc = wt.shape
    s_in = np.zeros(n_in)
    s_e = np.zeros(n_exc)
    no_extra = np.zeros(n_exc)
    pending = -1
    for s in range(ptr.size - 1):
        t = _begin_step(trace, istate, ptr[s], ptr[s + 1], idx, fp, s_in)
        n_spk, pending = _neurons(0, n_exc, t, wt, mask, theta, trace, fstate, istate, ptr[s],
                                  ptr[s + 1], idx, no_extra, fp, ip, learn, dirty, s_e, pending,
                                  corr)
        _after_step(s, t, n_spk, s_e, counts, record, wt, mask, dirty, istate, fp, ip, learn,
                    corr)
    if pending >= 0:
        _lateral(fstate, s_e, fp, pending, 0, n_exc)


# parallelise only the explicit prange loop (no implicit parfors: their reductions would
# change the order of float sums)
_PRANGE_ONLY = {"prange": True, "comprehension": False, "reduction": False,
                "inplace_binop": False, "setitem": False, "numpy": False, "stencil": False,
                "fusion": False}


@njit(cache=True, parallel=_PRANGE_ONLY)
def run_steps_parallel(wt, mask, theta, trace, fstate, istate, ptr, idx, fp, ip, learn, dirty,
                       corr, counts, record, chunks):
    """:func:`run_steps` with the neurons split into ``chunks`` contiguous ranges advanced in
    parallel (one per thread; set numba's thread count to ``chunks``). Each neuron's arithmetic
    is that of :func:`run_steps` and only integer spike counts cross ranges, so the results are
    bit-identical to it for any ``chunks``; the threads meet once per step (lateral
    inhibition needs the step's total of inhibitory spikes)."""
    n_in, n_exc = wt.shape
    s_in = np.zeros(n_in)
    s_e = np.zeros(n_exc)
    no_extra = np.zeros(n_exc)
    spikes = np.zeros((chunks, 2), np.int64)
    pending = -1
    for s in range(ptr.size - 1):
        lo, hi = ptr[s], ptr[s + 1]
        t = _begin_step(trace, istate, lo, hi, idx, fp, s_in)
        for c in prange(chunks):
            spikes[c, 0], spikes[c, 1] = _neurons(
                c * n_exc // chunks, (c + 1) * n_exc // chunks, t, wt, mask, theta, trace,
                fstate, istate, lo, hi, idx, no_extra, fp, ip, learn, dirty, s_e, pending,
                corr)
        n_spk, pending = _total(spikes)
        _after_step(s, t, n_spk, s_e, counts, record, wt, mask, dirty, istate, fp, ip, learn,
                    corr)
    if pending >= 0:
        _lateral(fstate, s_e, fp, pending, 0, n_exc)


@njit(cache=True)
def _total(spikes):
    """Column sums of the per-range spike counts ``(chunks, 2)`` (integers: exact)."""
    n_spk, n_inh = 0, 0
    for c in range(spikes.shape[0]):
        n_spk += spikes[c, 0]
        n_inh += spikes[c, 1]
    return n_spk, n_inh


@njit(cache=True)
def end_of_sample(w, mask, dirty, istate, fp, ip, corr):
    """After each presentation (learning on): normalise the rows that learned, and every
    ``prune_every`` presentations prune to ``prune_fraction`` (the lowest weights, or the lowest
    correlations ``corr`` when ``ip[I_PRUNE_BY]`` is 1) and quantize to ``levels``."""
    if fp[P_NORM_TOTAL] > 0:
        _normalize_rows(w, np.nonzero(dirty)[0], fp[P_NORM_TOTAL])
    dirty[:] = False
    istate[1] += 1
    every = ip[I_PRUNE_EVERY]
    if every > 0 and istate[1] % every == 0:
        if fp[P_PRUNE_FRACTION] > 0 and ip[I_PRUNE_BY] == 1:
            _prune_rows(w, mask, fp[P_PRUNE_FRACTION], corr)
        elif fp[P_PRUNE_FRACTION] > 0:
            _prune_rows(w, mask, fp[P_PRUNE_FRACTION], w)
        if ip[I_LEVELS] > 0:
            _quantize(w, mask, ip[I_LEVELS], fp[P_W_MAX])


numba.config.CACHE_DIR = _saved_cache_dir
