"""The LITE sentiment experiment on a small subset: splits, best-epoch selection, seeds, results
file and plot; the command line's wiring of the sentiment and length tasks."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from conftest import assert_results_written
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from lava_thesis.data.splits import stratified_split
from lava_thesis.experiments import lite_sentiment
from lava_thesis.experiments.lite_sentiment import (
    BestEpoch,
    LiteSentimentConfig,
    run,
    split_sentences,
)
from lava_thesis.protocol import Protocol


def test_stratified_split_keeps_each_groups_share():
    groups = np.repeat(np.arange(6), [100, 100, 50, 150, 10, 90])
    tr, te = stratified_split(groups, 0.2, seed=0)
    assert np.intersect1d(tr, te).size == 0 and len(tr) + len(te) == len(groups)
    assert np.bincount(groups[te]).tolist() == [20, 20, 10, 30, 2, 18]
    again = stratified_split(groups, 0.2, seed=0)
    assert np.array_equal(again[1], te) and not np.array_equal(stratified_split(groups, 0.2, 1)[1],
                                                               te)


@settings(max_examples=40, deadline=None)
@given(sizes=st.lists(st.integers(0, 40), min_size=1, max_size=6),
       val_fraction=st.sampled_from([0.0, 0.1, 0.25, 0.5]), seed=st.integers(0, 5))
def test_split_sentences_gives_three_disjoint_parts_with_validation_from_training(
        sizes, val_fraction, seed):
    groups = np.repeat(np.arange(len(sizes)), sizes)
    cfg = LiteSentimentConfig(test_fraction=0.2, split_seed=3)
    train, val, test, info = split_sentences(groups, cfg, Protocol((seed,), val_fraction))
    parts = np.concatenate([train, val, test])
    assert sorted(parts.tolist()) == list(range(len(groups)))  # disjoint and complete
    # the test part does not depend on the protocol: validation comes out of training only
    assert np.array_equal(test, stratified_split(groups, 0.2, 3)[1])
    assert info == {"fraction": val_fraction, "seed": seed, "train": len(train),
                    "val": len(val)}
    for g, n in enumerate(sizes):  # each (source, label) group gives its share
        n_rest = n - round(n * 0.2)
        assert (groups[val] == g).sum() == round(n_rest * val_fraction)


def test_best_epoch_keeps_the_first_best_validation_epoch():
    model = torch.nn.Linear(2, 1, bias=False)
    scores = iter([0.5, 0.7, 0.6, 0.7])
    best = BestEpoch(model, lambda: next(scores))
    for epoch in range(4):
        torch.nn.init.constant_(model.weight, float(epoch))
        best(epoch, 0.1 * epoch)
    assert best.restore() == 2 and best.best_val_accuracy == 0.7  # a tie keeps the earlier
    assert model.weight.tolist() == [[1.0, 1.0]] and best.train_history == [0.0, 0.1, 0.2,
                                                                             0.30000000000000004]
    last = BestEpoch(model, None)
    for epoch in range(3):
        last(epoch, 0.5)
    assert last.restore() == 3 and last.best_val_accuracy is None


def test_two_logit_cross_entropy_is_bce():
    z, y = torch.tensor([-2.0, 0.3, 4.0]), torch.tensor([0, 1, 0])
    ce = torch.nn.functional.cross_entropy(torch.stack([torch.zeros_like(z), z], 1), y)
    bce = torch.nn.functional.binary_cross_entropy_with_logits(z, y.float())
    torch.testing.assert_close(ce, bce)


def test_small_run_with_two_seeds_follows_the_protocol(data_root, tmp_path, monkeypatch):
    torch.set_num_threads(1)
    trained: list[tuple[int, int]] = []  # (training sentences, validation sentences) per model
    real_train = lite_sentiment.train

    def spy(model, ids, lengths, labels, cfg, log, name, *, seed, val, device):
        trained.append((len(labels), len(val[2])))
        assert device == torch.device("cpu")  # the config's default
        return real_train(model, ids, lengths, labels, cfg, log, name, seed=seed, val=val,
                          device=device)

    monkeypatch.setattr(lite_sentiment, "train", spy)
    cfg = LiteSentimentConfig(subset=150, epochs=2, embed_dim=16, hidden=32, steps_per_token=2,
                              max_len=20, models=("snn", "lstm"), data_dir=str(data_root),
                              out_dir=str(tmp_path), experiment="lite_small")
    lines: list[str] = []
    metrics = run(cfg, log=lines.append, protocol=Protocol((0, 1), val_fraction=0.2))
    record = assert_results_written(tmp_path, "lite_small", metrics)
    val = record["validation"]
    assert val["fraction"] == 0.2 and val["seed"] == 0
    assert metrics["train_samples"] + metrics["val_samples"] + metrics["test_samples"] == 150
    assert (val["train"], val["val"]) == (metrics["train_samples"], metrics["val_samples"])
    assert trained == [(val["train"], val["val"])] * 4  # 2 kinds x 2 seeds
    extra = record["extra"]
    assert extra["seeds"] == [0, 1]
    for key, values in extra["per_seed"].items():
        assert len(values) == 2 and math.isclose(metrics[key], sum(values) / 2)
    per = extra["per_seed"]
    for i in range(2):  # paired: the same seed's SNN minus LSTM
        assert per["snn_minus_lstm"][i] == pytest.approx(per["snn_test_accuracy"][i]
                                                         - per["lstm_test_accuracy"][i])
    for kind in ("snn", "lstm"):
        assert all(0.0 <= a <= 1.0 for a in per[f"{kind}_val_accuracy"])
        assert set(per[f"{kind}_best_epoch"]) <= {1, 2}
        assert metrics[f"{kind}_energy_pj"] > 0
    assert record["config"]["protocol"] == {"seeds": [0, 1], "val_fraction": 0.2,
                                            "val_seed": 0}
    assert record["headline"][0] == "snn_test_accuracy" and "snn_minus_lstm" in record["headline"]
    assert metrics["snn_params_trunk"] < metrics["lstm_params_trunk"]
    assert any("validation" in s for s in lines)


def test_run_without_protocol_is_one_seed_of_the_config(data_root, tmp_path):
    cfg = LiteSentimentConfig(subset=120, epochs=1, embed_dim=8, hidden=16, steps_per_token=1,
                              max_len=10, models=("snn",), seed=4, val_fraction=0.25,
                              data_dir=str(data_root), out_dir=str(tmp_path))
    metrics = run(cfg, log=lambda _: None)
    record = assert_results_written(tmp_path, "lite_sentiment", metrics)
    assert record["extra"]["seeds"] == [4] and record["validation"]["fraction"] == 0.25
    assert record["extra"]["per_seed"]["snn_test_accuracy"] == [metrics["snn_test_accuracy"]]


@pytest.mark.parametrize(("task", "module", "experiment", "size"), [
    ("sentiment", "lite_sentiment", "lite_sentiment", "subset"),
    ("length", "lite_length", "lite_length", "subset"),
    ("length-smnist", "lite_length_smnist", "lite_length_smnist", "train_samples"),
])
def test_cli_passes_the_protocol_and_writes_into_out(tmp_path, monkeypatch, task, module,
                                                     experiment, size):
    import importlib

    from lava_thesis.cli import app

    calls = []
    monkeypatch.setattr(importlib.import_module(f"lava_thesis.experiments.{module}"), "run",
                        lambda cfg, **kw: calls.append((cfg, kw)) or {})
    result = CliRunner().invoke(app, ["train", "lite", "--task", task, "--out", str(tmp_path),
                                      "--seed", "3", "--seeds", "2", "--val-fraction", "0.2",
                                      "--epochs", "1", "--train-samples", "120"])
    assert result.exit_code == 0, result.output
    (cfg, kw), = calls
    assert kw["protocol"] == Protocol((3, 4), 0.2, 3)
    assert (cfg.out_dir, cfg.experiment, cfg.epochs, getattr(cfg, size)) == (
        str(tmp_path), experiment, 1, 120)


def test_pretrained_embeddings_initialise_every_model(data_root, tmp_path, monkeypatch):
    """--embeddings: every model starts from the same table, each vocabulary word with a
    vector gets it; frozen, the table is still the file's after training; the share of the
    vocabulary covered is recorded."""
    torch.set_num_threads(1)
    words = ["the", "good", "bad", "great", "not", "movie", "phone", "and"]
    rng = np.random.default_rng(0)
    vectors = {w: rng.normal(size=8).round(3) for w in words}
    path = tmp_path / "glove.8d.txt"
    path.write_text("".join(f"{w} {' '.join(map(str, v))}\n" for w, v in vectors.items()))
    models = []
    real_train = lite_sentiment.train

    def spy(model, *args, **kwargs):
        models.append(model)
        return real_train(model, *args, **kwargs)

    monkeypatch.setattr(lite_sentiment, "train", spy)
    cfg = LiteSentimentConfig(subset=120, epochs=1, embed_dim=8, hidden=16, steps_per_token=1,
                              max_len=10, models=("snn", "lstm"), data_dir=str(data_root),
                              out_dir=str(tmp_path), embeddings=str(path),
                              freeze_embeddings=True)
    metrics = run(cfg, log=lambda _: None)
    record = assert_results_written(tmp_path, "lite_sentiment", metrics)
    assert record["config"]["embeddings"] == str(path)
    assert 0 < metrics["embedding_coverage"] < 1
    assert len(models) == 2
    stoi = {w: i for i, w in enumerate(run_vocabulary(cfg))}
    found = [w for w in words if w in stoi]
    assert found, "the test needs vocabulary words with vectors"
    for model in models:
        table = model.embedding.weight.detach().numpy()
        for w in found:
            np.testing.assert_allclose(table[stoi[w]], vectors[w], rtol=1e-6)
        assert not table[0].any() and not model.embedding.weight.requires_grad
    np.testing.assert_array_equal(models[0].embedding.weight.detach(),
                                  models[1].embedding.weight.detach())


def run_vocabulary(cfg):
    """The run's vocabulary, rebuilt as run() builds it (the training part of the split)."""
    from lava_thesis.experiments.lite_sentiment import load_split
    from lava_thesis.lite.text import Vocab, tokenize
    from lava_thesis.protocol import or_single_seed

    data = load_split(cfg, or_single_seed(None, cfg.seed, cfg.val_fraction))
    return Vocab.build((tokenize(data.sentences[i]) for i in data.train),
                       min_count=cfg.min_count, max_size=cfg.max_vocab).itos


@pytest.mark.parametrize(("args", "names"), [
    (["train", "lite", "--task", "length", "--embeddings", "{vec}"], ["--embeddings",
                                                                      "sentiment only"]),
    (["train", "diet", "--embeddings", "{vec}"], ["--embeddings", "sentiment only"]),
    (["train", "lite", "--freeze-embeddings"], ["--freeze-embeddings", "needs --embeddings"]),
    (["train", "lite", "--embeddings", "{missing}"], ["--embeddings", "missing.txt"]),
])
def test_embedding_options_are_checked_first(tmp_path, args, names):
    from conftest import one_line_error

    from lava_thesis.cli import app

    (tmp_path / "v.txt").write_text("the 0.1 0.2\n")
    args = [a.format(vec=tmp_path / "v.txt", missing=tmp_path / "missing.txt") for a in args]
    result = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "o")])
    one_line_error(result, *names)
