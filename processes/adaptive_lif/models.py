"""Floating-point ProcessModel of ``AdaptiveLIF``: Lava's refractory LIF model, with the
threshold adaptation of ``lava_thesis.stdp.core``."""

from __future__ import annotations

import numpy as np
from lava.magma.core.decorator import implements, requires, tag
from lava.magma.core.model.py.type import LavaPyType
from lava.magma.core.resources import CPU
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol
from lava.proc.lif.models import PyLifRefractoryModelFloat
from lava_thesis.processes.adaptive_lif.process import AdaptiveLIF

from lava_thesis.stdp import core


@implements(proc=AdaptiveLIF, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt")
class PyAdaptiveLIFModelFloat(PyLifRefractoryModelFloat):
    """``subthr_dynamics`` and the refractory reset are Lava's; this model changes the
    spiking activation (``v > vth + theta``) and adapts ``theta`` after each step."""

    # The parent implements LIFRefractory; clear the inherited mark before @implements.
    implements_process = None

    theta: np.ndarray = LavaPyType(np.ndarray, float)
    theta_plus: np.ndarray = LavaPyType(np.ndarray, float)
    theta_decay: np.ndarray = LavaPyType(np.ndarray, float)
    learning: np.ndarray = LavaPyType(np.ndarray, int)

    def spiking_activation(self) -> np.ndarray:
        return self.v > self.vth + self.theta

    def process_spikes(self, spike_vector: np.ndarray) -> None:
        super().process_spikes(spike_vector)
        if self.learning[0]:
            core.adapt_threshold(self.theta, spike_vector, float(self.theta_plus[0]),
                                 float(self.theta_decay[0]))
