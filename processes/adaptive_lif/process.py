"""``AdaptiveLIF``: Lava's ``LIFRefractory`` plus a homeostatic threshold ``theta``."""

from __future__ import annotations

import numpy as np
from lava.magma.core.process.process import LogConfig
from lava.magma.core.process.variable import Var
from lava.proc.lif.process import LIFRefractory


class AdaptiveLIF(LIFRefractory):
    """LIF neuron with refractory period and adaptive threshold (Diehl & Cook 2015)::

        u[t] = u[t-1] (1 - du) + a_in[t]
        v[t] = v[t-1] (1 - dv) + u[t] + bias      (held during the refractory period)
        s[t] = v[t] > vth + theta[t-1];  on a spike v <- 0 and the neuron is refractory
        theta[t] = theta[t-1] (1 - theta_decay) + theta_plus s[t]   (only while learning)

    ``theta`` grows with every spike and decays slowly: a neuron that wins often becomes harder
    to excite, so all neurons get to learn. Freeze it (``learning=False``) for testing.
    Everything else (ports ``a_in``/``s_out``, ``u``, ``v``, ``du``, ``dv``, ``vth``,
    ``refractory_period``) is Lava's ``LIFRefractory``.

    Example:
        >>> neuron = AdaptiveLIF(shape=(4,), dv=0.01, du=1.0, vth=13.0)  # doctest: +SKIP
    """

    def __init__(
        self,
        *,
        shape: tuple[int, ...],
        u: float | np.ndarray = 0,
        v: float | np.ndarray = 0,
        du: float = 0,
        dv: float = 0,
        bias_mant: float | np.ndarray = 0,
        bias_exp: float | np.ndarray = 0,
        vth: float = 10,
        refractory_period: int = 1,
        theta: float | np.ndarray = 0.0,
        theta_plus: float = 0.05,
        theta_decay: float = 1e-7,
        learning: bool = True,
        name: str | None = None,
        log_config: LogConfig | None = None,
    ) -> None:
        super().__init__(shape=shape, u=u, v=v, du=du, dv=dv, bias_mant=bias_mant,
                         bias_exp=bias_exp, vth=vth, refractory_period=refractory_period,
                         name=name, log_config=log_config)
        if theta_plus < 0 or not 0 <= theta_decay <= 1:
            raise ValueError("theta_plus must be >= 0 and theta_decay in [0, 1]")
        self.theta = Var(shape=shape, init=theta)
        self.theta_plus = Var(shape=(1,), init=theta_plus)
        self.theta_decay = Var(shape=(1,), init=theta_decay)
        self.learning = Var(shape=(1,), init=int(learning))
