"""SLAYER -> netx export -> Lava fixed point: bit-exact parity (the lava-dl style check)."""

import h5py
import numpy as np
import pytest
import torch

from lava_thesis import quickstart as qs
from lava_thesis.deploy.netx_export import export_blocks
from lava_thesis.deploy.netx_run import netx_output_spikes, synaptic_delay


@pytest.fixture(scope="module")
def tiny_net(tmp_path_factory):
    torch.manual_seed(3)
    net = qs.DenseSNN(n_in=20, hidden=12, n_out=4)
    for block in net.blocks:  # strong enough weights that every layer spikes
        block.synapse.weight_g.data *= 6.0
    path = net.export_hdf5(tmp_path_factory.mktemp("net") / "tiny.net")
    return net, path


def _input(n=6, t=12, seed=0):
    spikes = np.random.default_rng(seed).random((n, 20, t)) < 0.4
    return qs.pad_steps(spikes.astype(np.float32), 2)


def test_lava_fixed_point_spikes_equal_slayer(tiny_net):
    net, path = tiny_net
    spikes = _input()
    slayer_out = qs.output_spikes(net, spikes)
    lava_out = netx_output_spikes(path, spikes, tag="fixed_pt", timeout_s=120)
    assert slayer_out.shape == lava_out.shape == (6, 4, 14)
    assert slayer_out.sum() > 10, "the test needs output activity to mean anything"
    np.testing.assert_array_equal(lava_out, slayer_out)


def test_exported_file_holds_quantized_weights_and_neuron(tiny_net):
    net, path = tiny_net
    with h5py.File(path) as f:
        assert [f["layer"][k]["type"][0] for k in ("0", "1")] == [b"dense", b"dense"]
        w = f["layer/0/weight"][()]
        neuron = f["layer/0/neuron"]
        assert neuron["type"][()] == b"CUBA"
        assert int(neuron["vThMant"][()]) == int(qs.NEURON_PARAMS["threshold"] * 64)
    assert w.shape == (12, 20)
    np.testing.assert_array_equal(w, np.round(w))  # integer 8-bit weights
    assert -256 <= w.min() and w.max() <= 254
    assert synaptic_delay(path) == 2


def test_export_rejects_a_block_without_export(tmp_path):
    net = qs.DenseSNN(4, 3, 2)
    net(torch.zeros(1, 4, 1))
    with pytest.raises(TypeError, match="block 1 \\(ReLU\\)"):
        export_blocks([net.blocks[0], torch.nn.ReLU()], tmp_path / "x.net")
    assert not (tmp_path / "x.net").exists()


def test_run_rejects_bad_input(tiny_net, tmp_path):
    _, path = tiny_net
    with pytest.raises(ValueError, match="\\(N, C, T\\)"):
        netx_output_spikes(path, np.zeros((20, 5)))
    with pytest.raises(FileNotFoundError, match="missing.net"):
        netx_output_spikes(tmp_path / "missing.net", np.zeros((1, 20, 5)))


def test_export_before_any_forward_is_explained(tmp_path):
    block = qs.DenseSNN(4, 3, 2).blocks[0]
    with pytest.raises(ValueError, match="first forward pass"):
        export_blocks([block], tmp_path / "y.net")


def test_floating_point_run_matches_fixed_point(tiny_net):
    """Lava's float models on the converted netx parameters: the fixed-point run's spikes up
    to its 12-bit rounding of the decays (binary input: nothing else differs)."""
    _, path = tiny_net
    spikes = _input(n=8)
    fixed = netx_output_spikes(path, spikes, tag="fixed_pt", timeout_s=120)
    floating = netx_output_spikes(path, spikes, tag="floating_pt", timeout_s=120)
    assert fixed.sum() > 10
    assert (floating == fixed).mean() > 0.98
    assert abs(int(floating.sum()) - int(fixed.sum())) <= 0.1 * fixed.sum()
    with pytest.raises(ValueError, match="tag must be one of"):
        netx_output_spikes(path, spikes, tag="float")


def test_float_parameters_undo_the_fixed_point_scaling():
    from lava_thesis.deploy.netx_run import float_parameters

    p = float_parameters(np.array([[3, -2]]), -1, du=4095, dv=1024, vth=80)
    np.testing.assert_array_equal(p["weight"], [[96.0, -64.0]])  # x 2**(exp + act_shift 6)
    assert (p["du"], p["dv"], p["vth"]) == (1.0, 0.25, 5120.0)
