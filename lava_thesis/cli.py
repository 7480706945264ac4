"""The ``lava-thesis`` command line. Thin: parses arguments, calls the library, prints.

Every experiment command writes ``<out>/<experiment>.json`` (see :mod:`lava_thesis.results`).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from lava_thesis.cli_common import (
    DataDir,
    Dataset,
    Method,
    Readout,
    Seed,
    Task,
    fail,
    load_split,
    require_file,
)
from lava_thesis.cli_train import paired_data, train_lite, train_multimodal

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Energy-efficient, low-latency SNNs on Lava and lava-dl.")

@app.command()
def demo(
    out: Annotated[Path, typer.Option(help="Output directory.")] = Path("out/demo"),
    seed: Seed = 0,
    epochs: Annotated[int, typer.Option(min=1)] = 4,
    lava_samples: Annotated[int, typer.Option(min=1, max=500)] = 500,
    diet_lava_samples: Annotated[int, typer.Option(min=1, max=500)] = 200,
) -> None:
    """The main job, offline: all five methods at a small size on the shipped MNIST digits and
    FSDD recordings, each checked in Lava."""
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
    epochs: Annotated[int | None, typer.Option(
        min=1, help="Training epochs (default: stdp and multimodal 1, hybrid 3 (STDB), "
                    "others 4).")] = None,
    num_steps: Annotated[int | None, typer.Option(
        min=1, help="Time steps per sample (default: quickstart 16, diet 5, hybrid 25).")] = None,
    lava_samples: Annotated[int | None, typer.Option(
        min=0, help="Test samples run in Lava (default: stdp/hybrid 200, multimodal 100 pairs, "
                    "others 1000).")] = None,
    spec: Annotated[str | None, typer.Option(
        help="DIET layers, e.g. c8k3s2,c32k3s1,c64k3s2,f,d256,d10, or a name: "
             "small (default), vgg9 (for CIFAR-10).")] = None,
    rate_penalty: Annotated[float, typer.Option(
        min=0.0, help="DIET: weight of the hidden spike rates' excess over --rate-target in "
                      "the loss (energy).")] = 0.0,
    rate_target: Annotated[float, typer.Option(
        min=0.0, max=1.0, help="DIET: spike rate (per neuron per step) under which a hidden "
                               "layer is not penalised (0: plain rate penalty).")] = 0.0,
    readout: Annotated[Readout, typer.Option(
        help="DIET: class readout, a non-spiking integrator (the paper) or spike counts."
    )] = Readout.integrator,
    n_exc: Annotated[int, typer.Option(
        min=1, help="STDP: excitatory neurons (multimodal: per ensemble).")] = 400,
    prune_fraction: Annotated[float, typer.Option(
        min=0.0, max=0.99, help="STDP: fraction of each neuron's synapses pruned.")] = 0.0,
    levels: Annotated[int, typer.Option(
        min=0, help="STDP: weight levels after quantization (0: float).")] = 0,
    train_samples: Annotated[int | None, typer.Option(
        min=1, help="STDP / hybrid: training images; multimodal: training pairs (default: "
                    "all).")] = None,
    test_samples: Annotated[int | None, typer.Option(
        min=1, help="STDP / hybrid: test images (default: all).")] = None,
    resume: Annotated[bool, typer.Option(
        help="hybrid: reuse this experiment's finished ANN / STDB checkpoints.")] = False,
    reset: Annotated[str, typer.Option(
        help="hybrid: reset of the torch SNN, hard (deployable) or soft (the paper).")] = "hard",
    sweep: Annotated[bool, typer.Option(
        help="STDP: sweep pruned fraction (0-90%, float) and levels (2-16 at "
             "--prune-fraction).")] = False,
    task: Annotated[Task, typer.Option(help="lite: which sequence task.")] = Task.sentiment,
    budget_cpu_s: Annotated[float | None, typer.Option(
        min=1.0, help="lite seq2seq: training budget per model in process CPU seconds "
                      "(default 600; the same for every model).")] = None,
) -> None:
    """Train a method on real data and write <out>/<experiment>.json (+ plots, model files)."""
    if method is Method.lite:
        metrics = train_lite(task, data_dir, out, model_dir, epochs=epochs, seed=seed,
                              lava_samples=lava_samples, train_samples=train_samples,
                              test_samples=test_samples, budget_cpu_s=budget_cpu_s)
        for key, value in metrics.items():
            typer.echo(f"{key}: {value}")
        return
    if dataset is Dataset.cifar10 and method not in (Method.diet, Method.hybrid):
        fail("cifar10 is wired for the diet and hybrid methods only (the quickstart and STDP "
              "networks are 784-input)")
    train_data = load_split(dataset, "train", data_dir)
    test_data = load_split(dataset, "test", data_dir)
    from lava_thesis.diet import parse_spec

    name = dataset.value.replace("-", "_")
    if method is Method.hybrid:
        from lava_thesis.experiments import hybrid as hyb
        from lava_thesis.hybrid.stdb import STDBConfig

        if reset not in ("hard", "soft"):
            fail(f"--reset must be hard or soft, got {reset!r}")
        spec_layers = tuple(spec.split(",")) if spec else hyb.DEFAULT_SPEC
        try:
            parse_spec(spec_layers, train_data[0].shape[1:] if train_data[0].ndim == 4
                       else (1, *train_data[0].shape[1:]))
        except ValueError as err:
            fail(f"--spec: {err}")
        cfg = hyb.HybridConfig(spec=spec_layers, num_steps=num_steps or 25, reset=reset,
                               stdb=STDBConfig(epochs=epochs or 3, seed=seed),
                               lava_samples=200 if lava_samples is None else lava_samples)
        if train_samples:  # the ANN and STDB both train on this many images
            train_data = (train_data[0][:train_samples], train_data[1][:train_samples])
        if test_samples:
            test_data = (test_data[0][:test_samples], test_data[1][:test_samples])
        metrics = hyb.run(train_data, test_data, out, dataset=dataset.value, config=cfg,
                          experiment=f"hybrid_{name}", model_dir=model_dir, resume=resume,
                          log=typer.echo)
    elif method is Method.stdp:
        from lava_thesis.experiments import stdp as exp

        if levels == 1:
            fail("--levels must be 0 (float) or >= 2")
        cfg = exp.STDPConfig(n_exc=n_exc, epochs=epochs or 1, train_samples=train_samples,
                             test_samples=test_samples, prune_fraction=prune_fraction,
                             levels=levels, seed=seed,
                             assign_samples=min(10000, train_samples or 10000),
                             lava_samples=200 if lava_samples is None else lava_samples)
        tag = f"stdp_{name}_n{n_exc}"
        if sweep:
            metrics = exp.sweep(train_data, test_data, out, dataset=dataset.value, config=cfg,
                                experiment=f"{tag}_sweep", log=typer.echo)
        else:
            if prune_fraction or levels:
                tag += f"_p{int(round(prune_fraction * 100))}_l{levels}"
            metrics = exp.run(train_data, test_data, out, dataset=dataset.value, config=cfg,
                              experiment=tag, model_dir=model_dir, log=typer.echo)
    elif method is Method.multimodal:
        metrics = train_multimodal(train_data, test_data, dataset, data_dir, out, model_dir,
                                    n_exc=n_exc, epochs=epochs or 1, seed=seed,
                                    train_samples=train_samples, lava_samples=lava_samples)
    elif method is Method.diet:
        from lava_thesis.diet.train import TrainConfig
        from lava_thesis.experiments.diet import SPECS, DietConfig
        from lava_thesis.experiments.diet import run as run_diet

        layers = SPECS.get(spec or "small", tuple((spec or "").split(",")))
        try:
            parse_spec(layers, train_data[0].shape[1:] if train_data[0].ndim == 4
                       else (1, *train_data[0].shape[1:]))
        except ValueError as err:
            fail(f"--spec: {err}")
        cfg = DietConfig(spec=layers, num_steps=num_steps or 5, lava_samples=lava_samples or 1000,
                         readout=readout.value,
                         train=TrainConfig(epochs=epochs or 4, seed=seed,
                                           rate_penalty=rate_penalty, rate_target=rate_target))
        metrics = run_diet(train_data, test_data, out, dataset=dataset.value, config=cfg,
                           experiment=f"diet_{name}", model_dir=model_dir, log=typer.echo)
    else:
        from lava_thesis.experiments.quickstart import QuickstartConfig, run

        cfg = QuickstartConfig(epochs=epochs or 4, seed=seed, num_steps=num_steps or 16,
                               lava_samples=lava_samples or 1000)
        metrics = run(train_data, test_data, out, dataset=dataset.value, config=cfg,
                      experiment=f"quickstart_{name}", model_dir=model_dir, log=typer.echo)
    for key, value in metrics.items():
        typer.echo(f"{key}: {value}")


def _load_model(path: Path):
    """A trained model's ``.pt``: a DIET checkpoint or a quickstart state dict.

    Returns ``(net, predict(images) -> classes)``.
    """
    import torch

    from lava_thesis import quickstart as qs

    require_file(path, "model file")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
        if isinstance(ckpt, dict) and "spec" in ckpt:
            from lava_thesis.diet.model import load_checkpoint
            from lava_thesis.diet.train import predict_output, snn_output

            net, steps = load_checkpoint(path)
            return net, lambda x: predict_output(net, snn_output(net, x, steps))
        from lava_thesis.experiments.quickstart import encode, load_model

        net, cfg = load_model(path)
        return net, lambda x: qs.predict(qs.output_spikes(net, encode(x, cfg.num_steps, 2)))
    except (FileNotFoundError, ValueError, RuntimeError) as err:
        fail(str(err))


@app.command("eval")
def evaluate(
    model: Annotated[Path, typer.Argument(help="A trained model's .pt (quickstart or diet).")],
    dataset: Annotated[Dataset, typer.Option()] = Dataset.mnist,
    data_dir: DataDir = None,
) -> None:
    """Accuracy of a trained model (SLAYER, torch) on the test split."""
    _, predict = _load_model(model)
    images, labels = load_split(dataset, "test", data_dir)
    pred = predict(images)
    typer.echo(f"accuracy: {(pred == labels).mean():.4f} on {len(labels)} images")


@app.command()
def export(
    model: Annotated[Path, typer.Argument(help="A trained model's .pt (quickstart or diet).")],
    out: Annotated[Path, typer.Option(
        help="The file to write: a netx .net, or (DIET models) a NIR .nir graph.")],
) -> None:
    """Export a trained model to a netx .net file or, for a DIET model, a NIR graph."""
    net, _ = _load_model(model)
    if out.suffix == ".nir":
        if not hasattr(net, "export_nir"):
            fail(f"--out {out}: NIR export is for DIET checkpoints; {model} is not one")
        typer.echo(f"wrote {net.export_nir(out)}")
    else:
        typer.echo(f"wrote {net.export_hdf5(out)}")


@app.command("energy")
def energy_cmd(
    model: Annotated[Path, typer.Argument(help="A trained DIET model's .pt (train diet).")],
    dataset: Annotated[Dataset, typer.Option()] = Dataset.mnist,
    data_dir: DataDir = None,
    samples: Annotated[int, typer.Option(min=1, help="Test images measured.")] = 500,
    out: Annotated[Path, typer.Option(help="Directory for the results JSON.")] = Path("out"),
) -> None:
    """Per-layer compute energy (45 nm) of a saved DIET-SNN vs its ANN on test images."""
    from lava_thesis.experiments.diet import measure_saved_energy

    require_file(model, "model file")
    try:
        metrics = measure_saved_energy(model, load_split(dataset, "test", data_dir), out,
                                       dataset=dataset.value, samples=samples)
    except (ValueError, RuntimeError) as err:
        fail(str(err))
    for key, value in metrics.items():
        typer.echo(f"{key}: {value}")


@app.command("run-lava")
def run_lava_cmd(
    net: Annotated[Path, typer.Argument(help="A netx .net file taking MNIST-sized input.")],
    dataset: Annotated[Dataset, typer.Option()] = Dataset.mnist,
    data_dir: DataDir = None,
    samples: Annotated[int, typer.Option(min=1)] = 100,
    num_steps: Annotated[int | None, typer.Option(
        min=1, help="Input steps per sample (default: 16 Poisson, 5 direct).")] = None,
    direct: Annotated[bool, typer.Option(
        help="Direct 8-bit input into a (1, 28, 28) first layer (DIET models).")] = False,
    tag: Annotated[str, typer.Option(
        help="Lava models: fixed_pt (bit-accurate) or floating_pt (netx's parameters "
             "converted to float)")] = "fixed_pt",
    readout: Annotated[Readout, typer.Option(
        help="Class scores: output spike counts, or the last layer's final voltage (DIET "
             "models trained with --readout integrator).")] = Readout.spikes,
    seed: Seed = 2,
    torch_model: Annotated[Path | None, typer.Option(
        help="The trained .pt the .net came from: also print prediction agreement with "
             "it (direct-input DIET models).")] = None,
    out: Annotated[Path | None, typer.Option(
        help="Also write <out>/<net stem>_lava_<tag>.json (for the results table).")] = None,
) -> None:
    """Run a netx network in Lava's CPU simulator on test images (Poisson or direct input)."""
    from lava_thesis.deploy.netx_run import (
        netx_output_spikes,
        netx_output_voltage,
        synaptic_delay,
    )
    from lava_thesis.diet.train import lava_payload, predict_spikes
    from lava_thesis.experiments.quickstart import encode

    require_file(net, "netx file")
    images, labels = load_split(dataset, "test", data_dir)
    images, labels = images[:samples], labels[:samples]
    if direct:
        spikes = lava_payload(images, num_steps or 5, synaptic_delay(net))
    else:
        spikes = encode(images, num_steps or 16, seed)
    try:
        if readout is Readout.integrator:
            pred = netx_output_voltage(net, spikes, input_bits=8 if direct else 0,
                                       tag=tag).argmax(1)
        else:
            pred = predict_spikes(netx_output_spikes(net, spikes, tag=tag,
                                                     input_bits=8 if direct else 0))
    except ValueError as err:
        fail(str(err))
    metrics = {"lava_accuracy": float((pred == labels).mean()), "lava_samples": len(labels)}
    typer.echo(f"Lava {tag} accuracy: {metrics['lava_accuracy']:.4f} on {len(labels)} images")
    if torch_model is not None:
        _, predict = _load_model(torch_model)
        metrics["agreement"] = float((predict(images) == pred).mean())
        typer.echo(f"agreement with {torch_model.name}: {metrics['agreement']:.4f}")
    if out is not None:
        from lava_thesis.results import write_results

        path = write_results(out, f"{net.stem}_lava_{tag}", dataset=dataset.value,
                             metrics=metrics, method="diet" if direct else "quickstart",
                             config={"net": str(net), "tag": tag, "readout": readout.value,
                                     "direct": direct, "num_steps": num_steps,
                                     "torch_model": torch_model and str(torch_model)})
        typer.echo(f"wrote {path}")


@app.command("check-multimodal")
def check_multimodal(
    model: Annotated[Path, typer.Argument(help="A multimodal .h5 model (train multimodal).")],
    dataset: Annotated[Dataset, typer.Option(help="Its image data set.")] = Dataset.mnist,
    data_dir: DataDir = None,
    pairs: Annotated[int, typer.Option(min=1, help="Test pairs run in Lava.")] = 300,
    out: Annotated[Path, typer.Option(help="Directory for the results JSON.")] = Path("out"),
) -> None:
    """Run a trained multimodal model in Lava on FSDD test pairs, against the engine."""
    from lava_thesis.data.errors import DataFormatError
    from lava_thesis.experiments import multimodal as mm

    require_file(model, "model file")
    data = paired_data(load_split(dataset, "train", data_dir),
                       load_split(dataset, "test", data_dir), data_dir)
    try:
        metrics = mm.check_saved_model(model, data, pairs, out, log=typer.echo,
                                       dataset=f"{dataset.value} + FSDD (stand-in for TI46)")
    except DataFormatError as err:
        fail(str(err))
    for key, value in metrics.items():
        typer.echo(f"{key}: {value}")


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
        fail(str(err))
    except (FileNotFoundError, ValueError) as err:
        fail(str(err))
    typer.echo("README table " + ("updated" if changed else "is current"))


def main() -> None:  # pragma: no cover - console entry point
    app(prog_name="lava-thesis", args=sys.argv[1:])
