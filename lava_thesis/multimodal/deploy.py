"""Deploy a trained multimodal network in fixed point with Lava's own building blocks.

Two integer Diehl & Cook ensembles (:func:`lava_thesis.stdp.deploy.build_fixed_network`)
and the quantized cross-modal synapses (:mod:`lava_thesis.multimodal.fixed_point`) as two
bit-accurate excitatory ``Dense`` layers::

    image exc --Dense(w_image_audio, exp)--> audio exc
    audio exc --Dense(w_audio_image, exp)--> image exc

Every model is a ``fixed_pt`` one (``PyDenseModelBitAcc``, ``PyAdaptiveLIFModelFixed``); the
fast engine :mod:`lava_thesis.multimodal.fixed_engine` gives the same spikes (parity test).

Example:
    >>> fxp = pair_to_fixed_point(load_pair_model(path)[0])   # doctest: +SKIP
    >>> image_spikes, audio_spikes = lava_fixed_run_pair(fxp, image_raster, audio_raster)
    ... # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np

from lava_thesis.lava_run import run_lava, step_timeout
from lava_thesis.multimodal.fixed_point import FixedPointPair


def build_fixed_pair(fxp: FixedPointPair):
    """The Lava Processes of the deployment, connected: ``(image input Dense, image exc,
    audio input Dense, audio exc)``. Import inside a Lava run."""
    from lava.proc.dense.process import Dense
    from lava.utils.weightutils import SignMode

    from lava_thesis.stdp.deploy import build_fixed_network

    dense_i, exc_i, *_ = build_fixed_network(fxp.image)
    dense_a, exc_a, *_ = build_fixed_network(fxp.audio)
    # without cross-modal synapses (the ablation) the layers hold zeros, so that Lava still
    # finds both ensembles from one source
    for pre, post, w, exp in ((exc_i, exc_a, fxp.w_image_audio, fxp.w_image_audio_exp),
                              (exc_a, exc_i, fxp.w_audio_image, fxp.w_audio_image_exp)):
        cross = Dense(weights=np.asarray(w, np.int32), weight_exp=int(exp),
                      num_weight_bits=fxp.weight_bits, sign_mode=SignMode.EXCITATORY)
        pre.s_out.connect(cross.s_in)
        cross.a_out.connect(post.a_in)
    return dense_i, exc_i, dense_a, exc_a


def lava_fixed_run_pair(fxp: FixedPointPair, image: np.ndarray, audio: np.ndarray,
                        timeout_s: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Run the deployment in Lava's CPU simulator (``fixed_pt``) on explicit input spikes
    ``(n_input, steps)`` per modality (bool, equal steps); return each ensemble's excitatory
    spikes ``(steps, n_exc)`` (uint8). ``timeout_s`` None:
    :func:`~lava_thesis.lava_run.step_timeout` of the run's size."""
    image, audio = np.asarray(image, bool), np.asarray(audio, bool)
    if (image.ndim != 2 or audio.ndim != 2 or image.shape[0] != fxp.image.n_input
            or audio.shape != (fxp.audio.n_input, image.shape[1])):
        raise ValueError(f"rasters must be (n_input, steps) with equal steps; got image "
                         f"{image.shape}, audio {audio.shape}")
    steps = image.shape[1]

    def build():
        from lava.proc.io.sink import RingBuffer as Sink
        from lava.proc.io.source import RingBuffer as Source

        dense_i, exc_i, dense_a, exc_a = build_fixed_pair(fxp)
        src_i, src_a = Source(data=image.astype(np.int32)), Source(data=audio.astype(np.int32))
        sink_i = Sink(shape=(fxp.image.n_exc,), buffer=steps)
        sink_a = Sink(shape=(fxp.audio.n_exc,), buffer=steps)
        src_i.s_out.connect(dense_i.s_in)
        src_a.s_out.connect(dense_a.s_in)
        exc_i.s_out.connect(sink_i.a_in)
        exc_a.s_out.connect(sink_a.a_in)
        return src_i, lambda: (sink_i.data.get().T.astype(np.uint8),
                               sink_a.data.get().T.astype(np.uint8))

    neurons = fxp.image.n_exc + fxp.audio.n_exc
    return run_lava(build, steps, tag="fixed_pt",
                    timeout_s=step_timeout(steps, neurons) if timeout_s is None else timeout_s)
