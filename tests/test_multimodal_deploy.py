"""Fixed-point deployment of the multimodal network: conversion of the cross-modal synapses,
the integer pair engine, its spike-for-spike parity with the Lava fixed_pt network, and the
integer engine's test protocol against the float network's."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from lava_thesis.multimodal.deploy import lava_fixed_run_pair
from lava_thesis.multimodal.engine import MultimodalNetwork
from lava_thesis.multimodal.fixed_engine import (
    FixedPairRunner,
    fixed_pair_responses,
    fixed_pair_run_raster,
)
from lava_thesis.multimodal.fixed_point import pair_to_fixed_point
from lava_thesis.multimodal.lava_check import _presentations
from lava_thesis.multimodal.params import CrossParams
from lava_thesis.stdp import STDPParams
from lava_thesis.stdp import kernels as K
from lava_thesis.stdp.fixed_engine import fixed_point_run_raster

SMALL = STDPParams(n_input=24, n_exc=12, present_steps=60, rest_steps=20, exc_vth=4.0,
                   exc_dv=0.05, w_inh_exc=8.0)
AUDIO = replace(SMALL, w_inh_exc=20.0)  # another integer scale than the image ensemble's
STEPS = 240


def _net(enabled: bool = True, seed: int = 3) -> MultimodalNetwork:
    net = MultimodalNetwork(SMALL, AUDIO, CrossParams(enabled=enabled), seed=seed)
    rng = np.random.default_rng(seed)
    if enabled:
        net.w_image_audio = rng.uniform(0, 1, (12, 12))
        net.w_audio_image = rng.uniform(0, 1, (12, 12))
    net.image.theta[:] = np.linspace(0, 2, 12)
    net.audio.theta[:] = np.linspace(1, 0, 12)
    return net


def _rasters(seed: int = 0, rate: float = 0.3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.random((24, STEPS)) < rate, rng.random((24, STEPS)) < rate


def test_cross_modal_weights_quantize_in_the_scale_of_the_ensemble_they_drive():
    net = _net()
    fxp = pair_to_fixed_point(net)
    assert fxp.image.scale == 2 * fxp.audio.scale
    for w, exp, target, flt in ((fxp.w_image_audio, fxp.w_image_audio_exp, fxp.audio,
                                 net.w_image_audio),
                                (fxp.w_audio_image, fxp.w_audio_image_exp, fxp.image,
                                 net.w_audio_image)):
        assert w.shape == flt.shape and 0 < w.max() <= 255 and w.min() >= 0
        # m 2^e stands for W S to within half a step of 2^e
        assert np.abs(w * 2.0**exp - flt * target.scale).max() <= 2.0**exp / 2
    off = pair_to_fixed_point(_net(enabled=False))
    assert not off.cross_enabled and off.w_image_audio.max() == 0
    four = pair_to_fixed_point(net, weight_bits=4)
    assert np.all(four.w_image_audio % 16 == 0) and four.image.weight_bits == 4


@pytest.mark.parametrize("enabled", [True, False])
def test_integer_engine_equals_lava_fixed_pt_spike_for_spike(enabled):
    """The integer pair engine against the Lava network (bit-accurate Dense and the fixed_pt
    AdaptiveLIF of both ensembles, two cross-modal Dense layers): identical spikes; with the
    cross-modal synapses off, each ensemble is the Diehl & Cook deployment alone."""
    fxp = pair_to_fixed_point(_net(enabled))
    image, audio = _rasters()
    engine = fixed_pair_run_raster(fxp, image, audio)
    lava = lava_fixed_run_pair(fxp, image, audio, timeout_s=120)
    assert engine[0].sum() > 20 and engine[1].sum() > 20
    for mine, theirs in zip(engine, lava, strict=True):
        np.testing.assert_array_equal(mine, theirs)
    alone = (fixed_point_run_raster(fxp.image, image), fixed_point_run_raster(fxp.audio, audio))
    same = [np.array_equal(a, b) for a, b in zip(engine, alone, strict=True)]
    assert all(same) if not enabled else not all(same)  # the cross-modal current counts


def test_the_integer_network_tracks_the_float_one():
    """Same input spikes: the deployed network's spike counts stay near the float network's
    (8-bit weights, rounded thresholds)."""
    net = _net()
    image, audio = _rasters(1)
    flt = net.fresh_copy().run_raster(image, audio, learn=False)
    fixed = fixed_pair_run_raster(pair_to_fixed_point(net), image, audio)
    for f, x in zip(flt, fixed, strict=True):
        assert abs(int(f.sum()) - int(x.sum())) <= 0.1 * f.sum()
        assert np.corrcoef(f.sum(0), x.sum(0))[0, 1] > 0.9


def test_present_draws_what_the_lava_check_replays():
    """``FixedPairRunner.present`` (the full-test path) and the check's explicit rasters
    (:func:`_presentations`, what Lava is fed) give the same counts from the same seed,
    re-presentations at a higher rate included (this small network needs them)."""
    fxp = pair_to_fixed_point(_net())
    images = np.random.default_rng(2).integers(0, 256, (3, 24))
    audios = np.random.default_rng(3).integers(0, 256, (3, 24))
    counts_i, counts_a, _ = fixed_pair_responses(fxp, images, audios, seed=7)
    K.seed(7)
    runner = FixedPairRunner(fxp)
    params = (fxp.image.params, fxp.audio.params)
    replay = [_presentations(runner, params, i, a) for i, a in zip(images, audios, strict=True)]
    np.testing.assert_array_equal(counts_i, [r[1] for r in replay])
    np.testing.assert_array_equal(counts_a, [r[2] for r in replay])
    assert counts_i.sum() > 0 and counts_a.sum() > 0
    assert sum(len(r[0]) for r in replay) > len(images)  # some pairs were presented again


def test_bad_input_is_refused():
    fxp = pair_to_fixed_point(_net())
    image, audio = _rasters()
    with pytest.raises(ValueError, match="image raster must be"):
        fixed_pair_run_raster(fxp, image[:5], audio)
    with pytest.raises(ValueError, match="differ in steps"):
        fixed_pair_run_raster(fxp, image, audio[:, :10])
    with pytest.raises(ValueError, match="does not learn"):
        FixedPairRunner(fxp).run_raster(image, audio, learn=True)
    with pytest.raises(ValueError, match="equal steps"):
        lava_fixed_run_pair(fxp, image, audio[:, :10])
    with pytest.raises(ValueError, match="needs images, audios or both"):
        fixed_pair_responses(fxp, None, None, seed=0)
