"""Evaluate a converted / STDB-tuned SNN as it runs in Lava, and make the hybrid pipeline's
choices on validation data.

The deployed network is the hard-reset SLAYER/netx twin (:func:`lava_thesis.hybrid.deploy.
lava_twin`), bit-exact with Lava, fed Poisson spikes and read out by output spike counts
(``readout="spikes"``: class = the output neuron with most spikes, ties to the lowest index) or
by the output layer's voltage at the end of the window (``readout="integrator"``: the layer
never fires, its voltage ``v_k = sum_t (W s)_k[t]`` is the torch network's membrane readout
with 8-bit weights). With spikes, its accuracy on ``N`` images with labels ``y_i`` is

.. math:: a = \\frac1N \\sum_i [\\arg\\max_k \\textstyle\\sum_t s_{ik}[t] = y_i].

:func:`choose_thresholds` picks the threshold-balancing percentile and scale, the pair whose
deployed twin is most accurate on the validation images; :func:`step_reduction` compares the
accuracy-vs-steps curves of the two networks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import torch

from lava_thesis.diet.train import predict_output
from lava_thesis.hybrid.deploy import lava_twin, spike_payload, twin_output
from lava_thesis.hybrid.snn import HybridSNN, balance_thresholds, poisson_input, weight_layers
from lava_thesis.hybrid.stdb import intensities

#: seed of the Poisson input of every deployed evaluation (all networks see the same spikes)
INPUT_SEED = 11


def lava_payload(images: np.ndarray, num_steps: int, delay: int,
                 generator: torch.Generator) -> np.ndarray:
    """uint8 images -> Poisson spikes (rate = intensity) as a Lava payload ``(N, C, H, W,
    num_steps + delay)`` (graded value 255 per spike, ``delay`` silent steps)."""
    spikes = poisson_input(intensities(images), num_steps, generator)
    return spike_payload(spikes.permute(1, 2, 3, 4, 0).numpy(), delay)


def deployed_predictions(snn: HybridSNN, spec: Sequence[str],
                         input_shape: tuple[int, int, int], images: np.ndarray, num_steps: int,
                         *, readouts: Sequence[str] = ("spikes",), seed: int = INPUT_SEED,
                         batch_size: int = 500) -> dict[str, np.ndarray]:
    """Classes of ``images`` from ``snn``'s deployed twin with each readout in ``readouts``
    over ``num_steps`` steps (Poisson input seeded with ``seed``; the same spikes for every
    network and readout given the same images, steps and batch size). The twins differ only
    in their output layer, so the hidden layers run once: the first readout's twin records
    them, the others run their output layer on its last hidden spikes."""
    twins = {r: lava_twin(snn, list(spec), input_shape, readout=r) for r in readouts}
    first = twins[readouts[0]]
    gen = torch.Generator().manual_seed(seed)
    preds: dict[str, list[np.ndarray]] = {r: [np.zeros(0, dtype=np.int64)] for r in readouts}
    for start in range(0, len(images), batch_size):
        payload = lava_payload(images[start:start + batch_size], num_steps, first.delay, gen)
        record: list | None = [] if len(readouts) > 1 else None  # kept only when read
        preds[readouts[0]].append(predict_output(first, twin_output(first, payload, record)))
        for readout in readouts[1:]:
            twin = twins[readout]
            twin.eval()
            with torch.no_grad():
                out = twin(record[-2], start=len(twin.blocks) - 1)
            preds[readout].append(predict_output(twin, out.numpy()))
    return {r: np.concatenate(p) for r, p in preds.items()}


def deployed_predict(snn: HybridSNN, spec: Sequence[str], input_shape: tuple[int, int, int],
                     images: np.ndarray, num_steps: int, *, seed: int = INPUT_SEED,
                     batch_size: int = 500, readout: str = "spikes") -> np.ndarray:
    """:func:`deployed_predictions` with one readout."""
    return deployed_predictions(snn, spec, input_shape, images, num_steps, readouts=(readout,),
                                seed=seed, batch_size=batch_size)[readout]


def deployed_accuracy(snn: HybridSNN, spec: Sequence[str], input_shape: tuple[int, int, int],
                      images: np.ndarray, labels: np.ndarray, num_steps: int, *,
                      readout: str = "spikes") -> float:
    """Accuracy of :func:`deployed_predict` (the equation above); ValueError on no images."""
    return deployed_accuracies(snn, spec, input_shape, images, labels, num_steps,
                               readouts=(readout,))[readout]


def deployed_accuracies(snn: HybridSNN, spec: Sequence[str], input_shape: tuple[int, int, int],
                        images: np.ndarray, labels: np.ndarray, num_steps: int, *,
                        readouts: Sequence[str] = ("spikes",)) -> dict[str, float]:
    """Accuracy of :func:`deployed_predictions` per readout; ValueError on no images."""
    if len(labels) == 0:
        raise ValueError("deployed_accuracy needs at least one image")
    preds = deployed_predictions(snn, spec, input_shape, images, num_steps, readouts=readouts)
    return {r: float((p == np.asarray(labels)).mean()) for r, p in preds.items()}


def choose_thresholds(ann: torch.nn.Sequential, spec: Sequence[str],
                      input_shape: tuple[int, int, int], *, reset: str,
                      balance_images: np.ndarray, balance_steps: int,
                      val: tuple[np.ndarray, np.ndarray], num_steps: int,
                      percentiles: Sequence[float | None], scales: Sequence[float],
                      seed: int, score: Callable[[HybridSNN], float] | None = None,
                      readout: str = "spikes") -> tuple[HybridSNN, dict, list[dict]]:
    """Convert ``ann`` with every (percentile, scale) pair and keep the best on validation.

    For each percentile (``None``: the maximum current) the thresholds are balanced once on
    ``balance_images`` (training images); a scale ``s`` multiplies them all (balancing with
    ``scale=s`` gives exactly that). Each pair is scored by :func:`deployed_accuracy` (with
    ``readout``) on ``val`` at ``num_steps`` steps (or by ``score(snn)``, e.g. the soft-reset
    torch network's own accuracy, which the hard-reset twin cannot give); ties go to the
    earlier pair
    (percentiles, then scales, in the order given).

    Returns
    -------
    (HybridSNN, dict, list of dict)
        The converted network with the chosen thresholds, the choice ``{"percentile",
        "scale", "val_accuracy"}``, and every pair's score in the same form.
    """
    if not percentiles or not scales:
        raise ValueError("choose_thresholds needs at least one percentile and one scale")
    if any(not s > 0 for s in scales):
        raise ValueError(f"threshold scales must be positive, got {tuple(scales)}")
    x_val, y_val = val
    n_layers = len(weight_layers(ann))
    table: list[dict] = []
    best: tuple[float, HybridSNN | None, dict] = (-1.0, None, {})
    for percentile in percentiles:
        snn = HybridSNN(ann, [1.0] * n_layers, reset=reset)
        base = torch.tensor(balance_thresholds(snn, intensities(balance_images), balance_steps,
                                               percentile=percentile, scale=1.0, seed=seed))
        for scale in scales:
            snn.thresholds.copy_(base * float(scale))
            acc = (deployed_accuracy(snn, spec, input_shape, x_val, y_val, num_steps,
                                     readout=readout)
                   if score is None else float(score(snn)))
            row = {"percentile": percentile, "scale": float(scale), "val_accuracy": acc}
            table.append(row)
            if acc > best[0]:
                best = (acc, HybridSNN(ann, snn.thresholds.tolist(), reset=reset), row)
    return best[1], dict(best[2]), table


def steps_to_reach(curve: Mapping[int, float], target: float) -> int | None:
    """The smallest ``T`` whose accuracy ``curve[T]`` is at least ``target`` (None: none).

    Examples
    --------
    >>> steps_to_reach({10: 0.8, 25: 0.9, 50: 0.95}, 0.9), steps_to_reach({10: 0.8}, 0.9)
    (25, None)
    """
    for t in sorted(curve):
        if curve[t] >= target:
            return int(t)
    return None


def step_reduction(converted: Mapping[int, float], hybrid: Mapping[int, float],
                   num_steps: int) -> dict[str, float]:
    """How many times more steps conversion alone needs to match the hybrid network.

    ``target = hybrid[num_steps]``; ``T_c`` = :func:`steps_to_reach` ``(converted, target)``.
    Returns ``{"converted_steps_to_match_hybrid": T_c, "step_reduction": T_c / num_steps}``,
    or, when no swept ``T`` reaches it, ``{"step_reduction_at_least": max(T) / num_steps}``.
    Pass the seed means of both curves (the same images and steps for both).

    Examples
    --------
    >>> step_reduction({10: 0.8, 25: 0.85, 100: 0.9}, {10: 0.85, 25: 0.9, 100: 0.9}, 25)
    {'converted_steps_to_match_hybrid': 100, 'step_reduction': 4.0}
    >>> step_reduction({10: 0.8, 50: 0.85}, {10: 0.88, 50: 0.9}, 10)
    {'step_reduction_at_least': 5.0}
    """
    if num_steps not in hybrid:
        raise ValueError(f"the hybrid curve has no point at its own T={num_steps}")
    steps = steps_to_reach(converted, hybrid[num_steps])
    if steps is None:
        return {"step_reduction_at_least": max(converted) / num_steps}
    return {"converted_steps_to_match_hybrid": steps, "step_reduction": steps / num_steps}
