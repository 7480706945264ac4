"""Shared pieces of the ``lava-thesis`` command line: option types, choices, data loading and
the clean exit on bad input (code 2, message on stderr)."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

DataDir = Annotated[Path | None, typer.Option(
    "--data-dir", help="Data root (else $LAVA_THESIS_DATA, else ~/.cache/lava-thesis/data).")]
Seed = Annotated[int, typer.Option("--seed", help="Random seed.")]


class Method(str, Enum):
    quickstart = "quickstart"
    stdp = "stdp"
    multimodal = "multimodal"
    hybrid = "hybrid"
    diet = "diet"
    lite = "lite"


class Task(str, Enum):
    """LITE-SNN (method 5) tasks."""

    sentiment = "sentiment"
    events = "events"
    seq2seq = "seq2seq"
    length = "length"
    length_smnist = "length-smnist"


class Readout(str, Enum):
    """DIET class readout (see lava_thesis.diet.model)."""

    integrator = "integrator"
    spikes = "spikes"


class Dataset(str, Enum):
    mnist = "mnist"
    fashion_mnist = "fashion-mnist"
    cifar10 = "cifar10"


def fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=2)


def require_file(path: Path, what: str) -> None:
    """Exit with code 2 and ``<what> not found: <path>`` unless ``path`` is a file."""
    if not path.is_file():
        fail(f"{what} not found: {path}")


def load_split(dataset: Dataset, split: str, data_dir: Path | None):
    """uint8 images ``(N, H, W)`` (MNIST family) or ``(N, C, H, W)`` (CIFAR) and labels."""
    from lava_thesis.data.cifar import load_cifar10
    from lava_thesis.data.mnist import load_mnist

    try:
        if dataset is Dataset.cifar10:
            images, labels = load_cifar10(split, data_dir)
            return images.transpose(0, 3, 1, 2), labels
        return load_mnist(split, data_dir, dataset=dataset.value)
    except (FileNotFoundError, ValueError) as err:
        fail(str(err))
