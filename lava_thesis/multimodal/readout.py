"""Multimodal readout: each ensemble's neurons are labelled as in method 1, and the two votes are
fused after normalising each to a distribution over the classes.

For sample ``n``, ensemble ``m`` gives class scores ``S_m[n, c]`` (mean spike count of its
neurons labelled ``c``, :func:`lava_thesis.stdp.readout.class_scores`); the fused score is

    F[n, c] = S_img[n, c] / sum_k S_img[n, k] + S_aud[n, c] / sum_k S_aud[n, k]

(an ensemble that stays silent on a sample contributes nothing), so neither ensemble outvotes the
other by firing more.

Example:
    >>> import numpy as np
    >>> fused_predict(np.array([[4., 0.]]), np.array([0, 1]), np.array([[1., 3.]]),
    ...               np.array([0, 1]), 2)  # fused scores [1.25, 0.75]
    array([0])
"""

from __future__ import annotations

import numpy as np

from lava_thesis.stdp.readout import class_scores


def normalized_scores(counts: np.ndarray, assignments: np.ndarray,
                      n_classes: int) -> np.ndarray:
    """Class scores of one ensemble scaled to sum to 1 per sample (all zero if silent)."""
    scores = class_scores(counts, assignments, n_classes)
    total = scores.sum(1, keepdims=True)
    return np.divide(scores, total, out=np.zeros_like(scores), where=total > 0)


def fused_predict(counts_image: np.ndarray, assign_image: np.ndarray,
                  counts_audio: np.ndarray, assign_audio: np.ndarray,
                  n_classes: int) -> np.ndarray:
    """The class with the highest fused score (see the module docstring), ``(N,)``."""
    fused = (normalized_scores(counts_image, assign_image, n_classes)
             + normalized_scores(counts_audio, assign_audio, n_classes))
    return fused.argmax(1)
