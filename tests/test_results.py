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
