"""Render the results files into the README's results table.

The table lives between two markers in the README and is regenerated, never hand-edited::

    <!-- results:begin -->
    | Method | Experiment | ... |
    <!-- results:end -->

``report(results_dir, readme)`` rewrites it; ``report(..., check=True)`` only checks that it is
current (for CI) and raises :class:`StaleReadmeError` when it is not.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from lava_thesis.atomic import atomic_open
from lava_thesis.results import load_all

__all__ = ["BEGIN", "END", "StaleReadmeError", "render_table", "report", "update_readme"]

BEGIN = "<!-- results:begin -->"
END = "<!-- results:end -->"
COLUMNS = ("Method", "Experiment", "Dataset", "Metric", "Ours", "Paper", "Command")
NO_RESULTS = "*no results yet*"
MISSING = "—"


class StaleReadmeError(RuntimeError):
    """The README's results table differs from what the results files render to."""


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


def render_table(results: list[Mapping[str, Any]]) -> str:
    """Render results records (as from :func:`lava_thesis.results.load_all`) as Markdown.

    One row per metric (only the record's ``headline`` metrics when it names them), in file
    order, then one row per paper-only value. The command is
    shown (in backticks) on the first row of each experiment. Records are kept in the order
    given. No records -> a single "no results yet" row.

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
                        _cell(format_value(key, metrics.get(key))),
                        _cell(format_value(key, paper.get(key))),
                        _code(rec["command"]) if i == 0 and rec.get("command") else "",
                    ]
                )
            )
    return "\n".join(lines)


def _replace_block(text: str, table: str, path: Path) -> str:
    begin, end = text.count(BEGIN), text.count(END)
    if begin != 1 or end != 1:
        which = BEGIN if begin != 1 else END
        n = begin if begin != 1 else end
        raise ValueError(f"{path}: expected exactly one {which!r} marker, found {n}")
    if text.index(END) < text.index(BEGIN):
        raise ValueError(f"{path}: {END!r} comes before {BEGIN!r}")
    head, rest = text.split(BEGIN)
    _, tail = rest.split(END)
    newline = "\r\n" if "\r\n" in text else "\n"
    block = newline.join(table.strip("\n").split("\n"))
    return f"{head}{BEGIN}{newline}{block}{newline}{END}{tail}"


def _read(path: Path) -> str:
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            return fh.read()
    except FileNotFoundError:
        raise FileNotFoundError(f"README not found: {path}") from None


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
    new = _replace_block(text, table, path)
    if new == text:
        return False
    with atomic_open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(new)
    return True


def report(results_dir: str | Path, readme_path: str | Path, check: bool = False) -> bool:
    """Render ``results_dir/*.json`` into the README table.

    Parameters
    ----------
    results_dir : path
        Directory of results files (:func:`lava_thesis.results.load_all`).
    readme_path : path
        README holding the ``<!-- results:begin -->`` / ``<!-- results:end -->`` markers.
    check : bool
        Do not write; raise :class:`StaleReadmeError` if the README table is out of date.

    Returns
    -------
    bool
        Whether the README was (``check=False``) changed; always False with ``check=True``.
    """
    path = Path(readme_path)
    table = render_table(load_all(results_dir))
    if not check:
        return update_readme(path, table)
    text = _read(path)
    if _replace_block(text, table, path) != text:
        raise StaleReadmeError(
            f"{path}: the results table is stale; regenerate it from {results_dir} "
            "(run report without check)"
        )
    return False
