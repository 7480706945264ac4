"""Accuracy-vs-length study, sequential MNIST: pixel chunks, the three models, run()."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from conftest import assert_results_written

from lava_thesis.experiments import lite_length_smnist as smnist
from lava_thesis.experiments.lite_length_smnist import (
    MODELS,
    LiteLengthSmnistConfig,
    build_model,
    run,
)
from lava_thesis.lite.sequential import SeqAttentionSNN, SeqLSTM, SeqSNN, chunk_pixels
from lava_thesis.protocol import Protocol


@pytest.mark.parametrize("k", [28, 14, 7, 4, 1])
def test_chunks_keep_raster_order_and_scale(k):
    # pixel value = its raster index mod 256, so the order is checked exactly
    image = (np.arange(784) % 256).astype(np.uint8).reshape(1, 28, 28)
    images = np.concatenate([image, 255 - image])
    x = chunk_pixels(images, k)
    assert x.shape == (2, 784 // k, k) and x.dtype == np.float32
    for t in (0, 1, 784 // k - 1):
        for j in range(k):
            row, col = divmod(t * k + j, 28)
            assert x[0, t, j] == pytest.approx(images[0, row, col] / 255)
            assert x[1, t, j] == pytest.approx(images[1, row, col] / 255)
    assert np.array_equal(x.reshape(2, 784), images.reshape(2, 784) / np.float32(255))
    assert x.min() == 0.0 and x.max() == 1.0


def test_chunks_reject_sizes_that_do_not_divide_the_image():
    with pytest.raises(ValueError, match="divide"):
        chunk_pixels(np.zeros((1, 28, 28), np.uint8), 5)


@pytest.mark.parametrize("cls", [SeqSNN, SeqAttentionSNN, SeqLSTM])
@pytest.mark.parametrize("k", [28, 4])
def test_models_give_class_logits(cls, k):
    torch.manual_seed(0)
    x = torch.rand(3, 784 // k, k)
    assert cls(k, hidden=16)(x).shape == (3, 10)


def test_last_step_readout_and_record():
    torch.manual_seed(0)
    model = SeqSNN(7, hidden=16).eval()
    x = torch.rand(2, 5, 7)
    _, _, v = model.trunk(x)
    assert torch.allclose(model(x), model.head(v[:, 4]))
    record: list = []
    model(x, record)
    assert [r.shape for r in record] == [(2, 5, 16)] * 2
    # causal: changing only the last chunk leaves the earlier membrane untouched
    y = x.clone()
    y[:, -1] += 1
    assert torch.allclose(model.trunk(y)[2][:, :4], v[:, :4])


def test_attention_readout_weights_all_steps():
    torch.manual_seed(0)
    model = SeqAttentionSNN(7, hidden=16, attn_dim=4).eval()
    x = torch.rand(2, 6, 7)
    _, _, v = model.trunk(x)
    feature, weights = model.pool(v, torch.ones(2, 6))
    assert torch.allclose(weights.sum(1), torch.ones(2)) and (weights > 0).all()
    assert torch.allclose(model(x), model.head(feature))


@pytest.mark.parametrize("cls", [SeqSNN, SeqAttentionSNN])
def test_gradients_reach_thresholds_and_leaks(cls):
    torch.manual_seed(0)
    model = cls(4, hidden=16, threshold=0.3)
    model(torch.rand(4, 12, 4)).sum().backward()
    for p in (model.lif1.threshold, model.lif1.leak, model.lif2.threshold, model.lif2.leak,
              model.out.leak):
        assert p.grad is not None and torch.isfinite(p.grad) and p.grad.abs() > 0


def test_build_model_kinds():
    cfg = LiteLengthSmnistConfig(hidden=16, attn_dim=4)
    kinds = {k: type(build_model(k, 7, cfg)).__name__ for k in MODELS}
    assert kinds == {"snn": "SeqSNN", "snn_attn": "SeqAttentionSNN", "lstm": "SeqLSTM"}
    with pytest.raises(ValueError, match="kind"):
        build_model("gru", 7, cfg)


def test_run_on_a_few_images_with_two_seeds(data_root, tmp_path, monkeypatch):
    trained: list[int] = []  # images each model trained on
    real_fit = smnist.fit

    def spy(module, forward, labels, optimizer, **kw):
        trained.append(len(labels))
        return real_fit(module, forward, labels, optimizer, **kw)

    monkeypatch.setattr(smnist, "fit", spy)
    split = smnist.split_training
    seen = {}

    def spy_split(x, y, protocol):
        out = split(x, y, protocol)
        seen["train"], seen["val"] = out[0][0], out[1][0]
        seen["all"] = x
        return out

    monkeypatch.setattr(smnist, "split_training", spy_split)
    cfg = LiteLengthSmnistConfig(chunks=(28, 14), train_samples=200, test_samples=100,
                                 hidden=16, attn_dim=4, epochs=1, data_dir=str(data_root),
                                 out_dir=str(tmp_path))
    metrics = run(cfg, log=lambda _: None, command="test",
                  protocol=Protocol((0, 1), val_fraction=0.2))
    rec = assert_results_written(tmp_path, "lite_length_smnist", metrics)
    assert rec["command"] == "test"
    keys = [f"{m}_accuracy_seq{t}" for m in MODELS for t in (28, 56)]
    assert all(0.0 <= metrics[k] <= 1.0 for k in keys)
    val = rec["validation"]
    assert val["train"] + val["val"] == 200 and val["val"] == 40  # 20% of each digit's images
    assert (metrics["train_samples"], metrics["val_samples"]) == (val["train"], val["val"])
    assert metrics["test_samples"] == 100
    assert trained == [val["train"]] * 12  # 3 models x 2 lengths x 2 seeds, training part only
    # the validation images are not among the training images
    flat = {bytes(img) for img in seen["train"]}
    assert not any(bytes(img) in flat for img in seen["val"])
    assert rec["headline"] == keys + ["snn_minus_lstm_seq56", "snn_attn_minus_snn_seq56"]
    assert rec["extra"]["seeds"] == [0, 1] and rec["config"]["protocol"]["seeds"] == [0, 1]
    per = rec["extra"]["per_seed"]
    for key, values in per.items():
        assert len(values) == 2 and math.isclose(metrics[key], sum(values) / 2)
    for i in range(2):
        assert per["snn_attn_minus_snn_seq28"][i] == pytest.approx(
            per["snn_attn_accuracy_seq28"][i] - per["snn_accuracy_seq28"][i])
    assert all(0.0 <= v <= 1.0 for v in per["lstm_val_accuracy_seq56"])
