"""Integrate-and-fire step with the surrogate gradients of hybrid conversion + STDB.

One step of layer ``l`` (state in, state out; Norse style)::

    u[t] = leak * u[t-1] + I[t] - theta * s[t-1]     (soft reset: subtract the threshold)
    u[t] = leak * u[t-1] * (1 - s[t-1]) + I[t]        (hard reset: what Lava and Loihi do)
    s[t] = H(u[t] / theta - 1)

STDB (Rathi et al., ICLR 2020) replaces dH/du by ``alpha * exp(-beta * dt)``, ``dt`` = steps
since the neuron's last spike (a neuron that never fired has ``dt`` ~ 1000: gradient ~ 0).

Example:
    >>> import torch
    >>> u, s, last = if_step(torch.zeros(3), torch.tensor([0.5, 1.5, 2.5]), torch.zeros(3),
    ...                      torch.full((3,), -1000.0), t=0, theta=1.0)
    >>> s.tolist(), last.tolist()
    ([0.0, 1.0, 1.0], [-1000.0, 0.0, 0.0])
"""

from __future__ import annotations

import torch

NEVER = -1000.0  # "last spike time" of a neuron that has not fired (the authors' code)


class _STDB(torch.autograd.Function):
    @staticmethod
    def forward(ctx, v: torch.Tensor, dt: torch.Tensor, alpha: float, beta: float):
        ctx.save_for_backward(dt)
        ctx.alpha, ctx.beta = alpha, beta
        return (v > 0).to(v.dtype)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        (dt,) = ctx.saved_tensors
        return grad * ctx.alpha * torch.exp(-ctx.beta * dt), None, None, None


class _Linear(torch.autograd.Function):
    @staticmethod
    def forward(ctx, v: torch.Tensor, alpha: float):
        ctx.save_for_backward(v)
        ctx.alpha = alpha
        return (v > 0).to(v.dtype)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        (v,) = ctx.saved_tensors
        return grad * ctx.alpha * torch.clamp(1.0 - v.abs(), min=0.0), None


def stdb_spike(v: torch.Tensor, dt: torch.Tensor, alpha: float = 0.3,
               beta: float = 0.01) -> torch.Tensor:
    """Heaviside of ``v = u / theta - 1``; gradient ``alpha * exp(-beta * dt)``."""
    return _STDB.apply(v, dt, alpha, beta)


def linear_spike(v: torch.Tensor, alpha: float = 0.3) -> torch.Tensor:
    """Heaviside of ``v``; gradient ``alpha * max(0, 1 - |v|)`` (the linear surrogate)."""
    return _Linear.apply(v, alpha)


def if_step(u: torch.Tensor, current: torch.Tensor, s_prev: torch.Tensor,
            last: torch.Tensor, t: int, theta: float | torch.Tensor, *, leak: float = 1.0,
            reset: str = "soft", surrogate: str = "stdb", alpha: float = 0.3,
            beta: float = 0.01) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One IF step; returns ``(u, s, last)`` (``last``: step of each neuron's last spike).

    ``dt`` for the STDB gradient at step ``t`` is ``t - last`` with ``last`` the previous
    spike (before this step), as in the authors' code.
    """
    if reset == "soft":
        u = leak * u + current - theta * s_prev
    elif reset == "hard":
        u = leak * u * (1.0 - s_prev) + current
    else:
        raise ValueError(f"reset must be 'soft' or 'hard', got {reset!r}")
    v = u / theta - 1.0
    if surrogate == "stdb":
        s = stdb_spike(v, (t - last).detach(), alpha, beta)
    elif surrogate == "linear":
        s = linear_spike(v, alpha)
    else:
        raise ValueError(f"surrogate must be 'stdb' or 'linear', got {surrogate!r}")
    last = torch.where(s.detach() > 0, torch.full_like(last, float(t)), last)
    return u, s, last
