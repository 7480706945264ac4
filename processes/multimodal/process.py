"""``MultimodalEnsemble``: two Diehl & Cook ensembles joined by cross-modal STDP synapses."""

from __future__ import annotations

import numpy as np
from lava.magma.core.process.ports.ports import InPort, OutPort
from lava.magma.core.process.process import AbstractProcess, LogConfig
from lava.magma.core.process.variable import Var

from lava_thesis.multimodal.params import CrossParams
from lava_thesis.stdp.params import STDPParams


class MultimodalEnsemble(AbstractProcess):
    """Image and audio ensembles (each a ``DiehlCookNetwork``) with plastic excitatory
    cross-modal synapses between their excitatory layers (Rathi & Roy 2018)::

        s_in_image -> DiehlCookNetwork(image) -> s_out_image
                            |  ^ a_in
        PowerLawSTDPDense   |  |  PowerLawSTDPDense
        w_image_audio       v  |  w_audio_image
                 a_in       |
        s_in_audio -> DiehlCookNetwork(audio) -> s_out_audio

    The cross-modal synapse ``image -> audio`` has the image ensemble's spikes as presynaptic
    input, the audio ensemble's spikes as back-propagated postsynaptic spikes, and feeds the
    audio neurons' ``a_in``; learning is method 1's power-law STDP with
    :class:`~lava_thesis.multimodal.params.CrossParams` (weights in ``[0, w_max]``: the
    connections only excite; rows normalised to ``norm_total`` after each presentation when
    it is > 0). ``cross.enabled=False`` leaves them out. The fast engine
    :class:`lava_thesis.multimodal.engine.MultimodalNetwork` runs the same equations.

    Ports: ``s_in_image`` (image n_input) and ``s_in_audio`` (audio n_input) input spikes;
    ``s_out_image`` / ``s_out_audio`` each ensemble's excitatory spikes. Vars: each ensemble's
    ``weights_*``, ``mask_*``, ``theta_*`` and the cross-modal ``w_image_audio`` ``(audio
    n_exc, image n_exc)`` (image spikes -> audio neurons) and ``w_audio_image``.

    Example:
        >>> p = STDPParams(n_input=784, n_exc=100)
        >>> net = MultimodalEnsemble(image=p, audio=p, cross=CrossParams())  # doctest: +SKIP
        >>> image_source.s_out.connect(net.s_in_image)                       # doctest: +SKIP
    """

    def __init__(
        self,
        *,
        image: STDPParams,
        audio: STDPParams,
        cross: CrossParams,
        image_state: dict[str, np.ndarray] | None = None,
        audio_state: dict[str, np.ndarray] | None = None,
        w_image_audio: np.ndarray | None = None,
        w_audio_image: np.ndarray | None = None,
        learning: bool = True,
        name: str | None = None,
        log_config: LogConfig | None = None,
    ) -> None:
        """``image_state`` / ``audio_state``: ``{"weights", "mask", "theta"}`` of an ensemble
        (as ``DiehlCookNetwork`` takes them; missing keys use its defaults, seeds 0 and 1).
        ``w_image_audio`` ``(audio n_exc, image n_exc)`` and ``w_audio_image`` default to
        ``cross.w_init``."""
        super().__init__(name=name, log_config=log_config)
        ni, na = image.n_exc, audio.n_exc
        xw = {}
        for key, value, shape in (("w_image_audio", w_image_audio, (na, ni)),
                                  ("w_audio_image", w_audio_image, (ni, na))):
            value = np.full(shape, cross.w_init) if value is None else np.asarray(value, float)
            if value.shape != shape:
                raise ValueError(f"{key} must be {shape} (post, pre), got {value.shape}")
            xw[key] = value
        self.proc_params["params"] = (image, audio, cross)
        self.proc_params["states"] = (dict(image_state or {}), dict(audio_state or {}))
        self.proc_params["learning"] = bool(learning)
        self.s_in_image = InPort(shape=(image.n_input,))
        self.s_in_audio = InPort(shape=(audio.n_input,))
        self.s_out_image = OutPort(shape=(ni,))
        self.s_out_audio = OutPort(shape=(na,))
        for tag, p in (("image", image), ("audio", audio)):
            setattr(self, f"weights_{tag}", Var(shape=(p.n_exc, p.n_input)))
            setattr(self, f"mask_{tag}", Var(shape=(p.n_exc, p.n_input)))
            setattr(self, f"theta_{tag}", Var(shape=(p.n_exc,)))
        self.w_image_audio = Var(shape=(na, ni), init=xw["w_image_audio"])
        self.w_audio_image = Var(shape=(ni, na), init=xw["w_audio_image"])
