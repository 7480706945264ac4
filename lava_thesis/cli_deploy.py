"""``lava-thesis`` commands that evaluate, export, import and deploy trained models:
``eval``, ``export``, ``import-nir``, ``nir-interop``, ``energy``, ``run-lava``,
``check-stdp`` and ``check-multimodal``.
:mod:`lava_thesis.cli` registers them on the application; errors follow its rules (one line,
exit code 2, :class:`~lava_thesis.cli_common.UserErrorGroup`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lava_thesis.cli_common import (
    AllowDirty,
    DataDir,
    Dataset,
    EvalDevice,
    Readout,
    Seed,
    Tag,
    TestSamples,
    TrainSamples,
    ValFraction,
    check_clean_out,
    check_input_shape,
    check_net_input,
    check_paths,
    eval_device,
    fail,
    load_split,
    load_torch_model,
    load_train_test,
)


def evaluate(
    model: Annotated[Path, typer.Argument(
        help="A trained model's .pt (quickstart, diet or hybrid (_hybrid.pt)).")],
    dataset: Annotated[Dataset, typer.Option()] = Dataset.mnist,
    data_dir: DataDir = None,
    device: EvalDevice = "cpu",
) -> None:
    """Accuracy of a trained model (SLAYER, torch) on the test split."""
    run_on = eval_device(device)
    check_paths(files={"model file": model}, data_dir=data_dir)
    net, predict = load_torch_model(model, run_on)
    images, labels = load_split(dataset, "test", data_dir)
    check_input_shape(model, net, images, dataset)
    pred = predict(images)
    typer.echo(f"accuracy: {(pred == labels).mean():.4f} on {len(labels)} images")


def export(
    model: Annotated[Path, typer.Argument(
        help="A trained model's .pt (quickstart, diet, hybrid (_hybrid.pt) or lite events).")],
    out: Annotated[Path, typer.Option(
        help="The file to write: a netx .net, or a NIR .nir graph (dt 1e-4 s per step).")],
) -> None:
    """Export a trained model to a netx .net file or a NIR graph."""
    check_paths(files={"model file": model}, out_files={"--out": out})
    net, _ = load_torch_model(model)
    if out.suffix == ".nir":
        typer.echo(f"wrote {net.export_nir(out)}")
    else:
        typer.echo(f"wrote {net.export_hdf5(out)}")


def import_nir_cmd(
    graph: Annotated[Path, typer.Argument(help="A NIR graph (.nir), e.g. from snnTorch/Norse.")],
    out: Annotated[Path, typer.Option(help="The netx .net file to write.")],
    dt: Annotated[float | None, typer.Option(
        min=0, help="Seconds per Loihi step (default: the graph's metadata dt, else 1e-4).")
    ] = None,
) -> None:
    """Convert a NIR graph to a netx .net (Loihi fixed point) that run-lava runs."""
    check_paths(files={"NIR graph": graph}, out_files={"--out": out})
    from lava_thesis.deploy.nir_import import import_nir

    typer.echo(f"wrote {import_nir(graph, out, dt=dt)}")


def nir_interop_cmd(
    dataset: Annotated[Dataset, typer.Option()] = Dataset.mnist,
    data_dir: DataDir = None,
    out: Annotated[Path, typer.Option(help="Directory for the results JSON.")] = Path("out"),
    seed: Annotated[int, typer.Option(min=0, help="First seed.")] = 0,
    seeds: Annotated[int, typer.Option(min=1, help="Networks per peer (one per seed).")] = 3,
    val_fraction: ValFraction = 0.1,
    epochs: Annotated[int, typer.Option(min=1, help="Training epochs per network.")] = 2,
    lava_samples: Annotated[int, typer.Option(
        min=1, help="Test images run in Lava per network.")] = 500,
    train_samples: TrainSamples = None,
    test_samples: TestSamples = None,
    allow_dirty: AllowDirty = False,
) -> None:
    """Train snnTorch and Norse networks, export each with its library's NIR exporter,
    import them into netx and compare Lava fixed_pt with the library's own simulation."""
    if dataset.value == "cifar10":
        fail("--dataset cifar10: nir-interop trains 784-input networks (mnist, fashion-mnist)")
    check_paths(out_dirs={"--out": out}, data_dir=data_dir)
    check_clean_out(out, allow_dirty)
    from lava_thesis.experiments import nir_interop
    from lava_thesis.protocol import Protocol

    if missing := nir_interop.missing_peers():
        fail(f"nir-interop needs snnTorch and Norse; not importable: {', '.join(missing)} "
             "(install requirements/test-peers.txt with --no-deps)")
    train, test = load_train_test(dataset, data_dir, train_samples, test_samples)
    cfg = nir_interop.NirInteropConfig(epochs=epochs, lava_samples=lava_samples, seed=seed,
                                       val_fraction=val_fraction)
    name = dataset.value.replace("-", "_")
    metrics = nir_interop.run(train, test, out, dataset=dataset.value, config=cfg,
                              experiment=f"nir_interop_{name}", log=typer.echo,
                              protocol=Protocol.from_options(seed, seeds, val_fraction),
                              allow_dirty=allow_dirty)
    for key, value in metrics.items():
        typer.echo(f"{key}: {value}")


def energy_cmd(
    model: Annotated[Path, typer.Argument(help="A trained DIET model's .pt (train diet).")],
    dataset: Annotated[Dataset, typer.Option()] = Dataset.mnist,
    data_dir: DataDir = None,
    samples: Annotated[int, typer.Option(min=1, help="Test images measured.")] = 500,
    out: Annotated[Path, typer.Option(help="Directory for the results JSON.")] = Path("out"),
    allow_dirty: AllowDirty = False,
    device: EvalDevice = "cpu",
) -> None:
    """Per-layer compute energy (45 nm) of a saved DIET-SNN vs its ANN on test images."""
    run_on = eval_device(device)
    check_paths(files={"model file": model}, out_dirs={"--out": out}, data_dir=data_dir)
    check_clean_out(out, allow_dirty)
    from lava_thesis.diet.model import load_checkpoint
    from lava_thesis.experiments.diet import measure_saved_energy

    net, _ = load_checkpoint(model)  # a bad file fails here, before the data are read
    test = load_split(dataset, "test", data_dir)
    check_input_shape(model, net, test[0], dataset)
    metrics = measure_saved_energy(model, test, out, dataset=dataset.value, samples=samples,
                                   allow_dirty=allow_dirty, device=run_on)
    for key, value in metrics.items():
        typer.echo(f"{key}: {value}")


def run_lava_cmd(
    net: Annotated[Path, typer.Argument(help="A netx .net file taking MNIST-sized input.")],
    dataset: Annotated[Dataset, typer.Option()] = Dataset.mnist,
    data_dir: DataDir = None,
    samples: Annotated[int, typer.Option(min=1)] = 100,
    num_steps: Annotated[int | None, typer.Option(
        min=1, help="Input steps per sample (default: 16 Poisson, 5 direct).")] = None,
    direct: Annotated[bool, typer.Option(
        help="Direct 8-bit input into a (1, 28, 28) first layer (DIET models).")] = False,
    tag: Annotated[Tag, typer.Option(
        help="Lava models: fixed_pt (bit-accurate) or floating_pt (netx's parameters "
             "converted to float)")] = Tag.fixed_pt,
    readout: Annotated[Readout, typer.Option(
        help="Class scores: output spike counts, or the last layer's final voltage (DIET "
             "models trained with --readout integrator).")] = Readout.spikes,
    seed: Seed = 2,
    torch_model: Annotated[Path | None, typer.Option(
        help="The trained .pt the .net came from: also print prediction agreement with "
             "it (direct-input DIET models).")] = None,
    out: Annotated[Path | None, typer.Option(
        help="Also write <out>/<net stem>_lava_<tag>.json (for the results table).")] = None,
    allow_dirty: AllowDirty = False,
) -> None:
    """Run a netx network in Lava's CPU simulator on test images (Poisson or direct input)."""
    check_paths(files={"netx file": net, "--torch-model": torch_model}, out_dirs={"--out": out},
                data_dir=data_dir)
    check_clean_out(out, allow_dirty)
    from lava_thesis.deploy.netx_check import check_netx_file
    from lava_thesis.deploy.netx_run import (
        netx_output_spikes,
        netx_output_voltage,
        synaptic_delay,
    )
    from lava_thesis.diet.train import lava_payload, predict_spikes
    from lava_thesis.experiments.quickstart import encode

    check_netx_file(net)  # the model files are read before the data and the run
    predict = None if torch_model is None else load_torch_model(torch_model)[1]
    images, labels = load_split(dataset, "test", data_dir)
    images, labels = images[:samples], labels[:samples]
    check_net_input(net, images, direct, dataset)
    if direct:
        spikes = lava_payload(images, num_steps or 5, synaptic_delay(net))
    else:
        spikes = encode(images, num_steps or 16, seed)
    bits = 8 if direct else 0
    if readout is Readout.integrator:
        pred = netx_output_voltage(net, spikes, input_bits=bits, tag=tag.value).argmax(1)
    else:
        pred = predict_spikes(netx_output_spikes(net, spikes, tag=tag.value, input_bits=bits))
    metrics = {"lava_accuracy": float((pred == labels).mean()), "lava_samples": len(labels)}
    typer.echo(f"Lava {tag.value} accuracy: {metrics['lava_accuracy']:.4f} on {len(labels)} "
               "images")
    if predict is not None:
        metrics["agreement"] = float((predict(images) == pred).mean())
        typer.echo(f"agreement with {torch_model.name}: {metrics['agreement']:.4f}")
    if out is not None:
        from lava_thesis.results import write_results

        path = write_results(out, f"{net.stem}_lava_{tag.value}", dataset=dataset.value,
                             metrics=metrics, method="diet" if direct else "quickstart",
                             config={"net": str(net), "tag": tag.value,
                                     "readout": readout.value, "direct": direct,
                                     "num_steps": num_steps,
                                     "torch_model": torch_model and str(torch_model)},
                             allow_dirty=allow_dirty)
        typer.echo(f"wrote {path}")


def check_stdp(
    model: Annotated[Path, typer.Argument(help="An STDP .h5 model (train stdp).")],
    dataset: Annotated[Dataset, typer.Option(help="The data set it was trained on.")
                       ] = Dataset.mnist,
    data_dir: DataDir = None,
    samples: Annotated[int, typer.Option(min=1, help="Test images run in Lava.")] = 100,
    out: Annotated[Path, typer.Option(help="Directory for the results JSON.")] = Path("out"),
    allow_dirty: AllowDirty = False,
) -> None:
    """Run a trained STDP model in Lava (fixed_pt, the deployed integers) on test images,
    against the integer engine: the check train stdp --lava-samples makes."""
    check_paths(files={"model file": model}, out_dirs={"--out": out}, data_dir=data_dir)
    check_clean_out(out, allow_dirty)
    if dataset is Dataset.cifar10:
        fail("--dataset cifar10: STDP models take MNIST-sized images (mnist, fashion-mnist)")
    from lava_thesis.experiments import stdp
    from lava_thesis.stdp.model_io import load_model

    card = load_model(model)[2]  # a bad file fails here, before the data are read
    if card.get("dataset", dataset.value) != dataset.value:
        fail(f"{model}: trained on {card['dataset']}, not --dataset {dataset.value}")
    metrics = stdp.check_saved_model(model, load_split(dataset, "test", data_dir), samples,
                                     out, dataset=dataset.value, log=typer.echo,
                                     allow_dirty=allow_dirty)
    for key, value in metrics.items():
        typer.echo(f"{key}: {value}")


def check_multimodal(
    model: Annotated[Path, typer.Argument(help="A multimodal .h5 model (train multimodal).")],
    dataset: Annotated[Dataset, typer.Option(help="Its image data set.")] = Dataset.mnist,
    data_dir: DataDir = None,
    pairs: Annotated[int, typer.Option(min=1, help="Test pairs run in Lava.")] = 300,
    tag: Annotated[Tag, typer.Option(
        help="fixed_pt: the deployed 8-bit network against the integer engine; floating_pt: "
             "the float network against the float engine.")] = Tag.fixed_pt,
    out: Annotated[Path, typer.Option(help="Directory for the results JSON.")] = Path("out"),
    allow_dirty: AllowDirty = False,
) -> None:
    """Run a trained multimodal model in Lava on FSDD test pairs, against the engine."""
    check_paths(files={"model file": model}, out_dirs={"--out": out}, data_dir=data_dir)
    check_clean_out(out, allow_dirty)
    from lava_thesis.cli_train import paired_data
    from lava_thesis.experiments import multimodal as mm
    from lava_thesis.multimodal.model_io import load_pair_model

    load_pair_model(model)  # a bad file fails here, before the data are read
    data = paired_data(load_split(dataset, "train", data_dir),
                       load_split(dataset, "test", data_dir), data_dir)
    metrics = mm.check_saved_model(model, data, pairs, out, log=typer.echo,
                                   dataset=f"{dataset.value} + FSDD (stand-in for TI46)",
                                   tag=tag.value, allow_dirty=allow_dirty)
    for key, value in metrics.items():
        typer.echo(f"{key}: {value}")
