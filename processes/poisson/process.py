"""``PoissonInput``: independent Bernoulli/Poisson spike trains from per-input rates."""

from __future__ import annotations

import numpy as np
from lava.magma.core.process.ports.ports import OutPort
from lava.magma.core.process.process import AbstractProcess, LogConfig
from lava.magma.core.process.variable import Var


class PoissonInput(AbstractProcess):
    """Spikes ``s_out[i, t] = 1`` with probability ``rates[i]`` (per step), during the first
    ``active_steps`` of every ``sample_steps`` window (0: always active); silent otherwise.

    Change ``rates`` between runs (``proc.rates.set(...)``) to present the next sample. The
    draws come from ``numpy.random.default_rng(seed)`` in the ProcessModel.

    Example:
        >>> src = PoissonInput(rates=np.full(784, 0.05), active_steps=350,
        ...                    sample_steps=500, seed=1)  # doctest: +SKIP
    """

    def __init__(
        self,
        *,
        rates: np.ndarray,
        active_steps: int = 0,
        sample_steps: int = 0,
        seed: int = 0,
        name: str | None = None,
        log_config: LogConfig | None = None,
    ) -> None:
        super().__init__(rates=rates, name=name, log_config=log_config)
        rates = np.asarray(rates, np.float64)
        if rates.ndim != 1 or np.any(rates < 0) or np.any(rates > 1):
            raise ValueError("rates must be a 1-D array of spike probabilities in [0, 1]")
        if active_steps < 0 or sample_steps < 0 or (sample_steps and active_steps > sample_steps):
            raise ValueError(f"need 0 <= active_steps <= sample_steps, got {active_steps}, "
                             f"{sample_steps}")
        self.proc_params["seed"] = int(seed)
        self.proc_params["active_steps"] = int(active_steps)
        self.proc_params["sample_steps"] = int(sample_steps)
        self.s_out = OutPort(shape=rates.shape)
        self.rates = Var(shape=rates.shape, init=rates)
