"""``lava-thesis ablate``: controlled experiments that switch one of a method's mechanisms off
or swap it (:mod:`lava_thesis.experiments.ablate_diet`,
:mod:`lava_thesis.experiments.ablate_stdp_rule`,
:mod:`lava_thesis.experiments.ablate_stdp_prune`, :mod:`lava_thesis.experiments.ablate_hybrid`,
:mod:`lava_thesis.experiments.diet_peer`,
:mod:`lava_thesis.experiments.lite_seq2seq_diagnosis`). Errors follow :mod:`lava_thesis.cli`'s
rules (one line, exit code 2). The results files are ``ablation_<method>_<dataset>.json``
(seq2seq: ``ablation_seq2seq_multi30k.json``)."""

from __future__ import annotations

from dataclasses import replace
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
    ValSeed,
    check_clean_out,
    check_paths,
    check_spec,
    fail,
    load_train_test,
)


class Ablation(str, Enum):
    """Which method's claim is ablated."""

    diet = "diet"
    stdp_rule = "stdp-rule"
    stdp_prune = "stdp-prune"
    hybrid = "hybrid"
    diet_peer = "diet-peer"
    seq2seq = "seq2seq"


def ablate(
    method: Annotated[Ablation, typer.Argument(help="Which method's claim to test.")],
    dataset: Annotated[Dataset | None, typer.Option(
        help="Images to train on (default mnist; seq2seq reads Multi30k and takes none).")
    ] = None,
    data_dir: DataDir = None,
    out: Annotated[Path, typer.Option(help="Directory for the results JSON.")] = Path("out"),
    steps: Annotated[str | None, typer.Option(
        help="Time steps, comma-separated; every variant is retrained at each (diet: T, "
             "default 1,2,3,5,8; seq2seq: LIF steps per token S, default 1,2,4,8).")
    ] = None,
    variants: Annotated[str | None, typer.Option(
        help="diet: comma-separated among leak+threshold, threshold, leak, neither, poisson "
             "(both learned, rate-coded input), default the first four; seq2seq: the SNNs, "
             "among snn_carry, snn (default both).")
    ] = None,
    epochs: Annotated[int | None, typer.Option(
        min=1, help="Training epochs per network (default: diet 4, stdp-rule and "
                    "stdp-prune 1, hybrid 3 STDB epochs, seq2seq 1).")] = None,
    n_exc: Annotated[int, typer.Option(
        min=1, help="stdp-rule, stdp-prune: excitatory neurons.")] = 400,
    levels: Annotated[str, typer.Option(
        help="stdp-rule: weight levels, comma-separated (0: float).")] = "0,4,8",
    rules: Annotated[str, typer.Option(
        help="stdp-rule: comma-separated among power-law, soft-bound, hard-bound.")
    ] = "power-law,soft-bound,hard-bound",
    prune_fraction: Annotated[float, typer.Option(
        min=0.0, max=0.99, help="stdp-rule: fraction of each neuron's synapses pruned.")
    ] = 0.0,
    fractions: Annotated[str, typer.Option(
        help="stdp-prune: pruned fractions, comma-separated, each in (0, 1).")
    ] = "0.5,0.75,0.9",
    intervals: Annotated[str, typer.Option(
        help="stdp-prune: presentations between pruning events, comma-separated (studied at "
             "75% pruned).")] = "250,1000,4000",
    sweep_steps: Annotated[str, typer.Option(
        help="hybrid: time steps T of the accuracy curves, comma-separated.")
    ] = "5,10,25,50,100,200",
    num_steps: Annotated[int | None, typer.Option(
        min=1, help="Time steps the networks train with (default: hybrid 25, the STDB, "
                    "linear and BPTT networks; diet-peer 5, both networks).")] = None,
    lava_samples: Annotated[int, typer.Option(
        min=1, help="diet-peer: test images DIET runs in Lava (the agreement check).")
    ] = 500,
    seed: Annotated[int, typer.Option(min=0, help="First seed.")] = 0,
    seeds: Annotated[int, typer.Option(min=1, help="Networks per variant and T.")] = 3,
    val_fraction: ValFraction = 0.1,
    val_seed: ValSeed = None,
    train_samples: TrainSamples = None,
    test_samples: TestSamples = None,
    allow_dirty: AllowDirty = False,
    spec: Annotated[str | None, typer.Option(
        help="diet: the network, a named DIET spec (small, tiny, small-pool) or "
             "comma-separated layers as in train diet (default small); other than small, it "
             "names the results (ablation_diet_<dataset>_<name>).")] = None,
    device: Annotated[str, typer.Option(
        help="diet: where the SNNs train (cpu, cuda, cuda:N, auto); the ANN twin, the "
             "evaluation and the export stay on the CPU.")] = "cpu",
) -> None:
    """diet: deployed accuracy, spike rates and energy vs T with the learned leak and/or
    threshold switched off, each variant retrained at each T. stdp-rule: deployed accuracy of
    the STDP network trained with each weight dependence at each number of weight levels.
    stdp-prune: pruning by weight against pruning by pre/post correlation at each pruned
    fraction, and the pruning interval. hybrid: accuracy vs T of the converted network (soft
    and hard reset) and of the STDB, linear-surrogate and from-scratch BPTT networks, and the
    step reduction. diet-peer: deployed DIET-SNN against the same network with SpikingJelly's
    PLIF neurons, trained side by side (a test-only dependency). seq2seq: why the spiking
    translation model trails its ReLU twin: BLEU, spike rates and gradient norms (per layer
    and through time) of the SNN with and without a carried membrane at each S. One results
    file each (and a plot, except diet-peer)."""
    from lava_thesis.device import DeviceError, resolve_device
    from lava_thesis.experiments import ablate_diet as ab
    from lava_thesis.experiments.diet import resolve_spec
    from lava_thesis.protocol import Protocol

    protocol = Protocol.from_options(seed, seeds, val_fraction, val_seed)
    if method is not Ablation.diet and device != "cpu":
        fail(f"--device applies to ablate diet only, not {method.value}")
    if method is not Ablation.diet and spec is not None:
        fail(f"--spec applies to ablate diet only, not {method.value}")
    if method is Ablation.seq2seq:
        if dataset is not None:
            fail(f"--dataset {dataset.value}: the seq2seq ablation reads Multi30k (de->en); "
                 "leave --dataset out")
        _seq2seq(data_dir, out, steps or "1,2,4,8", variants or "snn_carry,snn", epochs or 1,
                 protocol, train_samples, test_samples, allow_dirty)
        return
    dataset = dataset or Dataset.mnist
    name = f"ablation_{method.value.replace('-', '_')}_{dataset.value.replace('-', '_')}"
    if method is Ablation.stdp_rule:
        _stdp_rule(dataset, data_dir, out, name, levels, rules, n_exc, prune_fraction,
                   epochs or 1, protocol, train_samples, test_samples, allow_dirty)
        return
    if method is Ablation.stdp_prune:
        _stdp_prune(dataset, data_dir, out, name, fractions, intervals, n_exc, epochs or 1,
                    protocol, train_samples, test_samples, allow_dirty)
        return
    if method is Ablation.hybrid:
        _hybrid(dataset, data_dir, out, name, sweep_steps, num_steps or 25, epochs or 3,
                protocol, train_samples, test_samples, allow_dirty)
        return
    if method is Ablation.diet_peer:
        _diet_peer(dataset, data_dir, out, name, num_steps or 5, epochs or 4, lava_samples,
                   protocol, train_samples, test_samples, allow_dirty)
        return

    try:
        step_list = ab.parse_steps(steps or "1,2,3,5,8")
    except ValueError as err:
        fail(f"--steps: {err}")
    chosen = tuple(v.strip() for v in (variants or "leak+threshold,threshold,leak,neither"
                                       ).split(","))
    if unknown := [v for v in chosen if v not in ab.VARIANTS]:
        fail(f"--variants: unknown {', '.join(unknown)}; choose among {', '.join(ab.VARIANTS)}")
    if dataset is Dataset.cifar10:
        fail("--dataset cifar10: the ablation runs the small DIET specs (mnist, fashion-mnist)")
    try:
        resolve_device(device)
    except DeviceError as err:
        fail(str(err))
    layers, suffix = resolve_spec(spec)
    check_paths(out_dirs={"--out": out}, data_dir=data_dir)
    check_clean_out(out, allow_dirty)
    train, test = load_train_test(dataset, data_dir, train_samples, test_samples)
    check_spec(layers, train[0])
    cfg = ab.DietAblationConfig(spec=layers, steps=step_list, variants=chosen, seed=seed,
                                val_fraction=val_fraction,
                                train=ab.TrainConfig(epochs=epochs or 4, seed=seed,
                                                     device=device))
    metrics = ab.run(train, test, out, dataset=dataset.value, config=cfg,
                     experiment=name + suffix, log=typer.echo, protocol=protocol,
                     allow_dirty=allow_dirty)
    for key, value in metrics.items():
        typer.echo(f"{key}: {value}")


def _stdp_rule(dataset: Dataset, data_dir: Path | None, out: Path, name: str, levels: str,
               rules: str, n_exc: int, prune_fraction: float, epochs: int, protocol,
               train_samples: int | None, test_samples: int | None, allow_dirty: bool) -> None:
    """``ablate stdp-rule``: options checked, then
    :func:`lava_thesis.experiments.ablate_stdp_rule.run`."""
    from lava_thesis.experiments import ablate_stdp_rule as ab
    from lava_thesis.stdp.rules import RULES

    level_list = _numbers("--levels", levels, int)
    if any(v < 0 or v == 1 for v in level_list):
        fail(f"--levels: each must be 0 (float) or >= 2, got {levels!r}")
    chosen = tuple(r.strip() for r in rules.split(","))
    if unknown := [r for r in chosen if r not in RULES]:
        fail(f"--rules: unknown {', '.join(unknown)}; choose among {', '.join(RULES)}")
    train, test, stdp = _stdp_setup(dataset, data_dir, out, n_exc, epochs, protocol,
                                    train_samples, test_samples, allow_dirty)
    cfg = ab.RuleAblationConfig(rules=chosen, levels=level_list,
                                stdp=replace(stdp, prune_fraction=prune_fraction))
    metrics = ab.run(train, test, out, dataset=dataset.value, config=cfg, experiment=name,
                     log=typer.echo, protocol=protocol, allow_dirty=allow_dirty)
    for key, value in metrics.items():
        typer.echo(f"{key}: {value}")


def _stdp_prune(dataset: Dataset, data_dir: Path | None, out: Path, name: str, fractions: str,
                intervals: str, n_exc: int, epochs: int, protocol, train_samples: int | None,
                test_samples: int | None, allow_dirty: bool) -> None:
    """``ablate stdp-prune``: options checked, then
    :func:`lava_thesis.experiments.ablate_stdp_prune.run`."""
    from lava_thesis.experiments import ablate_stdp_prune as ab

    fraction_list = _numbers("--fractions", fractions, float)
    if not all(0 < f < 1 for f in fraction_list):
        fail(f"--fractions: each must be in (0, 1), got {fractions!r}")
    interval_list = _numbers("--intervals", intervals, int)
    if min(interval_list) < 1:
        fail(f"--intervals: each must be >= 1 presentation, got {intervals!r}")
    train, test, stdp = _stdp_setup(dataset, data_dir, out, n_exc, epochs, protocol,
                                    train_samples, test_samples, allow_dirty)
    cfg = ab.PruneAblationConfig(fractions=fraction_list, intervals=interval_list, stdp=stdp)
    metrics = ab.run(train, test, out, dataset=dataset.value, config=cfg, experiment=name,
                     log=typer.echo, protocol=protocol, allow_dirty=allow_dirty)
    for key, value in metrics.items():
        typer.echo(f"{key}: {value}")


def _hybrid(dataset: Dataset, data_dir: Path | None, out: Path, name: str, sweep_steps: str,
            num_steps: int, epochs: int, protocol, train_samples: int | None,
            test_samples: int | None, allow_dirty: bool) -> None:
    """``ablate hybrid``: options checked, then
    :func:`lava_thesis.experiments.ablate_hybrid.run`."""
    from lava_thesis.experiments import ablate_hybrid as ab
    from lava_thesis.experiments.hybrid import HybridConfig
    from lava_thesis.hybrid.stdb import STDBConfig

    sweep = _numbers("--sweep-steps", sweep_steps, int)
    if min(sweep) < 1:
        fail(f"--sweep-steps: each must be >= 1, got {sweep_steps!r}")
    if protocol.val_fraction == 0:
        fail("--val-fraction must be > 0 for the hybrid ablation: thresholds and epochs are "
             "chosen on the validation split")
    check_paths(out_dirs={"--out": out}, data_dir=data_dir)
    check_clean_out(out, allow_dirty)
    train, test = load_train_test(dataset, data_dir, train_samples, test_samples)
    hybrid = HybridConfig(num_steps=num_steps, lava_samples=0, eval_samples=None,
                          val_fraction=protocol.val_fraction,
                          stdb=STDBConfig(epochs=epochs, seed=protocol.seeds[0]))
    cfg = ab.HybridAblationConfig(hybrid=hybrid, sweep_steps=sweep)
    metrics = ab.run(train, test, out, dataset=dataset.value, config=cfg, experiment=name,
                     log=typer.echo, protocol=protocol, allow_dirty=allow_dirty)
    for key, value in metrics.items():
        typer.echo(f"{key}: {value}")


def _numbers(option: str, text: str, kind: type) -> tuple:
    """``"0.5,0.75"`` -> ``(0.5, 0.75)`` (``kind`` int or float), else one error line."""
    try:
        return tuple(kind(v) for v in text.split(","))
    except ValueError:
        fail(f"{option}: expected comma-separated {kind.__name__}s, got {text!r}")


def _stdp_setup(dataset: Dataset, data_dir: Path | None, out: Path, n_exc: int, epochs: int,
                protocol, train_samples: int | None, test_samples: int | None,
                allow_dirty: bool):
    """The STDP ablations' shared checks and data: ``(train, test, STDPConfig)``."""
    from lava_thesis.experiments.stdp import STDPConfig

    if dataset not in (Dataset.mnist, Dataset.fashion_mnist):
        fail(f"--dataset {dataset.value}: the STDP network takes 28x28 images "
             "(mnist, fashion-mnist)")
    check_paths(out_dirs={"--out": out}, data_dir=data_dir)
    check_clean_out(out, allow_dirty)
    train, test = load_train_test(dataset, data_dir, None, None)
    stdp = STDPConfig(n_exc=n_exc, epochs=epochs, train_samples=train_samples,
                      test_samples=test_samples, seed=protocol.seeds[0],
                      val_fraction=protocol.val_fraction,
                      assign_samples=min(10000, train_samples or 10000),
                      val_samples=min(10000, train_samples or 10000), lava_samples=0)
    return train, test, stdp


def _diet_peer(dataset: Dataset, data_dir: Path | None, out: Path, name: str, num_steps: int,
               epochs: int, lava_samples: int, protocol, train_samples: int | None,
               test_samples: int | None, allow_dirty: bool) -> None:
    """``ablate diet-peer``: options checked, then :func:`lava_thesis.experiments.diet_peer.run`
    (our defaults for the dataset, as ``train diet`` has them)."""
    from lava_thesis.experiments import diet_peer as peer
    from lava_thesis.experiments.diet import DietConfig, TrainConfig

    if dataset is Dataset.cifar10:
        fail("--dataset cifar10: the peer comparison runs the small DIET spec (mnist, "
             "fashion-mnist)")
    try:
        peer._spikingjelly()
    except RuntimeError as err:
        fail(str(err))
    check_paths(out_dirs={"--out": out}, data_dir=data_dir)
    check_clean_out(out, allow_dirty)
    train, test = load_train_test(dataset, data_dir, train_samples, test_samples)
    diet = DietConfig(num_steps=num_steps, lava_samples=lava_samples,
                      val_fraction=protocol.val_fraction,
                      train=TrainConfig(epochs=epochs, seed=protocol.seeds[0]))
    metrics = peer.run(train, test, out, dataset=dataset.value,
                       config=peer.PeerConfig(diet=diet), experiment=name, log=typer.echo,
                       protocol=protocol, allow_dirty=allow_dirty)
    for key, value in metrics.items():
        typer.echo(f"{key}: {value}")


def _seq2seq(data_dir: Path | None, out: Path, steps: str, variants: str, epochs: int, protocol,
             train_samples: int | None, test_samples: int | None, allow_dirty: bool) -> None:
    """``ablate seq2seq``: options checked, then
    :func:`lava_thesis.experiments.lite_seq2seq_diagnosis.run` (``--train-samples``: a seeded
    sample of the training pairs; ``--test-samples``: the first test and validation pairs)."""
    from lava_thesis.experiments.lite_seq2seq import SNNS, LiteSeq2SeqConfig
    from lava_thesis.experiments.lite_seq2seq_diagnosis import Seq2SeqDiagnosisConfig, run

    step_list = _numbers("--steps", steps, int)
    if min(step_list) < 1 or len(set(step_list)) != len(step_list):
        fail(f"--steps: distinct integers >= 1 expected, got {steps!r}")
    snns = tuple(v.strip() for v in variants.split(","))
    if unknown := [v for v in snns if v not in SNNS]:
        fail(f"--variants: unknown {', '.join(unknown)}; the seq2seq SNNs are "
             f"{', '.join(SNNS)}")
    check_paths(out_dirs={"--out": out}, data_dir=data_dir)
    check_clean_out(out, allow_dirty)
    base = LiteSeq2SeqConfig(epochs=epochs, seed=protocol.seeds[0], subset=train_samples,
                             test_subset=test_samples, val_subset=test_samples,
                             data_dir=None if data_dir is None else str(data_dir),
                             out_dir=str(out), experiment="ablation_seq2seq_multi30k")
    metrics = run(Seq2SeqDiagnosisConfig(steps=step_list, snns=snns, base=base), log=typer.echo,
                  protocol=protocol, allow_dirty=allow_dirty)
    for key, value in metrics.items():
        typer.echo(f"{key}: {value}")
