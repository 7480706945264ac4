"""The shared supervised training loop (DIET-SNN, STDB, LITE): shuffled mini-batches,
cross-entropy, one optimiser step per batch, training accuracy per epoch; on any device, with
optional mixed precision, and per rank under data-parallel training."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from lava_thesis import distributed
from lava_thesis.device import autocast


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
    device: torch.device | None = None,
    batches: Callable[[int], list[np.ndarray]] | None = None,
    amp_dtype: torch.dtype | None = None,
    start_epoch: int = 0,
) -> list[float]:
    """Train for ``epochs``; ``forward(idx)`` returns ``(logits, extra_loss)`` for the samples
    ``idx`` (extra_loss is added to the cross-entropy, e.g. a spike-rate penalty);
    ``after_step()`` runs after every optimiser step (schedulers, clamps). Returns the training
    accuracy of each epoch. The order of samples comes from ``generator`` (reproducible).

    ``device``: where the logits are (the labels move there once; None: the CPU). The correct
    count stays on the device during the epoch and is read once at its end. ``batches(epoch)``,
    when given, returns that epoch's index batches instead (e.g. this rank's share under
    ``DistributedSampler``). ``amp_dtype``: run ``forward`` and the loss under
    ``torch.autocast`` in that dtype (float16 also scales the loss, ``torch.amp.GradScaler``).
    Under a process group (:mod:`lava_thesis.distributed`) the epoch's accuracy is the sum of
    correct over the sum of samples of all ranks. ``start_epoch``: the epochs before it are
    done (a resumed run); the history covers the epochs trained here."""
    device = torch.device("cpu") if device is None else device
    y_all = torch.as_tensor(labels, dtype=torch.long).to(device)
    scaler = (torch.amp.GradScaler(device.type) if amp_dtype == torch.float16 else None)
    history = []
    for epoch in range(start_epoch, epochs):
        module.train()
        if batches is None:
            order = torch.randperm(len(y_all), generator=generator).numpy()
            epoch_batches = [order[s:s + batch_size] for s in range(0, len(order), batch_size)]
        else:
            epoch_batches = batches(epoch)
        correct = torch.zeros((), dtype=torch.long, device=device)
        seen = 0
        for idx in tqdm(epoch_batches, desc=f"{desc} epoch {epoch + 1}", leave=False,
                        disable=None):
            y = y_all[torch.as_tensor(idx, device=device)]
            with autocast(device, amp_dtype):
                out, extra = forward(idx)
                loss = torch.nn.functional.cross_entropy(out, y) + extra
            optimizer.zero_grad()
            if scaler is None:
                loss.backward()
                optimizer.step()
            else:
                scaler.scale(loss).backward()
                scaler.step(optimizer)
                scaler.update()
            if after_step is not None:
                after_step()
            correct += (out.detach().argmax(1) == y).sum()
            seen += len(idx)
        totals = distributed.all_reduce_sum(torch.stack([correct, correct.new_tensor(seen)]))
        right, count = totals.tolist()  # the epoch's one read back from the device
        history.append(right / count)
        if on_epoch is not None:
            on_epoch(epoch, history[-1])
    return history


def count_parameters(model: torch.nn.Module, exclude: torch.nn.Module | None = None) -> int:
    """Trainable parameters of ``model``, leaving out those of its submodule ``exclude``
    (e.g. an embedding table shared by the models being compared)."""
    skip = set() if exclude is None else {id(p) for p in exclude.parameters()}
    return sum(p.numel() for p in model.parameters() if p.requires_grad and id(p) not in skip)


@dataclass
class BestEpoch:
    """The epoch with the best validation accuracy so far, and a copy of the module's state
    then (the latest epoch wins a tie). ``epoch`` starts at the run's last epoch, which is
    kept when no validation accuracy is ever offered.

    Examples
    --------
    >>> net = torch.nn.Linear(1, 1, bias=False)
    >>> best = BestEpoch(epoch=3)
    >>> _ = torch.nn.init.constant_(net.weight, 1.0); best.offer(1, 0.8, net)
    True
    >>> _ = torch.nn.init.constant_(net.weight, 2.0); best.offer(2, 0.7, net)
    False
    >>> best.restore(net); best.epoch, net.weight.item()
    (1, 1.0)
    """

    epoch: int
    acc: float = -1.0
    state: dict[str, torch.Tensor] | None = None

    def offer(self, epoch: int, acc: float, module: torch.nn.Module) -> bool:
        """Keep ``module``'s state if ``acc`` (of 1-based ``epoch``) is at least the best."""
        if acc < self.acc:
            return False
        self.epoch, self.acc = epoch, acc
        self.state = {k: v.detach().clone() for k, v in module.state_dict().items()}
        return True

    def restore(self, module: torch.nn.Module) -> None:
        """Load the kept state into ``module`` (nothing was kept: it stays as it is)."""
        if self.state is not None:
            module.load_state_dict(self.state)

    def as_dict(self) -> dict[str, Any]:
        """For a checkpoint; :meth:`from_dict` reads it back."""
        return {"epoch": self.epoch, "acc": self.acc, "state": self.state}

    @classmethod
    def from_dict(cls, saved: dict[str, Any]) -> BestEpoch:
        return cls(int(saved["epoch"]), float(saved["acc"]), saved["state"])
