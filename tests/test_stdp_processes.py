"""The method-1 Lava Processes: impulse responses, STDP in Lava, and parity with the engine."""

from __future__ import annotations

import numpy as np
import pytest

from lava_thesis.lava_run import run_lava
from lava_thesis.stdp import STDPNetwork, STDPParams
from lava_thesis.stdp.lava_net import lava_run_raster


def _run(build, steps):
    return run_lava(build, steps, tag="floating_pt", timeout_s=120, select_sub_proc_model=True)


def test_adaptive_lif_impulse_response():
    from lava.proc.io.sink import RingBuffer as Sink
    from lava.proc.io.source import RingBuffer as Source
    from lava_thesis.processes.adaptive_lif.process import AdaptiveLIF

    steps, dv, plus, decay = 12, 0.1, 0.5, 0.01
    data = np.zeros((2, steps))
    data[0, [0, 2, 5]] = 20.0  # steps 1, 3 (refractory: ignored), 6
    data[1, 0] = 5.0           # below threshold: v decays geometrically

    def build():
        src = Source(data=data)
        neuron = AdaptiveLIF(shape=(2,), du=1.0, dv=dv, vth=10.0, refractory_period=3,
                             theta_plus=plus, theta_decay=decay)
        snk = Sink(shape=(2,), buffer=steps)
        src.s_out.connect(neuron.a_in)
        neuron.s_out.connect(snk.a_in)
        return src, lambda: (snk.data.get(), neuron.v.get(), neuron.theta.get())

    spikes, v, theta = _run(build, steps)
    assert np.flatnonzero(spikes[0]).tolist() == [0, 5]
    assert spikes[1].sum() == 0
    np.testing.assert_allclose(v[1], 5.0 * (1 - dv) ** (steps - 1))
    np.testing.assert_allclose(theta, [plus * ((1 - decay) ** 11 + (1 - decay) ** 6), 0.0])


def test_stdp_synapse_causal_acausal_masked_in_lava():
    from lava.proc.io.sink import RingBuffer as Sink
    from lava.proc.io.source import RingBuffer as Source
    from lava_thesis.processes.stdp_synapse.process import PowerLawSTDPDense

    steps, eta, x_tar, mu, tau = 12, 0.1, 0.3, 0.5, 4.0
    w0 = np.array([[0.5, 0.5, 0.5], [0.4, 0.4, 0.4]])
    mask = np.array([[1.0, 1.0, 0.0], [1.0, 1.0, 1.0]])
    pre = np.zeros((3, steps))
    post = np.zeros((2, steps))
    pre[0, 1] = 1   # step 2: input 0 fires ...
    post[0, 4] = 1  # step 5: ... then neuron 0 (causal: potentiate w00)
    post[1, 6] = 1  # step 7: neuron 1 fires ...
    pre[1, 8] = 1   # step 9: ... before input 1 (acausal: depress w11)
    pre[2, 1] = 1   # input 2 active, but its synapse onto neuron 0 is pruned

    def build():
        src, bap = Source(data=pre), Source(data=post)
        syn = PowerLawSTDPDense(weights=w0, mask=mask, eta=eta, x_tar=x_tar, mu=mu,
                                tau_pre=tau)
        snk = Sink(shape=(2,), buffer=steps)
        src.s_out.connect(syn.s_in)
        bap.s_out.connect(syn.s_in_bap)
        syn.a_out.connect(snk.a_in)
        return src, lambda: (snk.data.get(), syn.weights.get())

    current, w = _run(build, steps)
    np.testing.assert_allclose(current[:, 2], (w0 * mask)[:, 0] + (w0 * mask)[:, 2])
    assert np.count_nonzero(current[:, :2]) == 0
    x0 = np.exp(-3 / tau)  # input 0's trace at step 5
    assert x0 > x_tar
    np.testing.assert_allclose(w[0, 0], 0.5 + eta * (x0 - x_tar) * 0.5 ** mu)
    assert w[0, 0] > 0.5                              # causal pair potentiates
    np.testing.assert_allclose(w[1, 1], 0.4 - eta * x_tar * 0.6 ** mu)
    assert w[1, 1] < 0.4                              # acausal pair depresses
    assert w[0, 2] == 0.0                             # masked synapse never changes


def test_poisson_input_rates_and_rest():
    from lava.proc.io.sink import RingBuffer as Sink
    from lava_thesis.processes.poisson.process import PoissonInput

    steps = 400

    def build():
        src = PoissonInput(rates=np.array([0.0, 0.25, 1.0]), active_steps=30,
                           sample_steps=50, seed=3)
        snk = Sink(shape=(3,), buffer=steps)
        src.s_out.connect(snk.a_in)
        return src, lambda: snk.data.get()

    spikes = _run(build, steps)
    active = (np.arange(steps) % 50) < 30
    assert spikes[:, ~active].sum() == 0
    assert spikes[0].sum() == 0 and spikes[2].sum() == active.sum()
    assert abs(spikes[1].sum() / active.sum() - 0.25) < 0.06


def test_poisson_input_rejects_bad_rates():
    from lava_thesis.processes.poisson.process import PoissonInput

    with pytest.raises(ValueError, match="rates"):
        PoissonInput(rates=np.array([0.5, 1.5]))


PARITY = STDPParams(n_input=24, n_exc=6, present_steps=60, rest_steps=20, exc_vth=4.0,
                    exc_dv=0.05, theta_plus=0.3, w_inh_exc=8.0, eta=0.05)


def _raster(presentations: int, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    raster = rng.random((PARITY.n_input, presentations * PARITY.sample_steps)) < 0.25
    for k in range(presentations):  # the rest window of each presentation is silent
        start = k * PARITY.sample_steps + PARITY.present_steps
        raster[:, start:start + PARITY.rest_steps] = False
    return raster


@pytest.mark.parametrize("prune_by", ["weight", "correlation"])
def test_diehl_cook_lava_matches_engine_while_learning(prune_by):
    raster = _raster(4)
    engine = STDPNetwork(PARITY, seed=5, prune_every=2, prune_fraction=0.25, levels=8,
                         prune_by=prune_by)
    w0 = engine.weights
    expected = engine.run_raster(raster, learn=True)
    lava = lava_run_raster(PARITY, raster, weights=w0, prune_every=2, prune_fraction=0.25,
                           levels=8, prune_by=prune_by, timeout_s=180)
    assert expected.sum() > 30 and len(np.unique(expected.nonzero()[1])) > 1
    np.testing.assert_array_equal(lava.spikes, expected)
    np.testing.assert_allclose(lava.weights, engine.weights, atol=1e-12)
    np.testing.assert_allclose(lava.theta, engine.theta, atol=1e-12)
    np.testing.assert_array_equal(lava.mask, engine.mask)
    assert not np.allclose(engine.weights, w0)            # it learned
    assert (engine.mask.sum(1) == PARITY.n_input * 3 // 4).all()  # and pruned 25% per row
    assert np.isin(np.round(engine.weights * 7, 9), np.arange(8)).all()  # on 8 levels
    if prune_by == "correlation":
        # at the pruning event (end of presentation 2) the pruned synapses were each row's
        # least correlated ones, and that is not the weakest ones
        first = STDPNetwork(PARITY, seed=5, prune_every=2, prune_fraction=0.25,
                            prune_by="correlation")
        first.run_raster(raster[:, :2 * PARITY.sample_steps], learn=True)
        corr, mask = first.correlation, first.mask
        assert corr.sum() > 0
        for j in range(PARITY.n_exc):
            assert corr[j][mask[j] == 0].max() <= corr[j][mask[j] == 1].min()
        by_weight = STDPNetwork(PARITY, seed=5, prune_every=2, prune_fraction=0.25)
        by_weight.run_raster(raster[:, :2 * PARITY.sample_steps], learn=True)
        assert not np.array_equal(by_weight.mask, mask)


def test_diehl_cook_lava_matches_engine_frozen():
    raster = _raster(2, seed=2)
    engine = STDPNetwork(PARITY, seed=6)
    engine.theta[:] = np.linspace(0, 2, PARITY.n_exc)
    w0, th0 = engine.weights, engine.theta.copy()
    expected = engine.run_raster(raster, learn=False)
    lava = lava_run_raster(PARITY, raster, weights=w0, theta=th0, learning=False,
                           timeout_s=180)
    assert expected.sum() > 10
    np.testing.assert_array_equal(lava.spikes, expected)
    np.testing.assert_array_equal(engine.weights, w0)
    np.testing.assert_array_equal(engine.theta, th0)
