"""A small real MNIST subset shipped inside the package, so the demo runs offline.

``shipped/mnist_subset.npz`` holds the first 2,000 training and the first 500 test images of
MNIST (LeCun, Cortes & Burges; CC BY-SA 3.0), uint8, exactly as in the IDX files. It was written
by :func:`build_shipped_mnist` from the official files.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lava_thesis.atomic import atomic_path

SHIPPED = Path(__file__).with_name("shipped") / "mnist_subset.npz"


def load_shipped_mnist(split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """Images ``(N, 28, 28)`` uint8 and labels ``(N,)`` int64 of the shipped subset.

    ``split`` is ``"train"`` (2,000 images) or ``"test"`` (500 images).
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    with np.load(SHIPPED) as data:
        return data[f"{split}_images"], data[f"{split}_labels"].astype(np.int64)


def build_shipped_mnist(
    data_dir: str | Path | None = None, out: str | Path = SHIPPED, n_train: int = 2000,
    n_test: int = 500,
) -> Path:
    """Rewrite the shipped subset from the full MNIST files in ``data_dir``."""
    from lava_thesis.data.mnist import load_mnist

    xtr, ytr = load_mnist("train", data_dir)
    xte, yte = load_mnist("test", data_dir)
    with atomic_path(out) as tmp, open(tmp, "wb") as handle:
        np.savez_compressed(
            handle, train_images=xtr[:n_train], train_labels=ytr[:n_train].astype(np.uint8),
            test_images=xte[:n_test], test_labels=yte[:n_test].astype(np.uint8),
        )
    return Path(out)
