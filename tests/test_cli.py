"""The lava-thesis command line: errors are clear and exit with code 2."""

import json
from pathlib import Path

from typer.testing import CliRunner

from lava_thesis.cli import app

runner = CliRunner()


def test_lite_options_that_do_not_apply_are_rejected():
    result = runner.invoke(app, ["train", "lite", "--task", "seq2seq", "--epochs", "3",
                                 "--budget-cpu-s", "9"])
    assert result.exit_code == 2 and "not both" in result.output
    result = runner.invoke(app, ["train", "lite", "--task", "sentiment", "--budget-cpu-s", "9"])
    assert result.exit_code == 2 and "seq2seq only" in result.output


def test_beam_is_checked_and_applies_to_lite_seq2seq_only():
    result = runner.invoke(app, ["train", "lite", "--task", "seq2seq", "--beam", "0"])
    assert result.exit_code == 2 and "--beam" in result.output
    result = runner.invoke(app, ["train", "lite", "--task", "sentiment", "--beam", "3"])
    assert result.exit_code == 2 and "--beam applies to lite --task seq2seq only" in result.output
    result = runner.invoke(app, ["train", "diet", "--beam", "5"])
    assert result.exit_code == 2 and "seq2seq only" in result.output


def test_unknown_method_is_rejected():
    result = runner.invoke(app, ["train", "backprop"])
    assert result.exit_code != 0


def test_missing_model_names_the_file(tmp_path):
    result = runner.invoke(app, ["eval", str(tmp_path / "nope.pt")])
    assert result.exit_code == 2 and "nope.pt" in result.output
    result = runner.invoke(app, ["run-lava", str(tmp_path / "nope.net")])
    assert result.exit_code == 2 and "nope.net" in result.output


def test_missing_data_dir_is_reported(tmp_path):
    result = runner.invoke(app, ["train", "quickstart", "--data-dir", str(tmp_path / "absent")])
    assert result.exit_code == 2 and "absent" in result.output


def test_report_updates_the_readme(tmp_path):
    results = tmp_path / "results"
    results.mkdir()
    (results / "demo.json").write_text(json.dumps({
        "experiment": "demo", "method": "quickstart", "command": "lava-thesis demo",
        "commit": "abc1234", "date": "2026-11-25T00:00:00+00:00", "dataset": "MNIST",
        "metrics": {"lava_accuracy": 0.875}}))
    readme = tmp_path / "README.md"
    readme.write_text("# x\n<!-- results:begin -->\n<!-- results:end -->\n")
    result = runner.invoke(app, ["report", "--results", str(results), "--readme", str(readme)])
    assert result.exit_code == 0, result.output
    assert "87.50" in readme.read_text()
    result = runner.invoke(app, ["report", "--results", str(results), "--readme", str(readme),
                                 "--check"])
    assert result.exit_code == 0 and "current" in result.output


def test_bad_diet_spec_is_reported(data_root):
    result = runner.invoke(app, ["train", "diet", "--data-dir", str(data_root), "--spec",
                                 "c8k3s2,d10"])
    assert result.exit_code == 2 and "--spec" in result.output and "flatten" in result.output


def test_cifar_is_only_wired_for_diet():  # checked before any data is read
    result = runner.invoke(app, ["train", "quickstart", "--dataset", "cifar10"])
    assert result.exit_code == 2 and "diet" in result.output


def test_train_stdp_small_run_writes_results_and_model(data_root, tmp_path):
    result = runner.invoke(app, [
        "train", "stdp", "--data-dir", str(data_root), "--n-exc", "20", "--train-samples",
        "300", "--test-samples", "100", "--lava-samples", "3", "--prune-fraction", "0.5",
        "--levels", "4", "--seeds", "2", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    record = json.loads((tmp_path / "stdp_mnist_n20_p50_l4.json").read_text())
    metrics = record["metrics"]
    assert record["extra"]["seeds"] == [0, 1] and len(record["extra"]["per_seed"]["accuracy"]) == 2
    assert record["validation"]["train"] + record["validation"]["val"] == 60000
    assert metrics["val_samples"] == 300  # capped like the labelling images
    assert metrics["pruned_fraction"] == 0.5 and metrics["bits_per_weight"] == 2
    assert metrics["agreement"] == 1.0 and 0.0 <= metrics["accuracy"] <= 1.0
    assert (tmp_path / "stdp_mnist_n20_p50_l4.h5").is_file()
    assert (tmp_path / "stdp_mnist_n20_p50_l4_receptive_fields.png").is_file()


def test_val_seed_keeps_the_split_of_another_first_seed(data_root, tmp_path):
    """A shard (--seed 1 --seeds 1 --val-seed 0) trains seed 1 against seed 0's split."""
    result = runner.invoke(app, [
        "train", "stdp", "--data-dir", str(data_root), "--n-exc", "10", "--train-samples",
        "200", "--test-samples", "50", "--lava-samples", "0", "--seed", "1", "--seeds", "1",
        "--val-seed", "0", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    record = json.loads((tmp_path / "stdp_mnist_n10.json").read_text())
    assert record["validation"]["seed"] == 0 and record["extra"]["seeds"] == [1]
    assert record["config"]["protocol"] == {"seeds": [1], "val_fraction": 0.1, "val_seed": 0}


def test_stdp_rejects_one_level(tmp_path):  # checked before any data is read
    result = runner.invoke(app, ["train", "stdp", "--data-dir", str(tmp_path / "absent"),
                                 "--levels", "1"])
    assert result.exit_code == 2 and "--levels" in result.stderr


def test_hybrid_rejects_unknown_reset(tmp_path):  # a choice: checked before any data is read
    result = runner.invoke(app, ["train", "hybrid", "--data-dir", str(tmp_path / "absent"),
                                 "--reset", "subtract"])
    assert result.exit_code == 2 and "--reset" in result.stderr


def test_check_multimodal_names_a_missing_or_wrong_model(tmp_path):
    result = runner.invoke(app, ["check-multimodal", str(tmp_path / "absent.h5")])
    assert result.exit_code == 2 and "absent.h5" in result.output


def test_run_lava_in_floating_point_reports_agreement_with_the_torch_model(data_root, tmp_path):
    from conftest import REPO

    model = REPO / "netx_models" / "diet_mnist" / "diet_mnist"
    result = runner.invoke(app, [
        "run-lava", str(model.with_suffix(".net")), "--data-dir", str(data_root), "--direct",
        "--readout", "integrator", "--tag", "floating_pt", "--samples", "6",
        "--torch-model", str(model.with_suffix(".pt")), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "Lava floating_pt accuracy" in result.output
    assert "agreement with diet_mnist.pt: 1.0000" in result.output
    record = json.loads((tmp_path / "diet_mnist_lava_floating_pt.json").read_text())
    assert record["metrics"]["agreement"] == 1.0 and record["metrics"]["lava_samples"] == 6
    assert record["config"]["tag"] == "floating_pt"
    result = runner.invoke(app, ["run-lava", str(model.with_suffix(".net")), "--data-dir",
                                 str(data_root), "--direct", "--tag", "float", "--samples", "1"])
    assert result.exit_code == 2 and "'float' is not one of" in result.output


def _tiny_stdp_model(out: Path) -> Path:
    """A 10-neuron STDP model trained on 200 marked blobs, saved as MNIST's (its card)."""
    from conftest import marked_blobs

    from lava_thesis.experiments import stdp

    cfg = stdp.STDPConfig(n_exc=10, assign_samples=150, lava_samples=0, val_fraction=0.2)
    stdp.run(marked_blobs(200), marked_blobs(20, 200), out, dataset="mnist", config=cfg,
             experiment="tiny", log=lambda _: None, allow_dirty=True)
    return out / "tiny.h5"


def test_check_stdp_refuses_a_model_of_another_data_set(tmp_path):
    model = _tiny_stdp_model(tmp_path)
    result = runner.invoke(app, ["check-stdp", str(model), "--dataset", "fashion-mnist",
                                 "--data-dir", str(tmp_path), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "trained on mnist, not --dataset fashion-mnist" in \
        result.output
    assert not (tmp_path / "o").exists()


def test_check_stdp_runs_a_saved_model_in_lava_on_real_images(data_root, tmp_path):
    model = _tiny_stdp_model(tmp_path)
    result = runner.invoke(app, ["check-stdp", str(model), "--data-dir", str(data_root),
                                 "--samples", "3", "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    doc = json.loads((tmp_path / "o" / "tiny_lava.json").read_text())
    assert doc["metrics"]["lava_samples"] == 3 and doc["config"]["tag"] == "fixed_pt"
    assert doc["metrics"]["agreement"] == 1.0 and doc["metrics"]["spike_count_match"] == 1.0
