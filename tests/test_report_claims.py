"""Tests for lava_thesis.report_claims: the README's claims table and its verdict guards."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from lava_thesis.cli import app
from lava_thesis.report import VERDICTS_BEGIN, VERDICTS_END, StaleReadmeError, report
from lava_thesis.report_claims import CLAIMS, Claim, Paired, render_claim_table, verdict_of
from lava_thesis.report_compact import Ref
from lava_thesis.results import load_all

ROOT = Path(__file__).resolve().parents[1]


def rec(name: str, commit: str = "abc1234", seeds=(0.90, 0.92, 0.94), **kw) -> dict:
    return {"experiment": name, "commit": commit, "command": f"lava-thesis {name}",
            "metrics": {"test_accuracy": sum(seeds) / len(seeds), "a_minus_b": -0.02},
            "extra": {"per_seed": {"test_accuracy": list(seeds),
                                   "a_minus_b": [-0.01, -0.02, -0.03]}},
            **kw}


CLAIM = Claim("Spikes are sparse.", "lava-thesis run", ("f",),
              numbers=(Ref("accuracy", "f", "test_accuracy"), Ref("paired", "f", "a_minus_b")),
              verdict="reproduced", why="It holds.", judged_on=(("f", "abc1234"),))


def test_a_judged_claim_shows_its_verdict_and_the_files_numbers():
    row = render_claim_table([rec("f")], [CLAIM]).splitlines()[2]
    assert "**reproduced**" in row
    assert "accuracy: 92.00 ± 2.00% (3)" in row
    assert "paired: -2.00 ± 1.00 points (3)" in row


def test_a_paired_number_is_the_per_seed_difference_of_two_metrics():
    r = rec("f")
    r["extra"]["per_seed"]["other_accuracy"] = [0.88, 0.91, 0.96]  # differences 2, 1, -2 points
    claim = Claim("c", "lava-thesis run", ("f",),
                  numbers=(Paired("gain", "f", "test_accuracy", "other_accuracy"),),
                  verdict="reproduced", why="It holds.", judged_on=(("f", "abc1234"),))
    row = render_claim_table([r], [claim]).splitlines()[2]
    assert "gain: 0.33 ± 2.08 points (3)" in row and "**reproduced**" in row
    r["extra"]["per_seed"]["other_accuracy"] = [0.88, 0.91]  # not paired seed by seed
    assert verdict_of(claim, {"f": r}) == "no verdict: a number has fewer than 3 seeds"


def test_a_regenerated_file_makes_the_verdict_stale():
    cell = verdict_of(CLAIM, {"f": rec("f", commit="fff0000")})
    assert cell == "stale: judged on f from abc1234, the file is now from fff0000"


@pytest.mark.parametrize("weak", [{"dirty": True}, {"config": {"resumed": True}}])
def test_a_dirty_or_resumed_file_gives_no_verdict(weak):
    assert verdict_of(CLAIM, {"f": rec("f", **weak)}).startswith("no verdict: f is not from")


def test_fewer_than_three_seeds_give_no_verdict():
    one = rec("f", seeds=(0.9,))
    one["extra"]["per_seed"].pop("a_minus_b")
    assert verdict_of(CLAIM, {"f": one}) == "no verdict: a number has fewer than 3 seeds"


def test_a_missing_file_leaves_the_claim_untested():
    assert verdict_of(CLAIM, {}) == "not yet tested (no results/f.json)"


def test_without_named_numbers_the_row_shows_the_files_headline():
    claim = Claim("c", "lava-thesis run", ("f",))
    row = render_claim_table([rec("f", headline=["test_accuracy"])], [claim]).splitlines()[2]
    assert "test_accuracy: 92.00 ± 2.00% (3)" in row and "| not yet tested |" in row


@pytest.mark.parametrize("kw, match", [
    ({"verdict": "plausible"}, "is not one of"),
    ({"why": "It holds by 3 points."}, "holds a digit"),
    ({"verdict": "reproduced", "judged_on": ()}, "judged_on"),
])
def test_a_malformed_claim_is_refused(kw, match):
    with pytest.raises(ValueError, match=match):
        Claim("c", "lava-thesis run", ("f",), **kw)


def test_report_renders_the_table_between_the_verdict_markers(tmp_path):
    from lava_thesis.report import BEGIN, END
    from lava_thesis.results import write_results
    results = tmp_path / "results"
    write_results(results, experiment="lite_events", method="lite",
                  dataset="events", metrics={"snn_minus_gru": -0.05},
                  command="lava-thesis train lite")
    readme = tmp_path / "README.md"
    readme.write_text(f"# T\n{BEGIN}\n{END}\n\n{VERDICTS_BEGIN}\nOLD ROW\n{VERDICTS_END}\n")
    with pytest.raises(StaleReadmeError):
        report(results, readme, check=True)
    assert report(results, readme)
    text = readme.read_text()
    assert "| 7 | LITE:" in text and "OLD ROW" not in text
    # one seed and another commit than the verdict read: the row says so
    assert "stale: judged on lite_sentiment" in text or "not yet tested (no results/lite_" in text
    report(results, readme, check=True)


def test_every_shipped_verdict_stands_on_the_shipped_results():
    """A regenerated file needs its claim judged again: this fails until someone does."""
    by_name = {r["experiment"]: r for r in load_all(ROOT / "results")}
    for claim in CLAIMS:
        if claim.verdict is not None:
            assert verdict_of(claim, by_name) == f"**{claim.verdict}**", claim.claim
    assert sum(c.verdict is not None for c in CLAIMS) >= 2


def _parse_error(words: list[str]) -> str | None:
    """What the CLI's parser says of ``lava-thesis <words>`` (None: it parses), run nothing."""
    import typer

    group = typer.main.get_command(app)
    command = group.commands.get(words[0])  # type: ignore[attr-defined]
    if command is None:
        return f"no command {words[0]!r}"
    try:
        command.make_context(words[0], words[1:])
    except Exception as err:  # noqa: BLE001 - typer's vendored click raises its own classes
        return str(err)
    return None


def test_every_claims_command_is_a_real_command():
    for claim in CLAIMS:
        for command in claim.command.split(";"):
            words = shlex.split(command)
            assert words[0] == "lava-thesis", command
            assert _parse_error(words[1:]) is None, command
    assert "not one of" in _parse_error(["ablate", "dit"])
    assert _parse_error(["train", "lite", "--tsk", "events"]) is not None
