"""The README's compact results table and the docs' claims section, rendered from results files.

The README shows one row per method: its headline metric, the value we measured (mean ± std
over seeds when the file holds per-seed values, else the single value with n = 1), a baseline
measured in our own results files, the paper's number and a peer library's number where a
results file holds one. The full table (every metric) lives on the docs' results page
(:func:`lava_thesis.report.render_table`).

Per-seed values are read from a results file's ``extra["per_seed"]``, a mapping from metric
name to the list of that metric's per-seed values; the mean and the sample standard deviation
(``ddof = 1``) are shown with the count, e.g. ``98.50 ± 0.20% (n=3)`` in words: three seeds.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "CLAIMS_PREFIX",
    "COMPACT_COLUMNS",
    "DIRTY_MARK",
    "DIRTY_NOTE",
    "HEADLINES",
    "Headline",
    "Ref",
    "dirty_mark",
    "measured",
    "render_claims",
    "render_compact",
    "render_times",
    "with_dirty_note",
]

COMPACT_COLUMNS = ("Method", "Headline (file: metric)", "Ours", "n", "Baseline (ours)",
                   "Paper", "Peer")
CLAIMS_PREFIX = "ablation_"
MISSING = "—"
#: marks a value from a results file written from a dirty tree (``"dirty": true``)
DIRTY_MARK = "†"
DIRTY_NOTE = (f"{DIRTY_MARK} written from a working tree with uncommitted changes "
              "(`--allow-dirty`): its commit does not pin the code that produced it.")


#: marks a value from a run that resumed from checkpoints (``config.resumed`` or ``--resume``)
RESUMED_MARK = "‡"
RESUMED_NOTE = (f"{RESUMED_MARK} resumed from checkpoints (`--resume`): not one plain run; "
                "regenerate it before quoting it as a headline.")


def _resumed(rec: Mapping[str, Any]) -> bool:
    config = rec.get("config") or {}
    command = str(rec.get("command") or "").split()
    return config.get("resumed") is True or any(a == "--resume" or a.startswith("--resume=")
                                                for a in command)


def dirty_mark(rec: Mapping[str, Any]) -> str:
    """The marks of a results file that is weaker evidence: :data:`DIRTY_MARK` when written with
    ``--allow-dirty``, :data:`RESUMED_MARK` when its run resumed from checkpoints; else ``""``.

    Examples
    --------
    >>> dirty_mark({"dirty": True, "command": "lava-thesis train hybrid --resume"})
    '†‡'
    >>> dirty_mark({"config": {"resumed": False}, "command": "lava-thesis train stdp"})
    ''
    """
    return (DIRTY_MARK if rec.get("dirty") is True else "") + \
        (RESUMED_MARK if _resumed(rec) else "")


def with_dirty_note(table: str, records: Sequence[Mapping[str, Any]]) -> str:
    """``table`` followed by the footnotes of the marks (:func:`dirty_mark`) its records carry."""
    marks = "".join(dirty_mark(r) for r in records)
    notes = [note for mark, note in ((DIRTY_MARK, DIRTY_NOTE), (RESUMED_MARK, RESUMED_NOTE))
             if mark in marks]
    return "\n\n".join([table, *notes])


@dataclass(frozen=True)
class Ref:
    """One number in a results file: ``<experiment>.json``'s ``metrics[metric]``, labelled."""

    label: str
    experiment: str
    metric: str


@dataclass(frozen=True)
class Headline:
    """The compact table's row for one method.

    Parameters
    ----------
    method : str
        The results files' ``method`` field ("stdp", "diet", ...).
    name : str
        What the row calls the method.
    experiment, metric : str
        The preferred results file and metric. When that file is absent, the first results
        file of the method (by experiment name, benchmarks ``bench_*`` excluded) is shown
        with ``metric`` if it has it, else its first headline metric.
    baseline : Ref or None
        A number from our own runs to read the headline against (ANN twin, LSTM, ...).
    peers : tuple of Ref
        Numbers measured for a peer library (snnTorch, BindsNET, ...), if a file holds any.
    """

    method: str
    name: str
    experiment: str
    metric: str
    baseline: Ref | None = None
    peers: tuple[Ref, ...] = ()


HEADLINES: tuple[Headline, ...] = (
    Headline("quickstart", "Quickstart (SLAYER -> netx -> Lava, as deployed)",
             "quickstart_mnist", "deployed_accuracy",
             baseline=Ref("Lava run, first 1,000 test images", "quickstart_mnist",
                          "lava_accuracy")),
    Headline("stdp", "STDP, pruned + quantized (8-bit integers, as deployed)",
             "stdp_mnist_n400_p50_l8", "deployed_accuracy",
             baseline=Ref("unpruned float32", "stdp_mnist_n400", "accuracy")),
    Headline("multimodal", "Multimodal STDP (8-bit integers, as deployed)",
             "multimodal_mnist_fsdd_n400", "deployed_accuracy",
             baseline=Ref("no cross-modal synapses (float engine)", "multimodal_mnist_fsdd_n400",
                          "multimodal_accuracy_no_cross")),
    Headline("hybrid", "Hybrid conversion + STDB (as deployed)", "hybrid_mnist",
             "deployed_accuracy_hybrid",
             baseline=Ref("conversion only, deployed", "hybrid_mnist",
                          "deployed_accuracy_converted")),
    Headline("diet", "DIET-SNN (as deployed)", "diet_mnist", "deployed_accuracy",
             baseline=Ref("ANN twin", "diet_mnist", "ann_accuracy"),
             peers=(Ref("epoch time (s): ours", "bench_diet_epoch", "ours_epoch_seconds"),
                    Ref("SpikingJelly", "bench_diet_epoch", "spikingjelly_epoch_seconds"),
                    Ref("snnTorch", "bench_diet_epoch", "snntorch_epoch_seconds"),
                    Ref("SLAYER", "bench_diet_epoch", "slayer_epoch_seconds"))),
    Headline("lite", "LITE-SNN (sentiment)", "lite_sentiment", "snn_test_accuracy",
             baseline=Ref("LSTM", "lite_sentiment", "lstm_test_accuracy")),
    Headline("nir", "NIR import: snnTorch network in Lava (agreement)", "nir_interop_mnist",
             "snntorch_agreement",
             peers=(Ref("Norse network in Lava (agreement)", "nir_interop_mnist",
                        "norse_agreement"),)),
)


def _fraction(key: str) -> bool:
    low = key.lower()
    return "accuracy" in low or "agreement" in low


def _per_seed(rec: Mapping[str, Any], key: str) -> list[float] | None:
    table = (rec.get("extra") or {}).get("per_seed")
    if table is None or key not in table:
        return None
    values = table[key]
    ok = (isinstance(values, Sequence) and not isinstance(values, str) and len(values) > 0
          and all(isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v)
                  for v in values))
    if not ok:
        raise ValueError(
            f"results {rec.get('experiment')!r}: extra['per_seed'][{key!r}] must be a non-empty "
            f"list of finite numbers, got {values!r}"
        )
    return [float(v) for v in values]


def measured(rec: Mapping[str, Any], key: str) -> tuple[str, int] | None:
    """Format ``rec``'s metric ``key`` as ``(text, n)``, or None when the file lacks it.

    With per-seed values (``extra["per_seed"][key]``) the text is ``mean ± std`` (sample std),
    else the single value of ``metrics[key]`` and ``n = 1``. Fractions (``*accuracy*``,
    ``*agreement*``) are shown in percent.

    Examples
    --------
    >>> rec = {"metrics": {"test_accuracy": 0.9}, "extra": {}}
    >>> measured(rec, "test_accuracy")
    ('90.00%', 1)
    >>> rec["extra"]["per_seed"] = {"test_accuracy": [0.9, 0.92, 0.94]}
    >>> measured(rec, "test_accuracy")
    ('92.00 ± 2.00%', 3)
    >>> measured(rec, "loss") is None
    True
    """
    seeds = _per_seed(rec, key)
    if seeds is None:
        value = (rec.get("metrics") or {}).get(key)
        if value is None:
            return None
        if _fraction(key):
            return f"{100.0 * value:.2f}%", 1
        return (str(value) if isinstance(value, int) else f"{value:.4g}"), 1
    n = len(seeds)
    mean = math.fsum(seeds) / n
    if n == 1:
        return (f"{100.0 * mean:.2f}%" if _fraction(key) else f"{mean:.4g}"), 1
    std = math.sqrt(math.fsum((v - mean) ** 2 for v in seeds) / (n - 1))
    if _fraction(key):
        return f"{100.0 * mean:.2f} ± {100.0 * std:.2f}%", n
    return f"{mean:.4g} ± {std:.2g}", n


def _short(text: Any) -> str:
    """The paper's value, cut at its first ';' so that the compact table stays compact."""
    if text is None:
        return MISSING
    if isinstance(text, str):
        return text.split(";")[0].strip()
    return f"{text:.4g}"


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(_cell(c) for c in cells) + " |"


def _pick(spec: Headline, by_name: Mapping[str, Mapping[str, Any]],
          records: Sequence[Mapping[str, Any]]) -> tuple[Mapping[str, Any], str] | None:
    rec = by_name.get(spec.experiment)
    if rec is None:
        rec = next((r for r in records if r.get("method") == spec.method
                    and not r["experiment"].startswith("bench_")), None)
    if rec is None:
        return None
    metrics = rec.get("metrics") or {}
    if spec.metric in metrics:
        return rec, spec.metric
    return rec, list(rec.get("headline") or metrics)[0]


def _ref(ref: Ref, by_name: Mapping[str, Mapping[str, Any]]) -> str | None:
    rec = by_name.get(ref.experiment)
    got = measured(rec, ref.metric) if rec is not None else None
    if got is None:
        return None
    text, n = got
    return f"{ref.label}: {text}" + (f" (n={n})" if n > 1 else "")


def render_compact(records: Sequence[Mapping[str, Any]],
                   headlines: Sequence[Headline] = HEADLINES) -> str:
    """One Markdown row per method in ``headlines`` (methods with no results file are skipped).

    Records are as from :func:`lava_thesis.results.load_all`. Methods present in ``records``
    but not in ``headlines`` get a row too (their first file's first headline metric), after
    the listed ones, so a new method cannot vanish from the README.

    Examples
    --------
    >>> rec = {"experiment": "diet_mnist", "method": "diet", "headline": None,
    ...        "metrics": {"snn_accuracy": 0.98, "ann_accuracy": 0.99},
    ...        "paper": {"snn_accuracy": "CIFAR-10 92.70%; ImageNet 69%"}, "extra": {}}
    >>> print(render_compact([rec]).splitlines()[2])
    | DIET-SNN (as deployed) | diet_mnist: snn_accuracy | 98.00% | 1 | ANN twin: 99.00% | CIFAR-10 92.70% | — |
    """  # noqa: E501
    by_name = {rec["experiment"]: rec for rec in records}
    lines = [_row(COMPACT_COLUMNS), "|---|---|---:|---:|---|---|---|"]
    listed = [*headlines]
    known = {h.method for h in listed}
    for rec in records:
        method = rec.get("method")
        if method and method not in known and not rec["experiment"].startswith("bench_"):
            listed.append(Headline(method, method, rec["experiment"], ""))
            known.add(method)
    shown: list[Mapping[str, Any]] = []
    for spec in listed:
        picked = _pick(spec, by_name, records)
        if picked is None:
            continue
        rec, key = picked
        shown.append(rec)
        got = measured(rec, key)
        ours, n = got if got is not None else (MISSING, 0)
        ours += dirty_mark(rec) if got is not None else ""
        baseline = _ref(spec.baseline, by_name) if spec.baseline else None
        peers = [p for p in (_ref(r, by_name) for r in spec.peers) if p]
        lines.append(_row([
            spec.name, f"{rec['experiment']}: {key}", ours, str(n) if n else MISSING,
            baseline or MISSING, _short((rec.get("paper") or {}).get(key)),
            "; ".join(peers) or MISSING,
        ]))
    if len(lines) == 2:
        lines.append(_row(["*no results yet*"] + [""] * (len(COMPACT_COLUMNS) - 1)))
    return with_dirty_note("\n".join(lines), shown)


def render_claims(records: Sequence[Mapping[str, Any]]) -> str:
    """The claims section: every metric of every ``ablation_*`` results file, or a statement
    that none exists (so no causal claim is made).

    Examples
    --------
    >>> print(render_claims([]))
    No ablation results exist yet: no `results/ablation_*.json` file. Until one does, these docs claim no cause for any effect in the results table.
    """  # noqa: E501
    rows = [rec for rec in records if rec["experiment"].startswith(CLAIMS_PREFIX)]
    if not rows:
        return (f"No ablation results exist yet: no `results/{CLAIMS_PREFIX}*.json` file. "
                "Until one does, these docs claim no cause for any effect in the results table.")
    lines = [_row(("Ablation", "Dataset", "Metric", "Ours", "n", "Command")),
             "|---|---|---|---:|---:|---|"]
    for rec in rows:
        keys = list(rec.get("headline") or rec.get("metrics") or {})
        for i, key in enumerate(keys):
            text, n = measured(rec, key) or (MISSING, 0)
            command = f"`{rec['command']}`" if i == 0 and rec.get("command") else ""
            lines.append(_row([rec["experiment"], rec.get("dataset") or MISSING, key, text,
                               str(n), command]))
    return "\n".join(lines)


TIME_COLUMNS = ("Method", "Results files", "Time recorded", "Files without a time")


def _duration(seconds: float) -> str:
    """``'2 h 05 min'``, ``'7 min'`` or ``'40 s'``."""
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes = round(seconds / 60)
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"


def render_times(records: Sequence[Mapping[str, Any]]) -> str:
    """What reproducing each method costs: per method, the sum of its results files'
    ``elapsed_s`` (the time each command took, recorded by
    :func:`lava_thesis.results.write_results` on the machine that ran it) and the files that
    predate that field (their time is unknown, not zero).

    Examples
    --------
    >>> print(render_times([{"method": "stdp", "experiment": "a", "elapsed_s": 4000.0},
    ...                     {"method": "stdp", "experiment": "b", "elapsed_s": None}]))
    | Method | Results files | Time recorded | Files without a time |
    |---|---:|---:|---|
    | stdp | 2 | 1 h 07 min | b |
    """
    by_method: dict[str, list[Mapping[str, Any]]] = {}
    for rec in records:
        by_method.setdefault(rec.get("method") or "other", []).append(rec)
    lines = [_row(TIME_COLUMNS), "|---|---:|---:|---|"]
    for method in sorted(by_method):
        recs = by_method[method]
        timed = [r["elapsed_s"] for r in recs if r.get("elapsed_s") is not None]
        untimed = [r["experiment"] for r in recs if r.get("elapsed_s") is None]
        lines.append(_row([method, str(len(recs)), _duration(sum(timed)) if timed else MISSING,
                           ", ".join(untimed) or MISSING]))
    return "\n".join(lines)
