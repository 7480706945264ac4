"""STDP weight dependences (lava_thesis.stdp.rules): the engine's rules and their on-chip form,
lava's LearningDense with a Loihi learning rule, against our functional core."""

import numpy as np
import pytest

from lava_thesis.lava_run import run_lava
from lava_thesis.stdp import STDPParams, core
from lava_thesis.stdp.rules import (
    factor_constant,
    loihi_dw,
    loihi_params,
    loihi_stdp_dense,
    rule_params,
    scale_constant,
)

STEPS, N_PRE, N_POST = 60, 8, 5


def _spikes(seed: int, shape, p: float) -> np.ndarray:
    return (np.random.default_rng(seed).random(shape) < p).astype(float)


def _core_run(w0, pre, post, p: STDPParams):
    """The engine's functional core, step by step as Lava orders it: send last step's
    current, accumulate this step's input, update the trace, learn on the post spikes."""
    w, x, mask = w0.copy(), np.zeros(w0.shape[1]), np.ones_like(w0)
    a, buffer = np.zeros((w0.shape[0], pre.shape[1])), np.zeros(w0.shape[0])
    for t in range(pre.shape[1]):
        a[:, t] = buffer
        s = pre[:, t].astype(bool)
        buffer = w[:, s].sum(1)
        core.decay_trace(x, p.trace_decay, s)
        core.power_law_update(w, np.flatnonzero(post[:, t]), x, mask, p.eta, p.x_tar,
                              p.w_max, p.mu)
    return a, w


def _lava_run(w0, pre, post, p: STDPParams, rule: str):
    def build():
        from lava.proc.io.sink import RingBuffer as Sink
        from lava.proc.io.source import RingBuffer as Source

        synapse = loihi_stdp_dense(w0, p, rule)
        source, bap = Source(data=pre), Source(data=post)
        sink = Sink(shape=(w0.shape[0],), buffer=pre.shape[1])
        source.s_out.connect(synapse.s_in)
        bap.s_out.connect(synapse.s_in_bap)
        synapse.a_out.connect(sink.a_in)
        return source, lambda: (sink.data.get(), synapse.weights.get())

    return run_lava(build, pre.shape[1], tag="floating_pt", timeout_s=120)


@pytest.mark.parametrize("rule", ["soft-bound", "hard-bound"])
def test_loihi_rule_in_lava_equals_the_engine_core(rule):
    """lava's LearningDense with the rule's Loihi2FLearningRule (floating_pt) and our core
    with ``mu`` of the rule and the same rounded constants: the same currents every step and
    the same weights (measured: identical to the last bit)."""
    p = loihi_params(rule_params(STDPParams(n_input=N_PRE, n_exc=N_POST), rule))
    assert (p.eta, p.x_tar, p.w_max) == (2.0**-7, 205 * 2.0**-9, 1.0)
    pre, post = _spikes(0, (N_PRE, STEPS), 0.1), _spikes(1, (N_POST, STEPS), 0.15)
    w0 = np.random.default_rng(2).uniform(0.05, 0.4, (N_POST, N_PRE))
    a_core, w_core = _core_run(w0, pre, post, p)
    a_lava, w_lava = _lava_run(w0, pre, post, p, rule)
    assert np.abs(w_core - w0).max() > 0.01 and w_core.max() < p.w_max  # learned, in range
    np.testing.assert_allclose(a_lava, a_core, atol=1e-12)
    np.testing.assert_allclose(w_lava, w_core, atol=1e-12)


def test_rules_differ_in_their_weight_dependence():
    """One post spike with trace x = 1 on weights 0.1 and 0.9: the power law and the soft
    bound step less near w_max, the hard bound the same everywhere."""
    base = STDPParams(n_input=2, n_exc=1, eta=0.1, x_tar=0.4)
    steps = {}
    for rule in ("power-law", "soft-bound", "hard-bound"):
        p = rule_params(base, rule)
        w = np.array([[0.1, 0.9]])
        core.power_law_update(w, np.array([0]), np.ones(2), np.ones((1, 2)), p.eta, p.x_tar,
                              p.w_max, p.mu)
        steps[rule] = w[0] - [0.1, 0.9]
    np.testing.assert_allclose(steps["hard-bound"], [0.06, 0.06])
    np.testing.assert_allclose(steps["soft-bound"], [0.06 * 0.9, 0.06 * 0.1])
    np.testing.assert_allclose(steps["power-law"], [0.06 * 0.9**0.2, 0.06 * 0.1**0.2])
    with pytest.raises(ValueError, match="rule must be one of"):
        rule_params(base, "oja")


def test_loihi_constants_and_rule_strings():
    assert scale_constant(0.01) == (1, -7)  # the engine's smallest scaling constant
    assert scale_constant(-3.0) == (-3, 0)
    assert factor_constant(0.4) == (205, -9) and factor_constant(255.0) == (255, 0)
    with pytest.raises(ValueError, match="outside"):
        scale_constant(1e-4)
    assert loihi_dw("hard-bound", eta=0.01, x_tar=0.4, w_max=1.0) == \
        "1*2^-7 * y0 * (x1 - 205*2^-9)"
    with pytest.raises(ValueError, match="no Loihi learning-rule form"):
        loihi_dw("power-law", eta=0.01, x_tar=0.4, w_max=1.0)
    with pytest.raises(ValueError, match="non-negative"):
        loihi_stdp_dense(-np.ones((2, 3)), STDPParams(n_input=3, n_exc=2))


def test_the_experiment_trains_with_the_chosen_rule():
    from lava_thesis.experiments.stdp import STDPConfig

    assert STDPConfig().params(784).mu == 0.2
    assert STDPConfig(rule="soft-bound").params(784).mu == 1.0
    assert STDPConfig(rule="hard-bound").params(784).mu == 0.0
    assert STDPConfig(rule="hard-bound").params(784).exc_dv == 0.05  # the tuned overrides stay


@pytest.mark.parametrize(("rule", "eta", "rate"), [("soft-bound", 2.0**-5, 0.2),
                                                   ("hard-bound", 2.0**-7, 0.12)])
def test_diehl_cook_network_learning_on_chip_equals_the_engine(rule, eta, rate):
    """The whole network in Lava with lava's LearningDense and the Loihi rule as its plastic
    synapses (no normalisation: none exists on chip), against the numba engine with the same
    rule and constants, learning over three presentations: the same spikes, weights, theta.
    (The hard bound runs at a lower rate, so that no weight reaches w_max, where the engine
    clips and lava's floating-point model does not.)"""
    import dataclasses

    from lava_thesis.stdp import STDPNetwork
    from lava_thesis.stdp.lava_net import lava_run_raster

    p = STDPParams(n_input=24, n_exc=6, present_steps=60, rest_steps=20, exc_vth=4.0,
                   exc_dv=0.05, theta_plus=0.3, w_inh_exc=8.0, norm_per_input=0.0)
    p = loihi_params(rule_params(dataclasses.replace(p, eta=eta), rule))
    rng = np.random.default_rng(3)
    raster = rng.random((p.n_input, 3 * p.sample_steps)) < rate
    for k in range(3):
        raster[:, k * p.sample_steps + p.present_steps:(k + 1) * p.sample_steps] = False
    engine = STDPNetwork(p, seed=7)
    w0 = engine.weights
    expected = engine.run_raster(raster, learn=True)
    lava = lava_run_raster(p, raster, weights=w0, on_chip_rule=rule, timeout_s=180)
    assert expected.sum() > 20 and not np.allclose(engine.weights, w0)
    assert engine.weights.max() < p.w_max  # the hard bound's clip never acted
    np.testing.assert_array_equal(lava.spikes, expected)
    np.testing.assert_allclose(lava.weights, engine.weights, atol=1e-12)
    np.testing.assert_allclose(lava.theta, engine.theta, atol=1e-12)


def test_on_chip_learning_refuses_what_the_chip_cannot_do():
    from lava_thesis.processes.diehl_cook.process import DiehlCookNetwork

    p = STDPParams(n_input=4, n_exc=2)
    with pytest.raises(ValueError, match="norm_per_input = 0"):
        DiehlCookNetwork(params=p, on_chip_rule="soft-bound")
    with pytest.raises(ValueError, match="on_chip_rule must be one of"):
        DiehlCookNetwork(params=p, on_chip_rule="power-law")
