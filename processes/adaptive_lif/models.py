"""ProcessModels of ``AdaptiveLIF``: floating point (Lava's refractory LIF model with the
threshold adaptation of ``lava_thesis.stdp.core``) and fixed point (Lava's bit-accurate LIF
with a refractory period and theta folded into a per-neuron threshold, inference only)."""

from __future__ import annotations

import numpy as np
from lava.magma.core.decorator import implements, requires, tag
from lava.magma.core.model.py.ports import PyOutPort
from lava.magma.core.model.py.type import LavaPyType
from lava.magma.core.resources import CPU
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol
from lava.proc.lif.models import AbstractPyLifModelFixed, PyLifRefractoryModelFloat
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


@implements(proc=AdaptiveLIF, protocol=LoihiProtocol)
@requires(CPU)
@tag("bit_accurate_loihi", "fixed_pt")
class PyAdaptiveLIFModelFixed(AbstractPyLifModelFixed):
    """Inference-only fixed-point model: Lava's bit-accurate LIF arithmetic
    (``AbstractPyLifModelFixed``: 12-bit decays, 24-bit ``u``/``v``, inputs and thresholds
    shifted left by 6), the refractory period of ``LIFRefractory`` (``v`` held until the step
    after ``t_spike + refractory_period``) and a per-neuron threshold with theta folded in::

        s[t] = v[t] > (vth + theta) << 6        (vth, theta integers)

    Theta is a constant here (learning is off at inference); a run with ``learning=True``
    raises. :mod:`lava_thesis.stdp.fixed_point` converts a trained network's parameters.
    """

    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=24)
    vth: int = LavaPyType(int, np.int32, precision=17)
    refractory_period_end: np.ndarray = LavaPyType(np.ndarray, int)
    theta: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=17)
    theta_plus: np.ndarray = LavaPyType(np.ndarray, float)
    theta_decay: np.ndarray = LavaPyType(np.ndarray, float)
    learning: np.ndarray = LavaPyType(np.ndarray, int)

    def __init__(self, proc_params) -> None:
        super().__init__(proc_params)
        self.refractory_period = proc_params["refractory_period"]
        self.effective_vth = 0

    def scale_threshold(self) -> None:
        self.effective_vth = np.left_shift(np.int64(self.vth) + self.theta.astype(np.int64),
                                           self.vth_shift)
        self.isthrscaled = True

    def spiking_activation(self) -> np.ndarray:
        return self.v > self.effective_vth

    def run_spk(self) -> None:
        if self.learning[0]:
            raise ValueError("AdaptiveLIF's fixed_pt model runs inference only: create the "
                             "Process with learning=False (theta folded into the threshold)")
        a_in_data = self.a_in.recv()
        self.scale_bias()
        if not self.isthrscaled:
            self.scale_threshold()
        held = self.refractory_period_end >= self.time_step
        v_before = self.v.copy()
        self.subthr_dynamics(activation_in=a_in_data)
        self.v[held] = v_before[held]
        spikes = self.spiking_activation()
        self.refractory_period_end[spikes] = self.time_step + self.refractory_period
        self.v[spikes] = 0
        self.s_out.send(spikes)
