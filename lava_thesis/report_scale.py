"""STDP accuracy against network size, beside Diehl & Cook (2015): a README table and a plot.

Diehl & Cook trained 100, 400, 1,600 and 6,400 excitatory neurons and report one accuracy per
size (:data:`lava_thesis.stdp_reference.DIEHL_COOK`). Our files for a size ``N`` are
``stdp_mnist_n<N>`` (float weights), ``stdp_mnist_n<N>_corr_p50_l8`` (50% of the synapses
pruned by pre/post correlation, the thesis' criterion, 8 levels) and
``stdp_mnist_n<N>_corr_p75_l4`` (75%, 4 levels), each made by ``lava-thesis train stdp``; where
a size has no correlation-pruned file, the column falls back to pruning by weight
(``stdp_mnist_n<N>_p50_l8``) and its cell says so. The table shows, per size, their accuracy
over seeds (mean ± std, n) and the training passes each used; the pruned networks' number is
their *deployed* accuracy (Loihi's integers) when the file holds it. A size or variant without
a file says "not run"; the note under the table gives the command that makes it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from lava_thesis.protocol import summarize
from lava_thesis.report_compact import MISSING, _per_seed, _row, dirty_mark, measured
from lava_thesis.stdp_reference import DIEHL_COOK

__all__ = ["SCALE_BEGIN", "SCALE_END", "VARIANTS", "plot_stdp_scale", "render_stdp_scale"]

SCALE_BEGIN = "<!-- stdp-scale:begin -->"
SCALE_END = "<!-- stdp-scale:end -->"

#: ((file suffix, what its cell notes) in order of preference, column label, metrics to show in
#: order of preference, CLI flags that make the preferred file)
VARIANTS: tuple[tuple[tuple[tuple[str, str], ...], str, tuple[str, ...], str], ...] = (
    ((("", ""),), "Ours, float weights", ("accuracy",), ""),
    ((("_corr_p50_l8", "by correlation"), ("_p50_l8", "by weight")),
     "Ours, 50% pruned, 8 levels, deployed", ("deployed_accuracy", "accuracy"),
     " --prune-fraction 0.5 --levels 8 --prune-by correlation"),
    ((("_corr_p75_l4", "by correlation"), ("_p75_l4", "by weight")),
     "Ours, 75% pruned, 4 levels, deployed", ("deployed_accuracy", "accuracy"),
     " --prune-fraction 0.75 --levels 4 --prune-by correlation"),
)
_NAME = re.compile(r"^stdp_mnist_n(\d+)$")


def _sizes(by_name: Mapping[str, Mapping[str, Any]]) -> list[int]:
    found = {int(m.group(1)) for name in by_name if (m := _NAME.match(name))}
    return sorted(found | set(DIEHL_COOK))


def _passes(rec: Mapping[str, Any]) -> int | None:
    epochs = (rec.get("config") or {}).get("epochs")
    return int(epochs) if isinstance(epochs, int) else None


def _plural(n: int) -> str:
    return f"{n} pass" if n == 1 else f"{n} passes"


def _shown(rec: Mapping[str, Any], metrics: Sequence[str]) -> str | None:
    """The first of ``metrics`` (in order of preference) that ``rec`` holds, or None."""
    return next((key for key in metrics if _per_seed(rec, key) is not None
                 or (rec.get("metrics") or {}).get(key) is not None), None)


def _find(by_name: Mapping[str, Mapping[str, Any]], n_exc: int,
          suffixes: Sequence[tuple[str, str]]) -> tuple[Mapping[str, Any] | None, str]:
    """The results file of size ``n_exc`` with the first of ``suffixes`` that exists, and the
    note that suffix's cell carries; ``(None, "")`` when none exists."""
    return next(((by_name[name], note) for suffix, note in suffixes
                 if (name := f"stdp_mnist_n{n_exc}{suffix}") in by_name), (None, ""))


def _cell(found: tuple[Mapping[str, Any] | None, str], metrics: Sequence[str]) -> str:
    rec, note = found
    if rec is None:
        return "not run"
    key = _shown(rec, metrics)
    if key is None:
        return MISSING
    text, n = measured(rec, key)
    passes = _passes(rec)
    notes = [_plural(passes)] if passes else []
    notes += [note] if note else []
    return f"{text}{dirty_mark(rec)} ({', '.join([*notes, f'n={n}'])})"


def render_stdp_scale(records: Sequence[Mapping[str, Any]]) -> str:
    """One Markdown row per network size: Diehl & Cook's accuracy and passes, then ours.

    Examples
    --------
    >>> rec = {"experiment": "stdp_mnist_n400", "config": {"epochs": 1}, "metrics": {},
    ...        "extra": {"per_seed": {"accuracy": [0.89, 0.9, 0.91]}}}
    >>> print(render_stdp_scale([rec]).splitlines()[3])
    | 400 | 87.0% (3 passes) | 90.00 ± 1.00% (1 pass, n=3) | not run | not run |
    """
    by_name = {rec["experiment"]: rec for rec in records}
    header = ("Excitatory neurons", "Diehl & Cook 2015", *(v[1] for v in VARIANTS))
    lines = [_row(header), "|---:|---:|" + "---|" * len(VARIANTS)]
    for n_exc in _sizes(by_name):
        ref = DIEHL_COOK.get(n_exc)
        theirs = f"{ref[0]}% ({_plural(ref[1])})" if ref else MISSING
        cells = [_cell(_find(by_name, n_exc, suffixes), metrics)
                 for suffixes, _, metrics, _ in VARIANTS]
        lines.append(_row([f"{n_exc:,}", theirs, *cells]))
    flags = " or ".join(f"`{v[3].strip()}`" for v in VARIANTS if v[3])
    return "\n".join(lines) + (
        "\n\nA cell is made by `lava-thesis train stdp --n-exc N --epochs P --out results "
        f"--model-dir netx_models/stdp_mnist`, with {flags} for the pruned columns (P: Diehl "
        "& Cook's passes at that size); a pruned cell made before pruning by correlation "
        "existed says *by weight*.")


def _mean_std(rec: Mapping[str, Any], metrics: Sequence[str]) -> tuple[float, float] | None:
    """Mean and std (percent) over seeds of the metric :func:`_shown` picks, or None."""
    key = _shown(rec, metrics)
    if key is None:
        return None
    stats = summarize(_per_seed(rec, key) or [rec["metrics"][key]])
    return 100.0 * stats["mean"], 100.0 * stats["std"]


def plot_stdp_scale(records: Sequence[Mapping[str, Any]], path: str | Path) -> Path | None:
    """Accuracy (%) against excitatory neurons (log axis): Diehl & Cook's four numbers and each
    of our variants with its seed spread (± std). Returns None, writing nothing, when no STDP
    results file exists."""
    by_name = {rec["experiment"]: rec for rec in records}
    sizes = [n for n in _sizes(by_name)
             if any(_find(by_name, n, v[0])[0] is not None for v in VARIANTS)]
    if not sizes:
        return None
    from lava_thesis.plots import new_figure, save_figure

    fig = new_figure((6.0, 4.0))
    ax = fig.add_subplot()
    dc = sorted(DIEHL_COOK)
    ax.plot(dc, [DIEHL_COOK[n][0] for n in dc], "k--o", label="Diehl & Cook 2015")
    for (suffixes, label, metrics, _), marker in zip(VARIANTS, "sD^", strict=True):
        points = [(n, got) for n in sizes
                  if (rec := _find(by_name, n, suffixes)[0]) is not None
                  and (got := _mean_std(rec, metrics)) is not None]
        if points:
            ax.errorbar([p[0] for p in points], [p[1][0] for p in points],
                        yerr=[p[1][1] for p in points], marker=marker, capsize=3,
                        label=label.replace("Ours, ", "ours: "))
    ax.set_xscale("log")
    ax.set_xticks(dc, [f"{n:,}" for n in dc])
    ax.set_xlabel("excitatory neurons")
    ax.set_ylabel("MNIST test accuracy (%)")
    ax.set_title("STDP accuracy vs network size (mean ± std over seeds)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return save_figure(fig, path)
