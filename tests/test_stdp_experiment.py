"""The STDP experiment (run and sweep) at a tiny size: the evaluation protocol (seeds,
validation split), and that validation images are never trained on or used for labels."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import marked_blobs
from hypothesis import given, settings
from hypothesis import strategies as st

from lava_thesis.experiments import stdp
from lava_thesis.experiments.stdp_sweep import choose, sweep, tag
from lava_thesis.protocol import Protocol, validation_split
from lava_thesis.stdp import STDPNetwork
from lava_thesis.stdp.model_io import load_model

TINY = dict(n_exc=10, assign_samples=300, prune_interval=100)


images = marked_blobs


def check_seeds(doc: dict, metrics: dict) -> None:
    assert doc["extra"]["seeds"] == [0, 1]
    for key, values in doc["extra"]["per_seed"].items():
        assert len(values) == 2 and metrics[key] == pytest.approx(np.mean(values))
    assert doc["validation"] == {"fraction": 0.2, "seed": 0, "train": 240, "val": 60}
    assert doc["config"]["protocol"] == {"seeds": [0, 1], "val_fraction": 0.2, "val_seed": 0}


def test_run_trains_one_network_per_seed_and_records_the_protocol(tmp_path):
    cfg = stdp.STDPConfig(**TINY, prune_fraction=0.5, levels=4, lava_samples=2)
    protocol = Protocol(seeds=(0, 1), val_fraction=0.2)
    metrics = stdp.run(images(300), images(50, 300), tmp_path, dataset="tiny", config=cfg,
                       experiment="s", protocol=protocol, log=lambda _: None)
    doc = json.loads((tmp_path / "s.json").read_text())
    check_seeds(doc, metrics)
    per_seed = doc["extra"]["per_seed"]
    assert per_seed["accuracy"][0] != per_seed["accuracy"][1] or \
        per_seed["mean_test_spikes"][0] != per_seed["mean_test_spikes"][1]  # two networks
    assert metrics["val_samples"] == 60 and metrics["test_samples"] == 50
    assert metrics["train_samples"] == 240 and 0 <= metrics["val_accuracy"] <= 1
    assert metrics["agreement"] == 1.0 and "lava_accuracy" not in per_seed
    assert doc["headline"][:2] == ["deployed_accuracy", "accuracy"]
    assert doc["extra"]["lava_check_seed"] == 0
    assert 0 <= per_seed["deployed_accuracy"][0] <= 1 and metrics["deployed_float_agreement"] > 0.5
    net, assignments, card = load_model(tmp_path / "s.h5")
    assert card["protocol"] == protocol.as_dict() and card["seed"] == 0
    assert card["validation"] == doc["validation"] and card["commit"] == doc["commit"]
    assert card["metrics"]["accuracy"] == per_seed["accuracy"][0]  # the first seed's model
    assert (tmp_path / "s_receptive_fields.png").stat().st_size > 0
    # the saved model's Lava check apart from training (check-stdp) is the run's, number for
    # number: the same network, images and input spikes
    again = stdp.check_saved_model(tmp_path / "s.h5", images(50, 300), 2, tmp_path / "chk",
                                   dataset="tiny", log=lambda _: None)
    for key in ("lava_samples", "lava_accuracy", "engine_accuracy_lava_subset", "agreement",
                "spike_count_match"):
        assert again[key] == metrics[key], key
    check = json.loads((tmp_path / "chk" / "s_lava.json").read_text())
    assert check["config"]["seed"] == 0 and check["config"]["model"] == "s.h5"
    x, y = images(5, 300)
    with pytest.raises(ValueError, match="s.h5: the model takes"):
        stdp.check_saved_model(tmp_path / "s.h5", (x[:, :-1], y), 2, tmp_path / "chk2",
                               dataset="tiny", log=lambda _: None)
    assert not (tmp_path / "chk2").exists()


def test_validation_images_are_never_trained_on_or_used_for_labels(monkeypatch):
    trained, evaluated = [], []
    train, responses = STDPNetwork.train, STDPNetwork.responses

    def record_train(self, x, **kw):
        trained.append(x)
        return train(self, x, **kw)

    def record_responses(self, x, progress=None):
        evaluated.append(x)
        return responses(self, x, progress)

    monkeypatch.setattr(STDPNetwork, "train", record_train)
    monkeypatch.setattr(STDPNetwork, "responses", record_responses)
    (x, y), test = images(300), images(30, 300)
    cfg = stdp.STDPConfig(**TINY, lava_samples=0, seed=4, val_fraction=0.3)
    metrics = stdp.run((x, y), test, "unused", dataset="tiny", config=cfg, write=False,
                       log=lambda _: None)  # no protocol: cfg.seed and cfg.val_fraction
    _, val_idx = validation_split(y, 0.3, 4)
    val_rows = {r.tobytes() for r in x[val_idx].reshape(len(val_idx), -1)}
    rows = [{r.tobytes() for r in block} for block in trained + evaluated]
    assert metrics["val_samples"] == len(val_idx) == 90
    assert rows[0] and not rows[0] & val_rows  # training
    assert rows[1] and not rows[1] & val_rows  # neuron labels: training images only
    assert rows[2] == val_rows  # validation accuracy
    assert not rows[3] & val_rows and len(rows) == 4  # the test images, once


def test_no_validation_image_is_one_clear_error():
    with pytest.raises(ValueError, match="val_fraction 0.0 leaves no validation image"):
        stdp.run(images(40), images(10), "unused", dataset="tiny", write=False,
                 config=stdp.STDPConfig(**TINY), protocol=Protocol((0,), 0.0))


def test_sweep_chooses_its_operating_point_on_validation(tmp_path):
    cfg = stdp.STDPConfig(**TINY, prune_fraction=0.5)
    protocol = Protocol(seeds=(0, 1), val_fraction=0.2)
    points = sweep(images(300), images(50, 300), tmp_path, dataset="tiny", config=cfg,
                   experiment="sw", protocol=protocol, tolerance=0.02, log=lambda _: None)
    doc = json.loads((tmp_path / "sw.json").read_text())
    check_seeds(doc, points)
    names = [tag(f, 0) for f in (0.0, 0.5, 0.75, 0.9)] + [tag(0.5, n) for n in (2, 4, 8, 16)]
    for name in names:
        for key in ("accuracy", "val_accuracy", "area_ratio", "energy_ratio"):
            assert f"{key}_{name}" in doc["extra"]["per_seed"]
    best = max(points[f"val_accuracy_{n}"] for n in names)
    chosen = tag(points["chosen_prune_fraction"], int(points["chosen_levels"]))
    assert doc["extra"]["chosen"]["setting"] == chosen
    assert points["chosen_val_accuracy"] >= best - 0.02
    assert all(points[f"area_ratio_{n}"] <= points["chosen_area_ratio"] for n in names
               if points[f"val_accuracy_{n}"] >= best - 0.02)
    assert points["chosen_accuracy"] == points[f"accuracy_{chosen}"]
    assert doc["headline"][0] == "chosen_accuracy"
    assert (tmp_path / "sw.png").read_bytes()[:4] == b"\x89PNG"


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 1), st.floats(1, 100)), min_size=1, max_size=6),
       st.floats(0, 0.5))
def test_choose_is_the_most_compressed_setting_within_tolerance(rows, tolerance):
    cands = [(i / 10, 0) for i in range(len(rows))]
    points = {}
    for (val, area), c in zip(rows, cands, strict=True):
        points[f"val_accuracy_{tag(*c)}"], points[f"area_ratio_{tag(*c)}"] = val, area
    got = choose(points, cands, tolerance)
    best = max(v for v, _ in rows)
    val, area = rows[cands.index(got)]
    assert val >= best - tolerance
    assert all(a <= area for v, a in rows if v >= best - tolerance)
