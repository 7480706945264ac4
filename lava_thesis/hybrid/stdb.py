"""STDB fine-tuning of a converted SNN: backprop through time with the spike-time surrogate.

The paper's settings: Adam, lr 1e-4, weight decay 5e-4, dropout 0.3; cross-entropy on the
output layer's accumulated membrane potential. Thresholds stay fixed (the balanced ones).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from lava_thesis.device import resolve_device
from lava_thesis.hybrid.snn import HybridSNN, poisson_input
from lava_thesis.training import fit


@dataclass
class STDBConfig:
    epochs: int = 3
    batch_size: int = 32
    lr: float = 1e-4
    weight_decay: float = 5e-4
    seed: int = 0
    #: where the fine-tuning runs: "cpu", "cuda", "cuda:N" or "auto"; the network comes back
    #: to the CPU afterwards (evaluation, the twin and the export run there)
    device: str = "cpu"


def intensities(images: np.ndarray) -> torch.Tensor:
    """uint8 images ``(N, H, W)`` / ``(N, C, H, W)`` -> float ``(N, C, H, W)`` in [0, 1]."""
    x = torch.from_numpy(np.asarray(images, np.float32) / 255.0)
    return x[:, None] if x.ndim == 3 else x


def train_stdb(snn: HybridSNN, images: np.ndarray, labels: np.ndarray, num_steps: int,
               cfg: STDBConfig,
               on_epoch: Callable[[int, float], None] | None = None) -> list[float]:
    """Fine-tune ``snn``'s weights with BPTT through its surrogate on ``cfg.device``; returns
    train accuracy per epoch. Poisson input is redrawn for every batch (seeded, drawn on the
    CPU: the same spikes on every device). ``snn`` is on the CPU again when this returns."""
    device = resolve_device(cfg.device)
    gen = torch.Generator().manual_seed(cfg.seed)
    snn.to(device)
    opt = torch.optim.Adam(snn.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)

    def forward(idx: np.ndarray):
        return snn(poisson_input(intensities(images[idx]), num_steps, gen).to(device)), 0.0

    try:
        return fit(snn, forward, labels, opt, epochs=cfg.epochs, batch_size=cfg.batch_size,
                   generator=gen, on_epoch=on_epoch, desc="STDB", device=device)
    finally:
        snn.cpu()


@torch.no_grad()
def snn_predict(snn: HybridSNN, images: np.ndarray, num_steps: int, *, seed: int = 1,
                batch_size: int = 256) -> np.ndarray:
    """Classes from the accumulated output membrane (Poisson input, seeded)."""
    snn.eval()
    gen = torch.Generator().manual_seed(seed)
    preds = []
    for start in range(0, len(images), batch_size):
        x = intensities(images[start:start + batch_size])
        preds.append(snn(poisson_input(x, num_steps, gen)).argmax(1))
    return torch.cat(preds).numpy()
