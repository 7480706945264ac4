"""Run an exported netx network in Lava's CPU simulator over a stream of samples.

Samples are played back to back. Each sample occupies ``steps_per_sample`` time steps, and every
neuron is reset at the start of its sample (netx's ``reset_interval``; layer ``l`` resets ``l``
steps later than the input, matching the one-step-per-layer delay of Lava's Dense synapses, which
SLAYER models with ``delay_shift=True``). Pad each sample with ``num_layers`` silent steps so the
last input step reaches the output before the next reset.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lava_thesis.lava_run import run_lava


def netx_output_spikes(
    net_path: str | Path,
    spikes: np.ndarray,
    *,
    tag: str = "fixed_pt",
    timeout_s: float = 900.0,
) -> np.ndarray:
    """Output spikes of the netx network for each input sample.

    Parameters
    ----------
    net_path:
        The ``.net`` file (see :func:`lava_thesis.deploy.netx_export.export_blocks`).
    spikes:
        Binary input ``(N, C, T)``: ``N`` samples of ``C`` input neurons and ``T`` steps each
        (``T`` includes the padding; it is the reset interval).
    tag:
        ``"fixed_pt"`` (bit-accurate) or ``"floating_pt"``.

    Returns
    -------
    np.ndarray
        ``(N, C_out, T)`` output spikes, aligned so that ``out[n, :, t]`` is the network's output
        ``t`` steps after sample ``n`` started (the same alignment as SLAYER's forward with
        ``delay_shift=True``). The first :func:`synaptic_delay` steps are zero.
    """
    spikes = np.asarray(spikes)
    if spikes.ndim != 3 or spikes.shape[0] < 1 or spikes.shape[2] < 1:
        raise ValueError(f"spikes must be (N, C, T) with N, T >= 1, got shape {spikes.shape}")
    net_path = Path(net_path)
    if not net_path.is_file():
        raise FileNotFoundError(f"netx network file not found: {net_path}")
    n, c, t = spikes.shape
    stream = np.transpose(spikes, (1, 0, 2)).reshape(c, n * t).astype(float)

    def build():
        from lava.lib.dl import netx
        from lava.proc.io.sink import RingBuffer as Sink
        from lava.proc.io.source import RingBuffer as Source

        net = netx.hdf5.Network(net_config=str(net_path), reset_interval=t)
        if net.inp.shape != (c,):
            raise ValueError(f"{net_path} expects input shape {net.inp.shape}, got ({c},)")
        source = Source(data=stream)
        sink = Sink(shape=net.out.shape, buffer=n * t)
        source.s_out.connect(net.inp)
        net.out.connect(sink.a_in)
        return source, lambda: sink.data.get()

    out = run_lava(build, n * t, tag=tag, timeout_s=timeout_s)
    out = out.reshape(out.shape[0], n, t).transpose(1, 0, 2).copy()
    # The first `delay` steps of every window still carry the previous sample's tail (the
    # output layer resets `delay` steps after the input); no input of this sample can reach
    # the output before then, and SLAYER's delay-shifted forward is silent there too.
    out[:, :, : synaptic_delay(net_path)] = 0
    return out


def synaptic_delay(net_path: str | Path) -> int:
    """Steps from input to output of a netx network: one per dense or conv layer."""
    import h5py

    with h5py.File(net_path, "r") as handle:
        layers = handle["layer"]
        types = [layers[k]["type"][0].decode() for k in sorted(layers, key=int)]
    return sum(kind in ("dense", "dense_rec", "conv") for kind in types)
