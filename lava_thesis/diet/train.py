"""DIET-SNN training: ANN pre-training, threshold initialisation, joint training of weights,
leaks and thresholds with SLAYER's surrogate gradient.

Inputs are uint8 images ``(N, H, W)`` (or ``(N, C, H, W)``); batches are made on the fly:
analog ``x = p / 256`` repeated for ``T`` steps, then ``net.delay`` silent steps so the last
input step reaches the output (one step of delay per layer, as in Lava).

Training runs on ``TrainConfig.device`` (``cpu``, ``cuda``, ``cuda:N``, ``auto``; see
:mod:`lava_thesis.device`): the network and the uint8 images move there once, each batch's input
is built there. Under a process group (``torchrun``, :mod:`lava_thesis.distributed`) training
is data parallel (``DistributedDataParallel`` with a ``DistributedSampler``) and
:func:`accuracy` splits its images across the ranks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from lava_thesis import distributed
from lava_thesis.device import check_amp, resolve_device, set_deterministic
from lava_thesis.diet import checkpoint as epoch_checkpoint
from lava_thesis.diet.augment import AUGMENTS, augment
from lava_thesis.diet.checkpoint import EpochCheckpoint
from lava_thesis.diet.model import THETA_REF, DietSNN
from lava_thesis.quickstart import predict
from lava_thesis.slayer_ext import INPUT_BITS, pixels_to_input
from lava_thesis.training import fit

#: the ANN twin's layers that have an SNN weight layer (with a neuron) as their counterpart
WEIGHT_LAYERS = (torch.nn.Conv2d, torch.nn.Linear, torch.nn.AvgPool2d)


@dataclass
class TrainConfig:
    """Optimiser settings. Leak and threshold get their own learning rates (SLAYER stores the
    decay scaled by 4096, so its rate is given per unit of leak and scaled here)."""

    epochs: int = 2
    batch_size: int = 64
    lr: float = 1e-3
    lr_threshold: float = 1e-2
    lr_leak: float = 1e-3
    cosine: bool = True  # cosine learning-rate schedule over all steps (the paper's code)
    # Weight of the hidden spike rates in the loss (energy): ``rate_penalty`` times the mean over
    # hidden layers of ``max(rate_l - rate_target, 0)``. Careful: with Adam even a small weight
    # moves every threshold at full step size; with ``rate_target = 0`` (a plain rate penalty)
    # 0.5 and 0.05 both silenced the network within the first MNIST epoch (measured). A target
    # makes the penalty a hinge: layers at or below it feel no pull. Default off.
    rate_penalty: float = 0.0
    rate_target: float = 0.0
    seed: int = 0
    #: where to train: "cpu", "cuda", "cuda:N" or "auto" (cuda when available)
    device: str = "cpu"
    #: mixed precision on CUDA: "off", "bf16" or "fp16" (refused on the CPU)
    amp: str = "off"
    #: torch.use_deterministic_algorithms(True) before training
    deterministic: bool = False
    #: training-time augmentation of each batch: "none", "shift" (up to 2 px; digits,
    #: clothes) or "crop-flip" (pad 4, crop, horizontal flip; CIFAR), see
    #: :mod:`lava_thesis.diet.augment`
    augment: str = "none"
    #: dropout of hidden spikes while training, one mask per sample and neuron for all time
    #: steps (:attr:`lava_thesis.diet.model.DietSNN.dropout`); 0: off
    dropout: float = 0.0
    #: "direct" (DIET: analog pixels every step) or "poisson" (rate coding: each pixel a
    #: Bernoulli spike train of rate p / 255, redrawn every batch; the ablation's control)
    input: str = "direct"


def as_images(images: np.ndarray) -> np.ndarray:
    """``(N, H, W)`` or ``(N, C, H, W)`` uint8 -> ``(N, C, H, W)``."""
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[:, None]
    if images.ndim != 4:
        raise ValueError(f"images must be (N, H, W) or (N, C, H, W), got {images.shape}")
    return images


def lava_payload(images: np.ndarray, num_steps: int, pad: int) -> np.ndarray:
    """uint8 images -> graded-spike payloads ``p`` for Lava (8-bit direct input), float32
    ``(N, C, H, W, T + pad)``: the pixels for ``T`` steps, then ``pad`` silent steps."""
    images = as_images(images)
    if images.dtype != np.uint8:
        raise ValueError(f"images must be uint8 pixels, got dtype {images.dtype}")
    p = images.astype(np.float32)[..., None]
    return np.concatenate([np.repeat(p, num_steps, -1),
                           np.zeros(p.shape[:-1] + (pad,), np.float32)], -1)


def snn_input(images: np.ndarray, num_steps: int, pad: int) -> torch.Tensor:
    """The same input for SLAYER: analog ``x = p / 256`` (exact in float32)."""
    return torch.from_numpy(lava_payload(images, num_steps, pad) / (1 << INPUT_BITS))


INPUTS = ("direct", "poisson")


def rate_input(pixels: torch.Tensor, num_steps: int, pad: int,
               generator: torch.Generator | None = None) -> torch.Tensor:
    """Rate-coded (Poisson) input from uint8 pixels ``(N, C, H, W)``: ``num_steps`` Bernoulli
    draws of probability ``p / 255`` per pixel (drawn on the CPU with ``generator``, so every
    device sees the same spikes), then ``pad`` zero steps; ``(N, C, H, W, T + pad)`` on the
    pixels' device."""
    prob = pixels.to("cpu", torch.float32)[..., None] / 255.0
    draws = torch.rand((*prob.shape[:-1], num_steps), generator=generator)
    spikes = (draws < prob).to(torch.float32)
    return torch.nn.functional.pad(spikes, (0, pad)).to(pixels.device)


def pixels_input(pixels: torch.Tensor, num_steps: int, pad: int) -> torch.Tensor:
    """:func:`snn_input` from a uint8 tensor ``(N, C, H, W)`` on any device, built there:
    ``x = p / 256`` for ``num_steps`` steps, then ``pad`` zero steps (the same float32 values,
    the division by 256 being exact)."""
    x = pixels.to(torch.float32)[..., None] / (1 << INPUT_BITS)
    return torch.nn.functional.pad(x.expand(*x.shape[:-1], num_steps), (0, pad))


predict_spikes = predict  # the class with most output spikes (shared with the quickstart)


def predict_output(net: DietSNN, out: np.ndarray | torch.Tensor) -> np.ndarray:
    """Predicted classes from :func:`snn_output` (or Lava's matching output): the argmax of
    ``net.scores`` (spike counts, or the integrator readout's last voltage)."""
    return net.scores(torch.as_tensor(out)).argmax(1).numpy()


def hidden_rate(net: DietSNN, record: list, target: float = 0.0) -> torch.Tensor:
    """Mean over the hidden weight layers of ``max(rate_l - target, 0)``, where ``rate_l`` is
    layer ``l``'s spike rate (spikes per neuron per step); ``target = 0``: the mean rate."""
    outs = [x for block, x in zip(net.blocks, record, strict=True) if hasattr(block, "neuron")]
    return torch.stack([torch.relu(x.mean() - target) for x in outs[:-1]]).mean()


def param_groups(net: DietSNN, cfg: TrainConfig) -> list[dict]:
    """Adam parameter groups: weights (``cfg.lr``), threshold gains (``cfg.lr_threshold``) and
    leaks (``cfg.lr_leak``), each at its own rate (SLAYER stores decays x4096)."""
    weights, gains, leaks = [], [], []
    for name, param in net.named_parameters():
        if not param.requires_grad:
            continue
        if name.endswith("log_gain"):
            gains.append(param)
        elif name.endswith("voltage_decay"):
            leaks.append(param)
        else:
            weights.append(param)
    p_scale = net.weight_blocks[0].neuron.p_scale
    return [{"params": weights, "lr": cfg.lr}, {"params": gains, "lr": cfg.lr_threshold},
            {"params": leaks, "lr": cfg.lr_leak * p_scale}]


def train_snn(
    net: DietSNN,
    images: np.ndarray,
    labels: np.ndarray,
    num_steps: int,
    cfg: TrainConfig,
    on_epoch: Callable[[int, float], None] | None = None,
    batches: Callable[[int], list[np.ndarray]] | None = None,
    checkpoint: EpochCheckpoint | None = None,
    state: Callable[[], dict] | None = None,
    restore: Callable[[dict], None] | None = None,
) -> list[float]:
    """Train weights, thresholds and leaks jointly; return training accuracy per epoch.

    Loss: cross-entropy on the class scores (spike counts or the integrator's voltage), plus
    ``rate_penalty`` times the mean excess of the hidden layers' spike rates over
    ``rate_target`` (:func:`hidden_rate`; fewer spikes, fewer synaptic operations); Adam with
    per-group learning rates and an optional cosine schedule. Leaks are clamped to [0, 1]
    after each step.

    Each batch is augmented by ``cfg.augment`` (:mod:`lava_thesis.diet.augment`). Runs on
    ``cfg.device`` (mixed precision ``cfg.amp`` on CUDA). The index batches of each
    epoch are ``batches(epoch)`` when given, else ``cfg.batch_size`` samples at a time in an
    order shuffled with ``cfg.seed``; under a process group, this rank's share from a
    ``DistributedSampler`` (:func:`data_parallel`).

    ``checkpoint`` (:class:`~lava_thesis.diet.checkpoint.EpochCheckpoint`): after every
    ``checkpoint.every``-th epoch (and after ``on_epoch``) the training state and the caller's
    ``state()`` are written (rank 0); with ``checkpoint.resume`` and the file there, the
    network, optimiser, schedule and generators are restored from it, ``restore(extra)`` gets
    the caller's state back, and training continues at the next epoch, as if never stopped.
    """
    if cfg.augment not in AUGMENTS:
        raise ValueError(f"augment must be one of {AUGMENTS}, got {cfg.augment!r}")
    if not 0.0 <= cfg.dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {cfg.dropout}")
    if cfg.input not in INPUTS:
        raise ValueError(f"input must be one of {INPUTS}, got {cfg.input!r}")
    net.dropout = cfg.dropout
    device = resolve_device(cfg.device, distributed.local_rank())
    amp_dtype = check_amp(cfg.amp, device)
    if cfg.deterministic:
        set_deterministic(True)
    net.to(device)
    pixels = torch.from_numpy(as_images(images)).to(device)  # uint8, moved once
    gen = torch.Generator().manual_seed(cfg.seed)
    aug_gen = torch.Generator().manual_seed(cfg.seed + 1)  # augmentation draws, on the CPU
    opt = torch.optim.Adam(param_groups(net, cfg))
    model, steps = net, -(-len(labels) // cfg.batch_size)
    if distributed.is_initialized():
        model, sampled, n_local = data_parallel(net, len(labels), cfg, device)
        batches, steps = batches or sampled, -(-n_local // cfg.batch_size)
    if batches is not None:
        steps = len(batches(0))
    total = cfg.epochs * steps
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, total) if cfg.cosine else None

    def forward(idx: np.ndarray):
        record: list = []
        batch = augment(pixels[torch.as_tensor(idx, device=device)], cfg.augment, aug_gen)
        x = (pixels_input(batch, num_steps, net.delay) if cfg.input == "direct" else
             rate_input(batch, num_steps, net.delay, aug_gen))
        out = net.scores(model(x, record=record))
        return out, (cfg.rate_penalty * hidden_rate(net, record, cfg.rate_target)
                     if cfg.rate_penalty else 0.0)

    def after_step() -> None:
        if sched is not None:
            sched.step()
        net.clamp()

    start = 0
    if checkpoint is not None and checkpoint.resume and checkpoint.path.is_file():
        saved = epoch_checkpoint.load(checkpoint.path, cfg)
        net.load_state_dict(saved["net"])
        opt.load_state_dict(saved["optimizer"])
        if sched is not None:
            sched.load_state_dict(saved["scheduler"])
        for generator, value in zip((gen, aug_gen), saved["generators"], strict=True):
            generator.set_state(value)
        torch.set_rng_state(saved["torch_rng"])
        if restore is not None:
            restore(saved["extra"])
        start = saved["epoch"]

    def epoch_done(epoch: int, accuracy: float) -> None:
        if on_epoch is not None:
            on_epoch(epoch, accuracy)
        if (checkpoint is not None and (epoch + 1) % checkpoint.every == 0
                and distributed.is_main()):
            epoch_checkpoint.save(checkpoint.path, epoch=epoch + 1, config=cfg, net=net,
                                  optimizer=opt, scheduler=sched, generators=[gen, aug_gen],
                                  extra={} if state is None else state())

    return fit(net, forward, labels, opt, epochs=cfg.epochs, batch_size=cfg.batch_size,
               generator=gen, after_step=after_step, on_epoch=epoch_done, desc="DIET",
               device=device, batches=batches, amp_dtype=amp_dtype, start_epoch=start)


def data_parallel(net: DietSNN, n: int, cfg: TrainConfig, device: torch.device):
    """``(model, batches, n_local)`` for data-parallel training under a process group:
    ``net`` wrapped in ``DistributedDataParallel`` (which averages the gradients over the
    ranks), ``batches(epoch)`` this rank's index batches from a ``DistributedSampler``
    (shuffled with ``cfg.seed + epoch``, ``set_epoch`` each epoch; it pads with repeated
    samples to a multiple of the number of ranks) and the samples per rank and epoch.

    With equal per-rank batches ``b`` the averaged gradient of the per-rank mean losses is the
    gradient of the mean loss over the global batch of ``world_size * b`` samples. The rate
    penalty ``relu(rate - target)`` is taken per rank, so with a target > 0 it is not exactly
    the global batch's penalty."""
    from torch.nn.parallel import DistributedDataParallel
    from torch.utils.data import DistributedSampler

    # SLAYER's neuron state buffers take the shape of the last batch (scratch, reset on every
    # forward): DDP must not compare or broadcast them across ranks
    scratch = [name for name, _ in net.named_buffers() if name.endswith("_state")]
    DistributedDataParallel._set_params_and_buffers_to_ignore_for_model(net, scratch)
    model = DistributedDataParallel(net, device_ids=[device.index] if device.type == "cuda"
                                    else None)
    sampler = DistributedSampler(range(n), num_replicas=distributed.world_size(),
                                 rank=distributed.rank(), shuffle=True, seed=cfg.seed)

    def batches(epoch: int) -> list[np.ndarray]:
        sampler.set_epoch(epoch)
        order = np.fromiter(iter(sampler), dtype=np.int64)
        return [order[s:s + cfg.batch_size] for s in range(0, len(order), cfg.batch_size)]

    return model, batches, len(sampler)


@torch.no_grad()
def snn_output(net: DietSNN, images: np.ndarray, num_steps: int, batch_size: int = 256,
               record: list | None = None, input: str = "direct",
               seed: int = 1) -> np.ndarray:
    """Output ``(N, classes, T + delay)``: spikes, or the integrator readout's voltage;
    ``record`` collects per-layer spike counts. ``input="poisson"``: rate-coded input
    (:func:`rate_input`, drawn with ``seed``) instead of the direct one."""
    if input not in INPUTS:
        raise ValueError(f"input must be one of {INPUTS}, got {input!r}")
    net.eval()
    device = next(net.parameters()).device
    gen = torch.Generator().manual_seed(seed)
    outs = []
    for start in range(0, len(images), batch_size):
        layers: list = []
        batch = images[start:start + batch_size]
        x = (snn_input(batch, num_steps, net.delay) if input == "direct" else
             rate_input(torch.from_numpy(as_images(batch)), num_steps, net.delay, gen)
             ).to(device)
        outs.append(net(x, record=layers))
        if record is not None:
            record.append([x.sum(0).cpu() for x in layers])
    return torch.cat(outs).cpu().numpy()


def accuracy(net: DietSNN, images: np.ndarray, labels: np.ndarray, num_steps: int) -> float:
    """Test accuracy of :func:`predict_output` at ``num_steps``. Under a process group each
    rank evaluates its shard (:func:`lava_thesis.distributed.shard`) and the correct counts
    and sample counts are summed over the ranks (every rank must call it): the same value as
    one process on all images."""
    if not distributed.is_initialized():
        return float((predict_output(net, snn_output(net, images, num_steps)) == labels).mean())
    idx = distributed.shard(len(labels))
    correct = 0
    if len(idx):
        correct = int((predict_output(net, snn_output(net, images[idx], num_steps))
                       == labels[idx]).sum())
    right, count = distributed.all_reduce_sum(torch.tensor([correct, len(idx)])).tolist()
    return right / count if count else float("nan")


def threshold_init(ann: torch.nn.Sequential, images: np.ndarray,
                   percentile: float = 99.7, scale: float = 1.0) -> list[float]:
    """Per weight layer, ``scale`` times the ``percentile`` of the ANN's pre-activations.

    The paper initialises DIET thresholds from a converted network this way (its code: the
    99.7th percentile times a scaling factor < 1 for few time steps).
    """
    x = torch.from_numpy(pixels_to_input(as_images(images)))
    thetas = []
    with torch.no_grad():
        for module in ann:
            x = module(x)
            if isinstance(module, WEIGHT_LAYERS):
                theta = scale * float(np.percentile(x.numpy(), percentile))
                thetas.append(max(theta, 1e-3))
    return thetas


def load_ann_weights(net: DietSNN, ann: torch.nn.Sequential, thetas: list[float]) -> None:
    """Copy ANN weights into the SNN, scaled for threshold-balanced conversion.

    Layer ``l``'s raw SNN weights are ``W_l * theta_{l-1}`` (spikes stand for ANN activations
    divided by the previous threshold; ``theta_0 = 1`` for the analog input) and its threshold
    is ``theta_l``, so the effective weight is ``W_l theta_{l-1} / theta_l``. An average pooling
    layer (``AvgPool2d``, the twin of a ``pK`` sum pool) has ``W_l = 1/K**2``: the pool's one
    fixed weight becomes ``theta_{l-1} / K**2``.
    """
    layers = [m for m in ann if isinstance(m, WEIGHT_LAYERS)]
    if len(layers) != len(net.weight_blocks) or len(thetas) != len(layers):
        raise ValueError("the ANN and the SNN must have the same weight layers")
    prev = 1.0
    with torch.no_grad():
        for layer, block, theta in zip(layers, net.weight_blocks, thetas, strict=True):
            if isinstance(layer, torch.nn.AvgPool2d):  # the pool's one weight: 1/K**2
                block.synapse.weight.fill_(prev / float(np.prod(block.synapse.kernel_size)))
                block.synapse.pre_hook_fx.log_gain.fill_(float(np.log(theta / THETA_REF)))
                prev = theta
                continue
            w = layer.weight.detach()
            w = w[..., None] if w.ndim == 4 else w[:, :, None, None, None]
            block.synapse.weight.copy_(w * prev)
            block.synapse.pre_hook_fx.log_gain.fill_(float(np.log(theta / THETA_REF)))
            prev = theta
