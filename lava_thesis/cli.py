"""The ``lava-thesis`` command line. Thin: parses arguments, calls the library, prints.

Every experiment command writes ``<out>/<experiment>.json`` (see :mod:`lava_thesis.results`).
Each command checks its path arguments before it starts working (:func:`check_paths`); an error
caused by bad input is one line on stderr with exit code 2, or its full traceback with
``lava-thesis --debug <command> ...`` (:class:`~lava_thesis.cli_common.UserErrorGroup`).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from lava_thesis.cli_ablate import ablate
from lava_thesis.cli_common import (
    AllowDirty,
    Augment,
    DataDir,
    Dataset,
    Method,
    PruneBy,
    Readout,
    Reset,
    Rule,
    Seed,
    Task,
    UserErrorGroup,
    ValSeed,
    check_clean_out,
    check_paths,
    fail,
    load_split,
)
from lava_thesis.cli_deploy import (
    check_multimodal,
    check_stdp,
    energy_cmd,
    evaluate,
    export,
    import_nir_cmd,
    nir_interop_cmd,
    run_lava_cmd,
)
from lava_thesis.cli_merge import merge_cmd
from lava_thesis.cli_train import (
    AmpOpt,
    DeterministicOpt,
    DeviceOpt,
    DistributedOpt,
    check_device_options,
    train_diet,
    train_hybrid,
    train_lite,
    train_multimodal,
    train_quickstart,
    train_stdp,
)
from lava_thesis.protocol import Protocol

app = typer.Typer(cls=UserErrorGroup, add_completion=False, no_args_is_help=True,
                  help="Energy-efficient, low-latency SNNs on Lava and lava-dl.")


@app.callback()
def options(
    debug: Annotated[bool, typer.Option(
        "--debug", help="On an error, show the full traceback instead of one line.")] = False,
) -> None:
    """Global options; ``--debug`` is read by :class:`UserErrorGroup` when a command fails."""


@app.command()
def demo(
    out: Annotated[Path, typer.Option(help="Output directory.")] = Path("out/demo"),
    seed: Seed = 0,
    epochs: Annotated[int, typer.Option(min=1)] = 4,
    lava_samples: Annotated[int, typer.Option(min=1, max=500)] = 500,
    diet_lava_samples: Annotated[int, typer.Option(min=1, max=500)] = 50,
) -> None:
    """The main job, offline: all five methods at a small size on the shipped MNIST digits and
    FSDD recordings, each checked in Lava."""
    check_paths(out_dirs={"--out": out})
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
    seed: Annotated[int, typer.Option(
        "--seed", min=0, help="First seed: --seeds N trains seeds S..S+N-1; the validation "
                              "split is seeded with S unless --val-seed is given.")] = 0,
    seeds: Annotated[int, typer.Option(
        "--seeds", min=1, help="Independent models trained (one per seed); results keep each "
                               "seed's values, their mean and std.")] = 3,
    val_fraction: Annotated[float, typer.Option(
        "--val-fraction", min=0.0, max=0.9, help="Share of each training class held out "
        "for validation (every choice is made on it; the test split is evaluated once per "
        "model).")] = 0.1,
    val_seed: ValSeed = None,
    epochs: Annotated[int | None, typer.Option(
        min=1, help="Training epochs (default: stdp and multimodal 1, hybrid 3 (STDB), lite "
                    "events 6, lite seq2seq 2, others 4).")] = None,
    num_steps: Annotated[int | None, typer.Option(
        min=1, help="Time steps per sample (default: quickstart 16, diet 5, hybrid 25).")] = None,
    lava_samples: Annotated[int | None, typer.Option(
        min=0, help="Test samples run in Lava (default: stdp 200, multimodal 100 pairs, "
                    "hybrid and lite events 500, others 1000).")] = None,
    spec: Annotated[str | None, typer.Option(
        help="DIET layers, e.g. c8k3s2,c32k3s1,c64k3s2,f,d256,d10 (cOUTkKsS conv, pK sum "
             "pooling, f flatten, dN dense), or a name: small (default), small-pool, tiny, "
             "vgg9, vgg9-pool, vgg16, vgg16-pool (the last four for CIFAR-10). Other than "
             "small, the spec names the results (diet_<dataset>_<name>, "
             "diet_<dataset>_custom).")] = None,
    rate_penalty: Annotated[float, typer.Option(
        min=0.0, help="DIET: weight of the hidden spike rates' excess over --rate-target in "
                      "the loss (energy).")] = 0.0,
    rate_target: Annotated[float, typer.Option(
        min=0.0, max=1.0, help="DIET: spike rate (per neuron per step) under which a hidden "
                               "layer is not penalised (0: plain rate penalty).")] = 0.0,
    readout: Annotated[Readout | None, typer.Option(
        help="DIET, hybrid and lite events: class readout, a non-spiking integrator (the "
             "papers' membrane readout) or spike counts (default: integrator; hybrid: spikes, "
             "the readout its shipped models use).", show_default=False,
    )] = None,
    n_exc: Annotated[int, typer.Option(
        min=1, help="STDP: excitatory neurons (multimodal: per ensemble).")] = 400,
    prune_fraction: Annotated[float, typer.Option(
        min=0.0, max=0.99, help="STDP: fraction of each neuron's synapses pruned.")] = 0.0,
    levels: Annotated[int, typer.Option(
        min=0, help="STDP: weight levels after quantization (0: float).")] = 0,
    rule: Annotated[Rule, typer.Option(
        help="STDP: weight dependence of the rule, the thesis' power law (w_max - w)^0.2, or "
             "the forms Loihi's learning engine runs, soft-bound (w_max - w) and hard-bound "
             "(none); other than power-law it names the results.")] = Rule.power_law,
    prune_by: Annotated[PruneBy, typer.Option(
        help="STDP: prune the weakest synapses (weight, the thesis) or those of lowest "
             "pre/post correlation accumulated over training (correlation; names the results "
             "_corr).")] = PruneBy.weight,
    train_samples: Annotated[int | None, typer.Option(
        min=1, help="quickstart / DIET / STDP / hybrid: training images; multimodal: training "
                    "pairs; lite sentiment / length: sentences sampled before the split; "
                    "other lite tasks: training samples (default: all).")] = None,
    test_samples: Annotated[int | None, typer.Option(
        min=1, help="quickstart / DIET / STDP / hybrid / lite events, seq2seq, length-smnist: "
                    "test samples (default: all; seq2seq: also caps the validation pairs).")
    ] = None,
    images_per_utterance: Annotated[int | None, typer.Option(
        "--images-per-utterance", min=1, help="multimodal: test pairs per FSDD test "
        "utterance, each with another test image of its digit (default 10; the intervals "
        "resample utterances).")] = None,
    resume: Annotated[bool, typer.Option(
        help="hybrid: reuse this experiment's finished ANN / STDB checkpoints; stdp, diet: "
             "continue each seed from its --checkpoint-every checkpoint (the same weights "
             "as an uninterrupted run; the results config says resumed).")] = False,
    checkpoint_every: Annotated[int, typer.Option(
        "--checkpoint-every", min=0, help="STDP: every N training images; DIET: every N "
        "epochs: save each seed's training state to <model-dir>/<experiment>.seed<S>.ckpt "
        "(0: off); --resume continues from it.")] = 0,
    reset: Annotated[Reset, typer.Option(
        help="hybrid: reset of the torch SNN, hard (deployable) or soft (the paper).")
    ] = Reset.hard,
    sweep: Annotated[bool, typer.Option(
        help="STDP: sweep pruned fraction (0-90%, float) and levels (2-16 at "
             "--prune-fraction).")] = False,
    task: Annotated[Task, typer.Option(help="lite: which sequence task.")] = Task.sentiment,
    budget_cpu_s: Annotated[float | None, typer.Option(
        min=1.0, help="lite seq2seq: train each model for this many process CPU seconds "
                      "instead of --epochs (off by default; the results file records it).")
    ] = None,
    beam: Annotated[int, typer.Option(
        min=1, help="lite seq2seq: decode the test set by beam search of this width (1: "
                    "greedy; validation decoding stays greedy).")] = 1,
    augment: Annotated[Augment, typer.Option(
        help="DIET: training-time augmentation: none, shift (up to 2 px; MNIST, "
             "Fashion-MNIST) or crop-flip (pad 4, crop, horizontal flip; CIFAR-10).")
    ] = Augment.none,
    dropout: Annotated[float, typer.Option(
        min=0.0, max=0.9, help="DIET: dropout of hidden spikes while training (one mask per "
                               "sample and neuron for all time steps; 0: off).")] = 0.0,
    embeddings: Annotated[Path | None, typer.Option(
        help="lite sentiment: pretrained word vectors (GloVe text format, 100 numbers per "
             "word) that initialise every model's embedding table.")] = None,
    freeze_embeddings: Annotated[bool, typer.Option(
        help="lite sentiment: keep the --embeddings table fixed during training.")] = False,
    allow_dirty: AllowDirty = False,
    device: DeviceOpt = "cpu",
    amp: AmpOpt = "off",
    deterministic: DeterministicOpt = False,
    distributed: DistributedOpt = False,
) -> None:
    """Train a method on real data and write <out>/<experiment>.json (+ plots, model files)."""
    check_paths(out_dirs={"--out": out, "--model-dir": model_dir}, data_dir=data_dir,
                files={"--embeddings": embeddings})
    if (embeddings is not None or freeze_embeddings) and (
            method is not Method.lite or task is not Task.sentiment):
        fail("--embeddings and --freeze-embeddings apply to lite --task sentiment only")
    if beam != 1 and (method is not Method.lite or task is not Task.seq2seq):
        fail("--beam applies to lite --task seq2seq only")
    if augment is not Augment.none and method is not Method.diet:
        fail(f"--augment applies to diet only, not {method.value}")
    if images_per_utterance is not None and method is not Method.multimodal:
        fail(f"--images-per-utterance applies to multimodal only, not {method.value}")
    if freeze_embeddings and embeddings is None:
        fail("--freeze-embeddings needs --embeddings (a GloVe-format vectors file)")
    check_clean_out(out, allow_dirty)
    device = check_device_options(method, device, amp, deterministic, distributed)
    protocol = Protocol.from_options(seed, seeds, val_fraction, val_seed)
    if readout is None:
        readout = Readout.spikes if method is Method.hybrid else Readout.integrator
    if method is Method.lite:
        metrics = train_lite(task, data_dir, out, model_dir, epochs=epochs, protocol=protocol,
                              lava_samples=lava_samples, train_samples=train_samples,
                              test_samples=test_samples, budget_cpu_s=budget_cpu_s, beam=beam,
                              allow_dirty=allow_dirty, embeddings=embeddings,
                              freeze_embeddings=freeze_embeddings, device=device,
                              readout=readout.value)
        for key, value in metrics.items():
            typer.echo(f"{key}: {value}")
        return
    if dataset is Dataset.cifar10 and method not in (Method.diet, Method.hybrid):
        fail("cifar10 is wired for the diet and hybrid methods only (the quickstart and STDP "
              "networks are 784-input)")
    if method is Method.stdp and levels == 1:
        fail("--levels must be 0 (float) or >= 2")
    if prune_by is not PruneBy.weight and (method is not Method.stdp or prune_fraction == 0
                                           or sweep):
        fail("--prune-by correlation applies to stdp with --prune-fraction > 0 (no --sweep)")
    if checkpoint_every and (method not in (Method.stdp, Method.diet) or sweep):
        fail("--checkpoint-every applies to stdp training without --sweep and to diet")
    if resume and checkpoint_every == 0 and method is Method.diet:
        fail("--resume: diet resumes from the checkpoints of --checkpoint-every N; give it")
    if resume and method is Method.stdp and sweep:
        fail("--resume: the STDP --sweep has no checkpoints")
    train_data = load_split(dataset, "train", data_dir)
    test_data = load_split(dataset, "test", data_dir)
    if method in (Method.quickstart, Method.diet, Method.hybrid):  # the first N images
        if train_samples:
            train_data = (train_data[0][:train_samples], train_data[1][:train_samples])
        if test_samples:
            test_data = (test_data[0][:test_samples], test_data[1][:test_samples])
    common = dict(out=out, model_dir=model_dir, protocol=protocol, epochs=epochs,
                  lava_samples=lava_samples, allow_dirty=allow_dirty)
    if method is Method.hybrid:
        metrics = train_hybrid(train_data, test_data, dataset, spec=spec, num_steps=num_steps,
                               reset=reset, resume=resume, device=device,
                               readout=readout.value, **common)
    elif method is Method.stdp:
        metrics = train_stdp(train_data, test_data, dataset, n_exc=n_exc,
                             prune_fraction=prune_fraction, levels=levels, sweep=sweep,
                             rule=rule.value, prune_by=prune_by.value,
                             train_samples=train_samples, test_samples=test_samples,
                             checkpoint_every=checkpoint_every, resume=resume, **common)
    elif method is Method.multimodal:
        metrics = train_multimodal(train_data, test_data, dataset, data_dir, out, model_dir,
                                    n_exc=n_exc, epochs=epochs or 1, protocol=protocol,
                                    train_samples=train_samples, lava_samples=lava_samples,
                                    images_per_utterance=images_per_utterance or 10,
                                    allow_dirty=allow_dirty)
    elif method is Method.diet:
        metrics = train_diet(train_data, test_data, dataset, spec=spec, num_steps=num_steps,
                             readout=readout, rate_penalty=rate_penalty,
                             rate_target=rate_target, device=device, amp=amp,
                             deterministic=deterministic, parallel=distributed,
                             augment=augment.value, dropout=dropout,
                             checkpoint_every=checkpoint_every, resume=resume, **common)
    else:
        metrics = train_quickstart(train_data, test_data, dataset, num_steps=num_steps,
                                   device=device, **common)
    for key, value in metrics.items():
        typer.echo(f"{key}: {value}")


# deployment and evaluation commands (lava_thesis.cli_deploy)
app.command("eval")(evaluate)
app.command("export")(export)
app.command("import-nir")(import_nir_cmd)
app.command("nir-interop")(nir_interop_cmd)
app.command("ablate")(ablate)
app.command("energy")(energy_cmd)
app.command("run-lava")(run_lava_cmd)
app.command("check-stdp")(check_stdp)
app.command("check-multimodal")(check_multimodal)
app.command("merge")(merge_cmd)


@app.command()
def report(
    results: Annotated[Path, typer.Option(help="Directory of results JSON.")] = Path("results"),
    readme: Annotated[Path, typer.Option(help="README to update.")] = Path("README.md"),
    check: Annotated[bool, typer.Option(help="Only check that the table is current.")] = False,
) -> None:
    """Regenerate the README results table from results/*.json."""
    check_paths(dirs={"--results": results}, files={"--readme": readme},
                out_files={"--readme": None if check else readme})
    from lava_thesis.report import StaleReadmeError
    from lava_thesis.report import report as make_report

    try:
        changed = make_report(results, readme, check=check)
    except (StaleReadmeError, ValueError) as err:  # an outdated table; malformed results
        fail(str(err))
    typer.echo("README table " + ("updated" if changed else "is current"))


@app.command("reproduce")
def reproduce_cmd(
    method: Annotated[str | None, typer.Option(
        help="Only the results files of this method (e.g. stdp).")] = None,
    quick: Annotated[bool, typer.Option(
        help="Every pipeline end to end at a tiny size, into a temporary directory (CI).")
    ] = False,
    results: Annotated[Path, typer.Option(help="Directory of results JSON.")] = Path("results"),
    dry_run: Annotated[bool, typer.Option(help="Only print the plan.")] = False,
    allow_dirty: AllowDirty = False,
) -> None:
    """Re-run the commands recorded in results/*.json (from a clean tree)."""
    check_paths(dirs={"--results": results})
    from lava_thesis.reproduce import ReproduceError, reproduce

    try:
        reproduce(results, method=method, quick=quick, dry_run=dry_run,
                  allow_dirty=allow_dirty, log=typer.echo)
    except (ReproduceError, ValueError) as err:  # a refused command; malformed results
        fail(str(err))


def main() -> None:  # pragma: no cover - console entry point
    app(prog_name="lava-thesis", args=sys.argv[1:])


if __name__ == "__main__":  # python -m lava_thesis.cli (e.g. under torchrun)
    main()
