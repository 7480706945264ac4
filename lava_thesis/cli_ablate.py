"""``lava-thesis ablate``: controlled experiments that switch one of a method's mechanisms off
(:mod:`lava_thesis.experiments.ablate_diet`). Errors follow :mod:`lava_thesis.cli`'s rules (one
line, exit code 2)."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from lava_thesis.cli_common import (
    AllowDirty,
    DataDir,
    Dataset,
    TestSamples,
    TrainSamples,
    ValFraction,
    check_clean_out,
    check_paths,
    fail,
    load_train_test,
)


class Ablation(str, Enum):
    """Which method's claim is ablated."""

    diet = "diet"


def ablate(
    method: Annotated[Ablation, typer.Argument(help="Which method's claim to test.")],
    dataset: Annotated[Dataset, typer.Option()] = Dataset.mnist,
    data_dir: DataDir = None,
    out: Annotated[Path, typer.Option(help="Directory for the results JSON.")] = Path("out"),
    steps: Annotated[str, typer.Option(
        help="Time steps T, comma-separated; every variant is retrained at each.")
    ] = "1,2,3,5,8",
    variants: Annotated[str, typer.Option(
        help="Comma-separated among leak+threshold, threshold, leak, neither.")
    ] = "leak+threshold,threshold,leak,neither",
    epochs: Annotated[int, typer.Option(min=1, help="Training epochs per network.")] = 4,
    seed: Annotated[int, typer.Option(min=0, help="First seed.")] = 0,
    seeds: Annotated[int, typer.Option(min=1, help="Networks per variant and T.")] = 3,
    val_fraction: ValFraction = 0.1,
    train_samples: TrainSamples = None,
    test_samples: TestSamples = None,
    allow_dirty: AllowDirty = False,
) -> None:
    """DIET: deployed accuracy, spike rates and energy vs T with the learned leak and/or
    threshold switched off, each variant retrained at each T (one results file and plot)."""
    from lava_thesis.experiments import ablate_diet as ab
    from lava_thesis.protocol import Protocol

    try:
        step_list = ab.parse_steps(steps)
    except ValueError as err:
        fail(f"--steps: {err}")
    chosen = tuple(v.strip() for v in variants.split(","))
    if unknown := [v for v in chosen if v not in ab.VARIANTS]:
        fail(f"--variants: unknown {', '.join(unknown)}; choose among {', '.join(ab.VARIANTS)}")
    if dataset is Dataset.cifar10:
        fail("--dataset cifar10: the ablation runs the small DIET spec (mnist, fashion-mnist)")
    check_paths(out_dirs={"--out": out}, data_dir=data_dir)
    check_clean_out(out, allow_dirty)
    train, test = load_train_test(dataset, data_dir, train_samples, test_samples)
    cfg = ab.DietAblationConfig(steps=step_list, variants=chosen, seed=seed,
                                val_fraction=val_fraction,
                                train=ab.TrainConfig(epochs=epochs, seed=seed))
    metrics = ab.run(train, test, out, dataset=dataset.value, config=cfg,
                     experiment=f"ablate_diet_{dataset.value.replace('-', '_')}",
                     log=typer.echo, protocol=Protocol.from_options(seed, seeds, val_fraction),
                     allow_dirty=allow_dirty)
    for name, value in metrics.items():
        typer.echo(f"{name}: {value}")
