"""The numba STDP engine, the readout, model files and the cost estimate."""

from __future__ import annotations

import h5py
import numba
import numpy as np
import pytest

from lava_thesis.errors import ModelFileError
from lava_thesis.stdp import STDPNetwork, STDPParams, assign_labels, predict
from lava_thesis.stdp import kernels as K
from lava_thesis.stdp.cost import bits_per_weight, synapse_cost
from lava_thesis.stdp.model_io import load_model, save_model

SMALL = STDPParams(n_input=16, n_exc=5, present_steps=50, rest_steps=10)


def test_poisson_csr_rates_window_and_seed():
    prob = np.array([0.0, 0.1, 0.5, 1.0])
    K.seed(4)
    ptr, idx = K.poisson_csr(prob, 2000, 2500)
    assert ptr.shape == (2501,) and ptr[-1] == len(idx)
    counts = np.bincount(idx, minlength=4)
    assert counts[0] == 0 and counts[3] == 2000
    assert abs(counts[1] / 2000 - 0.1) < 0.02 and abs(counts[2] / 2000 - 0.5) < 0.04
    assert ptr[2000] == ptr[-1]  # nothing in the silent window
    steps = np.repeat(np.arange(2500), np.diff(ptr))
    for s in np.unique(steps)[:50]:  # each step lists increasing, distinct inputs
        assert np.all(np.diff(idx[steps == s]) > 0)
    K.seed(4)
    ptr2, idx2 = K.poisson_csr(prob, 2000, 2500)
    np.testing.assert_array_equal(idx, idx2)


# lively enough that several neurons spike, learn, inhibit each other and get pruned
THREADED = STDPParams(n_input=24, n_exc=7, present_steps=60, rest_steps=20, exc_vth=4.0,
                      exc_dv=0.05, theta_plus=0.3, w_inh_exc=8.0, eta=0.05)


def _threaded_run(threads, raster, images):
    net = STDPNetwork(THREADED, seed=5, prune_every=2, prune_fraction=0.25, levels=8,
                      threads=threads)
    spikes = net.run_raster(raster, learn=True)
    used = net.train(images)
    return net, spikes, used, net.responses(images[:3])


@pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2, reason="needs 2 numba threads")
def test_two_threads_give_the_same_spikes_weights_and_thetas_as_one(rng):
    raster = rng.random((THREADED.n_input, 4 * THREADED.sample_steps)) < 0.25
    images = rng.integers(0, 256, (6, THREADED.n_input))
    one, spikes1, used1, resp1 = _threaded_run(1, raster, images)
    two, spikes2, used2, resp2 = _threaded_run(2, raster, images)
    assert spikes1.sum() > 30 and len(np.unique(spikes1.nonzero()[1])) > 2
    assert one.presentations > 4 and (one.mask.sum(1) == 18).all()  # it learned and pruned
    np.testing.assert_array_equal(spikes2, spikes1)
    np.testing.assert_array_equal(resp2, resp1)
    assert used2 == used1
    for name in ("wt", "mask_t", "theta", "trace", "fstate", "istate", "dirty"):
        np.testing.assert_array_equal(getattr(two, name), getattr(one, name), err_msg=name)


@pytest.mark.parametrize("prune_by", ["weight", "correlation"])
@pytest.mark.parametrize("chunks", [1, 2, 3, 7, 9])
def test_parallel_kernel_matches_the_serial_one_for_any_split(rng, chunks, prune_by):
    """Any number of neuron ranges (one per neuron, more ranges than neurons) gives the
    serial kernel's state, bit for bit; runs on any machine (ranges need not be threads)."""
    from lava_thesis.stdp.engine import raster_csr

    raster = rng.random((THREADED.n_input, 3 * THREADED.sample_steps)) < 0.3
    nets = [STDPNetwork(THREADED, seed=2, prune_every=1, prune_fraction=0.5, levels=4,
                        threads=1, prune_by=prune_by) for _ in range(2)]
    records = []
    for net, kernel in zip(nets, ("serial", "parallel"), strict=True):
        record = np.zeros((raster.shape[1], THREADED.n_exc))
        args = (net.wt, net.mask_t.T, net.theta, net.trace, net.fstate, net.istate,
                *raster_csr(raster), net._fp(), net._ip(), True, net.dirty, net.corr_t.T,
                np.zeros(THREADED.n_exc), record)
        if kernel == "serial":
            K.run_steps(*args)
        else:
            K.run_steps_parallel(*args, chunks)
        records.append(record)
    assert records[0].sum() > 20
    np.testing.assert_array_equal(records[1], records[0])
    for name in ("wt", "mask_t", "theta", "trace", "fstate", "istate", "dirty", "corr_t"):
        np.testing.assert_array_equal(getattr(nets[1], name), getattr(nets[0], name),
                                      err_msg=name)


@pytest.mark.parametrize("threads", [0, -1, 1.5, True, "2", 10**6])
def test_bad_thread_counts_are_named(threads):
    with pytest.raises(ValueError, match="threads must be an int from 1"):
        STDPNetwork(SMALL, threads=threads)


def test_default_threads_all_cores_for_large_networks_only():
    from lava_thesis.stdp.engine import PARALLEL_MIN_NEURONS

    assert STDPNetwork(SMALL).threads == 1
    big = STDPParams(n_input=2, n_exc=PARALLEL_MIN_NEURONS)
    assert STDPNetwork(big).threads == numba.config.NUMBA_NUM_THREADS
    assert STDPNetwork(big, threads=1).threads == 1


def test_present_retries_a_silent_image():
    net = STDPNetwork(SMALL, seed=0)
    counts, used = net.present(np.zeros(16), learn=False)
    assert counts.sum() == 0 and used == SMALL.max_presentations


def test_training_is_reproducible_and_normalised(rng):
    images = rng.integers(0, 256, (6, 16))
    a, b = STDPNetwork(SMALL, seed=3), STDPNetwork(SMALL, seed=3)
    a.train(images)
    b.train(images)
    np.testing.assert_array_equal(a.weights, b.weights)
    assert a.presentations >= 6
    learned = np.flatnonzero(a.theta > 0)
    assert learned.size
    np.testing.assert_allclose(a.weights[learned].sum(1), SMALL.norm_total)


def test_schedule_prunes_and_quantizes_during_training(rng):
    images = rng.integers(0, 256, (8, 16))
    net = STDPNetwork(SMALL, seed=1, prune_every=2)
    net.train(images, schedule=lambda i: (0.5, 4))
    assert (net.mask.sum(1) == 8).all()
    net.prune_and_quantize(0.5, 4)
    assert np.isin(np.round(net.weights * 3, 9), np.arange(4)).all()
    with pytest.raises(ValueError, match="levels"):
        net.prune_and_quantize(0.5, 1)


def test_frozen_responses_leave_state(rng):
    net = STDPNetwork(SMALL, seed=2)
    w, theta = net.weights, net.theta.copy()
    net.responses(rng.integers(0, 256, (3, 16)))
    np.testing.assert_array_equal(net.weights, w)
    np.testing.assert_array_equal(net.theta, theta)


def test_readout_assigns_and_votes():
    counts = np.array([[9, 0, 0], [0, 5, 0], [8, 1, 0], [1, 6, 0]])
    labels = np.array([2, 7, 2, 7])
    assign = assign_labels(counts, labels, 10)
    np.testing.assert_array_equal(assign, [2, 7, -1])
    np.testing.assert_array_equal(predict(counts, assign, 10), labels)
    with pytest.raises(ValueError, match="disagree"):
        assign_labels(counts, labels[:3], 10)


def test_model_round_trip(tmp_path, rng):
    net = STDPNetwork(SMALL, seed=0)
    net.train(rng.integers(0, 256, (3, 16)))
    net.prune_and_quantize(0.25, 8)
    path = save_model(tmp_path / "m.h5", net, np.arange(5), {"accuracy": 0.5})
    back, assign, card = load_model(path)
    np.testing.assert_array_equal(back.weights, net.weights)
    np.testing.assert_array_equal(back.mask, net.mask)
    np.testing.assert_array_equal(back.theta, net.theta)
    assert back.params == net.params and card == {"accuracy": 0.5}
    np.testing.assert_array_equal(assign, np.arange(5))


def _corrupt(path, edit):
    with h5py.File(path, "a") as f:
        edit(f)


@pytest.mark.parametrize("edit, message", [
    (lambda f: f.attrs.__setitem__("format", "other"), "not a lava-thesis STDP model"),
    (lambda f: f.__delitem__("theta"), "dataset 'theta' missing"),
    (lambda f: (f.__delitem__("mask"), f.create_dataset("mask", data=np.ones((2, 2)))),
     "shape"),
    (lambda f: f["weights"].__setitem__((0, 0), -1.0), "outside \\[0, "),
    (lambda f: f.attrs.__setitem__("params", "{\"n_exc\": -1}"), "params"),
])
def test_corrupt_model_files_are_named(tmp_path, edit, message):
    path = save_model(tmp_path / "m.h5", STDPNetwork(SMALL), np.zeros(5), {})
    _corrupt(path, edit)
    with pytest.raises(ModelFileError, match=message) as err:
        load_model(path)
    assert "m.h5" in str(err.value)


def test_not_hdf5(tmp_path):
    bad = tmp_path / "junk.h5"
    bad.write_bytes(b"not hdf5")
    with pytest.raises(ModelFileError, match="junk.h5"):
        load_model(bad)


def test_cost_estimate_by_hand():
    mask = np.ones((2, 4))
    mask[0, :2] = 0
    c = synapse_cost(mask, levels=4, input_rates=np.array([1.0, 0.0, 1.0, 0.0]))
    assert c["synapses"] == 6 and c["bits_per_weight"] == 2 and c["weight_bits"] == 12
    assert c["area_ratio"] == pytest.approx(8 * 32 / 12)
    # input 0: fan-out 1, input 2: fan-out 2 -> events (1 + 2) * 2 bits vs (1 + 1) * 2 * 32
    assert c["energy_ratio"] == pytest.approx(128 / 6)
    assert bits_per_weight(0) == 32 and bits_per_weight(2) == 1 and bits_per_weight(16) == 4
    with pytest.raises(ValueError):
        bits_per_weight(1)
