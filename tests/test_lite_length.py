"""Accuracy-vs-length study: filler sequences, attention pooling, last-step readout, run()."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from conftest import assert_results_written

from lava_thesis.experiments.lite_length import (
    MODELS,
    LiteLengthConfig,
    add_filler,
    build_model,
    filler_vocab,
    headline,
    run,
)
from lava_thesis.lite.attention import AttentionSNN, LastStepSNN, masked_softmax
from lava_thesis.lite.sentiment import LiteSNN
from lava_thesis.lite.text import Vocab, encode_sentences, tokenize
from lava_thesis.protocol import Protocol

SENTENCES = ["Good movie!", "bad, bad acting.", "I loved the plot and the cast", "meh"]


@pytest.fixture
def encoded():
    vocab, fillers = filler_vocab(Vocab.build(tokenize(s) for s in SENTENCES), 7)
    ids, lengths = encode_sentences(SENTENCES, vocab, max_len=40)
    return vocab, fillers, ids, lengths


def test_filler_tokens_never_collide_with_the_vocabulary(encoded):
    vocab, fillers, ids, _ = encoded
    base = len(vocab) - 7
    assert fillers.tolist() == list(range(base, base + 7))
    assert [vocab.itos[i] for i in fillers] == [f"<filler{k}>" for k in range(7)]
    assert not np.isin(ids, fillers).any()
    # the tokenizer splits "<", so no text, training or test, can ever produce a filler token
    assert tokenize("<filler3>") == ["<", "filler3", ">"]
    with pytest.raises(ValueError, match="filler tokens already"):
        filler_vocab(Vocab(("<pad>", "<unk>", "<filler1>")), 3)


@pytest.mark.parametrize("place", ["start", "end"])
@pytest.mark.parametrize("n_fill", [0, 1, 13])
def test_add_filler_places_the_sentence_and_gives_exact_lengths(encoded, rng, place, n_fill):
    _, fillers, ids, lengths = encoded
    out, new_len = add_filler(ids, lengths, n_fill, fillers, rng, place)
    assert out.shape == (len(ids), lengths.max() + n_fill) and out.dtype == np.int64
    assert new_len.tolist() == (lengths + n_fill).tolist()
    for i, n in enumerate(lengths):
        sent, fill = ((out[i, :n], out[i, n:n + n_fill]) if place == "start"
                      else (out[i, n_fill:n_fill + n], out[i, :n_fill]))
        assert sent.tolist() == ids[i, :n].tolist()
        assert np.isin(fill, fillers).all()
        assert (out[i, n + n_fill:] == 0).all()  # right padding only after the valid tokens
    assert not np.isin(out, fillers).any() if n_fill == 0 else np.isin(out, fillers).any()
    with pytest.raises(ValueError, match="place"):
        add_filler(ids, lengths, 2, fillers, rng, "middle")


def test_fillers_are_seeded_and_uniform(encoded):
    _, fillers, ids, lengths = encoded
    a = add_filler(ids, lengths, 500, fillers, np.random.default_rng(3))[0]
    b = add_filler(ids, lengths, 500, fillers, np.random.default_rng(3))[0]
    assert np.array_equal(a, b)
    counts = np.bincount(a[np.isin(a, fillers)] - fillers[0], minlength=7)
    assert counts.sum() == 2000 and counts.min() > 2000 / 7 * 0.8


@pytest.mark.parametrize("place", ["start", "end"])
def test_trunk_mask_covers_sentence_and_fillers_only(encoded, rng, place):
    vocab, fillers, ids, lengths = encoded
    out, new_len = add_filler(ids, lengths, 5, fillers, rng, place)
    model = AttentionSNN(len(vocab), embed_dim=8, hidden=16, steps_per_token=3, attn_dim=4)
    *_, mask = model.trunk(torch.from_numpy(out), torch.from_numpy(new_len))
    expected = torch.from_numpy(out != 0).repeat_interleave(3, dim=1).float()
    assert torch.equal(mask, expected)
    assert mask.sum(1).tolist() == (3 * new_len).tolist()


def test_attention_weights_sum_to_one_over_valid_steps_and_ignore_padding():
    torch.manual_seed(0)
    model = AttentionSNN(30, embed_dim=8, hidden=16, steps_per_token=2, attn_dim=4).eval()
    ids = torch.tensor([[3, 4, 5, 6], [7, 8, 0, 0], [9, 0, 0, 0]])
    lengths = torch.tensor([4, 2, 1])
    _, weights, (_, _, mask) = model.attend(ids, lengths)
    assert torch.allclose(weights.sum(1), torch.ones(3))
    assert (weights[mask == 0] == 0).all() and (weights[mask == 1] > 0).all()
    # more padding changes neither the logits nor the weights of the valid steps
    longer = torch.cat([ids, torch.zeros(3, 5, dtype=ids.dtype)], 1)
    _, w_long, _ = model.attend(longer, lengths)
    assert torch.allclose(model(longer, lengths), model(ids, lengths), atol=1e-6)
    assert torch.allclose(w_long[:, :8], weights, atol=1e-6) and (w_long[:, 8:] == 0).all()
    # the softmax itself: equal scores -> uniform over the valid steps
    w = masked_softmax(torch.zeros(2, 4), torch.tensor([[1, 1, 0, 0], [1, 1, 1, 1]]))
    assert w.tolist() == [[0.5, 0.5, 0.0, 0.0], [0.25] * 4]


def test_last_step_readout_reads_the_last_valid_step():
    torch.manual_seed(0)
    model = LastStepSNN(30, embed_dim=8, hidden=16, steps_per_token=3).eval()
    ids, lengths = torch.tensor([[3, 4, 5], [6, 0, 0]]), torch.tensor([3, 1])
    _, _, v, _ = model.trunk(ids, lengths)
    expected = model.head(torch.stack([v[0, 8], v[1, 2]])).squeeze(-1)
    assert torch.allclose(model(ids, lengths), expected)
    record: list = []
    model(ids, lengths, record)
    assert len(record) == 3 and record[2].sum().item() == 12  # LiteSNN's record layout


@pytest.mark.parametrize("cls", [AttentionSNN, LastStepSNN, LiteSNN])
def test_gradients_reach_thresholds_and_leaks(cls):
    torch.manual_seed(0)
    model = cls(30, embed_dim=8, hidden=16, steps_per_token=2, threshold=0.3)
    ids = torch.randint(2, 30, (4, 6))
    model(ids, torch.tensor([6, 5, 3, 1])).sum().backward()
    for p in (model.lif1.threshold, model.lif1.leak, model.lif2.threshold, model.lif2.leak,
              model.out.leak):
        assert p.grad is not None and torch.isfinite(p.grad) and p.grad.abs() > 0


def test_build_model_kinds():
    cfg = LiteLengthConfig(embed_dim=8, hidden=16, attn_dim=4)
    kinds = {k: type(build_model(k, 30, cfg)).__name__ for k in MODELS}
    assert kinds == {"snn": "LiteSNN", "snn_last": "LastStepSNN", "snn_attn": "AttentionSNN",
                     "lstm": "RecurrentClassifier"}


def test_headline_is_each_models_shortest_longest_and_control_then_the_pairs():
    assert headline(LiteLengthConfig()) == [
        "snn_accuracy_L0", "snn_accuracy_L100", "snn_accuracy_end_L100",
        "snn_last_accuracy_L0", "snn_last_accuracy_L100", "snn_last_accuracy_end_L100",
        "snn_attn_accuracy_L0", "snn_attn_accuracy_L100", "snn_attn_accuracy_end_L100",
        "lstm_accuracy_L0", "lstm_accuracy_L100", "lstm_accuracy_end_L100",
        "snn_minus_lstm_L100", "snn_attn_minus_snn_L100"]
    cfg = LiteLengthConfig(lengths=(7,), control_lengths=(0,), models=("snn", "snn_attn"))
    assert headline(cfg) == ["snn_accuracy_L7", "snn_attn_accuracy_L7", "snn_attn_minus_snn_L7"]


def test_run_on_a_small_subset_with_two_seeds(data_root, tmp_path):
    cfg = LiteLengthConfig(subset=150, lengths=(0, 4), control_lengths=(4,), epochs=1,
                           embed_dim=8, hidden=16, attn_dim=4, data_dir=str(data_root),
                           out_dir=str(tmp_path))
    metrics = run(cfg, log=lambda _: None, command="test",
                  protocol=Protocol((0, 1), val_fraction=0.2))
    rec = assert_results_written(tmp_path, "lite_length", metrics)
    assert rec["command"] == "test"
    keys = [f"{m}_accuracy_{t}" for m in MODELS for t in ("L0", "L4", "end_L4")]
    assert all(0.0 <= metrics[k] <= 1.0 for k in keys)
    assert metrics["train_samples"] + metrics["val_samples"] + metrics["test_samples"] == 150
    assert (rec["validation"]["train"], rec["validation"]["val"]) == (
        metrics["train_samples"], metrics["val_samples"])
    assert rec["headline"] == headline(cfg) and rec["headline"][-2:] == [
        "snn_minus_lstm_L4", "snn_attn_minus_snn_L4"]
    per = rec["extra"]["per_seed"]
    assert rec["extra"]["seeds"] == [0, 1] and rec["config"]["protocol"]["seeds"] == [0, 1]
    for key, values in per.items():
        assert len(values) == 2 and math.isclose(metrics[key], sum(values) / 2)
    for tag in ("L0", "L4", "end_L4"):
        for i in range(2):
            assert per[f"snn_minus_lstm_{tag}"][i] == pytest.approx(
                per[f"snn_accuracy_{tag}"][i] - per[f"lstm_accuracy_{tag}"][i])
        assert per[f"snn_best_epoch_{tag}"] == [1, 1]
        assert all(0.0 <= v <= 1.0 for v in per[f"lstm_val_accuracy_{tag}"])
