"""Fixed-point (Loihi-style integer) form of a trained multimodal network, for inference.

Each ensemble converts as a Diehl & Cook network does (:func:`lava_thesis.stdp.fixed_point.
to_fixed_point`: its own scale ``S``, 8-bit input weights, theta folded into the thresholds).
The cross-modal synapses become two more excitatory ``Dense`` layers, each quantized in the
scale of the ensemble it drives:

.. math::
    e = \\lceil \\log_2(\\max W_{a \\to b} S_b / 255) \\rceil,\\quad
    m = \\mathrm{round}(W_{a \\to b} S_b / 2^e) \\in [0, 255]

so that ``m 2**e`` is the float current in ``b``'s integer units. At step ``t`` the excitatory
neurons of ``b`` receive ``b``'s input current, its lateral inhibition and what ``a``'s
excitatory spikes of step ``t - 1`` sent through ``m`` (Lava's ``Dense`` timing, as in the
float network). The Lava network is :func:`lava_thesis.multimodal.deploy.lava_fixed_run_pair`,
the bit-identical fast engine :mod:`lava_thesis.multimodal.fixed_engine`.

Example:
    >>> from lava_thesis.multimodal.engine import MultimodalNetwork
    >>> from lava_thesis.multimodal.params import CrossParams
    >>> from lava_thesis.stdp import STDPParams
    >>> p = STDPParams(n_input=4, n_exc=3)
    >>> net = MultimodalNetwork(p, p, CrossParams(), seed=0)
    >>> net.w_image_audio = np.full((3, 3), 0.5)
    >>> fxp = pair_to_fixed_point(net)
    >>> int(fxp.w_image_audio.max()) * 2**fxp.w_image_audio_exp == 0.5 * fxp.audio.scale
    True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lava_thesis.stdp.fixed_point import (
    MAX_INH_SPIKES,
    FixedPointNetwork,
    quantize_layer,
    to_fixed_point,
)


@dataclass(frozen=True)
class FixedPointPair:
    """The integers of a trained multimodal network: both ensembles
    (:class:`~lava_thesis.stdp.fixed_point.FixedPointNetwork`) and the cross-modal mantissas,
    Lava's ``(post, pre)``: ``w_image_audio`` ``(n_audio_exc, n_image_exc)`` in the audio
    ensemble's scale, ``w_audio_image`` ``(n_image_exc, n_audio_exc)`` in the image one's,
    each with its exponent. ``cross_enabled`` False: no cross-modal layers (the ablation)."""

    image: FixedPointNetwork
    audio: FixedPointNetwork
    w_image_audio: np.ndarray
    w_image_audio_exp: int
    w_audio_image: np.ndarray
    w_audio_image_exp: int
    cross_enabled: bool = True

    @property
    def weight_bits(self) -> int:
        return self.image.weight_bits


def pair_to_fixed_point(net, weight_bits: int = 8,
                        max_inh_spikes: int = MAX_INH_SPIKES) -> FixedPointPair:
    """Convert a (trained) :class:`~lava_thesis.multimodal.engine.MultimodalNetwork`
    (equations in the module docstring); ``weight_bits`` and ``max_inh_spikes`` as in
    :func:`~lava_thesis.stdp.fixed_point.to_fixed_point`, for every layer."""
    image = to_fixed_point(net.image, weight_bits, max_inh_spikes)
    audio = to_fixed_point(net.audio, weight_bits, max_inh_spikes)
    enabled = bool(net.cross.enabled)
    w_ia, e_ia = quantize_layer(net.w_image_audio if enabled else 0 * net.w_image_audio,
                                audio.scale, weight_bits, "image -> audio weights")
    w_ai, e_ai = quantize_layer(net.w_audio_image if enabled else 0 * net.w_audio_image,
                                image.scale, weight_bits, "audio -> image weights")
    return FixedPointPair(image, audio, w_ia, e_ia, w_ai, e_ai, enabled)
