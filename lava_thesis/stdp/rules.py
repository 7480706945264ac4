"""STDP weight dependences, and the ones Loihi's learning engine can run on chip.

The Diehl & Cook pre-trace rule, applied on each postsynaptic spike, with a weight dependence
``f``::

    dw_ji = eta (x_i - x_tar) f(w_ji)

* ``"power-law"`` (the thesis): ``f(w) = (w_max - w)^mu``, ``mu = 0.2`` (``STDPParams.mu``);
* ``"soft-bound"``: ``f(w) = w_max - w`` (``mu = 1``): linear, weights approach ``w_max``;
* ``"hard-bound"``: ``f(w) = 1`` (``mu = 0``): the same step everywhere, weights clipped to
  ``[0, w_max]``.

The engine and the Lava Processes run all three through ``mu`` (:func:`rule_params`). Loihi's
learning engine computes sums of products ``S * dependency * prod(state + C)`` of traces,
synaptic variables and constants, with ``S = m 2**e`` (``|m| <= 7``, ``-7 <= e <= 8``); a
fractional power has no such form, the other two have one product each
(:func:`loihi_dw`)::

    soft-bound:  dw = -eta * y0 * (x1 - x_tar) * (w - w_max)
    hard-bound:  dw =  eta * y0 * (x1 - x_tar)

:func:`loihi_stdp_dense` builds lava's ``LearningDense`` with that rule (a
``Loihi2FLearningRule``, presynaptic trace ``x1`` of impulse 1 and time constant ``tau_pre``,
learning every step). Its constants are ``eta``, ``x_tar`` and ``w_max`` rounded to what the
rule can hold (:func:`loihi_params`); with those values, lava's floating-point model and our
engine compute the same weights (``tests/test_stdp_rules.py``). Lava's model bounds excitatory
weights below at 0 but not above: with the hard bound a weight can pass ``w_max`` on Lava's
floating-point model, where the engine clips it (on Loihi the upper bound is the weight range).

Example:
    >>> print(loihi_dw("soft-bound", eta=2**-7, x_tar=0.40625, w_max=1.0))
    -1*2^-7 * y0 * (x1 - 13*2^-5) * (w - 1*2^0)
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from lava_thesis.stdp.params import STDPParams

#: rule -> the ``mu`` it runs with (None: ``STDPParams.mu``, the power law)
RULES: dict[str, float | None] = {"power-law": None, "soft-bound": 1.0, "hard-bound": 0.0}
LOIHI_RULES = ("soft-bound", "hard-bound")


def rule_params(params: STDPParams, rule: str) -> STDPParams:
    """``params`` with the ``mu`` of ``rule`` (one of :data:`RULES`)."""
    if rule not in RULES:
        raise ValueError(f"rule must be one of {tuple(RULES)}, got {rule!r}")
    mu = RULES[rule]
    return params if mu is None else dataclasses.replace(params, mu=mu)


def scale_constant(value: float) -> tuple[int, int]:
    """``(m, e)`` with ``m 2**e`` closest to ``value``, ``1 <= |m| <= 7`` and ``-7 <= e <= 8``:
    a learning rule's scaling constant on Loihi. Raises ``ValueError`` outside that range."""
    if not math.isfinite(value) or value == 0:
        raise ValueError(f"a scaling constant must be finite and non-zero, got {value!r}")
    best = min(((m, e) for m in range(1, 8) for e in range(-7, 9)),
               key=lambda me: (abs(me[0] * 2.0 ** me[1] - abs(value)), me[0]))
    m, e = best
    if not 0.5 <= m * 2.0 ** e / abs(value) <= 2.0:
        raise ValueError(f"{value:g} is outside the learning engine's scaling constants "
                         f"[2**-7, 7 * 2**8]")
    return (m if value > 0 else -m), e


def factor_constant(value: float, bits: int = 8) -> tuple[int, int]:
    """``(m, e)`` with ``m 2**e`` closest to ``value`` and ``|m| < 2**bits``: a constant inside
    a product's factor ``(state + C)``."""
    if not math.isfinite(value):
        raise ValueError(f"a factor constant must be finite, got {value!r}")
    if value == 0:
        return 0, 0
    e = math.floor(math.log2(abs(value))) - (bits - 1)
    m = int(round(value / 2.0 ** e))
    while abs(m) >= 2 ** bits:
        m, e = int(round(m / 2)), e + 1
    while m and m % 2 == 0:
        m, e = m // 2, e + 1
    return m, e


def _literal(me: tuple[int, int]) -> str:
    return f"{me[0]}*2^{me[1]}"


def _value(me: tuple[int, int]) -> float:
    return me[0] * 2.0 ** me[1]


def loihi_params(params: STDPParams) -> STDPParams:
    """``params`` with ``eta``, ``x_tar`` and ``w_max`` rounded to the constants a Loihi
    learning rule holds (:func:`scale_constant`, :func:`factor_constant`)."""
    return dataclasses.replace(params, eta=_value(scale_constant(params.eta)),
                               x_tar=_value(factor_constant(params.x_tar)),
                               w_max=_value(factor_constant(params.w_max)))


def loihi_dw(rule: str, *, eta: float, x_tar: float, w_max: float) -> str:
    """The ``dw`` string of ``rule`` for lava's learning rules (constants rounded as in
    :func:`loihi_params`). The power law has none: ``ValueError``."""
    if rule not in LOIHI_RULES:
        raise ValueError(f"rule {rule!r} has no Loihi learning-rule form (a product of "
                         f"traces, weights and constants); use one of {LOIHI_RULES}")
    s, xt = scale_constant(eta), factor_constant(x_tar)
    if rule == "hard-bound":
        return f"{_literal(s)} * y0 * (x1 - {_literal(xt)})"
    return (f"{_literal((-s[0], s[1]))} * y0 * (x1 - {_literal(xt)}) * "
            f"(w - {_literal(factor_constant(w_max))})")


def loihi_learning_rule(params: STDPParams, rule: str):
    """lava's ``Loihi2FLearningRule`` for ``rule`` (one of :data:`LOIHI_RULES`) with the
    constants of ``params``: ``x1`` is the presynaptic trace (impulse 1, ``tau_pre``), the rule
    is applied every step (``t_epoch = 1``) on each postsynaptic spike (``y0``)."""
    from lava.magma.core.learning.learning_rule import Loihi2FLearningRule

    return Loihi2FLearningRule(
        dw=loihi_dw(rule, eta=params.eta, x_tar=params.x_tar, w_max=params.w_max),
        x1_impulse=1, x1_tau=params.tau_pre, t_epoch=1)


def loihi_stdp_dense(weights: np.ndarray, params: STDPParams, rule: str = "soft-bound"):
    """lava's ``LearningDense`` ``(n_post, n_pre)`` that learns with ``rule`` on chip:
    excitatory weights (``SignMode.EXCITATORY``: never below 0), postsynaptic spikes on its
    ``s_in_bap`` port. Use :func:`loihi_params` ``(params)`` for the engine to compute the same
    weights."""
    from lava.proc.dense.process import LearningDense
    from lava.utils.weightutils import SignMode

    weights = np.asarray(weights, np.float64)
    if weights.ndim != 2 or np.any(weights < 0):
        raise ValueError(f"weights must be a non-negative (n_post, n_pre) array, got shape "
                         f"{weights.shape}")
    return LearningDense(weights=weights, learning_rule=loihi_learning_rule(params, rule),
                         sign_mode=SignMode.EXCITATORY)
