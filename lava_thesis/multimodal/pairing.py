"""Image/audio pairing and image noise for the multimodal experiments.

Example:
    >>> import numpy as np
    >>> idx = pair_by_class(np.array([3, 1, 3]), np.array([1, 3, 3, 1]), seed=0)
    >>> np.array([1, 3, 3, 1])[idx].tolist()
    [3, 1, 3]
"""

from __future__ import annotations

import numpy as np


def pair_by_class(image_labels: np.ndarray, audio_labels: np.ndarray,
                  seed: int = 0) -> np.ndarray:
    """For every image, the index of a random utterance of the same class (seeded)."""
    image_labels, audio_labels = np.asarray(image_labels), np.asarray(audio_labels)
    rng = np.random.default_rng(seed)
    out = np.empty(len(image_labels), np.int64)
    for c in np.unique(image_labels):
        pool = np.flatnonzero(audio_labels == c)
        if pool.size == 0:
            raise ValueError(f"no utterance of class {c} to pair with")
        sel = np.flatnonzero(image_labels == c)
        out[sel] = rng.choice(pool, size=sel.size, replace=True)
    return out


def gaussian_noise(images: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """uint8 images plus N(0, sigma^2) pixel noise (sigma in pixel units), clipped to 0-255."""
    noisy = np.asarray(images, np.float64) + rng.normal(0.0, sigma, np.shape(images))
    return np.clip(np.round(noisy), 0, 255).astype(np.uint8)


def salt_and_pepper(images: np.ndarray, fraction: float,
                    rng: np.random.Generator) -> np.ndarray:
    """Set ``fraction`` of the pixels to 0 or 255 (half each on average)."""
    if not 0 <= fraction <= 1:
        raise ValueError(f"fraction must be in [0, 1], got {fraction}")
    out = np.array(images, np.uint8, copy=True)
    hit = rng.random(out.shape) < fraction
    out[hit] = np.where(rng.random(int(hit.sum())) < 0.5, 0, 255)
    return out


def images_per_utterance(audio_labels: np.ndarray, image_labels: np.ndarray, k: int,
                         seed: int = 0) -> np.ndarray:
    """For every utterance, the indices of ``k`` random images of its class, ``(N, k)``
    (seeded; distinct images where the class has ``k`` or more, else drawn with
    replacement)."""
    audio_labels, image_labels = np.asarray(audio_labels), np.asarray(image_labels)
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    rng = np.random.default_rng(seed)
    pools = {c: np.flatnonzero(image_labels == c) for c in np.unique(audio_labels)}
    out = np.empty((len(audio_labels), k), np.int64)
    for u, c in enumerate(audio_labels):
        pool = pools[c]
        if pool.size == 0:
            raise ValueError(f"no image of class {c} to pair with")
        out[u] = rng.choice(pool, size=k, replace=pool.size < k)
    return out
