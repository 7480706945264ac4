"""SLAYER -> NIR export: structure, effective weights, the decay mapping, and a NIR simulator.

The simulator below runs a read-back NIR chain by forward Euler with the graph's ``dt``; its
output is compared spike for spike with SLAYER's forward. SLAYER integrates in 12-bit fixed point
(decayed states are rounded toward zero to 1/4096), so a float simulation equals it exactly only
where that rounding never happens: decays of 0, 1/2 or 1 over at most 8 steps with 8-bit weights
(every product stays on the 1/4096 grid). For other decays the simulator's ``fixed_point`` mode
applies the same rounding to the leak term, derived from the NIR parameters alone.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

nir = pytest.importorskip("nir")

from lava_thesis.deploy.nir_export import export_nir, nir_summary, to_nir  # noqa: E402
from lava_thesis.deploy.nir_neurons import integrate_readout  # noqa: E402

HALF = {"threshold": 1.0, "current_decay": 0.5, "voltage_decay": 0.5}
QUICK = {"threshold": 1.25, "current_decay": 0.25, "voltage_decay": 0.03}


def _slayer():
    from lava.lib.dl import slayer

    return slayer


def _dense_net(params: dict, seed: int = 0, scale: float = 3.0, **kw) -> list[torch.nn.Module]:
    slayer = _slayer()
    torch.manual_seed(seed)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*weight_norm", category=FutureWarning)
        blocks = [slayer.block.cuba.Dense(params, 8, 6, weight_norm=True, **kw),
                  slayer.block.cuba.Dense(params, 6, 3, weight_norm=True, **kw)]
    for block in blocks:  # changed after construction: .weight is stale until the next forward
        block.synapse.weight_g.data *= scale
    return blocks


def _conv_net(params: dict, seed: int = 0) -> list[torch.nn.Module]:
    slayer = _slayer()
    torch.manual_seed(seed)
    blocks = [slayer.block.cuba.Conv(params, 2, 4, 3, stride=2, padding=1, weight_scale=3),
              slayer.block.cuba.Flatten(),
              slayer.block.cuba.Dense(params, 64, 3, weight_scale=4)]
    blocks[0].synapse.weight.data += 0.1  # mostly excitatory, so both layers spike
    blocks[2].synapse.weight.data += 0.02
    return blocks


@torch.no_grad()
def _slayer_forward(blocks, x: np.ndarray) -> np.ndarray:
    out = torch.as_tensor(x, dtype=torch.float32)
    for block in blocks:
        out = block(out)
    return out.numpy()


def _spikes(shape: tuple[int, ...], seed: int = 1, p: float = 0.4) -> np.ndarray:
    return (np.random.default_rng(seed).random(shape) < p).astype(np.float32)


# ------------------------------------------------------------------------- NIR reference simulator


def _chain(graph) -> list:
    (name,) = graph.inputs
    following, order = dict(graph.edges), [name]
    while order[-1] in following:
        order.append(following[order[-1]])
    return [graph.nodes[n] for n in order]


def _conv2d(x: np.ndarray, node) -> np.ndarray:
    w, groups = node.weight, int(node.groups)
    (sh, sw), (ph, pw), (dh, dw) = (np.broadcast_to(np.asarray(v), 2).astype(int)
                                    for v in (node.stride, node.padding, node.dilation))
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    co, cig, kh, kw = w.shape
    ho = (xp.shape[2] - dh * (kh - 1) - 1) // sh + 1
    wo = (xp.shape[3] - dw * (kw - 1) - 1) // sw + 1
    out, cog = np.zeros((len(x), co, ho, wo)), co // groups
    for g in range(groups):
        xs, ws = xp[:, g * cig:(g + 1) * cig], w[g * cog:(g + 1) * cog]
        for a in range(kh):
            for b in range(kw):
                patch = xs[:, :, a * dh:a * dh + sh * (ho - 1) + 1:sh,
                           b * dw:b * dw + sw * (wo - 1) + 1:sw]
                out[:, g * cog:(g + 1) * cog] += np.einsum("nchw,oc->nohw", patch, ws[:, :, a, b])
    return out + node.bias[:, None, None]


def simulate(graph, x: np.ndarray, fixed_point: bool = False) -> np.ndarray:
    """Forward-Euler run of a NIR chain on ``x`` ``(N, *shape, T)``; returns ``(N, *out, T)``."""
    dt = float(graph.metadata["dt"])
    grid = (lambda s: np.round(s * 4096) / 4096) if fixed_point else (lambda s: s)

    def leak(s, a):  # the Euler leak term s + dt/tau (-s); fixed point: SLAYER's rounding to zero
        if not fixed_point:
            return s - a * s
        keep = 4096 - np.round(4096 * a)
        return np.fix(np.round(s * 4096) * keep / 4096) / 4096

    def fire(state, v, node):
        z = v > node.v_threshold
        state["v"] = np.where(z, node.v_reset, v)
        return z.astype(float)

    nodes, states = _chain(graph), {}
    outputs = []
    for t in range(x.shape[-1]):
        s = x[..., t].astype(float)
        for k, node in enumerate(nodes):
            st = states.setdefault(k, {"i": 0.0, "v": 0.0, "buf": []})
            if isinstance(node, nir.Affine):
                s = s @ node.weight.T + node.bias
            elif isinstance(node, nir.Conv2d):
                s = _conv2d(s, node)
            elif isinstance(node, nir.Flatten):
                s = s.reshape(len(s), -1)
            elif isinstance(node, nir.Delay):
                st["buf"].append(s)
                steps = int(round(float(node.delay.flat[0]) / dt))
                s = st["buf"].pop(0) if len(st["buf"]) > steps else np.zeros_like(s)
            elif isinstance(node, nir.CubaLIF):
                a_i, a_v = dt / node.tau_syn, dt / node.tau_mem
                st["i"] = grid(leak(st["i"], a_i) + a_i * node.w_in * s)
                v = grid(leak(st["v"], a_v) + a_v * (node.v_leak + node.r * st["i"]))
                s = fire(st, v, node)
            elif isinstance(node, nir.CubaLI):  # a non-spiking readout: its voltage
                a_i, a_v = dt / node.tau_syn, dt / node.tau_mem
                st["i"] = grid(leak(st["i"], a_i) + a_i * node.w_in * s)
                s = st["v"] = grid(leak(st["v"], a_v) + a_v * (node.v_leak + node.r * st["i"]))
            elif isinstance(node, nir.LI):
                a = dt / node.tau
                s = st["i"] = grid(leak(st["i"], a) + a * (node.v_leak + node.r * s))
            elif isinstance(node, nir.I):
                s = st["i"] = grid(st["i"] + dt * node.r * s)
            elif isinstance(node, nir.LIF):
                a = dt / node.tau
                s = fire(st, grid(leak(st["v"], a) + a * (node.v_leak + node.r * s)), node)
            elif isinstance(node, nir.IF):
                s = fire(st, grid(st["v"] + dt * node.r * s), node)
            elif not isinstance(node, (nir.Input, nir.Output)):
                raise TypeError(type(node))
        outputs.append(s)
    return np.stack(outputs, axis=-1)


def _assert_shifted(slayer_out: np.ndarray, nir_out: np.ndarray, steps: int) -> None:
    """SLAYER's output is the NIR output delayed by ``steps`` (one per delay_shift block)."""
    assert not slayer_out[..., :steps].any()
    np.testing.assert_array_equal(slayer_out[..., steps:], nir_out[..., :nir_out.shape[-1] - steps])


# ----------------------------------------------------------------------------------------- tests


def test_dense_export_reads_back_with_effective_weights_and_mapping(tmp_path):
    blocks = _dense_net(QUICK)
    graph = export_nir(blocks, tmp_path / "dense.nir", input_shape=(8,), dt=1e-3)
    back = nir.read(tmp_path / "dense.nir")
    assert [type(n).__name__ for n in _chain(back)] == [
        "Input", "Affine", "CubaLIF", "Affine", "CubaLIF", "Output"]
    assert sorted(back.edges) == sorted(graph.edges) and len(back.edges) == 5
    _slayer_forward(blocks, _spikes((1, 8, 2)))  # recomputes .weight from weight_g / weight_v
    a_i, a_v = round(0.25 * 4096) / 4096, round(0.03 * 4096) / 4096
    for k, block in enumerate(blocks):
        syn, neuron = back.nodes[f"b{k}_synapse"], back.nodes[f"b{k}_neuron"]
        used = block.synapse.pre_hook_fx(block.synapse.weight).detach().numpy()[..., 0, 0, 0]
        np.testing.assert_array_equal(syn.weight, used)
        np.testing.assert_array_equal(syn.weight * 32, np.round(syn.weight * 32))  # 8-bit grid
        assert not syn.bias.any()
        np.testing.assert_allclose(1e-3 / neuron.tau_syn, a_i, rtol=1e-12)
        np.testing.assert_allclose(1e-3 / neuron.tau_mem, a_v, rtol=1e-12)
        np.testing.assert_allclose(neuron.w_in * a_i, 1.0, rtol=1e-12)
        np.testing.assert_allclose(neuron.r * a_v, 1.0, rtol=1e-12)
        np.testing.assert_array_equal(neuron.v_threshold, 1.25)
        assert not neuron.v_leak.any() and not neuron.v_reset.any()
        assert float(neuron.metadata["voltage_decay"].flat[0]) == a_v
        assert bool(neuron.metadata["delay_shift"])
    assert back.metadata["delay_shift_steps"] == 2 and back.metadata["dt"] == 1e-3


@pytest.mark.parametrize("delay_nodes", [False, True])
def test_dense_float_simulation_equals_slayer_spikes(tmp_path, delay_nodes):
    blocks = _dense_net(HALF)
    export_nir(blocks, tmp_path / "d.nir", input_shape=(8,), delay_nodes=delay_nodes)
    graph = nir.read(tmp_path / "d.nir")
    x = _spikes((6, 8, 8))
    slayer_out, nir_out = _slayer_forward(blocks, x), simulate(graph, x)
    assert slayer_out[..., 2:].sum() > 10, "the test needs output activity to mean anything"
    if delay_nodes:
        assert sum(isinstance(n, nir.Delay) for n in graph.nodes.values()) == 2
        np.testing.assert_array_equal(nir_out, slayer_out)
    else:
        _assert_shifted(slayer_out, nir_out, 2)


@pytest.mark.parametrize(("decays", "kinds"), [
    ((0.5, 0.0), ["LI", "IF"]), ((0.0, 0.5), ["I", "LIF"]), ((0.0, 0.0), ["I", "IF"]),
    ((1.0, 0.0), ["IF"])])  # a_i = 1: i[t] = x[t], no current node
def test_zero_decay_exports_exact_integrator_nodes(tmp_path, decays, kinds):
    params = {"threshold": 1.0, "current_decay": decays[0], "voltage_decay": decays[1]}
    blocks = _dense_net(params, scale=1.5 if decays[0] < 1 else 4.0, delay_shift=False)
    export_nir(blocks, tmp_path / "z.nir", input_shape=(8,))
    graph = nir.read(tmp_path / "z.nir")
    assert [type(n).__name__ for n in _chain(graph)[2:2 + len(kinds)]] == kinds
    assert type(_chain(graph)[2 + len(kinds)]).__name__ == "Affine"
    x = _spikes((6, 8, 8))
    slayer_out = _slayer_forward(blocks, x)
    assert slayer_out.sum() > 5
    np.testing.assert_array_equal(simulate(graph, x), slayer_out)


@pytest.mark.parametrize("decays", [(0.5, 0.0), (0.0, 0.5), (0.0, 0.0), (1.0, 0.0)])
def test_zero_decay_as_cubalif_runs_the_leak_free_neuron(tmp_path, decays):
    """zero_decay="cubalif": every neuron is one CubaLIF; a zero decay becomes a time constant
    of 2**60 steps (r or w_in 2**60), whose float simulation is SLAYER's leak-free update
    spike for spike; the node's metadata keeps the true decays."""
    params = {"threshold": 1.0, "current_decay": decays[0], "voltage_decay": decays[1]}
    blocks = _dense_net(params, scale=1.5 if decays[0] < 1 else 4.0, delay_shift=False)
    export_nir(blocks, tmp_path / "c.nir", input_shape=(8,), zero_decay="cubalif")
    graph = nir.read(tmp_path / "c.nir")
    assert [type(n).__name__ for n in _chain(graph)] == [
        "Input", "Affine", "CubaLIF", "Affine", "CubaLIF", "Output"]
    neuron = graph.nodes["b0_neuron"]
    for decay, tau, gain in ((decays[0], neuron.tau_syn, neuron.w_in),
                             (decays[1], neuron.tau_mem, neuron.r)):
        if decay == 0:
            np.testing.assert_array_equal(tau, 1e-4 * 2.0 ** 60)
            np.testing.assert_array_equal(gain, 2.0 ** 60)
    assert float(neuron.metadata["voltage_decay"].flat[0]) == decays[1]
    assert graph.metadata["zero_decay"] in ("cubalif", b"cubalif")
    x = _spikes((6, 8, 8))
    slayer_out = _slayer_forward(blocks, x)
    assert slayer_out.sum() > 5
    np.testing.assert_array_equal(simulate(graph, x), slayer_out)
    with pytest.raises(ValueError, match="zero_decay"):
        to_nir(blocks, input_shape=(8,), zero_decay="if")


@pytest.mark.parametrize(("decays", "kinds"), [
    ((1.0, 0.0), ["I"]), ((0.5, 0.5), ["CubaLI"]), ((0.0, 0.5), ["I", "LI"])])
def test_integrator_readout_exports_a_voltage_without_threshold(tmp_path, decays, kinds):
    """The last block's voltage (DIET's integrator readout: decays (1, 0)) is the output."""
    slayer = _slayer()
    torch.manual_seed(3)
    readout = {"threshold": 1e4, "current_decay": decays[0], "voltage_decay": decays[1]}
    blocks = [_dense_net(HALF, scale=1.5)[0], slayer.block.cuba.Dense(readout, 6, 3)]
    blocks[1].synapse.weight.data += 0.05
    export_nir(blocks, tmp_path / "r.nir", input_shape=(8,), delay_nodes=True,
               readout="integrator")
    graph = nir.read(tmp_path / "r.nir")
    chain = [type(n).__name__ for n in _chain(graph)]
    assert chain == ["Input", "Affine", "CubaLIF", "Delay", "Affine", *kinds, "Output"]
    assert graph.metadata["delay_shift_steps"] == 0
    assert not any(hasattr(n, "v_threshold") for n in _chain(graph)[4:])
    x = _spikes((6, 8, 8))
    with torch.no_grad():
        _, voltage = blocks[1].neuron.dynamics(blocks[1].synapse(blocks[0](torch.tensor(x))))
    assert len(np.unique(voltage.numpy())) > 5, "the test needs a non-trivial voltage"
    np.testing.assert_array_equal(simulate(graph, x), voltage.numpy())
    spiking = to_nir(blocks, input_shape=(8,))  # the default: the last block spikes
    assert type(_chain(spiking)[-2]).__name__ in ("CubaLIF", "IF", "LIF")
    with pytest.raises(ValueError, match="readout"):
        to_nir(blocks, input_shape=(8,), readout="voltage")


@pytest.mark.parametrize("decays", [(1.0, 0.0), (0.5, 0.5)])
def test_affine_readout_outputs_the_current_the_caller_integrates(tmp_path, decays):
    """readout="affine": no neuron node for the last block; its synaptic input is the output,
    and integrate_readout turns it into SLAYER's readout voltage (DIET: a running sum)."""
    slayer = _slayer()
    torch.manual_seed(3)
    readout = {"threshold": 1e4, "current_decay": decays[0], "voltage_decay": decays[1]}
    blocks = [_dense_net(HALF, scale=1.5)[0], slayer.block.cuba.Dense(readout, 6, 3)]
    blocks[1].synapse.weight.data += 0.05
    export_nir(blocks, tmp_path / "a.nir", input_shape=(8,), readout="affine")
    graph = nir.read(tmp_path / "a.nir")
    assert [type(n).__name__ for n in _chain(graph)] == [
        "Input", "Affine", "CubaLIF", "Affine", "Output"]
    meta = graph.metadata
    assert meta["delay_shift_steps"] == 1 and meta["readout_block"] == 1
    assert meta["readout"] in ("affine", b"affine")
    np.testing.assert_array_equal(meta["readout_current_decay"], np.full(3, decays[0]))
    np.testing.assert_array_equal(meta["readout_voltage_decay"], np.full(3, decays[1]))
    x = _spikes((6, 8, 8))
    with torch.no_grad():
        _, voltage = blocks[1].neuron.dynamics(blocks[1].synapse(blocks[0](torch.tensor(x))))
    voltage = voltage.numpy()
    assert len(np.unique(voltage)) > 5, "the test needs a non-trivial voltage"
    current = simulate(graph, x)
    np.testing.assert_array_equal(integrate_readout(current, meta)[..., :-1], voltage[..., 1:])
    if decays == (1.0, 0.0):
        np.testing.assert_array_equal(integrate_readout(current, meta), np.cumsum(current, -1))
    moved = integrate_readout(np.moveaxis(current, -1, 0), meta, axis=0)
    np.testing.assert_array_equal(np.moveaxis(moved, 0, -1), integrate_readout(current, meta))
    with pytest.raises(ValueError, match="readout='affine'"):
        integrate_readout(current, to_nir(blocks, input_shape=(8,)).metadata)


def test_time_constants_are_in_seconds_for_dt(tmp_path):
    """The default dt is 1e-4 s (snnTorch's): tau = dt / a, r = tau_mem / dt, w_in = 1 / a_i."""
    blocks = _dense_net(QUICK)
    graph = to_nir(blocks, input_shape=(8,))
    a_i, a_v = round(0.25 * 4096) / 4096, round(0.03 * 4096) / 4096
    assert graph.metadata["dt"] == 1e-4 and graph.metadata["dt_unit"] == "s"
    neuron = graph.nodes["b0_neuron"]
    np.testing.assert_allclose(neuron.tau_syn, 1e-4 / a_i, rtol=1e-12)
    np.testing.assert_allclose(neuron.tau_mem, 1e-4 / a_v, rtol=1e-12)
    np.testing.assert_allclose(neuron.r, neuron.tau_mem / 1e-4, rtol=1e-12)
    np.testing.assert_allclose(neuron.w_in, 1 / a_i, rtol=1e-12)
    slow = to_nir(blocks, input_shape=(8,), dt=1e-3).nodes["b0_neuron"]
    np.testing.assert_allclose(slow.tau_mem, 10 * neuron.tau_mem, rtol=1e-12)
    np.testing.assert_array_equal(slow.r, neuron.r)  # r and w_in do not depend on dt
    for bad in (0, -1e-4, float("nan"), float("inf"), "1e-4 s"):
        with pytest.raises(ValueError, match="dt must be"):
            to_nir(blocks, input_shape=(8,), dt=bad)


def test_input_block_and_dense_over_a_whole_image(tmp_path):
    slayer = _slayer()
    torch.manual_seed(4)
    blocks = [slayer.block.cuba.Input(delay_shift=False),  # a pass-through (SLAYER's own
              # delay_shift on a neuron-less Input fails in step_delay)
              slayer.block.cuba.Dense(HALF, (4, 3, 2), 5, weight_scale=4),  # (W, H, C) kernel
              slayer.block.cuba.Dense(HALF, 5, 3, weight_scale=4)]
    x = _spikes((6, 2, 3, 4, 8), p=0.5)
    slayer_out = _slayer_forward(blocks, x)[:, :, 0, 0]  # SLAYER keeps (N, 3, 1, 1, T)
    export_nir(blocks, tmp_path / "i.nir", input_shape=(2, 3, 4))
    graph = nir.read(tmp_path / "i.nir")
    assert [type(n).__name__ for n in _chain(graph)] == [
        "Input", "Flatten", "Affine", "CubaLIF", "Affine", "CubaLIF", "Output"]
    assert graph.metadata["delay_shift_steps"] == 2
    assert slayer_out.sum() > 5
    _assert_shifted(slayer_out, simulate(graph, x), 2)


def test_fixed_point_simulation_of_nir_parameters_equals_slayer(tmp_path):
    blocks = _dense_net(QUICK, scale=1.0)
    export_nir(blocks, tmp_path / "q.nir", input_shape=(8,), dt=1e-3)
    graph = nir.read(tmp_path / "q.nir")
    x = _spikes((16, 8, 100), p=0.2)
    slayer_out = _slayer_forward(blocks, x)
    assert slayer_out.sum() > 100
    _assert_shifted(slayer_out, simulate(graph, x, fixed_point=True), 2)
    # a float simulation drifts by SLAYER's rounding: same parameters, a few spikes differ
    assert not np.array_equal(slayer_out[..., 2:], simulate(graph, x)[..., :-2])


def test_conv_flatten_dense_export(tmp_path):
    blocks = _conv_net(HALF)
    export_nir(blocks, tmp_path / "c.nir", input_shape=(2, 8, 8), delay_nodes=True)
    graph = nir.read(tmp_path / "c.nir")
    names = [type(n).__name__ for n in _chain(graph)]
    assert names == ["Input", "Conv2d", "CubaLIF", "Delay", "Flatten", "Affine", "CubaLIF",
                     "Delay", "Output"]
    conv, flat = graph.nodes["b0_synapse"], graph.nodes["b1_flatten"]
    assert tuple(conv.output_type["output"]) == (4, 4, 4) and conv.weight.shape == (4, 2, 3, 3)
    assert tuple(flat.output_type["output"]) == (64,)
    assert graph.nodes["b0_neuron"].tau_syn.shape == (4, 4, 4)
    x = _spikes((4, 2, 8, 8, 8), p=0.5)
    slayer_out, nir_out = _slayer_forward(blocks, x), simulate(graph, x)
    assert slayer_out.sum() > 5
    np.testing.assert_array_equal(nir_out, slayer_out)
    # the check can see the flatten order: (H, W, C) order instead of (C, H, W) breaks it
    conv_nodes = dict(graph.nodes)
    w = conv_nodes["b2_synapse"].weight.reshape(3, 4, 4, 4).transpose(0, 2, 3, 1).reshape(3, 64)
    conv_nodes["b2_synapse"] = nir.Affine(weight=w, bias=np.zeros(3))
    wrong = nir.NIRGraph(nodes=conv_nodes, edges=list(graph.edges), metadata=graph.metadata)
    assert not np.array_equal(simulate(wrong, x), slayer_out)


def test_pool_block_exports_as_the_convolution_it_equals(tmp_path):
    slayer = _slayer()
    torch.manual_seed(3)
    blocks = [slayer.block.cuba.Conv(QUICK, 2, 4, 3, padding=1, weight_scale=3),
              slayer.block.cuba.Pool(QUICK, 2, weight_scale=0.75),
              slayer.block.cuba.Flatten(), slayer.block.cuba.Dense(QUICK, 64, 3, weight_scale=4)]
    blocks[0].synapse.weight.data += 0.1
    blocks[3].synapse.weight.data += 0.05
    x = _spikes((4, 2, 8, 8, 12), p=0.5)
    slayer_out = _slayer_forward(blocks, x)
    export_nir(blocks, tmp_path / "p.nir", input_shape=(2, 8, 8))
    graph = nir.read(tmp_path / "p.nir")
    pool = graph.nodes["b1_synapse"]
    assert type(pool).__name__ == "Conv2d" and pool.weight.shape == (4, 4, 2, 2)
    assert tuple(pool.stride) == (2, 2) and tuple(pool.output_type["output"]) == (4, 4, 4)
    np.testing.assert_array_equal(pool.weight[range(4), range(4)], np.full((4, 2, 2), 0.75))
    assert slayer_out.sum() > 5
    _assert_shifted(slayer_out, simulate(graph, x, fixed_point=True), 3)
    with pytest.raises(ValueError, match="multiples of the window"):
        to_nir(blocks[1:2], input_shape=(4, 7, 8))


def test_per_channel_decays_fixed_point(tmp_path):
    params = dict(QUICK, current_decay=(0.2, 0.3), voltage_decay=(0.02, 0.2), shared_param=False)
    blocks = _conv_net(params, seed=2)
    with pytest.raises(ValueError, match="first forward pass"):
        to_nir(blocks, input_shape=(2, 8, 8))
    x = _spikes((4, 2, 8, 8, 30), p=0.5)
    slayer_out = _slayer_forward(blocks, x)
    export_nir(blocks, tmp_path / "p.nir", input_shape=(2, 8, 8))
    graph = nir.read(tmp_path / "p.nir")
    tau = graph.nodes["b0_neuron"].tau_mem
    assert len(np.unique(tau)) == 4 and (tau == tau[:, :1, :1]).all()  # one value per channel
    assert slayer_out.sum() > 5
    _assert_shifted(slayer_out, simulate(graph, x, fixed_point=True), 2)


def test_unsupported_block_raises_and_leaves_no_file(tmp_path):
    slayer = _slayer()
    kwta = slayer.block.cuba.KWTA(QUICK, 64, 3, num_winners=1)
    blocks = [*_conv_net(QUICK)[:2], kwta]
    with pytest.raises(NotImplementedError, match=r"block 2 \(.*cuba\.KWTA\).*supported: cuba"):
        export_nir(blocks, tmp_path / "bad.nir", input_shape=(2, 8, 8))
    delayed = slayer.block.cuba.Dense(QUICK, 8, 3, delay=True)
    with pytest.raises(NotImplementedError, match="block 0 .*axonal delay"):
        export_nir([delayed], tmp_path / "bad.nir", input_shape=(8,))
    with pytest.raises(ValueError, match="input_shape"):
        export_nir(_dense_net(QUICK), tmp_path / "bad.nir", input_shape=(2, 8))
    assert list(tmp_path.iterdir()) == []


def test_failed_write_leaves_no_file(tmp_path, monkeypatch):
    def broken(path, graph):
        path.write_bytes(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(nir, "write", broken)
    with pytest.raises(OSError, match="disk full"):
        export_nir(_dense_net(QUICK), tmp_path / "x.nir", input_shape=(8,))
    assert list(tmp_path.iterdir()) == []


def test_summary_lists_nodes_and_shapes():
    text = nir_summary(to_nir(_conv_net(QUICK), input_shape=(2, 8, 8)))
    lines = text.splitlines()
    assert lines[0] == "NIR graph: 7 nodes, 6 edges"
    assert lines[2].split()[:2] == ["b0_synapse", "Conv2d"]
    assert "(2, 8, 8) -> (4, 4, 4)" in lines[2]
    assert "b1_flatten" in lines[4] and "(4, 4, 4) -> (64,)" in lines[4]
    assert lines[-1].split()[:2] == ["output", "Output"]
