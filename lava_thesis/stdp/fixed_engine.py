"""Fast fixed-point engine: the integer network of :mod:`lava_thesis.stdp.fixed_point`, run in
one numba loop, bit-identical to the Lava ``fixed_pt`` deployment
(:func:`lava_thesis.stdp.deploy.lava_fixed_run_raster`), so full test sets are cheap.

Per step, as in Lava's CPU backend (every Dense sends at ``t`` what it summed at ``t - 1``):
the excitatory neurons take the input current and the lateral inhibition, the inhibitory
neurons the one-to-one excitation, with the integer LIF arithmetic of the module
:mod:`lava_thesis.stdp.fixed_point`; then the three Dense layers sum this step's spikes.

Example:
    >>> import numpy as np
    >>> from lava_thesis.stdp import STDPNetwork, STDPParams
    >>> from lava_thesis.stdp.fixed_point import to_fixed_point
    >>> fx = to_fixed_point(STDPNetwork(STDPParams(n_input=16, n_exc=4)))
    >>> raster = np.random.default_rng(0).random((16, 50)) < 0.3
    >>> fixed_point_run_raster(fx, raster).shape
    (50, 4)
"""

from __future__ import annotations

from collections.abc import Callable

import numba
import numpy as np
from numba import njit

from lava_thesis.stdp import kernels as K
from lava_thesis.stdp.engine import STDPNetwork, raster_csr
from lava_thesis.stdp.fixed_point import (
    BUDGET,
    DECAY_UNITY,
    MAX_INH_SPIKES,
    FixedPointNetwork,
    to_fixed_point,
)
from lava_thesis.stdp.readout import predict

_saved_cache_dir = numba.config.CACHE_DIR
numba.config.CACHE_DIR = K.cache_dir(__file__)

#: 24-bit state: ``u`` wraps around at +-2**23, ``v`` saturates at +-(2**23 - 1)
UV_MAX = 2**23
# indices into the int parameter vector of the kernel
(I_IN_EXP, I_EI, I_EI_EXP, I_IE, I_IE_EXP, I_EXC_KU, I_EXC_KV, I_INH_KU, I_INH_KV, I_INH_VTH,
 I_EXC_REF, I_INH_REF) = range(12)
# rows of the state array
(S_UE, S_VE, S_UI, S_VI, S_A_IN, S_A_EI, S_A_IE, S_REF_E, S_REF_I) = range(9)


@njit(cache=True)
def _decay(x, keep):
    """Lava's sign-magnitude decay: ``sgn(x) (|x| keep >> 12)``."""
    p = x * keep
    q = abs(p) >> 12
    return q if p >= 0 else -q


@njit(cache=True)
def _shift(acc, exp):
    """Dense's weight exponent: ``acc << exp`` for ``exp > 0``, else ``acc >> -exp``."""
    return acc << exp if exp > 0 else acc >> (-exp)


@njit(cache=True)
def _lif(u, v, ref, a, ku, kv, vth, period, t):
    """One integer LIF step (refractory) of one neuron; returns ``(u, v, ref, spike)``."""
    d = _decay(u, ku) + (a << 6)
    w = d - 2 * UV_MAX if d > UV_MAX else d
    u = d + 2 * UV_MAX if w <= -UV_MAX else w
    if ref < t:
        v = min(max(_decay(v, kv) + u, -UV_MAX + 1), UV_MAX - 1)
    if v > (vth << 6):
        return u, 0, t + period, 1
    return u, v, ref, 0


@njit(cache=True)
def neuron_phase(exc_vth, ip, state, t, a_extra, s_e, s_i, peak):
    """The neurons' half of step ``t``: both populations integrate what the Dense layers sent
    (the excitatory ones also ``a_extra``, another layer's current, e.g. the cross-modal
    synapses); ``s_e``/``s_i`` get the spikes. Returns the number of inhibitory spikes."""
    n_inh = 0
    for j in range(s_e.size):
        a = state[S_A_IN, j] + state[S_A_IE, j] + a_extra[j]
        peak[0] = max(peak[0], abs(a), abs(state[S_A_EI, j]))
        state[S_UE, j], state[S_VE, j], state[S_REF_E, j], s_e[j] = _lif(
            state[S_UE, j], state[S_VE, j], state[S_REF_E, j], a, ip[I_EXC_KU],
            ip[I_EXC_KV], exc_vth[j], ip[I_EXC_REF], t)
        state[S_UI, j], state[S_VI, j], state[S_REF_I, j], s_i[j] = _lif(
            state[S_UI, j], state[S_VI, j], state[S_REF_I, j], state[S_A_EI, j],
            ip[I_INH_KU], ip[I_INH_KV], ip[I_INH_VTH], ip[I_INH_REF], t)
        n_inh += s_i[j]
    return n_inh


@njit(cache=True)
def synapse_phase(w_in_t, ip, state, lo, hi, idx, s_e, s_i, n_inh):
    """The Dense layers' half of a step: sum this step's input spikes ``idx[lo:hi]`` and the
    network's own spikes into the currents delivered next step."""
    for j in range(s_e.size):
        acc = 0
        for k in range(lo, hi):
            acc += w_in_t[idx[k], j]
        state[S_A_IN, j] = _shift(acc, ip[I_IN_EXP])
        state[S_A_EI, j] = _shift(ip[I_EI] * s_e[j], ip[I_EI_EXP])
        state[S_A_IE, j] = _shift(ip[I_IE] * (n_inh - s_i[j]), ip[I_IE_EXP])


@njit(cache=True)
def run_fixed_steps(w_in_t, exc_vth, ip, state, clock, ptr, idx, counts, record, peak):
    """Advance the integer network by ``len(ptr) - 1`` steps of input ``(ptr, idx)`` (step
    ``s`` fires inputs ``idx[ptr[s]:ptr[s + 1]]``). ``w_in_t`` ``(n_input, n_exc)`` are the
    input mantissas transposed; ``state`` (int64, ``(9, n_exc)``): u, v of both populations,
    the three Dense buffers, the refractory ends; ``clock[0]`` the time step. ``counts`` gets
    the excitatory spikes, ``record`` (``(steps, n_exc)`` or empty) them per step; ``peak[0]``
    keeps the largest ``|a|`` any neuron received (Loihi's activation is 16-bit)."""
    n_exc = w_in_t.shape[1]
    s_e = np.zeros(n_exc, np.int64)
    s_i = np.zeros(n_exc, np.int64)
    none = np.zeros(n_exc, np.int64)
    for s in range(ptr.size - 1):
        clock[0] += 1
        n_inh = neuron_phase(exc_vth, ip, state, clock[0], none, s_e, s_i, peak)
        synapse_phase(w_in_t, ip, state, ptr[s], ptr[s + 1], idx, s_e, s_i, n_inh)
        counts += s_e
        if record.shape[0] > 0:
            record[s] = s_e


numba.config.CACHE_DIR = _saved_cache_dir


class FixedPointRunner:
    """The state of one integer network between runs (all zero at the start)."""

    def __init__(self, fx: FixedPointNetwork) -> None:
        self.fx = fx
        self.w_in_t = np.ascontiguousarray(np.asarray(fx.w_in, np.int64).T)
        self.exc_vth = np.asarray(fx.exc_vth, np.int64)
        self.ip = np.array([fx.w_in_exp, fx.w_ei, fx.w_ei_exp, fx.w_ie, fx.w_ie_exp,
                            DECAY_UNITY - fx.exc_du - 1, DECAY_UNITY - fx.exc_dv,
                            DECAY_UNITY - fx.inh_du - 1, DECAY_UNITY - fx.inh_dv, fx.inh_vth,
                            fx.exc_refractory, fx.inh_refractory], np.int64)
        self.state = np.zeros((9, fx.n_exc), np.int64)
        self.clock = np.zeros(1, np.int64)
        self.peak = np.zeros(1, np.int64)

    @property
    def max_activation(self) -> int:
        """The largest ``|a|`` (integer units) any neuron received so far; above
        :data:`lava_thesis.stdp.fixed_point.BUDGET` Loihi's 16-bit activation overflows."""
        return int(self.peak[0])

    def run(self, ptr: np.ndarray, idx: np.ndarray, record: np.ndarray | None = None
            ) -> np.ndarray:
        """Run CSR input ``(ptr, idx)``; return the excitatory spike counts ``(n_exc,)``."""
        counts = np.zeros(self.fx.n_exc, np.int64)
        rec = np.zeros((0, self.fx.n_exc), np.int64) if record is None else record
        run_fixed_steps(self.w_in_t, self.exc_vth, self.ip, self.state, self.clock,
                        np.asarray(ptr, np.int64), np.asarray(idx, np.int64), counts, rec,
                        self.peak)
        return counts

    def present(self, image: np.ndarray) -> np.ndarray:
        """One image as Poisson spikes, re-presented at a higher rate while fewer than
        ``min_spikes`` excitatory spikes come out (as :meth:`STDPNetwork.present`); returns
        the spike counts of the last presentation."""
        p = self.fx.params
        prob = np.asarray(image, np.float64).reshape(-1) / 255.0 / 1000.0
        rate, attempt = p.max_rate_hz, 0
        while True:
            attempt += 1
            counts = self.run(*K.poisson_csr(prob * rate, p.present_steps, p.sample_steps))
            if counts.sum() >= p.min_spikes or attempt >= p.max_presentations:
                return counts
            rate += p.rate_boost_hz


def fixed_point_run_raster(fx: FixedPointNetwork, raster: np.ndarray) -> np.ndarray:
    """Drive a fresh integer network with explicit spikes ``(n_input, steps)``; return the
    excitatory spikes ``(steps, n_exc)`` (uint8), as the Lava deployment does."""
    raster = np.asarray(raster, bool)
    if raster.ndim != 2 or raster.shape[0] != fx.n_input:
        raise ValueError(f"raster must be (n_input={fx.n_input}, steps), got {raster.shape}")
    record = np.zeros((raster.shape[1], fx.n_exc), np.int64)
    FixedPointRunner(fx).run(*raster_csr(raster), record)
    return record.astype(np.uint8)


def _check_images(images: np.ndarray, n_input: int) -> np.ndarray:
    images = np.asarray(images)
    if images.ndim != 2 or images.shape[1] != n_input:
        raise ValueError(f"images must be (N, n_input={n_input}), got {images.shape}")
    return images


def fixed_point_responses(fx: FixedPointNetwork, images: np.ndarray, seed: int,
                          progress: Callable[[int], None] | None = None) -> np.ndarray:
    """Spike counts ``(N, n_exc)`` of the integer network on ``images`` ``(N, n_input)``
    (0-255), one after the other without reset, with the Poisson input of the float engine
    drawn from numba's generator seeded with ``seed``."""
    images = _check_images(images, fx.n_input)
    K.seed(int(seed) % 2**32)
    return _present_all(FixedPointRunner(fx), images, progress)


def _present_all(runner: FixedPointRunner, images: np.ndarray,
                 progress: Callable[[int], None] | None = None) -> np.ndarray:
    out = np.zeros((len(images), runner.fx.n_exc), np.int64)
    for i, image in enumerate(images):
        out[i] = runner.present(image)
        if progress is not None:
            progress(i)
    return out


def float_responses(net: STDPNetwork, images: np.ndarray, seed: int) -> np.ndarray:
    """:meth:`STDPNetwork.responses` with the generator seeded with ``seed`` (the input
    :func:`fixed_point_responses` draws for the same seed while both networks agree)."""
    images = _check_images(images, net.params.n_input)
    K.seed(int(seed) % 2**32)
    return np.array([net.present(image, learn=False)[0] for image in images])


def compare_accuracy(net: STDPNetwork, assignments: np.ndarray, images: np.ndarray,
                     labels: np.ndarray, seed: int = 0, n_classes: int = 10,
                     weight_bits: int = 8, max_inh_spikes: int = MAX_INH_SPIKES) -> dict:
    """Test accuracy of the float engine and of its fixed-point conversion on the same images
    and Poisson seed, voting with the neuron labels ``assignments`` of the float model.

    ``weight_bits`` and ``max_inh_spikes`` go to
    :func:`~lava_thesis.stdp.fixed_point.to_fixed_point`. Returns ``{"float_accuracy",
    "fixed_accuracy", "agreement" (fraction of samples both classify alike), "spikes_float",
    "spikes_fixed" (mean excitatory spikes per sample), "n_samples", "scale", "weight_bits",
    "max_activation" (integer units), "activation_fits_16_bits"}``. The float network's
    neuron state advances (as with :meth:`STDPNetwork.responses`); its weights and theta do
    not change.
    """
    images = _check_images(images, net.params.n_input)
    labels = np.asarray(labels)
    if labels.shape != (len(images),):
        raise ValueError(f"labels must be ({len(images)},), got {labels.shape}")
    assignments = np.asarray(assignments)
    if assignments.shape != (net.params.n_exc,):
        raise ValueError(f"assignments must be ({net.params.n_exc},), got {assignments.shape}")
    fx = to_fixed_point(net, weight_bits=weight_bits, max_inh_spikes=max_inh_spikes)
    K.seed(int(seed) % 2**32)
    runner = FixedPointRunner(fx)
    fixed = _present_all(runner, images)
    flt = float_responses(net, images, seed)
    p_float = predict(flt, assignments, n_classes)
    p_fixed = predict(fixed, assignments, n_classes)
    return {"float_accuracy": float(np.mean(p_float == labels)),
            "fixed_accuracy": float(np.mean(p_fixed == labels)),
            "agreement": float(np.mean(p_float == p_fixed)),
            "spikes_float": float(flt.sum(1).mean()), "spikes_fixed": float(fixed.sum(1).mean()),
            "n_samples": len(images), "scale": fx.scale, "weight_bits": fx.weight_bits,
            "max_activation": runner.max_activation,
            "activation_fits_16_bits": runner.max_activation <= BUDGET}
