"""Cluster-bootstrap intervals (lava_thesis.intervals) and the multimodal test pairing that
needs them (several images per utterance)."""

from __future__ import annotations

import numpy as np
import pytest

from lava_thesis.intervals import cluster_bootstrap
from lava_thesis.multimodal.pairing import images_per_utterance


def test_a_constant_has_a_point_interval():
    assert cluster_bootstrap(np.ones(30), np.arange(30) // 3) == (1.0, 1.0)


def test_clusters_of_identical_samples_widen_the_interval_as_their_size():
    """300 samples in 30 clusters of 10 identical values carry the information of 30 samples:
    the interval is about sqrt(10) times wider than if the 300 were independent."""
    rng = np.random.default_rng(0)
    per_cluster = (rng.random(30) < 0.7).astype(float)
    values = np.repeat(per_cluster, 10)
    lo_c, hi_c = cluster_bootstrap(values, np.arange(300) // 10, seed=1)
    lo_i, hi_i = cluster_bootstrap(values, np.arange(300), seed=1)
    assert lo_c <= values.mean() <= hi_c
    assert (hi_c - lo_c) / (hi_i - lo_i) == pytest.approx(np.sqrt(10), rel=0.2)
    # the independent case is near the normal approximation of a proportion
    p = values.mean()
    assert hi_i - lo_i == pytest.approx(2 * 1.96 * np.sqrt(p * (1 - p) / 300), rel=0.15)


def test_unequal_clusters_weigh_their_samples():
    """The resampled statistic is the mean over samples, not over cluster means."""
    values = np.array([1.0] * 9 + [0.0])
    lo, hi = cluster_bootstrap(values, np.array([0] * 9 + [1]), n_boot=4000, seed=0)
    # resamples: {0,0} -> 1.0, {0,1} -> 0.9, {1,1} -> 0.0 with probabilities 1/4, 1/2, 1/4
    assert (lo, hi) == (0.0, 1.0)


def test_bad_arguments():
    with pytest.raises(ValueError, match="non-empty"):
        cluster_bootstrap(np.ones(3), np.arange(2))
    with pytest.raises(ValueError, match="non-empty"):
        cluster_bootstrap(np.ones(0), np.ones(0))
    with pytest.raises(ValueError, match="level"):
        cluster_bootstrap(np.ones(3), np.arange(3), level=1.0)


def test_each_utterance_gets_distinct_images_of_its_class():
    audio = np.array([0, 1, 1, 2])
    images = np.array([0, 1, 2, 0, 1, 2, 0, 1, 2, 1, 0])
    idx = images_per_utterance(audio, images, 3, seed=4)
    assert idx.shape == (4, 3)
    for u, row in enumerate(idx):
        assert np.all(images[row] == audio[u]) and len(set(row.tolist())) == 3
    assert np.array_equal(idx, images_per_utterance(audio, images, 3, seed=4))  # seeded
    few = images_per_utterance(np.array([2]), images, 5, seed=0)  # 3 images of class 2
    assert np.all(images[few] == 2)
    with pytest.raises(ValueError, match="no image of class 7"):
        images_per_utterance(np.array([7]), images, 2)
    with pytest.raises(ValueError, match="k must be"):
        images_per_utterance(audio, images, 0)
