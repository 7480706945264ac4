"""Seeded index splits: a train/test split, a stratified one, and k folds.

Experiments take their validation split from :func:`lava_thesis.protocol.validation_split`
(built on :func:`stratified_split`).
"""

from __future__ import annotations

import numpy as np


def train_test_split(
    n: int, test_fraction: float = 0.2, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Split ``range(n)`` at random into sorted train and test indices.

    Parameters
    ----------
    n : int
        Number of samples.
    test_fraction : float
        Fraction in [0, 1] that goes to the test set (rounded).
    seed : int
        Seed of the permutation.

    Returns
    -------
    train, test : np.ndarray
        int64 indices, disjoint, together ``range(n)``.
    """
    if not 0.0 <= test_fraction <= 1.0:
        raise ValueError(f"test_fraction must be in [0, 1], got {test_fraction}")
    perm = np.random.default_rng(seed).permutation(n)
    n_test = int(round(n * test_fraction))
    return np.sort(perm[n_test:]), np.sort(perm[:n_test])


def stratified_split(groups: np.ndarray, test_fraction: float, seed: int
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Sorted train/test indices; each group value gives ``round(n_g * test_fraction)`` of
    its ``n_g`` samples (chosen at random, seeded) to test.

    The stratified split behind :func:`lava_thesis.protocol.validation_split` (which carves
    the validation set off the training data). ``groups`` is 1-D; ``test_fraction`` in [0, 1].
    """
    if not 0.0 <= test_fraction <= 1.0:
        raise ValueError(f"test_fraction must be in [0, 1], got {test_fraction}")
    groups = np.asarray(groups)
    rng = np.random.default_rng(seed)
    test = [rng.permutation(np.flatnonzero(groups == g))[:int(round((groups == g).sum()
                                                                      * test_fraction))]
            for g in np.unique(groups)]
    test_idx = np.sort(np.concatenate(test)) if test else np.zeros(0, dtype=np.int64)
    return np.setdiff1d(np.arange(len(groups)), test_idx), test_idx


def kfold(n: int, k: int = 5, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """Split ``range(n)`` into ``k`` seeded folds.

    Returns
    -------
    list of (train, test)
        Sorted int64 indices; the test parts are disjoint, differ in size by at most one,
        and together cover ``range(n)``.
    """
    if not 2 <= k <= max(n, 2):
        raise ValueError(f"k must be in [2, n={n}], got {k}")
    folds = np.array_split(np.random.default_rng(seed).permutation(n), k)
    return [
        (np.sort(np.concatenate(folds[:i] + folds[i + 1 :])), np.sort(f))
        for i, f in enumerate(folds)
    ]
