"""``PowerLawSTDPDense``: all-to-all synapses that learn with power-law weight-dependent STDP."""

from __future__ import annotations

import math

import numpy as np
from lava.magma.core.process.ports.ports import InPort, OutPort
from lava.magma.core.process.process import AbstractProcess, LogConfig
from lava.magma.core.process.variable import Var


class PowerLawSTDPDense(AbstractProcess):
    """Dense synapses ``(n_post, n_pre)`` with on-line power-law STDP (Diehl & Cook 2015).

    Each step ``t`` (like Lava's ``Dense``, ``a_out`` carries what arrived at ``t - 1``)::

        a_out[t]  = W @ s_in[t - 1]
        x[t]      = x[t - 1] * exp(-1 / tau_pre) + s_in[t]            (presynaptic trace)
        on a post spike of j (s_in_bap[t]):
        W[j, i]  += eta * (x_i[t] - x_tar) * max(w_max - W[j, i], 0)^mu,  clipped to [0, w_max],
                    and only where mask[j, i] = 1 (pruned synapses stay 0 and never learn)

    With ``sample_steps > 0`` and learning on, every ``sample_steps`` steps (one presentation)
    the rows that learned are normalised to sum ``norm_total`` (0: no normalisation); every
    ``prune_every`` presentations each row is pruned to ``prune_fraction`` (weakest first, or
    with ``prune_by="correlation"`` lowest pre/post correlation first: ``C[j, i] += x_i[t]`` on
    every post spike of j, accumulated in ``correlation``) and
    the weights are quantized to ``levels`` uniform levels in ``[0, w_max]`` (0 included;
    ``levels=0``: float). Both can also be applied between runs by setting ``weights`` and ``mask``.

    Ports: ``s_in`` (n_pre) presynaptic spikes, ``s_in_bap`` (n_post) the postsynaptic neurons'
    spikes (back-propagated action potentials), ``a_out`` (n_post) synaptic current.

    Example:
        >>> syn = PowerLawSTDPDense(weights=np.full((2, 3), 0.5))  # doctest: +SKIP
        >>> syn.weights.shape
        (2, 3)
    """

    def __init__(
        self,
        *,
        weights: np.ndarray,
        mask: np.ndarray | None = None,
        eta: float = 0.01,
        x_tar: float = 0.4,
        mu: float = 0.2,
        tau_pre: float = 20.0,
        w_max: float = 1.0,
        norm_total: float = 0.0,
        sample_steps: int = 0,
        prune_every: int = 0,
        prune_fraction: float = 0.0,
        levels: int = 0,
        prune_by: str = "weight",
        learning: bool = True,
        name: str | None = None,
        log_config: LogConfig | None = None,
    ) -> None:
        super().__init__(weights=weights, name=name, log_config=log_config)
        weights = np.asarray(weights, np.float64)
        if weights.ndim != 2:
            raise ValueError(f"weights must be (n_post, n_pre), got shape {weights.shape}")
        mask = np.ones_like(weights) if mask is None else np.asarray(mask, np.float64)
        if mask.shape != weights.shape:
            raise ValueError(f"mask {mask.shape} must match weights {weights.shape}")
        if tau_pre <= 0 or w_max <= 0:
            raise ValueError("tau_pre and w_max must be > 0")
        if not 0 <= prune_fraction < 1:
            raise ValueError(f"prune_fraction must be in [0, 1), got {prune_fraction}")
        if levels < 0 or levels == 1:
            raise ValueError(f"levels must be 0 (float) or >= 2, got {levels}")
        if prune_by not in ("weight", "correlation"):
            raise ValueError(f"prune_by must be 'weight' or 'correlation', got {prune_by!r}")
        n_post, n_pre = weights.shape
        self.proc_params["params"] = {
            "eta": float(eta), "x_tar": float(x_tar), "mu": float(mu),
            "trace_decay": math.exp(-1.0 / tau_pre), "w_max": float(w_max),
            "norm_total": float(norm_total), "sample_steps": int(sample_steps),
            "prune_every": int(prune_every), "prune_by": prune_by}
        self.s_in = InPort(shape=(n_pre,))
        self.s_in_bap = InPort(shape=(n_post,))
        self.a_out = OutPort(shape=(n_post,))
        self.weights = Var(shape=weights.shape, init=weights * mask)
        self.mask = Var(shape=weights.shape, init=mask)
        self.x_pre = Var(shape=(n_pre,), init=0.0)
        self.a_buff = Var(shape=(n_post,), init=0.0)
        self.dirty = Var(shape=(n_post,), init=0)
        self.presentations = Var(shape=(1,), init=0)
        self.learning = Var(shape=(1,), init=int(learning))
        self.prune_fraction = Var(shape=(1,), init=float(prune_fraction))
        self.levels = Var(shape=(1,), init=int(levels))
        self.correlation = Var(shape=weights.shape, init=0.0)
