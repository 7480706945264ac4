"""The DIET ablation (learned leak / threshold switched off, retrained at each T): frozen
parameters stay put, every variant and T gets the same start, per-seed values and paired
differences are written, and the command line checks its options."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import one_line_error
from typer.testing import CliRunner

from lava_thesis.diet.ann import build_ann
from lava_thesis.experiments import ablate_diet as ab
from lava_thesis.protocol import Protocol
from lava_thesis.results import read_results

SPEC = ("c4k3s2", "f", "d16", "d3")


def _data(n: int, seed: int):
    """Three classes of 10x10 images: a bright band at the top, middle or bottom."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, n)
    images = rng.integers(0, 50, (n, 10, 10)).astype(np.uint8)
    for i, y in enumerate(labels):
        images[i, 3 * y:3 * y + 3] += 200
    return images, labels


@pytest.mark.parametrize("variant", list(ab.VARIANTS))
def test_frozen_parameters_do_not_move(variant):
    from lava_thesis.diet.train import TrainConfig, train_snn

    x, y = _data(48, 0)
    torch.manual_seed(0)
    ann = build_ann(SPEC, (1, 10, 10))
    net = ab.ablated_net(variant, SPEC, (1, 10, 10), "integrator", ann, [0.3, 0.5, 1.0])
    leaks0, thetas0 = net.leaks(), net.thresholds()
    assert leaks0[:2] == [1.0, 1.0]  # every variant starts without leak
    train_snn(net, x, y, 3, TrainConfig(epochs=2, batch_size=8))
    learn_leak, learn_threshold = ab.VARIANTS[variant]
    assert (net.leaks()[:2] != leaks0[:2]) == learn_leak
    assert (net.thresholds() != thetas0) == learn_threshold


def test_tiny_run_writes_every_variant_and_t(tmp_path):
    cfg = ab.DietAblationConfig(spec=SPEC, steps=(1, 3), ann_epochs=1, energy_samples=20,
                                train=ab.TrainConfig(epochs=1, batch_size=16),
                                variants=tuple(ab.VARIANTS))
    lines: list[str] = []
    metrics = ab.run(_data(160, 1), _data(40, 2), tmp_path, dataset="toy", config=cfg,
                     experiment="abl", log=lines.append, protocol=Protocol((0, 1), 0.2))
    record = read_results(tmp_path / "abl.json")
    per = record["extra"]["per_seed"]
    for t in (1, 3):
        for variant in ab.VARIANTS:
            name = f"{ab.key(variant)}_T{t}"
            assert len(per[f"deployed_accuracy_{name}"]) == 2
            assert any(k.startswith("spike_rate_") and k.endswith(name) for k in metrics)
        for variant in ("threshold", "leak", "neither", "poisson"):
            diffs = per[f"learned_minus_{variant}_T{t}"]
            expect = np.subtract(per[f"deployed_accuracy_learned_T{t}"],
                                 per[f"deployed_accuracy_{variant}_T{t}"])
            np.testing.assert_allclose(diffs, expect)
    assert record["headline"][0] == "deployed_accuracy_learned_T1"
    assert record["validation"]["val"] == 32 and (tmp_path / "abl.png").is_file()
    assert metrics["leak_layer1_threshold_T1"] == 1.0  # leak fixed at 1.0 in that variant
    assert sum("deployed accuracy" in line for line in lines) == 20  # 2 seeds x 2 T x 5
    assert record["extra"]["variants"]["poisson"]["input"] == "poisson"
    # rate-coded input: the first layer is charged synaptic operations, no analog MACs
    assert per["energy_ratio_poisson_T3"] != per["energy_ratio_learned_T3"]


def test_rate_input_draws_bernoulli_spikes_of_rate_p_over_255():
    from lava_thesis.diet.train import rate_input

    pixels = torch.tensor([0, 51, 255], dtype=torch.uint8).reshape(1, 1, 1, 3)
    x = rate_input(pixels, 4000, 2, torch.Generator().manual_seed(0))
    assert x.shape == (1, 1, 1, 3, 4002) and set(x.unique().tolist()) <= {0.0, 1.0}
    assert not x[..., -2:].any() and not x[0, 0, 0, 0].any() and x[0, 0, 0, 2, :4000].all()
    assert abs(float(x[0, 0, 0, 1, :4000].mean()) - 0.2) < 0.02
    again = rate_input(pixels, 4000, 2, torch.Generator().manual_seed(0))
    assert torch.equal(x, again)


@pytest.mark.parametrize(("args", "names"), [
    (["--steps", "0,2"], ["--steps", ">= 1"]),
    (["--steps", "1;2"], ["--steps", "comma-separated"]),
    (["--variants", "leak,both"], ["--variants", "both"]),
    (["--dataset", "cifar10"], ["cifar10"]),
    (["--device", "tpu"], ["--device", "tpu"]),
])
def test_cli_checks_its_options(tmp_path, args, names):
    from lava_thesis.cli import app

    result = CliRunner().invoke(app, ["ablate", "diet", *args, "--out", str(tmp_path / "o")])
    one_line_error(result, *names)


def test_cli_trains_the_snns_on_the_device_asked_for(tmp_path, monkeypatch):
    from lava_thesis import cli_ablate
    from lava_thesis.cli import app

    seen = {}
    images = (np.zeros((20, 28, 28), np.uint8), np.arange(20) % 10)
    monkeypatch.setattr(cli_ablate, "load_train_test", lambda *a: (images, images))
    monkeypatch.setattr(ab, "run", lambda *a, config, **k: seen.update(config=config) or {})
    result = CliRunner().invoke(app, ["ablate", "diet", "--device", "cpu", "--out",
                                      str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    assert seen["config"].train.device == "cpu"
    for method in ("hybrid", "stdp-rule"):  # the other ablations train on the CPU only
        result = CliRunner().invoke(app, ["ablate", method, "--device", "cuda", "--out",
                                          str(tmp_path / "o")])
        one_line_error(result, "--device applies to ablate diet only")


def test_cli_spec_picks_the_network_and_names_the_results(tmp_path, monkeypatch):
    from lava_thesis import cli_ablate
    from lava_thesis.cli import app
    from lava_thesis.experiments.diet import TINY_SPEC

    seen = {}
    images = (np.zeros((20, 28, 28), np.uint8), np.arange(20) % 10)
    monkeypatch.setattr(cli_ablate, "load_train_test", lambda *a: (images, images))
    monkeypatch.setattr(ab, "run", lambda *a, config, experiment, **k:
                        seen.update(config=config, experiment=experiment) or {})
    for spec, layers, name in ((None, ab.DEFAULT_SPEC, "ablation_diet_mnist"),
                               ("tiny", TINY_SPEC, "ablation_diet_mnist_tiny"),
                               ("c4k3s2,f,d10", ("c4k3s2", "f", "d10"),
                                "ablation_diet_mnist_custom")):
        args = [] if spec is None else ["--spec", spec]
        result = CliRunner().invoke(app, ["ablate", "diet", *args, "--out", str(tmp_path)])
        assert result.exit_code == 0, result.output
        assert seen["config"].spec == layers and seen["experiment"] == name
    result = CliRunner().invoke(app, ["ablate", "diet", "--spec", "c4k3s2,f,q9", "--out",
                                      str(tmp_path)])
    one_line_error(result, "--spec", "q9")
    result = CliRunner().invoke(app, ["ablate", "hybrid", "--spec", "tiny", "--out",
                                      str(tmp_path)])
    one_line_error(result, "--spec applies to ablate diet only")


def test_config_refuses_unknown_variants_and_steps():
    with pytest.raises(ValueError, match="variants"):
        ab.DietAblationConfig(variants=("all",))
    with pytest.raises(ValueError, match="steps"):
        ab.DietAblationConfig(steps=(0,))
