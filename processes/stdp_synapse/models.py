"""Floating-point ProcessModel of ``PowerLawSTDPDense`` (the equations live in
``lava_thesis.stdp.core``, shared with the fast engine)."""

from __future__ import annotations

import numpy as np
from lava.magma.core.decorator import implements, requires, tag
from lava.magma.core.model.py.model import PyLoihiProcessModel
from lava.magma.core.model.py.ports import PyInPort, PyOutPort
from lava.magma.core.model.py.type import LavaPyType
from lava.magma.core.resources import CPU
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol
from lava_thesis.processes.stdp_synapse.process import PowerLawSTDPDense

from lava_thesis.stdp import core


@implements(proc=PowerLawSTDPDense, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt")
class PyPowerLawSTDPDenseFloat(PyLoihiProcessModel):
    """Dense accumulation as Lava's ``PyDenseModelFloat``, then trace, STDP and the
    end-of-presentation normalisation / pruning / quantization."""

    s_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, bool, precision=1)
    s_in_bap: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
    a_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, float)
    weights: np.ndarray = LavaPyType(np.ndarray, float)
    mask: np.ndarray = LavaPyType(np.ndarray, float)
    x_pre: np.ndarray = LavaPyType(np.ndarray, float)
    a_buff: np.ndarray = LavaPyType(np.ndarray, float)
    dirty: np.ndarray = LavaPyType(np.ndarray, int)
    presentations: np.ndarray = LavaPyType(np.ndarray, int)
    learning: np.ndarray = LavaPyType(np.ndarray, int)
    prune_fraction: np.ndarray = LavaPyType(np.ndarray, float)
    levels: np.ndarray = LavaPyType(np.ndarray, int)
    correlation: np.ndarray = LavaPyType(np.ndarray, float)

    def __init__(self, proc_params) -> None:
        super().__init__(proc_params)
        self.p = proc_params["params"]

    def run_spk(self) -> None:
        self.a_out.send(self.a_buff)
        s_in = self.s_in.recv().astype(bool)
        post = np.flatnonzero(self.s_in_bap.recv())
        self.a_buff = self.weights[:, s_in].sum(axis=1)
        core.decay_trace(self.x_pre, self.p["trace_decay"], s_in)
        if not self.learning[0]:
            return
        p = self.p
        if post.size:
            core.power_law_update(self.weights, post, self.x_pre, self.mask, p["eta"],
                                  p["x_tar"], p["w_max"], p["mu"])
            if p["prune_by"] == "correlation":
                core.accumulate_correlation(self.correlation, post, self.x_pre)
            self.dirty[post] = 1
        if p["sample_steps"] and self.time_step % p["sample_steps"] == 0:
            self._end_of_sample()

    def _end_of_sample(self) -> None:
        p = self.p
        if p["norm_total"] > 0:
            core.normalize_rows(self.weights, np.flatnonzero(self.dirty), p["norm_total"])
        self.dirty[:] = 0
        self.presentations[0] += 1
        every = p["prune_every"]
        if every and self.presentations[0] % every == 0:
            if self.prune_fraction[0] > 0:
                key = self.correlation if p["prune_by"] == "correlation" else self.weights
                core.prune_rows(self.weights, self.mask, float(self.prune_fraction[0]), key)
            if self.levels[0] > 0:
                core.quantize(self.weights, self.mask, int(self.levels[0]), p["w_max"])
