"""Hybrid conversion + STDB: surrogate gradients, last-spike bookkeeping, reset, threshold
balancing, rate approximation of the ANN, and the netx twin's parity with Lava."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

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


def test_experiment_runs_checkpoints_and_resumes(tmp_path):
    from lava_thesis.data.shipped_mnist import load_shipped_mnist
    from lava_thesis.experiments import hybrid
    from lava_thesis.hybrid.stdb import STDBConfig

    (x, y), (xt, yt) = load_shipped_mnist("train"), load_shipped_mnist("test")
    cfg = hybrid.HybridConfig(spec=("c8k3s2", "f", "d10"), ann_epochs=1, num_steps=8,
                              balance_steps=16, balance_images=64, stdb=STDBConfig(epochs=1),
                              sweep_steps=(4, 8, 16), eval_samples=40, lava_samples=4,
                              energy_samples=8)
    logs: list[str] = []
    m = hybrid.run((x[:300], y[:300]), (xt[:40], yt[:40]), tmp_path, dataset="test",
                   config=cfg, experiment="h", log=logs.append)
    assert m["agreement_hybrid"] == 1.0 and m["agreement_converted"] == 1.0
    assert {"h.json", "h_hybrid.net", "h_converted.net", "h_ann.pt", "h_stdb.pt",
            "h.model_card.json", "h_accuracy_vs_steps.png"} <= {p.name for p in
                                                                 tmp_path.iterdir()}
    logs.clear()
    again = hybrid.run((x[:300], y[:300]), (xt[:40], yt[:40]), tmp_path, dataset="test",
                       config=cfg, experiment="h", resume=True, log=logs.append)
    assert any("resumed the ANN" in line for line in logs)
    assert any("resumed STDB" in line for line in logs)
    assert again["hybrid_accuracy"] == m["hybrid_accuracy"]
