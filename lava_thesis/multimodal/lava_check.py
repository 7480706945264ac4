"""Inference checks of a trained multimodal network in Lava against an engine on the same
input spikes, with the engine's test protocol (re-presentation, per modality, while an
ensemble gives fewer than ``min_spikes`` spikes): the float network in ``floating_pt``
(:func:`lava_check`) and the deployed integer network in ``fixed_pt``
(:func:`lava_fixed_check`)."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from lava_thesis.multimodal.engine import MultimodalNetwork
from lava_thesis.multimodal.fixed_point import FixedPointPair
from lava_thesis.multimodal.lava_net import lava_run_pair
from lava_thesis.multimodal.readout import fused_predict
from lava_thesis.stdp.engine import poisson_raster


def _presentations(engine, params: tuple, image: np.ndarray, audio: np.ndarray
                   ) -> tuple[list[tuple[np.ndarray, np.ndarray]], np.ndarray, np.ndarray]:
    """Explicit-raster version of :meth:`MultimodalNetwork.present` (learning off) for an
    engine (a :class:`MultimodalNetwork` or a :class:`~lava_thesis.multimodal.fixed_engine.
    FixedPairRunner`) with the ensembles' ``params``: every presentation's rasters and the
    last one's counts (the engine's state advances)."""
    pi, pa = params
    rates: list[float] | None = engine.first_rates()
    segments, attempt = [], 0
    while rates is not None:
        attempt += 1
        ri, ra = poisson_raster(image, rates[0], pi), poisson_raster(audio, rates[1], pa)
        segments.append((ri, ra))
        si, sa = engine.run_raster(ri, ra, learn=False)
        ci, ca = si.sum(0), sa.sum(0)
        rates = engine.next_rates(rates, (ci, ca), (True, True), attempt)
    return segments, ci, ca


def lava_check(net: MultimodalNetwork, labels: dict[str, np.ndarray], images: np.ndarray,
               audios: np.ndarray, y: np.ndarray, seed: int, chunk: int = 10,
               log=print) -> dict[str, float]:
    """Run the pairs ``(images[i], audios[i])`` (flat, 0-255) through the Lava
    ``MultimodalEnsemble`` (``floating_pt``, learning off) and the float engine on the same
    spikes (fresh state per chunk of ``chunk`` pairs); return both fused accuracies, their
    prediction agreement and the fraction of identical spike counts."""
    return _compare(net.fresh_copy,
                    lambda ri, ra: (lambda out: (out.image_spikes, out.audio_spikes))(
                        lava_run_pair(net, ri, ra, learning=False)),
                    (net.image.params, net.audio.params), labels, images, audios, y, seed,
                    chunk, lambda n: log(f"  Lava: {n}/{len(images)} pairs"))


def lava_fixed_check(fxp: FixedPointPair, labels: dict[str, np.ndarray], images: np.ndarray,
                     audios: np.ndarray, y: np.ndarray, seed: int, chunk: int = 10,
                     log=print) -> dict[str, float]:
    """The deployed network: the pairs through the integer network in Lava's ``fixed_pt``
    models (:func:`~lava_thesis.multimodal.deploy.lava_fixed_run_pair`) and through the
    integer engine on the same spikes, as :func:`lava_check` does in floating point."""
    from lava_thesis.multimodal.deploy import lava_fixed_run_pair
    from lava_thesis.multimodal.fixed_engine import FixedPairRunner

    return _compare(lambda: FixedPairRunner(fxp),
                    lambda ri, ra: lava_fixed_run_pair(fxp, ri, ra),
                    (fxp.image.params, fxp.audio.params), labels, images, audios, y, seed,
                    chunk, lambda n: log(f"  Lava fixed_pt: {n}/{len(images)} pairs"))


def _compare(fresh: Callable, lava_spikes: Callable, params: tuple,
             labels: dict[str, np.ndarray], images: np.ndarray, audios: np.ndarray,
             y: np.ndarray, seed: int, chunk: int, progress: Callable[[int], object]
             ) -> dict[str, float]:
    """The shared loop of the checks: per chunk a ``fresh()`` engine draws each pair's
    presentations, Lava runs them all (``lava_spikes(image raster, audio raster)`` -> both
    ensembles' ``(steps, n_exc)`` spikes), and each pair's last presentation is compared."""
    from lava_thesis.stdp.kernels import seed as seed_numba

    seed_numba(seed)
    steps_per_sample = params[0].sample_steps
    counts_e, counts_l = [], []
    t0, steps = time.perf_counter(), 0
    for start in range(0, len(images), chunk):
        engine = fresh()
        segments, finals = [], []
        for image, audio in zip(images[start:start + chunk], audios[start:start + chunk],
                                strict=True):
            segs, ci, ca = _presentations(engine, params, image, audio)
            segments += segs
            finals.append(len(segments) - 1)
            counts_e.append((ci, ca))
        ri = np.concatenate([s[0] for s in segments], axis=1)
        ra = np.concatenate([s[1] for s in segments], axis=1)
        steps += ri.shape[1]
        spikes_i, spikes_a = lava_spikes(ri, ra)
        per_i = spikes_i.reshape(len(segments), steps_per_sample, -1).sum(1)[finals]
        per_a = spikes_a.reshape(len(segments), steps_per_sample, -1).sum(1)[finals]
        counts_l += list(zip(per_i, per_a, strict=True))
        progress(min(start + chunk, len(images)))

    def fused(counts):
        ci, ca = np.array([c[0] for c in counts]), np.array([c[1] for c in counts])
        return (fused_predict(ci, labels["image_both"], ca, labels["audio_both"], 10),
                np.concatenate([ci, ca], 1))

    (pe, ce), (pl, cl) = fused(counts_e), fused(counts_l)
    return {"lava_pairs": len(images), "lava_accuracy": float((pl == y).mean()),
            "engine_accuracy_lava_subset": float((pe == y).mean()),
            "lava_agreement": float((pl == pe).mean()),
            "lava_spike_count_match": float((ce == cl).all(1).mean()),
            "lava_steps_per_s": steps / (time.perf_counter() - t0)}
