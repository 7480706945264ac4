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

from lava_thesis.deploy.netx_check import EXPECTED as NETX_EXPECTED
from lava_thesis.deploy.netx_check import check_netx_file, first_layer_inputs
from lava_thesis.errors import ModelFileError
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
        ``"fixed_pt"``: Lava's bit-accurate models (equal to SLAYER's quantised forward).
        ``"floating_pt"``: Lava's float models, with netx's integer parameters converted to
        the same quantities in float (:func:`float_parameters`); the one difference is that
        direct input is not floored to the fixed-point grid.
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

    Raises
    ------
    ModelFileError
        If ``net_path`` is not a valid netx network
        (:func:`lava_thesis.deploy.netx_check.check_netx_file`, checked before Lava starts)
        or lava-dl cannot build it.
    ValueError
        If ``spikes`` do not fit the network's first layer.
    """
    lava_shape, n, t, stream = _stream(net_path, spikes, input_bits)

    def build():
        from lava.proc.io.sink import RingBuffer as Sink
        from lava.proc.io.source import RingBuffer as Source

        net = _network(net_path, lava_shape, t, input_bits, tag)
        source = Source(data=stream)
        sink = Sink(shape=net.out.shape, buffer=n * t)
        source.s_out.connect(net.inp)
        net.out.connect(sink.a_in)
        return source, lambda: sink.data.get()

    out = run_lava(build, n * t, tag=tag, timeout_s=timeout_s,
                   **_run_cfg(lava_shape, input_bits, tag))
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
    tag: str = "fixed_pt",
) -> np.ndarray:
    """The last layer's voltage at the last step of each sample window, ``(N, C_out)``.

    For networks whose last layer is a non-spiking integrator (DIET's ``readout="integrator"``):
    the voltage is read every step with a Monitor and divided by :data:`VOLTAGE_SCALE`, so it
    is in SLAYER's units and equals ``net(x)[..., -1]`` exactly (Lava's voltage lags SLAYER's by
    one step; the windows end with ``delay`` silent steps, so the last value is complete).
    ``spikes``, ``input_bits``, ``tag`` and ``timeout_s`` are as in :func:`netx_output_spikes`.
    """
    lava_shape, n, t, stream = _stream(net_path, spikes, input_bits)

    def build():
        from lava.proc.io.source import RingBuffer as Source
        from lava.proc.monitor.process import Monitor

        net = _network(net_path, lava_shape, t, input_bits, tag)
        source = Source(data=stream)
        source.s_out.connect(net.inp)
        neuron, monitor = net.layers[-1].neuron, Monitor()
        monitor.probe(neuron.v, n * t)
        return source, lambda: np.asarray(monitor.get_data()[neuron.name]["v"])

    v = run_lava(build, n * t, tag=tag, timeout_s=timeout_s,
                 **_run_cfg(lava_shape, input_bits, tag))
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
    check_netx_file(net_path)  # before lava-dl reads it: ModelFileError naming the problem
    kind, n_in = first_layer_inputs(net_path)
    given = int(np.prod(spikes.shape[1:-1])) if kind != "conv" else spikes.shape[1]
    if (kind == "conv") != (spikes.ndim == 5) or given != n_in:
        raise ValueError(f"{net_path}: its first layer ({kind}) takes {n_in} input "
                         f"{'channels' if kind == 'conv' else 'features'}; the spikes "
                         f"{spikes.shape} do not fit")
    n, t = spikes.shape[0], spikes.shape[-1]
    # Lava's netx layers are (x, y, f) = (W, H, C): reverse torch's (C, H, W).
    lava_shape = tuple(reversed(spikes.shape[1:-1]))
    samples = np.moveaxis(spikes, 0, -2)  # (C, [H, W,] N, T)
    samples = np.transpose(samples, tuple(reversed(range(samples.ndim - 2))) + (-2, -1))
    return lava_shape, n, t, samples.reshape(lava_shape + (n * t,)).astype(float)


def _network(net_path: str | Path, lava_shape: tuple[int, ...], t: int, input_bits: int,
             tag: str = "fixed_pt"):
    """The netx Network (inside the Lava worker), reset every ``t`` steps; ``floating_pt``:
    its parameters converted for Lava's float models."""
    from lava.lib.dl import netx

    kwargs = {"input_shape": lava_shape} if len(lava_shape) == 3 else {}
    try:
        net = netx.hdf5.Network(net_config=str(net_path), reset_interval=t,
                                input_message_bits=input_bits, **kwargs)
    except (IndexError, UnboundLocalError, KeyError, TypeError, ValueError, RuntimeError,
            NotImplementedError, OSError) as err:  # lava-dl's errors on a file it cannot use
        raise ModelFileError(net_path, f"lava-dl cannot build it ({type(err).__name__}: {err})",
                             NETX_EXPECTED) from err
    if net.inp.shape != lava_shape:
        raise ValueError(f"{net_path} expects input shape {net.inp.shape}, got {lava_shape}")
    if input_bits:
        _lower_weight_exp(net.layers[0].synapse, input_bits)
    if tag == "floating_pt":
        for layer in net.layers:
            if getattr(layer, "neuron", None) is not None:
                _set_float(layer.synapse, layer.neuron)
    return net


def float_parameters(weight: np.ndarray, weight_exp: int, du: float, dv: float, vth: float
                     ) -> dict[str, np.ndarray | float]:
    """netx's fixed-point layer parameters -> the same layer for Lava's float models.

    Fixed point (``PyDenseModelBitAcc``, ``PyLifResetModelBitAcc``): the synaptic input is
    ``(W s) * 2**weight_exp`` (an arithmetic shift), which the neuron shifts left by 6 more
    (``act_shift``); ``u`` decays by ``(du + 1) / 4096`` (netx stores ``iDecay - 1``; the
    model adds one), ``v`` by ``dv / 4096``, and a spike needs ``v > vth * 2**6``. The float
    models compute ``W s``, decay by the fractions ``du`` and ``dv`` and fire on ``v > vth``;
    so the float layer gets ``W * 2**(weight_exp + 6)``, fractions ``(du + 1) / 4096`` and
    ``dv / 4096``, and threshold ``vth * 64``: its states are the fixed-point model's
    (:data:`VOLTAGE_SCALE` per SLAYER unit) without the rounding (shifts and decays).
    """
    return {"weight": np.asarray(weight, float) * 2.0 ** (weight_exp + 6),
            "du": (float(du) + 1) / 4096, "dv": float(dv) / 4096, "vth": float(vth) * 64}


def _scalar(var) -> float:
    return float(np.asarray(var.init).reshape(-1)[0])


def _weight_exp(synapse) -> int:
    """A netx synapse's weight exponent (a process parameter, scalar or 1-element array)."""
    return int(np.asarray(synapse.proc_params["weight_exp"]).reshape(-1)[0])


def _set_float(synapse, neuron) -> None:
    """Overwrite one netx layer's Var initial values with :func:`float_parameters`."""
    name = "weights" if hasattr(synapse, "weights") else "weight"
    params = float_parameters(getattr(synapse, name).init, _weight_exp(synapse),
                              _scalar(neuron.du), _scalar(neuron.dv), _scalar(neuron.vth))
    getattr(synapse, name).init = params["weight"]
    for key in ("du", "dv", "vth"):
        getattr(neuron, key).init = params[key]


def _run_cfg(lava_shape: tuple[int, ...], input_bits: int, tag: str = "fixed_pt") -> dict:
    """Loihi2SimCfg arguments: with direct input into a conv layer in fixed point, our Conv
    model (lava's float Conv needs none: :func:`float_parameters` folds the exponent). In
    floating point, netx's block models, which are tagged ``fixed_pt`` although they only
    wire up sub-processes."""
    if tag == "floating_pt":
        from lava.lib.dl.netx import blocks, hdf5

        models = blocks.models
        return {"exception_proc_model_map": {
            hdf5.Network: hdf5.PyNetworkModel, blocks.process.Input: models.PyInputModel,
            blocks.process.Dense: models.PyDenseModel, blocks.process.Conv: models.PyConvModel}}
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

    exp = _weight_exp(synapse) - bits
    synapse.proc_params.overwrite("weight_exp", exp)
    if isinstance(getattr(synapse, "weight_exp", None), Var):
        synapse.weight_exp.init = np.array([exp])


def synaptic_delay(net_path: str | Path) -> int:
    """Steps from input to output of a netx network: one per dense or conv layer.

    The file is checked first (:func:`lava_thesis.deploy.netx_check.check_netx_file`)."""
    return sum(kind in ("dense", "dense_rec", "conv") for kind in check_netx_file(net_path))
