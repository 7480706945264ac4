"""A torch-native CUBA-LIF neuron, bit-exact with SLAYER's ``slayer.neuron.cuba`` forward pass.

SLAYER's CPU path runs the neuron as two separate leaky integrators (current, then voltage), each
a Python loop over time that writes one strided time slice per step, then a spike function, and
backward as two more loops; on CUDA it JIT-builds a ``.cu`` kernel (needs nvcc). This module
computes the same fixed-point dynamics in plain torch (CPU or CUDA, no build step) in one
:class:`torch.autograd.Function` with time as the leading, contiguous axis, the integer states
held exactly in float64 (vectorised on the CPU, unlike int64 division) and SLAYER's casts and
float32 comparisons reproduced, so spikes, voltages and currents equal SLAYER's bit for bit
(while ``|state| < 2**29`` in float units, where float64 stops being exact; SLAYER's int64 state
wraps at ``2**51``). Only float32 input, as SLAYER uses.

Dynamics (integers in units of ``1 / s_scale``, ``s_scale = 64 * 64 = 4096`` for SLAYER's
default ``scale = 1 << 6``; decays ``d`` are 12-bit integers, ``q(.)`` rounds):

.. math::
    u[t] &= \\operatorname{trunc}\\!\\big(u[t-1]\\,(4096 - q(d_u)) / 4096\\big)
            + \\operatorname{trunc}(s\\,z[t]) \\\\
    v[t] &= \\operatorname{trunc}\\!\\big(\\tilde v[t-1]\\,(4096 - q(d_v)) / 4096\\big)
            + \\operatorname{trunc}(s \\cdot \\mathrm{fl}(u[t] / s)) \\\\
    \\tilde v[t] &= v[t]\\,[v[t] < s\\,(\\vartheta + \\epsilon)] \\qquad \\text{(hard reset)} \\\\
    o[t] &= [\\mathrm{fl}(v[t] / s) \\geq \\vartheta + \\epsilon]

with ``fl`` the float32 rounding SLAYER applies between its two integrators and
``eps = 0.01 / s_scale`` (SLAYER's ``threshold_eps``). The voltage returned is ``v[t] / s``
before the reset, as SLAYER's ``neuron.dynamics`` returns it.

Backward (SLAYER's, reproduced operation for operation): the spike's surrogate derivative
``scale_rho / 2 / tau_rho * exp(-|v - theta| / tau_rho)`` (``tau_rho = 100 tau_grad theta``,
``scale_rho = 0.1 scale_grad``), then each integrator's linear adjoint
``g[t] = (1 - q(d) / 4096) g[t+1] + grad[t]`` (the reset is ignored, as in SLAYER), and the decay
gradients ``sum_t g[t+1] y[t]`` passed straight through the rounding. The same float32
operations in the same order (and SLAYER's reduction layout for the decay gradients) make the
gradients equal SLAYER's CPU gradients; the tests allow ``rtol=1e-5, atol=1e-6``.

:func:`neuron_forward` is a drop-in for ``block.neuron(z)`` (state, per-channel decays and
persistent state handled as SLAYER does), :func:`neuron_dynamics` for
``block.neuron.dynamics(z)`` (a non-spiking readout's voltage), and :func:`block_forward` for
``block(x)`` of a ``slayer.block.cuba.Dense``/``Conv`` (synapse, neuron, one-step
``delay_shift``). None of them builds anything: plain torch ops on CPU or CUDA.
:class:`~lava_thesis.diet.DietSNN` runs its neurons through them by default
(``neuron_engine="torch"``).
"""

from __future__ import annotations

import math

import numpy as np
import torch

#: SLAYER's cuba surrogate-gradient multipliers (``TAU_RHO_MULT``, ``SCALE_RHO_MULT``)
TAU_RHO_MULT = 100
SCALE_RHO_MULT = 0.1
_DECAY_BITS = 12


def _decay_shape(decay: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
    """A per-channel decay ``(C,)`` reshaped to broadcast against a state ``(N, C, ...)``."""
    if decay.numel() > 1 and state.dim() > 2:
        return decay.reshape((-1,) + (1,) * (state.dim() - 2))
    return decay


def reset_level(threshold: float) -> float | None:
    """The smallest integer state SLAYER resets, or None when it never resets (``threshold``
    <= 0). SLAYER tests ``int64 state >= threshold`` (a Python float), which torch evaluates in
    float32; the level is found by probing exactly that operation (it is monotone in the
    state), so the reset here is an exact comparison of integers."""
    if not threshold > 0:
        return None

    def resets(y: int) -> bool:
        return bool(torch.tensor([y], dtype=torch.int64) >= threshold)

    lo = math.floor(threshold * (1 - 2.0**-20)) - 1
    hi = math.ceil(threshold * (1 + 2.0**-20)) + 1
    if resets(lo) or not resets(hi):
        raise RuntimeError(f"cannot bracket SLAYER's reset level for threshold {threshold}")
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if resets(mid) else (mid, hi)
    return float(hi)


def _integrate(drive: torch.Tensor, decay_q: torch.Tensor, state: torch.Tensor,
               s_scale: int, level: float | None) -> torch.Tensor:
    """Fixed-point leaky integration over the leading (time) axis of ``drive``.

    ``drive`` holds integers (float32, units of ``1 / s_scale``) and ``state`` SLAYER's float
    state; the integer state is kept in float64 (exact below 2**41, i.e. ``|state| < 2**29``
    in float units; SLAYER's int64 is exact below 2**51). Returns ``fl32(y / s_scale)``, the
    pre-reset state per step, as SLAYER writes it; with a reset ``level`` the state is set to
    zero after each step where it reached it."""
    keep = _decay_shape((1 << _DECAY_BITS) - decay_q.to(torch.float64), state)
    if bool((keep == 0).all()):  # no memory: y[t] = drive[t] whatever the reset
        return (drive / s_scale).add_(0.0)  # + 0.0: -0.0 -> 0.0, as from SLAYER's integers
    no_decay = bool((keep == 1 << _DECAY_BITS).all())
    out = torch.empty_like(drive)
    y = torch.trunc(state * s_scale).to(torch.float64)
    for t in range(drive.shape[0]):
        if no_decay:  # trunc(y * 4096 / 4096) == y
            y = y + drive[t]
        else:  # right shift towards zero: trunc(y * keep / 4096), exact in float64
            y = torch.div(y * keep, 1 << _DECAY_BITS, rounding_mode="trunc").add_(drive[t])
        torch.div(y, s_scale, out=out[t])
        if level is not None:
            y.mul_(y < level)
    return out.add_(0.0)


def _adjoint(grad: torch.Tensor, decay_q: torch.Tensor) -> torch.Tensor:
    """SLAYER's integrator backward over the leading time axis:
    ``g[T-1] = grad[T-1]``, ``g[t] = (1 - q(d) / 4096) g[t+1] + grad[t]``."""
    decay = _decay_shape(1 - decay_q / (1 << _DECAY_BITS), grad[0])
    if bool((decay == 0).all()):
        return grad
    out = torch.empty_like(grad)
    out[-1] = grad[-1]
    for t in range(grad.shape[0] - 2, -1, -1):
        torch.add(decay * out[t + 1], grad[t], out=out[t])
    return out


def _decay_grad(adj: torch.Tensor, out: torch.Tensor, decay: torch.Tensor) -> torch.Tensor:
    """``sum g[t+1] y[t]`` reduced as SLAYER reduces it (time-last layout, same order)."""
    prod = (adj[1:] * out[:-1]).movedim(0, -1).contiguous()
    if decay.numel() == 1:
        return torch.sum(prod.flatten(), dim=0, keepdim=True).reshape(decay.shape)
    grad = torch.sum(prod, dim=[0, -1])
    if grad.dim() != 1:
        grad = torch.sum(grad.reshape(grad.shape[0], -1), dim=1)
    return grad.reshape(decay.shape)


class CubaFunction(torch.autograd.Function):
    """Fused CUBA-LIF neuron; ``z`` and the voltage and current are time-first
    ``(T, N, C, ...)``, the spikes time-last ``(N, C, ..., T)``.

    ``forward(z, current_decay, voltage_decay, current_state, voltage_state, threshold,
    s_scale, tau_rho, scale_rho) -> (spikes, voltage, current)``. Decays are SLAYER's raw
    parameters (``p_scale`` units, rounded here); states are float ``(N, C, ...)``;
    ``threshold`` includes SLAYER's ``threshold_eps``; ``tau_rho``/``scale_rho`` include the
    ``TAU_RHO_MULT``/``SCALE_RHO_MULT`` factors. Gradients flow to ``z`` and both decays."""

    @staticmethod
    def forward(ctx, z, current_decay, voltage_decay, current_state, voltage_state,
                threshold, s_scale, tau_rho, scale_rho):
        ctx.set_materialize_grads(False)
        if z.dtype != torch.float32:
            raise ValueError(f"z must be float32 (SLAYER's dtype), got {z.dtype}")
        cur_q, volt_q = torch.round(current_decay.detach()), torch.round(voltage_decay.detach())
        # SLAYER: (s * z).to(int64); z / 2**-12 == z * 4096 exactly (a power of two)
        drive = torch.empty(z.shape, dtype=z.dtype, device=z.device)
        torch.div(z, 1.0 / s_scale, rounding_mode="trunc", out=drive)
        current = _integrate(drive, cur_q, current_state, s_scale, None)
        torch.div(current, 1.0 / s_scale, rounding_mode="trunc", out=drive)
        voltage = _integrate(drive, volt_q, voltage_state, s_scale,
                             reset_level(threshold * s_scale))
        # spikes written time-last, ready for the next layer (one transpose fewer)
        last = voltage.movedim(0, -1)
        spikes = torch.empty(last.shape, dtype=z.dtype, device=z.device)
        torch.ge(last, threshold, out=spikes)
        ctx.save_for_backward(voltage, current, cur_q, volt_q)
        ctx.constants = (threshold, tau_rho, scale_rho)
        return spikes, voltage, current

    @staticmethod
    def backward(ctx, grad_spikes, grad_voltage, grad_current):
        voltage, current, cur_q, volt_q = ctx.saved_tensors
        threshold, tau_rho, scale_rho = ctx.constants
        kw = {"device": voltage.device, "dtype": voltage.dtype}
        th, tau, scale = (torch.tensor(threshold, **kw), torch.tensor(tau_rho, **kw),
                          torch.tensor(scale_rho, **kw))
        if grad_spikes is None:
            grad_v = torch.zeros_like(voltage)
        else:  # scale / 2 / tau * exp(-|v - th| / tau) * grad, in place
            grad_v = torch.sub(voltage, th).abs_().neg_().div_(tau).exp_()
            grad_v.mul_(scale / 2 / tau).mul_(grad_spikes.movedim(-1, 0))
        if grad_voltage is not None:
            grad_v = grad_v + grad_voltage
        adj_v = _adjoint(grad_v, volt_q)
        grad_c = adj_v if grad_current is None else adj_v + grad_current
        adj_c = _adjoint(grad_c, cur_q)
        need = ctx.needs_input_grad
        grad_cd = _decay_grad(adj_c, current, cur_q) if need[1] else None
        grad_vd = _decay_grad(adj_v, voltage, volt_q) if need[2] else None
        return adj_c, grad_cd, grad_vd, None, None, None, None, None, None


def cuba_lif(z: torch.Tensor, current_decay: torch.Tensor, voltage_decay: torch.Tensor,
             threshold: float, s_scale: int = 1 << 12, tau_rho: float = 1.0,
             scale_rho: float = 1.0, current_state: torch.Tensor | None = None,
             voltage_state: torch.Tensor | None = None):
    """CUBA-LIF response to a synaptic input ``z`` of shape ``(N, C, ..., T)``.

    Parameters are as in :class:`CubaFunction` (``threshold`` with SLAYER's ``threshold_eps``
    already added; states default to zero). Returns ``(spikes, voltage, current)``, each
    ``(N, C, ..., T)``; the voltage is the pre-reset voltage SLAYER reports."""
    if z.dim() < 3:
        raise ValueError(f"z must be (N, C, ..., T) with at least 3 dims, got {tuple(z.shape)}")
    shape = z.shape[:-1]
    zeros = torch.zeros(shape, dtype=z.dtype, device=z.device)
    cs = zeros if current_state is None else current_state * torch.ones_like(zeros)
    vs = zeros if voltage_state is None else voltage_state * torch.ones_like(zeros)
    out = CubaFunction.apply(z.movedim(-1, 0), current_decay, voltage_decay,
                             cs, vs, float(threshold), int(s_scale), float(tau_rho),
                             float(scale_rho))
    return out[0], out[1].movedim(0, -1), out[2].movedim(0, -1)


def _check_supported(neuron) -> None:
    from lava.lib.dl.slayer.neuron import cuba as slayer_cuba

    if not isinstance(neuron, slayer_cuba.Neuron):
        raise TypeError(f"expected a slayer cuba.Neuron, got {type(neuron).__name__}")
    if neuron.norm is not None or neuron.drop is not None or neuron.graded_spike:
        raise ValueError("the torch-native CUBA neuron supports neither norm, dropout nor "
                         "graded spikes; use SLAYER's neuron for those")


def _prepare(neuron, z: torch.Tensor) -> None:
    """SLAYER's first-call shape set-up (incl. per-channel decay draw) and state resizing."""
    if neuron.shape is None:
        neuron.shape = z.shape[1:-1]
        if len(neuron.shape) == 0:
            raise ValueError(f"z must be (N, C, ..., T) with at least 3 dims, got {tuple(z.shape)}")
        neuron.num_neurons = np.prod(neuron.shape)
        if neuron.shared_param is False:
            for name in ("current_decay", "voltage_decay"):
                lo, hi = getattr(neuron, name + "_min"), getattr(neuron, name + "_max")
                draw = lo + (hi - lo) * torch.rand(neuron.shape[0], dtype=torch.float)
                getattr(neuron, name).data = neuron.p_scale * draw.to(neuron.device)
                delattr(neuron, name + "_min")
                delattr(neuron, name + "_max")
    elif z.shape[1:-1] != neuron.shape:
        raise ValueError(f"z shape {tuple(z.shape)} does not match the neuron shape "
                         f"{tuple(neuron.shape)}")
    dtype, device = neuron.current_state.dtype, neuron.current_state.device
    if neuron.current_state.shape[0] != z.shape[0]:
        neuron.current_state = torch.zeros(z.shape[:-1], dtype=dtype, device=device)
        neuron.voltage_state = torch.zeros(z.shape[:-1], dtype=dtype, device=device)
    if neuron.current_state.shape[1:] != neuron.shape:
        ones = torch.ones(z.shape[:-1], dtype=dtype, device=device)
        neuron.current_state = neuron.current_state * ones
        neuron.voltage_state = neuron.voltage_state * ones
    if neuron.requires_grad is True:
        neuron.clamp()


def _run(neuron, z: torch.Tensor):
    """A SLAYER neuron's response through :func:`cuba_lif`: ``(spikes, voltage, current)``.
    A half-precision ``z`` (from a synapse under ``torch.autocast``) is widened to float32,
    the neuron's own precision; its gradient flows back in the input's dtype."""
    _check_supported(neuron)
    if z.dtype in (torch.float16, torch.bfloat16):
        z = z.float()
    _prepare(neuron, z)
    return cuba_lif(
        z, neuron.current_decay, neuron.voltage_decay, neuron.threshold + neuron.threshold_eps,
        neuron.s_scale, neuron.tau_rho * TAU_RHO_MULT, neuron.scale_rho * SCALE_RHO_MULT,
        neuron.current_state, neuron.voltage_state)


def neuron_forward(neuron, z: torch.Tensor, return_voltage: bool = False):
    """Drop-in for ``neuron(z)`` of a SLAYER ``cuba.Neuron``: spikes ``(N, C, ..., T)``,
    bit-identical to SLAYER's; with ``return_voltage`` also the (pre-reset) voltage, as
    ``neuron.dynamics(z)[1]`` gives it. Updates the neuron's state as SLAYER does."""
    spikes, voltage, current = _run(neuron, z)
    if neuron.persistent_state is True:
        with torch.no_grad():
            neuron.current_state = current[..., -1].clone()
            fired = (spikes[..., -1] > 0).to(voltage.dtype)
            neuron.voltage_state = (voltage[..., -1] * (1 - fired)).clone()
    return (spikes, voltage) if return_voltage else spikes


def neuron_dynamics(neuron, z: torch.Tensor):
    """Drop-in for ``neuron.dynamics(z)``: ``(current, voltage)``, bit-identical to SLAYER's
    (the voltage before reset; e.g. a non-spiking readout's state). With persistent state the
    neuron keeps the last current and voltage, not reset, as SLAYER's ``dynamics`` does."""
    _, voltage, current = _run(neuron, z)
    if neuron.persistent_state is True:
        with torch.no_grad():
            neuron.current_state = current[..., -1].clone()
            neuron.voltage_state = voltage[..., -1].clone()
    return current, voltage


def block_forward(block, x: torch.Tensor):
    """Drop-in for ``block(x)`` of a ``slayer.block.cuba.Dense``/``Conv``: synapse, this
    module's neuron, SLAYER's one-step ``delay_shift`` and axonal delay, ``count_log``."""
    from lava.lib.dl.slayer.block.base import step_delay

    if getattr(block, "mask", None) is not None:
        raise ValueError("masked SLAYER blocks are not supported by the torch-native neuron")
    out = neuron_forward(block.neuron, block.synapse(x))
    if block.delay_shift is True:
        out = step_delay(block, out)
    if getattr(block, "delay", None) is not None:
        out = block.delay(out)
    if block.count_log is True:
        return out, torch.mean(out > 0)
    return out
