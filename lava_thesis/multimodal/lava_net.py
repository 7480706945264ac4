"""Run the multimodal network in Lava (CPU, floating point) on explicit input spikes.

Used by the parity test (Lava vs the engine, learning on) and by the experiment's inference
check (a trained model loaded into :class:`~lava_thesis.processes.multimodal.process.
MultimodalEnsemble` with learning off).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lava_thesis.lava_run import run_lava, step_timeout
from lava_thesis.multimodal.engine import MultimodalNetwork


@dataclass
class LavaPairResult:
    """Each ensemble's excitatory spikes ``(steps, n_exc)``; with learning on, the learned
    state: ``{"weights", "mask", "theta"}`` per ensemble and both cross-modal matrices."""

    image_spikes: np.ndarray
    audio_spikes: np.ndarray
    image_state: dict | None = None
    audio_state: dict | None = None
    w_image_audio: np.ndarray | None = None
    w_audio_image: np.ndarray | None = None


def _state(net) -> dict[str, np.ndarray]:
    return {"weights": net.weights, "mask": net.mask, "theta": net.theta.copy()}


def lava_run_pair(net: MultimodalNetwork, image: np.ndarray, audio: np.ndarray, *,
                  learning: bool, timeout_s: float | None = None) -> LavaPairResult:
    """Drive a fresh ``MultimodalEnsemble`` holding ``net``'s current weights, masks, thetas
    and cross-modal weights with the rasters ``image`` and ``audio`` ``(n_input, steps)``
    (bool); ``net`` itself is not changed. The learned state is read back only when learning
    is on (``Var.get`` of large matrices is slow in Lava). ``timeout_s`` None:
    :func:`~lava_thesis.lava_run.step_timeout` of the run's size."""
    pi, pa = net.image.params, net.audio.params
    image, audio = np.asarray(image, bool), np.asarray(audio, bool)
    if image.shape != (pi.n_input, audio.shape[1]) or audio.shape[0] != pa.n_input:
        raise ValueError(f"rasters must be (n_input, steps) with equal steps; got image "
                         f"{image.shape}, audio {audio.shape}")
    steps = image.shape[1]

    def build():
        from lava.proc.io.sink import RingBuffer as Sink
        from lava.proc.io.source import RingBuffer as Source

        from lava_thesis.processes.multimodal.process import MultimodalEnsemble

        ens = MultimodalEnsemble(image=pi, audio=pa, cross=net.cross,
                                 image_state=_state(net.image), audio_state=_state(net.audio),
                                 w_image_audio=net.w_image_audio,
                                 w_audio_image=net.w_audio_image, learning=learning)
        src_i, src_a = Source(data=image.astype(float)), Source(data=audio.astype(float))
        sink_i, sink_a = Sink(shape=(pi.n_exc,), buffer=steps), Sink(shape=(pa.n_exc,),
                                                                     buffer=steps)
        src_i.s_out.connect(ens.s_in_image)
        src_a.s_out.connect(ens.s_in_audio)
        ens.s_out_image.connect(sink_i.a_in)
        ens.s_out_audio.connect(sink_a.a_in)

        def collect() -> LavaPairResult:
            out = LavaPairResult(sink_i.data.get().T.astype(np.uint8),
                                 sink_a.data.get().T.astype(np.uint8))
            if learning:
                out.image_state, out.audio_state = (
                    {var: getattr(ens, f"{var}_{tag}").get()
                     for var in ("weights", "mask", "theta")} for tag in ("image", "audio"))
                if net.cross.enabled:
                    out.w_image_audio = ens.w_image_audio.get()
                    out.w_audio_image = ens.w_audio_image.get()
            return out

        return src_i, collect

    neurons = pi.n_exc + pa.n_exc
    return run_lava(build, steps, tag="floating_pt",
                    timeout_s=step_timeout(steps, neurons) if timeout_s is None else timeout_s,
                    select_sub_proc_model=True)
