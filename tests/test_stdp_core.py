"""The shared STDP equations (numpy), checked against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest

from lava_thesis.stdp import core


def test_trace_decays_and_jumps():
    x = np.array([0.0, 2.0])
    core.decay_trace(x, 0.5, np.array([1.0, 0.0]))
    np.testing.assert_array_equal(x, [1.0, 1.0])


def test_power_law_update_matches_formula_and_respects_mask():
    w = np.array([[0.2, 0.6, 0.5], [0.3, 0.3, 0.3]])
    mask = np.array([[1.0, 1.0, 0.0], [1.0, 1.0, 1.0]])
    w[0, 2] = 0.0
    trace = np.array([1.0, 0.1, 2.0])
    before = w.copy()
    core.power_law_update(w, np.array([0]), trace, mask, 0.1, 0.4, 1.0, 0.5)
    expect0 = 0.2 + 0.1 * (1.0 - 0.4) * 0.8 ** 0.5   # active input: potentiated
    expect1 = 0.6 + 0.1 * (0.1 - 0.4) * 0.4 ** 0.5   # nearly silent input: depressed
    np.testing.assert_allclose(w[0, :2], [expect0, expect1])
    assert w[0, 2] == 0.0                          # pruned: stays zero despite a big trace
    np.testing.assert_array_equal(w[1], before[1])  # neuron 1 did not spike


def test_power_law_update_clips_to_range():
    w = np.array([[0.99, 0.001]])
    core.power_law_update(w, np.array([0]), np.array([50.0, 0.0]), np.ones_like(w),
                          1.0, 0.4, 1.0, 0.2)
    assert 0.0 <= w.min() and w.max() <= 1.0
    assert w[0, 1] == 0.0


def test_normalize_only_given_rows():
    w = np.array([[1.0, 3.0], [2.0, 2.0]])
    core.normalize_rows(w, np.array([0]), 2.0)
    np.testing.assert_allclose(w, [[0.5, 1.5], [2.0, 2.0]])


def test_prune_rows_removes_weakest_and_never_revives():
    w = np.array([[0.5, 0.1, 0.4, 0.2], [0.1, 0.2, 0.3, 0.4]])
    mask = np.ones_like(w)
    assert core.prune_rows(w, mask, 0.5, w) == 4
    np.testing.assert_array_equal(mask, [[1, 0, 1, 0], [0, 0, 1, 1]])
    np.testing.assert_array_equal(w, [[0.5, 0, 0.4, 0], [0, 0, 0.3, 0.4]])
    assert core.prune_rows(w, mask, 0.5, w) == 0      # already at the fraction
    assert core.prune_rows(w, mask, 0.75, w) == 2     # only live synapses are candidates
    np.testing.assert_array_equal(mask.sum(1), [1, 1])


def test_prune_rows_by_correlation_ranks_by_the_key_not_the_weight():
    """Two post spikes, the first with trace (1, 0, .5, 0), the second (.5, 0, .5, .25):
    correlations (1.5, 0, 1, .25); pruning half prunes inputs 1 and 3, though input 3 has the
    largest weight."""
    c = np.zeros((1, 4))
    core.accumulate_correlation(c, np.array([0]), np.array([1.0, 0.0, 0.5, 0.0]))
    core.accumulate_correlation(c, np.array([0]), np.array([0.5, 0.0, 0.5, 0.25]))
    np.testing.assert_allclose(c, [[1.5, 0.0, 1.0, 0.25]])
    w, mask = np.array([[0.2, 0.3, 0.1, 0.9]]), np.ones((1, 4))
    assert core.prune_rows(w, mask, 0.5, c) == 2
    np.testing.assert_array_equal(mask, [[1, 0, 1, 0]])
    np.testing.assert_array_equal(w, [[0.2, 0, 0.1, 0]])


@pytest.mark.parametrize("levels", [2, 4, 16])
def test_quantize_uses_only_allowed_levels(levels, rng):
    w = rng.uniform(0, 1, (5, 300))
    mask = (rng.random((5, 300)) > 0.3).astype(float)
    w *= mask
    core.quantize(w, mask, levels, 1.0)
    allowed = np.arange(levels) / (levels - 1)
    assert np.isin(w, allowed).all()
    assert (w[mask == 0] == 0).all()
    assert len(np.unique(w[mask == 1])) == levels  # every level is used on 150 weights


def test_adapt_threshold():
    theta = np.array([1.0, 1.0])
    core.adapt_threshold(theta, np.array([True, False]), 0.5, 0.1)
    np.testing.assert_allclose(theta, [1.4, 0.9])
