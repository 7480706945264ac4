"""Tests for lava_thesis.energy: hand-counted SynOps, exact conv fan-out, reports, SLAYER specs."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import lava_thesis  # noqa: F401  (Lava compatibility fixes before any lava import)
from lava_thesis.energy import (
    AC_PJ,
    MAC_PJ,
    EnergyReport,
    LayerSpec,
    ann_energy,
    conv_fanout,
    conv_macs,
    count_from_spikes,
    dense_macs,
    gru_macs,
    lstm_macs,
    plot_report,
    report_dict,
    report_table,
    rnn_macs,
    spec_from_slayer_block,
)

NEURON = {"threshold": 1.0, "current_decay": 1.0, "voltage_decay": 0.1}

# 3 -> 2 -> 1 dense network, one sample, T = 4 (N, C, T)
X = np.array([[[1, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 0]]])  # 3 input spikes
H = np.array([[[0, 1, 0, 1], [0, 0, 0, 1]]])  # 3 hidden spikes
Y = np.array([[[0, 0, 0, 1]]])  # 1 output spike
SPECS = [LayerSpec("fc1", "dense", 3, 2), LayerSpec("fc2", "dense", 2, 1)]


def test_constants_and_dense_macs():
    assert (MAC_PJ, AC_PJ) == (4.6, 0.9)
    assert dense_macs(3, 2) == 6 and SPECS[0].macs_per_step == 6


def test_tiny_dense_network_by_hand():
    fc1, fc2 = count_from_spikes(SPECS, [X, H], [H, Y])
    # SynOps = input spikes x fan-out: 3 x 2 and 3 x 1
    assert (fc1.input_spikes, fc1.synops, fc1.output_spikes) == (3, 6, 3)
    assert (fc2.input_spikes, fc2.synops, fc2.output_spikes) == (3, 3, 1)
    assert (fc1.fan_out, fc2.fan_out, fc1.neurons, fc1.time_steps) == (2, 1, 2, 4)
    assert fc1.spike_rate == 3 / (2 * 4) and fc2.spike_rate == 1 / (1 * 4)
    rep = EnergyReport(count_from_spikes(SPECS, [X, H], [H, Y]))
    assert rep.synops == 9
    assert rep.snn_energy_pj == pytest.approx(9 * 0.9)
    assert rep.ann_energy_pj == pytest.approx(8 * 4.6) == ann_energy(SPECS)
    assert rep.ratio == pytest.approx(36.8 / 8.1)


def test_batch_average_graded_spikes_and_torch_input():
    zeros = np.zeros_like
    xs = np.concatenate([X, zeros(X)]) * 0.5  # graded spikes count once; 2nd sample silent
    hs, ys = np.concatenate([H, zeros(H)]), np.concatenate([Y, zeros(Y)])
    fc1, fc2 = count_from_spikes(SPECS, [torch.tensor(xs), hs], [torch.tensor(hs), ys])
    assert (fc1.synops, fc2.synops, fc1.output_spikes) == (3.0, 1.5, 1.5)


def test_conv_fanout_hand_examples():
    # 3x3 input, 2x2 kernel, no padding: corners feed 1 output, edges 2, the centre 4
    fan = conv_fanout(1, 2, (3, 3))
    np.testing.assert_array_equal(fan, [[1, 2, 1], [2, 4, 2], [1, 2, 1]])
    macs, out_hw = conv_macs(1, 1, 2, (3, 3))
    assert (macs, out_hw) == (16, (2, 2)) and fan.sum() == macs
    # 3x3 kernel with padding 1: taps on the zero padding are not synapses
    fan = conv_fanout(1, 3, (3, 3), padding=1)
    np.testing.assert_array_equal(fan, [[4, 6, 4], [6, 9, 6], [4, 6, 4]])
    assert fan.sum() == 49 < conv_macs(1, 1, 3, (3, 3), padding=1)[0] == 81
    # stride 2 along a 5-wide row: the middle column is read by both outputs
    np.testing.assert_array_equal(conv_fanout(1, (1, 3), (1, 5), stride=2), [[1, 1, 2, 1, 1]])
    # channels and groups: each input drives out_channels / groups kernels
    grouped = conv_fanout(6, 2, (3, 3), groups=2)
    np.testing.assert_array_equal(grouped, 3 * conv_fanout(1, 2, (3, 3)))
    assert 4 * grouped.sum() == conv_macs(4, 6, 2, (3, 3), groups=2)[0]


@pytest.mark.parametrize(
    "cin,cout,k,s,p,d,g,hw",
    [(2, 3, 3, 1, 0, 1, 1, (6, 5)), (2, 4, 3, 2, 1, 1, 2, (7, 8)), (1, 2, (3, 2), (2, 1), (2, 0),
     (2, 1), 1, (9, 6)), (3, 3, 5, 3, 2, 1, 3, (11, 10))],
)
def test_conv_synops_match_brute_force(cin, cout, k, s, p, d, g, hw, rng):
    spec = LayerSpec("c", "conv", cin, cout, k, s, p, d, g, hw)
    macs, out_hw = conv_macs(cin, cout, k, hw, stride=s, padding=p, dilation=d, groups=g)
    ref = torch.nn.Conv2d(cin, cout, k, s, p, d, g)(torch.zeros(1, cin, *hw))
    assert out_hw == tuple(ref.shape[2:]) and spec.output_shape == tuple(ref.shape[1:])
    assert macs == cout * math.prod(out_hw) * (cin // g) * math.prod(spec.kernel)
    x = (rng.random((2, cin, *hw, 5)) < 0.3).astype(np.float32)
    y = np.zeros((2, *spec.output_shape, 5))
    (st,) = count_from_spikes([spec], [x], [y])
    # SynOps = sum over output neurons and kernel taps of the input spikes they read
    ones = torch.ones(cout, cin // g, *spec.kernel, dtype=torch.float64)
    counts = torch.tensor(x.sum(axis=-1), dtype=torch.float64)
    brute = torch.nn.functional.conv2d(counts, ones, None, s, p, d, g).sum().item() / 2
    assert st.synops == pytest.approx(brute) and st.input_spikes == x.sum() / 2
    full = torch.nn.functional.conv2d(torch.ones(1, cin, *hw, dtype=torch.float64), ones, None,
                                      s, p, d, g).sum().item()
    assert cin * spec.fanout()[0].sum() == full <= macs  # == macs exactly when unpadded
    assert (full == macs) == (spec.padding == (0, 0))


def test_analog_first_layer_counted_as_macs_times_T():
    specs = [LayerSpec("enc", "dense", 3, 2, analog_input=True), SPECS[1]]
    enc, fc2 = count_from_spikes(specs, [None, H], [H, Y])
    assert (enc.synops, enc.input_spikes, enc.time_steps) == (0, 0, 4)
    rep = EnergyReport([enc, fc2])
    assert rep.snn_energy_pj == pytest.approx(6 * 4 * 4.6 + 3 * 0.9)
    assert rep.ratio == pytest.approx(8 * 4.6 / (6 * 4 * 4.6 + 3 * 0.9))
    # analog values passed as input are accepted and not counted as spikes
    assert count_from_spikes(specs[:1], [np.full((1, 3, 4), 0.3)], [H])[0] == enc


def test_analog_layer_is_charged_only_for_steps_that_carry_input():
    spec = LayerSpec("enc", "dense", 3, 2, analog_input=True)
    x = np.zeros((2, 3, 4))
    x[0, 1, :3] = 0.5      # sample 0: input on steps 0-2, silent on step 3
    x[1, 0, 0] = 0.25      # sample 1: input on step 0 only
    (enc,) = count_from_spikes([spec], [x], [np.zeros((2, 2, 4))])
    assert enc.input_steps == 2.0 and enc.time_steps == 4
    assert enc.snn_energy_pj() == pytest.approx(6 * 2.0 * 4.6)
    assert "4 (2 in)" in report_table(EnergyReport([enc]))
    with pytest.raises(ValueError, match="'enc'.*analog input"):
        count_from_spikes([spec], [x[..., :3]], [np.zeros((2, 2, 4))])


def test_reports(tmp_path):
    rep = EnergyReport(count_from_spikes(SPECS, [X, H], [H, Y]))
    d = report_dict(rep)
    assert d["energy_ratio"] == pytest.approx(rep.ratio)
    assert d["snn_energy_uj"] == pytest.approx(8.1e-6)
    assert d["ann_energy_uj"] == pytest.approx(36.8e-6)
    assert (d["spike_rate_fc1"], d["spike_rate_fc2"], d["synops"]) == (0.375, 0.25, 9)
    assert all(isinstance(v, float | int) and math.isfinite(v) for v in d.values())
    table = report_table(rep)
    assert table.count("\n| fc") == 2 and "**total**" in table and "4.543" in table
    silent = EnergyReport(count_from_spikes(SPECS, [0 * X, 0 * H], [0 * H, 0 * Y]))
    assert silent.ratio == math.inf and "energy_ratio" not in report_dict(silent)
    path = plot_report(rep, tmp_path / "energy.png")
    assert path.read_bytes()[:4] == b"\x89PNG"


def test_rnn_macs_and_ann_energy():
    assert lstm_macs(10, 20) == 4 * (10 * 20 + 20 * 20) == 2400
    assert lstm_macs(10, 20, seq_len=5) == 5 * 2400
    assert gru_macs(10, 20, seq_len=5) == 5 * 3 * (10 * 20 + 20 * 20)
    assert rnn_macs(10, 20, seq_len=5) == 5 * (10 * 20 + 20 * 20)
    assert ann_energy([lstm_macs(10, 20), SPECS[0]]) == pytest.approx((2400 + 6) * 4.6)
    assert ann_energy([100], mac_pj=1.0) == 100


def test_bad_inputs_name_the_layer():
    with pytest.raises(ValueError, match="fc2"):  # hidden layer given 3 channels, spec says 2
        count_from_spikes(SPECS, [X, X], [H, Y])
    with pytest.raises(ValueError, match="fc1"):  # output shape
        count_from_spikes(SPECS, [X, H], [Y, Y])
    with pytest.raises(ValueError, match="fc1"):  # time steps differ
        count_from_spikes(SPECS, [X[..., :3], H], [H, Y])
    with pytest.raises(ValueError, match="fc1"):  # missing spikes for a spiking layer
        count_from_spikes(SPECS, [None, H], [H, Y])
    with pytest.raises(ValueError, match="same length"):
        count_from_spikes(SPECS, [X], [H, Y])
    conv = LayerSpec("conv1", "conv", 2, 4, 3, input_hw=(5, 5))
    with pytest.raises(ValueError, match="conv1"):
        count_from_spikes([conv], [np.zeros((1, 2, 5, 6, 3))], [np.zeros((1, 4, 3, 3, 3))])
    with pytest.raises(ValueError, match="conv1"):
        LayerSpec("conv1", "conv", 2, 4, 3)  # no input_hw
    with pytest.raises(ValueError, match="geometry"):
        LayerSpec("conv2", "conv", 2, 4, 7, input_hw=(5, 5))
    with pytest.raises(ValueError, match="divisible"):
        conv_macs(3, 4, 3, (5, 5), groups=2)
    with pytest.raises(ValueError, match="pool"):
        LayerSpec("pool", "pool", 2, 2)


def test_spec_from_slayer_blocks():
    from lava.lib.dl import slayer

    torch.manual_seed(0)
    dense = slayer.block.cuba.Dense(NEURON, 4, 3)
    x = (torch.rand(2, 4, 6) < 0.5).float()
    y = dense(x)
    spec = spec_from_slayer_block(dense, name="fc")
    assert (spec.kind, spec.in_channels, spec.out_channels) == ("dense", 4, 3)
    assert spec.macs_per_step == 12
    (st,) = count_from_spikes([spec], [x], [y])
    assert st.synops == x.sum().item() * 3 / 2 and st.output_spikes == y.sum().item() / 2

    conv = slayer.block.cuba.Conv(NEURON, 2, 4, 3, padding=1, stride=2)
    x = (torch.rand(1, 2, 7, 7, 5) < 0.5).float()
    y = conv(x)
    spec = spec_from_slayer_block(conv, (2, 7, 7), name="conv")
    assert spec.output_shape == tuple(y.shape[1:-1]) == (4, 4, 4)
    assert (spec.kernel, spec.stride, spec.padding, spec.groups) == ((3, 3), (2, 2), (1, 1), 1)
    assert spec.macs_per_step == 4 * 16 * 2 * 9
    assert count_from_spikes([spec], [x], [y])[0].neurons == 64
    with pytest.raises(ValueError, match="conv"):
        spec_from_slayer_block(conv, None, name="conv")
    with pytest.raises(ValueError, match="conv"):  # wrong H, W: output shape disagrees
        spec_from_slayer_block(conv, (2, 9, 9), name="conv")

    image = slayer.block.cuba.Dense(NEURON, (4, 3, 2), 5)  # (W, H, C) input flattened by a kernel
    x = (torch.rand(1, 2, 3, 4, 6) < 0.5).float()
    y = image(x)
    spec = spec_from_slayer_block(image, name="img")
    assert (spec.in_channels, spec.macs_per_step) == (24, 120)
    assert count_from_spikes([spec], [x], [y])[0].synops == x.sum().item() * 5

    with pytest.raises(ValueError, match="pool"):
        spec_from_slayer_block(slayer.block.cuba.Pool(NEURON, 2), name="pool")
