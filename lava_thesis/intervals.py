"""Confidence intervals for test-set accuracies whose samples come in clusters.

When one test item is used several times (the multimodal experiment pairs each utterance with
several images), its samples are not independent: resampling samples would understate the
spread. :func:`cluster_bootstrap` resamples whole clusters (utterances) with replacement and
takes percentiles of the resampled means:

.. math::
    \\hat\\theta^{*}_b = \\frac{\\sum_{c \\in C^*_b} \\sum_{i \\in c} x_i}
                             {\\sum_{c \\in C^*_b} |c|}, \\qquad
    \\text{CI} = [q_{\\alpha/2}(\\hat\\theta^*), q_{1-\\alpha/2}(\\hat\\theta^*)]

for ``b = 1..n_boot`` resamples ``C*_b`` of the clusters. ``x`` may be a 0/1 correctness
vector (an accuracy) or the per-sample difference of two classifiers' correctness on the same
samples (a paired difference).

Example:
    >>> import numpy as np
    >>> x = np.array([1, 1, 0, 1, 0, 0, 1, 1])
    >>> lo, hi = cluster_bootstrap(x, clusters=np.repeat(np.arange(4), 2), seed=0)
    >>> bool(lo <= x.mean() <= hi)
    True
"""

from __future__ import annotations

import numpy as np


def cluster_bootstrap(values: np.ndarray, clusters: np.ndarray, *, n_boot: int = 2000,
                      level: float = 0.95, seed: int = 0) -> tuple[float, float]:
    """Percentile interval of the mean of ``values`` ``(N,)`` from ``n_boot`` resamples of
    the clusters ``clusters`` ``(N,)`` (any labels); see the module docstring."""
    values = np.asarray(values, np.float64)
    clusters = np.asarray(clusters)
    if values.ndim != 1 or clusters.shape != values.shape or values.size == 0:
        raise ValueError(f"values and clusters must be non-empty and (N,), got "
                         f"{values.shape} and {clusters.shape}")
    if not 0 < level < 1 or n_boot < 1:
        raise ValueError(f"need 0 < level < 1 and n_boot >= 1, got {level}, {n_boot}")
    _, which = np.unique(clusters, return_inverse=True)
    sums = np.bincount(which, weights=values)
    sizes = np.bincount(which).astype(np.float64)
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, sums.size, (n_boot, sums.size))
    means = sums[picks].sum(1) / sizes[picks].sum(1)
    tail = (1 - level) / 2 * 100
    lo, hi = np.percentile(means, [tail, 100 - tail])
    return float(lo), float(hi)
