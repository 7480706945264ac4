"""The evaluation protocol every experiment follows: a validation split and several seeds.

* **Validation split.** Hyperparameters are chosen on a validation set carved off the
  *training* data, never on the test set. :func:`validation_split` is the one place every
  experiment takes it from: seeded, stratified by label (each class gives
  ``round(n_c * fraction)`` of its ``n_c`` samples), so it is the same for a seed on every
  machine. :func:`validation_info` is the ``validation`` field of the results file.
* **Seeds.** A headline number is the mean over ``n >= 3`` seeds with its sample standard
  deviation. :func:`run_seeds` runs one function per seed and collects its metrics;
  :func:`seed_results` turns them into the results file's ``metrics`` (the means) and
  ``extra`` (``seeds`` and ``per_seed``, the layout :mod:`lava_thesis.report_compact` reads);
  :func:`summarize` and :func:`paired_difference` give the statistics.
* **One object.** :class:`Protocol` carries both (the seeds, the validation fraction and the
  split's seed); experiments take one, :func:`split_training` carves the split off their
  training arrays and :meth:`Protocol.run` trains one model per seed and returns the results
  file's ``metrics``/``extra``. The split is the same for every seed, so two variants run
  with the same protocol are paired (:func:`paired_difference`).

The results-file layout is documented in :mod:`lava_thesis.results`.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from lava_thesis.data.splits import stratified_split

__all__ = [
    "MIN_SEEDS",
    "Protocol",
    "check_fraction",
    "check_seed_fields",
    "check_validation_field",
    "or_single_seed",
    "paired_difference",
    "run_seeds",
    "seed_results",
    "split_training",
    "summarize",
    "validation_info",
    "validation_split",
]

#: seeds a headline number needs; fewer are flagged (``single_seed`` / ``n`` in the report)
MIN_SEEDS = 3


def check_fraction(fraction: Any, name: str = "fraction") -> float:
    """``fraction`` as a float in ``[0, 1)``, else ValueError naming ``name``.

    Examples
    --------
    >>> check_fraction(0.1)
    0.1
    >>> check_fraction(1.0)
    Traceback (most recent call last):
    ...
    ValueError: fraction must be a number in [0, 1) (a share of the training data), got 1.0
    """
    ok = (isinstance(fraction, numbers.Real) and not isinstance(fraction, bool | np.bool_)
          and math.isfinite(fraction) and 0.0 <= fraction < 1.0)
    if not ok:
        raise ValueError(f"{name} must be a number in [0, 1) (a share of the training data), "
                         f"got {fraction!r}")
    return float(fraction)


def validation_split(labels: Sequence[int] | np.ndarray, fraction: float = 0.1,
                     seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Split the training set's indices into sorted ``(train_idx, val_idx)``, stratified.

    Each label value ``c`` with ``n_c`` samples gives ``round(n_c * fraction)`` of them, chosen
    by a permutation seeded with ``seed``, to validation; the rest stay in training. The two
    parts are disjoint and together ``range(len(labels))``; the same ``(labels, fraction,
    seed)`` always gives the same split (:func:`lava_thesis.data.splits.stratified_split`).

    Parameters
    ----------
    labels : 1-D array-like
        The training set's labels (any hashable values numpy can compare).
    fraction : float
        Share of each class held out, in ``[0, 1)``; 0 gives an empty validation set.
    seed : int
        Seed of the per-class permutations.

    Examples
    --------
    >>> tr, va = validation_split([0, 0, 0, 0, 1, 1, 1, 1, 1, 1], fraction=0.5, seed=0)
    >>> len(tr), len(va), sorted(set(tr) | set(va)) == list(range(10))
    (5, 5, True)
    """
    fraction = check_fraction(fraction)
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"labels must be 1-D (one label per training sample), got shape "
                         f"{labels.shape}")
    if len(labels) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty.copy()
    train_idx, val_idx = stratified_split(labels, fraction, int(seed))
    return train_idx.astype(np.int64), val_idx.astype(np.int64)


def validation_info(train_idx: np.ndarray, val_idx: np.ndarray, fraction: float,
                    seed: int) -> dict[str, Any]:
    """The results file's ``validation`` field: ``{"fraction", "seed", "train", "val"}``
    (the last two are the sizes of the two parts).

    Examples
    --------
    >>> validation_info(*validation_split([0, 1] * 10, 0.2, 3), fraction=0.2, seed=3)
    {'fraction': 0.2, 'seed': 3, 'train': 16, 'val': 4}
    """
    return {"fraction": check_fraction(fraction), "seed": int(seed),
            "train": int(len(train_idx)), "val": int(len(val_idx))}


def _values(values: Sequence[float], what: str) -> list[float]:
    if isinstance(values, str | bytes) or not isinstance(values, Sequence | np.ndarray):
        raise ValueError(f"{what} must be a list of numbers, got {values!r}")
    out = []
    for v in values:
        if isinstance(v, bool | np.bool_) or not isinstance(v, numbers.Real) \
                or not math.isfinite(v):
            raise ValueError(f"{what} must hold finite numbers, got {v!r}")
        out.append(float(v))
    if not out:
        raise ValueError(f"{what} is empty: at least one seed is needed")
    return out


def summarize(values: Sequence[float]) -> dict[str, Any]:
    """Mean and sample standard deviation of one metric's per-seed values.

    .. math:: \\bar x = \\frac1n \\sum_i x_i, \\qquad
              s = \\sqrt{\\frac{1}{n-1} \\sum_i (x_i - \\bar x)^2}

    With ``n = 1`` the std is 0 and ``single_seed`` is True (no spread was measured).

    Returns
    -------
    dict
        ``{"mean", "std", "n", "per_seed", "single_seed"}``.

    Examples
    --------
    >>> s = summarize([0.9, 0.92, 0.94])
    >>> round(s["mean"], 6), round(s["std"], 6), s["n"], s["single_seed"]
    (0.92, 0.02, 3, False)
    >>> summarize([0.5])
    {'mean': 0.5, 'std': 0.0, 'n': 1, 'per_seed': [0.5], 'single_seed': True}
    """
    xs = _values(values, "per-seed values")
    n = len(xs)
    mean = math.fsum(xs) / n
    std = math.sqrt(math.fsum((x - mean) ** 2 for x in xs) / (n - 1)) if n > 1 else 0.0
    return {"mean": mean, "std": std, "n": n, "per_seed": xs, "single_seed": n == 1}


def paired_difference(a: Sequence[float], b: Sequence[float]) -> dict[str, Any]:
    """Statistics of ``a_i - b_i`` for two variants run with the same seeds (in the same
    order): :func:`summarize` of the per-seed differences. Pairing removes the share of the
    spread that the seed causes in both variants alike.

    Examples
    --------
    >>> d = paired_difference([0.90, 0.92, 0.95], [0.88, 0.91, 0.92])
    >>> round(d["mean"], 4), d["n"]
    (0.02, 3)
    """
    xa, xb = _values(a, "variant a"), _values(b, "variant b")
    if len(xa) != len(xb):
        raise ValueError(f"paired_difference needs the same seeds for both variants, got "
                         f"{len(xa)} and {len(xb)} values")
    return summarize([x - y for x, y in zip(xa, xb, strict=True)])


def run_seeds(fn: Callable[[int], Mapping[str, float]],
              seeds: Sequence[int]) -> dict[str, list[float]]:
    """Call ``fn(seed)`` for each seed; return each metric's values in seed order.

    Every call must return the same metric names (numbers); the seeds must be distinct.

    Examples
    --------
    >>> run_seeds(lambda s: {"acc": 0.9 + s / 100}, [0, 1, 2])
    {'acc': [0.9, 0.91, 0.92]}
    """
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("run_seeds needs at least one seed")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct, got {seeds}")
    per_seed: dict[str, list[float]] = {}
    for i, seed in enumerate(seeds):
        metrics = dict(fn(seed))
        if i and set(metrics) != set(per_seed):
            raise ValueError(f"seed {seed} returned metrics {sorted(metrics)}, the first seed "
                             f"{sorted(per_seed)}")
        for key, value in metrics.items():
            per_seed.setdefault(key, []).append(_values([value], f"metric {key!r}")[0])
    return per_seed


def seed_results(seeds: Sequence[int], per_seed: Mapping[str, Sequence[float]]
                 ) -> tuple[dict[str, float], dict[str, Any]]:
    """``(metrics, extra)`` for :func:`lava_thesis.results.write_results`: each metric's mean
    over the seeds, and ``{"seeds": [...], "per_seed": {metric: [value per seed]}}``.

    Examples
    --------
    >>> seed_results([0, 1], {"acc": [0.5, 0.7]})
    ({'acc': 0.6}, {'seeds': [0, 1], 'per_seed': {'acc': [0.5, 0.7]}})
    """
    seeds = [int(s) for s in seeds]
    table = {key: _values(values, f"per_seed[{key!r}]") for key, values in per_seed.items()}
    bad = {k: len(v) for k, v in table.items() if len(v) != len(seeds)}
    if bad:
        raise ValueError(f"per_seed lists must have one value per seed ({len(seeds)}), got {bad}")
    metrics = {key: summarize(values)["mean"] for key, values in table.items()}
    return metrics, {"seeds": seeds, "per_seed": table}


def _int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"{what} must be a non-negative integer, got {value!r}")
    return int(value)


def check_validation_field(validation: Any) -> dict[str, Any]:
    """Validate a results file's ``validation`` field (see :func:`validation_info`).

    Examples
    --------
    >>> check_validation_field({"fraction": 0.1, "seed": 0, "train": 90, "val": 10})["val"]
    10
    """
    if not isinstance(validation, Mapping):
        raise ValueError(f"'validation' must be an object {{fraction, seed, train, val}}, got "
                         f"{validation!r}")
    missing = [k for k in ("fraction", "seed", "train", "val") if k not in validation]
    if missing:
        raise ValueError(f"'validation' lacks {missing} (expected fraction, seed, train, val)")
    out = dict(validation)
    out["fraction"] = check_fraction(validation["fraction"], "validation['fraction']")
    for key in ("seed", "train", "val"):
        out[key] = _int(validation[key], f"validation[{key!r}]")
    return out


def check_seed_fields(metrics: Mapping[str, Any], extra: Mapping[str, Any]) -> None:
    """Check a results file's per-seed layout (``extra["seeds"]``, ``extra["per_seed"]``).

    ``per_seed`` maps metric names to non-empty lists of finite numbers, all of one length;
    ``seeds`` (when present) holds that many distinct non-negative integers; every per-seed
    metric exists in ``metrics`` and equals the mean of its values (to 1e-9, relative).
    """
    seeds, table = extra.get("seeds"), extra.get("per_seed")
    if seeds is not None:
        if isinstance(seeds, str) or not isinstance(seeds, Sequence):
            raise ValueError(f"extra['seeds'] must be a list of seeds, got {seeds!r}")
        seeds = [_int(s, "extra['seeds'] entries") for s in seeds]
        if not seeds or len(set(seeds)) != len(seeds):
            raise ValueError(f"extra['seeds'] must be non-empty and distinct, got {seeds}")
    if table is None:
        return
    if not isinstance(table, Mapping):
        raise ValueError(f"extra['per_seed'] must map metric -> list of values, got {table!r}")
    lengths = {}
    for key, values in table.items():
        xs = _values(values, f"extra['per_seed'][{key!r}]")
        lengths[key] = len(xs)
        if key not in metrics:
            raise ValueError(f"extra['per_seed'] has {key!r}, which is not in 'metrics'")
        mean = math.fsum(xs) / len(xs)
        if not math.isclose(metrics[key], mean, rel_tol=1e-9, abs_tol=1e-12):
            raise ValueError(f"metrics[{key!r}] = {metrics[key]!r} is not the mean of "
                             f"extra['per_seed'][{key!r}] ({mean!r})")
    want = len(seeds) if seeds is not None else next(iter(lengths.values()), 0)
    bad = {k: n for k, n in lengths.items() if n != want}
    if bad:
        raise ValueError(f"extra['per_seed'] lists must have one value per seed ({want}), "
                         f"got {bad}")


@dataclass(frozen=True)
class Protocol:
    """How an experiment is evaluated: which seeds train independent models, and the
    validation split carved off the training data (the same split for every seed).

    Parameters
    ----------
    seeds : tuple of int
        Distinct non-negative seeds; one model is trained per seed. A headline needs
        :data:`MIN_SEEDS`.
    val_fraction : float
        Share of each training class held out for validation, in ``[0, 1)``.
    val_seed : int
        Seed of the validation split (default: the first seed).

    Examples
    --------
    >>> p = Protocol.from_options(seed=5, n_seeds=3)
    >>> p.seeds, p.val_fraction, p.val_seed
    ((5, 6, 7), 0.1, 5)
    >>> p.run(lambda s: {"acc": s / 10})
    ({'acc': 0.6}, {'seeds': [5, 6, 7], 'per_seed': {'acc': [0.5, 0.6, 0.7]}})
    """

    seeds: tuple[int, ...] = (0, 1, 2)
    val_fraction: float = 0.1
    val_seed: int | None = None

    def __post_init__(self) -> None:
        seeds = tuple(self.seeds) if isinstance(self.seeds, Sequence) else None
        if not seeds or any(isinstance(s, bool) or not isinstance(s, numbers.Integral) or s < 0
                            for s in seeds) or len(set(seeds)) != len(seeds):
            raise ValueError(f"seeds must be distinct non-negative integers (at least one), "
                             f"got {self.seeds!r}")
        object.__setattr__(self, "seeds", tuple(int(s) for s in seeds))
        object.__setattr__(self, "val_fraction", check_fraction(self.val_fraction,
                                                                "val_fraction"))
        val_seed = self.seeds[0] if self.val_seed is None else self.val_seed
        if isinstance(val_seed, bool) or not isinstance(val_seed, numbers.Integral) \
                or val_seed < 0:
            raise ValueError(f"val_seed must be a non-negative integer, got {val_seed!r}")
        object.__setattr__(self, "val_seed", int(val_seed))

    @classmethod
    def from_options(cls, seed: int = 0, n_seeds: int = MIN_SEEDS,
                     val_fraction: float = 0.1, val_seed: int | None = None) -> Protocol:
        """The command line's ``--seed S --seeds N --val-fraction F [--val-seed V]``: seeds
        ``S .. S+N-1``, the validation split seeded with ``V`` (default ``S``).

        A seed's model depends on its seed and the split only, so ``--seed 1 --seeds 1
        --val-seed 0`` trains the same model as the second seed of ``--seed 0 --seeds 3``:
        the shards that :mod:`lava_thesis.merge` joins into one results file.

        Examples
        --------
        >>> Protocol.from_options(seed=1, n_seeds=1, val_seed=0)
        Protocol(seeds=(1,), val_fraction=0.1, val_seed=0)
        """
        if isinstance(n_seeds, bool) or not isinstance(n_seeds, numbers.Integral) \
                or n_seeds < 1:
            raise ValueError(f"--seeds must be a positive integer, got {n_seeds!r}")
        return cls(tuple(range(int(seed), int(seed) + int(n_seeds))), val_fraction,
                   int(seed) if val_seed is None else val_seed)

    def as_dict(self) -> dict[str, Any]:
        """JSON form for results files and model cards."""
        return {"seeds": list(self.seeds), "val_fraction": self.val_fraction,
                "val_seed": self.val_seed}

    def run(self, fn: Callable[[int], Mapping[str, float]],
            log: Callable[[str], Any] | None = None
            ) -> tuple[dict[str, float], dict[str, Any]]:
        """Train and evaluate one model per seed (``fn(seed)`` returns its metrics); return
        ``(metrics, extra)`` for :func:`lava_thesis.results.write_results` (means, and the
        per-seed values under ``extra``)."""
        def one(seed: int) -> Mapping[str, float]:
            if log is not None and len(self.seeds) > 1:
                log(f"seed {seed} ({self.seeds.index(seed) + 1} of {len(self.seeds)})")
            return fn(seed)

        return seed_results(self.seeds, run_seeds(one, self.seeds))


def or_single_seed(protocol: Protocol | None, seed: int, val_fraction: float = 0.1
                   ) -> Protocol:
    """``protocol``, or, when it is None, one seed (``seed``, a config's own) with
    ``val_fraction``: what an experiment's Python API runs when no protocol is given.

    Examples
    --------
    >>> or_single_seed(None, 4, 0.2)
    Protocol(seeds=(4,), val_fraction=0.2, val_seed=4)
    >>> or_single_seed(Protocol((0, 1)), 4).seeds
    (0, 1)
    """
    return protocol if protocol is not None else Protocol((seed,), val_fraction)


def split_training(x: Any, y: Sequence[int] | np.ndarray, protocol: Protocol
                   ) -> tuple[tuple[Any, np.ndarray], tuple[Any, np.ndarray], dict[str, Any]]:
    """Carve ``protocol``'s validation split off training data ``(x, y)``.

    ``x`` is anything numpy can index with an integer array along its first axis (an array,
    or a list, which is indexed element by element). Returns ``((x_train, y_train),
    (x_val, y_val), validation)`` where ``validation`` is :func:`validation_info` (the results
    file's field).

    Examples
    --------
    >>> x = np.arange(20).reshape(10, 2); y = np.array([0] * 5 + [1] * 5)
    >>> (xt, yt), (xv, yv), info = split_training(x, y, Protocol((0,), 0.2))
    >>> xt.shape, xv.shape, info
    ((8, 2), (2, 2), {'fraction': 0.2, 'seed': 0, 'train': 8, 'val': 2})
    """
    y = np.asarray(y)
    if len(x) != len(y):
        raise ValueError(f"split_training: {len(x)} samples but {len(y)} labels")
    tr, va = validation_split(y, protocol.val_fraction, protocol.val_seed)

    def take(data: Any, idx: np.ndarray) -> Any:
        if isinstance(data, np.ndarray) or hasattr(data, "shape"):
            return data[idx]
        return [data[int(i)] for i in idx]

    info = validation_info(tr, va, protocol.val_fraction, protocol.val_seed)
    return (take(x, tr), y[tr]), (take(x, va), y[va]), info
