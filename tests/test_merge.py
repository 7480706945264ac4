"""``lava-thesis merge``: seed shards of one run joined into that run's results file. The STDP
shards (``--seed K --seeds 1 --val-seed 0``) train exactly the networks of the one run, and
shards that are not of one run are refused with one line naming the file."""

from __future__ import annotations

import copy
import json
from dataclasses import replace

import pytest
from conftest import marked_blobs
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from lava_thesis.cli import app
from lava_thesis.cli_merge import replot_merged
from lava_thesis.experiments import ablate_stdp_prune, stdp
from lava_thesis.experiments.stdp import STDPConfig
from lava_thesis.merge import MergeError, equivalent_command, merge_files, merge_records, plots_of
from lava_thesis.protocol import Protocol, summarize
from lava_thesis.results import read_results, write_results

TIMING = ("train_seconds", "train_samples_per_s", "eval_samples_per_s")
CMD = "lava-thesis train stdp --n-exc 10 --out results"


def test_stdp_shards_merge_into_the_file_of_the_one_run(tmp_path):
    cfg = stdp.STDPConfig(n_exc=10, assign_samples=300, prune_interval=100, lava_samples=0)
    train, test = marked_blobs(300), marked_blobs(50, 300)

    def run(seeds, val_seed, out):
        out.mkdir()
        stdp.run(train, test, out, dataset="tiny", experiment="s", log=lambda _: None,
                 config=cfg, protocol=Protocol(seeds, 0.2, val_seed))
        rec = read_results(out / "s.json")
        rec["commit"] = "abc1234"  # the test tree may be dirty; a shard's must be clean
        return rec

    whole = run((0, 1, 2), 0, tmp_path / "whole")
    shards = [run((0,), 0, tmp_path / "s0"), run((1,), 0, tmp_path / "s1"),
              run((2,), 0, tmp_path / "s2")]
    for rec, seed in zip(shards, (0, 1, 2), strict=True):
        rec["command"] = f"{CMD} --seed {seed} --seeds 1 --val-seed 0"
    merged = merge_records([shards[2], shards[0], shards[1]])  # any order

    assert merged["extra"]["seeds"] == whole["extra"]["seeds"] == [0, 1, 2]
    for key, values in whole["extra"]["per_seed"].items():
        if key not in TIMING:
            assert merged["extra"]["per_seed"][key] == values, key
    for key, value in whole["metrics"].items():
        if key not in TIMING:
            assert merged["metrics"][key] == pytest.approx(value, rel=1e-12), key
    assert merged["validation"] == whole["validation"]
    assert merged["config"] == whole["config"]
    assert merged["command"] == f"{CMD} --seed 0 --seeds 3"
    assert [s["seeds"] for s in merged["extra"]["shards"]] == [[0], [1], [2]]
    assert merged["elapsed_s"] == pytest.approx(sum(s["elapsed_s"] for s in shards), abs=0.11)
    # the merged record is a valid results file (means equal the per-seed values' means)
    path = write_results(tmp_path, "merged", dataset="tiny", metrics=merged["metrics"],
                         command=merged["command"], extra=merged["extra"],
                         commit=merged["commit"], elapsed_s=merged["elapsed_s"])
    assert read_results(path)["elapsed_s"] == merged["elapsed_s"]


def shard(seeds, values, *, command=None, **changes):
    """A results record of a seeded run with ``values`` (one accuracy per seed)."""
    rec = {"experiment": "x", "method": "stdp", "dataset": "MNIST", "commit": "abc1234",
           "date": "2026-12-04T00:00:00+00:00", "elapsed_s": 10.0, "paper": {},
           "command": command or f"{CMD} --seed {seeds[0]} --seeds {len(seeds)} --val-seed 0",
           "metrics": {"accuracy": summarize(values)["mean"], "lava_accuracy": 0.5},
           "config": {"n_exc": 10, "seed": seeds[0], "lava_samples": 5, "resumed": False,
                      "protocol": {"seeds": list(seeds), "val_fraction": 0.1, "val_seed": 0}},
           "extra": {"seeds": list(seeds), "per_seed": {"accuracy": list(values)},
                     "lava_check_seed": seeds[0]},
           "headline": ["accuracy"],
           "validation": {"fraction": 0.1, "seed": 0, "train": 90, "val": 10}}
    for key, value in changes.items():
        rec[key] = value
    return rec


def test_the_primary_shard_gives_what_is_not_per_seed_and_the_others_are_kept():
    a, b = shard([0], [0.9]), shard([1, 2], [0.8, 0.7])
    b["metrics"]["lava_accuracy"] = 0.25
    merged = merge_records([b, a], ["b.json", "a.json"])
    assert merged["metrics"]["accuracy"] == pytest.approx(0.8)
    assert merged["metrics"]["lava_accuracy"] == 0.5  # seed 0's, as the one run's
    assert merged["extra"]["lava_check_seed"] == 0
    assert merged["config"]["protocol"]["seeds"] == [0, 1, 2]
    assert merged["config"]["seed"] == 0
    other = merged["extra"]["shards"][1]
    assert other["source"] == "b.json" and other["metrics"] == {"lava_accuracy": 0.25}
    assert other["extra"] == {"lava_check_seed": 1}
    assert "metrics" not in merged["extra"]["shards"][0]


def _refusal(records, match):
    with pytest.raises(MergeError, match=match):
        merge_records(records, [f"s{i}.json" for i in range(len(records))])


def test_shards_of_different_runs_are_refused():
    a, b = shard([0], [0.9]), shard([1], [0.8])
    _refusal([a], "at least two shards")
    _refusal([a, shard([1], [0.8], commit="def5678")], "s1.json: its commit")
    _refusal([a, shard([1], [0.8], commit="abc1234-dirty")], "s1.json: made from commit")
    _refusal([a, shard([1], [0.8], dirty=True)], "marked dirty")
    _refusal([a, shard([0], [0.8])], r"seed\(s\) \[0\] appear in more than one shard")
    _refusal([a, shard([2], [0.8])], "not consecutive")
    _refusal([a, shard([1], [0.8], dataset="Fashion-MNIST")], "s1.json: its dataset")
    _refusal([a, shard([1], [0.8], validation={**b["validation"], "seed": 1})],
             "s1.json: its validation")
    _refusal([a, shard([1], [0.8], command=f"{CMD} --epochs 2 --seed 1 --seeds 1")],
             "s1.json: its command")
    _refusal([a, shard([1], [0.8], command=f"{CMD} --seed 1 --seeds 1 --resume")], "resumed")
    c = copy.deepcopy(b)
    c["config"]["n_exc"] = 20
    _refusal([a, c], "s1.json: its config")
    c = copy.deepcopy(b)
    c["config"]["stdp"] = {"seed": 1, "n_exc": 20}
    d = copy.deepcopy(a)
    d["config"]["stdp"] = {"seed": 0, "n_exc": 10}
    _refusal([d, c], "s1.json: its config")
    c["config"]["stdp"]["n_exc"] = 10  # a nested seed is the shards' own
    assert merge_records([d, c])["config"]["stdp"] == {"seed": 0, "n_exc": 10}
    c = copy.deepcopy(b)
    c["config"]["resumed"] = True
    _refusal([a, c], "s1.json: a resumed run")
    c = copy.deepcopy(b)
    del c["extra"]["per_seed"]
    _refusal([a, c], "s1.json: has no per-seed values")
    c = copy.deepcopy(b)
    c["extra"]["per_seed"]["other"] = [1.0]
    _refusal([a, c], "per-seed metrics")


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=2, max_size=7), st.data())
def test_any_split_of_seeds_into_shards_merges_to_the_same_values(values, data):
    cuts = sorted(data.draw(st.sets(st.integers(1, len(values) - 1), min_size=1)))
    bounds = [0, *cuts, len(values)]
    parts = [shard(list(range(lo, hi)), values[lo:hi])
             for lo, hi in zip(bounds, bounds[1:], strict=False)]
    merged = merge_records(data.draw(st.permutations(parts)))
    assert merged["extra"]["per_seed"]["accuracy"] == values
    assert merged["metrics"]["accuracy"] == summarize(values)["mean"]
    assert merged["command"] == f"{CMD} --seed 0 --seeds {len(values)}"
    assert merged["elapsed_s"] == 10.0 * len(parts)


def test_equivalent_command_keeps_a_split_seed_other_than_the_first_seed():
    assert equivalent_command(f"{CMD} --seed=4 --seeds 1 --val-seed=0", [3, 4], 0) \
        == f"{CMD} --seed 3 --seeds 2 --val-seed 0"


def test_cli_merges_and_refuses_with_one_line(tmp_path):
    runner = CliRunner()
    for name, rec in (("a", shard([0], [0.9])), ("b", shard([1], [0.7]))):
        (tmp_path / name).mkdir()
        (tmp_path / name / "x.json").write_text(json.dumps(rec))
    out = tmp_path / "out"
    res = runner.invoke(app, ["merge", str(tmp_path / "a/x.json"), str(tmp_path / "b/x.json"),
                              "--out", str(out)])
    assert res.exit_code == 0, res.output
    doc = read_results(out / "x.json")
    assert doc["extra"]["per_seed"]["accuracy"] == [0.9, 0.7] and doc["elapsed_s"] == 20.0
    res = runner.invoke(app, ["merge", str(tmp_path / "a/x.json"), str(tmp_path / "a/x.json"),
                              "--out", str(tmp_path / "out2")])
    assert res.exit_code == 2 and "appear in more than one shard" in res.output
    assert not (tmp_path / "out2" / "x.json").exists()
    res = runner.invoke(app, ["merge", str(tmp_path / "a/x.json"), str(tmp_path / "nope.json")])
    assert res.exit_code == 2 and "shard 2 not found" in res.output


def test_ablation_shards_merge_with_the_plot_redrawn_over_every_seed(tmp_path):
    from lava_thesis.data.shipped_mnist import load_shipped_mnist

    train, test = load_shipped_mnist("train"), load_shipped_mnist("test")
    cfg = ablate_stdp_prune.PruneAblationConfig(
        fractions=(0.5,), intervals=(20,), interval_fraction=0.5, stdp=STDPConfig(
            n_exc=8, train_samples=200, test_samples=40, assign_samples=200, val_samples=60,
            lava_samples=0, prune_interval=50))
    cmd = "lava-thesis ablate stdp-prune --n-exc 8 --out results"

    def run(seeds, name):
        out = tmp_path / name
        out.mkdir()
        ablate_stdp_prune.run(train, (test[0][:40], test[1][:40]), out, dataset="mnist",
                              config=replace(cfg, stdp=replace(cfg.stdp, seed=seeds[0])),
                              protocol=Protocol(seeds, 0.2, 0), log=lambda _: None,
                              allow_dirty=True)
        path = out / "ablation_stdp_prune.json"
        rec = json.loads(path.read_text())
        rec.update(commit="abc1234", command=f"{cmd} --seed {seeds[0]} --seeds {len(seeds)}")
        path.write_text(json.dumps(rec))  # as a clean commit's shard command would write
        return path

    whole = read_results(run((0, 1), "whole"))
    out = tmp_path / "merged"
    path = merge_files([run((1,), "s1"), run((0,), "s0")], out, replot=replot_merged)
    merged = read_results(path)
    assert merged["extra"]["per_seed"] == whole["extra"]["per_seed"]
    assert merged["config"] == whole["config"] and merged["command"] == f"{cmd} --seed 0 --seeds 2"
    assert (out / "ablation_stdp_prune.png").stat().st_size > 0  # redrawn from both seeds
    with pytest.raises(ValueError, match="pass replot"):  # checked before anything is written
        merge_files([tmp_path / "s1/ablation_stdp_prune.json",
                     tmp_path / "s0/ablation_stdp_prune.json"], tmp_path / "none")
    assert not (tmp_path / "none").exists()
    # the plot is drawn from the file alone: the same pixels as the one run's
    before = (tmp_path / "whole" / "ablation_stdp_prune.png").read_bytes()
    ablate_stdp_prune.replot(whole, tmp_path / "whole")
    assert (tmp_path / "whole" / "ablation_stdp_prune.png").read_bytes() == before


def test_merge_refuses_what_it_cannot_redraw():
    assert plots_of("lava-thesis ablate stdp-prune --seed 0") == "redraw"
    assert plots_of("lava-thesis ablate hybrid --seed 1 --seeds 1") == "redraw"
    assert plots_of("lava-thesis ablate diet-peer --seeds 1") == "none"
    for cmd in ("lava-thesis train diet --seeds 1", "lava-thesis train stdp --sweep",
                "lava-thesis ablate seq2seq"):
        with pytest.raises(MergeError, match="cannot redraw the plots"):
            plots_of(cmd)


def test_diet_ablation_shards_of_seeds_and_steps_merge_into_the_one_run(tmp_path):
    """``ablate diet`` may split its --steps list as well as its seeds: each T trains from the
    seed's own ANN and seed, so the parts give the one run's values."""
    from test_ablate_diet import SPEC, _data

    from lava_thesis.experiments import ablate_diet

    cfg = ablate_diet.DietAblationConfig(spec=SPEC, steps=(1, 3), ann_epochs=1,
                                         energy_samples=20, variants=("leak+threshold", "leak"),
                                         train=ablate_diet.TrainConfig(epochs=1, batch_size=16))
    cmd = "lava-thesis ablate diet --dataset mnist --out results"

    def run(seeds, steps, name):
        out = tmp_path / name
        out.mkdir()
        ablate_diet.run(_data(160, 1), _data(40, 2), out, dataset="toy", experiment="abl",
                        config=replace(cfg, steps=steps), protocol=Protocol(seeds, 0.2, 0),
                        log=lambda _: None)
        path = out / "abl.json"
        rec = json.loads(path.read_text())
        rec.update(commit="abc1234", command=f"{cmd} --steps {','.join(map(str, steps))} "
                                             f"--seed {seeds[0]} --seeds {len(seeds)}")
        path.write_text(json.dumps(rec))
        return path

    whole = read_results(run((0, 1), (1, 3), "whole"))
    shards = [run((1,), (3,), "b"), run((0, 1), (1,), "a"), run((0,), (3,), "c")]
    merged = read_results(merge_files(shards, tmp_path / "merged", replot=replot_merged))
    timing = [k for k in whole["extra"]["per_seed"] if k.startswith("train_seconds")]
    for key, values in whole["extra"]["per_seed"].items():
        if key not in timing:
            assert merged["extra"]["per_seed"][key] == values, key
    assert list(merged["extra"]["per_seed"]) == list(whole["extra"]["per_seed"])
    assert merged["headline"] == whole["headline"]
    assert merged["config"] == whole["config"]
    assert merged["command"] == f"{cmd} --seed 0 --seeds 2 --steps 1,3"
    assert len(merged["extra"]["shards"]) == 3
    assert (tmp_path / "merged" / "abl.png").stat().st_size > 0
    with pytest.raises(MergeError, match="needs the same seeds"):
        merge_records([read_results(p) for p in shards[1:]])  # T=3 only has seed 0
    with pytest.raises(MergeError, match="overlap"):
        merge_records([read_results(shards[1]), read_results(run((0, 1), (1, 3), "d"))])


def test_hybrid_ablation_seed_shards_merge_into_the_one_run(tmp_path):
    """Each seed of ``ablate hybrid`` trains its ANN, conversions and STDB networks from its
    own seed, so seed shards give the one run's values and its plot, pixel for pixel."""
    from lava_thesis.data.shipped_mnist import load_shipped_mnist
    from lava_thesis.experiments import ablate_hybrid
    from lava_thesis.experiments.hybrid import HybridConfig
    from lava_thesis.hybrid.stdb import STDBConfig

    train, test = load_shipped_mnist("train"), load_shipped_mnist("test")
    hybrid = HybridConfig(ann_epochs=1, num_steps=3, balance_steps=6, balance_images=16,
                          threshold_scales=(1.0,), percentiles=(None,), lava_samples=0,
                          eval_samples=None, stdb=STDBConfig(epochs=1), stdb_samples=60)
    cfg = ablate_hybrid.HybridAblationConfig(hybrid=hybrid, sweep_steps=(2, 6))
    cmd = "lava-thesis ablate hybrid --dataset mnist --out results"

    def run(seeds, name):
        out = tmp_path / name
        out.mkdir()
        ablate_hybrid.run((train[0][:150], train[1][:150]), (test[0][:20], test[1][:20]), out,
                          dataset="mnist", config=cfg, protocol=Protocol(seeds, 0.2, 0),
                          log=lambda _: None, allow_dirty=True)
        path = out / "ablation_hybrid.json"
        rec = json.loads(path.read_text())
        rec.update(commit="abc1234", command=f"{cmd} --seed {seeds[0]} --seeds {len(seeds)}")
        path.write_text(json.dumps(rec))
        return path

    whole = read_results(run((0, 1), "whole"))
    out = tmp_path / "merged"
    merged = read_results(merge_files([run((1,), "s1"), run((0,), "s0")], out,
                                      replot=replot_merged))
    assert merged["extra"]["per_seed"] == whole["extra"]["per_seed"]
    assert merged["metrics"] == pytest.approx(whole["metrics"])
    assert merged["config"] == whole["config"] and merged["headline"] == whole["headline"]
    assert merged["command"] == f"{cmd} --seed 0 --seeds 2"
    whole_png = (tmp_path / "whole" / "ablation_hybrid.png").read_bytes()
    assert (out / "ablation_hybrid.png").read_bytes() == whole_png
