"""The multimodal experiment end to end at a tiny size (random 'images' stand in for data)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import marked_blobs, one_line_error

from lava_thesis.experiments import multimodal as mm
from lava_thesis.multimodal.engine import MultimodalNetwork
from lava_thesis.multimodal.model_io import load_pair_model
from lava_thesis.protocol import Protocol, validation_split

split = marked_blobs


@pytest.fixture
def tiny_data() -> mm.MultimodalData:
    audio_test = split(20, 500)
    return mm.MultimodalData(split(60), split(30, 100), split(40, 200), audio_test,
                             lambda snr: audio_test[0][:, ::-1].copy())


def test_run_writes_results_model_and_plot(tiny_data, tmp_path):
    cfg = mm.MultimodalConfig(n_exc=8, assign_pairs=40, gaussian_sigmas=(100.0,),
                              salt_pepper=(0.2,), audio_snr_db=(5.0,), lava_pairs=2)
    protocol = Protocol(seeds=(0, 1), val_fraction=0.2)
    metrics = mm.run(tiny_data, tmp_path, dataset="tiny", config=cfg, experiment="mm",
                     protocol=protocol)
    for key in ("image_accuracy", "audio_accuracy", "multimodal_accuracy",
                "multimodal_accuracy_no_cross", "lava_agreement", "val_image_accuracy",
                "val_audio_accuracy", "val_multimodal_accuracy",
                "val_multimodal_accuracy_no_cross"):
        assert 0.0 <= metrics[key] <= 1.0
    # every one of the 20 test utterances with 10 images of its digit
    assert metrics["test_pairs"] == 200 and metrics["test_utterances"] == 20
    assert metrics["noise_conditions"] == 3
    for key in ("image_accuracy", "audio_accuracy", "multimodal_accuracy",
                "multimodal_accuracy_no_cross", "multimodal_minus_best_unimodal"):
        assert metrics[f"{key}_ci_low"] <= metrics[key] <= metrics[f"{key}_ci_high"]
    doc = json.loads((tmp_path / "mm.json").read_text())
    per = doc["extra"]["per_seed"]
    for i in range(2):  # the fused accuracy minus the better modality's, paired per seed
        assert per["multimodal_minus_best_unimodal"][i] == pytest.approx(
            per["multimodal_accuracy"][i] - max(per["image_accuracy"][i],
                                                per["audio_accuracy"][i]))
    assert metrics["val_pairs"] == 10  # one utterance per class (4 per class x 0.2)
    assert metrics["lava_agreement"] == 1.0 and metrics["lava_spike_count_match"] == 1.0
    for key in ("deployed_accuracy", "deployed_image_accuracy", "deployed_audio_accuracy"):
        assert 0.0 <= metrics[key] <= 1.0
    assert metrics["deployed_activation_fits_16_bits"] == 1.0
    doc = json.loads((tmp_path / "mm.json").read_text())
    assert doc["headline"][0] == "deployed_accuracy"
    assert doc["extra"]["lava_check_tag"] == "fixed_pt"
    assert len(doc["extra"]["per_seed"]["deployed_accuracy"]) == 2
    assert doc["extra"]["seeds"] == [0, 1]
    for key, values in doc["extra"]["per_seed"].items():
        assert len(values) == 2 and metrics[key] == pytest.approx(np.mean(values))
    assert "lava_agreement" not in doc["extra"]["per_seed"]  # the first seed's network only
    assert doc["validation"] == {"fraction": 0.2, "seed": 0, "train": 50, "val": 10,
                                 "audio_train": 30, "audio_val": 10}
    assert doc["config"]["protocol"] == protocol.as_dict()
    rows = doc["extra"]["robustness"]["cross"]
    assert [(r["noise"], r["level"]) for r in rows] == [
        ("gaussian", None), ("salt_pepper", None), ("audio_snr_db", None), ("gaussian", 100.0),
        ("salt_pepper", 0.2), ("audio_snr_db", 5.0)]
    for row in rows:
        assert row["multimodal_minus_best_ci_low"] <= row["multimodal_minus_best"] <= \
            row["multimodal_minus_best_ci_high"]
    assert 0 <= metrics["noise_multimodal_significantly_above_best"] <= \
        metrics["noise_multimodal_above_best_unimodal"]
    clean = rows[0]  # the clean rows are the seeds' mean test accuracies, with their spread
    assert clean["noisy_modality_alone"] == pytest.approx(metrics["image_accuracy"])
    assert clean["multimodal"] == pytest.approx(metrics["multimodal_accuracy"])
    assert clean["multimodal_min"] == min(doc["extra"]["per_seed"]["multimodal_accuracy"])
    assert len(doc["extra"]["robustness_per_seed"]) == 2
    assert (tmp_path / "mm_robustness.png").stat().st_size > 0
    net, labels, card = load_pair_model(tmp_path / "mm.h5")
    assert net.image.params.n_exc == 8 and card["metrics"]["test_pairs"] == 200
    assert card["protocol"] == protocol.as_dict() and card["seed"] == 0
    assert card["validation"] == doc["validation"]
    assert net.w_image_audio.max() > 0  # the cross-modal synapses learned

    again = mm.check_saved_model(tmp_path / "mm.h5", tiny_data, 2, tmp_path, dataset="tiny")
    assert again["lava_pairs"] == 2 and again["lava_agreement"] == 1.0
    assert again["lava_accuracy"] == metrics["lava_accuracy"]  # the same model, same pairs
    assert json.loads((tmp_path / "mm_lava.json").read_text())["metrics"]["lava_pairs"] == 2
    floating = mm.check_saved_model(tmp_path / "mm.h5", tiny_data, 2, tmp_path, dataset="tiny",
                                    tag="floating_pt")
    assert floating["lava_agreement"] == 1.0 and floating["lava_spike_count_match"] == 1.0
    doc = json.loads((tmp_path / "mm_lava_floating_pt.json").read_text())
    assert doc["config"]["tag"] == "floating_pt"
    with pytest.raises(ValueError, match="tag must be"):
        mm.check_saved_model(tmp_path / "mm.h5", tiny_data, 2, tmp_path, dataset="tiny",
                             tag="loihi")


def test_validation_pairs_are_never_trained_on_or_used_for_labels(tiny_data, tmp_path,
                                                                   monkeypatch):
    seen: list[np.ndarray] = []
    train, responses = MultimodalNetwork.train, MultimodalNetwork.responses

    def record_train(self, images, audio, **kw):
        seen.extend([images, audio])
        return train(self, images, audio, **kw)

    calls = []

    def record_responses(self, images, audio):
        calls.append((images, audio))
        return responses(self, images, audio)

    monkeypatch.setattr(MultimodalNetwork, "train", record_train)
    monkeypatch.setattr(MultimodalNetwork, "responses", record_responses)
    cfg = mm.MultimodalConfig(n_exc=4, assign_pairs=40, gaussian_sigmas=(), salt_pepper=(),
                              audio_snr_db=(), lava_pairs=0, ablation=False)
    protocol = Protocol(seeds=(3,), val_fraction=0.2)
    mm.run(tiny_data, tmp_path, dataset="tiny", config=cfg, write=False, protocol=protocol)
    _, vi = validation_split(tiny_data.image_train[1], 0.2, 3)
    _, va = validation_split(tiny_data.audio_train[1], 0.2, 3)
    val_rows = {r.tobytes() for r in tiny_data.image_train[0][vi].reshape(len(vi), -1)}
    val_rows |= {r.tobytes() for r in tiny_data.audio_train[0][va].reshape(len(va), -1)}
    trained = {r.tobytes() for block in seen for r in block}
    assert trained and not trained & val_rows
    labelling = calls[:3]  # label_neurons: image alone, audio alone, both
    used = {r.tobytes() for pair in labelling for block in pair if block is not None
            for r in block}
    assert used and not used & val_rows
    validating = {r.tobytes() for block in calls[3] if block is not None for r in block}
    assert validating <= val_rows  # the next call measures validation accuracy


def test_too_small_a_validation_share_is_one_clear_error(tiny_data):
    with pytest.raises(ValueError, match="val_fraction 0.05 leaves no validation utterance"):
        mm.split_pairs(tiny_data, Protocol(seeds=(0,), val_fraction=0.05))


def test_cli_images_per_utterance_is_for_multimodal_only_and_reaches_the_config(
        tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from lava_thesis import cli_train
    from lava_thesis.cli import app
    one_line_error(CliRunner().invoke(app, ["train", "stdp", "--images-per-utterance", "3",
                                               "--out", str(tmp_path / "o")]),
                      "--images-per-utterance", "stdp")
    seen = {}

    def fake_run(data, out, *, config, **kw):
        seen["k"] = config.images_per_utterance
        return {}

    monkeypatch.setattr(mm, "run", fake_run)
    monkeypatch.setattr(cli_train, "paired_data", lambda *a: None)
    monkeypatch.setattr("lava_thesis.cli.load_split", lambda *a: (np.zeros((1, 2)), [0]))
    for args, k in (([], 10), (["--images-per-utterance", "3"], 3)):
        result = CliRunner().invoke(app, ["train", "multimodal", *args, "--out",
                                          str(tmp_path / "o")])
        assert result.exit_code == 0, result.output
        assert seen["k"] == k
