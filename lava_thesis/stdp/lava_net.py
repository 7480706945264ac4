"""Run the Diehl & Cook network in Lava (CPU, floating point) on explicit input spikes.

Used by the parity tests (Lava vs the engine, learning on) and by the experiment's inference
check (a trained model loaded into :class:`~lava_thesis.processes.diehl_cook.process.
DiehlCookNetwork` with learning off).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lava_thesis.lava_run import run_lava, step_timeout
from lava_thesis.stdp.params import STDPParams


@dataclass
class LavaSTDPResult:
    """Excitatory spikes ``(steps, n_exc)`` and the network's state after the run."""

    spikes: np.ndarray
    weights: np.ndarray
    mask: np.ndarray
    theta: np.ndarray


def lava_run_raster(
    params: STDPParams,
    raster: np.ndarray,
    *,
    weights: np.ndarray,
    mask: np.ndarray | None = None,
    theta: np.ndarray | None = None,
    learning: bool = True,
    prune_every: int = 0,
    prune_fraction: float = 0.0,
    levels: int = 0,
    prune_by: str = "weight",
    on_chip_rule: str | None = None,
    timeout_s: float | None = None,
) -> LavaSTDPResult:
    """Drive a fresh ``DiehlCookNetwork`` with ``raster`` ``(n_input, steps)`` (bool) in Lava's
    CPU simulator (floating_pt) and return its spikes and final weights, mask and theta.

    ``weights.get()`` of a large matrix is slow in Lava (~5 s for 400x784): the state is read
    only when learning is on. ``on_chip_rule``: the plastic synapses are lava's
    ``LearningDense`` with that Loihi learning rule (see ``DiehlCookNetwork``). ``timeout_s``
    None: :func:`~lava_thesis.lava_run.step_timeout` of the run's size.
    """
    raster = np.asarray(raster, bool)
    if raster.ndim != 2 or raster.shape[0] != params.n_input:
        raise ValueError(f"raster must be (n_input={params.n_input}, steps), got {raster.shape}")
    steps = raster.shape[1]
    data = raster.astype(float)

    def build():
        from lava.proc.io.sink import RingBuffer as Sink
        from lava.proc.io.source import RingBuffer as Source

        from lava_thesis.processes.diehl_cook.process import DiehlCookNetwork

        net = DiehlCookNetwork(params=params, weights=weights, mask=mask, theta=theta,
                               learning=learning, prune_every=prune_every,
                               prune_fraction=prune_fraction, levels=levels,
                               prune_by=prune_by, on_chip_rule=on_chip_rule)
        source = Source(data=data)
        sink = Sink(shape=(params.n_exc,), buffer=steps)
        source.s_out.connect(net.s_in)
        net.s_out.connect(sink.a_in)

        def collect():
            spikes = sink.data.get().T.astype(np.uint8)
            if not learning:
                return spikes, None, None, None
            return spikes, net.weights.get(), net.mask.get(), net.theta.get()

        return source, collect

    spikes, w, m, th = run_lava(build, steps, tag="floating_pt",
                                timeout_s=(step_timeout(steps, params.n_exc) if timeout_s is None
                                           else timeout_s),
                                select_sub_proc_model=True)
    if w is None:
        w = np.asarray(weights, float) * (1 if mask is None else np.asarray(mask))
        m = np.ones_like(w) if mask is None else np.asarray(mask, float)
        th = np.zeros(params.n_exc) if theta is None else np.asarray(theta, float)
    return LavaSTDPResult(spikes=spikes, weights=w, mask=m, theta=th)
