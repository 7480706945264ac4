"""Extensions of lava-dl SLAYER: a learnable per-layer threshold, learnable leak helpers, and
direct (analog) input that stays bit-exact when deployed to Lava."""

from lava_thesis.slayer_ext.direct_input import (
    INPUT_BITS,
    attach_direct_input,
    pixels_to_input,
)
from lava_thesis.slayer_ext.threshold import FoldedThreshold, attach_learnable_threshold

__all__ = [
    "INPUT_BITS",
    "FoldedThreshold",
    "attach_direct_input",
    "attach_learnable_threshold",
    "pixels_to_input",
]
