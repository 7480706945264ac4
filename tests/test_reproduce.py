"""Tests for lava_thesis.reproduce: the plan from the results files, its refusals, the tiny-size
mapping and one real quick run."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from lava_thesis.cli import app
from lava_thesis.reproduce import (
    TINY,
    ReproduceError,
    _program,
    plan,
    quick_argv,
    reproduce,
    require_clean,
)
from lava_thesis.results import write_results

TRAIN = "lava-thesis train stdp --n-exc 400 --out results --model-dir netx_models/stdp"


def _records(results: Path, commands: dict[str, tuple[str, str]]) -> Path:
    """Handmade results files: experiment -> (method, command)."""
    for experiment, (method, command) in commands.items():
        write_results(results, experiment, dataset="d", metrics={"a": 1.0}, method=method,
                      command=command)
    return results


@pytest.fixture
def results_dir(tmp_path):
    return _records(tmp_path / "results", {
        "stdp_n400": ("stdp", TRAIN),
        "stdp_n400_copy": ("stdp", TRAIN),  # the same command: run once
        "diet_mnist_lava": ("diet", "lava-thesis run-lava netx_models/diet/diet.net --direct "
                                    "--out results"),
        "diet_mnist": ("diet", "lava-thesis train diet --out results --model-dir "
                               "netx_models/diet"),
        "bench_x": ("diet", "make bench"),
    })


def test_plan_dedupes_and_orders_train_then_checks_then_make(results_dir):
    steps = plan(results_dir)
    assert [s.experiments for s in steps] == [
        ("diet_mnist",), ("stdp_n400", "stdp_n400_copy"), ("diet_mnist_lava",), ("bench_x",)]
    assert steps[1].argv == tuple(shlex.split(TRAIN)) and steps[1].command == TRAIN
    assert not any(s.skip for s in steps)
    assert [s.experiments for s in plan(results_dir, method="stdp")] == [
        ("stdp_n400", "stdp_n400_copy")]
    with pytest.raises(ReproduceError, match="--method 'nope'.*methods there: diet, stdp"):
        plan(results_dir, method="nope")
    dirty = plan(results_dir, allow_dirty=True)
    assert dirty[0].argv[-1] == "--allow-dirty" and dirty[-1].argv == ("make", "bench")


def test_dry_run_prints_the_plan_and_runs_nothing(results_dir):
    lines: list[str] = []
    steps = reproduce(results_dir, dry_run=True, log=lines.append)
    assert len(steps) == 4 and lines[0].endswith("4 command(s), full")
    assert lines[2] == f"  2. stdp_n400, stdp_n400_copy: {TRAIN}"
    assert not (results_dir.parent / "netx_models").exists()
    result = CliRunner().invoke(app, ["reproduce", "--dry-run", "--quick", "--results",
                                      str(results_dir)])
    assert result.exit_code == 0, result.output
    assert "quick (tiny sizes" in result.output and "(recorded: make bench)" not in result.output
    assert "bench_x: skipped: a `make` target" in result.output


@pytest.mark.parametrize(("command", "match"), [
    ("lava-thesis train hybrid --out results --resume", r"h\.json.*--resume.*no headline"),
    ("lava-thesis train hybrid --resume=true", "resumes from checkpoints"),
    ("python -c 'run()'", "not a `lava-thesis` or `make` command"),
    ("benchmarks/../x.py", "or a benchmarks/<name>.py script"),
    ("scripts/bench.py --n 1", "or a benchmarks/<name>.py script"),
    ("lava-thesis eval m.pt", "does not write a results file"),
    ("lava-thesis train 'unclosed", "cannot be parsed"),
])
def test_unreproducible_commands_are_refused(tmp_path, command, match):
    results = _records(tmp_path / "results", {"h": ("hybrid", command),
                                              "ok": ("stdp", TRAIN)})
    with pytest.raises(ReproduceError, match=match):
        plan(results)
    result = CliRunner().invoke(app, ["reproduce", "--dry-run", "--results", str(results)])
    assert result.exit_code == 2 and "cannot be reproduced" in result.output


def test_quick_mode_drops_resume_and_trains_two_seeds(tmp_path):
    results = _records(tmp_path / "results", {
        "h": ("hybrid", "lava-thesis train hybrid --out results --resume --seeds 3")})
    with pytest.raises(ReproduceError, match="resumes from checkpoints"):
        plan(results)  # full mode: a resumed run is no headline
    (step,) = plan(results, quick=True, scratch=tmp_path / "s")
    assert "--resume" not in step.argv
    assert step.argv[step.argv.index("--seeds") + 1] == "2" and step.argv.count("--seeds") == 1


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=cwd,
                   check=True, capture_output=True)


def test_full_run_refuses_a_dirty_tree(tmp_path):
    repo = tmp_path / "repo"
    results = _records(repo / "results", {"s": ("stdp", TRAIN)})
    (repo / "code.py").write_text("x = 1\n")
    try:
        _git(repo, "init", "-q")
        _git(repo, "add", "results", "code.py")
        _git(repo, "commit", "-q", "-m", "results")
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("git not usable here")
    (results / "s.json").write_text((results / "s.json").read_text() + " ")  # evidence: fine
    require_clean(repo)
    (repo / "code.py").write_text("x = 2\n")  # a tracked code edit
    with pytest.raises(ReproduceError, match="uncommitted changes.*--allow-dirty"):
        reproduce(results, log=lambda _: None)
    reproduce(results, dry_run=True, log=lambda _: None)  # a dry run only prints
    result = CliRunner().invoke(app, ["reproduce", "--results", str(results)])
    assert result.exit_code == 2 and "uncommitted changes" in result.output


REPRESENTATIVE = {
    "quickstart": "train quickstart --dataset mnist --out results --model-dir m/q --epochs 4",
    "diet": "train diet --epochs 5 --out results --model-dir m/d --rate-penalty 1",
    "hybrid": "train hybrid --epochs 2 --num-steps 25 --out results --lava-samples 200",
    "stdp": "train stdp --n-exc 400 --sweep --prune-fraction 0.75 --out results",
    "multimodal": "train multimodal --n-exc 400 --out results --model-dir m/mm",
    "lite:sentiment": "train lite --out results",
    "lite:length": "train lite --task length --out results",
    "lite:length-smnist": "train lite --task length-smnist --out results",
    "lite:events": "train lite --task events --out results --model-dir m/e",
    "lite:seq2seq": "train lite --task seq2seq --budget-cpu-s 300 --out results",
    "run-lava": "run-lava m/d/d.net --direct --samples 500 --torch-model m/d/d.pt --out results",
    "check-multimodal": "check-multimodal m/mm/mm_n400.h5 --pairs 300 --out results",
    "check-stdp": "check-stdp m/s/s_n400.h5 --samples 100 --out results",
    "energy": "energy m/d/d.pt --samples 500 --out results",
    "nir-interop": "nir-interop --out results",
    "ablate:diet": "ablate diet --dataset mnist --out results",
    "ablate:stdp-rule": "ablate stdp-rule --n-exc 400 --out results",
    "ablate:stdp-prune": "ablate stdp-prune --n-exc 400 --out results",
    "ablate:hybrid": "ablate hybrid --dataset mnist --out results",
    "ablate:diet-peer": "ablate diet-peer --dataset fashion-mnist --out results",
    "ablate:seq2seq": "ablate seq2seq --out results",
}


@pytest.mark.parametrize("kind", sorted(TINY))
def test_tiny_overrides_parse_with_the_real_cli(kind, tmp_path):
    assert set(REPRESENTATIVE) == set(TINY)
    renames = {"m/mm": {"400": "10"}, "m/s": {"400": "10"}}
    args = quick_argv(shlex.split(REPRESENTATIVE[kind]), tmp_path, renames)
    command = typer.main.get_command(app).commands[args[0]]
    ctx = command.make_context(args[0], list(args[1:]))  # every option exists and parses
    params = ctx.params
    assert Path(params["out"]) == tmp_path / "results"
    for name, value in TINY[kind].items():
        numeric = value.replace(".", "", 1).isdigit()
        assert str(params[name.lstrip("-").replace("-", "_")]) in (
            (value, f"{float(value)}") if numeric else (value,))
    if args[0] == "train":
        assert Path(params["model_dir"]).is_relative_to(tmp_path)
        assert params["resume"] is False and params["seeds"] == 2
        assert params.get("budget_cpu_s") is None  # a recorded CPU budget gives way to --epochs
    elif args[0] in ("nir-interop", "ablate"):  # no model file: they train their own
        assert params["seeds"] == 2
    else:
        model = Path(args[1])
        assert model.is_relative_to(tmp_path) and "n400" not in model.name


def test_quick_mode_renames_files_a_train_step_shrinks(tmp_path):
    results = _records(tmp_path / "results", {
        "mm": ("multimodal", "lava-thesis train multimodal --out results --model-dir m/mm"),
        "mm_lava": ("multimodal", "lava-thesis check-multimodal m/mm/mm_n400.h5 --out results"),
    })
    steps = plan(results, quick=True, scratch=tmp_path / "s")
    assert steps[0].argv[steps[0].argv.index("--n-exc") + 1] == "10"
    assert steps[1].argv[2] == str(tmp_path / "s" / "m" / "mm" / "mm_n10.h5")


def test_quick_mode_renames_the_files_of_every_size_sharing_a_model_dir(tmp_path):
    """Train steps of 400 and 1,600 neurons write into one model dir: a check of either
    finds the file its tiny train step wrote (not only the last step's size)."""
    results = _records(tmp_path / "results", {
        "stdp_mnist_n1600_corr_p50_l8": ("stdp", "lava-thesis train stdp --n-exc 1600 "
                                         "--prune-fraction 0.5 --out results --model-dir m/s"),
        "stdp_mnist_n400": ("stdp", "lava-thesis train stdp --out results --model-dir m/s"),
        "stdp_mnist_n1600_corr_p50_l8_lava": (
            "stdp", "lava-thesis check-stdp m/s/stdp_mnist_n1600_corr_p50_l8.h5 --out results"),
        "stdp_mnist_n400_lava": ("stdp", "lava-thesis check-stdp m/s/stdp_mnist_n400.h5 "
                                 "--out results"),
    })
    checks = [s.argv[2] for s in plan(results, quick=True, scratch=tmp_path / "s")
              if s.argv[1] == "check-stdp"]
    assert sorted(Path(c).name for c in checks) == ["stdp_mnist_n10.h5",
                                                    "stdp_mnist_n10_corr_p50_l8.h5"]


def test_real_quick_run_of_the_cheapest_pipeline(tmp_path, data_root, monkeypatch):
    monkeypatch.setenv("LAVA_THESIS_DATA", str(data_root))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.setenv("TQDM_DISABLE", "1")
    results = _records(tmp_path / "results", {"stdp_mnist_n400": ("stdp", TRAIN)})
    before = sorted(p.name for p in tmp_path.rglob("*"))
    lines: list[str] = []
    reproduce(results, quick=True, log=lines.append)
    assert lines[-1] == "reproduce: every step finished"
    assert lines[1].startswith("[1/1] stdp_mnist_n400: lava-thesis train stdp")
    assert sorted(p.name for p in tmp_path.rglob("*")) == before  # scratch only, removed


def test_the_shipped_results_files_plan_in_quick_mode(tmp_path):
    shipped = Path(__file__).resolve().parent.parent / "results"
    steps = plan(shipped, quick=True, scratch=tmp_path)  # what CI runs (.ci/run)
    commands = {step.argv[1] for step in steps if not step.skip}
    assert {"train", "nir-interop"} <= commands
    for step in steps:  # every step writes under scratch, never into the repository
        if not step.skip:
            assert step.argv[step.argv.index("--out") + 1] == str(tmp_path / "results")


def test_self_contained_commands_are_planned_not_refused(tmp_path):
    results = _records(tmp_path / "results", {
        "nir": ("diet", "lava-thesis nir-interop --dataset mnist --out results"),
        "abl": ("diet", "lava-thesis ablate diet --out results")})
    steps = plan(results, quick=True, scratch=tmp_path / "s")
    assert sorted(step.argv[1] for step in steps) == ["ablate", "nir-interop"]
    assert all(step.argv[step.argv.index("--out") + 1] == str(tmp_path / "s" / "results")
               for step in steps)


def test_benchmark_scripts_run_with_this_python_last_and_are_skipped_in_quick_mode(tmp_path):
    results = _records(tmp_path / "results", {
        "bench_lava": ("stdp", "benchmarks/stdp_lava_scale.py --samples 40"),
        "s": ("stdp", TRAIN)})
    steps = plan(results)
    assert [s.experiments for s in steps] == [("s",), ("bench_lava",)]
    assert steps[1].argv == ("benchmarks/stdp_lava_scale.py", "--samples", "40")
    assert not steps[1].skip
    assert _program(steps[1].argv[0]) == [sys.executable, "benchmarks/stdp_lava_scale.py"]
    quick = plan(results, quick=True, scratch=tmp_path / "s")
    assert quick[1].skip == "a benchmark script: no tiny size"
