"""Export feed-forward SLAYER CUBA networks to NIR (Neuromorphic Intermediate Representation).

NIR is a simulator- and chip-neutral graph format (``nir`` package, HDF5 files). The export
turns an ordered list of lava-dl SLAYER blocks into a chain ``Input -> ... -> Output`` whose
continuous-time parameters are in seconds for a stated step ``dt`` (default ``1e-4`` s, the step
that NIR's reference clients assume), recorded as ``graph.metadata["dt"]``.

Supported blocks
----------------
* ``slayer.block.cuba.Dense`` -> ``nir.Affine`` (zero bias) + CUBA neuron node(s). A Dense block
  whose kernel spans the whole ``(C, H, W)`` input is preceded by a ``nir.Flatten``.
* ``slayer.block.cuba.Conv`` -> ``nir.Conv2d`` (stride, padding, dilation, groups, zero bias)
  + CUBA neuron node(s).
* ``slayer.block.cuba.Pool`` (a per-channel KxK window sum with one weight ``w``, stride K) ->
  the convolution it equals, ``nir.Conv2d`` with kernels ``w`` on the diagonal (output channel
  ``c`` reads input channel ``c`` only) and zero elsewhere, + CUBA neuron node(s). netx gets the
  depthwise form (``groups = C``, :func:`lava_thesis.deploy.netx_export.pool_as_conv`); NIR
  1.0.8 types a grouped ``Conv2d``'s input as ``weight.shape[1]`` channels, so a graph holding
  one fails its own type check when read back. Not ``nir.SumPool2d``/``AvgPool2d``: snnTorch 1.0
  imports only ``AvgPool2d``, Norse 1.1 only ``SumPool2d``, and neither carries the weight;
  both run the convolution. Height and width must be multiples of K (SLAYER pads the rest on one
  side).
* ``slayer.block.cuba.Flatten`` (any SLAYER flatten block) -> ``nir.Flatten``.
* ``slayer.block.cuba.Input`` without a neuron (a pass-through) -> no node (a delay, see below).

Anything else (affine read-outs, recurrent, KWTA, sigma-delta, transposed convolution,
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
SLAYER's CUBA neuron is discrete, with 12-bit decays ``du``, ``dv`` (fractions
``a_i = du / 4096``, ``a_v = dv / 4096`` as the forward pass quantises them)::

    i[t] = (1 - a_i) i[t-1] + x[t]        x = synapse output
    v[t] = (1 - a_v) v[t-1] + i[t]        spike when v[t] > theta, then v[t] = 0

NIR's CubaLIF is ``tau_syn I' = -I + w_in S`` and ``tau_mem v' = (v_leak - v) + r I``, spike
when ``v > v_threshold``, then ``v = v_reset``. Both clients discretise it with one step of
length ``dt``, the current first and the voltage from the new current:

* Norse 1.1 (``norse.torch.from_nir(graph, dt=dt)``; forward Euler)::

      I[t] = I[t-1] + dt/tau_syn (v_leak - I[t-1] + w_in x[t])
      v[t] = v[t-1] + dt/tau_mem (v_leak - v[t-1] + r I[t]),   reset to v_reset

* snnTorch 1.0 (``snntorch.import_nir.import_from_nir(graph)``; ``snn.Synaptic``, its ``dt``
  fixed at ``1e-4`` s)::

      alpha = 1 - dt/tau_syn,  beta = 1 - dt/tau_mem,  it asserts v_leak = 0, r = tau_mem/dt
      syn[t] = alpha syn[t-1] + w_in dt/tau_syn x[t]   (the factor folded into the threshold)
      mem[t] = beta mem[t-1] + syn[t],   reset to zero at once (reset_delay=False)

Matching coefficients with SLAYER's update gives, for both, the exact mapping::

    tau_syn = dt / a_i = 4096 dt / du,   w_in = 1 / a_i,
    tau_mem = dt / a_v = 4096 dt / dv,   r = 1 / a_v = tau_mem / dt,
    v_leak = 0,  v_reset = 0,  v_threshold = theta

``r = tau_mem / dt`` is what snnTorch checks, against its own ``dt``: a graph runs in snnTorch
only when exported with ``dt = 1e-4`` (the default). Norse takes ``dt`` as an argument: pass
``graph.metadata["dt"]``. SLAYER fires on ``v >= theta + 0.01 / 4096`` with states on a 1/4096
grid, i.e. on ``v > theta``: the strict condition of NIR and of both clients.

A decay of zero (no leak) has no finite CubaLIF form, so that stage is split off: ``a_v = 0``
gives ``nir.LI(tau=dt/a_i, r=1/a_i)`` (the current) + ``nir.IF(r=1/dt)``, or ``nir.IF`` alone
when ``a_i = 1`` (DIET: ``i[t] = x[t]``); ``a_i = 0`` gives ``nir.I(r=1/dt)`` +
``nir.LIF(tau=dt/a_v, r=1/a_v)``; both zero give ``nir.I`` + ``nir.IF``. Client limits: neither
client has a module for ``LI``, ``I`` or ``CubaLI`` (snnTorch refuses the graph; Norse silently
passes a single such node's input on, and fails with a ``KeyError`` on a pair); Norse runs
``IF`` as ``v += x`` (exact here; it warns that ``r != 1``) and ignores ``r`` of a ``LIF``
(wrong unless ``a_v = 1``); snnTorch refuses an ``IF`` with ``r != 1`` and runs one with
``r = 1`` as a leaky neuron (``snn.Leaky(beta=0.9)``). So only leaky neurons
(``a_i, a_v > 0``: ``CubaLIF``) run in both clients.

For them, ``zero_decay="cubalif"`` writes a zero decay as a time constant of ``2**60`` steps
(``NO_LEAK_STEPS`` in :mod:`~lava_thesis.deploy.nir_neurons`): a ``CubaLIF`` with
``tau = 2**60 dt`` and ``r = w_in = 2**60``. Its leak per step, ``2**-60``, vanishes in float64
and float32 (``1 - 2**-60 == 1``), so both clients compute the leak-free update
``v[t] = v[t-1] + i[t]`` (snnTorch: ``beta = 1``; Norse: ``v + 2**-60 (2**60 i - v) = v + i``,
up to the float rounding of ``dt / tau`` that every CubaLIF has). It is NIR's CubaLIF read
literally, with a leak no float simulation can see; the exact form (``"exact"``, the default)
stays available. The hybrid method's integrate-and-fire twin (``a_i = 1, a_v = 0``) is the
network that needs it.

Readouts (``readout=``):

* ``"spikes"``: every block spikes (a CubaLIF last layer; both clients).
* ``"affine"``: the last block's neuron is left out; the graph outputs its synaptic input
  ``x[t]`` (the ``Affine``/``Conv2d`` output), which both clients run, and the caller applies the
  readout's discrete dynamics with :func:`~lava_thesis.deploy.nir_neurons.integrate_readout`
  (decays in ``graph.metadata["readout_current_decay"/"readout_voltage_decay"]``). DIET's
  integrator (``a_i = 1, a_v = 0``) is then the running sum of the output.
* ``"integrator"``: the last block is a non-spiking readout exported as NIR neurons: ``nir.I``
  (no leak), ``nir.LI`` or, with both decays non-zero, ``nir.CubaLI``; its voltage is the output.
  Exact NIR, but no node of it runs in snnTorch 1.0 or Norse 1.1.

Both readout forms are read where SLAYER reads the readout (before the block's delay shift: no
``nir.Delay`` for it). Per-channel decays (``shared_param=False``) become per-neuron arrays
(snnTorch needs one threshold per layer, which SLAYER has); mixing zero and non-zero decays
within one block is not supported. The original discrete parameters are kept in each neuron
node's ``metadata``.

Not encoded: SLAYER integrates in 12-bit fixed point (``state * (4096 - decay) >> 12``, rounded
toward zero), so a float simulation of the NIR graph (both clients) drifts from SLAYER by
rounding; a DIET network's direct-input floor (the first layer's current floored to the 1/64
grid, :func:`~lava_thesis.slayer_ext.attach_direct_input`) has no NIR node; and each block's
``delay_shift`` (one step of delay per layer) becomes a ``nir.Delay(dt)`` node only with
``delay_nodes=True`` (neither client runs Delay); otherwise the graph's output leads SLAYER's
by ``metadata["delay_shift_steps"]`` steps. Both clients apply
``nir.Flatten(start_dim=0)`` to their tensor as it is: give them one sample at a time (batch-free
tensors, as NIR types are) when the graph holds a Flatten.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from lava_thesis.atomic import atomic_path
from lava_thesis.deploy.nir_neurons import (
    ZERO_DECAYS,
    _unsupported,
    neuron_nodes,
    readout_metadata,
)
from lava_thesis.model_check import nonfinite_parameters, require_finite_blocks

if TYPE_CHECKING:
    import nir

SUPPORTED = ("cuba.Dense", "cuba.Conv", "cuba.Pool", "cuba.Flatten",
             "cuba.Input (without neuron)")
READOUTS = ("spikes", "affine", "integrator")
#: seconds per step that the NIR time constants refer to by default (snnTorch's fixed dt)
DT_DEFAULT = 1e-4


def export_nir(
    blocks: Sequence[torch.nn.Module],
    path: str | Path,
    *,
    input_shape: Sequence[int],
    dt: float = DT_DEFAULT,
    delay_nodes: bool = False,
    readout: str = "spikes",
    zero_decay: str = "exact",
) -> nir.NIRGraph:
    """Convert SLAYER ``blocks`` with :func:`to_nir` and write the graph to ``path`` atomically.

    Parameters
    ----------
    blocks, input_shape, dt, delay_nodes, readout, zero_decay:
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
                   readout=readout, zero_decay=zero_decay)
    with atomic_path(path) as tmp:
        nir.write(tmp, graph)
    return graph


def to_nir(
    blocks: Sequence[torch.nn.Module],
    *,
    input_shape: Sequence[int],
    dt: float = DT_DEFAULT,
    delay_nodes: bool = False,
    readout: str = "spikes",
    zero_decay: str = "exact",
) -> nir.NIRGraph:
    """Build the NIR graph of a feed-forward chain of SLAYER blocks (see the module docstring).

    Parameters
    ----------
    blocks:
        SLAYER blocks in forward order.
    input_shape:
        Shape of one input time step without batch and time: ``(C,)`` or ``(C, H, W)``.
    dt:
        Seconds per SLAYER time step; the NIR time constants are ``dt / decay`` seconds. The
        default, ``1e-4``, is the step snnTorch's importer assumes (it refuses any other).
    delay_nodes:
        Insert a ``nir.Delay`` of ``dt`` after each block with ``delay_shift=True``.
    readout:
        ``"spikes"``: every block spikes. ``"affine"``: the graph outputs the last block's
        synaptic input; the caller integrates it
        (:func:`~lava_thesis.deploy.nir_neurons.integrate_readout`). ``"integrator"``: the last
        block is a non-spiking readout whose voltage is the output (``CubaLI``/``LI``/``I``).
    zero_decay:
        ``"exact"``: a zero decay (no leak) becomes NIR's ``IF``/``I`` nodes. ``"cubalif"``:
        it becomes a ``CubaLIF`` (``CubaLI``) whose time constant is ``2**60`` steps, a leak
        below float64's resolution, which snnTorch and Norse run as the leak-free neuron (see
        the module docstring).

    Raises
    ------
    NotImplementedError
        For a block type or feature the export does not support, naming its index and type.
    ValueError
        For a bad ``input_shape``/``dt``/``readout``, per-channel decays not yet drawn (no
        forward yet), or non-finite parameters or effective weights, naming the block.
    """
    import nir

    import lava_thesis  # noqa: F401  (Lava compatibility fixes before lava.lib.dl)

    shape = tuple(int(s) for s in input_shape)
    if len(shape) not in (1, 3) or min(shape, default=0) < 1:
        raise ValueError(f"input_shape must be (C,) or (C, H, W) of positive ints, got {shape}")
    try:
        dt = float(dt)
    except (TypeError, ValueError):
        dt = float("nan")
    if not (np.isfinite(dt) and dt > 0):
        raise ValueError(f"dt must be a positive finite number of seconds, got {dt!r}")
    if readout not in READOUTS:
        raise ValueError(f"readout must be one of {READOUTS}, got {readout!r}")
    if zero_decay not in ZERO_DECAYS:
        raise ValueError(f"zero_decay must be one of {ZERO_DECAYS}, got {zero_decay!r}")
    if bad := nonfinite_parameters(blocks):
        raise ValueError(f"cannot convert non-finite parameters to NIR: {'; '.join(bad)}")
    last = max((i for i, b in enumerate(blocks) if getattr(b, "neuron", None) is not None),
               default=-1)
    chain: list[tuple[str, Any]] = [("input", nir.Input(input_type=np.array(shape)))]
    meta: dict[str, Any] = {"source": "lava-dl slayer", "dt": dt, "dt_unit": "s",
                            "readout": readout, "zero_decay": zero_decay}
    shifts = 0
    for i, block in enumerate(blocks):
        mode = readout if i == last else "spikes"
        nodes, shape = _block_nodes(i, block, shape, dt, mode, zero_decay)
        chain += nodes
        if mode == "affine":
            meta.update(readout_metadata(i, block, shape))
        # a readout's voltage is read before the block's output shift (DietSNN.forward)
        if mode == "spikes" and getattr(block, "delay_shift", False) is True:
            shifts += 1
            if delay_nodes:
                chain.append((f"b{i}_delay", nir.Delay(delay=np.full(shape, float(dt)))))
    chain.append(("output", nir.Output(output_type=np.array(shape))))
    edges = [(a, b) for (a, _), (b, _) in zip(chain[:-1], chain[1:], strict=True)]
    meta["delay_shift_steps"] = 0 if delay_nodes else shifts
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


def _block_nodes(
    i: int, block: torch.nn.Module, shape: tuple[int, ...], dt: float, mode: str = "spikes",
    zero_decay: str = "exact",
) -> tuple[list[tuple[str, Any]], tuple[int, ...]]:
    """NIR nodes ``[(name, node)]`` for block ``i`` and the block's output shape. ``mode``:
    ``"spikes"``, ``"integrator"`` (a non-spiking neuron) or ``"affine"`` (no neuron node)."""
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
    if type(block) not in (cuba.Dense, cuba.Conv, cuba.Pool):
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
    if type(block) is cuba.Pool:
        nodes.append((f"b{i}_synapse", _pool_conv(i, block, weight, shape)))
        out = tuple(int(s) for s in nodes[-1][1].output_type["output"])
    elif type(block) is cuba.Dense:
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
    if mode == "affine":
        return nodes, out
    return nodes + neuron_nodes(i, block, out, dt, spiking=mode == "spikes",
                                zero_decay=zero_decay), out


def _pool_conv(i: int, block: torch.nn.Module, weight: np.ndarray, shape: tuple[int, ...]) -> Any:
    """The ``nir.Conv2d`` of SLAYER pooling block ``i`` (``weight``: its effective
    ``(1, 1, K, K)`` window) on the input ``shape`` ``(C, H, W)``: channel-diagonal kernels."""
    import nir

    syn = block.synapse
    kernel, stride = tuple(syn.kernel_size[:2]), tuple(syn.stride[:2])
    if len(shape) != 3 or shape[1] % kernel[0] or shape[2] % kernel[1]:
        raise ValueError(f"block {i} (Pool): its input {shape} must be (C, H, W) with H and W "
                         f"multiples of the window {kernel}")
    if tuple(syn.padding[:2]) != (0, 0) or tuple(syn.dilation[:2]) != (1, 1) or np.ptp(weight):
        raise _unsupported(i, block, "with padding, dilation or unequal window weights")
    channels = shape[0]
    kernels = np.zeros((channels, channels, *kernel))
    kernels[np.arange(channels), np.arange(channels)] = float(weight.reshape(-1)[0])
    return nir.Conv2d(input_shape=shape[1:], weight=kernels, stride=stride, padding=(0, 0),
                      dilation=(1, 1), groups=1, bias=np.zeros(channels))
