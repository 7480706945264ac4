"""The traceable results file every experiment writes: ``<out_dir>/<experiment>.json``.

Each file records what was measured (``metrics``), how (``command``, ``config``), on what
(``dataset``, ``validation``), from which code (``commit``, ``dirty``) and when (``date``), plus
the paper's numbers for the README table (:mod:`lava_thesis.report`). Schema (JSON object)::

    experiment  str           file stem, e.g. "stdp_mnist"
    method      str | null    e.g. "STDP (Diehl & Cook 2015)"
    command     str           exact command line that produced the file (a merge of seed
                              shards: the one command they stand for; lava_thesis.merge)
    commit      str           "1a2b3c4", "1a2b3c4-dirty" or "unknown"
    date        str           ISO 8601, UTC
    dataset     str
    metrics     {str: number} flat, finite; "*accuracy*"/"*agreement*" keys are fractions in [0, 1]
    paper       {str: number | str}   the paper's values (same rule for numbers)
    config      object
    extra       object        free-form, except the two per-seed keys below
    headline    [str] | null  the metrics the README table shows (default: all)
    validation  object        (optional) the validation split carved off the training data:
                {"fraction": float in [0, 1), "seed": int, "train": int, "val": int}
                (sizes of the two parts; lava_thesis.protocol.validation_info)
    dirty       true          (optional) written into the repository's results/ from a tree
                              with uncommitted changes (``--allow-dirty``); the report marks it
    elapsed_s   number        (optional) seconds from the start of the command (the import of
                              ``lava_thesis``) to the writing of the file: what it costs to
                              reproduce it on the machine that ran it (a merge: the sum of
                              its shards')

Per-seed values (one layout, read by :mod:`lava_thesis.report_compact`; written by
:func:`lava_thesis.protocol.seed_results`)::

    extra.seeds     [int]                the seeds, distinct, in run order
    extra.per_seed  {metric: [number]}   one value per seed, in the order of ``extra.seeds``
    metrics[metric]                      the mean of ``extra.per_seed[metric]``

The report shows such a metric as ``mean ± std (n=k)`` (sample std, ``ddof = 1``).

Provenance: :func:`write_results` refuses to write into the repository's ``results/`` directory
(``results`` at the git top level of this package) when the tree has uncommitted changes to
tracked files (:class:`DirtyTreeError`) unless ``allow_dirty=True``, which records
``"dirty": true``. Anywhere else the commit is recorded as is (``-dirty`` when dirty).
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import numbers
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

import lava_thesis
from lava_thesis.atomic import atomic_open
from lava_thesis.protocol import check_seed_fields, check_validation_field

__all__ = [
    "EVIDENCE_DIRS",
    "DirtyTreeError",
    "check_provenance",
    "current_command",
    "git_commit",
    "load_all",
    "read_results",
    "repository_results_dir",
    "write_results",
]

REQUIRED_KEYS = ("experiment", "command", "commit", "date", "dataset", "metrics")
OPTIONAL_KEYS = ("method", "paper", "config", "extra", "headline", "validation", "dirty",
                 "elapsed_s")
#: top-level directories whose tracked files are evidence that runs write (results files,
#: trained models), not code: changes there do not make :func:`git_commit` dirty
EVIDENCE_DIRS = ("results", "netx_models")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_PACKAGE_DIR = Path(__file__).resolve().parent


def current_command() -> str:
    """The command line of this process, shell-quoted.

    ``lava-thesis train ...`` when run through the console script (whatever its install path),
    else ``shlex.join(sys.argv)``, e.g. ``python -m pytest -q``-style argv as given.

    Examples
    --------
    >>> isinstance(current_command(), str)
    True
    """
    argv = list(sys.argv) or [""]
    if Path(argv[0]).name.endswith("lava-thesis"):
        return shlex.join(["lava-thesis", *argv[1:]])
    return shlex.join(argv)


def _git(*args: str, cwd: Path) -> str | None:
    try:
        proc = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout.strip() if proc.returncode == 0 else None


def git_commit(path: str | Path | None = None) -> str:
    """Short commit hash of the git repository holding ``path`` (default: this package).

    ``-dirty`` is appended when tracked files differ from HEAD (untracked files are ignored, as
    in ``git describe --dirty``), except those under the top-level :data:`EVIDENCE_DIRS`: the
    results files and models that runs write are outputs, not code, so one run's outputs do not
    make the next run's commit dirty (``make reproduce`` runs many in one tree). ``"unknown"``
    when git, the repository or a commit is missing.

    Examples
    --------
    >>> c = git_commit()
    >>> c == "unknown" or bool(re.fullmatch(r"[0-9a-f]{4,40}(-dirty)?", c))
    True
    """
    cwd = Path(path) if path is not None else _PACKAGE_DIR
    if cwd.is_file():
        cwd = cwd.parent
    head = _git("rev-parse", "--short", "HEAD", cwd=cwd)
    if not head:
        return "unknown"
    top = _git("rev-parse", "--show-toplevel", cwd=cwd)
    excluded = [f":(top,exclude){d}" for d in EVIDENCE_DIRS] if top else []
    status = _git("status", "--porcelain", "--untracked-files=no", "--", ":(top)", *excluded,
                  cwd=cwd)
    return f"{head}-dirty" if status else head


class DirtyTreeError(RuntimeError):
    """Results would go into the repository's ``results/`` from a tree with uncommitted
    changes (their commit would not pin the code that produced them)."""


def repository_results_dir(package_dir: str | Path | None = None) -> Path | None:
    """``<git top level>/results`` of the repository holding ``package_dir`` (default: this
    package), resolved; None when it is not in a git working tree (e.g. an installed wheel).

    Examples
    --------
    >>> d = repository_results_dir()
    >>> d is None or d.name == "results"
    True
    """
    top = _git("rev-parse", "--show-toplevel", cwd=Path(package_dir or _PACKAGE_DIR))
    return Path(top).resolve() / "results" if top else None


def check_provenance(out_dir: str | Path, *, commit: str | None = None,
                     allow_dirty: bool = False, package_dir: str | Path | None = None) -> bool:
    """Check that results may be written to ``out_dir``; return whether they are dirty-marked.

    Writing into the repository's ``results/`` (or below it) needs a clean tree: neither
    ``commit`` (the commit a run started from, when given) nor the tree now may be ``-dirty``
    (:func:`git_commit`). A dirty tree raises :class:`DirtyTreeError`, unless ``allow_dirty``,
    in which case True is returned (the file gets ``"dirty": true``). Any other directory:
    False, whatever the tree.

    Parameters
    ----------
    out_dir : path
        Where the results file goes.
    commit : str or None
        The commit recorded in the file (None: only the tree's state now counts).
    allow_dirty : bool
        Accept a dirty tree (the ``--allow-dirty`` option) and mark the file.
    package_dir : path or None
        A directory inside the repository (default: this package's).
    """
    results_dir = repository_results_dir(package_dir)
    if results_dir is None:
        return False
    target = Path(out_dir).resolve()
    if target != results_dir and results_dir not in target.parents:
        return False
    now = git_commit(package_dir or _PACKAGE_DIR)
    dirty = [c for c in (commit, now) if c and c.endswith("-dirty")]
    if not dirty:
        return False
    if allow_dirty:
        return True
    started = "" if commit is None or commit == now else f" (the run started from {commit})"
    raise DirtyTreeError(
        f"refusing to write results into {results_dir}: the working tree has uncommitted "
        f"changes to tracked files (commit {now}){started}, so the recorded commit would not "
        "pin the code; commit or stash them (`git status` lists them), write elsewhere with "
        "--out, or pass --allow-dirty to write anyway with \"dirty\": true recorded"
    )


def _check_number(where: str, key: str, value: Any) -> float | int:
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise ValueError(f"{where}[{key!r}] must be a number, got {value!r}")
    value = value.item() if isinstance(value, np.generic) else value
    if not math.isfinite(value):
        raise ValueError(f"{where}[{key!r}] must be finite, got {value!r}")
    low = key.lower()
    if ("accuracy" in low or "agreement" in low) and not 0.0 <= value <= 1.0:
        raise ValueError(f"{where}[{key!r}] = {value!r} must be a fraction in [0, 1]")
    return value


def _check_flat(where: str, mapping: Any, *, allow_str: bool) -> dict[str, Any]:
    if not isinstance(mapping, Mapping):
        raise ValueError(f"{where} must be a mapping name -> number, got {type(mapping).__name__}")
    out: dict[str, Any] = {}
    for key, value in mapping.items():
        if not isinstance(key, str) or not key:
            raise ValueError(f"{where} keys must be non-empty strings, got {key!r}")
        out[key] = (
            value if allow_str and isinstance(value, str) else _check_number(where, key, value)
        )
    return out


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")


def _validate(record: Mapping[str, Any], source: str) -> dict[str, Any]:
    if not isinstance(record, Mapping):
        raise ValueError(f"{source}: expected a JSON object, got {type(record).__name__}")
    missing = [k for k in REQUIRED_KEYS if k not in record]
    if missing:
        raise ValueError(f"{source}: missing keys {missing}")
    rec = {**dict.fromkeys(OPTIONAL_KEYS), **record}
    for key in ("experiment", "command", "commit", "date", "dataset"):
        if not isinstance(rec[key], str) or not rec[key]:
            raise ValueError(f"{source}: {key!r} must be a non-empty string, got {rec[key]!r}")
    if not _NAME.match(rec["experiment"]):
        raise ValueError(
            f"{source}: experiment {rec['experiment']!r} must be a file-name-safe identifier "
            "(letters, digits, '_', '.', '-')"
        )
    if rec["method"] is not None and not isinstance(rec["method"], str):
        raise ValueError(f"{source}: 'method' must be a string or null")
    try:
        rec["metrics"] = _check_flat("metrics", rec["metrics"], allow_str=False)
        rec["paper"] = _check_flat("paper", rec["paper"] or {}, allow_str=True)
    except ValueError as err:
        raise ValueError(f"{source}: {err}") from None
    if not rec["metrics"]:
        raise ValueError(f"{source}: 'metrics' is empty")
    for key in ("config", "extra"):
        if rec[key] is not None and not isinstance(rec[key], Mapping):
            raise ValueError(f"{source}: {key!r} must be a mapping")
        rec[key] = dict(rec[key] or {})
    unknown = [k for k in rec.get("headline") or [] if k not in rec["metrics"]]
    if unknown:
        raise ValueError(f"{source}: 'headline' names metrics that do not exist: {unknown}")
    if rec["elapsed_s"] is not None:
        try:
            rec["elapsed_s"] = _check_number("record", "elapsed_s", rec["elapsed_s"])
        except ValueError as err:
            raise ValueError(f"{source}: {err}") from None
        if rec["elapsed_s"] < 0:
            raise ValueError(f"{source}: 'elapsed_s' must be >= 0, got {rec['elapsed_s']!r}")
    if rec["dirty"] not in (None, True, False):
        raise ValueError(f"{source}: 'dirty' must be true, false or absent, got {rec['dirty']!r}")
    try:
        if rec["validation"] is not None:
            rec["validation"] = check_validation_field(rec["validation"])
        check_seed_fields(rec["metrics"], rec["extra"])
    except ValueError as err:
        raise ValueError(f"{source}: {err}") from None
    return rec


def write_results(
    out_dir: str | Path,
    experiment: str,
    *,
    dataset: str,
    metrics: Mapping[str, float | int],
    command: str | None = None,
    method: str | None = None,
    paper: Mapping[str, float | str] | None = None,
    config: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
    commit: str | None = None,
    headline: Sequence[str] | None = None,
    validation: Mapping[str, Any] | None = None,
    allow_dirty: bool = False,
    elapsed_s: float | None = None,
) -> Path:
    """Validate and atomically write ``<out_dir>/<experiment>.json``; return its path.

    ``command`` defaults to :func:`current_command`; ``commit`` defaults to :func:`git_commit`
    (long runs pass the commit they started from); ``headline`` names the metrics the README
    table shows (default: all); ``validation`` is the validation split
    (:func:`lava_thesis.protocol.validation_info`); ``elapsed_s`` defaults to the seconds since
    the import of ``lava_thesis`` (a merge of shards passes their sum); and ``date`` is the
    current UTC time. numpy
    scalars/arrays and Paths in ``config``/``extra`` are converted; anything else not
    JSON-serialisable raises ValueError and writes nothing.

    Into the repository's ``results/`` only from a clean tree (:func:`check_provenance`):
    otherwise :class:`DirtyTreeError`, or with ``allow_dirty=True`` the file records
    ``"dirty": true``.

    Examples
    --------
    >>> import tempfile
    >>> d = tempfile.mkdtemp()
    >>> p = write_results(d, "demo", dataset="MNIST", metrics={"test_accuracy": 0.97})
    >>> read_results(p)["metrics"]
    {'test_accuracy': 0.97}
    """
    record = {
        "experiment": experiment,
        "method": method,
        "command": command if command is not None else current_command(),
        "commit": commit or git_commit(),
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "dataset": dataset,
        "metrics": metrics,
        "paper": paper,
        "config": config,
        "extra": extra,
        "headline": list(headline) if headline is not None else None,
        "validation": validation,
        "elapsed_s": (round(time.monotonic() - lava_thesis.STARTED, 1) if elapsed_s is None
                      else elapsed_s),
    }
    record = _validate(record, f"results for {experiment!r}")
    if check_provenance(out_dir, commit=record["commit"], allow_dirty=allow_dirty):
        record["dirty"] = True
    for key in ("validation", "dirty"):  # absent rather than null when not given
        if record[key] is None:
            del record[key]
    path = Path(out_dir) / f"{experiment}.json"
    try:
        with atomic_open(path, "w", encoding="utf-8") as fh:
            json.dump(record, fh, indent=2, allow_nan=False, default=_json_default)
            fh.write("\n")
    except (TypeError, ValueError) as err:
        raise ValueError(f"{path}: cannot serialise results to JSON: {err}") from err
    return path


def read_results(path: str | Path) -> dict[str, Any]:
    """Read and validate one results file (errors name the file).

    Examples
    --------
    >>> read_results("missing.json")
    Traceback (most recent call last):
    ...
    FileNotFoundError: results file not found: missing.json
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileNotFoundError(f"results file not found: {path}") from None
    except UnicodeDecodeError as err:
        raise ValueError(f"{path}: not UTF-8 text ({err})") from None
    try:
        record = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as err:
        raise ValueError(f"{path}: not valid JSON: {err}") from None
    return _validate(record, str(path))


def load_all(results_dir: str | Path) -> list[dict[str, Any]]:
    """Read every ``*.json`` results file in ``results_dir``, sorted by experiment name.

    Examples
    --------
    >>> import tempfile
    >>> load_all(tempfile.mkdtemp())
    []
    """
    results_dir = Path(results_dir)
    if not results_dir.is_dir():
        raise NotADirectoryError(f"results directory not found: {results_dir}")
    records = [read_results(p) for p in sorted(results_dir.glob("*.json"))]
    seen: set[str] = set()
    for rec in records:
        if rec["experiment"] in seen:
            raise ValueError(
                f"{results_dir}: experiment {rec['experiment']!r} appears in more than one file"
            )
        seen.add(rec["experiment"])
    return sorted(records, key=lambda r: r["experiment"])
