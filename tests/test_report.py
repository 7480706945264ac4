"""Tests for lava_thesis.report: the README results table."""

from __future__ import annotations

import json

import pytest

from lava_thesis.report import (
    BEGIN,
    END,
    StaleReadmeError,
    format_value,
    render_table,
    report,
    update_readme,
)
from lava_thesis.results import load_all


def record(experiment: str, **kw) -> dict:
    base = {
        "experiment": experiment,
        "method": None,
        "command": f"lava-thesis {experiment}",
        "commit": "abc1234",
        "date": "2025-01-01T00:00:00+00:00",
        "dataset": "MNIST",
        "metrics": {"test_accuracy": 0.5},
        "paper": {},
        "config": {},
        "extra": {},
    }
    return {**base, **kw}


def write(dir_, rec: dict) -> None:
    (dir_ / f"{rec['experiment']}.json").write_text(json.dumps(rec))


@pytest.fixture
def two_results(tmp_path):
    d = tmp_path / "results"
    d.mkdir()
    write(
        d,
        record(
            "stdp_mnist",
            method="STDP (Diehl & Cook)",
            command="lava-thesis stdp --neurons 400",
            metrics={"test_accuracy": 0.9123, "epochs": 1, "energy_per_inference_j": 1.2345e-6},
            paper={"test_accuracy": 0.95, "latency_ms": "350"},
        ),
    )
    write(
        d,
        record(
            "diet_cifar10",
            method="DIET-SNN",
            dataset="CIFAR-10",
            command="lava-thesis diet --steps 5 --note 'a|b'",
            metrics={"test_accuracy": 0.8, "ann_snn_agreement": 0.97531},
        ),
    )
    return d


GOLDEN = """\
| Method | Experiment | Dataset | Metric | Ours | Paper | Command |
|---|---|---|---|---:|---:|---|
| DIET-SNN | diet_cifar10 | CIFAR-10 | test_accuracy | 80.00% | — | `lava-thesis diet --steps 5 --note 'a\\|b'` |
| DIET-SNN | diet_cifar10 | CIFAR-10 | ann_snn_agreement | 97.53% | — |  |
| STDP (Diehl & Cook) | stdp_mnist | MNIST | test_accuracy | 91.23% | 95.00% | `lava-thesis stdp --neurons 400` |
| STDP (Diehl & Cook) | stdp_mnist | MNIST | epochs | 1 | — |  |
| STDP (Diehl & Cook) | stdp_mnist | MNIST | energy_per_inference_j | 1.234e-06 | — |  |
| STDP (Diehl & Cook) | stdp_mnist | MNIST | latency_ms | — | 350 |  |"""  # noqa: E501


def test_render_table_golden(two_results):
    assert render_table(load_all(two_results)) == GOLDEN


def test_render_table_empty_and_missing_method():
    table = render_table([])
    lines = table.splitlines()
    assert len(lines) == 3 and "no results yet" in lines[2]
    assert lines[2].count("|") == lines[0].count("|")
    one = render_table([record("x", metrics={"loss": 0.25})])
    assert one.splitlines()[2] == "| — | x | MNIST | loss | 0.25 | — | `lava-thesis x` |"


def test_command_with_backticks():
    row = render_table([record("x", command="echo `date`")]).splitlines()[2]
    assert row.endswith("| `` echo `date` `` |")


def test_format_value():
    assert format_value("Top1_Accuracy", 1) == "100.00%"
    assert format_value("spikes", 1234567) == "1234567"
    assert format_value("loss", 0.000123456) == "0.0001235"
    assert format_value("note", "n/a") == "n/a"
    assert format_value("x", None) == "—"


README = "# Title\n\nIntro.\n\n{begin}\nold table\n{end}\n\nMore text.\n"


def test_update_readme_replaces_only_block(tmp_path):
    p = tmp_path / "README.md"
    p.write_text(README.format(begin=BEGIN, end=END))
    assert update_readme(p, "| a |\n") is True
    assert p.read_text() == README.format(begin=BEGIN, end=END).replace("old table", "| a |")
    mtime = p.stat().st_mtime_ns
    assert update_readme(p, "| a |") is False
    assert p.stat().st_mtime_ns == mtime
    assert [f.name for f in tmp_path.iterdir()] == ["README.md"]


def test_update_readme_keeps_crlf(tmp_path):
    p = tmp_path / "README.md"
    p.write_bytes(f"x\r\n{BEGIN}\r\nold\r\n{END}\r\ny\r\n".encode())
    update_readme(p, "l1\nl2")
    assert p.read_bytes() == f"x\r\n{BEGIN}\r\nl1\r\nl2\r\n{END}\r\ny\r\n".encode()


@pytest.mark.parametrize(
    ("text", "match"),
    [
        (f"no markers {END}", "results:begin"),
        (f"{BEGIN} only", "results:end"),
        (f"{BEGIN}\n{BEGIN}\n{END}", "exactly one.*found 2"),
        (f"{END}\n{BEGIN}", "comes before"),
    ],
)
def test_update_readme_marker_errors(tmp_path, text, match):
    p = tmp_path / "README.md"
    p.write_text(text)
    with pytest.raises(ValueError, match=match) as info:
        update_readme(p, "t")
    assert "README.md" in str(info.value)
    assert p.read_text() == text


def test_report_writes_then_check_passes(tmp_path, two_results):
    p = tmp_path / "README.md"
    p.write_text(README.format(begin=BEGIN, end=END))
    with pytest.raises(StaleReadmeError, match="README.md"):
        report(two_results, p, check=True)
    assert "old table" in p.read_text()  # check mode never writes
    assert report(two_results, p) is True
    assert GOLDEN in p.read_text()
    assert report(two_results, p, check=True) is False
    assert report(two_results, p) is False


def test_report_empty_results_dir(tmp_path):
    d = tmp_path / "results"
    d.mkdir()
    p = tmp_path / "README.md"
    p.write_text(README.format(begin=BEGIN, end=END))
    assert report(d, p) is True
    assert "no results yet" in p.read_text()


def test_report_missing_readme(tmp_path):
    with pytest.raises(FileNotFoundError, match="README"):
        report(tmp_path, tmp_path / "README.md")


def test_the_readme_table_matches_the_committed_results():
    from conftest import REPO

    assert report(REPO / "results", REPO / "README.md", check=True) is False


def test_headline_limits_the_rows_and_must_name_real_metrics(tmp_path):
    from lava_thesis.results import load_all, write_results

    write_results(tmp_path, "h", dataset="d", metrics={"acc_accuracy": 0.5, "noise": 3.0},
                  headline=["acc_accuracy"], command="lava-thesis x")
    table = render_table(load_all(tmp_path))
    assert "acc_accuracy" in table and "noise" not in table
    with pytest.raises(ValueError, match="headline"):
        write_results(tmp_path, "bad", dataset="d", metrics={"a": 1.0}, headline=["b"])
    assert not (tmp_path / "bad.json").exists()
