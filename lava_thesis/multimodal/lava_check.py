"""Inference check of a trained multimodal network in Lava against the engine on the same
input spikes, with the engine's test protocol (re-presentation, per modality, while an
ensemble gives fewer than ``min_spikes`` spikes)."""

from __future__ import annotations

import time

import numpy as np

from lava_thesis.multimodal.engine import MultimodalNetwork
from lava_thesis.multimodal.lava_net import lava_run_pair
from lava_thesis.multimodal.readout import fused_predict
from lava_thesis.stdp.engine import poisson_raster


def _presentations(engine: MultimodalNetwork, image: np.ndarray, audio: np.ndarray
                   ) -> tuple[list[tuple[np.ndarray, np.ndarray]], np.ndarray, np.ndarray]:
    """Explicit-raster version of :meth:`MultimodalNetwork.present` (learning off): every
    presentation's rasters and the last one's counts (the engine's state advances)."""
    pi, pa = engine.image.params, engine.audio.params
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
    ``MultimodalEnsemble`` (learning off) and the engine on the same spikes (fresh state per
    chunk of ``chunk`` pairs); return both fused accuracies, their prediction agreement and
    the fraction of identical spike counts."""
    from lava_thesis.stdp.kernels import seed as seed_numba

    seed_numba(seed)
    p = net.image.params
    counts_e, counts_l = [], []
    t0, steps = time.perf_counter(), 0
    for start in range(0, len(images), chunk):
        engine = net.fresh_copy()
        segments, finals = [], []
        for image, audio in zip(images[start:start + chunk], audios[start:start + chunk],
                                strict=True):
            segs, ci, ca = _presentations(engine, image, audio)
            segments += segs
            finals.append(len(segments) - 1)
            counts_e.append((ci, ca))
        ri = np.concatenate([s[0] for s in segments], axis=1)
        ra = np.concatenate([s[1] for s in segments], axis=1)
        steps += ri.shape[1]
        out = lava_run_pair(net, ri, ra, learning=False)
        per_i = out.image_spikes.reshape(len(segments), p.sample_steps, -1).sum(1)[finals]
        per_a = out.audio_spikes.reshape(len(segments), p.sample_steps, -1).sum(1)[finals]
        counts_l += list(zip(per_i, per_a, strict=True))
        log(f"  Lava: {min(start + chunk, len(images))}/{len(images)} pairs")

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
