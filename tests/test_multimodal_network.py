"""Method 2: the two-ensemble engine, its cross-modal synapses, the Lava twin, the model file."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from lava_thesis.errors import ModelFileError
from lava_thesis.multimodal.engine import MultimodalNetwork
from lava_thesis.multimodal.lava_net import lava_run_pair
from lava_thesis.multimodal.model_io import load_pair_model, save_pair_model
from lava_thesis.multimodal.params import CrossParams
from lava_thesis.multimodal.readout import fused_predict, normalized_scores
from lava_thesis.stdp import STDPNetwork, STDPParams

SMALL = dict(present_steps=60, rest_steps=20, exc_vth=3.0, inh_vth=2.0, w_inh_exc=2.0)
# one neuron per ensemble, one input, no leak: currents can be read off the membrane
TINY = dict(n_input=1, n_exc=1, exc_dv=0.0, exc_vth=0.5, exc_refractory=0, w_exc_inh=0.0,
            present_steps=100, rest_steps=0)


def _rasters(rng, steps=240):
    return rng.random((20, steps)) < 0.15, rng.random((12, steps)) < 0.2


def _pair(cross: CrossParams, seed: int = 3) -> MultimodalNetwork:
    return MultimodalNetwork(STDPParams(n_input=20, n_exc=5, **SMALL),
                             STDPParams(n_input=12, n_exc=4, **SMALL), cross, seed=seed)


def test_without_cross_synapses_the_ensembles_are_two_method1_networks(rng):
    net = _pair(CrossParams(enabled=False))
    ri, ra = _rasters(rng)
    si, sa = net.run_raster(ri, ra, learn=True)
    alone_i, alone_a = STDPNetwork(net.image.params, seed=3), STDPNetwork(net.audio.params,
                                                                            seed=4)
    assert si.sum() > 0 and sa.sum() > 0
    np.testing.assert_array_equal(si, alone_i.run_raster(ri, learn=True))
    np.testing.assert_array_equal(sa, alone_a.run_raster(ra, learn=True))
    np.testing.assert_array_equal(net.image.weights, alone_i.weights)
    np.testing.assert_array_equal(net.audio.theta, alone_a.theta)
    assert not net.w_image_audio.any() and not net.w_audio_image.any()


def _tiny(cross: CrossParams) -> MultimodalNetwork:
    net = MultimodalNetwork(STDPParams(**TINY), STDPParams(**TINY), cross)
    net.image.weights = np.ones((1, 1))  # one input spike fires the image neuron
    net.audio.weights = np.zeros((1, 1))
    return net


def test_cross_current_arrives_one_step_after_the_spike():
    net = _tiny(CrossParams(w_init=0.3, w_max=1.0))
    silent = np.zeros((1, 1), bool)
    v_audio = []
    for step in range(4):  # image input spike at step 0 -> image spike at 1 -> audio at 2
        si, _ = net.run_raster(np.full((1, 1), step == 0), silent, learn=False)
        v_audio.append(net.audio.fstate[1, 0])
        assert si[0, 0] == (step == 1)
    assert v_audio == [0.0, 0.0, pytest.approx(0.3), pytest.approx(0.3)]


def test_cross_stdp_potentiates_coincident_pairs_by_the_power_law():
    cross = CrossParams(eta=0.1, x_tar=0.2, mu=0.5, w_max=1.0, w_init=0.36)
    net = _tiny(cross)
    net.audio.weights = np.ones((1, 1))
    spike = np.ones((1, 1), bool)
    net.run_raster(spike, spike, learn=True)  # both inputs at step 0
    si, sa = net.run_raster(~spike, ~spike, learn=True)  # both neurons fire at step 1
    assert si[0, 0] == sa[0, 0] == 1
    expected = 0.36 + 0.1 * (1.0 - 0.2) * (1.0 - 0.36) ** 0.5  # trace 1 at the spike
    assert net.w_image_audio[0, 0] == pytest.approx(expected)
    assert net.w_audio_image[0, 0] == pytest.approx(expected)


def test_cross_weights_only_excite_and_rows_are_normalised(rng):
    net = _pair(CrossParams(eta=0.2, x_tar=0.5, w_max=2.0, w_init=0.5, norm_total=1.5))
    ri, ra = _rasters(rng, steps=160)  # two presentations of 80 steps
    net.run_raster(ri, ra, learn=True)
    for w in (net.w_image_audio, net.w_audio_image):
        assert w.min() >= 0.0
        learned = ~np.isclose(w, 0.5).all(1)
        assert learned.any()
        np.testing.assert_allclose(w[learned].sum(1), 1.5)


def test_lava_ensemble_matches_the_engine_while_learning(rng):
    net = _pair(CrossParams(eta=0.2, x_tar=0.1, w_max=2.0, w_init=0.5, norm_total=3.0))
    ri, ra = _rasters(rng)
    lava = lava_run_pair(net, ri, ra, learning=True, timeout_s=300)
    si, sa = net.run_raster(ri, ra, learn=True)
    assert si.sum() > 20 and sa.sum() > 20
    np.testing.assert_array_equal(lava.image_spikes, si)
    np.testing.assert_array_equal(lava.audio_spikes, sa)
    np.testing.assert_allclose(lava.w_image_audio, net.w_image_audio, atol=1e-12)
    np.testing.assert_allclose(lava.w_audio_image, net.w_audio_image, atol=1e-12)
    assert np.abs(lava.w_image_audio - 0.5).max() > 0.1  # the cross synapses did learn
    for state, ens in ((lava.image_state, net.image), (lava.audio_state, net.audio)):
        np.testing.assert_allclose(state["weights"], ens.weights, atol=1e-12)
        np.testing.assert_allclose(state["theta"], ens.theta, atol=1e-12)


def test_one_modality_alone_leaves_the_other_input_silent(rng):
    net = _pair(CrossParams(enabled=False))
    images = rng.integers(0, 256, (3, 20))
    counts_i, counts_a = net.responses(images, None)
    assert counts_i.sum() > 0 and counts_a.sum() == 0
    with pytest.raises(ValueError, match="images, audios or both"):
        net.responses(None, None)
    with pytest.raises(ValueError, match="differ in steps"):
        net.run_raster(np.zeros((20, 5), bool), np.zeros((12, 6), bool), learn=False)


def test_fused_readout_normalises_each_ensemble():
    assign = np.array([0, 1])
    # the image ensemble fires 10x more but is unsure; the audio one is sure of class 1
    counts_i, counts_a = np.array([[50.0, 40.0]]), np.array([[0.0, 2.0]])
    np.testing.assert_allclose(normalized_scores(counts_i, assign, 2), [[50 / 90, 40 / 90]])
    assert fused_predict(counts_i, assign, counts_a, assign, 2)[0] == 1
    silent = np.zeros((1, 2))  # a silent ensemble adds nothing
    assert fused_predict(counts_i, assign, silent, assign, 2)[0] == 0


def test_model_file_round_trip_and_corrupt_files(tmp_path, rng):
    net = _pair(CrossParams(w_init=0.2))
    net.w_image_audio = rng.random((4, 5))
    labels = {"image_alone": np.arange(5), "audio_alone": np.arange(4),
              "image_both": np.arange(5)[::-1], "audio_both": np.arange(4)[::-1]}
    path = save_pair_model(tmp_path / "m.h5", net, labels, {"note": "x"})
    back, back_labels, card = load_pair_model(path)
    np.testing.assert_array_equal(back.w_image_audio, net.w_image_audio)
    np.testing.assert_array_equal(back.audio.weights, net.audio.weights)
    np.testing.assert_array_equal(back_labels["image_both"], labels["image_both"])
    assert back.cross == net.cross and card == {"note": "x"}

    with h5py.File(path, "r+") as f:
        f["w_audio_image"][0, 0] = -1.0
    with pytest.raises(ModelFileError, match="only excite") as err:
        load_pair_model(path)
    assert "m.h5" in str(err.value)
    with h5py.File(path, "r+") as f:
        del f["audio"]["theta"]
    with pytest.raises(ModelFileError, match="dataset 'audio/theta' missing"):
        load_pair_model(path)
    (tmp_path / "junk.h5").write_bytes(b"not hdf5")
    with pytest.raises(ModelFileError, match="not a readable HDF5 file"):
        load_pair_model(tmp_path / "junk.h5")
