"""The hybrid ablation: conversion with soft and hard reset, STDB, the linear surrogate and
BPTT from random weights at equal epochs, accuracy vs T on the same images, the step reduction
at the converted accuracy minus a margin (per seed), and the command line's checks."""

from __future__ import annotations

import pytest
import torch
from conftest import one_line_error
from typer.testing import CliRunner

from lava_thesis.experiments import ablate_hybrid as ab
from lava_thesis.experiments.hybrid import HybridConfig
from lava_thesis.hybrid.stdb import STDBConfig
from lava_thesis.protocol import Protocol
from lava_thesis.results import read_results


def test_reductions_by_hand():
    curves = {"converted": {5: 0.50, 10: 0.80, 50: 0.95, 100: 0.96},
              "stdb": {5: 0.90, 10: 0.955, 50: 0.96, 100: 0.96},
              "bptt": {5: 0.10, 10: 0.20, 50: 0.30, 100: 0.40}}
    r = ab.reductions(curves, (0.5, 1.0))
    # targets 0.955 and 0.95: converted reaches them at 100 and 50 steps
    assert (r["steps_converted_m0.5"], r["steps_converted_m1"]) == (100.0, 50.0)
    assert (r["steps_stdb_m0.5"], r["steps_stdb_m1"]) == (10.0, 10.0)
    assert (r["step_reduction_stdb_m0.5"], r["step_reduction_stdb_m1"]) == (10.0, 5.0)
    # never reached: the largest T as a bound, flagged
    assert r["steps_bptt_m1"] == 100.0 and r["reached_bptt_m1"] == 0.0
    assert r["reached_stdb_m1"] == 1.0 and r["step_reduction_bptt_m1"] == 0.5


def test_every_network_is_trained_and_measured(tmp_path, monkeypatch):
    from lava_thesis.data.shipped_mnist import load_shipped_mnist

    started = []  # (surrogate, reset, first weights) of every network STDB starts from
    real = ab.train_stdb_best

    def spy(cfg, seed, net, *args):
        started.append((net.surrogate, net.reset, net.layers[0].weight.detach().clone()))
        return real(cfg, seed, net, *args)

    monkeypatch.setattr(ab, "train_stdb_best", spy)

    train, test = load_shipped_mnist("train"), load_shipped_mnist("test")
    hybrid = HybridConfig(ann_epochs=1, num_steps=4, balance_steps=8, balance_images=32,
                          threshold_scales=(1.0,), percentiles=(None,), lava_samples=0,
                          eval_samples=None, stdb=STDBConfig(epochs=1), stdb_samples=100)
    cfg = ab.HybridAblationConfig(hybrid=hybrid, sweep_steps=(2, 8))
    metrics = ab.run((train[0][:300], train[1][:300]), (test[0][:30], test[1][:30]), tmp_path,
                     dataset="mnist", config=cfg,
                     protocol=Protocol(seeds=(0, 1), val_fraction=0.2),
                     log=lambda line: None, allow_dirty=True)
    doc = read_results(tmp_path / "ablation_hybrid.json")
    per_seed = doc["extra"]["per_seed"]
    assert doc["extra"]["sweep_steps"] == [2, 4, 8]  # the trained T joins the sweep
    for name in ("converted", "stdb", "linear", "bptt"):
        for t in (2, 4, 8):
            assert 0 <= metrics[f"deployed_accuracy_{name}_T{t}"] <= 1
            assert len(per_seed[f"deployed_accuracy_{name}_T{t}"]) == 2
        assert 0 <= metrics[f"torch_accuracy_{name}"] <= 1
        for t in (2, 4, 8):  # the same networks read by the integrator (deployed in Lava)
            assert 0 <= metrics[f"deployed_integrator_accuracy_{name}_T{t}"] <= 1
    for t in (2, 4, 8):
        assert 0 <= metrics[f"soft_converted_accuracy_T{t}"] <= 1
    for prefix in ("", "integrator_"):
        for variant in ("stdb", "linear", "bptt"):
            for seed in range(2):  # the reduction is formed per seed
                assert per_seed[f"{prefix}step_reduction_{variant}_m1"][seed] == pytest.approx(
                    per_seed[f"{prefix}steps_converted_m1"][seed]
                    / per_seed[f"{prefix}steps_{variant}_m1"][seed])
    # per seed: STDB and the linear surrogate start from the converted weights, BPTT from
    # random ones; all hard reset (deployable)
    assert [(s, r) for s, r, _ in started] == [("stdb", "hard"), ("linear", "hard"),
                                               ("stdb", "hard")] * 2
    stdb_w, linear_w, bptt_w = (w for _, _, w in started[:3])
    assert torch.equal(stdb_w, linear_w) and not torch.equal(stdb_w, bptt_w)
    assert metrics["eval_samples"] == 30 and doc["headline"][0] == "step_reduction_stdb_m0.5"
    assert doc["extra"]["claim"].startswith("STDB")
    assert (tmp_path / "ablation_hybrid.png").stat().st_size > 0
    assert "deployed_integrator_accuracy_stdb_T4" in doc["headline"]


def test_config_refuses_bad_settings():
    with pytest.raises(ValueError, match="variants must be among"):
        ab.HybridAblationConfig(variants=("adam",))
    with pytest.raises(ValueError, match="sweep_steps"):
        ab.HybridAblationConfig(sweep_steps=(0,))
    with pytest.raises(ValueError, match="margins"):
        ab.HybridAblationConfig(margins=(-1.0,))
    with pytest.raises(ValueError, match="readouts"):
        ab.HybridAblationConfig(readouts=("integrator",))


@pytest.mark.parametrize(("args", "message"), [
    (["--sweep-steps", "0,5"], "--sweep-steps: each must be >= 1"),
    (["--sweep-steps", "a"], "--sweep-steps: expected comma-separated ints"),
    (["--val-fraction", "0"], "--val-fraction must be > 0"),
])
def test_cli_checks_its_options(args, message, tmp_path):
    from lava_thesis.cli import app

    result = CliRunner().invoke(app, ["ablate", "hybrid", "--out", str(tmp_path), *args])
    one_line_error(result, message)


def test_bptt_starts_from_random_weights_balanced_to_spike():
    """BPTT's random network gets thresholds balanced on its own activity (the rule the hard
    conversion chose), so every hidden layer spikes from the start and the network learns:
    the converted thresholds left it silent (chance accuracy at every epoch)."""
    from lava_thesis.data.shipped_mnist import load_shipped_mnist
    from lava_thesis.hybrid import HybridSNN, balance_thresholds
    from lava_thesis.hybrid.snn import poisson_input
    from lava_thesis.hybrid.stdb import intensities

    images = load_shipped_mnist("train")[0][:64]
    spec = HybridConfig().spec
    choice = {"percentile": 99.9, "scale": 0.85}
    torch.manual_seed(3)
    net = ab.random_start(spec, (1, 28, 28), images, 20, choice, seed=0)
    torch.manual_seed(3)
    again = ab.random_start(spec, (1, 28, 28), images, 20, choice, seed=0)
    assert torch.equal(net.layers[0].weight, again.layers[0].weight)  # from the torch seed
    assert (net.reset, net.surrogate) == ("hard", "stdb")
    same = HybridSNN(torch.nn.Sequential(*net.layers), [1.0] * len(net.thresholds),
                     reset="hard")
    expected = balance_thresholds(same, intensities(images), 20, percentile=99.9, scale=0.85,
                                  seed=0)
    assert net.thresholds.tolist() == pytest.approx(expected)
    spikes = poisson_input(intensities(images), 20, torch.Generator().manual_seed(1))
    record: list = []
    with torch.no_grad():
        net(spikes, record=record)
    counts = [float(r.sum()) for r in record]
    assert len(counts) == len(net.thresholds) - 1 and min(counts) > 0
