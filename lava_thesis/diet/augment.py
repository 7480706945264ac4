"""Training-time image augmentation on a batch of pixels, on the batch's device.

Modes (``TrainConfig.augment``, ``lava-thesis train diet --augment``):

* ``"none"``: the images as they are;
* ``"shift"``: a random translation of up to 2 pixels each way (zero padding 2, then a random
  crop back to the image size), for digits and clothes (MNIST, Fashion-MNIST), where a flip
  would change what the image shows;
* ``"crop-flip"``: zero padding 4, a random crop and a horizontal flip with probability 1/2, the
  standard CIFAR-10 augmentation.

The random draws come from a ``torch.Generator`` on the CPU (reproducible on any device); the
crop is one gather, no Python loop over the batch.

Example
-------
>>> import torch
>>> x = torch.arange(16, dtype=torch.uint8).reshape(1, 1, 4, 4)
>>> torch.equal(augment(x, "none", torch.Generator()), x)
True
>>> augment(x, "shift", torch.Generator().manual_seed(0)).shape
torch.Size([1, 1, 4, 4])
"""

from __future__ import annotations

import torch

AUGMENTS = ("none", "shift", "crop-flip")
#: zero padding (pixels) and horizontal flip of each mode
_MODES = {"none": (0, False), "shift": (2, False), "crop-flip": (4, True)}


def random_crop(x: torch.Tensor, pad: int, generator: torch.Generator) -> torch.Tensor:
    """Zero-pad ``x`` ``(N, C, H, W)`` by ``pad`` on each side and cut a random ``H x W``
    window per sample (a translation by up to ``pad`` pixels each way)."""
    if pad == 0:
        return x
    n, c, h, w = x.shape
    padded = torch.nn.functional.pad(x, (pad, pad, pad, pad))
    top = torch.randint(0, 2 * pad + 1, (n,), generator=generator).to(x.device)
    left = torch.randint(0, 2 * pad + 1, (n,), generator=generator).to(x.device)
    rows = (top[:, None] + torch.arange(h, device=x.device))[:, None, :, None]
    cols = (left[:, None] + torch.arange(w, device=x.device))[:, None, None, :]
    batch = torch.arange(n, device=x.device)[:, None, None, None]
    channel = torch.arange(c, device=x.device)[None, :, None, None]
    return padded[batch, channel, rows, cols]


def random_flip(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Mirror each sample of ``x`` ``(N, C, H, W)`` left-right with probability 1/2."""
    flip = (torch.rand(len(x), generator=generator) < 0.5).to(x.device)
    return torch.where(flip[:, None, None, None], x.flip(-1), x)


def augment(x: torch.Tensor, mode: str, generator: torch.Generator) -> torch.Tensor:
    """``x`` ``(N, C, H, W)`` (any dtype) augmented by ``mode`` (one of :data:`AUGMENTS`)."""
    if mode not in _MODES:
        raise ValueError(f"augment must be one of {AUGMENTS}, got {mode!r}")
    pad, flip = _MODES[mode]
    x = random_crop(x, pad, generator)
    return random_flip(x, generator) if flip else x
