"""ProcessModel of :class:`Boom` (imported by Lava's compiler, which finds it beside process.py).

Absolute imports only: the compiler also executes this file as a top-level module ``models``.
"""

from __future__ import annotations

import numpy as np
from lava.magma.core.decorator import implements, requires, tag
from lava.magma.core.model.py.model import PyLoihiProcessModel
from lava.magma.core.model.py.ports import PyOutPort
from lava.magma.core.model.py.type import LavaPyType
from lava.magma.core.resources import CPU
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol

from lava_fixtures.boom.process import Boom


@implements(proc=Boom, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt", "floating_pt")
class PyBoomModel(PyLoihiProcessModel):
    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32)

    def __init__(self, proc_params) -> None:
        super().__init__(proc_params)
        self.fail_at = int(proc_params["fail_at"])

    def run_spk(self) -> None:
        self.s_out.send(np.zeros((1,), dtype=np.int32))
        if self.time_step == self.fail_at:
            raise ValueError(f"boom at step {self.time_step}")
