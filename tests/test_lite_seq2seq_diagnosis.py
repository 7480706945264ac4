"""The seq2seq diagnosis (``lava-thesis ablate seq2seq``): the gradient-through-time probe is
exactly zero beyond the causal convolutions' reach unless the membrane is carried, the layer
gradients are those of the loss, and a tiny run writes paired per-seed values."""

from __future__ import annotations

import json
import math

import pytest
import torch
from conftest import assert_results_written
from typer.testing import CliRunner

from lava_thesis.cli import app
from lava_thesis.experiments.lite_seq2seq import LiteSeq2SeqConfig
from lava_thesis.experiments.lite_seq2seq_diagnosis import (
    Seq2SeqDiagnosisConfig,
    gradient_probe,
    run,
    variants,
)
from lava_thesis.lite.seq2seq_models import ConvSeq2Seq
from lava_thesis.protocol import Protocol

VOCAB = 15


def _probe_batch(n_tgt: int = 12):
    gen = torch.Generator().manual_seed(3)
    src = torch.randint(3, VOCAB, (3, 6), generator=gen)
    tgt = torch.randint(3, VOCAB, (3, n_tgt + 1), generator=gen)
    tgt[2, 9:] = 0  # a shorter sentence: its last position is 7
    return src, torch.tensor([6, 6, 4]), tgt[:, :-1], tgt[:, 1:]


def _model(activation: str, memory: str = "position", dec_layers: int = 2) -> ConvSeq2Seq:
    torch.manual_seed(0)
    return ConvSeq2Seq(VOCAB, VOCAB, embed_dim=8, channels=16, steps=2, kernel=3,
                       dec_layers=dec_layers, activation=activation, memory=memory,
                       threshold=0.5, leak=0.95)


@pytest.mark.parametrize("activation,memory,dec_layers", [
    ("relu", "position", 2), ("lif", "position", 2), ("relu", "position", 3),
    ("lif", "position", 3)])
def test_gradient_reaches_exactly_as_far_back_as_the_causal_convolutions(
        activation, memory, dec_layers):
    probe = gradient_probe(_model(activation, memory, dec_layers), _probe_batch(), lags=10)
    reach = dec_layers * 2  # kernel 3: each causal conv sees 2 positions back
    assert probe["lag0_norm"] > 0
    assert any(probe[f"lag{d}"] > 0 for d in range(1, reach + 1))
    assert all(probe[f"lag{d}"] == 0.0 for d in range(reach + 1, 11))


def test_a_carried_membrane_passes_gradient_beyond_the_convolutions_reach():
    probe = gradient_probe(_model("lif", "carry"), _probe_batch(), lags=10)
    assert all(probe[f"lag{d}"] > 0 for d in range(5, 8))


def test_layer_gradients_are_those_of_the_mean_loss_and_are_cleared():
    model = _model("relu")
    batch = _probe_batch()
    probe = gradient_probe(model, batch, lags=2)
    src, src_len, tgt_in, tgt_out = batch
    loss = torch.nn.functional.cross_entropy(model(src, src_len, tgt_in).flatten(0, 1),
                                             tgt_out.flatten(), ignore_index=0)
    loss.backward()
    assert probe["grad_dec2"] == pytest.approx(float(model.dec_convs[1].weight.grad.norm()))
    assert probe["grad_out"] == pytest.approx(float(model.out.weight.grad.norm()))
    assert probe["grad_enc1"] == pytest.approx(float(model.enc_convs[0].weight.grad.norm()))
    model.zero_grad()
    gradient_probe(model, batch, lags=2)
    assert all(p.grad is None or not p.grad.any() for p in model.parameters())


def test_config_refuses_bad_steps_and_models():
    with pytest.raises(ValueError, match="steps"):
        Seq2SeqDiagnosisConfig(steps=(2, 2))
    with pytest.raises(ValueError, match="snns"):
        Seq2SeqDiagnosisConfig(snns=("lstm",))
    assert [v[0] for v in variants(Seq2SeqDiagnosisConfig(steps=(2,), snns=("snn",)))] == [
        "relu_cnn", "snn_s2"]


def test_tiny_run_writes_paired_values_per_seed(data_root, tmp_path):
    torch.set_num_threads(1)
    base = LiteSeq2SeqConfig(subset=120, test_subset=6, val_subset=5, epochs=1, embed_dim=8,
                             channels=8, decode_max_len=8, data_dir=str(data_root),
                             out_dir=str(tmp_path), experiment="diag_small")
    cfg = Seq2SeqDiagnosisConfig(steps=(1, 2), lags=6, probe_pairs=4, base=base)
    lines: list[str] = []
    metrics = run(cfg, log=lines.append, protocol=Protocol(seeds=(0, 1)))
    record = assert_results_written(tmp_path, "diag_small", metrics)
    per_seed = record["extra"]["per_seed"]
    for key in ("relu_cnn", "snn_carry_s1", "snn_carry_s2", "snn_s1", "snn_s2"):
        assert 0 <= metrics[f"{key}_bleu"] <= 100 and len(per_seed[f"{key}_bleu"]) == 2
        assert metrics[f"{key}_grad_init_dec1"] > 0 and math.isfinite(metrics[f"{key}_lag6"])
        if key != "relu_cnn":
            diff = [a - b for a, b in zip(per_seed[f"{key}_bleu"], per_seed["relu_cnn_bleu"],
                                          strict=True)]
            assert per_seed[f"{key}_minus_relu_cnn_bleu"] == pytest.approx(diff)
            assert 0 <= metrics[f"{key}_spike_rate_enc1"] <= 1
    # beyond two causal k=3 convolutions only the carried membrane can pass a gradient
    assert metrics["relu_cnn_lag5"] == 0 and metrics["snn_s2_lag5"] == 0
    assert record["config"]["steps"] == [1, 2] and record["config"]["base"]["epochs"] == 1
    assert "zero beyond d = 4" in record["extra"]["gradient_probe"]
    assert (tmp_path / "diag_small.png").stat().st_size > 0
    assert any("S=2" in line for line in lines)


@pytest.mark.parametrize("args,expected", [
    (["--dataset", "mnist"], "Multi30k"), (["--steps", "2,2"], "--steps"),
    (["--steps", "1,x"], "--steps"), (["--variants", "snn,lstm"], "lstm")])
def test_cli_refuses_bad_options_in_one_line(args, expected, tmp_path):
    got = CliRunner().invoke(app, ["ablate", "seq2seq", *args, "--out", str(tmp_path)])
    assert got.exit_code == 2, got.output
    assert expected in got.output and "Traceback" not in got.output
    assert not any(tmp_path.iterdir())


def test_cli_runs_the_diagnosis_at_a_tiny_size(data_root, tmp_path):
    got = CliRunner().invoke(app, [
        "ablate", "seq2seq", "--steps", "1", "--variants", "snn_carry", "--train-samples", "60",
        "--test-samples", "3",
        "--seeds", "1", "--data-dir", str(data_root), "--out", str(tmp_path), "--allow-dirty"])
    assert got.exit_code == 0, got.output
    record = json.loads((tmp_path / "ablation_seq2seq_multi30k.json").read_text())
    assert record["config"]["steps"] == [1] and record["metrics"]["train_pairs"] == 60
    assert "snn_carry_s1_minus_relu_cnn_bleu" in record["headline"]
    assert record["config"]["snns"] == ["snn_carry"] and "snn_s1_bleu" not in record["metrics"]
