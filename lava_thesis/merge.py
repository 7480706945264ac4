"""``lava-thesis merge``: join seed shards into the results file of one multi-seed run.

A run of ``--seeds N`` trains its seeds one after the other. When one run takes longer than a
machine can be held, its seeds can run as *shards*, separate commands that each train some of
the seeds against the same validation split::

    lava-thesis train stdp --n-exc 1600 --seed 0 --seeds 1 --out s0
    lava-thesis train stdp --n-exc 1600 --seed 1 --seeds 1 --val-seed 0 --lava-samples 0 --out s1
    lava-thesis train stdp --n-exc 1600 --seed 2 --seeds 1 --val-seed 0 --lava-samples 0 --out s2
    lava-thesis merge s0/stdp_mnist_n1600.json s1/... s2/... --out results

A seed's model depends on its seed and the split only, so the shards train exactly the models
``--seed 0 --seeds 3`` would (``tests/test_merge.py`` checks it value for value). The merged
file is that run's file:

* ``extra.seeds`` / ``extra.per_seed``: every shard's values in seed order, and ``metrics``
  their means;
* everything else (the metrics that are not per seed, such as the Lava check, ``config``,
  the rest of ``extra``) from the *primary* shard, the one holding the lowest seed, which is
  the seed the whole run would have used for them;
* ``command``: the one command the shards stand for (``--seed S --seeds N [--val-seed V]``
  with the primary shard's other options), which ``lava-thesis reproduce`` re-runs;
* ``extra.shards``: each shard's own command, commit, date, seconds and seeds, plus what the
  primary shard does not hold (its metrics and ``extra`` entries that differ);
* ``elapsed_s``: the shards' seconds added up, what the run costs on one machine.

Shards of ``ablate diet`` may also split ``--steps`` (:func:`key_option`): each part trains
every seed at some of the T values, and the parts' metrics are joined (same seeds, disjoint
metrics, the T lists joined in ascending order), as ``--steps 1,2,3,5,8`` would write them.

Plots: a merged ``train stdp`` file's model and receptive fields are the lowest seed's, so
the primary shard's files are the run's; the plots of ``ablate stdp-prune``, ``ablate
diet`` and ``ablate hybrid`` span the seeds and are redrawn from the merged file; ``ablate
diet-peer`` draws none. Merge refuses the commands whose plots it cannot redraw
(:func:`plots_of`).

Shards are refused (:class:`MergeError`, one line naming the file) unless they come from the
same clean commit, the same experiment, data set, validation split, configuration and command
(up to ``--seed``, ``--seeds``, ``--val-seed`` and ``--lava-samples``), none resumed, and
their seeds are distinct and together consecutive.
"""

from __future__ import annotations

import copy
import math
import shlex
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from lava_thesis.protocol import summarize
from lava_thesis.reproduce import _drop_option, _set_option
from lava_thesis.results import read_results, write_results

__all__ = ["SHARD_OPTIONS", "MergeError", "equivalent_command", "key_option", "merge_files",
           "merge_records", "plots_of"]

#: command-line options in which shards of one run may differ
SHARD_OPTIONS = ("--seed", "--seeds", "--val-seed", "--lava-samples")
#: config keys in which shards of one run may differ (they follow from SHARD_OPTIONS)
SHARD_CONFIG = ("seed", "lava_samples", "protocol")


class MergeError(ValueError):
    """The shards cannot be joined (one line says which file and why)."""


def _argv(command: str, source: str) -> list[str]:
    try:
        argv = shlex.split(command)
    except ValueError as err:
        raise MergeError(f"{source}: command {command!r} cannot be parsed: {err}") from None
    if any(a == "--resume" or a.startswith("--resume=") for a in argv):
        raise MergeError(f"{source}: a resumed run (--resume) cannot be a shard of a "
                         "headline file")
    return argv


def _without(argv: Sequence[str], names: Sequence[str]) -> list[str]:
    """``argv`` without the options ``names`` and their values (``--x v`` or ``--x=v``)."""
    out = list(argv)
    for name in names:
        out = _drop_option(out, name)
    return out


def equivalent_command(command: str, seeds: Sequence[int], val_seed: int) -> str:
    """``command`` (a shard's) as the one command that trains ``seeds`` (consecutive) against
    the split seeded with ``val_seed``.

    Examples
    --------
    >>> equivalent_command("lava-thesis train stdp --seed 1 --seeds 1 --val-seed 0 "
    ...                    "--lava-samples 0 --out results", [0, 1, 2], 0)
    'lava-thesis train stdp --lava-samples 0 --out results --seed 0 --seeds 3'
    """
    argv = _without(shlex.split(command), ("--seed", "--seeds", "--val-seed"))
    argv += ["--seed", str(seeds[0]), "--seeds", str(len(seeds))]
    if val_seed != seeds[0]:
        argv += ["--val-seed", str(val_seed)]
    return shlex.join(argv)


def _same(field: str, records: Sequence[Mapping[str, Any]], sources: Sequence[str],
          value=lambda r, f: r.get(f)) -> None:
    first = value(records[0], field)
    for rec, src in zip(records[1:], sources[1:], strict=True):
        if value(rec, field) != first:
            raise MergeError(f"{src}: its {field} ({value(rec, field)!r}) differs from "
                             f"{sources[0]}'s ({first!r}); shards must come from one run")


def _config(config: Any) -> Any:
    """``config`` without the keys shards differ in, at any depth (an ablation nests the
    trained network's config, seed included); of ``protocol`` only ``seeds`` is dropped."""
    if not isinstance(config, Mapping):
        return config
    out = {k: _config(v) for k, v in config.items() if k not in SHARD_CONFIG}
    protocol = config.get("protocol")
    if isinstance(protocol, Mapping):
        out["protocol"] = {k: v for k, v in protocol.items() if k != "seeds"}
    return out


def _check_shard(rec: Mapping[str, Any], src: str) -> None:
    if not rec["extra"].get("per_seed") or not rec["extra"].get("seeds"):
        raise MergeError(f"{src}: has no per-seed values (extra.seeds, extra.per_seed); "
                         "only files of seeded runs can be merged")
    commit = rec["commit"]
    if rec.get("dirty") or commit.endswith("-dirty") or commit == "unknown":
        raise MergeError(f"{src}: made from commit {commit!r}"
                         f"{' (marked dirty)' if rec.get('dirty') else ''}; a shard "
                         "must come from a clean commit")
    if rec["config"].get("resumed") or rec["extra"].get("resumed_seeds"):
        raise MergeError(f"{src}: a resumed run cannot be a shard of a headline file")
    if rec.get("elapsed_s") is None:
        raise MergeError(f"{src}: has no elapsed_s; the merged file records what the run "
                         "costs, the sum of its shards' seconds")


def key_option(command: str) -> tuple[str, str] | None:
    """``(option, config key)`` by which shards of ``command`` may also split the work, each
    training every seed on a part of the option's list (disjoint metrics), or None.

    Examples
    --------
    >>> key_option("lava-thesis ablate diet --steps 1,2")
    ('--steps', 'steps')
    >>> key_option("lava-thesis train stdp") is None
    True
    """
    return ("--steps", "steps") if shlex.split(command)[1:3] == ["ablate", "diet"] else None


def merge_records(records: Sequence[Mapping[str, Any]],
                  sources: Sequence[str] | None = None) -> dict[str, Any]:
    """The results record of the run that ``records`` (read results files, one per shard)
    are shards of; ``sources`` name them in errors (default ``shard 1``, ...). See the
    module docstring for what is checked and where each field comes from."""
    sources = list(sources or [f"shard {i + 1}" for i in range(len(records))])
    if len(records) < 2:
        raise MergeError("merge needs at least two shards (results files)")
    if len(sources) != len(records):
        raise ValueError("one source name per record")
    for rec, src in zip(records, sources, strict=True):
        _check_shard(rec, src)
    for field in ("experiment", "method", "dataset", "commit", "validation"):
        _same(field, records, sources)
    split = key_option(records[0]["command"])
    option, cfg_key = split or ("", "")
    _same("config", records, sources,
          lambda r, f: _config({k: v for k, v in r["config"].items() if k != cfg_key}))
    argvs = [_argv(r["command"], s) for r, s in zip(records, sources, strict=True)]
    _same("command", [{"command": _without(a, (*SHARD_OPTIONS, option))} for a in argvs],
          sources)
    groups: dict[tuple, list[int]] = {}
    for i, rec in enumerate(records):
        groups.setdefault(tuple(rec["config"].get(cfg_key) or ()) if split else (), []
                          ).append(i)
    parts = [_merge_seeds([records[i] for i in idx], [sources[i] for i in idx])
             for _, idx in sorted(groups.items())]
    merged = parts[0] if len(parts) == 1 else _join(parts, option, cfg_key)
    merged["elapsed_s"] = round(math.fsum(r["elapsed_s"] for r in records), 1)
    return merged


def _merge_seeds(records: Sequence[Mapping[str, Any]], sources: Sequence[str]
                 ) -> dict[str, Any]:
    """One record from shards that split the seeds (a single shard is returned as is, with
    its ``extra.shards`` entry)."""
    _same("per-seed metrics", records, sources, lambda r, f: sorted(r["extra"]["per_seed"]))
    order = sorted(range(len(records)), key=lambda i: min(records[i]["extra"]["seeds"]))
    seeds = [int(s) for i in order for s in records[i]["extra"]["seeds"]]
    if len(set(seeds)) != len(seeds):
        dup = sorted({s for s in seeds if seeds.count(s) > 1})
        raise MergeError(f"seed(s) {dup} appear in more than one shard; each seed is trained "
                         "once")
    if seeds != list(range(seeds[0], seeds[0] + len(seeds))):
        raise MergeError(f"the shards' seeds {seeds} are not consecutive; give --seed/--seeds "
                         "so that together they are S, S+1, ..., as one run's")
    primary = records[order[0]]
    merged = copy.deepcopy(dict(primary))
    per_seed = {key: [float(v) for i in order for v in records[i]["extra"]["per_seed"][key]]
                for key in primary["extra"]["per_seed"]}
    merged["extra"]["seeds"] = seeds
    merged["extra"]["per_seed"] = per_seed
    merged["metrics"].update({key: summarize(vals)["mean"] for key, vals in per_seed.items()})
    if isinstance(merged["config"].get("protocol"), Mapping):
        merged["config"]["protocol"]["seeds"] = seeds
    val_seed = int(primary["validation"]["seed"]) if primary.get("validation") else seeds[0]
    merged["command"] = equivalent_command(primary["command"], seeds, val_seed)
    shards = []
    for i in order:
        rec = records[i]
        entry = {"source": Path(sources[i]).name, "seeds": list(rec["extra"]["seeds"]),
                 "command": rec["command"], "commit": rec["commit"], "date": rec["date"],
                 "elapsed_s": rec["elapsed_s"]}
        if i != order[0]:
            own = {k: v for k, v in rec["metrics"].items() if k not in rec["extra"]["per_seed"]}
            differs = {k: v for k, v in rec["extra"].items()
                       if k not in ("seeds", "per_seed") and primary["extra"].get(k) != v}
            entry.update({"metrics": own} if own else {})
            entry.update({"extra": differs} if differs else {})
        shards.append(entry)
    merged["extra"]["shards"] = shards
    return merged


def _join(parts: Sequence[dict[str, Any]], option: str, cfg_key: str) -> dict[str, Any]:
    """One record from ``parts`` (each already merged over the seeds) that split ``option``'s
    list: the same seeds, disjoint metrics, the list joined in ascending order as the one
    run's (``--steps 1,2,3``), its metrics, headline and ``cfg_key`` in that order."""
    def what(part: Mapping[str, Any]) -> str:
        return f"the shards of {option} {','.join(map(str, part['config'][cfg_key]))}"

    values = [v for part in parts for v in part["config"][cfg_key]]
    if values != sorted(set(values)):
        raise MergeError(f"the shards' {option} lists {values} overlap or are not ascending "
                         f"when joined; give each shard its own values")
    merged = copy.deepcopy(parts[0])
    for part in parts[1:]:
        if part["extra"]["seeds"] != merged["extra"]["seeds"]:
            raise MergeError(f"{what(part)} train seeds {part['extra']['seeds']}, "
                             f"{what(parts[0])} {merged['extra']['seeds']}: every part of "
                             f"{option} needs the same seeds")
        if clash := sorted(set(part["metrics"]) & set(merged["metrics"])):
            raise MergeError(f"{what(part)} repeat metrics {clash[:3]} of other shards")
        others = {k: v for k, v in part["extra"].items()
                  if k not in ("seeds", "per_seed", "shards")}
        if others != {k: v for k, v in parts[0]["extra"].items()
                      if k not in ("seeds", "per_seed", "shards")}:
            raise MergeError(f"{what(part)} record other extra fields than "
                             f"{what(parts[0])}; shards must come from one run")
        merged["metrics"].update(part["metrics"])
        merged["extra"]["per_seed"].update(part["extra"]["per_seed"])
        merged["extra"]["shards"] += part["extra"]["shards"]
        merged["headline"] = [*(merged.get("headline") or []), *(part.get("headline") or [])]
    merged["config"][cfg_key] = values
    merged["command"] = shlex.join(_set_option(shlex.split(merged["command"]), option,
                                               ",".join(map(str, values))))
    return merged


def plots_of(command: str) -> str:
    """How the plots of a merged file of ``command`` come about: ``"primary"`` (they show the
    lowest seed's network, so the primary shard's are the run's), ``"redraw"`` (they span the
    seeds: :func:`merge_files` redraws them from the merged values), ``"none"`` (the command
    draws no plot), else MergeError (merge cannot redraw them yet).

    Examples
    --------
    >>> plots_of("lava-thesis train stdp --n-exc 1600 --seed 0 --seeds 1")
    'primary'
    """
    argv = shlex.split(command)[1:]
    if argv[:2] == ["train", "stdp"] and "--sweep" not in argv:
        return "primary"
    if argv[:2] in (["ablate", "stdp-prune"], ["ablate", "diet"], ["ablate", "hybrid"]):
        return "redraw"
    if argv[:2] == ["ablate", "diet-peer"]:
        return "none"
    raise MergeError(f"merge cannot redraw the plots of `lava-thesis {' '.join(argv[:2])}` "
                     "over every seed (it knows `train stdp`, `ablate stdp-prune`, `ablate "
                     "diet`, `ablate hybrid` and `ablate diet-peer`); run it as one command")


def merge_files(paths: Sequence[str | Path], out_dir: str | Path, *,
                allow_dirty: bool = False,
                replot: Callable[[dict[str, Any], Path], Path] | None = None) -> Path:
    """Read the shard files ``paths``, join them (:func:`merge_records`) and write
    ``<out_dir>/<experiment>.json`` (:func:`lava_thesis.results.write_results`, so into the
    repository's ``results/`` only from a clean tree); redraw its plot where it spans the
    seeds (:func:`plots_of`) with ``replot(record, out_dir)``, the experiment's own plotting
    (the command line passes :func:`lava_thesis.cli_merge.replot_merged`). Return the results
    file's path."""
    records = [read_results(p) for p in paths]
    merged = merge_records(records, [str(p) for p in paths])
    how = plots_of(merged["command"])
    if how == "redraw" and replot is None:
        raise ValueError(f"merging {merged['experiment']} redraws its plot: pass replot")
    path = write_results(
        out_dir, merged["experiment"], dataset=merged["dataset"], metrics=merged["metrics"],
        command=merged["command"], method=merged["method"], paper=merged["paper"],
        config=merged["config"], extra=merged["extra"], commit=merged["commit"],
        headline=merged["headline"], validation=merged.get("validation"),
        allow_dirty=allow_dirty, elapsed_s=merged["elapsed_s"])
    if how == "redraw":
        replot(read_results(path), Path(out_dir))
    return path
