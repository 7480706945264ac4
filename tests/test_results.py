"""Tests for lava_thesis.results: the traceable per-experiment results file."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys

import numpy as np
import pytest

from lava_thesis import results
from lava_thesis.results import (
    current_command,
    git_commit,
    load_all,
    read_results,
    write_results,
)


def test_round_trip(tmp_path):
    path = write_results(
        tmp_path / "out",
        "stdp_mnist",
        dataset="MNIST",
        metrics={"test_accuracy": np.float32(0.5), "epochs": np.int64(3), "energy_uj": 1.5e-3},
        command="lava-thesis stdp --epochs 3",
        method="STDP",
        paper={"test_accuracy": 0.95, "note": "400 neurons"},
        config={"lr": np.float64(0.01), "shape": (28, 28), "w": np.zeros(2)},
        extra={"seed": 0},
    )
    assert path == tmp_path / "out" / "stdp_mnist.json"
    rec = read_results(path)
    assert rec["experiment"] == "stdp_mnist" and rec["method"] == "STDP"
    assert rec["command"] == "lava-thesis stdp --epochs 3"
    assert rec["metrics"] == {"test_accuracy": 0.5, "epochs": 3, "energy_uj": 1.5e-3}
    assert isinstance(rec["metrics"]["epochs"], int)
    assert rec["paper"] == {"test_accuracy": 0.95, "note": "400 neurons"}
    assert rec["config"] == {"lr": 0.01, "shape": [28, 28], "w": [0.0, 0.0]}
    assert rec["extra"] == {"seed": 0}
    when = dt.datetime.fromisoformat(rec["date"])
    assert when.utcoffset() == dt.timedelta(0)
    assert abs((dt.datetime.now(dt.timezone.utc) - when).total_seconds()) < 60
    assert list(tmp_path.joinpath("out").iterdir()) == [path]  # no temp files left


def test_defaults_fill_command_and_optional_keys(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["/opt/venv/bin/lava-thesis", "run", "a b"])
    rec = read_results(write_results(tmp_path, "e1", dataset="d", metrics={"loss": 1}))
    assert rec["command"] == "lava-thesis run 'a b'"
    assert rec["method"] is None and rec["paper"] == rec["config"] == rec["extra"] == {}


def test_current_command(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["lava-thesis"])
    assert current_command() == "lava-thesis"
    monkeypatch.setattr(sys, "argv", ["scripts/train.py", "--name", "it's"])
    assert current_command() == "scripts/train.py --name 'it'\"'\"'s'"


@pytest.mark.parametrize(
    ("metrics", "match"),
    [
        ({"acc": {"top1": 0.9}}, r"metrics\['acc'\] must be a number"),
        ({"loss": float("nan")}, r"metrics\['loss'\] must be finite"),
        ({"loss": float("inf")}, r"metrics\['loss'\] must be finite"),
        ({"ok": True}, r"metrics\['ok'\] must be a number"),
        ({"ok": np.bool_(True)}, r"metrics\['ok'\] must be a number"),
        ({"name": "x"}, r"metrics\['name'\] must be a number"),
        ({"test_accuracy": 97.5}, r"metrics\['test_accuracy'\].*fraction"),
        ({"ANN_SNN_Agreement": -0.1}, r"Agreement.*fraction"),
        ({}, r"'metrics' is empty"),
        ([("a", 1)], r"metrics must be a mapping"),
    ],
)
def test_metric_validation(tmp_path, metrics, match):
    with pytest.raises(ValueError, match=match):
        write_results(tmp_path, "e", dataset="d", metrics=metrics)
    assert not any(tmp_path.iterdir())


def test_other_validation(tmp_path):
    with pytest.raises(ValueError, match=r"paper\['test_accuracy'\].*fraction"):
        write_results(tmp_path, "e", dataset="d", metrics={"a": 1}, paper={"test_accuracy": 98})
    with pytest.raises(ValueError, match="experiment"):
        write_results(tmp_path, "../e", dataset="d", metrics={"a": 1})
    with pytest.raises(ValueError, match="dataset"):
        write_results(tmp_path, "e", dataset="", metrics={"a": 1})
    with pytest.raises(ValueError, match="'config' must be a mapping"):
        write_results(tmp_path, "e", dataset="d", metrics={"a": 1}, config=[1])


def test_failed_serialisation_leaves_no_file_and_keeps_old(tmp_path):
    with pytest.raises(ValueError, match="serialise"):
        write_results(tmp_path, "e", dataset="d", metrics={"a": 1}, config={"f": object()})
    assert not any(tmp_path.iterdir())
    good = write_results(tmp_path, "e", dataset="d", metrics={"a": 1})
    before = good.read_bytes()
    with pytest.raises(ValueError, match="serialise"):
        write_results(tmp_path, "e", dataset="d", metrics={"a": 2}, extra={"x": float("nan")})
    assert good.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["e.json"]


def test_read_results_errors_name_file(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match=r"bad\.json.*not valid JSON"):
        read_results(bad)
    partial = tmp_path / "partial.json"
    partial.write_text(json.dumps({"experiment": "partial", "metrics": {"a": 1}}))
    with pytest.raises(ValueError, match=r"partial\.json.*missing keys.*command"):
        read_results(partial)
    with pytest.raises(FileNotFoundError, match="nope.json"):
        read_results(tmp_path / "nope.json")


def test_load_all_sorted(tmp_path):
    for name in ["zeta", "alpha", "mid"]:
        write_results(tmp_path, name, dataset="d", metrics={"a": 1})
    (tmp_path / ".e.json.abc.tmp").write_text("junk")  # a stray temp file is ignored
    assert [r["experiment"] for r in load_all(tmp_path)] == ["alpha", "mid", "zeta"]
    with pytest.raises(NotADirectoryError):
        load_all(tmp_path / "missing")


def test_load_all_rejects_duplicate_experiments(tmp_path):
    write_results(tmp_path, "a", dataset="d", metrics={"a": 1})
    (tmp_path / "copy.json").write_text((tmp_path / "a.json").read_text())
    with pytest.raises(ValueError, match="more than one file"):
        load_all(tmp_path)


def test_commit_string_format():
    c = git_commit()
    assert c == "unknown" or re.fullmatch(r"[0-9a-f]{4,40}(-dirty)?", c)


def test_commit_outside_git_is_unknown(tmp_path):
    assert git_commit(tmp_path) == "unknown"


def test_commit_clean_and_dirty(tmp_path):
    def git(*args):
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    try:
        git("init", "-q")
        git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "x")
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("git not usable here")
    (tmp_path / "f.txt").write_text("1")
    assert re.fullmatch(r"[0-9a-f]{4,40}", git_commit(tmp_path))  # untracked: still clean
    git("add", "f.txt")
    assert re.fullmatch(r"[0-9a-f]{4,40}-dirty", git_commit(tmp_path / "f.txt"))


def test_changed_evidence_files_do_not_make_the_commit_dirty(repo):
    """A run's outputs (results files, models) are not code: the next run's commit stays clean,
    whichever directory git is asked from; a changed code file still makes it dirty."""
    def git(*args):
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=repo,
                       check=True, capture_output=True)

    for rel in ("results/a.json", "netx_models/m/m.net", "pkg/results/x.py"):
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text("0")
    git("add", "-A")
    git("commit", "-q", "-m", "evidence")
    (repo / "results" / "a.json").write_text("1")
    (repo / "netx_models" / "m" / "m.net").write_text("1")
    for where in (repo, repo / "pkg", repo / "results"):
        assert not git_commit(where).endswith("-dirty")
    write_results(repo / "results", "e", dataset="d", metrics={"a": 1})  # not refused
    (repo / "pkg" / "results" / "x.py").write_text("1")  # code, though named results
    assert git_commit(repo / "results").endswith("-dirty")


def test_commit_without_git_binary(monkeypatch):
    def boom(*a, **k):
        raise FileNotFoundError("git")

    monkeypatch.setattr(results.subprocess, "run", boom)
    assert git_commit() == "unknown"


def test_written_files_get_ordinary_permissions(tmp_path):
    import os
    import stat

    path = write_results(tmp_path, "perm", dataset="d", metrics={"x": 1.0})
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask


@pytest.fixture
def repo(tmp_path, monkeypatch):
    """A temporary git repository with a package directory and a committed file; the results
    module takes it as 'this package's' repository."""
    def git(*args):
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
                       cwd=tmp_path, check=True, capture_output=True)

    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "code.py").write_text("x = 1\n")
    try:
        git("init", "-q")
        git("add", "pkg")
        git("commit", "-q", "-m", "code")
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("git not usable here")
    monkeypatch.setattr(results, "_PACKAGE_DIR", tmp_path / "pkg")
    return tmp_path


def test_provenance_clean_tree_writes_into_results(repo):
    assert results.repository_results_dir() == repo.resolve() / "results"
    rec = read_results(write_results(repo / "results", "e", dataset="d", metrics={"a": 1}))
    assert "-dirty" not in rec["commit"] and rec["dirty"] is None
    assert "dirty" not in json.loads((repo / "results" / "e.json").read_text())
    # a clean tree, but the run started from a dirty one: refused too
    with pytest.raises(results.DirtyTreeError, match="the run started from abc-dirty"):
        write_results(repo / "results", "f", dataset="d", metrics={"a": 1}, commit="abc-dirty")


def test_provenance_dirty_tree_is_refused_for_results_only(repo):
    (repo / "pkg" / "code.py").write_text("x = 2\n")  # a tracked file differs from HEAD
    for where in (repo / "results", repo / "results" / "sub", repo / "pkg" / ".." / "results"):
        with pytest.raises(results.DirtyTreeError,
                           match=r"refusing.*uncommitted changes.*-dirty.*--allow-dirty"):
            write_results(where, "e", dataset="d", metrics={"a": 1})
    assert not (repo / "results").exists()
    path = write_results(repo / "results", "e", dataset="d", metrics={"a": 1},
                         allow_dirty=True)
    rec = read_results(path)
    assert rec["dirty"] is True and rec["commit"].endswith("-dirty")
    for elsewhere in (repo / "out", repo / "results_old"):  # other directories: as before
        rec = read_results(write_results(elsewhere, "e", dataset="d", metrics={"a": 1}))
        assert rec["commit"].endswith("-dirty") and rec["dirty"] is None


def test_provenance_outside_git_never_refuses(tmp_path, monkeypatch):
    monkeypatch.setattr(results, "_PACKAGE_DIR", tmp_path)
    assert results.repository_results_dir() is None
    assert results.check_provenance(tmp_path / "results", commit="abc-dirty") is False


def test_dirty_and_validation_fields_are_checked_on_read(tmp_path):
    path = write_results(tmp_path, "e", dataset="d", metrics={"a": 1},
                         validation={"fraction": 0.1, "seed": 0, "train": 9, "val": 1})
    rec = json.loads(path.read_text())
    assert rec["validation"] == {"fraction": 0.1, "seed": 0, "train": 9, "val": 1}
    for key, bad, match in [("dirty", "yes", "'dirty' must be true"),
                            ("validation", {"fraction": 2}, "'validation' lacks")]:
        path.write_text(json.dumps({**rec, key: bad}))
        with pytest.raises(ValueError, match=rf"e\.json: .*{match}"):
            read_results(path)


def test_elapsed_time_since_the_package_import_is_recorded(tmp_path, monkeypatch):
    import lava_thesis

    monkeypatch.setattr(lava_thesis, "STARTED", results.time.monotonic() - 12.34)
    path = write_results(tmp_path, "e", dataset="d", metrics={"a": 1})
    rec = json.loads(path.read_text())
    assert 12.3 <= rec["elapsed_s"] < 60
    for bad, match in [(-1, "must be >= 0"), ("1", "must be a number"), (True, "a number")]:
        path.write_text(json.dumps({**rec, "elapsed_s": bad}))
        with pytest.raises(ValueError, match=rf"e\.json: .*{match}"):
            read_results(path)
    path.write_text(json.dumps({k: v for k, v in rec.items() if k != "elapsed_s"}))
    assert read_results(path)["elapsed_s"] is None  # files written before it was recorded


def test_report_marks_dirty_rows_with_a_footnote(tmp_path):
    from lava_thesis.report import render_table
    from lava_thesis.report_compact import DIRTY_MARK, DIRTY_NOTE, render_compact

    write_results(tmp_path, "clean", dataset="d", metrics={"test_accuracy": 0.5}, method="m1")
    clean = load_all(tmp_path)
    assert DIRTY_MARK not in render_table(clean) + render_compact(clean)
    path = write_results(tmp_path, "dirty", dataset="d", metrics={"test_accuracy": 0.9},
                         method="m2")
    path.write_text(json.dumps({**json.loads(path.read_text()), "dirty": True}))
    records = load_all(tmp_path)
    for text in (render_table(records), render_compact(records)):
        assert f"| 90.00%{DIRTY_MARK} |" in text and "| 50.00% |" in text
        assert text.endswith(f"\n\n{DIRTY_NOTE}")


def test_report_marks_resumed_runs_with_a_footnote(tmp_path):
    from lava_thesis.report import render_table
    from lava_thesis.report_compact import RESUMED_MARK, RESUMED_NOTE, render_compact

    write_results(tmp_path, "plain", dataset="d", metrics={"test_accuracy": 0.5}, method="m1",
                  command="lava-thesis train stdp", config={"resumed": False})
    write_results(tmp_path, "flag", dataset="d", metrics={"test_accuracy": 0.7}, method="m2",
                  command="lava-thesis train hybrid --resume")
    write_results(tmp_path, "cfg", dataset="d", metrics={"test_accuracy": 0.9}, method="m3",
                  command="lava-thesis train stdp", config={"resumed": True})
    records = load_all(tmp_path)
    for text in (render_table(records), render_compact(records)):
        assert f"| 70.00%{RESUMED_MARK} |" in text and f"| 90.00%{RESUMED_MARK} |" in text
        assert "| 50.00% |" in text and text.endswith(f"\n\n{RESUMED_NOTE}")


def test_train_refuses_before_any_work_and_threads_allow_dirty(repo, data_root):
    from typer.testing import CliRunner

    from lava_thesis.cli import app

    (repo / "pkg" / "code.py").write_text("x = 2\n")
    args = ["train", "stdp", "--n-exc", "5", "--train-samples", "30", "--test-samples", "20",
            "--lava-samples", "0", "--data-dir", str(data_root), "--out", str(repo / "results")]
    refused = CliRunner().invoke(app, args)
    assert refused.exit_code == 2 and "--allow-dirty" in refused.output
    assert "epoch" not in refused.output and not (repo / "results").exists()
    done = CliRunner().invoke(app, [*args, "--allow-dirty"])
    assert done.exit_code == 0, done.output
    assert read_results(repo / "results" / "stdp_mnist_n5.json")["dirty"] is True
