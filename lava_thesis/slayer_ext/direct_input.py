"""Direct (analog) input that is bit-exact between SLAYER and Lava fixed point.

DIET-SNN feeds analog pixels into the first layer at every time step. In Lava the pixels travel
as graded spikes: integer payloads ``p = floor(256 x)`` (:data:`INPUT_BITS` = 8 bits), and the
first layer's synapse shifts its weighted sum right by 8 bits
(``lava_thesis.deploy.netx_run`` lowers that layer's ``weight_exp`` by :data:`INPUT_BITS`), which
floors the current to the neuron's fixed-point grid. :func:`attach_direct_input` makes SLAYER's
first block compute the same thing: input ``x = p / 256`` and the synaptic current floored to
``1 / w_scale`` (a straight-through estimator keeps the gradient).
"""

from __future__ import annotations

import numpy as np
import torch

INPUT_BITS = 8


class _FloorSTE(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return torch.floor(x)

    @staticmethod
    def backward(ctx, grad):
        return grad


def pixels_to_input(images: np.ndarray) -> np.ndarray:
    """uint8 images -> analog input ``x = p / 256`` in [0, 1) (float32); ``p`` is the payload."""
    images = np.asarray(images)
    if images.dtype != np.uint8:
        raise ValueError(f"images must be uint8 pixels, got dtype {images.dtype}")
    return images.astype(np.float32) / (1 << INPUT_BITS)


def attach_direct_input(block: torch.nn.Module):
    """Floor the first block's synaptic current to SLAYER's fixed-point grid (Lava parity).

    Returns the forward-hook handle.
    """
    scale = float(block.neuron.w_scale)

    def floor_current(module, inputs, output):
        return _FloorSTE.apply(output * scale) / scale

    return block.synapse.register_forward_hook(floor_current)
