"""LITE event-sequence models (synthetic N-MNIST-like data): input coding, parameter counts,
energy formulas, threshold calibration, and a tiny end-to-end run with Lava agreement."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lava_thesis import energy
from lava_thesis.experiments.lite_events import LiteEventsConfig, run
from lava_thesis.lite.events_models import (
    CnnGru,
    baseline_energy,
    build_snn,
    calibrate_thresholds,
    gru_parameters,
    snn_energy,
    snn_input,
    snn_payload,
)
from lava_thesis.results import read_results
from lava_thesis.training import count_parameters

TINY = ("c4k3s2", "c8k3s2", "f", "d10")


def _frames(n=3, t=4, seed=0):
    return np.random.default_rng(seed).random((n, t, 2, 34, 34)) < 0.05


def test_payload_is_time_last_with_silent_delay_steps():
    frames = _frames()
    payload = snn_payload(frames, pad=2)
    assert payload.shape == (3, 2, 34, 34, 6) and payload.dtype == np.float32
    np.testing.assert_array_equal(payload[..., :4], np.moveaxis(frames, 1, -1) * 255.0)
    assert not payload[..., 4:].any()
    x = snn_input(frames, pad=2)
    assert set(np.unique(x.numpy())) == {0.0, 255 / 256}


def test_parameter_counts_follow_the_formulas():
    assert gru_parameters(7, 5) == sum(p.numel() for p in torch.nn.GRU(7, 5).parameters())
    model = CnnGru(TINY, hidden=6)
    conv = (2 * 4 * 9 + 4) + (4 * 8 * 9 + 8)
    assert model.features == 8 * 9 * 9
    assert count_parameters(model) == conv + gru_parameters(8 * 81, 6) + 6 * 10 + 10
    assert model(torch.zeros(2, 3, 2, 34, 34)).shape == (2, 10)
    snn = build_snn(TINY)
    weights = 2 * 4 * 9 + 4 * 8 * 9 + 8 * 81 * 10
    assert count_parameters(snn) == weights + 2 * len(snn.weight_blocks)  # + threshold, leak


def test_baseline_energy_counts_every_frame_and_the_gru():
    model = CnnGru(TINY, hidden=6)
    cost = baseline_energy(model, n_bins=5)
    conv = 4 * 17 * 17 * 2 * 9 + 8 * 9 * 9 * 4 * 9
    macs = 5 * conv + energy.gru_macs(648, 6, 5) + 60
    assert cost["macs"] == macs
    assert cost["energy_pj"] == pytest.approx(energy.MAC_PJ * macs)


def test_calibration_keeps_spikes_flowing_and_energy_counts_events_as_synops():
    torch.manual_seed(0)
    net = build_snn(TINY)
    x = snn_input(_frames(n=8, t=5), net.delay)
    thetas = calibrate_thresholds(net, x, percentile=99.0, scale=0.5)
    assert net.thresholds() == pytest.approx(thetas, rel=1e-5)
    record: list = []
    with torch.no_grad():
        net(x, record=record)
    assert all(float(r.sum()) > 0 for r in record)
    report = snn_energy(net, x)
    first = report.layers[0]
    assert not first.analog_input
    assert first.input_spikes == pytest.approx(float(np.count_nonzero(x.numpy())) / 8)
    assert report.snn_energy_pj == pytest.approx(energy.AC_PJ * report.synops)


def test_tiny_run_trains_exports_and_agrees_with_lava(data_root, tmp_path):
    torch.set_num_threads(1)
    cfg = LiteEventsConfig(n_train=64, n_test=16, n_bins=5, spec=TINY, gru_hidden=8, epochs=1,
                           batch_size=16, lava_samples=4, energy_samples=16,
                           data_dir=str(data_root), cache_dir=str(tmp_path / "cache"),
                           out_dir=str(tmp_path / "out"), model_dir=str(tmp_path / "models"),
                           experiment="events_tiny")
    lines: list[str] = []
    metrics = run(cfg, log=lines.append)
    record = read_results(tmp_path / "out" / "events_tiny.json")
    assert record["metrics"] == pytest.approx(metrics)
    assert record["dataset"] == "synthetic N-MNIST-like (generated from MNIST)"
    assert (tmp_path / "out" / "events_tiny.png").read_bytes()[:4] == b"\x89PNG"
    for name in ("events_tiny.net", "events_tiny.pt", "events_tiny.model_card.json"):
        assert (tmp_path / "models" / name).is_file()
    assert metrics["snn_spike_rate_3_d10"] > 0, "silent outputs would agree trivially"
    assert metrics["lava_agreement"] == 1.0 and metrics["lava_spike_match"] == 1.0
    assert metrics["lava_samples"] == 4 and metrics["snn_epochs"] == 1
    assert metrics["gru_params"] == count_parameters(CnnGru(TINY, hidden=8))
    assert metrics["energy_ratio"] > 1 and any("Lava agreement" in s for s in lines)
