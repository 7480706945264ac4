"""Hybrid conversion + STDB: surrogate gradients, last-spike bookkeeping, reset, threshold
balancing, rate approximation of the ANN, and the netx twin's parity with Lava."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lava_thesis.hybrid import HybridSNN, balance_thresholds, if_step, linear_spike, stdb_spike
from lava_thesis.hybrid.neuron import NEVER


def test_stdb_surrogate_value_and_forward():
    v = torch.tensor([-0.5, 0.2, 3.0], requires_grad=True)
    dt = torch.tensor([0.0, 10.0, 1000.0])
    s = stdb_spike(v, dt, 0.3, 0.01)
    assert s.tolist() == [0.0, 1.0, 1.0]
    s.sum().backward()
    np.testing.assert_allclose(v.grad.numpy(), 0.3 * np.exp(-0.01 * dt.numpy()), rtol=1e-6)


def test_linear_surrogate_shape():
    v = torch.tensor([-2.0, -0.5, 0.0, 0.25, 1.5], requires_grad=True)
    linear_spike(v, 0.3).sum().backward()
    np.testing.assert_allclose(v.grad.numpy(), [0.0, 0.15, 0.3, 0.225, 0.0], rtol=1e-6)


def _drive(currents, reset="soft", theta=1.0):
    u = torch.zeros(1)
    s = torch.zeros(1)
    last = torch.full((1,), NEVER)
    history = []
    for t, c in enumerate(currents):
        cur = torch.tensor([c], requires_grad=True)
        u, s, last = if_step(u.detach(), cur, s.detach(), last, t, theta, reset=reset)
        s.sum().backward()
        history.append((float(u.detach()), float(s.detach()), float(last), float(cur.grad)))
    return history


def test_last_spike_bookkeeping_and_dt_in_gradient():
    # spikes at steps 1 and 4; the gradient at each step uses dt = t - previous spike
    hist = _drive([0.5, 0.7, 0.3, 0.2, 1.0, 0.1, 0.1], theta=1.0)
    spikes = [h[1] for h in hist]
    assert spikes == [0, 1, 0, 0, 1, 0, 0]
    lasts = [h[2] for h in hist]
    assert lasts == [NEVER, 1, 1, 1, 4, 4, 4]
    prev = [NEVER, NEVER, 1, 1, 1, 4, 4]
    for t, (h, p) in enumerate(zip(hist, prev, strict=True)):
        assert h[3] == pytest.approx(0.3 * math.exp(-0.01 * (t - p)), rel=1e-6)


def test_soft_and_hard_reset():
    soft = _drive([1.5, 0.0], reset="soft")
    hard = _drive([1.5, 0.0], reset="hard")
    assert soft[1][0] == pytest.approx(0.5)  # 1.5 - theta
    assert hard[1][0] == pytest.approx(0.0)  # reset to zero
    with pytest.raises(ValueError, match="reset"):
        if_step(torch.zeros(1), torch.zeros(1), torch.zeros(1), torch.zeros(1), 0, 1.0,
                reset="none")


def _ann(w1, w2):
    ann = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(w1.shape[1], w1.shape[0],
                                                                  bias=False),
                              torch.nn.ReLU(), torch.nn.Linear(w2.shape[1], w2.shape[0],
                                                               bias=False))
    with torch.no_grad():
        ann[1].weight.copy_(w1)
        ann[3].weight.copy_(w2)
    return ann


def test_threshold_balancing_takes_max_current_then_scales():
    w1 = torch.tensor([[0.5, 0.5, 0.0, 0.0], [1.0, 1.0, 1.0, -0.5]])
    w2 = torch.tensor([[1.0, 2.0]])
    snn = HybridSNN(_ann(w1, w2), [1.0, 1.0])
    images = torch.ones(3, 1, 2, 2)  # intensity 1: every input spikes every step
    thetas = balance_thresholds(snn, images, 10, scale=0.5)
    assert thetas[0] == pytest.approx(0.5 * 2.5)        # max of W1 @ 1
    # layer 2 sees the balanced layer 1's spikes: at most 1 each, so at most 1 + 2 = 3
    assert 0 < thetas[1] <= 0.5 * 3.0


def test_soft_reset_rate_approximates_relu():
    torch.manual_seed(0)
    w1 = torch.rand(6, 4) - 0.3
    w2 = torch.eye(6)
    theta = 2.0
    snn = HybridSNN(_ann(w1, w2), [theta, 1.0], reset="soft")
    steps = 200
    x = torch.ones(steps, 1, 1, 2, 2)
    with torch.no_grad():
        out = snn(x)  # output layer = identity: accumulates the hidden spike counts
    z = torch.relu(w1 @ torch.ones(4))
    expected = torch.clamp(z / theta, max=1.0)
    np.testing.assert_allclose((out[0] / steps).numpy(), expected.numpy(), atol=1.5 / steps)


def test_conversion_rejects_bias():
    ann = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 2))
    with pytest.raises(ValueError, match="bias"):
        HybridSNN(ann, [1.0])


def test_twin_matches_lava_spike_for_spike():
    from lava_thesis.deploy.netx_run import netx_output_spikes
    from lava_thesis.diet.ann import build_ann
    from lava_thesis.hybrid.deploy import lava_twin, spike_payload, twin_output
    from lava_thesis.slayer_ext import INPUT_BITS

    torch.manual_seed(1)
    spec = ["c4k3s2", "f", "d10"]
    ann = build_ann(spec, (1, 8, 8))
    snn = HybridSNN(ann, [1.0, 1.0], reset="hard")
    images = torch.rand(6, 1, 8, 8)
    balance_thresholds(snn, images, 20, scale=0.5)
    twin = lava_twin(snn, spec, (1, 8, 8))
    spikes = (torch.rand(6, 1, 8, 8, 12) < images[..., None]).float().numpy()
    payload = spike_payload(spikes, twin.delay)
    out = twin_output(twin, payload)
    assert out.sum() > 0
    path = twin.export_hdf5(__import__("tempfile").mkdtemp() + "/twin.net")
    lava = netx_output_spikes(path, payload, input_bits=INPUT_BITS)
    np.testing.assert_array_equal(lava, out)


def test_integrator_twin_is_the_membrane_readout_and_lava_reads_it_bit_exactly(tmp_path):
    from lava_thesis.deploy.netx_run import netx_output_voltage
    from lava_thesis.diet.ann import build_ann
    from lava_thesis.diet.train import predict_output
    from lava_thesis.hybrid.deploy import lava_twin, spike_payload, twin_output
    from lava_thesis.slayer_ext import INPUT_BITS

    torch.manual_seed(1)
    spec = ["c4k3s2", "f", "d10"]
    snn = HybridSNN(build_ann(spec, (1, 8, 8)), [1.0, 1.0], reset="hard")
    images = torch.rand(6, 1, 8, 8)
    balance_thresholds(snn, images, 20, scale=0.5)
    spikes = (torch.rand(6, 1, 8, 8, 12) < images[..., None]).float()
    counting = lava_twin(snn, spec, (1, 8, 8))
    twin = lava_twin(snn, spec, (1, 8, 8), readout="integrator")
    payload = spike_payload(spikes.numpy(), twin.delay)
    out = twin_output(twin, payload)
    v = out[..., -1]
    assert np.abs(v).max() > 0.5 and len(np.unique(v)) > 20
    np.testing.assert_array_equal(out[..., -1], out[..., -2])  # the padded window is complete
    # the hidden layer is the spike-count twin's: the same thresholds, the same spikes
    hidden_i, hidden_s = [], []
    twin(torch.from_numpy(payload / 256.0), record=hidden_i)
    counting(torch.from_numpy(payload / 256.0), record=hidden_s)
    assert torch.equal(hidden_i[0], hidden_s[0]) and hidden_i[0].sum() > 0
    # the output layer never fires, leaks or resets: its last voltage is the sum of its
    # (8-bit) input currents, exactly
    readout = twin.weight_blocks[-1].synapse
    np.testing.assert_array_equal(v, readout(hidden_i[1]).detach().numpy().sum(-1))
    # ... which is the torch network's membrane readout of the same hidden spikes in units of
    # the output threshold, but for the weights' rounding: at most (spikes in) x (the largest
    # rounding of a weight, half a step of the 8-bit grid)
    counts = hidden_i[1].detach().sum(-1)  # (N, 64) flattened hidden spike counts
    membrane = (snn.layers[-1](counts) / snn.thresholds[-1]).detach().numpy()
    w_float = (snn.layers[-1].weight / snn.thresholds[-1]).detach().numpy()
    w_8bit = readout.pre_hook_fx(readout.weight).detach().numpy().reshape(w_float.shape)
    rounding = np.abs(w_8bit - w_float).max()
    assert 0 < rounding <= 0.5 * np.diff(np.unique(w_8bit)).min() + 1e-6
    assert np.all(np.abs(v - membrane) <= counts.sum(1).numpy()[:, None] * rounding + 1e-5)
    np.testing.assert_array_equal(predict_output(twin, out), v.argmax(1))
    path = twin.export_hdf5(tmp_path / "twin_integrator.net")
    lava_v = netx_output_voltage(path, payload, input_bits=INPUT_BITS, timeout_s=120)
    np.testing.assert_array_equal(lava_v, v)


def test_both_readouts_from_one_hidden_forward_equal_two_full_forwards():
    """deployed_predictions runs the hidden layers once and the integrator's output layer on
    the spike twin's recorded hidden spikes: the classes (and the integrator's voltages) are
    exactly those of two separate twins, batch by batch."""
    from lava_thesis.diet.ann import build_ann
    from lava_thesis.hybrid.deploy import lava_twin, twin_output
    from lava_thesis.hybrid.evaluate import (
        deployed_accuracies,
        deployed_predict,
        deployed_predictions,
        lava_payload,
    )

    torch.manual_seed(3)
    spec = ["c4k3s2", "f", "d16", "d10"]
    snn = HybridSNN(build_ann(spec, (1, 8, 8)), [1.0, 1.0, 1.0], reset="hard")
    images = (torch.rand(23, 8, 8) * 255).to(torch.uint8).numpy()
    balance_thresholds(snn, torch.from_numpy(images[:, None] / 255.0).float(), 20, scale=0.5)
    both = deployed_predictions(snn, spec, (1, 8, 8), images, 9,
                                readouts=("spikes", "integrator"), batch_size=10)
    for readout in ("spikes", "integrator"):
        alone = deployed_predict(snn, spec, (1, 8, 8), images, 9, batch_size=10,
                                 readout=readout)
        np.testing.assert_array_equal(both[readout], alone)
    assert len(set(both["integrator"].tolist())) > 1
    # the voltages themselves, on one batch: the output layer run on the recorded spikes
    spikes, integ = (lava_twin(snn, spec, (1, 8, 8), readout=r) for r in ("spikes", "integrator"))
    payload = lava_payload(images[:10], 9, spikes.delay, torch.Generator().manual_seed(0))
    record: list = []
    twin_output(spikes, payload, record)
    with torch.no_grad():
        part = integ(record[-2], start=len(integ.blocks) - 1).numpy()
    np.testing.assert_array_equal(part, twin_output(integ, payload))
    labels = np.arange(23) % 10
    accs = deployed_accuracies(snn, spec, (1, 8, 8), images, labels, 9,
                               readouts=("spikes", "integrator"))
    assert accs == {r: float((deployed_predict(snn, spec, (1, 8, 8), images, 9, readout=r)
                              == labels).mean()) for r in ("spikes", "integrator")}


def test_step_reduction_on_curves():
    from lava_thesis.hybrid.evaluate import step_reduction

    conv = {10: 0.80, 25: 0.85, 50: 0.88, 100: 0.90}
    assert step_reduction(conv, {10: 0.86, 25: 0.88, 50: 0.9, 100: 0.9}, 25) == {
        "converted_steps_to_match_hybrid": 50, "step_reduction": 2.0}
    assert step_reduction(conv, {10: 0.95, 25: 0.95}, 10) == {"step_reduction_at_least": 10.0}
    with pytest.raises(ValueError, match="T=5"):
        step_reduction(conv, conv, 5)


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.integers(1, 300), st.floats(0, 1), min_size=1, max_size=6),
       st.floats(0, 1))
def test_step_reduction_is_the_first_step_reaching_the_target(conv, target):
    from lava_thesis.hybrid.evaluate import step_reduction

    steps = min(conv)
    out = step_reduction(conv, {steps: target}, steps)
    if "step_reduction" in out:
        t = out["converted_steps_to_match_hybrid"]
        assert conv[t] >= target and all(conv[s] < target for s in conv if s < t)
        assert out["step_reduction"] == t / steps
    else:
        assert all(a < target for a in conv.values())
        assert out["step_reduction_at_least"] == max(conv) / steps


def test_choose_thresholds_keeps_the_best_pair_on_validation():
    from lava_thesis.diet.ann import build_ann
    from lava_thesis.hybrid.evaluate import choose_thresholds, deployed_accuracy
    from lava_thesis.hybrid.stdb import intensities

    torch.manual_seed(2)
    spec = ["c4k3s2", "f", "d3"]
    ann = build_ann(spec, (1, 8, 8))
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (30, 8, 8), dtype=np.uint8)
    labels = rng.integers(0, 3, 30)
    snn, choice, table = choose_thresholds(
        ann, spec, (1, 8, 8), reset="hard", balance_images=images[:10], balance_steps=10,
        val=(images[10:], labels[10:]), num_steps=6, percentiles=(None, 90.0),
        scales=(0.3, 1.0, 3.0), seed=0)
    assert len(table) == 6
    best = max(r["val_accuracy"] for r in table)
    assert choice == next(r for r in table if r["val_accuracy"] == best)  # ties: the first
    base = HybridSNN(ann, [1.0, 1.0], reset="hard")
    expected = balance_thresholds(base, intensities(images[:10]), 10,
                                  percentile=choice["percentile"], scale=choice["scale"], seed=0)
    np.testing.assert_allclose(snn.thresholds.numpy(), expected, rtol=1e-6)
    assert deployed_accuracy(snn, spec, (1, 8, 8), images[10:], labels[10:], 6) == best
    with pytest.raises(ValueError, match="positive"):
        choose_thresholds(ann, spec, (1, 8, 8), reset="hard", balance_images=images,
                          balance_steps=4, val=(images, labels), num_steps=4,
                          percentiles=(None,), scales=(0.0,), seed=0)


def _digest(images) -> set[bytes]:
    return {np.ascontiguousarray(im).tobytes() for im in images}


def test_experiment_protocol_seeds_validation_and_resume(tmp_path, monkeypatch):
    from lava_thesis.data.shipped_mnist import load_shipped_mnist
    from lava_thesis.experiments import hybrid
    from lava_thesis.hybrid.stdb import STDBConfig
    from lava_thesis.protocol import Protocol, split_training
    from lava_thesis.results import read_results

    (x, y), (xt, yt) = load_shipped_mnist("train"), load_shipped_mnist("test")
    x, y, xt, yt = x[:300], y[:300], xt[:40], yt[:40]
    trained: set[bytes] = set()
    real_ann, real_stdb = hybrid.train_ann, hybrid.train_stdb
    monkeypatch.setattr(hybrid, "train_ann", lambda ann, images, *a, **k: (
        trained.update(_digest(images)), real_ann(ann, images, *a, **k))[1])
    monkeypatch.setattr(hybrid, "train_stdb", lambda snn, images, *a, **k: (
        trained.update(_digest(images)), real_stdb(snn, images, *a, **k))[1])
    cfg = hybrid.HybridConfig(spec=("c8k3s2", "f", "d10"), ann_epochs=1, num_steps=8,
                              balance_steps=16, balance_images=64, stdb=STDBConfig(epochs=1),
                              threshold_scales=(0.7, 1.0), sweep_steps=(4, 16),
                              eval_samples=30, lava_samples=4, energy_samples=8)
    protocol = Protocol(seeds=(0, 1), val_fraction=0.2)
    logs: list[str] = []
    m = hybrid.run((x, y), (xt, yt), tmp_path, dataset="test", config=cfg, experiment="h",
                   log=logs.append, protocol=protocol)
    # the validation images were never trained on, and the split is the protocol's
    _, (x_val, _), _ = split_training(x, y, protocol)
    assert trained and not trained & _digest(x_val)
    assert trained | _digest(x_val) == _digest(x)
    res = read_results(tmp_path / "h.json")
    assert res["extra"]["seeds"] == [0, 1]
    for key in ("deployed_accuracy_hybrid", "deployed_accuracy_converted", "hybrid_accuracy",
                "val_accuracy_hybrid", "deployed_accuracy_converted_T16", "stdb_seconds"):
        values = res["extra"]["per_seed"][key]
        assert len(values) == 2 and res["metrics"][key] == pytest.approx(np.mean(values))
    assert res["validation"]["train"] + res["validation"]["val"] == 300
    assert res["validation"]["val"] == len(x_val) > 0
    assert res["headline"][:2] == ["deployed_accuracy_hybrid", "deployed_accuracy_converted"]
    assert res["config"]["resumed"] is False and res["config"]["protocol"]["seeds"] == [0, 1]
    # step reduction from the seed means of the deployed curves (T = 4, 8, 16)
    means = {t: m[f"deployed_accuracy_converted_T{t}"] for t in (4, 8, 16)}
    target = m["deployed_accuracy_hybrid_T8"]
    reached = [t for t in (4, 8, 16) if means[t] >= target]
    if reached:
        assert m["step_reduction"] == min(reached) / 8
    else:
        assert m["step_reduction_at_least"] == 2.0
    assert m["sweep_samples"] == 30 and m["lava_samples"] == 4
    assert m["agreement_hybrid"] == 1.0 and m["agreement_converted"] == 1.0
    assert m["spike_match_hybrid"] == 1.0
    card = json.loads((tmp_path / "h.model_card.json").read_text())
    assert card["protocol"] == protocol.as_dict() and card["seed"] == 0
    assert card["validation"] == res["validation"] and card["commit"] == res["commit"]
    assert {"h.json", "h_hybrid.net", "h_converted.net", "h_ann.pt", "h_stdb.pt",
            "h_hybrid.pt", "h_accuracy_vs_steps.png", "h_accuracy_vs_epoch.png",
            "h_hybrid.nir", "h_converted.nir"} <= {p.name for p in tmp_path.iterdir()}
    graph = __import__("nir").read(tmp_path / "h_hybrid.nir")  # IF layers as client CubaLIF
    assert {type(n).__name__ for n in graph.nodes.values()} >= {"CubaLIF"}
    assert not any(type(n).__name__ == "IF" for n in graph.nodes.values())
    assert card["nir"]["zero_decay"] == "cubalif" and "h_hybrid.nir" in card["files"]
    assert not any("seed1" in p.name for p in tmp_path.iterdir())  # only the first seed's files

    logs.clear()
    again = hybrid.run((x, y), (xt, yt), tmp_path / "again", dataset="test", config=cfg,
                       experiment="h", resume=True, log=logs.append, model_dir=tmp_path,
                       protocol=Protocol(seeds=(0,), val_fraction=0.2))
    assert any("resumed the ANN" in line for line in logs)
    assert any("resumed STDB" in line for line in logs)
    first = {k: v[0] for k, v in res["extra"]["per_seed"].items()}
    for key in ("deployed_accuracy_hybrid", "deployed_accuracy_converted", "hybrid_accuracy"):
        assert again[key] == first[key]
    assert again["stdb_seconds"] == first["stdb_seconds"] > 0  # the recorded time, not 0
    assert read_results(tmp_path / "again" / "h.json")["config"]["resumed"] is True


def test_resume_rejects_an_old_stdb_checkpoint(tmp_path):
    from lava_thesis.errors import ModelFileError
    from lava_thesis.experiments import hybrid

    path = tmp_path / "h_stdb.pt"
    torch.save({"state_dict": {}, "per_epoch": [0.5], "seconds": 1.0}, path)
    snn = HybridSNN(_ann(torch.ones(2, 4), torch.ones(1, 2)), [1.0, 1.0])
    with pytest.raises(ModelFileError, match="best_state"):
        hybrid.train_stdb_best(hybrid.HybridConfig(), 0, snn,
                               (np.zeros((1, 2, 2)), np.zeros(1)), lambda net: 0.0, path, True,
                               lambda line: None)


def test_cli_train_hybrid_passes_the_protocol(monkeypatch):
    import typer

    from lava_thesis import cli_train
    from lava_thesis.cli_common import Dataset, Reset
    from lava_thesis.experiments import hybrid
    from lava_thesis.protocol import Protocol

    seen = {}
    monkeypatch.setattr(hybrid, "run", lambda *a, **k: seen.update(k) or {})
    data = (np.zeros((10, 28, 28), np.uint8), np.arange(10) % 2)
    args = dict(out=Path("o"), model_dir=None, epochs=None, lava_samples=None, spec=None,
                num_steps=None, reset=Reset.hard, resume=False)
    protocol = Protocol.from_options(3, 2, 0.2)
    cli_train.train_hybrid(data, data, Dataset.mnist, protocol=protocol, **args)
    assert seen["protocol"] == protocol and seen["config"].lava_samples >= 500
    assert seen["config"].stdb.seed == 3 and seen["config"].val_fraction == 0.2
    with pytest.raises(typer.Exit):
        cli_train.train_hybrid(data, data, Dataset.mnist, protocol=Protocol((0,), 0.0), **args)
    assert seen["config"].readout == "spikes" and seen["experiment"] == "hybrid_mnist"
    cli_train.train_hybrid(data, data, Dataset.mnist, protocol=protocol, readout="integrator",
                           **{**args, "num_steps": 10})
    assert seen["config"].readout == "integrator" and seen["config"].num_steps == 10
    assert seen["experiment"] == "hybrid_mnist_T10_integrator"  # its own files
    with pytest.raises(ValueError, match="readout"):
        hybrid.HybridConfig(readout="voltage")


def test_experiment_deploys_the_integrator_readout(tmp_path):
    """``train hybrid --readout integrator``: thresholds, epochs and accuracies with the
    integrator twin; Lava reads its final voltages bit-exactly; the checkpoint, the export and
    the model card carry the readout."""
    from lava_thesis.data.shipped_mnist import load_shipped_mnist
    from lava_thesis.experiments import hybrid
    from lava_thesis.hybrid.evaluate import deployed_accuracy
    from lava_thesis.hybrid.model_io import load_hybrid, load_hybrid_twin
    from lava_thesis.hybrid.stdb import STDBConfig
    from lava_thesis.protocol import Protocol

    (x, y), (xt, yt) = load_shipped_mnist("train"), load_shipped_mnist("test")
    cfg = hybrid.HybridConfig(spec=("c8k3s2", "f", "d10"), ann_epochs=1, num_steps=6,
                              balance_steps=16, balance_images=64, stdb=STDBConfig(epochs=1),
                              threshold_scales=(1.0,), sweep_steps=(3,), eval_samples=20,
                              lava_samples=4, energy_samples=8, readout="integrator")
    m = hybrid.run((x[:200], y[:200]), (xt[:30], yt[:30]), tmp_path, dataset="test",
                   config=cfg, experiment="h", log=lambda line: None,
                   protocol=Protocol(seeds=(0,), val_fraction=0.2))
    assert m["agreement_hybrid"] == 1.0 and m["readout_match_hybrid"] == 1.0
    assert "spike_match_hybrid" not in m
    twin, steps = load_hybrid_twin(tmp_path / "h_hybrid.pt")
    assert twin.readout == "integrator" and steps == 6
    snn, spec, shape, _ = load_hybrid(tmp_path / "h_hybrid.pt")
    assert m["deployed_accuracy_hybrid"] == deployed_accuracy(snn, spec, shape, xt[:30],
                                                              yt[:30], 6, readout="integrator")
    card = json.loads((tmp_path / "h.model_card.json").read_text())
    assert card["config"]["readout"] == "integrator" and card["nir"]["readout"] == "affine"
    # lava-thesis evaluate / export read the readout from the checkpoint
    from lava_thesis.cli_common import load_torch_model

    net, predict = load_torch_model(tmp_path / "h_hybrid.pt")
    assert net.readout == "integrator"
    assert np.mean(predict(xt[:30]) == yt[:30]) == m["deployed_accuracy_hybrid"]


def _hybrid_checkpoint(path):
    """A small hard-reset converted network saved as ``train hybrid`` saves it."""
    from lava_thesis.diet.ann import build_ann

    torch.manual_seed(2)
    spec = ["c4k3s2", "f", "d10"]
    snn = HybridSNN(build_ann(spec, (1, 8, 8)), [0.7, 1.2], reset="hard")
    torch.save({"spec": spec, "input_shape": [1, 8, 8], "thresholds": [0.7, 1.2],
                "reset": "hard", "num_steps": 12, "state_dict": snn.state_dict()}, path)
    return snn, spec


def test_export_cli_writes_the_hybrid_twin(tmp_path):
    """``lava-thesis export X_hybrid.pt`` writes the deployable twin: the same .net as the
    experiment's export, and a NIR graph whose leak-free layers are client CubaLIFs."""
    import h5py
    import nir
    from typer.testing import CliRunner

    from lava_thesis.cli import app
    from lava_thesis.hybrid.deploy import lava_twin

    snn, spec = _hybrid_checkpoint(tmp_path / "m_hybrid.pt")
    reference = lava_twin(snn, spec, (1, 8, 8)).export_hdf5(tmp_path / "ref.net")
    for out in ("m.net", "m.nir"):
        result = CliRunner().invoke(app, ["export", str(tmp_path / "m_hybrid.pt"), "--out",
                                          str(tmp_path / out)])
        assert result.exit_code == 0, result.output

    def datasets(path):
        found = {}
        with h5py.File(path) as f:
            f.visititems(lambda n, o: found.__setitem__(n, o[()])
                         if isinstance(o, h5py.Dataset) else None)
        return found

    ours, ref = datasets(tmp_path / "m.net"), datasets(reference)
    assert sorted(ours) == sorted(ref)
    assert all(np.array_equal(ours[k], ref[k]) for k in ours)
    kinds = {type(n).__name__ for n in nir.read(tmp_path / "m.nir").nodes.values()}
    assert "CubaLIF" in kinds and "IF" not in kinds


@pytest.mark.parametrize(("change", "match"), [
    ({"thresholds": [0.7]}, "one per weight layer"),
    ({"thresholds": [0.7, -1.0]}, "thresholds"),
    ({"reset": "soft-ish"}, "reset"),
    ({"input_shape": [1, 8]}, "input_shape"),
    ({"spec": ["c4k3s2", "d10"]}, "does not parse"),
    ({"num_steps": 0}, "num_steps"),
    ({"readout": "voltage"}, "readout"),
])
def test_bad_hybrid_checkpoints_name_the_file(tmp_path, change, match):
    from lava_thesis.errors import ModelFileError
    from lava_thesis.hybrid.model_io import load_hybrid

    _hybrid_checkpoint(tmp_path / "m_hybrid.pt")
    ckpt = torch.load(tmp_path / "m_hybrid.pt")
    torch.save({**ckpt, **change}, tmp_path / "bad_hybrid.pt")
    with pytest.raises(ModelFileError, match=match) as info:
        load_hybrid(tmp_path / "bad_hybrid.pt")
    assert "bad_hybrid.pt" in str(info.value)
