"""Render the results files into the README's compact table and the docs' results page.

Both tables live between two markers and are regenerated, never hand-edited::

    <!-- results:begin -->
    | Method | ... |
    <!-- results:end -->

The README gets one row per method (:func:`lava_thesis.report_compact.render_compact`); the
docs page ``docs/results.md`` gets every metric of every file (:func:`render_table`) and, between
``<!-- claims:begin -->`` / ``<!-- claims:end -->``, the ablation claims
(:func:`lava_thesis.report_compact.render_claims`). Where the README has
``<!-- times:begin -->`` / ``<!-- times:end -->``, it gets the time each method's results took
to make (:func:`lava_thesis.report_compact.render_times`), and where it has
``<!-- verdicts:begin -->`` / ``<!-- verdicts:end -->``, the claims table with each claim's
verdict (:func:`lava_thesis.report_claims.render_claim_table`).
``report(results_dir, readme)`` rewrites them;
``report(..., check=True)`` only checks that they are current (for CI) and raises
:class:`StaleReadmeError` when one is not.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from lava_thesis.atomic import atomic_open
from lava_thesis.report_claims import render_claim_table
from lava_thesis.report_compact import (
    dirty_mark,
    measured,
    render_claims,
    render_compact,
    render_times,
    with_dirty_note,
)
from lava_thesis.report_scale import SCALE_BEGIN, SCALE_END, plot_stdp_scale, render_stdp_scale
from lava_thesis.results import load_all

__all__ = [
    "BEGIN",
    "CLAIMS_BEGIN",
    "CLAIMS_END",
    "TIMES_BEGIN",
    "TIMES_END",
    "VERDICTS_BEGIN",
    "VERDICTS_END",
    "END",
    "StaleReadmeError",
    "default_docs_page",
    "render_table",
    "report",
    "update_readme",
]

BEGIN = "<!-- results:begin -->"
END = "<!-- results:end -->"
CLAIMS_BEGIN = "<!-- claims:begin -->"
CLAIMS_END = "<!-- claims:end -->"
TIMES_BEGIN = "<!-- times:begin -->"
TIMES_END = "<!-- times:end -->"
VERDICTS_BEGIN = "<!-- verdicts:begin -->"
VERDICTS_END = "<!-- verdicts:end -->"
#: the STDP size plot, redrawn into the results directory beside the files it reads
SCALE_PLOT = "stdp_mnist_scale.png"
COLUMNS = ("Method", "Experiment", "Dataset", "Metric", "Ours", "Paper", "Command")
NO_RESULTS = "*no results yet*"
MISSING = "—"


class StaleReadmeError(RuntimeError):
    """The README's (or the docs page's) table differs from what the results files render to."""


def _is_fraction_key(key: str) -> bool:
    low = key.lower()
    return "accuracy" in low or "agreement" in low


def format_value(key: str, value: Any) -> str:
    """Format one metric value for the table.

    Accuracy/agreement fractions become percentages with 2 decimals, integers are printed
    exactly, other floats with 4 significant digits; strings are kept; None is a dash.

    Examples
    --------
    >>> format_value("test_accuracy", 0.98765), format_value("epochs", 3)
    ('98.77%', '3')
    >>> format_value("energy_j", 1.234567e-6), format_value("latency_ms", 12.0)
    ('1.235e-06', '12')
    """
    if value is None:
        return MISSING
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(value)
    if _is_fraction_key(key) and isinstance(value, int | float):
        return f"{100.0 * value:.2f}%"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return f"{value:.4g}"
    return str(value)


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _code(text: str) -> str:
    text = " ".join(str(text).split())
    fence = "``" if "`" in text else "`"
    pad = " " if fence == "``" else ""
    return f"{fence}{pad}{text}{pad}{fence}".replace("|", "\\|")


def _row(cells: Iterable[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _ours(rec: Mapping[str, Any], key: str) -> str:
    """The measured value; ``mean ± std (n=k)`` when the file holds per-seed values."""
    if key in ((rec.get("extra") or {}).get("per_seed") or {}):
        text, n = measured(rec, key)
        return f"{text} (n={n})"
    return format_value(key, (rec.get("metrics") or {}).get(key))


def render_table(results: list[Mapping[str, Any]]) -> str:
    """Render results records (as from :func:`lava_thesis.results.load_all`) as Markdown.

    One row per metric (only the record's ``headline`` metrics when it names them), in file
    order, then one row per paper-only value. The command is
    shown (in backticks) on the first row of each experiment. Records are kept in the order
    given. No records -> a single "no results yet" row. Values are single runs unless the file
    holds per-seed values (``extra["per_seed"]``), shown as ``mean ± std (n=k)``.

    Examples
    --------
    >>> rec = {"experiment": "e1", "method": "STDP", "dataset": "MNIST",
    ...        "command": "lava-thesis stdp", "metrics": {"test_accuracy": 0.9},
    ...        "paper": {"test_accuracy": 0.95}}
    >>> print(render_table([rec]))
    | Method | Experiment | Dataset | Metric | Ours | Paper | Command |
    |---|---|---|---|---:|---:|---|
    | STDP | e1 | MNIST | test_accuracy | 90.00% | 95.00% | `lava-thesis stdp` |
    """
    lines = [_row(COLUMNS), "|---|---|---|---|---:|---:|---|"]
    if not results:
        lines.append(_row([NO_RESULTS] + [""] * (len(COLUMNS) - 1)))
    for rec in results:
        metrics = dict(rec.get("metrics") or {})
        paper = dict(rec.get("paper") or {})
        shown = rec.get("headline") or list(metrics)
        keys = list(shown) + [k for k in paper if k not in shown]
        for i, key in enumerate(keys):
            lines.append(
                _row(
                    [
                        _cell(rec.get("method") or MISSING),
                        _cell(rec["experiment"]),
                        _cell(rec.get("dataset") or MISSING),
                        _cell(key),
                        _cell(_ours(rec, key) + dirty_mark(rec)),
                        _cell(format_value(key, paper.get(key))),
                        _code(rec["command"]) if i == 0 and rec.get("command") else "",
                    ]
                )
            )
    return with_dirty_note("\n".join(lines), results)


def _replace_block(text: str, table: str, path: Path, begin: str = BEGIN,
                   end: str = END) -> str:
    n_begin, n_end = text.count(begin), text.count(end)
    if n_begin != 1 or n_end != 1:
        which = begin if n_begin != 1 else end
        n = n_begin if n_begin != 1 else n_end
        raise ValueError(f"{path}: expected exactly one {which!r} marker, found {n}")
    if text.index(end) < text.index(begin):
        raise ValueError(f"{path}: {end!r} comes before {begin!r}")
    head, rest = text.split(begin)
    _, tail = rest.split(end)
    newline = "\r\n" if "\r\n" in text else "\n"
    block = newline.join(table.strip("\n").split("\n"))
    return f"{head}{begin}{newline}{block}{newline}{end}{tail}"


def _read(path: Path, what: str = "README") -> str:
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            return fh.read()
    except FileNotFoundError:
        raise FileNotFoundError(f"{what} not found: {path}") from None
    except UnicodeDecodeError as err:
        raise ValueError(f"{what} {path} is not UTF-8 text ({err})") from None


def _write_if_changed(path: Path, text: str, new: str) -> bool:
    if new == text:
        return False
    with atomic_open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(new)
    return True


def update_readme(readme_path: str | Path, table: str) -> bool:
    """Replace the text between the results markers with ``table``; True if the file changed.

    The file is rewritten atomically and only when its content changes.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "README.md"
    >>> _ = p.write_text(f"# T\\n{BEGIN}\\nold\\n{END}\\n")
    >>> update_readme(p, "new"), update_readme(p, "new")
    (True, False)
    """
    path = Path(readme_path)
    text = _read(path)
    return _write_if_changed(path, text, _replace_block(text, table, path))


def default_docs_page(readme_path: str | Path) -> Path | None:
    """``docs/results.md`` beside the README, if it exists (else None: no docs page to update)."""
    page = Path(readme_path).parent / "docs" / "results.md"
    return page if page.is_file() else None


def _render_docs_page(text: str, records: list[dict[str, Any]], path: Path) -> str:
    new = _replace_block(text, render_table(records), path)
    return _replace_block(new, render_claims(records), path, CLAIMS_BEGIN, CLAIMS_END)


def report(
    results_dir: str | Path,
    readme_path: str | Path,
    check: bool = False,
    docs_page: str | Path | None = None,
) -> bool:
    """Render ``results_dir/*.json`` into the README's compact table and the docs results page.

    Parameters
    ----------
    results_dir : path
        Directory of results files (:func:`lava_thesis.results.load_all`).
    readme_path : path
        README holding the ``<!-- results:begin -->`` / ``<!-- results:end -->`` markers; it
        gets one row per method (:func:`lava_thesis.report_compact.render_compact`).
    check : bool
        Do not write; raise :class:`StaleReadmeError` if a table is out of date.
    docs_page : path or None
        Page holding the results markers (full table, :func:`render_table`) and the claims
        markers (:func:`lava_thesis.report_compact.render_claims`). None:
        :func:`default_docs_page` (``docs/results.md`` beside the README, when it exists).

    Returns
    -------
    bool
        Whether a file was (``check=False``) changed; always False with ``check=True``.
    """
    path = Path(readme_path)
    records = load_all(results_dir)
    page = Path(docs_page) if docs_page is not None else default_docs_page(path)
    text = _read(path)
    new = _replace_block(text, render_compact(records), path)
    if TIMES_BEGIN in new or TIMES_END in new:
        new = _replace_block(new, render_times(records), path, TIMES_BEGIN, TIMES_END)
    if VERDICTS_BEGIN in new or VERDICTS_END in new:
        new = _replace_block(new, render_claim_table(records), path, VERDICTS_BEGIN,
                             VERDICTS_END)
    scale = SCALE_BEGIN in new or SCALE_END in new
    if scale:
        new = _replace_block(new, render_stdp_scale(records), path, SCALE_BEGIN, SCALE_END)
    jobs = [(path, text, new)]
    if page is not None:
        page_text = _read(page, "docs results page")
        jobs.append((page, page_text, _render_docs_page(page_text, records, page)))
    if check:
        for where, old, fresh in jobs:
            if fresh != old:
                raise StaleReadmeError(
                    f"{where}: the results table is stale; regenerate it from {results_dir} "
                    "(run report without check)"
                )
        return False
    changed = False
    for where, old, fresh in jobs:
        changed = _write_if_changed(where, old, fresh) or changed
    if scale:
        plot_stdp_scale(records, Path(results_dir) / SCALE_PLOT)
    return changed
