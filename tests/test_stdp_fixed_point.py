"""Fixed-point deployment of the Diehl & Cook network: conversion, the integer engine (golden
spike times), its parity with the Lava fixed_pt network, and the float/fixed comparison."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lava_thesis.errors import ModelFileError
from lava_thesis.lava_run import LavaRunError, run_lava
from lava_thesis.stdp import STDPNetwork, STDPParams, predict
from lava_thesis.stdp.deploy import lava_fixed_run_raster, load_fixed_point
from lava_thesis.stdp.engine import raster_csr
from lava_thesis.stdp.fixed_engine import (
    FixedPointRunner,
    compare_accuracy,
    fixed_point_responses,
    fixed_point_run_raster,
    float_responses,
)
from lava_thesis.stdp.fixed_point import (
    BUDGET,
    dequantized_weights,
    quantize_layer,
    to_fixed_point,
)
from lava_thesis.stdp.model_io import save_model

SMALL = STDPParams(n_input=24, n_exc=12, present_steps=60, rest_steps=20, exc_vth=4.0,
                   exc_dv=0.05, w_inh_exc=8.0)


def _net(params: STDPParams = SMALL, seed: int = 3, w_scale: float = 1.0) -> STDPNetwork:
    net = STDPNetwork(params, seed=seed)
    net.weights = net.weights * w_scale
    net.theta[:] = np.linspace(0, 2, params.n_exc)
    return net


def _raster(steps: int, rate: float, seed: int = 1) -> np.ndarray:
    raster = np.random.default_rng(seed).random((SMALL.n_input, steps)) < rate
    for start in range(SMALL.present_steps, steps, SMALL.sample_steps):
        raster[:, start:start + SMALL.rest_steps] = False
    return raster


def test_conversion_golden_values():
    net = STDPNetwork(STDPParams(n_input=4, n_exc=3))
    net.theta[:] = [0.0, 0.5, 1.25]
    fx = to_fixed_point(net)
    # largest quantity: the inhibition of the 2 other neurons, 2 * 17.5 = 35;
    # 35 * 2**9 <= 2**15 - 1 < 35 * 2**10
    assert fx.scale == 512
    assert (fx.exc_du, fx.exc_dv, fx.inh_du, fx.inh_dv) == (4095, 41, 4095, 410)
    assert (fx.w_ei, fx.w_ei_exp) == (180, 6)       # 22.5 * 512 = 180 * 2**6
    assert (fx.w_ie, fx.w_ie_exp) == (-140, 6)      # 17.5 * 512 = 140 * 2**6
    assert fx.exc_vth.tolist() == [13 * 512, 13.5 * 512, 14.25 * 512]
    assert fx.inh_vth == 20 * 512
    assert to_fixed_point(net, max_inh_spikes=1).scale == 1024  # then 22.5 (w_exc_inh)
    with pytest.raises(ValueError, match="max_inh_spikes"):
        to_fixed_point(net, max_inh_spikes=0)
    assert (fx.exc_refractory, fx.inh_refractory) == (5, 2)


@settings(max_examples=30, deadline=None)
@given(w_top=st.floats(0.01, 5.0), theta_top=st.floats(0.0, 60.0), seed=st.integers(0, 99))
def test_conversion_keeps_values_within_half_a_step(w_top, theta_top, seed):
    rng = np.random.default_rng(seed)
    params = STDPParams(n_input=10, n_exc=5)
    net = STDPNetwork(params)
    w = rng.uniform(0, w_top, (5, 10))
    w[0, :3] = 0.0
    net.weights = w
    net.theta[:] = rng.uniform(0, theta_top, 5)
    fx = to_fixed_point(net)
    assert fx.w_in.min() >= 0 and fx.w_in.max() <= 255
    assert fx.w_in.max() >= 128                      # the exponent uses the 8-bit range
    lsb = 2.0**fx.w_in_exp / fx.scale
    assert np.abs(dequantized_weights(fx) - w).max() <= lsb / 2 + 1e-12
    assert np.abs(fx.exc_vth / fx.scale - (params.exc_vth + net.theta)).max() <= (
        0.5 / fx.scale + 1e-12)
    assert fx.exc_vth.max() <= BUDGET and fx.inh_vth <= BUDGET
    largest = max(params.exc_vth + net.theta.max(), params.w_exc_inh, 4 * params.w_inh_exc,
                  w.max())
    assert largest * fx.scale <= BUDGET < 2 * largest * fx.scale  # the largest 2**k that fits


def test_weight_bits_round_to_the_kept_mantissas():
    fx = to_fixed_point(_net(), weight_bits=4)
    assert np.all(fx.w_in % 16 == 0) and fx.w_in.max() <= 240
    assert fx.w_ei % 16 == 0 and fx.w_ie % 16 == 0
    for bad in (0, 9, 2.5, True):
        with pytest.raises(ValueError, match="weight_bits"):
            to_fixed_point(_net(), weight_bits=bad)


def test_quantize_layer_rejects_mixed_signs_and_exponents_out_of_range():
    with pytest.raises(ValueError, match="mix signs"):
        quantize_layer(np.array([1.0, -1.0]), 16, name="w")
    with pytest.raises(ValueError, match="exponent"):
        quantize_layer(np.array([1e-6]), 16, name="w")
    mant, exp = quantize_layer(np.zeros(3), 16)
    assert mant.tolist() == [0, 0, 0] and exp == 0


def test_fixed_engine_golden_spike_times():
    # one neuron, no voltage leak (dv = 0), current reset every step (du = 1), input every
    # step: the Dense delivers a = 1.0 * 1024 from step 2 on, v = 64 a k after k arrivals,
    # the threshold 4 * 1024 is passed at k = 5, then 5 refractory steps hold v at 0
    params = STDPParams(n_input=1, n_exc=1, exc_vth=4.0, exc_dv=0.0, exc_refractory=5,
                        w_init_max=1.0)
    net = STDPNetwork(params)
    net.weights = np.ones((1, 1))
    fx = to_fixed_point(net)
    assert (fx.scale, fx.w_in[0, 0], fx.w_in_exp, fx.exc_dv) == (1024, 128, 3, 0)
    spikes = fixed_point_run_raster(fx, np.ones((1, 40), bool))
    assert np.flatnonzero(spikes[:, 0]).tolist() == [5, 15, 25, 35]


@pytest.mark.parametrize("vth, w_scale, rate", [(4.0, 1.0, 0.25), (1.0, 0.15, 0.6)])
def test_lava_fixed_point_matches_fixed_engine(vth, w_scale, rate):
    params = STDPParams(**{**SMALL.to_dict(), "exc_vth": vth})
    fx = to_fixed_point(_net(params, w_scale=w_scale))
    if w_scale < 1:
        assert fx.w_in_exp < 0                      # the right-shift path of Dense
    raster = _raster(2 * SMALL.sample_steps, rate)
    expected = fixed_point_run_raster(fx, raster)
    lava = lava_fixed_run_raster(fx, raster, timeout_s=180)
    assert expected.sum() > 10 and len(np.unique(expected.nonzero()[1])) > 1
    np.testing.assert_array_equal(lava, expected)


def test_lava_matches_engine_when_inhibition_overflows():
    # scale chosen for one inhibitory spike: 12 synchronous spikes sum to 11 * 17.5 * 1024,
    # and u = a << 6 passes 2**23 and wraps around in both
    params = STDPParams(**{**SMALL.to_dict(), "w_inh_exc": 17.5})
    fx = to_fixed_point(_net(params), max_inh_spikes=1)
    raster = np.zeros((params.n_input, 120), bool)
    raster[:, :3] = raster[:, 60:63] = True
    runner = FixedPointRunner(fx)
    expected = np.zeros((120, params.n_exc), np.int64)
    runner.run(*raster_csr(raster), expected)
    assert runner.max_activation << 6 > 2**23 and expected.sum() >= 12
    np.testing.assert_array_equal(lava_fixed_run_raster(fx, raster, timeout_s=180), expected)


def test_fixed_engine_close_to_float_engine():
    net = _net()
    raster = _raster(4 * SMALL.sample_steps, 0.25, seed=4)
    fixed = fixed_point_run_raster(to_fixed_point(net), raster).sum(0).astype(int)
    flt = net.run_raster(raster, learn=False).sum(0).astype(int)
    assert flt.sum() > 20
    assert np.abs(fixed - flt).sum() <= 0.1 * flt.sum()
    coarse = fixed_point_run_raster(to_fixed_point(net, weight_bits=1), raster).sum(0)
    assert np.abs(coarse - flt).sum() > np.abs(fixed - flt).sum()  # fewer bits: further off


def test_fixed_pt_adaptive_lif_refuses_learning():
    from lava.proc.io.sink import RingBuffer as Sink
    from lava.proc.io.source import RingBuffer as Source
    from lava_thesis.processes.adaptive_lif.process import AdaptiveLIF

    def build():
        src = Source(data=np.zeros((2, 3), np.int32))
        neuron = AdaptiveLIF(shape=(2,), du=4095, dv=0, vth=10, learning=True)
        snk = Sink(shape=(2,), buffer=3)
        src.s_out.connect(neuron.a_in)
        neuron.s_out.connect(snk.a_in)
        return src, lambda: snk.data.get()

    with pytest.raises(LavaRunError, match="inference only"):
        run_lava(build, 3, tag="fixed_pt", timeout_s=120)


def _task(n: int = 12, seed: int = 0):
    rng = np.random.default_rng(seed)
    protos = rng.uniform(0, 255, (3, SMALL.n_input))
    labels = np.arange(n) % 3
    images = np.clip(protos[labels] + rng.normal(0, 20, (n, SMALL.n_input)), 0, 255)
    return images, labels


def test_fixed_point_responses_are_seeded_and_checked():
    fx = to_fixed_point(_net())
    images, _ = _task(4)
    a = fixed_point_responses(fx, images, seed=7)
    assert a.shape == (4, SMALL.n_exc) and a.sum() > 0
    np.testing.assert_array_equal(fixed_point_responses(fx, images, seed=7), a)
    assert not np.array_equal(fixed_point_responses(fx, images, seed=8), a)
    with pytest.raises(ValueError, match="images"):
        fixed_point_responses(fx, images[:, :5], seed=7)


def test_compare_accuracy_matches_its_parts():
    net = _net()
    images, labels = _task()
    assignments = np.arange(SMALL.n_exc) % 3
    result = compare_accuracy(copy.deepcopy(net), assignments, images, labels, seed=5,
                              n_classes=3)
    fixed = fixed_point_responses(to_fixed_point(net), images, 5)
    flt = float_responses(copy.deepcopy(net), images, 5)
    assert result["fixed_accuracy"] == np.mean(predict(fixed, assignments, 3) == labels)
    assert result["float_accuracy"] == np.mean(predict(flt, assignments, 3) == labels)
    assert result["spikes_fixed"] == fixed.sum(1).mean() > 0
    assert result["n_samples"] == 12 and result["scale"] == 256  # 11 * 8.0 inhibition
    assert 0 < result["max_activation"] <= BUDGET and result["activation_fits_16_bits"]
    with pytest.raises(ValueError, match="labels"):
        compare_accuracy(net, assignments, images, labels[:3], n_classes=3)


def test_load_fixed_point_from_a_model_file(tmp_path):
    net = _net()
    path = save_model(tmp_path / "m.h5", net, np.arange(SMALL.n_exc) % 3, {})
    fx, labels = load_fixed_point(path)
    ref = to_fixed_point(net)
    np.testing.assert_array_equal(fx.w_in, ref.w_in)
    np.testing.assert_array_equal(fx.exc_vth, ref.exc_vth)
    assert labels.tolist() == (np.arange(SMALL.n_exc) % 3).tolist()
    (tmp_path / "bad.h5").write_bytes(b"not hdf5")
    with pytest.raises(ModelFileError, match="bad.h5"):
        load_fixed_point(tmp_path / "bad.h5")


def test_lava_runs_get_a_time_limit_that_grows_with_the_network(monkeypatch):
    """A 6,400-neuron chunk of 20 images (about 11,000 steps) takes Lava 10 to 25 minutes on
    a 2-core machine (7 to 16 steps/s measured), past the fixed 10 minutes it had; the
    default limit now grows with steps and neurons, and an explicit one is kept."""
    import lava_thesis.stdp.deploy as deploy

    seen = []
    monkeypatch.setattr(deploy, "run_lava", lambda build, steps, **kw: seen.append(kw))
    raster = np.zeros((784, 11_000), bool)
    for n_exc in (400, 6400):
        lava_fixed_run_raster(to_fixed_point(STDPNetwork(STDPParams(n_exc=n_exc))), raster)
    lava_fixed_run_raster(to_fixed_point(STDPNetwork(STDPParams(n_exc=400))), raster,
                          timeout_s=5.0)
    small, large, given = (kw["timeout_s"] for kw in seen)
    assert 11_000 * 0.015 < small < large and 11_000 * 0.1 * 3 < large and given == 5.0
