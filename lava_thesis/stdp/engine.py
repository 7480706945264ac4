"""Fast CPU engine for the Diehl & Cook STDP network (same equations as the Lava Processes).

Lava runs every Process as an OS process at ~1 ms per step; this engine runs the whole network
in one numba-compiled loop (:mod:`lava_thesis.stdp.kernels`) at a few microseconds per step, so
full MNIST epochs train in minutes. A parity test holds it to the Lava network spike for spike.

Example:
    >>> import numpy as np
    >>> from lava_thesis.stdp import STDPNetwork, STDPParams
    >>> net = STDPNetwork(STDPParams(n_input=16, n_exc=4), seed=0)
    >>> raster = np.random.default_rng(0).random((16, 500)) < 0.05
    >>> net.run_raster(raster, learn=True).shape
    (500, 4)
"""

from __future__ import annotations

from collections.abc import Callable

import numba
import numpy as np

from lava_thesis.stdp import kernels as K
from lava_thesis.stdp.params import STDPParams


def poisson_raster(image: np.ndarray, rate_hz: float, params: STDPParams) -> np.ndarray:
    """One presentation of ``image`` (flat, 0-255) as explicit spikes ``(n_input,
    sample_steps)`` bool: Poisson at ``pixel / 255 * rate_hz`` for ``present_steps``, then
    silent. Drawn from numba's generator (seed it with ``kernels.seed``), as training does."""
    ptr, idx = K.poisson_csr(np.asarray(image, np.float64).reshape(-1) / 255e3 * rate_hz,
                             params.present_steps, params.sample_steps)
    raster = np.zeros((params.n_input, params.sample_steps), bool)
    raster[idx, np.repeat(np.arange(params.sample_steps), np.diff(ptr))] = True
    return raster


def raster_csr(raster: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Explicit spikes ``(n_input, steps)`` (bool) -> the kernels' CSR input ``(ptr, idx)``:
    step ``s`` fires inputs ``idx[ptr[s]:ptr[s + 1]]`` (increasing)."""
    steps, inputs = np.nonzero(raster.T)
    ptr = np.zeros(raster.shape[1] + 1, np.int64)
    np.add.at(ptr, steps + 1, 1)
    return np.cumsum(ptr), inputs.astype(np.int64)


#: the arrays of :class:`STDPNetwork` that change as it runs (see
#: :meth:`STDPNetwork.get_state`)
STATE_ARRAYS = ("wt", "mask_t", "theta", "trace", "fstate", "istate", "dirty", "corr_t")

#: networks with fewer excitatory neurons run on one thread unless told otherwise: their step is
#: too short to share (on 2 idle cores: 400 neurons 797 samples/s on 1 thread, 548 on 2; 1,600:
#: 272 and 343; 6,400: 63 and 96)
PARALLEL_MIN_NEURONS = 1000


def check_threads(threads: int | None, n_exc: int) -> int:
    """``threads`` for :class:`STDPNetwork`: an int in ``[1, numba's thread count]`` (all cores
    unless the environment variable ``NUMBA_NUM_THREADS`` says fewer), else ValueError.
    None: all of them for ``n_exc >= PARALLEL_MIN_NEURONS``, else 1.

    The threads meet once per 1 ms step (every few to some tens of microseconds), so they pay
    only for large networks on otherwise idle cores: on a busy machine every meeting can wait
    for a descheduled thread (on the 2-core machine above with other jobs running, load
    average 2: 1,600 neurons 199 samples/s on 1 thread, 141 on 2; 6,400: 49 and 70). Pass
    ``threads=1`` there."""
    limit = numba.config.NUMBA_NUM_THREADS
    if threads is None:
        return limit if n_exc >= PARALLEL_MIN_NEURONS else 1
    if isinstance(threads, bool) or not isinstance(threads, int | np.integer) or not (
            1 <= threads <= limit):
        raise ValueError(f"threads must be an int from 1 to {limit} (NUMBA_NUM_THREADS), "
                         f"got {threads!r}")
    return int(threads)


class STDPNetwork:
    """State of one network: input weights ``(n_exc, n_input)``, mask, theta, neuron state.

    Args:
        params: the network's constants (:class:`STDPParams`).
        seed: seeds the initial weights (uniform in ``[0, w_init_max]``) and the Poisson input.
        prune_every: presentations between pruning/quantization events (0: never).
        prune_fraction: fraction of each neuron's synapses pruned at an event (see
            :func:`lava_thesis.stdp.core.prune_rows`); raise it between events for a schedule.
        levels: weight levels in ``[0, w_max]`` at an event (0: float weights; else >= 2).
        prune_by: ``"weight"`` prunes the weakest synapses (the thesis: under this rule weakly
            correlated synapses end with low weights), ``"correlation"`` those of lowest
            pre/post correlation accumulated over training
            (:func:`lava_thesis.stdp.core.accumulate_correlation`, :attr:`correlation`).
        threads: threads that advance the neurons in parallel, 1 to numba's thread count
            (``NUMBA_NUM_THREADS``, default: all cores); None: all of them from
            ``PARALLEL_MIN_NEURONS`` excitatory neurons up, else 1 (see
            :func:`check_threads`). Results do not depend on it (each neuron's arithmetic is
            the same; see :func:`lava_thesis.stdp.kernels.run_steps_parallel`).
    """

    def __init__(self, params: STDPParams, seed: int = 0, prune_every: int = 0,
                 prune_fraction: float = 0.0, levels: int = 0,
                 threads: int | None = None, prune_by: str = "weight") -> None:
        self.threads = check_threads(threads, params.n_exc)
        if prune_by not in K.PRUNE_BY:
            raise ValueError(f"prune_by must be one of {list(K.PRUNE_BY)}, got {prune_by!r}")
        if levels < 0 or levels == 1:
            raise ValueError(f"levels must be 0 (float) or >= 2, got {levels}")
        if not 0 <= prune_fraction < 1:
            raise ValueError(f"prune_fraction must be in [0, 1), got {prune_fraction}")
        self.params = params
        rng = np.random.default_rng(seed)
        n_in, n_exc = params.n_input, params.n_exc
        w = rng.uniform(0.0, params.w_init_max, (n_exc, n_in))
        self.wt = np.ascontiguousarray(w.T)
        self.mask_t = np.ones((n_in, n_exc))
        self.theta = np.zeros(n_exc)
        self.trace = np.zeros(n_in)
        self.fstate = np.zeros((7, n_exc))
        self.istate = np.zeros(2 + 2 * n_exc, np.int64)
        self.dirty = np.zeros(n_exc, np.bool_)
        # pre/post correlations, (n_input, n_exc) like wt; only pruning by them needs them
        shape = (n_in, n_exc) if prune_by == "correlation" else (0, 0)
        self.corr_t = np.zeros(shape)
        self.prune_every, self.prune_fraction, self.levels = prune_every, prune_fraction, levels
        self.prune_by = prune_by
        self._seed, self._calls = seed, 0

    # --- views -----------------------------------------------------------------------------
    @property
    def weights(self) -> np.ndarray:
        """Input weights ``(n_exc, n_input)`` (a copy), Lava's Dense orientation."""
        return self.wt.T.copy()

    def _transposed(self, name: str, value: np.ndarray) -> np.ndarray:
        value = np.asarray(value, np.float64)
        shape = (self.params.n_exc, self.params.n_input)
        if value.shape != shape:
            raise ValueError(f"{name} must be {shape}, got {value.shape}")
        return np.ascontiguousarray(value.T)

    @weights.setter
    def weights(self, value: np.ndarray) -> None:
        self.wt = self._transposed("weights", value)

    @property
    def mask(self) -> np.ndarray:
        """1 for a live synapse, 0 for a pruned one, ``(n_exc, n_input)``."""
        return self.mask_t.T.copy()

    @mask.setter
    def mask(self, value: np.ndarray) -> None:
        self.mask_t = self._transposed("mask", value)
        self.wt *= self.mask_t

    @property
    def correlation(self) -> np.ndarray:
        """Pre/post correlation of every synapse ``(n_exc, n_input)`` (a copy) when pruning
        by correlation, else empty."""
        return self.corr_t.T.copy()

    @property
    def time_step(self) -> int:
        return int(self.istate[0])

    @property
    def presentations(self) -> int:
        """Presentations completed with learning on."""
        return int(self.istate[1])

    def _fp(self) -> np.ndarray:
        p = self.params
        fp = np.zeros(K.N_FLOAT_PARAMS)
        fp[[K.P_EXC_DU, K.P_EXC_DV, K.P_EXC_VTH, K.P_THETA_PLUS, K.P_THETA_DECAY]] = (
            p.exc_du, p.exc_dv, p.exc_vth, p.theta_plus, p.theta_decay)
        fp[[K.P_INH_DU, K.P_INH_DV, K.P_INH_VTH, K.P_W_EI, K.P_W_IE]] = (
            p.inh_du, p.inh_dv, p.inh_vth, p.w_exc_inh, p.w_inh_exc)
        fp[[K.P_ETA, K.P_X_TAR, K.P_MU, K.P_TRACE_DECAY, K.P_W_MAX, K.P_NORM_TOTAL]] = (
            p.eta, p.x_tar, p.mu, p.trace_decay, p.w_max, p.norm_total)
        fp[K.P_PRUNE_FRACTION] = self.prune_fraction
        return fp

    def _ip(self) -> np.ndarray:
        p = self.params
        return np.array([p.exc_refractory, p.inh_refractory, p.sample_steps,
                         self.prune_every, self.levels, K.PRUNE_BY[self.prune_by]], np.int64)

    def _run(self, ptr: np.ndarray, idx: np.ndarray, learn: bool,
             record: np.ndarray | None = None) -> np.ndarray:
        counts = np.zeros(self.params.n_exc)
        rec = np.zeros((0, self.params.n_exc)) if record is None else record
        # wt.T / mask_t.T are the (post, pre) views the shared core works on
        args = (self.wt, self.mask_t.T, self.theta, self.trace, self.fstate, self.istate, ptr,
                idx, self._fp(), self._ip(), learn, self.dirty, self.corr_t.T, counts, rec)
        if self.threads == 1:
            K.run_steps(*args)
        else:
            numba.set_num_threads(self.threads)
            K.run_steps_parallel(*args, self.threads)
        return counts

    def _reseed(self) -> None:
        """numba's generator is global: reseed it per call from this network's seed, so a
        network's spikes do not depend on what other networks drew before."""
        K.seed((self._seed * 1_000_003 + self._calls) % 2**32)
        self._calls += 1

    # --- running ---------------------------------------------------------------------------
    def run_raster(self, raster: np.ndarray, learn: bool) -> np.ndarray:
        """Run explicit input spikes ``(n_input, steps)`` (bool); return the excitatory spikes
        ``(steps, n_exc)``. The same input drives the Lava network in the parity test."""
        raster = np.asarray(raster, bool)
        if raster.ndim != 2 or raster.shape[0] != self.params.n_input:
            raise ValueError(f"raster must be (n_input={self.params.n_input}, steps), "
                             f"got {raster.shape}")
        record = np.zeros((raster.shape[1], self.params.n_exc))
        self._run(*raster_csr(raster), learn, record)
        return record.astype(np.uint8)

    def present(self, image: np.ndarray, learn: bool) -> tuple[np.ndarray, int]:
        """Present one image (flat uint8 or float in [0, 255]) as Poisson spikes, again with a
        higher rate while fewer than ``min_spikes`` excitatory spikes come out (D&C).

        Returns ``(spike counts of the last presentation, presentations used)``.
        """
        p = self.params
        prob = np.asarray(image, np.float64).reshape(-1) / 255.0 / 1000.0
        rate, attempt = p.max_rate_hz, 0
        while True:
            attempt += 1
            ptr, idx = K.poisson_csr(prob * rate, p.present_steps, p.sample_steps)
            counts = self._run(ptr, idx, learn)
            if counts.sum() >= p.min_spikes or attempt >= p.max_presentations:
                return counts, attempt
            rate += p.rate_boost_hz

    def train(self, images: np.ndarray, progress: Callable[[int], None] | None = None,
              schedule: Callable[[int], tuple[float, int]] | None = None,
              start: int = 0) -> int:
        """One pass of STDP over ``images`` ``(N, n_input)``; returns presentations used.

        ``schedule(i) -> (prune_fraction, levels)`` is asked before image ``i`` (a pruning
        ramp); ``progress(i)`` is called after each image. ``start`` > 0 continues a pass
        interrupted after image ``start - 1`` from the state saved then (:meth:`get_state`
        and numba's generator, see :mod:`lava_thesis.stdp.checkpoint`): the generator is not
        reseeded, so the pass ends exactly as an uninterrupted one.
        """
        if not 0 <= start <= len(images):
            raise ValueError(f"start must be in [0, {len(images)}], got {start}")
        if start == 0:
            self._reseed()
        used = 0
        for i in range(start, len(images)):
            if schedule is not None:
                self.prune_fraction, self.levels = schedule(i)
            used += self.present(images[i], learn=True)[1]
            if progress is not None:
                progress(i)
        return used

    def responses(self, images: np.ndarray,
                  progress: Callable[[int], None] | None = None) -> np.ndarray:
        """Spike counts ``(N, n_exc)`` with learning and theta frozen (test mode)."""
        self._reseed()
        out = np.zeros((len(images), self.params.n_exc))
        for i, image in enumerate(images):
            out[i] = self.present(image, learn=False)[0]
            if progress is not None:
                progress(i)
        return out

    # --- state (checkpoints) ---------------------------------------------------------------
    def get_state(self) -> dict[str, np.ndarray]:
        """Everything that evolves while the network runs, as copies: the arrays of
        :data:`STATE_ARRAYS` plus ``schedule`` ``[prune_fraction, levels]`` and ``calls``
        (reseeds so far). With numba's generator state it continues a run exactly
        (:meth:`set_state`)."""
        state = {name: getattr(self, name).copy() for name in STATE_ARRAYS}
        state["schedule"] = np.array([self.prune_fraction, self.levels], np.float64)
        state["calls"] = np.array(self._calls, np.int64)
        return state

    def set_state(self, state: dict[str, np.ndarray]) -> None:
        """Restore :meth:`get_state`'s output (shapes and dtypes must match this network's,
        else ValueError naming the array)."""
        for name in (*STATE_ARRAYS, "schedule", "calls"):
            if name not in state:
                raise ValueError(f"network state lacks {name!r}")
        for name in STATE_ARRAYS:
            ours, value = getattr(self, name), np.asarray(state[name])
            if value.shape != ours.shape or value.dtype != ours.dtype:
                raise ValueError(f"network state {name!r} is {value.dtype}{list(value.shape)}, "
                                 f"this network needs {ours.dtype}{list(ours.shape)}")
        for name in STATE_ARRAYS:
            setattr(self, name, np.ascontiguousarray(state[name]).copy())
        fraction, levels = (float(v) for v in np.asarray(state["schedule"]).reshape(2))
        self.prune_fraction, self.levels = fraction, int(levels)
        self._calls = int(state["calls"])

    def prune_and_quantize(self, fraction: float, levels: int) -> None:
        """Apply one pruning (to ``fraction``) and quantization (``levels``; 0 = none) now."""
        if levels < 0 or levels == 1 or not 0 <= fraction < 1:
            raise ValueError(f"need 0 <= fraction < 1 and levels 0 or >= 2, got {fraction}, "
                             f"{levels}")
        w, mask = self.wt.T, self.mask_t.T
        if fraction > 0:
            K._prune_rows(w, mask, float(fraction),
                          self.corr_t.T if self.prune_by == "correlation" else w)
        if levels > 0:
            K._quantize(w, mask, int(levels), float(self.params.w_max))
