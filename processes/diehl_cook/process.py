"""``DiehlCookNetwork``: plastic input synapses, adaptive excitatory neurons, lateral inhibition."""

from __future__ import annotations

import numpy as np
from lava.magma.core.process.ports.ports import InPort, OutPort
from lava.magma.core.process.process import AbstractProcess, LogConfig
from lava.magma.core.process.variable import Var

from lava_thesis.stdp.params import STDPParams


class DiehlCookNetwork(AbstractProcess):
    """Diehl & Cook (2015) unsupervised network in one Process::

        s_in (n_input) -> PowerLawSTDPDense -> AdaptiveLIF exc (n_exc) -> s_out
                                  ^ s_in_bap <-------|  |  ^
                                                        |  a_in (n_exc): extra current
                          exc -> Dense(one-to-one, +w_exc_inh) -> LIFRefractory inh (n_exc)
                          inh -> Dense(all but self, -w_inh_exc) -> exc

    Every connection adds one step of delay, as Lava's ``Dense`` does. ``a_in`` adds synaptic
    current straight into the excitatory neurons (method 2's cross-modal synapses); leave it
    unconnected otherwise. The constants come from
    :class:`lava_thesis.stdp.STDPParams`; ``weights`` ``(n_exc, n_input)``, ``mask`` and
    ``theta`` (e.g. from a trained model, :func:`lava_thesis.stdp.model_io.load_model`) are Vars
    of the inner Processes exposed here. ``learning=False`` freezes weights and theta (test).
    The fast engine :class:`lava_thesis.stdp.STDPNetwork` runs the same equations.

    ``on_chip_rule`` (``"soft-bound"`` or ``"hard-bound"``) replaces the plastic synapses by
    lava's ``LearningDense`` with that rule's Loihi learning rule
    (:func:`lava_thesis.stdp.rules.loihi_stdp_dense`): what learns on Loihi's learning engine.
    There is no weight normalisation, pruning or quantization on chip, so it needs
    ``params.norm_per_input = 0``, no ``prune_every``/``levels``, no mask and ``learning``;
    ``params`` should hold the rule's rounded constants (:func:`~lava_thesis.stdp.rules.
    loihi_params`) for the engine to compute the same weights.

    Example:
        >>> net = DiehlCookNetwork(params=STDPParams(n_input=784, n_exc=100))  # doctest: +SKIP
        >>> source.s_out.connect(net.s_in); net.s_out.connect(sink.a_in)      # doctest: +SKIP
    """

    def __init__(
        self,
        *,
        params: STDPParams,
        weights: np.ndarray | None = None,
        mask: np.ndarray | None = None,
        theta: np.ndarray | None = None,
        learning: bool = True,
        prune_every: int = 0,
        prune_fraction: float = 0.0,
        levels: int = 0,
        prune_by: str = "weight",
        seed: int = 0,
        on_chip_rule: str | None = None,
        name: str | None = None,
        log_config: LogConfig | None = None,
    ) -> None:
        super().__init__(name=name, log_config=log_config)
        shape = (params.n_exc, params.n_input)
        if weights is None:
            weights = np.random.default_rng(seed).uniform(0.0, params.w_init_max, shape)
        weights = np.asarray(weights, np.float64)
        mask = np.ones(shape) if mask is None else np.asarray(mask, np.float64)
        theta = np.zeros(params.n_exc) if theta is None else np.asarray(theta, np.float64)
        if weights.shape != shape or mask.shape != shape or theta.shape != (params.n_exc,):
            raise ValueError(f"weights and mask must be {shape} and theta ({params.n_exc},); "
                             f"got {weights.shape}, {mask.shape}, {theta.shape}")
        if on_chip_rule is not None:
            from lava_thesis.stdp.rules import LOIHI_RULES

            if on_chip_rule not in LOIHI_RULES:
                raise ValueError(f"on_chip_rule must be one of {LOIHI_RULES} or None, got "
                                 f"{on_chip_rule!r}")
            if (params.norm_per_input or prune_every or levels or not learning
                    or not np.all(mask == 1)):
                raise ValueError("on-chip learning has no normalisation, pruning, quantization "
                                 "or mask and is always on: need params.norm_per_input = 0, "
                                 "prune_every = 0, levels = 0, no mask and learning=True")
        self.proc_params["on_chip_rule"] = on_chip_rule
        self.proc_params["params"] = params
        self.proc_params["learning"] = bool(learning)
        self.proc_params["prune"] = (int(prune_every), float(prune_fraction), int(levels),
                                     prune_by)
        self.s_in = InPort(shape=(params.n_input,))
        self.a_in = InPort(shape=(params.n_exc,))
        self.s_out = OutPort(shape=(params.n_exc,))
        self.weights = Var(shape=shape, init=weights * mask)
        self.mask = Var(shape=shape, init=mask)
        self.theta = Var(shape=(params.n_exc,), init=theta)
