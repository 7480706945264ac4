"""SubProcessModel of ``MultimodalEnsemble``: two ``DiehlCookNetwork`` Processes and two
``PowerLawSTDPDense`` cross-modal synapses."""

from __future__ import annotations

from lava.magma.core.decorator import implements
from lava.magma.core.model.sub.model import AbstractSubProcessModel
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol
from lava_thesis.processes.diehl_cook.process import DiehlCookNetwork
from lava_thesis.processes.multimodal.process import MultimodalEnsemble
from lava_thesis.processes.stdp_synapse.process import PowerLawSTDPDense


@implements(proc=MultimodalEnsemble, protocol=LoihiProtocol)
class SubMultimodalModel(AbstractSubProcessModel):
    def __init__(self, proc: MultimodalEnsemble) -> None:
        image, audio, cross = proc.proc_params["params"]
        image_state, audio_state = proc.proc_params["states"]
        learning = proc.proc_params["learning"]
        self.image = DiehlCookNetwork(params=image, learning=learning, seed=0, **image_state)
        self.audio = DiehlCookNetwork(params=audio, learning=learning, seed=1, **audio_state)
        proc.in_ports.s_in_image.connect(self.image.s_in)
        proc.in_ports.s_in_audio.connect(self.audio.s_in)
        self.image.s_out.connect(proc.out_ports.s_out_image)
        self.audio.s_out.connect(proc.out_ports.s_out_audio)
        for tag, ens in (("image", self.image), ("audio", self.audio)):
            for var in ("weights", "mask", "theta"):
                getattr(proc.vars, f"{var}_{tag}").alias(getattr(ens, var))
        if not cross.enabled:
            return
        synapse = dict(eta=cross.eta, x_tar=cross.x_tar, mu=cross.mu, tau_pre=cross.tau_pre,
                       w_max=cross.w_max, norm_total=cross.norm_total,
                       sample_steps=image.sample_steps, learning=learning)
        self.image_audio = PowerLawSTDPDense(weights=proc.w_image_audio.init, **synapse)
        self.audio_image = PowerLawSTDPDense(weights=proc.w_audio_image.init, **synapse)
        for pre, syn, post in ((self.image, self.image_audio, self.audio),
                               (self.audio, self.audio_image, self.image)):
            pre.s_out.connect(syn.s_in)
            post.s_out.connect(syn.s_in_bap)
            syn.a_out.connect(post.a_in)
        proc.vars.w_image_audio.alias(self.image_audio.weights)
        proc.vars.w_audio_image.alias(self.audio_image.weights)
