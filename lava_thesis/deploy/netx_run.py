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

#: Lava's fixed-point voltage per unit of SLAYER voltage: 64 (weight scale) x 2**6 (vth shift)
VOLTAGE_SCALE = 4096


def netx_output_spikes(
    net_path: str | Path,
    spikes: np.ndarray,
    *,
    tag: str = "fixed_pt",
    timeout_s: float = 900.0,
    input_bits: int = 0,
) -> np.ndarray:
    """Output spikes of the netx network for each input sample.

    Parameters
    ----------
    net_path:
        The ``.net`` file (see :func:`lava_thesis.deploy.netx_export.export_blocks`).
    spikes:
        Input ``(N, C, T)`` for a dense first layer or ``(N, C, H, W, T)`` for a conv first
        layer: ``N`` samples, ``T`` steps each (``T`` includes the padding; it is the reset
        interval). Binary spikes, or integer payloads when ``input_bits > 0``.
    tag:
        Must be ``"fixed_pt"`` (bit-accurate); ``"floating_pt"`` raises ValueError, because
        lava's floating-point models misread netx's integer parameters.
    input_bits:
        0 for binary spikes. ``b > 0``: graded input, integer payloads ``p`` standing for the
        analog value ``p / 2**b`` (direct input, see :mod:`lava_thesis.slayer_ext.direct_input`);
        the first layer's weight exponent is lowered by ``b`` so that its current is
        ``floor(W p / 2**b)``.

    Returns
    -------
    np.ndarray
        ``(N, C_out, T)`` output spikes, aligned so that ``out[n, :, t]`` is the network's output
        ``t`` steps after sample ``n`` started (the same alignment as SLAYER's forward with
        ``delay_shift=True``). The first :func:`synaptic_delay` steps are zero.
    """
    if tag != "fixed_pt":
        raise ValueError(
            f"tag {tag!r}: netx networks hold Loihi's integer parameters (weights with a weight "
            "exponent, vThMant, 12-bit decays), which only lava's bit-accurate fixed_pt models "
            "interpret; its floating_pt Dense ignores the exponent and its float LIF reads the "
            "decays as fractions (measured: 10% prediction agreement). Use tag='fixed_pt'."
        )
    lava_shape, n, t, stream = _stream(net_path, spikes, input_bits)

    def build():
        from lava.proc.io.sink import RingBuffer as Sink
        from lava.proc.io.source import RingBuffer as Source

        net = _network(net_path, lava_shape, t, input_bits)
        source = Source(data=stream)
        sink = Sink(shape=net.out.shape, buffer=n * t)
        source.s_out.connect(net.inp)
        net.out.connect(sink.a_in)
        return source, lambda: sink.data.get()

    out = run_lava(build, n * t, tag=tag, timeout_s=timeout_s, **_run_cfg(lava_shape, input_bits))
    out = out.reshape(out.shape[0], n, t).transpose(1, 0, 2).copy()
    # The first `delay` steps of every window still carry the previous sample's tail (the
    # output layer resets `delay` steps after the input); no input of this sample can reach
    # the output before then, and SLAYER's delay-shifted forward is silent there too.
    out[:, :, : synaptic_delay(net_path)] = 0
    return out


def netx_output_voltage(
    net_path: str | Path,
    spikes: np.ndarray,
    *,
    timeout_s: float = 900.0,
    input_bits: int = 0,
) -> np.ndarray:
    """The last layer's voltage at the last step of each sample window, ``(N, C_out)``.

    For networks whose last layer is a non-spiking integrator (DIET's ``readout="integrator"``):
    the voltage is read every step with a Monitor and divided by :data:`VOLTAGE_SCALE`, so it
    is in SLAYER's units and equals ``net(x)[..., -1]`` exactly (Lava's voltage lags SLAYER's by
    one step; the windows end with ``delay`` silent steps, so the last value is complete).
    ``spikes``, ``input_bits`` and ``timeout_s`` are as in :func:`netx_output_spikes`
    (fixed_pt only).
    """
    lava_shape, n, t, stream = _stream(net_path, spikes, input_bits)

    def build():
        from lava.proc.io.source import RingBuffer as Source
        from lava.proc.monitor.process import Monitor

        net = _network(net_path, lava_shape, t, input_bits)
        source = Source(data=stream)
        source.s_out.connect(net.inp)
        neuron, monitor = net.layers[-1].neuron, Monitor()
        monitor.probe(neuron.v, n * t)
        return source, lambda: np.asarray(monitor.get_data()[neuron.name]["v"])

    v = run_lava(build, n * t, tag="fixed_pt", timeout_s=timeout_s,
                 **_run_cfg(lava_shape, input_bits))
    return v.reshape(n, t, -1)[:, -1, :] / VOLTAGE_SCALE


def _stream(net_path: str | Path, spikes: np.ndarray, input_bits: int
            ) -> tuple[tuple[int, ...], int, int, np.ndarray]:
    """Validated input -> (Lava input shape, N, T, the ``(*lava_shape, N * T)`` stream)."""
    spikes = np.asarray(spikes)
    if spikes.ndim not in (3, 5) or spikes.shape[0] < 1 or spikes.shape[-1] < 1:
        raise ValueError(
            f"spikes must be (N, C, T) or (N, C, H, W, T) with N, T >= 1, got {spikes.shape}"
        )
    if input_bits < 0:
        raise ValueError(f"input_bits must be >= 0, got {input_bits}")
    if not Path(net_path).is_file():
        raise FileNotFoundError(f"netx network file not found: {net_path}")
    n, t = spikes.shape[0], spikes.shape[-1]
    # Lava's netx layers are (x, y, f) = (W, H, C): reverse torch's (C, H, W).
    lava_shape = tuple(reversed(spikes.shape[1:-1]))
    samples = np.moveaxis(spikes, 0, -2)  # (C, [H, W,] N, T)
    samples = np.transpose(samples, tuple(reversed(range(samples.ndim - 2))) + (-2, -1))
    return lava_shape, n, t, samples.reshape(lava_shape + (n * t,)).astype(float)


def _network(net_path: str | Path, lava_shape: tuple[int, ...], t: int, input_bits: int):
    """The netx Network (inside the Lava worker), reset every ``t`` steps."""
    from lava.lib.dl import netx

    kwargs = {"input_shape": lava_shape} if len(lava_shape) == 3 else {}
    net = netx.hdf5.Network(net_config=str(net_path), reset_interval=t,
                            input_message_bits=input_bits, **kwargs)
    if net.inp.shape != lava_shape:
        raise ValueError(f"{net_path} expects input shape {net.inp.shape}, got {lava_shape}")
    if input_bits:
        _lower_weight_exp(net.layers[0].synapse, input_bits)
    return net


def _run_cfg(lava_shape: tuple[int, ...], input_bits: int) -> dict:
    """Loihi2SimCfg arguments: with direct input into a conv layer, our Conv model."""
    if not (input_bits and len(lava_shape) == 3):
        return {}
    # lava's fixed-point Conv model ignores weight_exp; ours applies it (see its docstring)
    from lava.proc.conv.process import Conv

    from lava_thesis.processes.conv_weight_exp.models import PyConvModelFixedWeightExp

    return {"exception_proc_model_map": {Conv: PyConvModelFixedWeightExp}}


def _lower_weight_exp(synapse, bits: int) -> None:
    """Divide a first layer's weighted sum by ``2**bits`` (graded input ``p`` means p/2**bits).

    Dense's model reads the exponent from its process parameters, Conv's (our model, see
    ``lava_thesis.processes.conv_weight_exp``) from its ``weight_exp`` Var.
    """
    from lava.magma.core.process.variable import Var

    exp = int(np.asarray(synapse.proc_params["weight_exp"]).reshape(-1)[0]) - bits
    synapse.proc_params.overwrite("weight_exp", exp)
    if isinstance(getattr(synapse, "weight_exp", None), Var):
        synapse.weight_exp.init = np.array([exp])


def synaptic_delay(net_path: str | Path) -> int:
    """Steps from input to output of a netx network: one per dense or conv layer."""
    import h5py

    with h5py.File(net_path, "r") as handle:
        layers = handle["layer"]
        types = [layers[k]["type"][0].decode() for k in sorted(layers, key=int)]
    return sum(kind in ("dense", "dense_rec", "conv") for kind in types)
