"""Tests for lava_thesis.report_scale: STDP accuracy by network size beside Diehl & Cook."""

from __future__ import annotations

import json

import pytest

from lava_thesis.report import SCALE_PLOT, StaleReadmeError, report
from lava_thesis.report_scale import SCALE_BEGIN, SCALE_END, plot_stdp_scale, render_stdp_scale
from lava_thesis.stdp_reference import DIEHL_COOK


def stdp(experiment: str, epochs: int, per_seed: dict, **kw) -> dict:
    return {"experiment": experiment, "method": "stdp", "command": "lava-thesis train stdp",
            "commit": "abc1234", "date": "2025-01-01T00:00:00+00:00", "dataset": "mnist",
            "metrics": {k: sum(v) / len(v) for k, v in per_seed.items()}, "paper": {},
            "config": {"epochs": epochs}, "extra": {"per_seed": per_seed}, **kw}


def rows(table: str) -> dict[str, list[str]]:
    out = {}
    for line in table.splitlines()[2:]:
        if line.startswith("| "):
            cells = [c.strip() for c in line.strip("|").split("|")]
            out[cells[0]] = cells[1:]
    return out


def test_every_diehl_cook_size_has_a_row_with_their_number_and_passes():
    got = rows(render_stdp_scale([]))
    assert list(got) == ["100", "400", "1,600", "6,400"]
    for n, (accuracy, passes) in DIEHL_COOK.items():
        theirs, *ours = got[f"{n:,}"]
        assert theirs.startswith(f"{accuracy}% ({passes} pass")
        assert ours == ["not run"] * 3


def test_cells_come_from_the_right_file_and_metric():
    recs = [
        stdp("stdp_mnist_n1600", 7, {"accuracy": [0.91, 0.92, 0.93]}),
        # the pruned column prefers the deployed (integer) accuracy over the float one
        stdp("stdp_mnist_n1600_p50_l8", 7, {"accuracy": [0.5, 0.5, 0.5],
                                            "deployed_accuracy": [0.90, 0.90, 0.90]}),
        stdp("stdp_mnist_n1600_p75_l4", 7, {"accuracy": [0.80, 0.82]}, dirty=True),
        stdp("stdp_mnist_n800", 2, {"accuracy": [0.88]}),  # a size Diehl & Cook did not train
        stdp("stdp_mnist_n400_sweep", 1, {"accuracy": [0.1]}),  # not a size file
    ]
    got = rows(render_stdp_scale(recs))
    assert list(got) == ["100", "400", "800", "1,600", "6,400"]
    assert got["1,600"] == ["91.9% (7 passes)", "92.00 ± 1.00% (7 passes, n=3)",
                            "90.00 ± 0.00% (7 passes, by weight, n=3)",
                            "81.00 ± 1.41%† (7 passes, by weight, n=2)"]
    assert got["800"] == ["—", "88.00% (2 passes, n=1)", "not run", "not run"]
    assert got["400"][1:] == ["not run"] * 3


def test_a_pruned_column_prefers_pruning_by_correlation_and_says_which_it_shows():
    recs = [stdp("stdp_mnist_n1600_p50_l8", 7, {"deployed_accuracy": [0.80, 0.80, 0.80]}),
            stdp("stdp_mnist_n1600_corr_p50_l8", 7, {"deployed_accuracy": [0.91, 0.91, 0.91]}),
            stdp("stdp_mnist_n400_corr_p75_l4", 1, {"deployed_accuracy": [0.88, 0.88, 0.88]})]
    got = rows(render_stdp_scale(recs))
    assert got["1,600"][2:] == ["91.00 ± 0.00% (7 passes, by correlation, n=3)", "not run"]
    assert got["400"][1:] == ["not run", "not run",
                              "88.00 ± 0.00% (1 pass, by correlation, n=3)"]
    assert "--prune-by correlation" in render_stdp_scale(recs).splitlines()[-1]


def test_plot_is_written_only_when_an_stdp_size_file_exists(tmp_path):
    assert plot_stdp_scale([stdp("stdp_mnist_n400_sweep", 1, {"accuracy": [0.1]})],
                           tmp_path / "none.png") is None
    assert not (tmp_path / "none.png").exists()
    path = plot_stdp_scale([stdp("stdp_mnist_n400", 1, {"accuracy": [0.89, 0.9, 0.91]})],
                           tmp_path / "scale.png")
    assert path.read_bytes()[:4] == b"\x89PNG"


@pytest.fixture
def project(tmp_path):
    results = tmp_path / "results"
    results.mkdir()
    rec = stdp("stdp_mnist_n100", 1, {"accuracy": [0.82, 0.83, 0.84]})
    (results / "stdp_mnist_n100.json").write_text(json.dumps(rec))
    readme = tmp_path / "README.md"
    readme.write_text("# x\n\n<!-- results:begin -->\n<!-- results:end -->\n\n"
                      f"{SCALE_BEGIN}\n{SCALE_END}\n")
    return results, readme


def test_report_fills_the_scale_block_and_draws_its_plot(project):
    results, readme = project
    with pytest.raises(StaleReadmeError):
        report(results, readme, check=True, docs_page=None)
    assert not (results / SCALE_PLOT).exists()  # check mode writes nothing
    assert report(results, readme, docs_page=None)
    text = readme.read_text()
    assert "| 100 | 82.9% (1 pass) | 83.00 ± 1.00% (1 pass, n=3) | not run | not run |" in text
    assert (results / SCALE_PLOT).read_bytes()[:4] == b"\x89PNG"
    report(results, readme, check=True, docs_page=None)  # now current
