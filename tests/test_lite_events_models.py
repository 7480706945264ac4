"""LITE event-sequence models (synthetic N-MNIST-like data): input coding, parameter counts,
energy formulas, threshold calibration, best-epoch selection on validation, and a tiny
two-seed end-to-end run with the deployed headline and Lava agreement."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from lava_thesis import energy
from lava_thesis.experiments import lite_events
from lava_thesis.experiments.lite_events import LiteEventsConfig, _train, run
from lava_thesis.lite.events_models import (
    CnnGru,
    ConvLstm,
    baseline_energy,
    build_snn,
    calibrate_thresholds,
    convlstm_energy,
    gru_parameters,
    recording_frames,
    snn_energy,
    snn_input,
    snn_payload,
)
from lava_thesis.protocol import Protocol, split_training
from lava_thesis.results import read_results
from lava_thesis.training import count_parameters, fit

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


def test_convlstm_parameters_and_energy_follow_the_formulas():
    model = ConvLstm(TINY, hidden=6)
    front = 2 * 4 * 9 + 4  # c4k3s2; c8k3s2 becomes the ConvLSTM layer (input 4 channels)
    gates = (4 * 24 * 9 + 24) + 6 * 24 * 9  # W_x (with bias), W_h (no bias)
    assert count_parameters(model) == front + gates + 6 * 81 * 10 + 10
    cost = convlstm_energy(model, n_bins=5)
    macs = 5 * (4 * 17 * 17 * 2 * 9 + 24 * 9 * 9 * 4 * 9 + 24 * 9 * 9 * 6 * 9) + 6 * 81 * 10
    assert cost["macs"] == macs and cost["energy_pj"] == pytest.approx(energy.MAC_PJ * macs)
    assert count_parameters(ConvLstm()) == 59_946


def test_convlstm_on_one_pixel_is_torch_lstm():
    """With 1x1 kernels on a 1x1 input the ConvLSTM is an LSTM cell (torch orders the gates
    i, f, g, o; ours i, f, o, g)."""
    torch.manual_seed(0)
    model = ConvLstm(("c5k1s1", "f", "d3"), (2, 1, 1), hidden=5, classes=3)
    cell = torch.nn.LSTMCell(2, 5)
    order = torch.cat([torch.arange(0, 10), torch.arange(15, 20), torch.arange(10, 15)])
    with torch.no_grad():
        cell.weight_ih.copy_(model.x_gates.weight[order, :, 0, 0])
        cell.weight_hh.copy_(model.h_gates.weight[order, :, 0, 0])
        cell.bias_ih.copy_(model.x_gates.bias[order])
        cell.bias_hh.zero_()
    x = torch.randn(4, 6, 2, 1, 1)
    h = c = torch.zeros(4, 5)
    for t in range(6):
        h, c = cell(x[:, t, :, 0, 0], (h, c))
    torch.testing.assert_close(model(x), model.head(h))


def test_recording_frames_bin_a_file_recording_as_the_synthetic_ones():
    from lava_thesis.data.events import EVENT_DTYPE

    ev = np.zeros(4, EVENT_DTYPE)
    # times from the first event (1000 us); 300 ms in 3 bins of 100 ms; the last is too late
    ev["x"], ev["y"], ev["p"] = [0, 5, 33, 2], [1, 6, 33, 2], [1, 0, 1, 1]
    ev["t"] = [1_000, 101_000, 300_999, 301_000]
    frames = recording_frames(ev, 3)
    assert frames.shape == (3, 2, 34, 34) and frames.dtype == bool and frames.sum() == 3
    assert frames[0, 1, 1, 0] and frames[1, 0, 6, 5] and frames[2, 1, 33, 33]
    with pytest.raises(ValueError, match="no events"):
        recording_frames(ev[:0], 3)
    ev["x"][0] = 34
    with pytest.raises(ValueError, match="x"):
        recording_frames(ev, 3)


def test_the_real_nmnist_sample_runs_through_the_snn(data_root):
    from lava_thesis.data.nmnist import read_nmnist_bin

    frames = recording_frames(read_nmnist_bin(data_root / "events" / "sample_nmnist.bin"), 15)
    assert frames.shape == (15, 2, 34, 34) and 0.01 < frames.mean() < 0.2
    assert frames.any(axis=(1, 2, 3)).all()  # events in every bin of the 300 ms window
    net = build_snn(TINY)
    calibrate_thresholds(net, snn_input(frames[None], net.delay))
    out = lite_events.snn_outputs(net, frames[None])
    assert out.shape == (1, 10, 15 + net.delay)


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


def test_training_keeps_the_best_validation_epoch():
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 3)
    x, y = torch.randn(12, 4), np.arange(12) % 3
    cfg = LiteEventsConfig(epochs=4, batch_size=4)
    scores, snapshots = iter([0.2, 0.7, 0.7, 0.5]), []

    def validate() -> float:
        snapshots.append(model.weight.detach().clone())
        return next(scores)

    stats, curve = _train(model, lambda idx: (model(x[idx]), 0.0), y,
                          torch.optim.SGD(model.parameters(), lr=0.5), cfg, 0, "m",
                          lambda _: None, validate)
    assert curve == [0.2, 0.7, 0.7, 0.5]
    assert stats["best_epoch"] == 2 and stats["val_accuracy"] == 0.7 and stats["epochs"] == 4
    torch.testing.assert_close(model.weight, snapshots[1], rtol=0, atol=0)  # ties: the earlier
    assert not torch.equal(snapshots[1], snapshots[3])
    stats, curve = _train(model, lambda idx: (model(x[idx]), 0.0), y,
                          torch.optim.SGD(model.parameters(), lr=0.5), cfg, 0, "m",
                          lambda _: None, None)
    assert curve == [] and stats["best_epoch"] == 4 and "val_accuracy" not in stats


@pytest.mark.parametrize("readout", ["integrator", "spikes"])
def test_tiny_run_two_seeds_deploys_and_agrees_with_lava(data_root, tmp_path, monkeypatch,
                                                         readout):
    torch.set_num_threads(1)
    seen: dict[str, list] = {"split": [], "trained": []}

    def spy_split(x, y, protocol):
        out = split_training(x, y, protocol)
        seen["split"].append(out)
        return out

    def spy_fit(module, forward, labels, *args, **kwargs):
        def recording(idx):
            seen["trained"].append((len(labels), np.asarray(idx).copy()))
            return forward(idx)
        return fit(module, recording, labels, *args, **kwargs)

    monkeypatch.setattr(lite_events, "split_training", spy_split)
    monkeypatch.setattr(lite_events, "fit", spy_fit)
    cfg = LiteEventsConfig(n_train=64, n_test=16, n_bins=5, spec=TINY, gru_hidden=8,
                           convlstm_hidden=4, readout=readout, epochs=1,
                           batch_size=16, lava_samples=4, energy_samples=16,
                           data_dir=str(data_root), cache_dir=str(tmp_path / "cache"),
                           out_dir=str(tmp_path / "out"), model_dir=str(tmp_path / "models"),
                           experiment="events_tiny")
    lines: list[str] = []
    metrics = run(cfg, log=lines.append, protocol=Protocol(seeds=(0, 1), val_fraction=0.2))
    record = read_results(tmp_path / "out" / "events_tiny.json")
    assert record["metrics"] == pytest.approx(metrics)
    assert record["dataset"] == "synthetic N-MNIST-like (generated from MNIST)"
    assert record["headline"][0] == "deployed_accuracy"
    assert (tmp_path / "out" / "events_tiny.png").read_bytes()[:4] == b"\x89PNG"
    # two seeds, SNN, GRU and ConvLSTM each: per-seed values whose mean is the metric
    extra = record["extra"]
    assert extra["seeds"] == [0, 1] and set(extra["val_curves"]) == {"0", "1"}
    for key in ("deployed_accuracy", "snn_test_accuracy", "gru_test_accuracy", "snn_minus_gru",
                "snn_val_accuracy", "gru_val_accuracy", "convlstm_test_accuracy",
                "convlstm_val_accuracy", "snn_minus_convlstm", "snn_minus_best_baseline"):
        values = extra["per_seed"][key]
        assert len(values) == 2 and metrics[key] == pytest.approx(np.mean(values))
    diffs = np.subtract(extra["per_seed"]["deployed_accuracy"],
                        extra["per_seed"]["gru_test_accuracy"])
    np.testing.assert_allclose(extra["per_seed"]["snn_minus_gru"], diffs)
    worst = np.minimum(diffs, np.subtract(extra["per_seed"]["deployed_accuracy"],
                                          extra["per_seed"]["convlstm_test_accuracy"]))
    np.testing.assert_allclose(extra["per_seed"]["snn_minus_best_baseline"], worst)
    # the deployed twin on the Lava payload is the trained network on its training input
    assert metrics["deployed_accuracy"] == metrics["snn_test_accuracy"]
    assert "lava_agreement" not in extra["per_seed"]  # the first seed's exported model only
    # validation carved off the 64 training recordings; no model trained on it
    val = record["validation"]
    assert val["train"] + val["val"] == 64 and val["val"] == metrics["val_samples"] > 0
    (x_fit, _), (x_val, _), info = seen["split"][0]
    assert info == val and len(x_fit) == metrics["train_samples"]
    assert {n for n, _ in seen["trained"]} == {len(x_fit)}
    trained = np.unique(np.concatenate([idx for _, idx in seen["trained"]]))
    assert trained.tolist() == list(range(len(x_fit)))  # every fit sample, nothing else
    fit_keys = {f.tobytes() for f in x_fit}
    assert not fit_keys & {f.tobytes() for f in x_val}
    # model files of the first seed, with the protocol on the card
    for name in ("events_tiny.net", "events_tiny.nir", "events_tiny.pt",
                 "events_tiny.model_card.json"):
        assert (tmp_path / "models" / name).is_file()
    card = json.loads((tmp_path / "models" / "events_tiny.model_card.json").read_text())
    assert card["protocol"] == {"seeds": [0, 1], "val_fraction": 0.2, "val_seed": 0}
    assert card["seed"] == 0 and card["validation"] == val and card["commit"]
    assert card["metrics"]["deployed_accuracy"] == extra["per_seed"]["deployed_accuracy"][0]
    assert card["readout"] == readout
    assert metrics["snn_spike_rate_2_c8k3s2"] > 0, "silent layers would agree trivially"
    # Lava's readout equals the twin's: final voltages, or every output spike
    match = "lava_readout_match" if readout == "integrator" else "lava_spike_match"
    assert metrics["lava_agreement"] == 1.0 and metrics[match] == 1.0
    if readout == "spikes":
        assert metrics["snn_spike_rate_3_d10"] > 0, "silent outputs would agree trivially"
    assert metrics["lava_accuracy"] == metrics["deployed_accuracy_lava_subset"]
    assert metrics["lava_samples"] == 4 and metrics["snn_epochs"] == 1
    assert metrics["gru_params"] == count_parameters(CnnGru(TINY, hidden=8))
    assert metrics["convlstm_params"] == count_parameters(ConvLstm(TINY, hidden=4))
    assert metrics["energy_ratio"] > 1 and any("Lava agreement" in s for s in lines)
    assert record["config"]["protocol"]["seeds"] == [0, 1]
    assert "max_train_seconds" not in record["config"]
