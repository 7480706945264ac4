"""The LITE sentiment experiment on a small subset: split, loss, results file and plot."""

from __future__ import annotations

import numpy as np
import torch
from conftest import assert_results_written

from lava_thesis.data.splits import stratified_split
from lava_thesis.experiments.lite_sentiment import LiteSentimentConfig, run


def test_stratified_split_keeps_each_groups_share():
    groups = np.repeat(np.arange(6), [100, 100, 50, 150, 10, 90])
    tr, te = stratified_split(groups, 0.2, seed=0)
    assert np.intersect1d(tr, te).size == 0 and len(tr) + len(te) == len(groups)
    assert np.bincount(groups[te]).tolist() == [20, 20, 10, 30, 2, 18]
    again = stratified_split(groups, 0.2, seed=0)
    assert np.array_equal(again[1], te) and not np.array_equal(stratified_split(groups, 0.2, 1)[1],
                                                               te)


def test_two_logit_cross_entropy_is_bce():
    z, y = torch.tensor([-2.0, 0.3, 4.0]), torch.tensor([0, 1, 0])
    ce = torch.nn.functional.cross_entropy(torch.stack([torch.zeros_like(z), z], 1), y)
    bce = torch.nn.functional.binary_cross_entropy_with_logits(z, y.float())
    torch.testing.assert_close(ce, bce)


def test_small_run_writes_results_and_plot(data_root, tmp_path):
    torch.set_num_threads(1)
    cfg = LiteSentimentConfig(subset=150, epochs=1, embed_dim=16, hidden=32, steps_per_token=2,
                              max_len=20, data_dir=str(data_root), out_dir=str(tmp_path),
                              experiment="lite_small")
    lines: list[str] = []
    metrics = run(cfg, log=lines.append)
    record = assert_results_written(tmp_path, "lite_small", metrics)
    assert metrics["train_samples"] + metrics["test_samples"] == 150
    for kind in ("snn", "rnn", "lstm", "gru"):
        assert 0.0 <= metrics[f"{kind}_test_accuracy"] <= 1.0
        assert metrics[f"{kind}_energy_pj"] > 0 and metrics[f"{kind}_params_trunk"] > 0
    assert 0.0 <= metrics["snn_spike_rate_lif1"] <= 1.0
    assert metrics["snn_params_trunk"] < metrics["lstm_params_trunk"]
    assert record["config"]["steps_per_token"] == 2 and any("vocabulary" in s for s in lines)
