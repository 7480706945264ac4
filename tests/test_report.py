"""Tests for lava_thesis.report and report_compact: the README and docs results tables."""

from __future__ import annotations

import json

import pytest

from lava_thesis.report import (
    BEGIN,
    CLAIMS_BEGIN,
    CLAIMS_END,
    END,
    TIMES_BEGIN,
    TIMES_END,
    StaleReadmeError,
    format_value,
    render_table,
    report,
    update_readme,
)
from lava_thesis.report_compact import HEADLINES, Headline, Ref, measured, render_compact
from lava_thesis.results import load_all, write_results


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


PAGE = "# Results\n\n{begin}\nold\n{end}\n\n## Claims\n\n{cb}\nold claims\n{ce}\n"


def docs_page(tmp_path):
    page = tmp_path / "docs" / "results.md"
    page.parent.mkdir()
    page.write_text(PAGE.format(begin=BEGIN, end=END, cb=CLAIMS_BEGIN, ce=CLAIMS_END))
    return page


def test_report_writes_then_check_passes(tmp_path, two_results):
    p = tmp_path / "README.md"
    p.write_text(README.format(begin=BEGIN, end=END))
    page = docs_page(tmp_path)
    with pytest.raises(StaleReadmeError, match="README.md"):
        report(two_results, p, check=True)
    assert "old table" in p.read_text()  # check mode never writes
    assert report(two_results, p) is True
    records = load_all(two_results)
    assert render_compact(records) in p.read_text()
    assert GOLDEN not in p.read_text()
    text = page.read_text()
    assert GOLDEN in text and "No ablation results exist yet" in text
    assert report(two_results, p, check=True) is False
    assert report(two_results, p) is False
    # a stale docs page alone fails the check, naming the page
    page.write_text(text.replace("91.23%", "91.24%"))
    with pytest.raises(StaleReadmeError, match="results.md"):
        report(two_results, p, check=True)


def test_report_renders_the_time_per_method_where_the_readme_asks(tmp_path):
    results = tmp_path / "results"
    results.mkdir()
    for name, seconds in (("a", 3000.0), ("b", 1000.0)):
        path = write_results(results, name, dataset="d", metrics={"x": 1.0}, method="stdp")
        rec = json.loads(path.read_text())
        path.write_text(json.dumps({**rec, "elapsed_s": seconds}))
    write_results(results, "old", dataset="d", metrics={"x": 1.0}, method="diet")
    rec = json.loads((results / "old.json").read_text())
    del rec["elapsed_s"]
    (results / "old.json").write_text(json.dumps(rec))
    readme = tmp_path / "README.md"
    readme.write_text(f"{BEGIN}\n{END}\n{TIMES_BEGIN}\nstale\n{TIMES_END}\n")
    report(results, readme)
    text = readme.read_text()
    assert "| stdp | 2 | 1 h 07 min | — |" in text and "| diet | 1 | — | old |" in text
    assert "stale" not in text
    readme.write_text(f"{BEGIN}\n{END}\n")  # no times markers: no times table
    report(results, readme)
    assert "Time recorded" not in readme.read_text()


def test_report_explicit_docs_page_and_its_markers(tmp_path, two_results):
    p = tmp_path / "README.md"
    p.write_text(README.format(begin=BEGIN, end=END))
    page = tmp_path / "elsewhere.md"
    page.write_text(f"{BEGIN}\n{END}\n")  # no claims markers
    with pytest.raises(ValueError, match="elsewhere.md.*claims:begin"):
        report(two_results, p, docs_page=page)
    assert page.read_text() == f"{BEGIN}\n{END}\n"
    assert "old table" in p.read_text()  # nothing half-written
    with pytest.raises(FileNotFoundError, match="docs results page"):
        report(two_results, p, docs_page=tmp_path / "absent.md")


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
    write_results(tmp_path, "h", dataset="d", metrics={"acc_accuracy": 0.5, "noise": 3.0},
                  headline=["acc_accuracy"], command="lava-thesis x")
    table = render_table(load_all(tmp_path))
    assert "acc_accuracy" in table and "noise" not in table
    with pytest.raises(ValueError, match="headline"):
        write_results(tmp_path, "bad", dataset="d", metrics={"a": 1.0}, headline=["b"])
    assert not (tmp_path / "bad.json").exists()


def test_the_docs_results_page_matches_the_committed_results():
    from conftest import REPO

    page = REPO / "docs" / "results.md"
    assert report(REPO / "results", REPO / "README.md", check=True, docs_page=page) is False
    text = page.read_text(encoding="utf-8")
    assert CLAIMS_BEGIN in text and CLAIMS_END in text


def rec_full(experiment, method, metrics, **kw):
    return {"experiment": experiment, "method": method, "headline": None, "metrics": metrics,
            "paper": {}, "extra": {}, "command": f"lava-thesis {experiment}", "dataset": "d",
            **kw}


def test_compact_table_one_row_per_method_with_baseline_paper_and_peer():
    spec = (Headline("diet", "DIET-SNN", "diet_x", "snn_accuracy",
                     baseline=Ref("ANN", "diet_x", "ann_accuracy"),
                     peers=(Ref("snnTorch s", "bench_x", "t_peer"),)),
            Headline("stdp", "STDP", "stdp_x", "accuracy"))
    records = [
        rec_full("bench_x", "diet", {"t_peer": 4.5}),
        rec_full("diet_x", "diet", {"snn_accuracy": 0.9, "ann_accuracy": 0.95, "other": 1.0},
                 paper={"snn_accuracy": "92.70% (CIFAR-10); 12x energy"}),
        rec_full("zz_new", "newmethod", {"score": 3.0}),
    ]
    lines = render_compact(records, spec).splitlines()
    assert len(lines) == 2 + 2  # header + DIET + the unlisted method; STDP has no file
    assert lines[2] == ("| DIET-SNN | diet_x: snn_accuracy | 90.00% | 1 | ANN: 95.00% | "
                        "92.70% (CIFAR-10) | snnTorch s: 4.5 |")
    assert lines[3] == "| newmethod | zz_new: score | 3 | 1 | — | — | — |"
    assert "no results yet" in render_compact([], spec)


def test_compact_table_falls_back_to_another_file_of_the_method_but_not_a_benchmark():
    spec = (Headline("quickstart", "QS", "quickstart_mnist", "lava_accuracy"),)
    bench = rec_full("bench_q", "quickstart", {"lava_accuracy": 0.1})
    demo = rec_full("demo", "quickstart", {"torch_accuracy": 0.7, "lava_accuracy": 0.875})
    row = render_compact([bench, demo], spec).splitlines()[2]
    assert row.startswith("| QS | demo: lava_accuracy | 87.50% | 1 |")
    other = rec_full("qs_other", "quickstart", {"loss": 0.5, "x": 1.0}, headline=["x"])
    assert "| qs_other: x | 1 | 1 |" in render_compact([other], spec)
    assert "no results yet" in render_compact([bench], spec)


@pytest.mark.parametrize(
    ("values", "text", "n"),
    [
        ([0.9], "90.00%", 1),
        ([0.9, 0.92, 0.94], "92.00 ± 2.00%", 3),
        ([0.5, 0.5], "50.00 ± 0.00%", 2),
    ],
)
def test_measured_mean_std_over_seeds(values, text, n):
    rec = {"metrics": {"test_accuracy": 0.0}, "extra": {"per_seed": {"test_accuracy": values}}}
    assert measured(rec, "test_accuracy") == (text, n)


def test_measured_non_fraction_and_errors():
    rec = {"experiment": "e", "metrics": {"energy_pj": 10}, "extra": {}}
    assert measured(rec, "energy_pj") == ("10", 1)
    rec["extra"]["per_seed"] = {"energy_pj": [1.0, 3.0]}
    assert measured(rec, "energy_pj") == ("2 ± 1.4", 2)
    for bad in ([], ["x"], [float("nan")], "0.5", [True]):
        rec["extra"]["per_seed"] = {"energy_pj": bad}
        with pytest.raises(ValueError, match="'e'.*per_seed.*energy_pj"):
            measured(rec, "energy_pj")


def test_full_table_shows_per_seed_values(tmp_path):
    write_results(tmp_path, "s", dataset="d", metrics={"test_accuracy": 0.91},
                  extra={"per_seed": {"test_accuracy": [0.9, 0.92]}}, command="c")
    row = render_table(load_all(tmp_path)).splitlines()[2]
    assert "| 91.00 ± 1.41% (n=2) |" in row


def test_claims_render_ablation_files(tmp_path):
    from lava_thesis.report_compact import render_claims

    write_results(tmp_path, "ablation_leak", dataset="mnist", command="lava-thesis x",
                  metrics={"test_accuracy": 0.5, "gap": 0.02})
    write_results(tmp_path, "diet_y", dataset="mnist", metrics={"test_accuracy": 0.7})
    text = render_claims(load_all(tmp_path))
    assert "ablation_leak" in text and "diet_y" not in text
    assert "| ablation_leak | mnist | test_accuracy | 50.00% | 1 | `lava-thesis x` |" in text
    assert "No ablation" not in text


def test_every_listed_headline_exists_in_the_committed_results():
    from conftest import REPO

    by_name = {r["experiment"]: r for r in load_all(REPO / "results")}
    for spec in HEADLINES:
        refs = [Ref("", spec.experiment, spec.metric), *spec.peers]
        refs += [spec.baseline] if spec.baseline else []
        for ref in refs:
            assert ref.metric in by_name[ref.experiment]["metrics"], ref
