"""``lava-thesis train``, one function per method: each turns the command's options into the
method's config and runs its experiment (LITE-SNN tasks, the multimodal image + FSDD pairs, and
the image methods: quickstart, STDP, hybrid, DIET)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from lava_thesis.cli_common import Dataset, Method, Readout, Reset, Task, check_spec, fail
from lava_thesis.protocol import Protocol

DeviceOpt = Annotated[str, typer.Option(
    "--device", help="DIET, quickstart, hybrid (STDB) and lite: where to train: cpu, cuda, "
                     "cuda:N or auto (cuda when available).")]
AmpOpt = Annotated[str, typer.Option(
    "--amp", help="DIET on CUDA: mixed precision, off, bf16 or fp16.")]
DeterministicOpt = Annotated[bool, typer.Option(
    "--deterministic", help="DIET: torch.use_deterministic_algorithms(True).")]
DistributedOpt = Annotated[bool, typer.Option(
    "--distributed", help="DIET: data-parallel over the processes torchrun starts (also on "
                          "when torchrun's RANK and WORLD_SIZE are set).")]


def train_lite(task: Task, data_dir: Path | None, out: Path, model_dir: Path | None, *,
               epochs: int | None, protocol: Protocol,
               lava_samples: int | None,
               train_samples: int | None, test_samples: int | None,
               budget_cpu_s: float | None = None, beam: int = 1, allow_dirty: bool = False,
               embeddings: Path | None = None, freeze_embeddings: bool = False,
               device: str = "cpu", readout: str = "integrator") -> dict:
    """LITE-SNN: the paper's LIF text network vs RNN, LSTM and GRU (sentiment); accuracy vs
    sequence length, vanilla SNN vs SNN with attention vs LSTM, on sentences followed by filler
    tokens (length) or on MNIST read k pixels per step (length-smnist); or a DIET-style
    convolutional SNN vs a CNN+GRU on synthetic N-MNIST-like events (events); Multi30k
    de->en, a convolutional SNN encoder-decoder with attention vs the same CNN with ReLU vs an
    LSTM, BLEU after equal epochs (seq2seq; ``--budget-cpu-s`` instead trains each model for
    that many CPU seconds; ``--test-samples`` also caps its validation pairs; ``beam``: its
    test decoding, 1 greedy, else beam search of that width). ``device``:
    where every task's models train (checked by :func:`check_device_options`); ``readout``:
    the events SNN's class readout."""
    data = None if data_dir is None else str(data_dir)
    if task is Task.seq2seq and budget_cpu_s is not None and device != "cpu":
        fail("--budget-cpu-s counts this process's CPU seconds; train with --epochs on "
             f"--device {device}")
    if task is Task.seq2seq and epochs is not None and budget_cpu_s is not None:
        fail("--task seq2seq trains for --epochs or for --budget-cpu-s CPU seconds per model; "
             "give one, not both")
    if task is not Task.seq2seq and budget_cpu_s is not None:
        fail(f"--budget-cpu-s applies to --task seq2seq only, not {task.value}")
    if task is not Task.seq2seq and beam != 1:
        fail(f"--beam applies to --task seq2seq only, not {task.value}")
    if task is Task.sentiment:
        from lava_thesis.experiments.lite_sentiment import LiteSentimentConfig as Config
        from lava_thesis.experiments.lite_sentiment import run
        cfg = Config(seed=protocol.seeds[0], out_dir=str(out), data_dir=data,
                     embeddings=None if embeddings is None else str(embeddings),
                     freeze_embeddings=freeze_embeddings, device=device)
        _override(cfg, subset=train_samples)
    elif task is Task.seq2seq:
        from lava_thesis.experiments.lite_seq2seq import LiteSeq2SeqConfig as Config
        from lava_thesis.experiments.lite_seq2seq import run
        cfg = Config(seed=protocol.seeds[0], out_dir=str(out), data_dir=data, device=device)
        _override(cfg, subset=train_samples, test_subset=test_samples, val_subset=test_samples,
                  budget_cpu_s=budget_cpu_s, epochs=epochs, beam=beam)
        return run(cfg, log=typer.echo, allow_dirty=allow_dirty, protocol=protocol)
    elif task is Task.length:
        from lava_thesis.experiments.lite_length import LiteLengthConfig as Config
        from lava_thesis.experiments.lite_length import run
        cfg = Config(seed=protocol.seeds[0], out_dir=str(out), data_dir=data, device=device)
        _override(cfg, subset=train_samples)
    elif task is Task.length_smnist:
        from lava_thesis.experiments.lite_length_smnist import LiteLengthSmnistConfig as Config
        from lava_thesis.experiments.lite_length_smnist import run
        cfg = Config(seed=protocol.seeds[0], out_dir=str(out), data_dir=data, device=device)
        _override(cfg, train_samples=train_samples, test_samples=test_samples)
    else:
        from lava_thesis.experiments.lite_events import LiteEventsConfig as Config
        from lava_thesis.experiments.lite_events import run
        cfg = Config(seed=protocol.seeds[0], out_dir=str(out), data_dir=data, device=device,
                     readout=readout)
        _override(cfg, lava_samples=lava_samples, n_train=train_samples, n_test=test_samples,
                  model_dir=None if model_dir is None else str(model_dir), epochs=epochs)
        return run(cfg, log=typer.echo, allow_dirty=allow_dirty, protocol=protocol)
    _override(cfg, epochs=epochs)
    # sentiment, length, length-smnist: one model per seed, choices on the validation split;
    # missing or malformed data: the CLI's error handler
    return run(cfg, log=typer.echo, allow_dirty=allow_dirty, protocol=protocol)


def _override(cfg, **values) -> None:
    """Set the config fields given on the command line (those that are not None)."""
    for name, value in values.items():
        if value is not None:
            setattr(cfg, name, value)


def _need_validation(protocol: Protocol, method: str) -> None:
    """Exit with code 2 when ``--val-fraction`` is 0 for a method that needs a validation set."""
    if protocol.val_fraction == 0:
        fail(f"--val-fraction must be > 0 for {method}: its validation accuracy is measured "
             "on images held out of the training set")


def paired_data(train_data, test_data, data_dir: Path | None):
    """Images paired with FSDD utterances (our stand-in for TI46) for method 2."""
    from lava_thesis.experiments.multimodal import MultimodalData
    from lava_thesis.multimodal.features import fsdd_images

    audio_train, audio_test = fsdd_images("train", data_dir), fsdd_images("test", data_dir)
    for split, images, audio in (("train", train_data, audio_train),
                                 ("test", test_data, audio_test)):
        missing = sorted(set(np.unique(audio[1]).tolist()) ^ set(np.unique(images[1]).tolist()))
        if missing:
            fail(f"cannot pair images with FSDD utterances: the {split} split has classes "
                 f"{missing} in only one of the two modalities (data root: "
                 f"{data_dir or 'default'}); both need every class")
    return MultimodalData(train_data, test_data, audio_train, audio_test,
                          lambda snr: fsdd_images("test", data_dir, snr_db=snr)[0])


def train_multimodal(train_data, test_data, dataset: Dataset, data_dir: Path | None,
                     out: Path, model_dir: Path | None, *, n_exc: int, epochs: int,
                     protocol: Protocol,
                     train_samples: int | None, lava_samples: int | None,
                     images_per_utterance: int = 10, allow_dirty: bool = False) -> dict:
    """Method 2: the image + audio ensembles on ``dataset`` images paired with FSDD."""
    from lava_thesis.experiments import multimodal as mm

    _need_validation(protocol, "multimodal")
    cfg = mm.MultimodalConfig(n_exc=n_exc, epochs=epochs, train_pairs=train_samples,
                              seed=protocol.seeds[0], val_fraction=protocol.val_fraction,
                              lava_pairs=100 if lava_samples is None else lava_samples,
                              images_per_utterance=images_per_utterance)
    name = dataset.value.replace("-", "_")
    return mm.run(paired_data(train_data, test_data, data_dir), out,
                  dataset=f"{dataset.value} + FSDD (stand-in for TI46)", config=cfg,
                  experiment=f"multimodal_{name}_fsdd_n{n_exc}", model_dir=model_dir,
                  log=typer.echo, allow_dirty=allow_dirty, protocol=protocol)


def train_hybrid(train_data, test_data, dataset: Dataset, *, out: Path, model_dir: Path | None,
                 protocol: Protocol, epochs: int | None, lava_samples: int | None,
                 spec: str | None,
                 num_steps: int | None, reset: Reset, resume: bool,
                 allow_dirty: bool = False, device: str = "cpu",
                 readout: str = "spikes") -> dict:
    """Method 3: ANN -> SNN conversion, then STDB fine-tuning (one model per seed of
    ``protocol``; thresholds and epochs chosen on its validation split; 500 Lava samples by
    default; ``readout``: the deployed twin's class readout). ``resume`` reuses the first
    seed's checkpoints and is recorded in the config."""
    from lava_thesis.experiments import hybrid as hyb
    from lava_thesis.hybrid.stdb import STDBConfig

    layers = tuple(spec.split(",")) if spec else hyb.DEFAULT_SPEC
    check_spec(layers, train_data[0])
    if pools := [item for item in layers if item.startswith("p")]:
        fail(f"--spec: {pools[0]!r}: the hybrid method converts Conv2d/Linear layers only; "
             "pool with a strided convolution (cOUTkKsS) instead")
    if protocol.val_fraction == 0:
        fail("--val-fraction must be > 0 for hybrid: the thresholds and the best ANN and STDB "
             "epochs are chosen on the validation split")
    cfg = hyb.HybridConfig(spec=layers, num_steps=num_steps or 25, reset=reset.value,
                           stdb=STDBConfig(epochs=epochs or 3, seed=protocol.seeds[0],
                                           device=device),
                           lava_samples=500 if lava_samples is None else lava_samples,
                           val_fraction=protocol.val_fraction, readout=readout)
    return hyb.run(train_data, test_data, out, dataset=dataset.value, config=cfg,
                   experiment=hybrid_name(dataset, num_steps, readout), model_dir=model_dir,
                   resume=resume, log=typer.echo, allow_dirty=allow_dirty, protocol=protocol)


def train_stdp(train_data, test_data, dataset: Dataset, *, out: Path, model_dir: Path | None,
               protocol: Protocol, epochs: int | None, lava_samples: int | None, n_exc: int,
               prune_fraction: float, levels: int, sweep: bool, train_samples: int | None,
               rule: str = "power-law", prune_by: str = "weight",
               test_samples: int | None, allow_dirty: bool = False,
               checkpoint_every: int = 0, resume: bool = False) -> dict:
    """Method 1: the pruned, quantized power-law STDP network (or its pruning/levels sweep).
    ``checkpoint_every`` / ``resume``: per-seed training checkpoints (not for the sweep)."""
    from lava_thesis.experiments import stdp as exp

    _need_validation(protocol, "stdp")
    cfg = exp.STDPConfig(n_exc=n_exc, epochs=epochs or 1, train_samples=train_samples,
                         test_samples=test_samples, prune_fraction=prune_fraction,
                         levels=levels, seed=protocol.seeds[0],
                         val_fraction=protocol.val_fraction,
                         assign_samples=min(10000, train_samples or 10000),
                         val_samples=min(10000, train_samples or 10000),
                         lava_samples=200 if lava_samples is None else lava_samples,
                         rule=rule, prune_by=prune_by)
    tag = f"stdp_{_name(dataset)}_n{n_exc}"
    if rule != "power-law":
        tag += "_" + rule.replace("-", "_")
    if prune_by != "weight":
        tag += "_corr"

    if sweep:
        from lava_thesis.experiments.stdp_sweep import sweep as run_sweep

        return run_sweep(train_data, test_data, out, dataset=dataset.value, config=cfg,
                         experiment=f"{tag}_sweep", log=typer.echo, allow_dirty=allow_dirty,
                         protocol=protocol)
    if prune_fraction or levels:
        tag += f"_p{int(round(prune_fraction * 100))}_l{levels}"
    return exp.run(train_data, test_data, out, dataset=dataset.value, config=cfg,
                   experiment=tag, model_dir=model_dir, log=typer.echo, allow_dirty=allow_dirty,
                   checkpoint_every=checkpoint_every, resume=resume,
                   protocol=protocol)


def check_device_options(method: Method, device: str, amp: str, deterministic: bool,
                         parallel: bool) -> str:
    """Check ``--device``, ``--amp``, ``--deterministic`` and ``--distributed`` before any work
    (exit code 2 with one line on a bad value); return the device to record (``auto``
    resolved to ``cpu`` or ``cuda``). ``--device`` applies to DIET, the quickstart, the
    hybrid method's STDB fine-tuning and every LITE task, the others to DIET only."""
    from lava_thesis import distributed
    from lava_thesis.device import DeviceError, check_amp, resolve_device

    if method in (Method.quickstart, Method.hybrid, Method.lite) and (
            amp, deterministic, parallel) != ("off", False, False):
        fail(f"--amp, --deterministic and --distributed apply to diet only, not "
             f"{method.value}")
    if method not in (Method.diet, Method.quickstart, Method.hybrid, Method.lite):
        if (device, amp, deterministic, parallel) != ("cpu", "off", False, False):
            fail(f"--device, --amp, --deterministic and --distributed apply to diet (--device "
                 f"also to quickstart, hybrid and lite), not {method.value}")
        return "cpu"
    try:
        resolved = resolve_device(device, distributed.local_rank())
        check_amp(amp, resolved)
    except DeviceError as err:
        fail(str(err))
    if parallel and not distributed.launched_by_torchrun():
        fail("--distributed needs the environment that torchrun sets (RANK, WORLD_SIZE): run "
             "torchrun --nproc_per_node N -m lava_thesis.cli train diet ... --distributed")
    return resolved.type if device.strip().lower() == "auto" else device


def train_diet(train_data, test_data, dataset: Dataset, *, out: Path, model_dir: Path | None,
               protocol: Protocol, epochs: int | None, lava_samples: int | None,
               spec: str | None,
               num_steps: int | None, readout: Readout, rate_penalty: float,
               rate_target: float, allow_dirty: bool = False, device: str = "cpu",
               amp: str = "off", deterministic: bool = False,
               parallel: bool = False, augment: str = "none", dropout: float = 0.0,
               checkpoint_every: int = 0, resume: bool = False) -> dict:
    """Method 4: DIET-SNN (direct input, learned leak and threshold) and its ANN twin.

    ``device``/``amp``/``deterministic``/``augment``: :class:`~lava_thesis.diet.train.TrainConfig`.
    ``parallel`` (or torchrun's ``RANK``/``WORLD_SIZE`` in the environment): data-parallel
    training over the ranks (:mod:`lava_thesis.distributed`); only rank 0 logs, writes files
    and returns the metrics (the other ranks return ``{}``)."""
    from lava_thesis import distributed
    from lava_thesis.device import resolve_device
    from lava_thesis.diet.train import TrainConfig
    from lava_thesis.experiments.diet import DietConfig, resolve_spec
    from lava_thesis.experiments.diet import run as run_diet

    layers, suffix = resolve_spec(spec)
    check_spec(layers, train_data[0])
    cfg = DietConfig(spec=layers, num_steps=num_steps or 5, lava_samples=lava_samples or 1000,
                     readout=readout.value,
                     train=TrainConfig(epochs=epochs or 4, seed=protocol.seeds[0],
                                       rate_penalty=rate_penalty, rate_target=rate_target,
                                       device=device, amp=amp, deterministic=deterministic,
                                       augment=augment, dropout=dropout))
    joined = (parallel or distributed.launched_by_torchrun()) and not distributed.is_initialized()
    if joined:
        distributed.init(resolve_device(device, distributed.local_rank()))
    try:
        log = typer.echo if distributed.is_main() else (lambda line: None)
        metrics = run_diet(train_data, test_data, out, dataset=dataset.value, config=cfg,
                           experiment=f"diet_{_name(dataset)}{suffix}", model_dir=model_dir,
                           log=log, checkpoint_every=checkpoint_every, resume=resume,
                           allow_dirty=allow_dirty, protocol=protocol)
        return metrics if distributed.is_main() else {}
    finally:
        if joined:
            distributed.cleanup()


def train_quickstart(train_data, test_data, dataset: Dataset, *, out: Path,
                     model_dir: Path | None, protocol: Protocol, epochs: int | None,
                     lava_samples: int | None, num_steps: int | None,
                     allow_dirty: bool = False, device: str = "cpu") -> dict:
    """The quickstart: a SLAYER CUBA-LIF network exported to netx and run in Lava."""
    from lava_thesis.experiments.quickstart import QuickstartConfig, run

    cfg = QuickstartConfig(epochs=epochs or 4, seed=protocol.seeds[0],
                           num_steps=num_steps or 16,
                           lava_samples=lava_samples or 1000, device=device)
    return run(train_data, test_data, out, dataset=dataset.value, config=cfg,
               experiment=f"quickstart_{_name(dataset)}", model_dir=model_dir, log=typer.echo,
               allow_dirty=allow_dirty, protocol=protocol)


def hybrid_name(dataset: Dataset, num_steps: int | None, readout: str) -> str:
    """``hybrid_<dataset>``, with ``_T<steps>`` for steps other than the default 25 and
    ``_integrator`` for that readout, so that runs of different settings keep their files.

    >>> hybrid_name(Dataset.mnist, None, "spikes"), hybrid_name(Dataset.mnist, 10, "integrator")
    ('hybrid_mnist', 'hybrid_mnist_T10_integrator')
    """
    steps = "" if num_steps in (None, 25) else f"_T{num_steps}"
    return f"hybrid_{_name(dataset)}{steps}{'_integrator' if readout == 'integrator' else ''}"


def _name(dataset: Dataset) -> str:
    """The dataset's part of an experiment name, e.g. ``fashion_mnist``."""
    return dataset.value.replace("-", "_")
