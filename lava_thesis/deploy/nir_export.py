"""Export feed-forward SLAYER CUBA networks to NIR (Neuromorphic Intermediate Representation).

NIR is a simulator- and chip-neutral graph format (``nir`` package, HDF5 files). The export
turns an ordered list of lava-dl SLAYER blocks into a chain ``Input -> ... -> Output``.

Supported blocks
----------------
* ``slayer.block.cuba.Dense`` -> ``nir.Affine`` (zero bias) + CUBA neuron node(s). A Dense block
  whose kernel spans the whole ``(C, H, W)`` input is preceded by a ``nir.Flatten``.
* ``slayer.block.cuba.Conv`` -> ``nir.Conv2d`` (stride, padding, dilation, groups, zero bias)
  + CUBA neuron node(s).
* ``slayer.block.cuba.Flatten`` (any SLAYER flatten block) -> ``nir.Flatten``.
* ``slayer.block.cuba.Input`` without a neuron (a pass-through) -> no node (a delay, see below).

Anything else (pooling, affine read-outs, recurrent, KWTA, sigma-delta, transposed convolution,
axonal delays ``block.delay``, neuron ``norm``, graded spikes, an ``Input`` block with a neuron)
raises ``NotImplementedError`` naming the block.

Weights are the *effective* weights of SLAYER's forward pass: weight normalisation folded in
(computed from ``weight_g``/``weight_v`` now, not the possibly stale ``weight`` attribute) and the
block's ``pre_hook_fx`` (8-bit quantisation) applied. Units are SLAYER's: a weight of 1.0 is 64
on Loihi, the threshold likewise.

Shapes
------
SLAYER tensors are ``(N, C, T)`` or ``(N, C, H, W, T)``; NIR types drop batch and time: ``(C,)``
or ``(C, H, W)``. A Conv2d weight is ``(C_out, C_in / groups, kH, kW)`` and ``input_shape`` is
``(H, W)``. SLAYER's flatten is ``reshape(N, -1, T)``, i.e. row-major over ``(C, H, W)``, which
is what ``nir.Flatten(start_dim=0)`` does to a batch-free ``(C, H, W)`` type.

Neuron mapping
--------------
SLAYER's CUBA neuron is discrete (fractions ``a_i = current_decay / 4096``,
``a_v = voltage_decay / 4096``, both as quantised by the forward pass)::

    i[t] = (1 - a_i) i[t-1] + x[t]        x = synapse output
    v[t] = (1 - a_v) v[t-1] + i[t]        spike when v[t] > theta, then v[t] = 0

NIR's CubaLIF is ``tau_syn I' = -I + w_in S`` and ``tau_mem v' = (v_leak - v) + r I``. One
forward-Euler step of length ``dt`` (current first, the voltage from the new current) is exactly
the update above when::

    tau_syn = dt / a_i,  w_in = 1 / a_i,  tau_mem = dt / a_v,  r = 1 / a_v,
    v_leak = 0,  v_reset = 0,  v_threshold = theta

SLAYER fires on ``v >= theta + 0.01 / 4096`` with states on a 1/4096 grid, i.e. on
``v > theta``: NIR's strict condition.

A decay of zero (no leak) has no finite CubaLIF form, so that stage is split off: ``a_v = 0``
gives ``nir.LI(tau=dt/a_i, r=1/a_i)`` (the current) + ``nir.IF(r=1/dt)``; ``a_i = 0`` gives
``nir.I(r=1/dt)`` + ``nir.LIF(tau=dt/a_v, r=1/a_v)``; both zero give ``nir.I`` + ``nir.IF``.
With ``readout="integrator"`` the last block is a non-spiking readout (DIET's integrator, whose
class score is its voltage): its voltage stage has no threshold and is exported as ``nir.I`` (no
leak), ``nir.LI`` or, with both decays non-zero, ``nir.CubaLI``; the graph then outputs that
voltage, read where SLAYER reads it (before the block's delay shift: no ``nir.Delay`` for it).
Per-channel decays (``shared_param=False``) become per-neuron arrays; mixing zero and non-zero
decays within one block is not supported. The original discrete parameters are kept in each
neuron node's ``metadata``.

Not encoded: SLAYER integrates in 12-bit fixed point (``state * (4096 - decay) >> 12``, rounded
toward zero), so a float simulation of the NIR graph drifts from SLAYER by rounding; and each
block's ``delay_shift`` (one step of delay per layer) becomes a ``nir.Delay(dt)`` node only with
``delay_nodes=True`` (few NIR back-ends run Delay); otherwise the graph's output leads SLAYER's by
``metadata["delay_shift_steps"]`` steps.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from lava_thesis.atomic import atomic_path
from lava_thesis.model_check import nonfinite_parameters, require_finite_blocks

if TYPE_CHECKING:
    import nir

SUPPORTED = ("cuba.Dense", "cuba.Conv", "cuba.Flatten", "cuba.Input (without neuron)")


def export_nir(
    blocks: Sequence[torch.nn.Module],
    path: str | Path,
    *,
    input_shape: Sequence[int],
    dt: float = 1.0,
    delay_nodes: bool = False,
    readout: str = "spikes",
) -> nir.NIRGraph:
    """Convert SLAYER ``blocks`` with :func:`to_nir` and write the graph to ``path`` atomically.

    Parameters
    ----------
    blocks, input_shape, dt, delay_nodes, readout:
        As for :func:`to_nir`.
    path:
        Destination ``.nir`` (HDF5) file; written to a temporary file, then renamed. Nothing is
        written when the conversion fails.

    Returns
    -------
    nir.NIRGraph
        The graph that was written.

    Raises
    ------
    ModelFileError
        If a block's parameter or buffer is NaN or infinite (nothing is written).
    """
    import nir

    require_finite_blocks(path, blocks)
    graph = to_nir(blocks, input_shape=input_shape, dt=dt, delay_nodes=delay_nodes,
                   readout=readout)
    with atomic_path(path) as tmp:
        nir.write(tmp, graph)
    return graph


def to_nir(
    blocks: Sequence[torch.nn.Module],
    *,
    input_shape: Sequence[int],
    dt: float = 1.0,
    delay_nodes: bool = False,
    readout: str = "spikes",
) -> nir.NIRGraph:
    """Build the NIR graph of a feed-forward chain of SLAYER blocks (see the module docstring).

    Parameters
    ----------
    blocks:
        SLAYER blocks in forward order.
    input_shape:
        Shape of one input time step without batch and time: ``(C,)`` or ``(C, H, W)``.
    dt:
        Time step (any unit) that the continuous NIR time constants refer to.
    delay_nodes:
        Insert a ``nir.Delay`` of ``dt`` after each block with ``delay_shift=True``.
    readout:
        ``"spikes"``: every block spikes. ``"integrator"``: the last block is a non-spiking
        readout whose voltage is the graph's output (no threshold node).

    Raises
    ------
    NotImplementedError
        For a block type or feature the export does not support, naming its index and type.
    ValueError
        For a bad ``input_shape``/``dt``, per-channel decays not yet drawn (no forward yet), or
        non-finite parameters or effective weights, naming the block.
    """
    import nir

    import lava_thesis  # noqa: F401  (Lava compatibility fixes before lava.lib.dl)

    shape = tuple(int(s) for s in input_shape)
    if len(shape) not in (1, 3) or min(shape, default=0) < 1:
        raise ValueError(f"input_shape must be (C,) or (C, H, W) of positive ints, got {shape}")
    if not (np.isfinite(dt) and dt > 0):
        raise ValueError(f"dt must be a positive finite number, got {dt}")
    if readout not in ("spikes", "integrator"):
        raise ValueError(f"readout must be 'spikes' or 'integrator', got {readout!r}")
    if bad := nonfinite_parameters(blocks):
        raise ValueError(f"cannot convert non-finite parameters to NIR: {'; '.join(bad)}")
    last = max((i for i, b in enumerate(blocks) if getattr(b, "neuron", None) is not None),
               default=-1)
    chain: list[tuple[str, Any]] = [("input", nir.Input(input_type=np.array(shape)))]
    shifts = 0
    for i, block in enumerate(blocks):
        spiking = not (readout == "integrator" and i == last)
        nodes, shape = _block_nodes(i, block, shape, dt, spiking=spiking)
        chain += nodes
        # a readout's voltage is read before the block's output shift (DietSNN.forward)
        if spiking and getattr(block, "delay_shift", False) is True:
            shifts += 1
            if delay_nodes:
                chain.append((f"b{i}_delay", nir.Delay(delay=np.full(shape, float(dt)))))
    chain.append(("output", nir.Output(output_type=np.array(shape))))
    edges = [(a, b) for (a, _), (b, _) in zip(chain[:-1], chain[1:], strict=True)]
    meta = {"source": "lava-dl slayer", "dt": float(dt),
            "delay_shift_steps": 0 if delay_nodes else shifts}
    return nir.NIRGraph(nodes=dict(chain), edges=edges, metadata=meta)


def nir_summary(graph: nir.NIRGraph) -> str:
    """One line per node (in edge order from the inputs): name, type, input -> output shape."""
    order = list(graph.inputs)
    for _ in range(len(graph.nodes)):
        order += [b for a, b in graph.edges if a in order and b not in order]
    order += [name for name in graph.nodes if name not in order]

    def fmt(types: Any) -> str:
        value = next(iter(types.values()), None) if isinstance(types, dict) else types
        return "?" if value is None else str(tuple(int(s) for s in np.atleast_1d(value)))

    width = max(len(name) for name in order)
    lines = [f"NIR graph: {len(graph.nodes)} nodes, {len(graph.edges)} edges"]
    for name in order:
        node = graph.nodes[name]
        lines.append(f"  {name:<{width}}  {type(node).__name__:<8} "
                     f"{fmt(node.input_type)} -> {fmt(node.output_type)}")
    return "\n".join(lines)


def effective_weight(synapse: torch.nn.Module) -> np.ndarray:
    """The weight SLAYER's forward uses: weight norm folded in, then ``pre_hook_fx`` applied."""
    with torch.no_grad():
        weight = synapse.weight
        if getattr(synapse, "weight_norm_enabled", False):  # torch recomputes .weight on forward
            for hook in synapse._forward_pre_hooks.values():
                if getattr(hook, "name", None) == "weight" and hasattr(hook, "compute_weight"):
                    weight = hook.compute_weight(synapse)
        if synapse.pre_hook_fx is not None:
            weight = synapse.pre_hook_fx(weight)
        return weight.detach().cpu().numpy().astype(np.float64)


def _unsupported(i: int, block: torch.nn.Module, what: str = "") -> NotImplementedError:
    name = f"{type(block).__module__}.{type(block).__qualname__}"
    return NotImplementedError(
        f"block {i} ({name}){' ' + what if what else ''} is not supported by the NIR export; "
        f"supported: {', '.join(SUPPORTED)}"
    )


def _block_nodes(
    i: int, block: torch.nn.Module, shape: tuple[int, ...], dt: float, spiking: bool = True
) -> tuple[list[tuple[str, Any]], tuple[int, ...]]:
    """NIR nodes ``[(name, node)]`` for block ``i`` and the block's output shape
    (``spiking=False``: its neuron is a non-spiking readout)."""
    import nir
    from lava.lib.dl.slayer.block import base, cuba

    if isinstance(block, base.AbstractFlatten):
        if len(shape) != 3:
            raise ValueError(f"block {i} (Flatten) expects a (C, H, W) input, got {shape}")
        flat = nir.Flatten(input_type=np.array(shape), start_dim=0)
        return [(f"b{i}_flatten", flat)], (int(np.prod(shape)),)
    if type(block) is cuba.Input:
        if block.neuron is not None:
            raise _unsupported(i, block, "with a neuron")
        return [], shape
    if type(block) not in (cuba.Dense, cuba.Conv):
        raise _unsupported(i, block)
    if block.delay is not None:
        raise _unsupported(i, block, "with axonal delay")
    weight = effective_weight(block.synapse)
    if getattr(block, "mask", None) is not None and not block.synapse.weight_norm_enabled:
        weight = weight * block.mask.cpu().numpy()  # forward masks .weight in place
    weight = weight[..., 0]  # drop the time axis of SLAYER's 3-d kernels
    if not np.isfinite(weight).all():  # e.g. a zero weight-norm direction or threshold
        raise ValueError(f"block {i} ({type(block).__name__}): its effective weight holds "
                         "non-finite values; NIR needs finite weights")
    nodes: list[tuple[str, Any]] = []
    if type(block) is cuba.Dense:
        if len(shape) == 3 and tuple(weight.shape[1:]) == shape:  # kernel spans the input
            nodes.append((f"b{i}_flatten", nir.Flatten(input_type=np.array(shape), start_dim=0)))
            shape, weight = (int(np.prod(shape)),), weight.reshape(len(weight), -1, 1, 1)
        if len(shape) != 1 or weight.shape[2:] != (1, 1) or weight.shape[1] != shape[0]:
            raise ValueError(f"block {i} (Dense) weight {weight.shape} does not fit input {shape}")
        weight = weight[:, :, 0, 0]
        nodes.append((f"b{i}_synapse", nir.Affine(weight=weight, bias=np.zeros(len(weight)))))
        out: tuple[int, ...] = (weight.shape[0],)
    else:
        syn = block.synapse
        if len(shape) != 3 or shape[0] != syn.in_channels:
            raise ValueError(f"block {i} (Conv) expects ({syn.in_channels}, H, W), got {shape}")
        conv = nir.Conv2d(
            input_shape=shape[1:], weight=weight, stride=tuple(syn.stride[:2]),
            padding=tuple(syn.padding[:2]), dilation=tuple(syn.dilation[:2]),
            groups=int(syn.groups), bias=np.zeros(weight.shape[0]),
        )
        nodes.append((f"b{i}_synapse", conv))
        out = tuple(int(s) for s in conv.output_type["output"])
    seen = None if block.neuron.shape is None else tuple(block.neuron.shape)
    if seen is not None and seen not in (out, out + (1, 1)):  # Dense on (C, H, W): (out, 1, 1)
        raise ValueError(f"block {i}: output shape {out} differs from SLAYER's {seen}"
                         " (check input_shape)")
    return nodes + _neuron_nodes(i, block, out, dt, spiking), out


def _neuron_nodes(
    i: int, block: torch.nn.Module, shape: tuple[int, ...], dt: float, spiking: bool = True
) -> list[tuple[str, Any]]:
    """CUBA neuron of block ``i`` as NIR node(s) of ``shape`` (see the module docstring);
    ``spiking=False``: the voltage stage has no threshold (an integrator readout)."""
    import nir
    from lava.lib.dl.slayer.neuron import cuba
    from lava.lib.dl.slayer.utils import quantize

    neuron = block.neuron
    if not isinstance(neuron, cuba.Neuron):
        raise _unsupported(i, block, f"with a {type(neuron).__name__} neuron")
    if neuron.norm is not None or neuron.graded_spike:
        raise _unsupported(i, block, "with neuron norm or graded spikes")
    if not neuron.shared_param and hasattr(neuron, "current_decay_min"):
        raise ValueError(f"block {i}: SLAYER draws per-channel decays on the first forward pass;"
                         " run one (e.g. on a single time step) before exporting")

    def fraction(param: torch.Tensor) -> np.ndarray:  # as the forward pass quantises it
        value = quantize(param.detach().clamp(0, neuron.p_scale)).cpu().numpy()
        value = value.astype(np.float64).reshape((-1,) + (1,) * (len(shape) - 1))
        return np.broadcast_to(value / neuron.p_scale, shape).copy()

    a_i, a_v = fraction(neuron.current_decay), fraction(neuron.voltage_decay)
    theta = np.full(shape, float(neuron.threshold))
    zero = np.zeros(shape)
    meta = {
        "slayer_block": type(block).__name__, "threshold": float(neuron.threshold),
        "current_decay": a_i, "voltage_decay": a_v, "p_scale": int(neuron.p_scale),
        "state_scale": int(neuron.s_scale), "weight_scale": int(neuron.w_scale),
        "delay_shift": bool(getattr(block, "delay_shift", False)), "dt": float(dt),
        "spiking": spiking,
    }
    name = f"b{i}_neuron"
    with np.errstate(divide="ignore"):
        tau_i, tau_v, r_i, r_v = dt / a_i, dt / a_v, 1 / a_i, 1 / a_v
    leaky_i, leaky_v = bool(np.all(a_i > 0)), bool(np.all(a_v > 0))
    if (not leaky_i and np.any(a_i > 0)) or (not leaky_v and np.any(a_v > 0)):
        raise _unsupported(i, block, "with zero and non-zero decays mixed across channels")
    if leaky_i and leaky_v and not spiking:
        node = nir.CubaLI(tau_syn=tau_i, tau_mem=tau_v, r=r_v, v_leak=zero, w_in=r_i,
                          metadata=meta)
        return [(name, node)]
    if leaky_i and leaky_v:
        node = nir.CubaLIF(tau_syn=tau_i, tau_mem=tau_v, r=r_v, v_leak=zero, v_threshold=theta,
                           v_reset=zero.copy(), w_in=r_i, metadata=meta)
        return [(name, node)]
    full = np.full(shape, 1 / dt)
    if leaky_i:
        current = nir.LI(tau=tau_i, r=r_i, v_leak=zero.copy(), metadata=meta)
    else:
        current = nir.I(r=full.copy(), metadata=meta)
    if not spiking:
        voltage = (nir.LI(tau=tau_v, r=r_v, v_leak=zero.copy(), metadata=meta) if leaky_v
                   else nir.I(r=full, metadata=meta))
    elif leaky_v:
        voltage = nir.LIF(tau=tau_v, r=r_v, v_leak=zero.copy(), v_threshold=theta,
                          v_reset=zero.copy(), metadata=meta)
    else:
        voltage = nir.IF(r=full, v_threshold=theta, v_reset=zero.copy(), metadata=meta)
    return [(f"{name}_current", current), (f"{name}_voltage", voltage)]
