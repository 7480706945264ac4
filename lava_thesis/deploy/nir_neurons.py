"""SLAYER CUBA neurons as NIR nodes, and the caller's side of the ``"affine"`` readout.

The mapping and its derivation are in :mod:`lava_thesis.deploy.nir_export`. In short, with the
decay fractions ``a_i = du / 4096`` and ``a_v = dv / 4096`` and the step ``dt`` in seconds::

    tau_syn = dt / a_i,  w_in = 1 / a_i,  tau_mem = dt / a_v,  r = 1 / a_v,
    v_leak = 0,  v_reset = 0,  v_threshold = theta
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

READOUT_META = ("readout_current_decay", "readout_voltage_decay")
#: how a zero decay (no leak) is written: ``"exact"`` (NIR's ``IF``/``I`` nodes) or ``"cubalif"``
#: (a ``CubaLIF`` whose time constant is :data:`NO_LEAK_STEPS` steps, which both clients run)
ZERO_DECAYS = ("exact", "cubalif")
#: time constant, in steps, that stands for "no leak" with ``zero_decay="cubalif"``: the leak
#: per step, ``2**-60``, is below float64's resolution at 1 (``1 - 2**-60 == 1.0``), so a
#: float32/float64 client computes the leak-free update
NO_LEAK_STEPS = 2.0 ** 60


def _unsupported(i: int, block: torch.nn.Module, what: str = "") -> NotImplementedError:
    from lava_thesis.deploy.nir_export import SUPPORTED

    name = f"{type(block).__module__}.{type(block).__qualname__}"
    return NotImplementedError(
        f"block {i} ({name}){' ' + what if what else ''} is not supported by the NIR export; "
        f"supported: {', '.join(SUPPORTED)}"
    )


def decay_fractions(i: int, block: torch.nn.Module,
                    shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """``(a_i, a_v)`` of block ``i``'s CUBA neuron, each broadcast to ``shape``: the current and
    voltage decays as SLAYER's forward pass quantises them (``round(decay) / 4096``).

    Raises ``NotImplementedError`` for a neuron the export does not support and ``ValueError``
    for per-channel decays that SLAYER has not drawn yet (no forward pass so far).
    """
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

    def fraction(param: torch.Tensor) -> np.ndarray:
        value = quantize(param.detach().clamp(0, neuron.p_scale)).cpu().numpy()
        value = value.astype(np.float64).reshape((-1,) + (1,) * (len(shape) - 1))
        return np.broadcast_to(value / neuron.p_scale, shape).copy()

    return fraction(neuron.current_decay), fraction(neuron.voltage_decay)


def neuron_nodes(
    i: int, block: torch.nn.Module, shape: tuple[int, ...], dt: float, spiking: bool = True,
    zero_decay: str = "exact",
) -> list[tuple[str, Any]]:
    """CUBA neuron of block ``i`` as NIR node(s) ``[(name, node)]`` of ``shape``, time constants
    in seconds for a step of ``dt`` seconds; ``spiking=False``: the voltage stage has no
    threshold (an integrator readout, exported as ``CubaLI``, ``LI`` or ``I``).

    ``zero_decay="cubalif"`` writes a zero decay as the fraction ``1 / NO_LEAK_STEPS``, so a
    leak-free neuron becomes a ``CubaLIF``/``CubaLI`` (time constant ``2**60 dt``) instead of
    the exact ``IF``/``I`` nodes that snnTorch 1.0 refuses; the discrete parameters in the
    node's metadata stay the true ones (zero)."""
    import nir

    if zero_decay not in ZERO_DECAYS:
        raise ValueError(f"zero_decay must be one of {ZERO_DECAYS}, got {zero_decay!r}")
    neuron = block.neuron
    a_i, a_v = decay_fractions(i, block, shape)
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
    if zero_decay == "cubalif":
        a_i, a_v = (np.where(a == 0, 1 / NO_LEAK_STEPS, a) for a in (a_i, a_v))
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
    if not spiking:
        voltage = (nir.LI(tau=tau_v, r=r_v, v_leak=zero.copy(), metadata=meta) if leaky_v
                   else nir.I(r=full, metadata=meta))
    elif leaky_v:
        voltage = nir.LIF(tau=tau_v, r=r_v, v_leak=zero.copy(), v_threshold=theta,
                          v_reset=zero.copy(), metadata=meta)
    else:
        voltage = nir.IF(r=full, v_threshold=theta, v_reset=zero.copy(), metadata=meta)
    if not leaky_v and np.all(a_i == 1):  # i[t] = x[t]: the current stage is the identity
        return [(name, voltage)]
    current = (nir.LI(tau=tau_i, r=r_i, v_leak=zero.copy(), metadata=meta) if leaky_i
               else nir.I(r=full.copy(), metadata=meta))
    return [(f"{name}_current", current), (f"{name}_voltage", voltage)]


def readout_metadata(i: int, block: torch.nn.Module, shape: tuple[int, ...]) -> dict[str, Any]:
    """Graph metadata for ``readout="affine"``: block ``i``'s decays, which the caller applies
    to the graph's output with :func:`integrate_readout`."""
    a_i, a_v = decay_fractions(i, block, shape)
    return {"readout_block": i, READOUT_META[0]: a_i, READOUT_META[1]: a_v}


def integrate_readout(current: np.ndarray | torch.Tensor, metadata: dict,
                      axis: int = -1) -> np.ndarray:
    """The readout voltage from the output of a graph exported with ``readout="affine"``.

    The graph's output is the readout block's synaptic input ``x[t]``; this applies the block's
    discrete CUBA dynamics (no threshold) along ``axis``, in float64::

        i[t] = (1 - a_i) i[t-1] + x[t],    v[t] = (1 - a_v) v[t-1] + i[t]

    with ``a_i``, ``a_v`` from ``metadata`` (``graph.metadata``). DIET's integrator has
    ``a_i = 1, a_v = 0``: ``v[t]`` is the running sum of ``x``.

    Parameters
    ----------
    current:
        The graph's output over time, e.g. ``(N, classes, T)``.
    metadata:
        The graph's metadata, holding ``readout_current_decay`` and ``readout_voltage_decay``.
    axis:
        The time axis of ``current``.

    Raises
    ------
    ValueError
        If ``metadata`` lacks the readout decays (a graph not exported with ``"affine"``).
    """
    missing = [key for key in READOUT_META if key not in metadata]
    if missing:
        raise ValueError(f"graph metadata lacks {', '.join(missing)}: the graph was not "
                         "exported with readout='affine'")
    x = np.moveaxis(np.asarray(current, dtype=np.float64), axis, -1)
    a_i, a_v = (np.asarray(metadata[key], dtype=np.float64) for key in READOUT_META)
    i_state = v_state = np.zeros(x.shape[:-1])
    out = np.empty_like(x)
    for t in range(x.shape[-1]):
        i_state = (1 - a_i) * i_state + x[..., t]
        v_state = (1 - a_v) * v_state + i_state
        out[..., t] = v_state
    return np.moveaxis(out, -1, axis)
