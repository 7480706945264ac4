"""The STDP rule ablation (each weight dependence at each number of weight levels): every rule
and level count is trained per seed with the same data and settings, the per-seed values and
paired differences are written, and the command line checks its options."""

from __future__ import annotations

import pytest
from conftest import one_line_error
from typer.testing import CliRunner

from lava_thesis.experiments import ablate_stdp_rule as ab
from lava_thesis.experiments.stdp import STDPConfig
from lava_thesis.protocol import Protocol
from lava_thesis.results import read_results


def test_every_rule_and_level_count_is_trained_and_paired(tmp_path):
    from lava_thesis.data.shipped_mnist import load_shipped_mnist

    train, test = load_shipped_mnist("train"), load_shipped_mnist("test")
    cfg = ab.RuleAblationConfig(levels=(0, 4), stdp=STDPConfig(
        n_exc=8, train_samples=200, test_samples=40, assign_samples=200, val_samples=60,
        lava_samples=0))
    metrics = ab.run(train, (test[0][:40], test[1][:40]), tmp_path, dataset="mnist",
                     config=cfg, protocol=Protocol(seeds=(0, 1), val_fraction=0.2),
                     log=lambda line: None, allow_dirty=True)
    names = [ab.key(r, lv) for lv in (0, 4) for r in ("power-law", "soft-bound", "hard-bound")]
    assert names[0] == "power_law_l0" and names[-1] == "hard_bound_l4"
    doc = read_results(tmp_path / "ablation_stdp_rule.json")
    per_seed = doc["extra"]["per_seed"]
    for name in names:
        assert 0 <= metrics[f"deployed_accuracy_{name}"] <= 1
        assert len(per_seed[f"accuracy_{name}"]) == 2
    for seed in range(2):  # paired on the same seed
        diff = per_seed["power_law_minus_soft_bound_l4"][seed]
        assert diff == pytest.approx(per_seed["deployed_accuracy_power_law_l4"][seed]
                                     - per_seed["deployed_accuracy_soft_bound_l4"][seed])
    # the rules do train different networks
    assert len({per_seed[f"accuracy_{name}"][0] for name in names}) > 1
    assert doc["headline"][0] == "deployed_accuracy_power_law_l0"
    assert doc["extra"]["claim"].startswith("power-law") and (tmp_path /
                                                              "ablation_stdp_rule.png").is_file()


def test_config_refuses_unknown_rules_and_one_level():
    with pytest.raises(ValueError, match="rules must be among"):
        ab.RuleAblationConfig(rules=("oja",))
    with pytest.raises(ValueError, match="levels"):
        ab.RuleAblationConfig(levels=(1,))


@pytest.mark.parametrize(("args", "message"), [
    (["--levels", "0,1"], "--levels: each must be 0"),
    (["--levels", "x"], "--levels: expected comma-separated"),
    (["--rules", "oja"], "--rules: unknown oja"),
    (["--dataset", "cifar10"], "28x28"),
])
def test_cli_checks_its_options(args, message, tmp_path):
    from lava_thesis.cli import app

    result = CliRunner().invoke(app, ["ablate", "stdp-rule", "--out", str(tmp_path), *args])
    one_line_error(result, message)
