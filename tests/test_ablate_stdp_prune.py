"""The STDP pruning ablation (by weight vs by pre/post correlation, at each pruned fraction,
and the pruning interval): every setting is trained per seed with the same data, the paired
differences are written, the interval study reuses the fraction study's network, and the
command line checks its options."""

from __future__ import annotations

import pytest
from conftest import one_line_error
from typer.testing import CliRunner

from lava_thesis.experiments import ablate_stdp_prune as ab
from lava_thesis.experiments.stdp import STDPConfig
from lava_thesis.protocol import Protocol
from lava_thesis.results import read_results


def test_settings_reuse_the_default_interval():
    cfg = ab.PruneAblationConfig(fractions=(0.5, 0.75), intervals=(100, 1000),
                                 stdp=STDPConfig(prune_interval=1000))
    assert [s[3] for s in ab.settings(cfg)] == [
        "weight_p50", "correlation_p50", "weight_p75", "correlation_p75",
        "weight_p75_i100", "correlation_p75_i100"]


def test_every_setting_is_trained_and_paired(tmp_path):
    from lava_thesis.data.shipped_mnist import load_shipped_mnist

    train, test = load_shipped_mnist("train"), load_shipped_mnist("test")
    cfg = ab.PruneAblationConfig(fractions=(0.5, 0.9), intervals=(20, 50),
                                 interval_fraction=0.5, stdp=STDPConfig(
                                     n_exc=8, train_samples=200, test_samples=40,
                                     assign_samples=200, val_samples=60, lava_samples=0,
                                     prune_interval=50))
    metrics = ab.run(train, (test[0][:40], test[1][:40]), tmp_path, dataset="mnist",
                     config=cfg, protocol=Protocol(seeds=(0, 1), val_fraction=0.2),
                     log=lambda line: None, allow_dirty=True)
    doc = read_results(tmp_path / "ablation_stdp_prune.json")
    per_seed = doc["extra"]["per_seed"]
    names = ["unpruned", "weight_p50", "correlation_p50", "weight_p90", "correlation_p90",
             "weight_p50_i20", "correlation_p50_i20"]
    for name in names:
        assert 0 <= metrics[f"deployed_accuracy_{name}"] <= 1
        assert len(per_seed[f"accuracy_{name}"]) == 2
    assert "deployed_accuracy_weight_p50_i50" not in metrics  # = weight_p50
    assert metrics["pruned_fraction_unpruned"] == 0
    assert metrics["pruned_fraction_correlation_p90"] == pytest.approx(0.9, abs=0.01)
    for seed in range(2):  # paired on the same seed
        assert per_seed["correlation_minus_weight_p90"][seed] == pytest.approx(
            per_seed["deployed_accuracy_correlation_p90"][seed]
            - per_seed["deployed_accuracy_weight_p90"][seed])
    # the two criteria prune different synapses: different networks
    assert per_seed["accuracy_weight_p90"] != per_seed["accuracy_correlation_p90"]
    assert doc["headline"][:2] == ["deployed_accuracy_unpruned", "deployed_accuracy_weight_p50"]
    assert doc["extra"]["claim"].startswith("pruning")
    assert (tmp_path / "ablation_stdp_prune.png").stat().st_size > 0


def test_config_refuses_bad_settings():
    with pytest.raises(ValueError, match="criteria must be among"):
        ab.PruneAblationConfig(criteria=("random",))
    with pytest.raises(ValueError, match="fractions in"):
        ab.PruneAblationConfig(fractions=(0.0,))
    with pytest.raises(ValueError, match="intervals"):
        ab.PruneAblationConfig(intervals=(0,))


@pytest.mark.parametrize(("args", "message"), [
    (["--fractions", "0.5,1"], "--fractions: each must be in (0, 1)"),
    (["--fractions", "half"], "--fractions: expected comma-separated floats"),
    (["--intervals", "0"], "--intervals: each must be >= 1"),
    (["--dataset", "cifar10"], "28x28"),
])
def test_cli_checks_its_options(args, message, tmp_path):
    from lava_thesis.cli import app

    result = CliRunner().invoke(app, ["ablate", "stdp-prune", "--out", str(tmp_path), *args])
    one_line_error(result, message)
