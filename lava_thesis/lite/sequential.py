"""Sequential MNIST with a controlled sequence length: pixel chunks and the three classifiers.

:func:`chunk_pixels` reads each 28x28 image in raster order as ``T = 784 / k`` chunks of ``k``
pixels (``k`` in 28, 14, 7, 4 -> ``T`` = 28, 56, 112, 196; the same pixels at every length)::

    x[n, t, j] = image[n].flat[t k + j] / 255          (N, T, k) float32 in [0, 1]

Models, for ``x (B, T, k)``, hidden size ``H``, ``C`` classes, logits ``(B, C)`` (loss CE):

* :class:`SeqSNN` (vanilla feed-forward SNN, readout at the last step)::

      s1 = LIF(Linear(k->H) x);  s2 = LIF(Linear(H->H) s1);  v = LI(Linear(H->H) s2)  (B, T, H)
      logits = Linear(H->C)(v[:, T - 1])

  LIF and the non-spiking leaky integrator LI are those of :mod:`lava_thesis.lite.sentiment`
  (per layer trainable threshold, init 1.0, and leak, init 0.95, clamped to [0, 1]; soft
  reset; linear surrogate gradient). Pixels enter as analog currents (direct encoding), one
  chunk per time step. A pixel ``d`` steps before the end reaches the readout only through the
  leaky states (``lambda^d`` for the integrator): the vanilla SNN's long-range path.

* :class:`SeqAttentionSNN`: the same trunk; ``feature = sum_t alpha_t v_t`` with the additive
  attention of :class:`~lava_thesis.lite.attention.AttentionPool` (all steps valid), then
  ``Linear(H->C)``.

* :class:`SeqLSTM`: ``nn.LSTM(k->H)``, the hidden state after the last step -> ``Linear(H->C)``.

Example:
    >>> import numpy as np, torch
    >>> x = torch.from_numpy(chunk_pixels(np.zeros((2, 28, 28), np.uint8), 7))
    >>> x.shape, SeqSNN(7, hidden=16)(x).shape, SeqAttentionSNN(7, 16, attn_dim=4)(x).shape
    (torch.Size([2, 112, 7]), torch.Size([2, 10]), torch.Size([2, 10]))
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from lava_thesis.lite.attention import AttentionPool
from lava_thesis.lite.sentiment import LifTrunk

__all__ = ["SeqAttentionSNN", "SeqLSTM", "SeqSNN", "chunk_pixels"]


def chunk_pixels(images: np.ndarray, k: int) -> np.ndarray:
    """``images (N, h, w)`` uint8 -> ``(N, h w / k, k)`` float32 in [0, 1], raster order
    (module docstring). Raises ValueError if ``k`` does not divide ``h w``."""
    n_pixels = images.shape[1] * images.shape[2]
    if k < 1 or n_pixels % k:
        raise ValueError(f"k must divide the {n_pixels} pixels of an image, got {k}")
    flat = np.asarray(images, np.float32).reshape(len(images), n_pixels) / 255.0
    return flat.reshape(len(images), n_pixels // k, k)


class SeqSNN(LifTrunk):
    """Vanilla SNN, last-step readout: ``forward(x (B, T, k)) -> logits (B, classes)``.

    ``record`` (a list) receives ``[s1, s2]``, both layers' spikes ``(B, T, hidden)``.
    """

    def __init__(self, in_features: int, hidden: int = 128, classes: int = 10,
                 threshold: float = 1.0, leak: float = 0.95, reset: str = "soft") -> None:
        super().__init__(in_features, hidden, threshold, leak, reset)
        self.head = nn.Linear(hidden, classes)

    def trunk(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Spikes ``s1``, ``s2`` and integrator membrane ``v``, each ``(B, T, hidden)``."""
        return self.layers(self.fc1(x))

    def readout(self, v: torch.Tensor) -> torch.Tensor:
        """``v (B, T, H) -> feature (B, H)``: the last step."""
        return v[:, -1]

    def forward(self, x: torch.Tensor, record: list | None = None) -> torch.Tensor:
        s1, s2, v = self.trunk(x)
        if record is not None:
            record += [s1, s2]
        return self.head(self.readout(v))


class SeqAttentionSNN(SeqSNN):
    """:class:`SeqSNN` with attention pooling over all steps instead of the last step;
    ``attn_dim`` is the attention's hidden size ``A``."""

    def __init__(self, in_features: int, hidden: int = 128, classes: int = 10,
                 threshold: float = 1.0, leak: float = 0.95, reset: str = "soft",
                 attn_dim: int = 64) -> None:
        super().__init__(in_features, hidden, classes, threshold, leak, reset)
        self.pool = AttentionPool(hidden, attn_dim)

    def readout(self, v: torch.Tensor) -> torch.Tensor:
        return self.pool(v, torch.ones(v.shape[:2], dtype=v.dtype, device=v.device))[0]


class SeqLSTM(nn.Module):
    """``nn.LSTM(k->H)``, last hidden state, ``Linear(H->C)``:
    ``forward(x (B, T, k)) -> logits (B, classes)``."""

    def __init__(self, in_features: int, hidden: int = 128, classes: int = 10) -> None:
        super().__init__()
        self.rnn = nn.LSTM(in_features, hidden, batch_first=True)
        self.head = nn.Linear(hidden, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.rnn(x)
        return self.head(out[:, -1])
