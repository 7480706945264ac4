"""The converted SNN: an ANN's weights, integrate-and-fire neurons, balanced thresholds.

Example:
    >>> import torch
    >>> ann = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(16, 8, bias=False),
    ...                           torch.nn.ReLU(), torch.nn.Linear(8, 3, bias=False))
    >>> snn = HybridSNN(ann, [1.0, 1.0])
    >>> snn(torch.rand(20, 2, 1, 4, 4).round()).shape   # (T, B, C, H, W) spikes -> (B, 3)
    torch.Size([2, 3])
"""

from __future__ import annotations

import copy

import numpy as np
import torch

from lava_thesis.hybrid.neuron import NEVER, if_step

WEIGHT_LAYERS = (torch.nn.Conv2d, torch.nn.Linear)


def weight_layers(ann: torch.nn.Sequential) -> list[torch.nn.Module]:
    """The ANN's Conv2d / Linear layers in order (they must have no bias)."""
    layers = [m for m in ann if isinstance(m, WEIGHT_LAYERS)]
    for m in layers:
        if m.bias is not None:
            raise ValueError("conversion needs bias-free layers (a bias has no IF equivalent)")
    return layers


def poisson_input(images: torch.Tensor, num_steps: int,
                  generator: torch.Generator | None = None) -> torch.Tensor:
    """``(B, ...)`` intensities in [0, 1] -> ``(T, B, ...)`` Bernoulli spikes (rate = value)."""
    if images.min() < 0 or images.max() > 1:
        raise ValueError("Poisson input needs intensities in [0, 1]")
    rand = torch.rand((num_steps, *images.shape), generator=generator)
    return (rand < images).to(torch.float32)


class HybridSNN(torch.nn.Module):
    """IF network converted from a bias-free ``Sequential`` ANN (Conv2d / Linear / Flatten /
    ReLU / Dropout; ReLUs become IF neurons, the last weight layer accumulates membrane).

    Args:
        ann: the trained ANN (its weights are copied).
        thresholds: one per weight layer; the last is used only by the deployable twin
            (Lava reads output spikes), the torch readout is the accumulated membrane.
        reset: ``"soft"`` (subtract the threshold; the paper) or ``"hard"`` (reset to 0;
            Lava/Loihi, used for deployment).
        surrogate: ``"stdb"`` or ``"linear"``; ``alpha``, ``beta`` their parameters.
        dropout: probability of the STDB-training dropout mask (fixed over the time steps of
            a sample, as in the authors' code).
    """

    def __init__(self, ann: torch.nn.Sequential, thresholds: list[float], *,
                 reset: str = "soft", surrogate: str = "stdb", alpha: float = 0.3,
                 beta: float = 0.01, leak: float = 1.0, dropout: float = 0.0) -> None:
        super().__init__()
        modules = [copy.deepcopy(m) for m in ann
                   if isinstance(m, (*WEIGHT_LAYERS, torch.nn.Flatten))]
        self.layers = torch.nn.ModuleList(modules)
        n = len(weight_layers(ann))
        if len(thresholds) != n:
            raise ValueError(f"need {n} thresholds (one per weight layer), got "
                             f"{len(thresholds)}")
        self.register_buffer("thresholds", torch.tensor(thresholds, dtype=torch.float32))
        self.reset, self.surrogate = reset, surrogate
        self.alpha, self.beta, self.leak, self.dropout = alpha, beta, leak, dropout

    def forward(self, spikes: torch.Tensor, record: list | None = None,
                probe: int | None = None) -> torch.Tensor:
        """``spikes`` ``(T, B, ...)`` -> accumulated output membrane ``(B, classes)``.

        ``record`` (a list) receives each hidden layer's spike count ``(B, ...)``; ``probe``
        (a weight-layer index) makes the call return that layer's input currents
        ``(T, B, ...)`` instead (threshold balancing).
        """
        state: dict[int, tuple] = {}
        masks: dict[int, torch.Tensor] = {}
        out = None
        currents = []
        for t in range(spikes.shape[0]):
            x = spikes[t]
            w_index = 0
            for i, layer in enumerate(self.layers):
                if isinstance(layer, torch.nn.Flatten):
                    x = layer(x)
                    continue
                current = layer(x)
                if probe == w_index:
                    currents.append(current)
                    break
                if w_index == len(self.thresholds) - 1:
                    out = current if out is None else out + current
                    break
                if i not in state:
                    zeros = torch.zeros_like(current)
                    state[i] = (zeros, zeros, torch.full_like(current, NEVER))
                u0, s0, last0 = state[i]
                u, s, last = if_step(u0, current, s0, last0, t, self.thresholds[w_index],
                                     leak=self.leak, reset=self.reset,
                                     surrogate=self.surrogate, alpha=self.alpha,
                                     beta=self.beta)
                state[i] = (u, s, last)
                if self.training and self.dropout > 0:
                    if i not in masks:
                        keep = 1.0 - self.dropout
                        masks[i] = torch.bernoulli(torch.full_like(s, keep)) / keep
                    s = s * masks[i]
                x = s
                w_index += 1
        if probe is not None:
            return torch.stack(currents)
        if record is not None:
            record.extend(st[1] for st in state.values())  # last step's spikes (cheap)
        return out


@torch.no_grad()
def balance_thresholds(snn: HybridSNN, images: torch.Tensor, num_steps: int, *,
                       percentile: float | None = None, scale: float = 1.0,
                       seed: int = 0) -> list[float]:
    """Layer-by-layer threshold balancing (Sengupta et al.; the paper's step 2).

    For each weight layer in turn, run the SNN with the earlier layers already balanced and
    take the maximum (or the ``percentile``) of that layer's input current over all steps and
    neurons; finally multiply every threshold by ``scale`` (the authors use 0.7). Sets and
    returns the thresholds.
    """
    gen = torch.Generator().manual_seed(seed)
    spikes = poisson_input(images, num_steps, gen)
    snn.eval()
    for layer in range(len(snn.thresholds)):
        cur = snn(spikes, probe=layer)
        value = (float(cur.max()) if percentile is None
                 else float(np.percentile(cur.numpy(), percentile)))
        snn.thresholds[layer] = max(value, 1e-3)
    snn.thresholds *= scale
    return snn.thresholds.tolist()
