"""Parameters of the Diehl & Cook STDP network (one time step = 1 ms).

Voltages are relative to rest (0), as in Lava's LIF; the values follow Diehl & Cook (2015) with
current-based synapses (the input weight is added to the membrane, as in BindsNET's port of the
network): excitatory threshold 13 above rest, membrane time constant 100 ms, refractory 5 ms;
inhibitory threshold 20, 10 ms, 2 ms; one-to-one excitation 22.5, lateral inhibition 17.5.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields


@dataclass(frozen=True)
class STDPParams:
    """Every constant of the network, the input and the learning rule.

    Example:
        >>> p = STDPParams(n_exc=100)
        >>> p.sample_steps, round(p.trace_decay, 4)
        (500, 0.9512)
    """

    n_input: int = 784
    n_exc: int = 400
    # input: Poisson rate = pixel / 255 * max_rate_hz for present_steps, then rest_steps silent;
    # fewer than min_spikes excitatory spikes -> present again with rate_boost_hz more (D&C).
    max_rate_hz: float = 63.75
    present_steps: int = 350
    rest_steps: int = 150
    min_spikes: int = 5
    rate_boost_hz: float = 32.0
    max_presentations: int = 5
    # excitatory neurons (Lava LIF with refractory period + adaptive threshold theta)
    exc_du: float = 1.0
    exc_dv: float = 0.01
    exc_vth: float = 13.0
    exc_refractory: int = 5
    theta_plus: float = 0.05
    theta_decay: float = 1e-7
    # inhibitory neurons and the fixed connections
    inh_du: float = 1.0
    inh_dv: float = 0.1
    inh_vth: float = 20.0
    inh_refractory: int = 2
    w_exc_inh: float = 22.5
    w_inh_exc: float = 17.5
    # power-law STDP on the input synapses
    eta: float = 0.01
    x_tar: float = 0.4
    mu: float = 0.2
    tau_pre: float = 20.0
    w_max: float = 1.0
    w_init_max: float = 0.3
    norm_per_input: float = 78.0 / 784.0  # row sum after each sample = this * n_input

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, (int, float)) and value < 0:
                raise ValueError(f"STDPParams.{f.name} must be >= 0, got {value}")
        if self.n_input < 1 or self.n_exc < 1:
            raise ValueError("STDPParams: n_input and n_exc must be >= 1")
        if self.present_steps < 1:
            raise ValueError("STDPParams.present_steps must be >= 1")
        for name in ("exc_du", "exc_dv", "inh_du", "inh_dv"):
            if getattr(self, name) > 1:
                raise ValueError(f"STDPParams.{name} must be in [0, 1]")
        if self.tau_pre <= 0 or self.w_max <= 0:
            raise ValueError("STDPParams: tau_pre and w_max must be > 0")

    @property
    def sample_steps(self) -> int:
        """Steps per presentation (stimulus + rest)."""
        return self.present_steps + self.rest_steps

    @property
    def trace_decay(self) -> float:
        """Per-step decay of the presynaptic trace, ``exp(-1 / tau_pre)``."""
        return math.exp(-1.0 / self.tau_pre)

    @property
    def norm_total(self) -> float:
        """Row sum of every neuron's input weights after normalisation."""
        return self.norm_per_input * self.n_input

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> STDPParams:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown STDP parameters: {sorted(unknown)}")
        return cls(**data)
