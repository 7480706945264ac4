"""Parity of the torch-native CUBA neuron (lava_thesis.slayer_ext.cuba) with SLAYER's.

Forward: spikes must be identical and voltages and currents bit-identical (compared as raw
bits, so 0.0 and -0.0 differ). Backward: gradients of a loss w.r.t. the input, the weights and
the decays must agree within ``GRAD_TOL`` (the kernel replays SLAYER's backward operation by
operation, so on the CPU they are in fact identical).
"""

from __future__ import annotations

import copy
import warnings

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import lava_thesis  # noqa: F401
from lava_thesis.slayer_ext.cuba import block_forward, cuba_lif, neuron_dynamics, neuron_forward

GRAD_TOL = {"rtol": 1e-5, "atol": 1e-6}

SETTINGS = [  # (threshold, current_decay, voltage_decay)
    (1.25, 0.25, 0.03),   # quickstart
    (1.0, 1.0, 0.0),      # DIET: no current memory, no leak
    (0.5, 0.0, 0.5),      # no current decay, strong leak
    (2.0, 0.1, 0.2),
]


def _slayer():
    from lava.lib.dl import slayer

    return slayer


def _neuron(threshold, cd, vd, **kw):
    params = {"threshold": threshold, "current_decay": cd, "voltage_decay": vd,
              "tau_grad": 0.5, "scale_grad": 1.0, **kw}
    return _slayer().neuron.cuba.Neuron(**params)


def _bits_equal(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Bit-for-bit equality of float32 tensors (also tells 0.0 from -0.0)."""
    return a.shape == b.shape and torch.equal(a.view(torch.int32), b.view(torch.int32))


def _assert_grads(a: torch.Tensor | None, b: torch.Tensor | None) -> None:
    assert a is not None and b is not None
    torch.testing.assert_close(b, a, **GRAD_TOL)


def _run_pair(ref, ours, z):
    """Forward + backward of a SLAYER neuron and its copy through our kernel."""
    z1 = z.clone().requires_grad_(True)
    z2 = z.clone().requires_grad_(True)
    _, v1 = ref.dynamics(z1)
    s1 = ref.spike(v1)
    s2, v2 = neuron_forward(ours, z2, return_voltage=True)
    g = torch.Generator().manual_seed(1)
    ws = torch.randn(s1.shape, generator=g)
    wv = torch.randn(s1.shape, generator=g)
    ((s1 * ws).sum() + 0.1 * (v1 * wv).sum()).backward()
    ((s2 * ws).sum() + 0.1 * (v2 * wv).sum()).backward()
    return (s1, v1, z1.grad), (s2, v2, z2.grad)


@pytest.mark.parametrize("threshold,cd,vd", SETTINGS)
@pytest.mark.parametrize("shape", [(4, 6, 16), (3, 2, 5, 4, 9)], ids=["dense", "conv"])
def test_neuron_parity(threshold, cd, vd, shape):
    torch.manual_seed(0)
    ref = _neuron(threshold, cd, vd, requires_grad=True)
    ours = copy.deepcopy(ref)
    z = torch.rand(shape) * 1.5 * threshold - 0.2 * threshold  # graded (direct) input
    (s1, v1, gz1), (s2, v2, gz2) = _run_pair(ref, ours, z)
    assert 0 < s1.mean() < 1, "the test input must make some, not all, neurons spike"
    assert torch.equal(s1, s2)
    assert _bits_equal(v1, v2)
    _assert_grads(gz1, gz2)
    _assert_grads(ref.voltage_decay.grad, ours.voltage_decay.grad)
    _assert_grads(ref.current_decay.grad, ours.current_decay.grad)


def test_golden_integrate_and_fire():
    """No current memory, no leak, threshold 1: constant 0.4 fires every third step."""
    z = torch.full((1, 1, 7), 0.4)
    spikes, voltage, _ = cuba_lif(z, torch.tensor([4096.0]), torch.tensor([0.0]),
                                  threshold=1.0 + 0.01 / 4096)
    assert spikes.flatten().tolist() == [0, 0, 1, 0, 0, 1, 0]
    # 0.4 is 1638.4 / 4096, truncated to 1638 per step
    assert (voltage.flatten() * 4096).tolist() == [1638, 3276, 4914, 1638, 3276, 4914, 1638]


def test_reset_at_float32_rounded_threshold():
    """SLAYER compares its integer voltage with the threshold in float32: at threshold 128 the
    level 128 * 4096 + 0.01 rounds to 2**19, so a voltage of exactly 128 resets."""
    ref = _neuron(128.0, 1.0, 0.0)
    ours = copy.deepcopy(ref)
    z = torch.full((1, 2, 6), 128.0)
    z[0, 1] = torch.tensor([100.0, 28.0, 50.0, 78.0, 128.0, 1.0])
    (s1, v1, _), (s2, v2, _) = _run_pair(ref, ours, z)
    assert v1[0, 0].tolist() == [128.0] * 6, "SLAYER resets at exactly the rounded level"
    assert torch.equal(s1, s2) and _bits_equal(v1, v2)


@pytest.mark.parametrize("cd,vd", [(1.0, 0.0), (0.5, 0.25)])
def test_tiny_negative_input_gives_positive_zero(cd, vd):
    """Inputs above -1/4096 truncate to the integer 0: SLAYER reports +0.0, never -0.0."""
    ref = _neuron(1.0, cd, vd)
    ours = copy.deepcopy(ref)
    z = -torch.rand(2, 3, 8) / 5000
    if vd > 0:
        z[..., 0] = -1 / 4096  # a state of -1 that decays to (-)0 in the integer arithmetic
    (_, v1, _), (_, v2, _) = _run_pair(ref, ours, z)
    assert (v1 == 0).sum() >= 6 and not torch.signbit(v1[v1 == 0]).any()
    assert _bits_equal(v1, v2)


@settings(max_examples=25, deadline=None)
@given(threshold=st.floats(0.1, 3.0), cd=st.floats(0.0, 1.0), vd=st.floats(0.0, 1.0),
       gain=st.floats(0.5, 4.0), seed=st.integers(0, 2**16))
def test_neuron_parity_property(threshold, cd, vd, gain, seed):
    torch.manual_seed(seed)
    ref = _neuron(threshold, cd, vd, requires_grad=True)
    ours = copy.deepcopy(ref)
    z = (torch.rand(2, 3, 2, 8) - 0.3) * gain * threshold
    (s1, v1, gz1), (s2, v2, gz2) = _run_pair(ref, ours, z)
    assert torch.equal(s1, s2) and _bits_equal(v1, v2)
    _assert_grads(gz1, gz2)
    _assert_grads(ref.voltage_decay.grad, ours.voltage_decay.grad)


def _blocks(kind, params, shared_param=True):
    slayer = _slayer()
    params = {**params, "shared_param": shared_param}
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=FutureWarning)
        if kind == "dense":
            block = slayer.block.cuba.Dense(params, 20, 12, weight_scale=2)
        else:
            block = slayer.block.cuba.Conv(params, 2, 5, 3, padding=1, stride=2, weight_scale=2)
    return block, copy.deepcopy(block)


def _block_pair(ref, ours, x, seed=None):
    x1, x2 = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
    if seed is not None:
        torch.manual_seed(seed)
    y1 = ref(x1)
    if seed is not None:
        torch.manual_seed(seed)
    y2 = block_forward(ours, x2)
    w = torch.randn(y1.shape, generator=torch.Generator().manual_seed(2))
    (y1 * w).sum().backward()
    (y2 * w).sum().backward()
    return (y1, x1.grad), (y2, x2.grad)


@pytest.mark.parametrize("binary", [False, True], ids=["graded", "binary"])
@pytest.mark.parametrize("kind", ["dense", "conv"])
def test_block_parity(kind, binary):
    torch.manual_seed(3)
    params = {"threshold": 0.5, "current_decay": 0.25, "voltage_decay": 0.03,
              "tau_grad": 0.5, "scale_grad": 1.0, "requires_grad": True}
    ref, ours = _blocks(kind, params)
    shape = (4, 20, 10) if kind == "dense" else (3, 2, 8, 8, 10)
    x = (torch.rand(shape) < 0.4).float() if binary else torch.rand(shape) * 2
    (y1, gx1), (y2, gx2) = _block_pair(ref, ours, x)
    assert 0 < y1.mean() < 1
    assert torch.equal(y1, y2)
    assert torch.equal(y1[..., 0], torch.zeros_like(y1[..., 0])), "delay_shift: step 0 silent"
    _assert_grads(gx1, gx2)
    for p1, p2 in zip(ref.parameters(), ours.parameters(), strict=True):
        if p1.requires_grad:
            _assert_grads(p1.grad, p2.grad)


def test_block_parity_per_channel_decays():
    """shared_param=False: per-channel decays drawn on the first call (as SLAYER draws them)."""
    params = {"threshold": 0.5, "current_decay": (0.1, 0.4), "voltage_decay": (0.0, 0.3),
              "requires_grad": True}
    ref, ours = _blocks("conv", params, shared_param=False)
    x = torch.rand(2, 2, 8, 8, 8) * 2
    (y1, gx1), (y2, gx2) = _block_pair(ref, ours, x, seed=7)
    assert ref.neuron.voltage_decay.numel() == 5
    assert torch.equal(ref.neuron.voltage_decay, ours.neuron.voltage_decay)
    assert torch.equal(y1, y2)
    _assert_grads(gx1, gx2)
    _assert_grads(ref.neuron.voltage_decay.grad, ours.neuron.voltage_decay.grad)
    _assert_grads(ref.neuron.current_decay.grad, ours.neuron.current_decay.grad)


def test_persistent_state_across_calls():
    params = {"threshold": 0.5, "current_decay": 0.1, "voltage_decay": 0.05,
              "persistent_state": True}
    ref, ours = _blocks("dense", params)
    torch.manual_seed(4)
    with torch.no_grad():
        for _ in range(3):
            x = torch.rand(3, 20, 4)
            assert torch.equal(ref(x), block_forward(ours, x))
            assert torch.equal(ref.neuron.voltage_state, ours.neuron.voltage_state)
            assert torch.equal(ref.neuron.current_state, ours.neuron.current_state)


def test_dynamics_parity_persistent():
    """neuron_dynamics == neuron.dynamics: current, voltage, kept state and gradients."""
    torch.manual_seed(8)
    ref = _neuron(0.8, 0.2, 0.1, persistent_state=True, requires_grad=True)
    ours = copy.deepcopy(ref)
    for _ in range(2):
        z = torch.rand(3, 4, 6)
        z1, z2 = z.clone().requires_grad_(True), z.clone().requires_grad_(True)
        c1, v1 = ref.dynamics(z1)
        c2, v2 = neuron_dynamics(ours, z2)
        assert _bits_equal(c1, c2) and _bits_equal(v1, v2)
        assert torch.equal(ref.voltage_state, ours.voltage_state)
        (v1 * z).sum().backward()
        (v2 * z).sum().backward()
        _assert_grads(z1.grad, z2.grad)
    _assert_grads(ref.voltage_decay.grad, ours.voltage_decay.grad)


@pytest.mark.parametrize("readout", ["spikes", "integrator"])
def test_diet_network_parity(readout):
    """A whole DIET-SNN (learnable thresholds, direct input hook) on SLAYER's neuron and on
    ours (``neuron_engine``): same output, parameter gradients within GRAD_TOL."""
    from lava_thesis.diet import DietSNN

    torch.manual_seed(5)
    ref = DietSNN(["c4k3s2", "f", "d16", "d10"], (1, 8, 8), thresholds=[0.3, 0.5, 0.5],
                  readout=readout, neuron_engine="slayer")
    ours = copy.deepcopy(ref)
    ours.neuron_engine = "torch"
    x = torch.rand(4, 1, 8, 8, 8)
    y1, y2 = ref(x), ours(x)
    assert y1.abs().sum() > 0
    assert torch.equal(y1, y2)
    w = torch.randn(y1.shape)
    (y1 * w).sum().backward()
    (y2 * w).sum().backward()
    pairs = zip(ref.parameters(), ours.parameters(), strict=True)
    grads = [(p1.grad, p2.grad) for p1, p2 in pairs if p1.requires_grad]
    assert any(float(g.abs().sum()) > 0 for g, _ in grads)
    for g1, g2 in grads:
        _assert_grads(g1, g2)


def test_half_precision_input_runs_in_float32():
    """Under autocast a synapse hands the neuron float16/bfloat16 currents: the neuron widens
    them to float32 (same result as float32 input) and returns the gradient in their dtype."""
    torch.manual_seed(7)
    z = (torch.rand(2, 3, 12) * 1.5).to(torch.bfloat16)
    ref = _neuron(1.0, 0.25, 0.1, requires_grad=True)
    ours = copy.deepcopy(ref)
    zh = z.clone().requires_grad_(True)
    spikes = neuron_forward(ours, zh)
    assert spikes.dtype == torch.float32
    assert torch.equal(spikes, ref(z.float()))  # SLAYER on the float32 values
    spikes.sum().backward()
    assert zh.grad is not None and zh.grad.dtype == torch.bfloat16


def test_rejects_unsupported():
    with pytest.raises(ValueError, match="graded"):
        neuron_forward(_neuron(1.0, 0.1, 0.1, graded_spike=True), torch.rand(2, 3, 4))
    with pytest.raises(ValueError, match="at least 3 dims"):
        neuron_forward(_neuron(1.0, 0.1, 0.1), torch.rand(2, 4))
    with pytest.raises(TypeError, match="cuba.Neuron"):
        neuron_forward(torch.nn.Linear(2, 2), torch.rand(2, 3, 4))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_matches_cpu():
    torch.manual_seed(6)
    z = torch.rand(8, 16, 4, 4, 12) * 2
    cd, vd = torch.tensor([1024.0]), torch.tensor([123.0])
    th = 0.75 + 0.01 / 4096
    cpu = cuba_lif(z, cd, vd, th)
    gpu = cuba_lif(z.cuda(), cd.cuda(), vd.cuda(), th)
    for a, b in zip(cpu, gpu, strict=True):
        assert torch.equal(a, b.cpu())
