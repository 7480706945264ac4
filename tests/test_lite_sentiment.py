"""LIF step against closed forms, trainable threshold/leak, padding, parameter counts, energy."""

from __future__ import annotations

import math

import pytest
import torch

from lava_thesis.energy import AC_PJ, MAC_PJ
from lava_thesis.lite.sentiment import (
    LIF,
    LiteSNN,
    RecurrentClassifier,
    count_parameters,
    integrator_step,
    lif_step,
    recurrent_energy,
    snn_energy,
)

V, E, H = 50, 100, 256


def _run(current: float, leak: float, steps: int, reset: str = "soft", theta: float = 1.0):
    u, us, ss = torch.zeros(1, dtype=torch.float64), [], []
    for _ in range(steps):
        u, s = lif_step(u, torch.full((1,), current, dtype=torch.float64), theta, leak,
                        reset=reset)
        us.append(float(u))
        ss.append(float(s))
    return us, ss


def test_below_threshold_never_spikes_and_reaches_the_fixed_point():
    current, leak = 0.04, 0.95  # fixed point I / (1 - leak) = 0.8 < theta = 1
    us, ss = _run(current, leak, 500)
    assert sum(ss) == 0
    for t in (0, 9, 99):
        assert us[t] == pytest.approx(current * (1 - leak ** (t + 1)) / (1 - leak), rel=1e-12)
    assert us[-1] == pytest.approx(current / (1 - leak), abs=1e-9)


@pytest.mark.parametrize(("current", "leak"), [(0.3, 0.9), (0.15, 0.95), (0.5, 0.6)])
def test_above_threshold_hard_reset_fires_with_the_analytic_period(current, leak):
    # after a reset u_n = I (1 - leak^n) / (1 - leak); the first n with u_n > 1 is the period
    period = math.ceil(math.log(1 - (1 - leak) / current) / math.log(leak))
    _, ss = _run(current, leak, 10 * period, reset="hard")
    assert [t for t, s in enumerate(ss) if s] == [k * period - 1 for k in range(1, 11)]


def test_soft_reset_integrate_and_fire_conserves_charge():
    us, ss = _run(0.3, 1.0, 100, reset="soft", theta=1.0)
    count = 0.0
    for t, (u, s) in enumerate(zip(us, ss, strict=True)):
        count += s
        assert u + count == pytest.approx(0.3 * (t + 1), abs=1e-9)  # u + theta * spikes = sum I
        assert 0.0 <= u <= 1.0
    assert count == 30 or count == 29  # floor(T I / theta), minus one on an exact tie
    us, ss = _run(0.25, 1.0, 12, reset="soft")  # H(0) = 0: u must exceed theta
    assert [t for t, s in enumerate(ss) if s] == [4, 8]


def test_leak_is_clamped_to_the_unit_interval():
    assert _run(0.3, 1.7, 6) == _run(0.3, 1.0, 6)
    assert _run(0.3, -0.5, 6) == _run(0.3, 0.0, 6)
    assert float(integrator_step(torch.ones(1), torch.ones(1), 2.0)) == 2.0
    layer = LIF(leak=1.5)
    x = torch.full((1, 8, 1), 0.3)
    with torch.no_grad():
        layer.leak.fill_(1.0)
        ref = layer(x)
        layer.leak.fill_(1.5)
        assert torch.equal(layer(x), ref)
    with pytest.raises(ValueError, match="reset"):
        lif_step(torch.zeros(1), torch.ones(1), 1.0, 0.9, reset="none")


def test_threshold_and_leak_learn():
    torch.manual_seed(0)
    model = LiteSNN(V, E, H, steps_per_token=3)
    ids, lengths = torch.randint(2, V, (8, 6)), torch.tensor([6, 5, 4, 6, 3, 2, 6, 1])
    loss = torch.nn.functional.binary_cross_entropy_with_logits(
        model(ids, lengths), (torch.arange(8) % 2).float())
    loss.backward()
    for p in (model.lif1.threshold, model.lif1.leak, model.lif2.threshold, model.lif2.leak,
              model.out.leak):
        assert p.grad is not None and torch.isfinite(p.grad) and p.grad != 0


@pytest.mark.parametrize("kind", ["snn", "rnn", "lstm", "gru"])
def test_padding_does_not_change_the_output(kind):
    torch.manual_seed(1)
    model = (LiteSNN(V, E, H, 4) if kind == "snn" else RecurrentClassifier(V, kind)).double()
    a, b = torch.randint(2, V, (3,)), torch.randint(2, V, (7,))
    batch = torch.randint(0, V, (2, 9))  # padded positions hold arbitrary ids, not only 0
    batch[0, :3], batch[1, :7] = a, b
    with torch.no_grad():
        both = model(batch, torch.tensor([3, 7]))
        alone = [model(a[None], torch.tensor([3])), model(b[None], torch.tensor([7]))]
    torch.testing.assert_close(both, torch.cat(alone), rtol=1e-10, atol=1e-10)


def test_parameter_counts_match_the_hand_formulas():
    emb, head = V * E, H + 1
    snn = LiteSNN(V, E, H)
    assert count_parameters(snn) == emb + (E * H + H) + 2 * (H * H + H) + head + 2 * 2 + 1
    assert count_parameters(snn, embedding=False) == 157_440 + head + 5  # the paper: ~157k
    for kind, gates in (("rnn", 1), ("lstm", 4), ("gru", 3)):
        model = RecurrentClassifier(V, kind, E, H)
        layer = gates * (E * H + H * H + 2 * H)  # torch keeps two bias vectors per gate
        assert count_parameters(model) == emb + layer + head
        assert count_parameters(model, embedding=False) == layer + head
    assert 4 * (E * H + H * H + 2 * H) == 366_592  # the paper: ~367k for one LSTM(100->256)
    with pytest.raises(ValueError, match="kind"):
        RecurrentClassifier(V, "transformer")


def test_snn_energy_counts_valid_steps_only():
    model = LiteSNN(V, E, H, steps_per_token=5)
    with torch.no_grad():
        for fc in (model.fc1, model.fc2):
            fc.weight.zero_()
            fc.bias.zero_()
        model.fc1.bias.fill_(1.5)  # soft reset, leak 0.95: u stays >= 1, a spike every step
    ids, lengths = torch.randint(2, V, (2, 4)), torch.tensor([2, 4])
    cost = snn_energy(model, ids, lengths, batch_size=1)
    steps = 5 * (2 + 4) / 2  # mean valid steps per inference
    assert cost["time_steps"] == steps
    assert cost["spike_rate_lif1"] == 1.0 and cost["spike_rate_lif2"] == 0.0
    assert cost["synops"] == H * steps * H  # every LIF1 neuron, every step, fan-out H
    assert cost["energy_pj"] == pytest.approx(MAC_PJ * (E * H * steps + H)
                                              + AC_PJ * H * H * steps)
    assert cost["energy_pj_fc1_per_token"] == pytest.approx(MAC_PJ * (E * H * steps / 5 + H)
                                                            + AC_PJ * H * H * steps)


def test_recurrent_energy_is_macs_per_token():
    lengths = torch.tensor([3, 5])
    for kind, gates in (("rnn", 1), ("lstm", 4), ("gru", 3)):
        cost = recurrent_energy(RecurrentClassifier(V, kind, E, H), lengths)
        assert cost["energy_pj"] == pytest.approx(MAC_PJ * (gates * (E * H + H * H) * 4 + H))
