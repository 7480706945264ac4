"""Floating-point ProcessModel of ``PoissonInput``."""

from __future__ import annotations

import numpy as np
from lava.magma.core.decorator import implements, requires, tag
from lava.magma.core.model.py.model import PyLoihiProcessModel
from lava.magma.core.model.py.ports import PyOutPort
from lava.magma.core.model.py.type import LavaPyType
from lava.magma.core.resources import CPU
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol
from lava_thesis.processes.poisson.process import PoissonInput


@implements(proc=PoissonInput, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt")
class PyPoissonInputModel(PyLoihiProcessModel):
    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, bool, precision=1)
    rates: np.ndarray = LavaPyType(np.ndarray, float)

    def __init__(self, proc_params) -> None:
        super().__init__(proc_params)
        self.rng = np.random.default_rng(proc_params["seed"])
        self.active = proc_params["active_steps"]
        self.period = proc_params["sample_steps"]

    def run_spk(self) -> None:
        phase = (self.time_step - 1) % self.period if self.period else 0
        if self.active and phase >= self.active:
            self.s_out.send(np.zeros(self.rates.shape, bool))
        else:
            self.s_out.send(self.rng.random(self.rates.shape) < self.rates)
