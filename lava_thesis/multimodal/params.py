"""Constants of the cross-modal synapses (no numba here: the Lava Processes import it)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields


@dataclass(frozen=True)
class CrossParams:
    """The cross-modal synapses (both directions share them).

    ``eta``, ``x_tar``, ``mu``, ``tau_pre``, ``w_max``: the power-law STDP of method 1 on the
    other ensemble's excitatory spikes; weights start at ``w_init`` (0: the ensembles start
    independent). After each presentation, every row that learned is scaled to sum to
    ``norm_total`` (0: off): each neuron has a fixed budget of cross-modal excitation, shared
    among the partners it fires with most. ``enabled=False`` removes the connections (the
    ablation). The defaults were chosen on 6,000 training pairs with 100 + 100 neurons (x_tar
    0.4 as on the input synapses left the cross-modal weights near 0; without normalisation and
    w_max 4 they ran away and multiplied the image ensemble's spikes by 18).
    """

    eta: float = 0.05
    x_tar: float = 0.1
    mu: float = 0.2
    tau_pre: float = 20.0
    w_max: float = 1.0
    w_init: float = 0.0
    norm_total: float = 10.0
    enabled: bool = True

    def __post_init__(self) -> None:
        for name in ("eta", "x_tar", "mu", "w_init", "norm_total"):
            if getattr(self, name) < 0:
                raise ValueError(f"CrossParams.{name} must be >= 0")
        if self.tau_pre <= 0 or self.w_max <= 0 or self.w_init > self.w_max:
            raise ValueError("CrossParams: need tau_pre > 0, w_max > 0, w_init <= w_max")

    @property
    def trace_decay(self) -> float:
        return math.exp(-1.0 / self.tau_pre)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> CrossParams:
        unknown = set(data) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown cross-modal parameters: {sorted(unknown)}")
        return cls(**data)
