"""Extensions of lava-dl SLAYER: a learnable per-layer threshold, learnable leak helpers,
direct (analog) input that stays bit-exact when deployed to Lava, and a torch-native CUBA neuron
bit-exact with SLAYER's (:mod:`lava_thesis.slayer_ext.cuba`)."""

from lava_thesis.slayer_ext.cuba import (
    CubaFunction,
    block_forward,
    cuba_lif,
    neuron_dynamics,
    neuron_forward,
)
from lava_thesis.slayer_ext.direct_input import (
    INPUT_BITS,
    attach_direct_input,
    pixels_to_input,
)
from lava_thesis.slayer_ext.threshold import FoldedThreshold, attach_learnable_threshold

__all__ = [
    "INPUT_BITS",
    "CubaFunction",
    "FoldedThreshold",
    "attach_direct_input",
    "attach_learnable_threshold",
    "block_forward",
    "cuba_lif",
    "neuron_dynamics",
    "neuron_forward",
    "pixels_to_input",
]
