"""SubProcessModel of ``DiehlCookNetwork``: wires the method-1 Processes with Lava's own."""

from __future__ import annotations

import numpy as np
from lava.magma.core.decorator import implements
from lava.magma.core.model.sub.model import AbstractSubProcessModel
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol
from lava.proc.dense.process import Dense
from lava.proc.lif.process import LIFRefractory
from lava_thesis.processes.adaptive_lif.process import AdaptiveLIF
from lava_thesis.processes.diehl_cook.process import DiehlCookNetwork
from lava_thesis.processes.stdp_synapse.process import PowerLawSTDPDense

from lava_thesis.stdp.rules import loihi_stdp_dense


@implements(proc=DiehlCookNetwork, protocol=LoihiProtocol)
class SubDiehlCookModel(AbstractSubProcessModel):
    def __init__(self, proc: DiehlCookNetwork) -> None:
        p = proc.proc_params["params"]
        learning = proc.proc_params["learning"]
        prune_every, prune_fraction, levels, prune_by = proc.proc_params["prune"]
        n = p.n_exc
        rule = proc.proc_params["on_chip_rule"]
        if rule is None:
            self.synapses = PowerLawSTDPDense(
                weights=proc.weights.init, mask=proc.mask.init, eta=p.eta, x_tar=p.x_tar,
                mu=p.mu, tau_pre=p.tau_pre, w_max=p.w_max, norm_total=p.norm_total,
                sample_steps=p.sample_steps, prune_every=prune_every,
                prune_fraction=prune_fraction, levels=levels, prune_by=prune_by,
                learning=learning)
        else:  # lava's LearningDense with a Loihi learning rule
            self.synapses = loihi_stdp_dense(proc.weights.init, p, rule)
        self.exc = AdaptiveLIF(shape=(n,), du=p.exc_du, dv=p.exc_dv, vth=p.exc_vth,
                               refractory_period=p.exc_refractory, theta=proc.theta.init,
                               theta_plus=p.theta_plus, theta_decay=p.theta_decay,
                               learning=learning)
        self.exc_inh = Dense(weights=np.eye(n) * p.w_exc_inh)
        self.inh = LIFRefractory(shape=(n,), du=p.inh_du, dv=p.inh_dv, vth=p.inh_vth,
                                 refractory_period=p.inh_refractory)
        self.inh_exc = Dense(weights=-p.w_inh_exc * (1.0 - np.eye(n)))

        proc.in_ports.s_in.connect(self.synapses.s_in)
        self.synapses.a_out.connect(self.exc.a_in)
        proc.in_ports.a_in.connect(self.exc.a_in)
        self.exc.s_out.connect(self.synapses.s_in_bap)
        self.exc.s_out.connect(self.exc_inh.s_in)
        self.exc_inh.a_out.connect(self.inh.a_in)
        self.inh.s_out.connect(self.inh_exc.s_in)
        self.inh_exc.a_out.connect(self.exc.a_in)
        self.exc.s_out.connect(proc.out_ports.s_out)

        proc.vars.weights.alias(self.synapses.weights)
        if rule is None:
            proc.vars.mask.alias(self.synapses.mask)
        proc.vars.theta.alias(self.exc.theta)
