"""Fixed-point (Loihi-style integer) form of a trained Diehl & Cook network, for inference.

Learning is off at inference, so every learned quantity is a constant: the input weights
(optionally pruned and quantized) and the adaptive thresholds, which fold into per-neuron
thresholds ``vth_j = exc_vth + theta_j``. :func:`to_fixed_point` turns a float
:class:`~lava_thesis.stdp.STDPNetwork` into integers for Lava's bit-accurate building blocks
(``Dense`` with ``weight_exp``, the LIF arithmetic of ``AbstractPyLifModelFixed``); the Lava
network is :func:`lava_thesis.stdp.deploy.lava_fixed_run_raster`, the bit-identical fast
engine :mod:`lava_thesis.stdp.fixed_engine`.

Conversion (``S = 2**k`` integer units per float voltage unit):

.. math::
    k = \\lfloor \\log_2((2^{15} - 1) / M) \\rfloor,\\quad
    M = \\max(\\text{exc\\_vth} + \\max_j \\theta_j,\\ \\text{inh\\_vth},\\ w_{ei},
    \\ n_{inh} w_{ie},\\ \\max w)

    e = \\lceil \\log_2(\\max |W| S / 255) \\rceil \\ \\text{(per layer)},\\quad
    m = \\mathrm{round}(W S / 2^e) \\in [-255, 255]

    \\text{vth}_j = \\mathrm{round}((\\text{exc\\_vth} + \\theta_j) S),\\quad
    \\text{du}' = \\mathrm{round}(4096\\,\\text{du}) - 1,\\quad
    \\text{dv}' = \\mathrm{round}(4096\\,\\text{dv})

(``du'`` and ``dv'`` clipped to Lava's 12-bit ``[0, 4095]``; Lava adds 1 to ``du'``, so
``du = 1`` is exact; ``weight_bits < 8`` rounds ``m`` to a multiple of ``2**(8 - bits)``, the
values Lava's ``truncate_weights`` keeps). The integer dynamics, per step ``t`` (Lava's
bit-accurate LIF plus the refractory period of ``LIFRefractory``), with
``dec(x, d) = sgn(x) (|x| (4096 - d) >> 12)``:

.. math::
    a_j[t] = \\begin{cases} (\\sum_i m_{ji} s_i[t-1]) \\ll e & e > 0 \\\\
    \\lfloor \\sum_i m_{ji} s_i[t-1] / 2^{-e} \\rfloor & e \\le 0 \\end{cases}

    u[t] = \\mathrm{wrap}_{24}(\\mathrm{dec}(u[t-1], \\text{du}' + 1) + (a[t] \\ll 6))

    v[t] = \\mathrm{clip}_{24}(\\mathrm{dec}(v[t-1], \\text{dv}') + u[t])
    \\quad \\text{(held while refractory)}

    s[t] = v[t] > (\\text{vth} \\ll 6); \\text{ then } v \\leftarrow 0 \\text{ and the neuron is
    refractory until } t + \\text{refractory}

The state is the float state times ``64 S`` (``u, v``) and the currents ``a`` the float
currents times ``S``. The ``2**15`` budget keeps the thresholds and one step's activation,
including the inhibition of ``n_inh`` (``max_inh_spikes``) simultaneous inhibitory spikes,
within Loihi's 16-bit activation. Beyond it Lava's CPU simulator still carries the activation
as int32, but ``u`` wraps around at ``2**23`` (4 times the budget, times 64): inhibition would
turn into excitation. :class:`~lava_thesis.stdp.fixed_engine.FixedPointRunner` reports the
largest activation a run reached.

Example:
    >>> from lava_thesis.stdp import STDPNetwork, STDPParams
    >>> fx = to_fixed_point(STDPNetwork(STDPParams(n_input=4, n_exc=2)))
    >>> fx.scale, fx.exc_du, fx.exc_dv, int(fx.w_in.max()) <= 255
    (1024, 4095, 41, True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lava_thesis.stdp.params import STDPParams

#: Loihi's synaptic weight mantissa: up to 8 bits (one sign mode per layer)
MAX_MANTISSA = 255
#: the largest threshold or single synaptic event, in integer units (16-bit activation)
BUDGET = 2**15 - 1
#: simultaneous inhibitory spikes the default scale absorbs within 16 bits: trained MNIST
#: networks (400 neurons) fired up to 18 inhibitory spikes in one step on 200 test images
#: (excitatory: median 2 per image), each excitatory spike firing its inhibitory partner one
#: step later
MAX_INH_SPIKES = 32
#: Loihi's weight exponent range
WEIGHT_EXP_RANGE = (-8, 7)
#: 12-bit decays: 4096 = no memory
DECAY_UNITY = 4096


@dataclass(frozen=True)
class FixedPointNetwork:
    """The integers of a trained network (see the module's equations).

    ``w_in`` ``(n_exc, n_input)`` input mantissas in ``[0, 255]`` with exponent ``w_in_exp``;
    ``w_ei`` (one-to-one excitation, > 0) and ``w_ie`` (lateral inhibition, <= 0) scalar
    mantissas with their exponents; ``exc_vth`` ``(n_exc,)`` thresholds with theta folded in
    and ``inh_vth``; Lava's 12-bit ``du``/``dv`` per population; refractory periods in
    steps; ``scale`` ``S``. ``params`` keeps the input scheme (rates, presentation window,
    re-presentation) of the float network.
    """

    params: STDPParams
    scale: int
    w_in: np.ndarray
    w_in_exp: int
    w_ei: int
    w_ei_exp: int
    w_ie: int
    w_ie_exp: int
    exc_vth: np.ndarray
    inh_vth: int
    exc_du: int
    exc_dv: int
    inh_du: int
    inh_dv: int
    exc_refractory: int
    inh_refractory: int
    weight_bits: int = 8

    @property
    def n_exc(self) -> int:
        return int(self.params.n_exc)

    @property
    def n_input(self) -> int:
        return int(self.params.n_input)

    def exc_inh_weights(self) -> np.ndarray:
        """The one-to-one excitatory -> inhibitory mantissas ``(n_exc, n_exc)`` (Dense)."""
        return np.eye(self.n_exc, dtype=np.int64) * self.w_ei

    def inh_exc_weights(self) -> np.ndarray:
        """The all-but-self inhibitory -> excitatory mantissas ``(n_exc, n_exc)`` (Dense)."""
        return (1 - np.eye(self.n_exc, dtype=np.int64)) * self.w_ie


def decay_u(du: float) -> int:
    """Lava's 12-bit current decay for a float ``du`` in ``[0, 1]``: ``round(4096 du) - 1``
    in ``[0, 4095]`` (Lava's fixed LIF decays by ``du' + 1``)."""
    return int(np.clip(round(du * DECAY_UNITY) - 1, 0, DECAY_UNITY - 1))


def decay_v(dv: float) -> int:
    """Lava's 12-bit voltage decay for a float ``dv`` in ``[0, 1]``: ``round(4096 dv)`` in
    ``[0, 4095]``."""
    return int(np.clip(round(dv * DECAY_UNITY), 0, DECAY_UNITY - 1))


def scale_bits(largest: float, budget: int = BUDGET) -> int:
    """``k`` of the scale ``S = 2**k``: the largest with ``largest * 2**k <= budget``."""
    if not math.isfinite(largest) or largest <= 0:
        raise ValueError(f"the largest threshold or weight must be finite and > 0, "
                         f"got {largest!r}")
    return int(math.floor(math.log2(budget / largest)))


def quantize_layer(weights: np.ndarray, scale: int, weight_bits: int = 8,
                   name: str = "weights") -> tuple[np.ndarray, int]:
    """Float weights of one sign (all >= 0 or all <= 0) -> ``(mantissas, exponent)`` with
    ``mantissas * 2**exponent ~= weights * scale``: ``e = ceil(log2(max|W| S / 255))``,
    ``m = round(W S / 2**e)``, rounded to a multiple of ``2**(8 - weight_bits)``.
    ValueError naming ``name`` when the signs are mixed or ``e`` leaves Loihi's ``[-8, 7]``."""
    w = np.asarray(weights, np.float64) * scale
    if not np.all(np.isfinite(w)):
        raise ValueError(f"{name} must be finite")
    if np.any(w > 0) and np.any(w < 0):
        raise ValueError(f"{name} mix signs; a Dense layer here holds one sign")
    top = float(np.abs(w).max(initial=0.0))
    if top == 0.0:
        return np.zeros(w.shape, np.int64), 0
    exp = int(math.ceil(math.log2(top / MAX_MANTISSA)))
    if not WEIGHT_EXP_RANGE[0] <= exp <= WEIGHT_EXP_RANGE[1]:
        raise ValueError(f"{name}: weight exponent {exp} outside Loihi's {WEIGHT_EXP_RANGE} "
                         f"(largest |weight| * scale = {top:g})")
    step = 2 ** (8 - weight_bits)
    mant = np.rint(w / 2.0**exp / step) * step
    mant = np.clip(mant, -MAX_MANTISSA, MAX_MANTISSA)
    if step > 1:  # the largest multiple of step that fits
        mant = np.clip(mant, -(MAX_MANTISSA // step) * step, (MAX_MANTISSA // step) * step)
    return mant.astype(np.int64), exp


def to_fixed_point(net, weight_bits: int = 8, max_inh_spikes: int = MAX_INH_SPIKES,
                   budget: int = BUDGET) -> FixedPointNetwork:
    """Convert a (trained) float :class:`~lava_thesis.stdp.STDPNetwork` for fixed-point
    inference (equations in the module docstring).

    Args:
        net: the network; its weights (masked), theta and :class:`STDPParams` are read.
        weight_bits: bits of the weight mantissas, 1 to 8.
        max_inh_spikes: simultaneous inhibitory spikes whose summed inhibition
            ``w_inh_exc * max_inh_spikes`` must fit the budget (see :data:`MAX_INH_SPIKES`).
        budget: the largest threshold or one step's activation in integer units.
    """
    if isinstance(weight_bits, bool) or not isinstance(weight_bits, int | np.integer) or not (
            1 <= weight_bits <= 8):
        raise ValueError(f"weight_bits must be an int from 1 to 8, got {weight_bits!r}")
    if isinstance(max_inh_spikes, bool) or not isinstance(max_inh_spikes, int | np.integer) or (
            max_inh_spikes < 1):
        raise ValueError(f"max_inh_spikes must be an int >= 1, got {max_inh_spikes!r}")
    if not 1 <= budget <= 2**16:
        raise ValueError(f"budget must be in [1, 65536], got {budget}")
    p = net.params
    weights = np.asarray(net.weights, np.float64)
    theta = np.asarray(net.theta, np.float64)
    if not (np.all(np.isfinite(weights)) and np.all(np.isfinite(theta))):
        raise ValueError("the network's weights and theta must be finite")
    largest = max(p.exc_vth + float(theta.max(initial=0.0)), p.inh_vth, p.w_exc_inh,
                  p.w_inh_exc * min(max_inh_spikes, max(p.n_exc - 1, 1)),
                  float(weights.max(initial=0.0)))
    scale = 2 ** scale_bits(largest, budget)
    w_in, w_in_exp = quantize_layer(weights, scale, weight_bits, "input weights")
    w_ei, w_ei_exp = quantize_layer(np.array([p.w_exc_inh]), scale, weight_bits, "w_exc_inh")
    w_ie, w_ie_exp = quantize_layer(np.array([-p.w_inh_exc]), scale, weight_bits, "w_inh_exc")
    return FixedPointNetwork(
        params=p, scale=int(scale), w_in=w_in, w_in_exp=w_in_exp,
        w_ei=int(w_ei[0]), w_ei_exp=w_ei_exp, w_ie=int(w_ie[0]), w_ie_exp=w_ie_exp,
        exc_vth=np.rint((p.exc_vth + theta) * scale).astype(np.int64),
        inh_vth=int(round(p.inh_vth * scale)),
        exc_du=decay_u(p.exc_du), exc_dv=decay_v(p.exc_dv),
        inh_du=decay_u(p.inh_du), inh_dv=decay_v(p.inh_dv),
        exc_refractory=int(p.exc_refractory), inh_refractory=int(p.inh_refractory),
        weight_bits=int(weight_bits))


def dequantized_weights(fx: FixedPointNetwork) -> np.ndarray:
    """The float input weights the mantissas stand for, ``m 2**e / S`` ``(n_exc, n_input)``."""
    return fx.w_in * 2.0**fx.w_in_exp / fx.scale
