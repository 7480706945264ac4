"""The ANN twin of a DIET-SNN spec: same layers, ReLU, no bias; a sum-pooling layer ``pK`` is
average pooling here (the SNN's pool weight carries the ``1/K**2``, see
:func:`lava_thesis.diet.train.load_ann_weights`). Used to initialise the SNN (weights and
thresholds) and as the accuracy and energy baseline."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
from tqdm.auto import tqdm

from lava_thesis.diet.model import parse_spec
from lava_thesis.slayer_ext import pixels_to_input


def build_ann(spec: Sequence[str], input_shape: tuple[int, int, int]) -> torch.nn.Sequential:
    """``torch.nn.Sequential`` with the spec's layers; ReLU after every layer but the last
(after a pooling layer too: its input is already >= 0, so it changes nothing)."""
    layers = parse_spec(spec, input_shape)
    modules: list[torch.nn.Module] = []
    for i, (kind, c_in, c_out, k, s, _) in enumerate(layers):
        if kind == "conv":
            modules.append(torch.nn.Conv2d(c_in, c_out, k, stride=s, padding=k // 2, bias=False))
        elif kind == "dense":
            modules.append(torch.nn.Linear(c_in, c_out, bias=False))
        elif kind == "pool":
            modules.append(torch.nn.AvgPool2d(k, stride=s))
        else:
            modules.append(torch.nn.Flatten())
            continue
        if i < len(layers) - 1:
            modules.append(torch.nn.ReLU())
    return torch.nn.Sequential(*modules)


def _batches(images: np.ndarray, order: np.ndarray, batch_size: int):
    for start in range(0, len(order), batch_size):
        idx = order[start:start + batch_size]
        x = pixels_to_input(images[idx])
        yield idx, torch.from_numpy(x if x.ndim == 4 else x[:, None])


def train_ann(ann: torch.nn.Sequential, images: np.ndarray, labels: np.ndarray, *,
              epochs: int = 2, batch_size: int = 64, lr: float = 1e-3, seed: int = 0,
              on_epoch: Callable[[int, float], None] | None = None) -> list[float]:
    """Adam + cross-entropy; inputs ``x = p / 256`` as the SNN sees them. Returns train acc."""
    rng = np.random.default_rng(seed)
    opt = torch.optim.Adam(ann.parameters(), lr=lr)
    y_all = torch.as_tensor(labels, dtype=torch.long)
    history = []
    for epoch in range(epochs):
        ann.train()
        correct = 0
        for idx, x in tqdm(_batches(images, rng.permutation(len(labels)), batch_size),
                           total=-(-len(labels) // batch_size), desc=f"ANN epoch {epoch + 1}",
                           leave=False, disable=None):
            out = ann(x)
            loss = torch.nn.functional.cross_entropy(out, y_all[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            correct += int((out.argmax(1) == y_all[idx]).sum())
        history.append(correct / len(labels))
        if on_epoch is not None:
            on_epoch(epoch, history[-1])
    return history


@torch.no_grad()
def ann_predict(ann: torch.nn.Sequential, images: np.ndarray, batch_size: int = 512) -> np.ndarray:
    """Predicted classes of the ANN."""
    ann.eval()
    return torch.cat([ann(x).argmax(1) for _, x in
                      _batches(images, np.arange(len(images)), batch_size)]).numpy()
