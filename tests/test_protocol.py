"""Tests for lava_thesis.protocol: the validation split and the per-seed statistics."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lava_thesis.data.splits import stratified_split
from lava_thesis.protocol import (
    check_seed_fields,
    check_validation_field,
    paired_difference,
    run_seeds,
    seed_results,
    summarize,
    validation_info,
    validation_split,
)
from lava_thesis.report_compact import measured
from lava_thesis.results import read_results, write_results

labels_st = st.lists(st.integers(0, 4), min_size=1, max_size=200).map(np.array)
fraction_st = st.floats(0.0, 0.95, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(labels=labels_st, fraction=fraction_st, seed=st.integers(0, 2**31))
def test_validation_split_is_a_stratified_seeded_partition(labels, fraction, seed):
    tr, va = validation_split(labels, fraction, seed)
    assert tr.dtype == va.dtype == np.int64
    assert np.all(np.diff(tr) > 0) and np.all(np.diff(va) > 0)  # sorted, no repeats
    assert np.intersect1d(tr, va).size == 0
    assert np.array_equal(np.union1d(tr, va), np.arange(len(labels)))
    for c in np.unique(labels):
        n_c = int((labels == c).sum())
        assert abs(int((labels[va] == c).sum()) - n_c * fraction) <= 0.5 + 1e-9
    again = validation_split(labels, fraction, seed)
    assert np.array_equal(again[0], tr) and np.array_equal(again[1], va)


def test_validation_split_depends_on_the_seed_and_keeps_the_old_helper():
    labels = np.repeat(np.arange(10), 100)
    _, va0 = validation_split(labels, 0.1, 0)
    _, va1 = validation_split(labels, 0.1, 1)
    assert len(va0) == len(va1) == 100 and not np.array_equal(va0, va1)
    assert np.bincount(labels[va0]).tolist() == [10] * 10
    old_tr, old_va = stratified_split(labels, 0.1, 0)  # existing callers see the same split
    assert np.array_equal(old_va, va0) and np.array_equal(old_tr, validation_split(labels)[0])


def test_validation_split_edge_cases():
    tr, va = validation_split([3, 3, 1], 0.0, 0)
    assert tr.tolist() == [0, 1, 2] and va.size == 0
    tr, va = validation_split([], 0.5, 0)
    assert tr.size == va.size == 0
    tr, va = validation_split(np.array(["a", "b", "a", "b"]), 0.5, 2)
    assert len(va) == 2 and len(set(np.array(["a", "b", "a", "b"])[va])) == 2


@pytest.mark.parametrize("fraction", [-0.1, 1.0, 1.5, float("nan"), float("inf"), "0.1", True,
                                      None])
def test_validation_split_rejects_bad_fractions(fraction):
    with pytest.raises(ValueError, match=r"fraction must be a number in \[0, 1\)"):
        validation_split([0, 1, 0, 1], fraction)


def test_validation_split_rejects_bad_labels_and_seeds():
    with pytest.raises(ValueError, match="labels must be 1-D"):
        validation_split(np.zeros((4, 2)), 0.5)
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        validation_split([0, 1], 0.5, seed=-1)
    with pytest.raises(ValueError, match="test_fraction must be in"):
        stratified_split(np.array([0, 1]), 1.5, 0)


def test_validation_info_and_its_schema_check():
    info = validation_info(*validation_split([0, 1] * 50, 0.1, 7), fraction=0.1, seed=7)
    assert info == {"fraction": 0.1, "seed": 7, "train": 90, "val": 10}
    assert check_validation_field(info) == info
    for bad, match in [({"fraction": 0.1, "seed": 0, "train": 1}, "lacks.*val"),
                       ({**info, "fraction": 1.0}, r"validation\['fraction'\]"),
                       ({**info, "val": -1}, r"validation\['val'\]"),
                       ({**info, "seed": 1.5}, r"validation\['seed'\]"),
                       ([0.1], "must be an object")]:
        with pytest.raises(ValueError, match=match):
            check_validation_field(bad)


def test_summarize_analytic_values():
    s = summarize([1.0, 2.0, 3.0, 4.0])
    assert s["mean"] == 2.5 and s["n"] == 4 and not s["single_seed"]
    assert s["std"] == pytest.approx(math.sqrt(5.0 / 3.0))  # sum of squares 5, ddof = 1
    one = summarize([0.7])
    assert one == {"mean": 0.7, "std": 0.0, "n": 1, "per_seed": [0.7], "single_seed": True}
    for bad in ([], [float("nan")], ["x"], [True], "0.5"):
        with pytest.raises(ValueError):
            summarize(bad)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=2, max_size=20))
def test_summarize_matches_numpy_sample_std(values):
    s = summarize(values)
    assert s["mean"] == pytest.approx(np.mean(values), abs=1e-9)
    assert s["std"] == pytest.approx(np.std(values, ddof=1), abs=1e-7)


def test_paired_difference():
    d = paired_difference([0.90, 0.92, 0.95], [0.88, 0.91, 0.92])
    assert d["per_seed"] == pytest.approx([0.02, 0.01, 0.03])
    assert d["mean"] == pytest.approx(0.02) and d["std"] == pytest.approx(0.01)
    # the seed's shared effect cancels: a constant offset has zero spread
    same = paired_difference([0.5, 0.7, 0.9], [0.4, 0.6, 0.8])
    assert same["mean"] == pytest.approx(0.1) and same["std"] == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(ValueError, match="same seeds"):
        paired_difference([0.1, 0.2], [0.1])


def test_run_seeds_collects_in_seed_order():
    calls = []

    def fn(seed):
        calls.append(seed)
        return {"acc": 0.5 + seed / 10, "loss": float(seed)}

    assert run_seeds(fn, [2, 0, 1]) == {"acc": [0.7, 0.5, 0.6], "loss": [2.0, 0.0, 1.0]}
    assert calls == [2, 0, 1]
    with pytest.raises(ValueError, match="distinct"):
        run_seeds(fn, [1, 1])
    with pytest.raises(ValueError, match="at least one seed"):
        run_seeds(fn, [])
    with pytest.raises(ValueError, match="seed 1 returned metrics"):
        run_seeds(lambda s: {"a": 1.0} if s == 0 else {"b": 1.0}, [0, 1])


def test_seed_results_round_trip_through_the_results_file_and_report(tmp_path):
    per_seed = run_seeds(lambda s: {"test_accuracy": [0.90, 0.92, 0.94][s]}, [0, 1, 2])
    metrics, extra = seed_results([0, 1, 2], per_seed)
    assert metrics["test_accuracy"] == pytest.approx(0.92)
    val = validation_info(*validation_split([0, 1] * 10, 0.1, 0), fraction=0.1, seed=0)
    path = write_results(tmp_path, "e", dataset="d", metrics=metrics, extra=extra,
                         validation=val)
    rec = read_results(path)
    assert rec["extra"]["per_seed"] == {"test_accuracy": [0.90, 0.92, 0.94]}
    assert rec["extra"]["seeds"] == [0, 1, 2] and rec["validation"] == val
    assert measured(rec, "test_accuracy") == ("92.00 ± 2.00%", 3)
    with pytest.raises(ValueError, match="one value per seed"):
        seed_results([0, 1], {"a": [1.0]})


@pytest.mark.parametrize(("metrics", "extra", "match"), [
    ({"a": 0.5}, {"per_seed": {"a": [0.4, 0.7]}}, r"metrics\['a'\].*not the mean"),
    ({"a": 0.5}, {"per_seed": {"b": [0.5]}}, "'b', which is not in 'metrics'"),
    ({"a": 0.5}, {"seeds": [0, 1, 2], "per_seed": {"a": [0.4, 0.6]}}, r"one value per seed \(3\)"),
    ({"a": 0.5, "b": 1.0}, {"per_seed": {"a": [0.5], "b": [1.0, 1.0]}}, "one value per seed"),
    ({"a": 0.5}, {"seeds": [0, 0]}, "distinct"),
    ({"a": 0.5}, {"seeds": "012"}, "list of seeds"),
    ({"a": 0.5}, {"per_seed": [0.5]}, "must map metric"),
    ({"a": 0.5}, {"per_seed": {"a": []}}, "empty"),
])
def test_seed_layout_is_checked(tmp_path, metrics, extra, match):
    with pytest.raises(ValueError, match=match):
        check_seed_fields(metrics, extra)
    with pytest.raises(ValueError, match=match):
        write_results(tmp_path, "e", dataset="d", metrics=metrics, extra=extra)
    assert not any(tmp_path.iterdir())
