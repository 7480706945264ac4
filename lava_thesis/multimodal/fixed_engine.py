"""Fast fixed-point engine of the multimodal network: both integer ensembles
(:mod:`lava_thesis.stdp.fixed_engine`) in lock step, joined by the quantized cross-modal
``Dense`` layers of :mod:`lava_thesis.multimodal.fixed_point`; bit-identical to the Lava
``fixed_pt`` deployment (:func:`lava_thesis.multimodal.deploy.lava_fixed_run_pair`), so the
whole paired test set is cheap.

Per step: each ensemble's neurons integrate their input, inhibition and the cross-modal current
the other ensemble's spikes of the previous step sent; then every Dense layer, the two
cross-modal ones included, sums this step's spikes.

Example:
    >>> from lava_thesis.multimodal.engine import MultimodalNetwork
    >>> from lava_thesis.multimodal.fixed_point import pair_to_fixed_point
    >>> from lava_thesis.multimodal.params import CrossParams
    >>> from lava_thesis.stdp import STDPParams
    >>> p = STDPParams(n_input=16, n_exc=4)
    >>> fxp = pair_to_fixed_point(MultimodalNetwork(p, p, CrossParams(w_init=0.5), seed=0))
    >>> rng = np.random.default_rng(0)
    >>> image, audio = rng.random((16, 50)) < 0.3, rng.random((16, 50)) < 0.3
    >>> [s.shape for s in fixed_pair_run_raster(fxp, image, audio)]
    [(50, 4), (50, 4)]
"""

from __future__ import annotations

from collections.abc import Callable

import numba
import numpy as np
from numba import njit

from lava_thesis.multimodal.engine import first_rates, next_rates
from lava_thesis.multimodal.fixed_point import FixedPointPair
from lava_thesis.stdp import fixed_engine as FE
from lava_thesis.stdp import kernels as K
from lava_thesis.stdp.engine import raster_csr

_saved_cache_dir = numba.config.CACHE_DIR
numba.config.CACHE_DIR = K.cache_dir(__file__, FE.__file__)


@njit(cache=True)
def _cross(w, exp, s_pre, out):
    """``out = (w @ s_pre)`` shifted by ``exp`` (one excitatory Dense layer)."""
    for j in range(out.size):
        acc = 0
        for k in range(s_pre.size):
            if s_pre[k]:
                acc += w[j, k]
        out[j] = FE._shift(acc, exp)


@njit(cache=True)
def run_pair_fixed_steps(ens_a, ens_b, cross, clock, ptr_a, idx_a, ptr_b, idx_b, counts_a,
                         counts_b, rec_a, rec_b, peak):
    """Advance both integer ensembles by ``len(ptr_a) - 1`` steps.

    ``ens_*`` = ``(w_in_t, exc_vth, ip, state)`` of one ensemble (as in
    :func:`lava_thesis.stdp.fixed_engine.run_fixed_steps`); ``cross`` = ``(w_ab, exp_ab,
    w_ba, exp_ba, x_a, x_b)``: the cross-modal mantissas ``(post, pre)`` with their exponents
    and the cross-modal current each ensemble receives next step. ``counts_*``/``rec_*`` get
    the excitatory spikes; ``peak[0]`` the largest ``|a|`` any neuron received."""
    w_in_a, vth_a, ip_a, st_a = ens_a
    w_in_b, vth_b, ip_b, st_b = ens_b
    w_ab, exp_ab, w_ba, exp_ba, x_a, x_b = cross
    n_a, n_b = vth_a.size, vth_b.size
    se_a, si_a = np.zeros(n_a, np.int64), np.zeros(n_a, np.int64)
    se_b, si_b = np.zeros(n_b, np.int64), np.zeros(n_b, np.int64)
    for s in range(ptr_a.size - 1):
        clock[0] += 1
        t = clock[0]
        inh_a = FE.neuron_phase(vth_a, ip_a, st_a, t, x_a, se_a, si_a, peak)
        inh_b = FE.neuron_phase(vth_b, ip_b, st_b, t, x_b, se_b, si_b, peak)
        FE.synapse_phase(w_in_a, ip_a, st_a, ptr_a[s], ptr_a[s + 1], idx_a, se_a, si_a, inh_a)
        FE.synapse_phase(w_in_b, ip_b, st_b, ptr_b[s], ptr_b[s + 1], idx_b, se_b, si_b, inh_b)
        _cross(w_ab, exp_ab, se_a, x_b)
        _cross(w_ba, exp_ba, se_b, x_a)
        counts_a += se_a
        counts_b += se_b
        if rec_a.shape[0] > 0:
            rec_a[s] = se_a
            rec_b[s] = se_b


numba.config.CACHE_DIR = _saved_cache_dir


class FixedPairRunner:
    """The state of one integer multimodal network between runs (all zero at the start).
    It answers the calls of :class:`~lava_thesis.multimodal.engine.MultimodalNetwork` that
    inference uses (``run_raster``, ``first_rates``, ``next_rates``, ``present``)."""

    def __init__(self, fxp: FixedPointPair) -> None:
        self.fxp = fxp
        self._image, self._audio = FE.FixedPointRunner(fxp.image), FE.FixedPointRunner(fxp.audio)
        self._cross = (np.asarray(fxp.w_image_audio, np.int64), int(fxp.w_image_audio_exp),
                       np.asarray(fxp.w_audio_image, np.int64), int(fxp.w_audio_image_exp),
                       np.zeros(fxp.image.n_exc, np.int64), np.zeros(fxp.audio.n_exc, np.int64))
        self.clock = np.zeros(1, np.int64)
        self.peak = np.zeros(1, np.int64)
        self._params = (fxp.image.params, fxp.audio.params)

    @property
    def max_activation(self) -> int:
        """The largest ``|a|`` (integer units) any neuron of either ensemble received."""
        return int(self.peak[0])

    @staticmethod
    def _ens(runner: FE.FixedPointRunner) -> tuple:
        return runner.w_in_t, runner.exc_vth, runner.ip, runner.state

    def run(self, csr_image, csr_audio, record: bool = False):
        """Run CSR inputs ``(ptr, idx)`` of equal steps; return ``(image counts, audio counts,
        image record, audio record)`` (records ``(steps, n_exc)``, empty unless ``record``)."""
        (pi, ii), (pa, ia) = csr_image, csr_audio
        if len(pi) != len(pa):
            raise ValueError(f"image and audio inputs differ in steps: {len(pi) - 1} vs "
                             f"{len(pa) - 1}")
        steps = len(pi) - 1 if record else 0
        ni, na = self.fxp.image.n_exc, self.fxp.audio.n_exc
        ci, ca = np.zeros(ni, np.int64), np.zeros(na, np.int64)
        ri, ra = np.zeros((steps, ni), np.int64), np.zeros((steps, na), np.int64)
        run_pair_fixed_steps(self._ens(self._image), self._ens(self._audio), self._cross,
                             self.clock, np.asarray(pi, np.int64), np.asarray(ii, np.int64),
                             np.asarray(pa, np.int64), np.asarray(ia, np.int64), ci, ca, ri,
                             ra, self.peak)
        return ci, ca, ri, ra

    def run_raster(self, image: np.ndarray, audio: np.ndarray, learn: bool = False
                   ) -> tuple[np.ndarray, np.ndarray]:
        """Explicit spikes ``(n_input, steps)`` per modality -> each ensemble's excitatory
        spikes ``(steps, n_exc)`` (uint8). ``learn`` must be False (no learning here)."""
        if learn:
            raise ValueError("the fixed-point network does not learn")
        image, audio = np.asarray(image, bool), np.asarray(audio, bool)
        for name, raster, fx in (("image", image, self.fxp.image),
                                 ("audio", audio, self.fxp.audio)):
            if raster.ndim != 2 or raster.shape[0] != fx.n_input:
                raise ValueError(f"{name} raster must be (n_input={fx.n_input}, steps), got "
                                 f"{raster.shape}")
        _, _, ri, ra = self.run(raster_csr(image), raster_csr(audio), record=True)
        return ri.astype(np.uint8), ra.astype(np.uint8)

    def first_rates(self) -> list[float]:
        return first_rates(self._params)

    def next_rates(self, rates: list[float], counts: tuple[np.ndarray, np.ndarray],
                   presented: tuple[bool, bool], attempt: int) -> list[float] | None:
        return next_rates(self._params, rates, counts, presented, attempt)

    def present(self, image: np.ndarray | None, audio: np.ndarray | None
                ) -> tuple[np.ndarray, np.ndarray]:
        """One pair (flat, 0-255; ``None`` = that input silent) as Poisson spikes, with the
        float network's per-modality re-presentation
        (:meth:`~lava_thesis.multimodal.engine.MultimodalNetwork.present`, the same draws);
        returns the last presentation's spike counts."""
        p = self._params[0]
        silent = (np.zeros(p.sample_steps + 1, np.int64), np.zeros(0, np.int64))
        probs = [None if x is None else np.asarray(x, np.float64).reshape(-1) / 255e3
                 for x in (image, audio)]
        presented = (image is not None, audio is not None)
        rates, attempt = self.first_rates(), 0
        while rates is not None:
            attempt += 1
            csr = [silent if prob is None else K.poisson_csr(prob * rate, p.present_steps,
                                                             p.sample_steps)
                   for prob, rate in zip(probs, rates, strict=True)]
            ci, ca, _, _ = self.run(csr[0], csr[1])
            rates = self.next_rates(rates, (ci, ca), presented, attempt)
        return ci, ca


def fixed_pair_run_raster(fxp: FixedPointPair, image: np.ndarray, audio: np.ndarray
                          ) -> tuple[np.ndarray, np.ndarray]:
    """Drive a fresh integer network with explicit spikes; each ensemble's excitatory spikes
    ``(steps, n_exc)`` (uint8), as the Lava deployment gives them."""
    return FixedPairRunner(fxp).run_raster(image, audio)


def fixed_pair_responses(fxp: FixedPointPair, images: np.ndarray | None,
                         audios: np.ndarray | None, seed: int,
                         progress: Callable[[int], None] | None = None
                         ) -> tuple[np.ndarray, np.ndarray, int]:
    """Spike counts ``(N, n_image_exc)``, ``(N, n_audio_exc)`` of the integer network on the
    pairs (flat, 0-255; ``None`` for a silent modality), one after the other without reset,
    with Poisson input from numba's generator seeded with ``seed``; plus the largest
    activation reached (integer units)."""
    if images is None and audios is None:
        raise ValueError("fixed_pair_responses needs images, audios or both")
    n = len(images) if images is not None else len(audios)
    if images is not None and audios is not None and len(audios) != n:
        raise ValueError(f"{n} images but {len(audios)} utterances")
    K.seed(int(seed) % 2**32)
    runner = FixedPairRunner(fxp)
    out_i = np.zeros((n, fxp.image.n_exc), np.int64)
    out_a = np.zeros((n, fxp.audio.n_exc), np.int64)
    for k in range(n):
        out_i[k], out_a[k] = runner.present(None if images is None else images[k],
                                            None if audios is None else audios[k])
        if progress is not None:
            progress(k)
    return out_i, out_a, runner.max_activation
