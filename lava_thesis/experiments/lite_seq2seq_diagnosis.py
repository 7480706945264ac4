"""Why the spiking seq2seq model trails its ReLU twin (``lava-thesis ablate seq2seq``).

The thesis claims that a convolutional SNN with attention beats the same CNN with ReLU on
Multi30k, and credits the LIF neurons' implicit recurrence. :mod:`lite_seq2seq` finds the
opposite. This experiment looks for the cause along the four lines a reviewer would ask about,
with everything else as in :mod:`lite_seq2seq` (data, vocabularies, optimiser, epochs, best
validation epoch, greedy test decoding, BLEU):

- **Membrane carry on vs off**: ``snn_carry`` (membrane carried across token positions) and
  ``snn`` (reset at every position).
- **Inner steps S**: each SNN is retrained at every S of ``steps`` (LIF steps per token).
- **Per-layer spike rates** of the trained networks on the test pairs (``spike_rate_enc1`` ..
  ``spike_rate_dec<L>``, the fraction of neuron-steps that spike): a silent or saturated layer
  passes little information.
- **Gradient norms**, on a fixed probe batch of validation pairs (teacher-forced loss), at
  initialisation (``grad_init_*``) and after training (``grad_*``): the norm of the loss
  gradient for each convolution's weights (``enc1`` .. ``dec<L>``) and for ``W_out``; and
  *through time*, ``lag<d>``: the mean norm of the gradient of the loss at each sentence's last
  target position ``p`` with respect to the decoder input embedding at position ``p - d``,
  divided by that at ``d = 0``. In the ReLU CNN and the per-position SNN it is exactly zero
  beyond the causal convolutions' reach (``dec_layers (k - 1)`` positions); only a carried
  membrane can pass a gradient further back, and ``lag<d>`` measures how much it does.

The ReLU CNN (``relu_cnn``, no S) is trained once per seed as the reference; each SNN's
``<variant>_minus_relu_cnn_bleu`` is paired per seed. Variant keys are ``<snn>_s<S>``.

``run(Seq2SeqDiagnosisConfig(...))`` writes ``<out_dir>/<experiment>.json`` and ``.png`` and
returns the metrics (means over the seeds).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from lava_thesis.device import resolve_device
from lava_thesis.experiments.lite_seq2seq import (
    SNNS,
    LiteSeq2SeqConfig,
    Prepared,
    _batch,
    build_model,
    official_validation,
    prepare,
    score,
    sentence_energy,
    train_epochs,
)
from lava_thesis.lite.seq2seq_models import ConvSeq2Seq
from lava_thesis.lite.text import PAD_ID
from lava_thesis.plots import new_figure, save_figure
from lava_thesis.protocol import Protocol, or_single_seed
from lava_thesis.results import write_results

__all__ = ["Seq2SeqDiagnosisConfig", "gradient_probe", "run", "variants"]

REFERENCE = "relu_cnn"


@dataclass
class Seq2SeqDiagnosisConfig:
    """What is varied (``snns`` x ``steps``), the probes, and everything else as
    :class:`LiteSeq2SeqConfig` (its ``models`` and ``steps`` are not used)."""

    steps: tuple[int, ...] = (1, 2, 4, 8)
    snns: tuple[str, ...] = SNNS
    lags: int = 12  #: gradient-through-time profile: positions d = 0 .. lags back
    probe_pairs: int = 64  #: validation pairs of the gradient probe batch
    base: LiteSeq2SeqConfig = field(default_factory=lambda: LiteSeq2SeqConfig(
        epochs=1, experiment="ablation_seq2seq_multi30k"))

    def __post_init__(self) -> None:
        if not self.steps or min(self.steps) < 1 or len(set(self.steps)) != len(self.steps):
            raise ValueError(f"steps must be distinct integers >= 1, got {self.steps}")
        if not self.snns or any(s not in SNNS for s in self.snns):
            raise ValueError(f"snns must be among {SNNS}, got {self.snns}")
        if self.lags < 1 or self.probe_pairs < 1:
            raise ValueError(f"lags and probe_pairs must be >= 1, got {self.lags}, "
                             f"{self.probe_pairs}")


def variants(cfg: Seq2SeqDiagnosisConfig) -> list[tuple[str, str, int]]:
    """``(key, model kind, S)`` of every trained network, the reference first.

    >>> print(*(key for key, kind, steps in variants(Seq2SeqDiagnosisConfig(steps=(1, 4)))))
    relu_cnn snn_carry_s1 snn_carry_s4 snn_s1 snn_s4
    """
    return [(REFERENCE, REFERENCE, 1)] + [(f"{kind}_s{s}", kind, s) for kind in cfg.snns
                                          for s in cfg.steps]


def _layer_grads(model: ConvSeq2Seq) -> dict[str, float]:
    """Norms of the current weight gradients: every convolution (``enc1`` .., ``dec1`` ..)
    and the output layer."""
    out = {f"enc{i + 1}": conv.weight.grad for i, conv in enumerate(model.enc_convs)}
    out |= {f"dec{i + 1}": conv.weight.grad for i, conv in enumerate(model.dec_convs)}
    out["out"] = model.out.weight.grad
    return {k: 0.0 if g is None else float(g.norm()) for k, g in out.items()}


def gradient_probe(model: ConvSeq2Seq, batch: tuple[torch.Tensor, ...], lags: int
                   ) -> dict[str, float]:
    """Gradient norms of ``model`` on one batch (``_batch`` layout: source, lengths, decoder
    input, decoder output): ``grad_<layer>`` of the mean teacher-forced loss, ``lag0_norm``
    and ``lag<d>`` (d = 1 .. ``lags``; module docstring). The model is left in eval mode with
    its gradients cleared.

    >>> torch.manual_seed(0) and None
    >>> m = ConvSeq2Seq(12, 12, embed_dim=4, channels=8, steps=1, activation="relu")
    >>> src, tgt = torch.randint(3, 12, (2, 5)), torch.randint(3, 12, (2, 9))
    >>> probe = gradient_probe(m, (src, torch.tensor([5, 5]), tgt[:, :-1], tgt[:, 1:]), 6)
    >>> probe["lag4"] > 0, probe["lag5"], probe["lag6"]  # two causal k=3 convs reach 4 back
    (True, 0.0, 0.0)
    """
    model.eval()
    src, src_len, tgt_in, tgt_out = batch
    captured: list[torch.Tensor] = []

    def keep(_module, _inputs, output):
        output.retain_grad()
        captured.append(output)

    model.zero_grad()
    logits = model(src, src_len, tgt_in)
    loss = torch.nn.functional.cross_entropy(logits.flatten(0, 1), tgt_out.flatten(),
                                             ignore_index=PAD_ID)
    loss.backward()
    grads = {f"grad_{k}": v for k, v in _layer_grads(model).items()}
    model.zero_grad()
    handle = model.tgt_embed.register_forward_hook(keep)
    try:
        logits = model(src, src_len, tgt_in)
    finally:
        handle.remove()
    last = (tgt_out != PAD_ID).sum(1) - 1  # each sentence's last target position
    rows = torch.arange(len(src))
    chosen = logits[rows, last]
    torch.nn.functional.cross_entropy(chosen, tgt_out[rows, last], reduction="sum").backward()
    norms = captured[0].grad.norm(dim=-1)  # (B, Lt)
    profile = []
    for d in range(lags + 1):
        ok = last - d >= 0
        profile.append(float(norms[rows[ok], (last - d)[ok]].mean()) if ok.any() else 0.0)
    model.zero_grad()
    base = profile[0] if profile[0] > 0 else 1.0
    return {**grads, "lag0_norm": profile[0],
            **{f"lag{d}": profile[d] / base for d in range(1, lags + 1)}}


def _train_one(kind: str, steps: int, prep: Prepared, cfg: Seq2SeqDiagnosisConfig,
               probe: tuple[torch.Tensor, ...], seed: int, dev: torch.device,
               log: Callable[[str], Any]) -> dict[str, float]:
    base = replace(cfg.base, steps=steps)
    torch.manual_seed(seed)
    model = build_model(kind, len(prep.src_vocab), len(prep.tgt_vocab), base).to(dev)
    init = gradient_probe(model, probe, cfg.lags)
    stats, _ = train_epochs(
        model, prep.data["train"], base,
        lambda: {k: v for k, v in score(model, prep, base, "val")[0].items() if k != "accuracy"},
        seed=seed, log=log, name=f"{kind} S={steps}")
    test = score(model, prep, base, "test")[0]
    energy = sentence_energy(model, prep.data["test"])
    m = {"bleu": test["bleu"], "test_accuracy": test["accuracy"], "val_bleu": stats["val_bleu"],
         "best_epoch": stats["best_epoch"], "updates": stats["updates"],
         "energy_pj": energy["energy_pj"],
         **{k: v for k, v in energy.items() if k.startswith("spike_rate_")},
         **{k.replace("grad_", "grad_init_", 1): v for k, v in init.items()
            if k.startswith("grad_")},
         **gradient_probe(model, probe, cfg.lags)}
    log(f"  seed {seed} {kind} S={steps}: BLEU {m['bleu']:.2f} (validation "
        f"{m['val_bleu']:.2f}), lag {cfg.lags} gradient ratio {m[f'lag{cfg.lags}']:.3g}")
    return m


def run(config: Seq2SeqDiagnosisConfig | None = None, *, log: Callable[[str], Any] = print,
        command: str | None = None, allow_dirty: bool = False,
        protocol: Protocol | None = None) -> dict[str, float]:
    """Train every variant once per seed, probe and score it; write the JSON and the plot;
    return the metrics (means over the seeds)."""
    cfg = config or Seq2SeqDiagnosisConfig()
    protocol = or_single_seed(protocol, cfg.base.seed)
    dev = resolve_device(cfg.base.device)
    torch.set_num_threads(1)
    prep = prepare(cfg.base, dev)
    n_val = len(prep.text["val"][0])
    probe = _batch(prep.data["val"], np.arange(min(cfg.probe_pairs, n_val)))
    chosen = variants(cfg)
    log(f"seq2seq diagnosis: {len(chosen)} networks per seed ({', '.join(k for k, *_ in chosen)})"
        f", {cfg.base.epochs} epoch(s) each, seeds {list(protocol.seeds)}")

    def one_seed(seed: int) -> dict[str, float]:
        m: dict[str, float] = {}
        for key, kind, steps in chosen:
            m |= {f"{key}_{k}": v for k, v in
                  _train_one(kind, steps, prep, cfg, probe, seed, dev, log).items()}
        for key, *_ in chosen[1:]:
            m[f"{key}_minus_{REFERENCE}_bleu"] = m[f"{key}_bleu"] - m[f"{REFERENCE}_bleu"]
        return m

    metrics, extra = protocol.run(one_seed, log)
    metrics = {**prep.shared, **metrics}
    out_dir = Path(cfg.base.out_dir)
    plot(metrics, cfg, out_dir / f"{cfg.base.experiment}.png")
    reach = cfg.base.dec_layers * (cfg.base.kernel - 1)
    write_results(
        out_dir, cfg.base.experiment, method="lite", command=command,
        validation=official_validation(len(prep.text["train"][0]), n_val, protocol),
        config={**asdict(cfg), "protocol": protocol.as_dict()},
        dataset=f"Multi30k task 1 {cfg.base.src}->{cfg.base.tgt}: train "
                f"({len(prep.text['train'][0])} pairs), val ({n_val} pairs: model selection "
                f"and the gradient probe), test_2016_flickr ({len(prep.text['test'][0])} pairs)",
        metrics=metrics,
        headline=[f"{k}_bleu" for k, *_ in chosen] + [f"{k}_minus_{REFERENCE}_bleu"
                                                       for k, *_ in chosen[1:]],
        extra={**extra,
               "gradient_probe": f"the first {probe[0].shape[0]} validation pairs, "
                                 "teacher-forced; grad_*: weight-gradient norm of the mean "
                                 "loss; lag<d>: |dloss(p)/dx(p-d)| / |dloss(p)/dx(p)| for the "
                                 "last target position p, x the decoder input embedding; zero "
                                 f"beyond d = {reach} without a carried membrane",
               "spike_rates": "fraction of neuron-steps that spike, mean over the test pairs",
               "training": f"{cfg.base.epochs} epoch(s) per network, best validation BLEU "
                           "epoch, as lite_seq2seq"},
        allow_dirty=allow_dirty)
    return metrics


def plot(metrics: dict[str, float], cfg: Seq2SeqDiagnosisConfig, path: Path) -> Path:
    """Test BLEU vs S (the ReLU CNN as a line), the gradient-through-time profile of every
    network, and the carried SNN's per-layer spike rates vs S."""
    fig = new_figure((13.0, 4.0))
    ax_bleu, ax_lag, ax_rate = fig.subplots(1, 3)
    steps = list(cfg.steps)
    for kind in cfg.snns:
        ax_bleu.plot(steps, [metrics[f"{kind}_s{s}_bleu"] for s in steps], "o-", label=kind)
    ax_bleu.axhline(metrics[f"{REFERENCE}_bleu"], color="k", ls="--", label=REFERENCE)
    ax_bleu.set(xlabel="LIF steps per token S", ylabel="test BLEU", xscale="log", xticks=steps,
                xticklabels=[str(s) for s in steps])
    ax_bleu.legend(fontsize=8)
    lags = range(1, cfg.lags + 1)
    for key, *_ in variants(cfg):
        values = [max(metrics[f"{key}_lag{d}"], 1e-12) for d in lags]
        ax_lag.plot(list(lags), values, "k--" if key == REFERENCE else "-", label=key)
    ax_lag.set(xlabel="positions back d", ylabel="gradient norm / at d = 0", yscale="log",
               title="gradient through time (trained)")
    ax_lag.legend(fontsize=7)
    kind = cfg.snns[0]
    layers = sorted({k.split("spike_rate_")[1] for k in metrics
                     if k.startswith(f"{kind}_s{steps[0]}_spike_rate_")})
    for layer in layers:
        ax_rate.plot(steps, [metrics[f"{kind}_s{s}_spike_rate_{layer}"] for s in steps], "o-",
                     label=layer)
    ax_rate.set(xlabel="LIF steps per token S", ylabel="spike rate", xscale="log",
                xticks=steps, xticklabels=[str(s) for s in steps], title=kind)
    ax_rate.legend(fontsize=8)
    return save_figure(fig, path)
