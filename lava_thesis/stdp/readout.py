"""Unsupervised readout: label each excitatory neuron by the class it answers most, then vote.

Example:
    >>> import numpy as np
    >>> counts = np.array([[5, 0], [0, 3], [4, 1]])
    >>> assign_labels(counts, np.array([0, 1, 0]), 2)
    array([0, 1])
    >>> predict(np.array([[0, 2]]), np.array([0, 1]), 2)
    array([1])
"""

from __future__ import annotations

import numpy as np


def assign_labels(counts: np.ndarray, labels: np.ndarray, n_classes: int) -> np.ndarray:
    """Neuron ``j``'s label: the class with the highest mean response ``counts[:, j]``.

    ``counts`` ``(N, n_exc)`` are spike counts on labelled samples (weights frozen).
    A neuron that never fired gets label -1 (it takes no part in the vote).
    """
    counts = np.asarray(counts, np.float64)
    labels = np.asarray(labels)
    if counts.ndim != 2 or len(counts) != len(labels):
        raise ValueError(f"counts (N, n_exc) and labels (N,) disagree: {counts.shape}, "
                         f"{labels.shape}")
    means = np.zeros((n_classes, counts.shape[1]))
    for c in range(n_classes):
        sel = labels == c
        if sel.any():
            means[c] = counts[sel].mean(0)
    out = means.argmax(0)
    out[means.max(0) == 0] = -1
    return out


def class_scores(counts: np.ndarray, assignments: np.ndarray, n_classes: int) -> np.ndarray:
    """Mean spike count of each class's assigned neurons, ``(N, n_classes)``."""
    counts = np.asarray(counts, np.float64)
    scores = np.zeros((len(counts), n_classes))
    for c in range(n_classes):
        sel = assignments == c
        if sel.any():
            scores[:, c] = counts[:, sel].mean(1)
    return scores


def predict(counts: np.ndarray, assignments: np.ndarray, n_classes: int) -> np.ndarray:
    """The class whose assigned neurons fired most on average (D&C's vote)."""
    return class_scores(counts, assignments, n_classes).argmax(1)
