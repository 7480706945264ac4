"""``lava-thesis merge``: the command line of :mod:`lava_thesis.merge`, and the one place that
knows which experiment redraws a merged file's plot (:func:`replot_merged`)."""

from __future__ import annotations

import shlex
from importlib import import_module
from pathlib import Path
from typing import Annotated, Any

import typer

from lava_thesis.cli_common import AllowDirty, check_clean_out, check_paths, fail


def replot_merged(record: dict[str, Any], out_dir: Path) -> Path:
    """Redraw a merged ablation's plot over every seed with its experiment's ``replot``
    (the commands :func:`lava_thesis.merge.plots_of` marks ``"redraw"``)."""
    method = shlex.split(record["command"])[2]  # diet, hybrid, stdp-prune
    module = import_module(f"lava_thesis.experiments.ablate_{method.replace('-', '_')}")
    return module.replot(record, out_dir)


def merge_cmd(
    shards: Annotated[list[Path], typer.Argument(
        help="Results files of one run's seed shards (--seed K --seeds 1 --val-seed V ...).")],
    out: Annotated[Path, typer.Option(help="Directory for the merged results JSON.")
                   ] = Path("results"),
    allow_dirty: AllowDirty = False,
) -> None:
    """Join the results files of a run's seed shards into the file of the one multi-seed run
    they stand for (per-seed values in seed order, their means, each shard's command)."""
    check_paths(files={f"shard {i + 1}": p for i, p in enumerate(shards)},
                out_dirs={"--out": out})
    check_clean_out(out, allow_dirty)
    from lava_thesis.merge import merge_files, plots_of
    from lava_thesis.results import read_results

    try:
        path = merge_files(shards, out, allow_dirty=allow_dirty, replot=replot_merged)
    except ValueError as err:  # a refused shard; a malformed results file
        fail(str(err))
    typer.echo(f"merged {len(shards)} shards into {path}")
    if plots_of(read_results(path)["command"]) == "primary":
        typer.echo("its model and plot files are the lowest seed's: those its shard wrote")
