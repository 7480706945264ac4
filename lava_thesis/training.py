"""The shared supervised training loop (DIET-SNN, STDB): shuffled mini-batches, cross-entropy,
one optimiser step per batch, training accuracy per epoch."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from tqdm.auto import tqdm


def fit(
    module: torch.nn.Module,
    forward: Callable[[np.ndarray], tuple[torch.Tensor, torch.Tensor | float]],
    labels: np.ndarray,
    optimizer: torch.optim.Optimizer,
    *,
    epochs: int,
    batch_size: int,
    generator: torch.Generator,
    after_step: Callable[[], None] | None = None,
    on_epoch: Callable[[int, float], None] | None = None,
    desc: str = "train",
) -> list[float]:
    """Train for ``epochs``; ``forward(idx)`` returns ``(logits, extra_loss)`` for the samples
    ``idx`` (extra_loss is added to the cross-entropy, e.g. a spike-rate penalty);
    ``after_step()`` runs after every optimiser step (schedulers, clamps). Returns the training
    accuracy of each epoch. The order of samples comes from ``generator`` (reproducible)."""
    y_all = torch.as_tensor(labels, dtype=torch.long)
    history = []
    for epoch in range(epochs):
        module.train()
        order = torch.randperm(len(y_all), generator=generator).numpy()
        correct = 0
        for start in tqdm(range(0, len(order), batch_size), desc=f"{desc} epoch {epoch + 1}",
                          leave=False, disable=None):
            idx = order[start:start + batch_size]
            out, extra = forward(idx)
            loss = torch.nn.functional.cross_entropy(out, y_all[idx]) + extra
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if after_step is not None:
                after_step()
            correct += int((out.argmax(1) == y_all[idx]).sum())
        history.append(correct / len(y_all))
        if on_epoch is not None:
            on_epoch(epoch, history[-1])
    return history


def count_parameters(model: torch.nn.Module, exclude: torch.nn.Module | None = None) -> int:
    """Trainable parameters of ``model``, leaving out those of its submodule ``exclude``
    (e.g. an embedding table shared by the models being compared)."""
    skip = set() if exclude is None else {id(p) for p in exclude.parameters()}
    return sum(p.numel() for p in model.parameters() if p.requires_grad and id(p) not in skip)
