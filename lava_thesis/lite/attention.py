"""LITE-SNN readouts over time: learned attention pooling and last-step readout.

Both reuse the trunk of :class:`~lava_thesis.lite.sentiment.LiteSNN` (embedding, each token held
for ``S`` steps, ``Linear+LIF``, ``Linear+LIF``, ``Linear`` into a leaky integrator; trainable
thresholds and leaks) and change only how the integrator membrane ``v (B, T, H)`` becomes the
feature that the head ``Linear(H->1)`` reads. With the valid-step mask ``m (B, T)``
(``m[b, t] = 1`` for ``t < n_b S``):

* :class:`AttentionSNN` (attention over time)::

      e_t = w2 . tanh(W1 v_t + b1)                       (B, T)   W1: (A, H), w2: (A,)
      alpha_t = m_t exp(e_t) / sum_k m_k exp(e_k)        (B, T)   sums to 1 over valid steps
      feature = sum_t alpha_t v_t                        (B, H)

  Padded steps get exactly zero weight (their score is set to ``-inf`` before the softmax), so
  padding never changes the output. The readout can look back at any step, however far: the
  path from a token to the head is one weighted sum, not ``T`` leaky steps.

* :class:`LastStepSNN` ("readout at the end")::

      feature = v[b, n_b S - 1]                          (B, H)

  The information of a token ``d`` steps before the end reaches the head only through the
  leaky states (``lambda^d`` for the integrator), the vanilla SNN's long-range weakness.

:class:`~lava_thesis.lite.sentiment.LiteSNN` itself (mean of ``v`` over valid steps, the
authors' readout) is the third option.

Example:
    >>> import torch
    >>> model = AttentionSNN(vocab_size=50, hidden=32, steps_per_token=2, attn_dim=8)
    >>> ids, lengths = torch.tensor([[5, 6, 7], [8, 9, 0]]), torch.tensor([3, 2])
    >>> logits, weights = model(ids, lengths), model.attend(ids, lengths)[1]
    >>> logits.shape, weights.shape, torch.allclose(weights.sum(1), torch.ones(2))
    (torch.Size([2]), torch.Size([2, 6]), True)
    >>> bool((weights[1, 4:] == 0).all())  # the padded token's two steps
    True
"""

from __future__ import annotations

import torch
from torch import nn

from lava_thesis.lite.sentiment import LiteSNN

__all__ = ["AttentionPool", "AttentionSNN", "LastStepSNN", "masked_softmax"]


def masked_softmax(scores: torch.Tensor, mask: torch.Tensor, dim: int = 1) -> torch.Tensor:
    """Softmax of ``scores`` (e.g. ``(B, T)``) along ``dim`` over the entries where ``mask``
    (broadcastable to ``scores``) is nonzero; the others get weight 0. Every slice along
    ``dim`` needs at least one valid entry."""
    return scores.masked_fill(mask == 0, float("-inf")).softmax(dim)


class AttentionPool(nn.Module):
    """Additive attention pooling over time (module docstring), independent of the input
    type: ``forward(v (B, T, H), mask (B, T)) -> (feature (B, H), weights alpha (B, T))``.
    Used by :class:`AttentionSNN` (tokens) and :mod:`lava_thesis.lite.sequential` (pixels)."""

    def __init__(self, hidden: int, attn_dim: int = 64) -> None:
        super().__init__()
        self.score = nn.Sequential(nn.Linear(hidden, attn_dim), nn.Tanh(),
                                   nn.Linear(attn_dim, 1))

    def forward(self, v: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        weights = masked_softmax(self.score(v).squeeze(-1), mask)
        return (weights[..., None] * v).sum(1), weights


class AttentionSNN(LiteSNN):
    """LiteSNN trunk + additive attention pooling over time (module docstring):
    ``forward(ids (B, L), lengths (B,)) -> logits (B,)``; ``attn_dim`` is ``A``.

    ``record`` (a list) receives ``[s1, s2, mask]`` as for ``LiteSNN`` (so
    :func:`~lava_thesis.lite.sentiment.snn_energy` works); :meth:`attend` also gives the
    weights.
    """

    def __init__(self, vocab_size: int, embed_dim: int = 100, hidden: int = 256,
                 steps_per_token: int = 5, threshold: float = 1.0, leak: float = 0.95,
                 reset: str = "soft", attn_dim: int = 64) -> None:
        super().__init__(vocab_size, embed_dim, hidden, steps_per_token, threshold, leak, reset)
        self.pool = AttentionPool(hidden, attn_dim)

    def attend(self, ids: torch.Tensor, lengths: torch.Tensor
               ) -> tuple[torch.Tensor, torch.Tensor, list[torch.Tensor]]:
        """``(feature (B, H), weights alpha (B, T), [s1, s2, mask])``."""
        s1, s2, v, mask = self.trunk(ids, lengths)
        feature, weights = self.pool(v, mask)
        return feature, weights, [s1, s2, mask]

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor,
                record: list | None = None) -> torch.Tensor:
        feature, _, rec = self.attend(ids, lengths)
        if record is not None:
            record += rec
        return self.head(feature).squeeze(-1)


class LastStepSNN(LiteSNN):
    """LiteSNN trunk read out at the last valid step only (module docstring):
    ``forward(ids (B, L), lengths (B,)) -> logits (B,)``; ``record`` as for ``LiteSNN``."""

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor,
                record: list | None = None) -> torch.Tensor:
        s1, s2, v, mask = self.trunk(ids, lengths)
        if record is not None:
            record += [s1, s2, mask]
        last = lengths.to(v.device) * self.steps_per_token - 1
        return self.head(v[torch.arange(len(v), device=v.device), last]).squeeze(-1)
