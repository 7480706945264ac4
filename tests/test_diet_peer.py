"""Tests for lava_thesis.experiments.diet_peer: DIET-SNN against SpikingJelly PLIF, side by side."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from lava_thesis.cli import app
from lava_thesis.data.shipped_mnist import load_shipped_mnist
from lava_thesis.experiments.diet import DietConfig, TrainConfig
from lava_thesis.experiments.diet_peer import PeerConfig, PlifNet, plif_accuracy, run
from lava_thesis.protocol import Protocol

pytest.importorskip("spikingjelly.activation_based")  # a test-only peer (make install has it)

SPEC = ("c4k3s2", "f", "d16", "d10")


def _neurons(net: PlifNet) -> int:
    from spikingjelly.activation_based import neuron
    return sum(isinstance(m, neuron.ParametricLIFNode) for m in net.modules())


def test_plif_net_has_a_neuron_after_every_hidden_weight_layer():
    assert _neurons(PlifNet(SPEC, (1, 8, 8))) == 2  # integrator readout: none on the last
    assert _neurons(PlifNet(SPEC, (1, 8, 8), readout="spikes")) == 3
    with pytest.raises(ValueError, match="readout"):
        PlifNet(SPEC, (1, 8, 8), readout="voltage")


def test_integrator_readout_is_the_mean_of_the_last_layer_over_steps():
    """With the hidden layer silent (threshold out of reach) the score is the last layer of
    zeros; with one step, the mean over steps is that step's output."""
    torch.manual_seed(0)
    net = PlifNet(("f", "d6", "d3"), (1, 2, 2), v_threshold=1e9, batch_norm=False)
    x = torch.rand(5, 1, 2, 2, 4)
    assert torch.equal(net(x), torch.zeros(5, 3))
    low = PlifNet(("f", "d6", "d3"), (1, 2, 2), v_threshold=1e-6, init_tau=1.0 + 1e-6,
                  batch_norm=False)
    one = torch.ones(1, 1, 2, 2, 1)
    spikes = (low.body[1][0](one[..., 0].flatten(1)) >= 1e-6).float()  # Linear, then the threshold
    expected = low.body[3][0](spikes)
    torch.testing.assert_close(low(one), expected)


def test_states_reset_between_calls():
    torch.manual_seed(1)
    net = PlifNet(SPEC, (1, 8, 8), v_threshold=0.1)
    x = torch.rand(3, 1, 8, 8, 4)
    torch.testing.assert_close(net(x), net(x))


def test_plif_accuracy_counts_argmax_hits():
    class Fixed(PlifNet):
        def forward(self, x):
            return torch.nn.functional.one_hot(torch.tensor([0, 1, 1]), 10).float()

    net = Fixed(SPEC, (1, 8, 8))
    images = np.zeros((3, 8, 8), dtype=np.uint8)
    assert plif_accuracy(net, images, np.array([0, 1, 2]), 2) == pytest.approx(2 / 3)


CMD = "lava-thesis ablate diet-peer --dataset mnist --out results"


def _side_by_side(out, seeds: tuple[int, ...]) -> dict[str, float]:
    """A tiny side-by-side run of ``seeds`` (the split seeded with 0) into ``out``, its file's
    commit and command as a clean commit's shard command writes them."""
    x, y = load_shipped_mnist("train")
    xt, yt = load_shipped_mnist("test")
    cfg = PeerConfig(diet=replace(DietConfig(num_steps=2, lava_samples=3, ann_epochs=1,
                                             sweep_steps=(2,), energy_samples=20),
                                  train=TrainConfig(epochs=1)))
    out.mkdir(exist_ok=True)
    metrics = run((x[:1500], y[:1500]), (xt[:40], yt[:40]), out, dataset="mnist",
                  config=cfg, protocol=Protocol(seeds, 0.1, 0), log=lambda line: None,
                  allow_dirty=True)
    path = out / "ablation_diet_peer.json"
    rec = json.loads(path.read_text())
    rec.update(commit="abc1234", command=f"{CMD} --seed {seeds[0]} --seeds {len(seeds)}")
    path.write_text(json.dumps(rec))
    return metrics


@pytest.fixture(scope="module")
def two_seeds(tmp_path_factory):
    out = tmp_path_factory.mktemp("whole")
    return _side_by_side(out, (0, 1)), out


def test_side_by_side_run_writes_paired_per_seed_values(two_seeds):
    metrics, out = two_seeds
    rec = json.loads((out / "ablation_diet_peer.json").read_text())
    per_seed = rec["extra"]["per_seed"]
    assert rec["extra"]["seeds"] == [0, 1]
    diffs = np.subtract(per_seed["deployed_accuracy"], per_seed["plif_accuracy"])
    np.testing.assert_allclose(per_seed["deployed_minus_plif"], diffs)
    assert per_seed["plif_best_epoch"] and all(1 <= e <= 2 for e in per_seed["plif_best_epoch"])
    assert rec["config"]["plif_epochs"] == 2  # ANN epochs + DIET epochs
    assert per_seed["agreement"] == [1.0, 1.0]  # ours ran in Lava and agreed
    assert metrics["plif_accuracy"] > 0.2  # above chance after two short epochs
    assert rec["validation"]["val"] > 0


def test_seed_shards_merge_into_the_two_seed_run(two_seeds, tmp_path):
    """Each seed of both networks trains from its own seed and the shared split, so the
    shards ``--seed 0 --seeds 1`` and ``--seed 1 --seeds 1 --val-seed 0`` merge into the
    one run's values (timings aside) and command."""
    from lava_thesis.merge import merge_files
    from lava_thesis.results import read_results

    whole = read_results(two_seeds[1] / "ablation_diet_peer.json")
    _side_by_side(tmp_path / "s1", (1,))
    _side_by_side(tmp_path / "s0", (0,))
    merged = read_results(merge_files([tmp_path / "s1/ablation_diet_peer.json",
                                       tmp_path / "s0/ablation_diet_peer.json"],
                                      tmp_path / "merged"))
    timing = ("train_seconds", "plif_train_seconds")
    for key, values in whole["extra"]["per_seed"].items():
        if key not in timing:
            assert merged["extra"]["per_seed"][key] == values, key
    assert merged["command"] == f"{CMD} --seed 0 --seeds 2"
    assert merged["config"] == whole["config"]
    assert sorted(p.name for p in (tmp_path / "merged").iterdir()) == ["ablation_diet_peer.json"]


def test_cli_refuses_cifar_in_one_line(tmp_path):
    got = CliRunner().invoke(app, ["ablate", "diet-peer", "--dataset", "cifar10",
                                   "--out", str(tmp_path)])
    assert got.exit_code == 2
    assert "cifar10" in got.output and "Traceback" not in got.output
