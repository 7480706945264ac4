"""Fast engine of the multimodal network: an image and an audio Diehl & Cook ensemble joined by
plastic excitatory cross-modal synapses in both directions (Rathi & Roy 2018).

The Lava twin is :class:`lava_thesis.processes.multimodal.process.MultimodalEnsemble`; a parity
test holds the two to the same spikes and weights.

Example:
    >>> import numpy as np
    >>> from lava_thesis.stdp import STDPParams
    >>> p = STDPParams(n_input=16, n_exc=4)
    >>> net = MultimodalNetwork(p, p, CrossParams(), seed=0)
    >>> rng = np.random.default_rng(0)
    >>> spikes_img, spikes_aud = net.run_raster(rng.random((16, 500)) < 0.05,
    ...                                         rng.random((16, 500)) < 0.05, learn=True)
    >>> spikes_img.shape, net.w_image_audio.shape
    ((500, 4), (4, 4))
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from lava_thesis.multimodal import kernels as MK
from lava_thesis.multimodal.params import CrossParams
from lava_thesis.stdp import kernels as K
from lava_thesis.stdp.engine import STDPNetwork, raster_csr
from lava_thesis.stdp.params import STDPParams


def cross_vector(cross: CrossParams) -> np.ndarray:
    """The parameter vector the kernel reads (indices ``kernels.X_*``)."""
    xp = np.zeros(MK.N_CROSS_PARAMS)
    xp[[MK.X_ETA, MK.X_X_TAR, MK.X_W_MAX, MK.X_MU, MK.X_TRACE_DECAY, MK.X_NORM_TOTAL]] = (
        cross.eta, cross.x_tar, cross.w_max, cross.mu, cross.trace_decay, cross.norm_total)
    return xp


def first_rates(params: tuple[STDPParams, STDPParams]) -> list[float]:
    """Input rates (Hz at value 255) of a presentation's first attempt, per modality."""
    return [p.max_rate_hz for p in params]


def next_rates(params: tuple[STDPParams, STDPParams], rates: list[float],
               counts: tuple[np.ndarray, np.ndarray], presented: tuple[bool, bool],
               attempt: int) -> list[float] | None:
    """D&C's re-presentation rule, per modality (``params``: image, audio): ``None`` when
    every presented ensemble gave at least ``min_spikes`` spikes (or ``attempt`` reached
    ``max_presentations``), else the rates of the next attempt, ``rate_boost_hz`` higher where
    it gave fewer."""
    low = [shown and c.sum() < p.min_spikes
           for shown, c, p in zip(presented, counts, params, strict=True)]
    if not any(low) or attempt >= max(p.max_presentations for p in params):
        return None
    return [r + (p.rate_boost_hz if lo else 0.0)
            for r, lo, p in zip(rates, low, params, strict=True)]


class MultimodalNetwork:
    """Two :class:`~lava_thesis.stdp.STDPNetwork` ensembles (``image``, ``audio``) plus
    ``w_image_audio`` ``(n_audio_exc, n_image_exc)`` (image spikes -> audio neurons, Lava's
    ``(post, pre)``) and ``w_audio_image`` ``(n_image_exc, n_audio_exc)``.

    Args:
        image, audio: each ensemble's constants; both see the same number of steps per
            presentation (``present_steps``/``rest_steps`` must match).
        cross: the cross-modal synapses (:class:`CrossParams`).
        seed: initial weights and Poisson input.
    """

    def __init__(self, image: STDPParams, audio: STDPParams, cross: CrossParams,
                 seed: int = 0) -> None:
        if (image.present_steps, image.rest_steps) != (audio.present_steps, audio.rest_steps):
            raise ValueError("image and audio ensembles need the same present_steps and "
                             "rest_steps")
        self.image = STDPNetwork(image, seed=seed)
        self.audio = STDPNetwork(audio, seed=seed + 1)
        self.cross = cross
        ni, na = image.n_exc, audio.n_exc
        w0 = cross.w_init if cross.enabled else 0.0
        self.xt_ia = np.full((ni, na), w0)  # image -> audio, transposed: (pre, post)
        self.xt_ai = np.full((na, ni), w0)
        self.xmask_ia = np.ones((na, ni))
        self.xmask_ai = np.ones((ni, na))
        self.xtrace_i, self.xtrace_a = np.zeros(ni), np.zeros(na)
        self.xbuf_i, self.xbuf_a = np.zeros(ni), np.zeros(na)
        self.xdirty_ia, self.xdirty_ai = np.zeros(na, np.bool_), np.zeros(ni, np.bool_)
        self._seed, self._calls = seed, 0

    @property
    def w_image_audio(self) -> np.ndarray:
        return self.xt_ia.T.copy()

    @w_image_audio.setter
    def w_image_audio(self, value: np.ndarray) -> None:
        self.xt_ia = np.ascontiguousarray(np.asarray(value, np.float64).T)

    @property
    def w_audio_image(self) -> np.ndarray:
        return self.xt_ai.T.copy()

    @w_audio_image.setter
    def w_audio_image(self, value: np.ndarray) -> None:
        self.xt_ai = np.ascontiguousarray(np.asarray(value, np.float64).T)

    def fresh_copy(self) -> MultimodalNetwork:
        """A network with this one's learned weights, masks, thetas and cross-modal weights
        but fresh neuron state (time 0, as a newly built Lava Process starts)."""
        out = MultimodalNetwork(self.image.params, self.audio.params, self.cross, self._seed)
        for mine, theirs in ((self.image, out.image), (self.audio, out.audio)):
            theirs.weights, theirs.mask = mine.weights, mine.mask
            theirs.theta[:] = mine.theta
        out.xt_ia, out.xt_ai = self.xt_ia.copy(), self.xt_ai.copy()
        return out

    @staticmethod
    def _ens(net: STDPNetwork) -> tuple:
        return (net.wt, net.mask_t.T, net.theta, net.trace, net.fstate, net.istate, net._fp(),
                net._ip(), net.dirty, net.corr_t.T)

    def _run(self, csr_i, csr_a, learn: bool, record: bool = False):
        ni, na = self.image.params.n_exc, self.audio.params.n_exc
        steps = csr_i[0].size - 1
        counts_i, counts_a = np.zeros(ni), np.zeros(na)
        rec_i = np.zeros((steps if record else 0, ni))
        rec_a = np.zeros((steps if record else 0, na))
        cross = (self.xt_ia, self.xt_ai, self.xmask_ia, self.xmask_ai, self.xtrace_i,
                 self.xtrace_a, self.xbuf_i, self.xbuf_a, self.xdirty_ia, self.xdirty_ai)
        MK.run_pair_steps(self._ens(self.image), self._ens(self.audio), csr_i[0], csr_i[1],
                          csr_a[0], csr_a[1], cross, cross_vector(self.cross), learn,
                          learn and self.cross.enabled, counts_i, counts_a, rec_i, rec_a)
        return counts_i, counts_a, rec_i, rec_a

    def run_raster(self, image: np.ndarray, audio: np.ndarray,
                   learn: bool) -> tuple[np.ndarray, np.ndarray]:
        """Run explicit input spikes ``(n_input, steps)`` per modality (bool); return each
        ensemble's excitatory spikes ``(steps, n_exc)`` (uint8). For the Lava parity test."""
        image, audio = np.asarray(image, bool), np.asarray(audio, bool)
        for name, raster, p in (("image", image, self.image.params),
                                ("audio", audio, self.audio.params)):
            if raster.ndim != 2 or raster.shape[0] != p.n_input:
                raise ValueError(f"{name} raster must be (n_input={p.n_input}, steps), got "
                                 f"{raster.shape}")
        if image.shape[1] != audio.shape[1]:
            raise ValueError(f"image and audio rasters differ in steps: {image.shape[1]} vs "
                             f"{audio.shape[1]}")
        _, _, rec_i, rec_a = self._run(raster_csr(image), raster_csr(audio), learn,
                                      record=True)
        return rec_i.astype(np.uint8), rec_a.astype(np.uint8)

    def present(self, image: np.ndarray | None, audio: np.ndarray | None,
                learn: bool) -> tuple[np.ndarray, np.ndarray, int]:
        """Present an image and/or an utterance's audio image (flat, 0-255; ``None`` = that
        input silent) as Poisson spikes for one presentation. While a presented modality's
        ensemble gives fewer than ``min_spikes`` spikes, present again with that modality's
        rate ``rate_boost_hz`` higher (D&C's protocol, per modality).

        Returns ``(image counts, audio counts, presentations used)`` of the last presentation.
        """
        pi = self.image.params
        steps = pi.sample_steps
        silent = (np.zeros(steps + 1, np.int64), np.zeros(0, np.int64))
        probs = [None if x is None else np.asarray(x, np.float64).reshape(-1) / 255e3
                 for x in (image, audio)]
        presented = (image is not None, audio is not None)
        rates: list[float] | None = self.first_rates()
        attempt = 0
        while rates is not None:
            attempt += 1
            csr = [silent if prob is None else K.poisson_csr(prob * rate, pi.present_steps,
                                                             steps)
                   for prob, rate in zip(probs, rates, strict=True)]
            ci, ca, _, _ = self._run(csr[0], csr[1], learn)
            rates = self.next_rates(rates, (ci, ca), presented, attempt)
        return ci, ca, attempt

    def first_rates(self) -> list[float]:
        """Input rates (Hz at value 255) of a presentation's first attempt, per modality."""
        return first_rates((self.image.params, self.audio.params))

    def next_rates(self, rates: list[float], counts: tuple[np.ndarray, np.ndarray],
                   presented: tuple[bool, bool], attempt: int) -> list[float] | None:
        """:func:`next_rates` of this network's two ensembles."""
        return next_rates((self.image.params, self.audio.params), rates, counts, presented,
                          attempt)

    def _reseed(self) -> None:
        K.seed((self._seed * 1_000_003 + self._calls) % 2**32)
        self._calls += 1

    def train(self, images: np.ndarray, audios: np.ndarray,
              progress: Callable[[int], None] | None = None) -> int:
        """One pass of unsupervised STDP over the pairs ``(images[i], audios[i])``, both
        ``(N, 784)``-like; returns presentations used."""
        if len(images) != len(audios):
            raise ValueError(f"{len(images)} images but {len(audios)} utterances")
        self._reseed()
        used = 0
        for i in range(len(images)):
            used += self.present(images[i], audios[i], learn=True)[2]
            if progress is not None:
                progress(i)
        return used

    def responses(self, images: np.ndarray | None, audios: np.ndarray | None,
                  progress: Callable[[int], None] | None = None
                  ) -> tuple[np.ndarray, np.ndarray]:
        """Spike counts of both ensembles, ``(N, n_image_exc)`` and ``(N, n_audio_exc)``,
        learning frozen. Pass ``None`` for a modality to test the other one alone."""
        if images is None and audios is None:
            raise ValueError("responses needs images, audios or both")
        n = len(images) if images is not None else len(audios)
        if images is not None and audios is not None and len(audios) != n:
            raise ValueError(f"{n} images but {len(audios)} utterances")
        self._reseed()
        out_i = np.zeros((n, self.image.params.n_exc))
        out_a = np.zeros((n, self.audio.params.n_exc))
        for k in range(n):
            out_i[k], out_a[k], _ = self.present(None if images is None else images[k],
                                                 None if audios is None else audios[k],
                                                 learn=False)
            if progress is not None:
                progress(k)
        return out_i, out_a
