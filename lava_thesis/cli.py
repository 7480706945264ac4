"""The ``lava-thesis`` command line. Thin: parses arguments, calls the library, prints.

Every experiment command writes ``<out>/<experiment>.json`` (see :mod:`lava_thesis.results`).
"""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Energy-efficient, low-latency SNNs on Lava and lava-dl.")

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


PENDING = {Method.stdp: 3, Method.multimodal: 4, Method.hybrid: 5, Method.lite: 7}


class Dataset(str, Enum):
    mnist = "mnist"
    fashion_mnist = "fashion-mnist"


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=2)


def _load(dataset: Dataset, split: str, data_dir: Path | None):
    from lava_thesis.data.mnist import load_mnist

    try:
        return load_mnist(split, data_dir, dataset=dataset.value)
    except (FileNotFoundError, ValueError) as err:
        _fail(str(err))


@app.command()
def demo(
    out: Annotated[Path, typer.Option(help="Output directory.")] = Path("out/demo"),
    seed: Seed = 0,
    epochs: Annotated[int, typer.Option(min=1)] = 4,
    lava_samples: Annotated[int, typer.Option(min=1, max=500)] = 500,
    diet_lava_samples: Annotated[int, typer.Option(min=1, max=500)] = 200,
) -> None:
    """The main job, offline: SLAYER and DIET-SNN on shipped MNIST, run in Lava, compared."""
    from lava_thesis.demo import run_demo

    run_demo(out, seed=seed, epochs=epochs, lava_samples=lava_samples,
             diet_lava_samples=diet_lava_samples, log=typer.echo)


@app.command()
def train(
    method: Annotated[Method, typer.Argument(help="Which method to train.")],
    dataset: Annotated[Dataset, typer.Option()] = Dataset.mnist,
    data_dir: DataDir = None,
    out: Annotated[Path, typer.Option(help="Directory for the results JSON.")] = Path("out"),
    model_dir: Annotated[Path | None, typer.Option(
        help="Directory for the .net, .pt and model card (default: --out).")] = None,
    seed: Seed = 0,
    epochs: Annotated[int, typer.Option(min=1, help="Training epochs (SNN).")] = 4,
    num_steps: Annotated[int | None, typer.Option(
        min=1, help="Time steps per sample (default: quickstart 16, diet 5).")] = None,
    lava_samples: Annotated[int, typer.Option(min=1, help="Test samples run in Lava.")] = 1000,
) -> None:
    """Train a method on real data and write <out>/<experiment>.json (+ plots, model files)."""
    if method in PENDING:
        _fail(f"method '{method.value}' is not implemented yet (issue #{PENDING[method]})")
    train_data, test_data = _load(dataset, "train", data_dir), _load(dataset, "test", data_dir)
    name = dataset.value.replace("-", "_")
    if method is Method.diet:
        from lava_thesis.diet.train import TrainConfig
        from lava_thesis.experiments.diet import DietConfig
        from lava_thesis.experiments.diet import run as run_diet

        cfg = DietConfig(num_steps=num_steps or 5, lava_samples=lava_samples,
                         train=TrainConfig(epochs=epochs, seed=seed))
        metrics = run_diet(train_data, test_data, out, dataset=dataset.value, config=cfg,
                           experiment=f"diet_{name}", model_dir=model_dir, log=typer.echo)
    else:
        from lava_thesis.experiments.quickstart import QuickstartConfig, run

        cfg = QuickstartConfig(epochs=epochs, seed=seed, num_steps=num_steps or 16,
                               lava_samples=lava_samples)
        metrics = run(train_data, test_data, out, dataset=dataset.value, config=cfg,
                      experiment=f"quickstart_{name}", model_dir=model_dir, log=typer.echo)
    for key, value in metrics.items():
        typer.echo(f"{key}: {value}")


@app.command("eval")
def evaluate(
    model: Annotated[Path, typer.Argument(help="A quickstart model's .pt file.")],
    dataset: Annotated[Dataset, typer.Option()] = Dataset.mnist,
    data_dir: DataDir = None,
    seed: Seed = 2,
) -> None:
    """Accuracy of a trained quickstart model (SLAYER, torch) on the test split."""
    from lava_thesis import quickstart as qs
    from lava_thesis.experiments.quickstart import encode, load_model

    try:
        net, cfg = load_model(model)
    except (FileNotFoundError, ValueError) as err:
        _fail(str(err))
    images, labels = _load(dataset, "test", data_dir)
    pred = qs.predict(qs.output_spikes(net, encode(images, cfg.num_steps, seed)))
    typer.echo(f"accuracy: {(pred == labels).mean():.4f} on {len(labels)} images")


@app.command()
def export(
    model: Annotated[Path, typer.Argument(help="A quickstart model's .pt file.")],
    out: Annotated[Path, typer.Option(help="The .net file to write.")],
) -> None:
    """Export a trained quickstart model to a netx .net file."""
    from lava_thesis.experiments.quickstart import load_model

    try:
        net, _ = load_model(model)
    except (FileNotFoundError, ValueError) as err:
        _fail(str(err))
    typer.echo(f"wrote {net.export_hdf5(out)}")


@app.command("run-lava")
def run_lava_cmd(
    net: Annotated[Path, typer.Argument(help="A netx .net file with 784 inputs.")],
    dataset: Annotated[Dataset, typer.Option()] = Dataset.mnist,
    data_dir: DataDir = None,
    samples: Annotated[int, typer.Option(min=1)] = 100,
    num_steps: Annotated[int, typer.Option(min=1)] = 16,
    tag: Annotated[str, typer.Option(help="fixed_pt or floating_pt")] = "fixed_pt",
    seed: Seed = 2,
) -> None:
    """Run a netx network in Lava's CPU simulator on Poisson-coded test images."""
    from lava_thesis import quickstart as qs
    from lava_thesis.deploy.netx_run import netx_output_spikes
    from lava_thesis.experiments.quickstart import encode

    if not net.is_file():
        _fail(f"netx file not found: {net}")
    images, labels = _load(dataset, "test", data_dir)
    spikes = encode(images[:samples], num_steps, seed)
    try:
        pred = qs.predict(netx_output_spikes(net, spikes, tag=tag))
    except ValueError as err:
        _fail(str(err))
    typer.echo(f"Lava {tag} accuracy: {(pred == labels[:samples]).mean():.4f} on {samples}")


@app.command()
def report(
    results: Annotated[Path, typer.Option(help="Directory of results JSON.")] = Path("results"),
    readme: Annotated[Path, typer.Option(help="README to update.")] = Path("README.md"),
    check: Annotated[bool, typer.Option(help="Only check that the table is current.")] = False,
) -> None:
    """Regenerate the README results table from results/*.json."""
    from lava_thesis.report import StaleReadmeError
    from lava_thesis.report import report as make_report

    try:
        changed = make_report(results, readme, check=check)
    except StaleReadmeError as err:
        _fail(str(err))
    except (FileNotFoundError, ValueError) as err:
        _fail(str(err))
    typer.echo("README table " + ("updated" if changed else "is current"))


def main() -> None:  # pragma: no cover - console entry point
    app(prog_name="lava-thesis", args=sys.argv[1:])
