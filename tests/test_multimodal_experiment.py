"""The multimodal experiment end to end at a tiny size (random 'images' stand in for data)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lava_thesis.experiments import multimodal as mm
from lava_thesis.multimodal.model_io import load_pair_model


@pytest.fixture
def tiny_data(rng) -> mm.MultimodalData:
    def split(n):
        y = np.arange(n) % 10
        # class-dependent blobs so the ensembles have something to learn
        x = np.zeros((n, 28, 28), np.uint8)
        for i, c in enumerate(y):
            x[i, 2 * c:2 * c + 8, 4:24] = 200
        return x, y

    audio_test = split(20)
    return mm.MultimodalData(split(60), split(30), split(40), audio_test,
                             lambda snr: audio_test[0][:, ::-1].copy())


def test_run_writes_results_model_and_plot(tiny_data, tmp_path):
    cfg = mm.MultimodalConfig(n_exc=8, assign_pairs=40, gaussian_sigmas=(100.0,),
                              salt_pepper=(0.2,), audio_snr_db=(5.0,), lava_pairs=2)
    metrics = mm.run(tiny_data, tmp_path, dataset="tiny", config=cfg, experiment="mm")
    for key in ("image_accuracy", "audio_accuracy", "multimodal_accuracy",
                "multimodal_accuracy_no_cross", "lava_agreement"):
        assert 0.0 <= metrics[key] <= 1.0
    assert metrics["test_pairs"] == 20 and metrics["noise_conditions"] == 3
    assert metrics["lava_agreement"] == 1.0 and metrics["lava_spike_count_match"] == 1.0
    doc = json.loads((tmp_path / "mm.json").read_text())
    rows = doc["extra"]["robustness"]["cross"]
    assert [(r["noise"], r["level"]) for r in rows] == [
        ("gaussian", None), ("salt_pepper", None), ("audio_snr_db", None), ("gaussian", 100.0),
        ("salt_pepper", 0.2), ("audio_snr_db", 5.0)]
    clean = rows[0]
    assert clean["noisy_modality_alone"] == metrics["image_accuracy"]
    assert clean["multimodal"] == metrics["multimodal_accuracy"]
    assert (tmp_path / "mm_robustness.png").stat().st_size > 0
    net, labels, card = load_pair_model(tmp_path / "mm.h5")
    assert net.image.params.n_exc == 8 and card["metrics"]["test_pairs"] == 20
    assert net.w_image_audio.max() > 0  # the cross-modal synapses learned

    again = mm.check_saved_model(tmp_path / "mm.h5", tiny_data, 2, tmp_path, dataset="tiny")
    assert again["lava_pairs"] == 2 and again["lava_agreement"] == 1.0
    assert json.loads((tmp_path / "mm_lava.json").read_text())["metrics"]["lava_pairs"] == 2
