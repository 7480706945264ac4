"""Deploy a trained Diehl & Cook network in fixed point with Lava's own building blocks.

The network of :class:`~lava_thesis.processes.diehl_cook.process.DiehlCookNetwork`, frozen
and in integers (:mod:`lava_thesis.stdp.fixed_point`)::

    RingBuffer (input spikes) -> Dense(w_in, weight_exp) -> AdaptiveLIF exc (fixed_pt,
        per-neuron threshold vth + theta) -> Dense(one-to-one w_ei) -> AdaptiveLIF inh
        (theta = 0) -> Dense(all but self, w_ie <= 0) -> exc

Lava selects its bit-accurate ``Dense`` (``PyDenseModelBitAcc``: 8-bit mantissas, the sum
shifted by ``weight_exp``), the fixed ``RingBuffer`` models and ``PyAdaptiveLIFModelFixed``.
The fast engine :func:`lava_thesis.stdp.fixed_engine.fixed_point_run_raster` gives the same
spikes (parity test).

Example:
    >>> path = "netx_models/stdp_mnist/stdp_mnist_n400.h5"
    >>> fx, labels = load_fixed_point(path)              # doctest: +SKIP
    >>> spikes = lava_fixed_run_raster(fx, raster)       # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lava_thesis.lava_run import run_lava, step_timeout
from lava_thesis.stdp.fixed_point import FixedPointNetwork, to_fixed_point


def load_fixed_point(path: str | Path, weight_bits: int = 8
                     ) -> tuple[FixedPointNetwork, np.ndarray]:
    """Read a trained model (:func:`lava_thesis.stdp.model_io.load_model`; a bad file raises
    :class:`~lava_thesis.errors.ModelFileError`) and convert it: ``(network, neuron labels)``.
    """
    from lava_thesis.stdp.model_io import load_model

    net, assignments, _ = load_model(path)
    return to_fixed_point(net, weight_bits=weight_bits), assignments


def build_fixed_network(fx: FixedPointNetwork):
    """The Lava Processes of the deployment: ``(input Dense, exc, inh, Dense exc->inh,
    Dense inh->exc)``, connected; connect a source to ``input_dense.s_in`` and read
    ``exc.s_out``. Import inside a Lava run (the Processes live in its worker)."""
    from lava.proc.dense.process import Dense
    from lava.utils.weightutils import SignMode

    from lava_thesis.processes.adaptive_lif.process import AdaptiveLIF

    n = fx.n_exc
    base = int(np.min(fx.exc_vth))  # vth + theta = the folded per-neuron threshold
    dense_in = Dense(weights=np.asarray(fx.w_in, np.int32), weight_exp=fx.w_in_exp,
                     num_weight_bits=fx.weight_bits, sign_mode=SignMode.EXCITATORY)
    exc = AdaptiveLIF(shape=(n,), du=fx.exc_du, dv=fx.exc_dv, vth=base,
                      refractory_period=fx.exc_refractory,
                      theta=np.asarray(fx.exc_vth, np.int64) - base, learning=False)
    exc_inh = Dense(weights=fx.exc_inh_weights().astype(np.int32), weight_exp=fx.w_ei_exp,
                    num_weight_bits=fx.weight_bits, sign_mode=SignMode.EXCITATORY)
    inh = AdaptiveLIF(shape=(n,), du=fx.inh_du, dv=fx.inh_dv, vth=fx.inh_vth,
                      refractory_period=fx.inh_refractory, theta=np.zeros(n, np.int64),
                      learning=False)
    inh_exc = Dense(weights=fx.inh_exc_weights().astype(np.int32), weight_exp=fx.w_ie_exp,
                    num_weight_bits=fx.weight_bits, sign_mode=SignMode.INHIBITORY)
    dense_in.a_out.connect(exc.a_in)
    exc.s_out.connect(exc_inh.s_in)
    exc_inh.a_out.connect(inh.a_in)
    inh.s_out.connect(inh_exc.s_in)
    inh_exc.a_out.connect(exc.a_in)
    return dense_in, exc, inh, exc_inh, inh_exc


def lava_fixed_run_raster(fx: FixedPointNetwork, raster: np.ndarray,
                          timeout_s: float | None = None) -> np.ndarray:
    """Run the deployment in Lava's CPU simulator (``fixed_pt``) on explicit input spikes
    ``(n_input, steps)`` (bool); return the excitatory spikes ``(steps, n_exc)`` (uint8).
    ``timeout_s`` None: :func:`~lava_thesis.lava_run.step_timeout` of the run's size."""
    raster = np.asarray(raster, bool)
    if raster.ndim != 2 or raster.shape[0] != fx.n_input:
        raise ValueError(f"raster must be (n_input={fx.n_input}, steps), got {raster.shape}")
    steps = raster.shape[1]
    data = raster.astype(np.int32)

    def build():
        from lava.proc.io.sink import RingBuffer as Sink
        from lava.proc.io.source import RingBuffer as Source

        dense_in, exc, *_ = build_fixed_network(fx)
        source = Source(data=data)
        sink = Sink(shape=(fx.n_exc,), buffer=steps)
        source.s_out.connect(dense_in.s_in)
        exc.s_out.connect(sink.a_in)
        return source, lambda: sink.data.get().T.astype(np.uint8)

    return run_lava(build, steps, tag="fixed_pt",
                    timeout_s=step_timeout(steps, fx.n_exc) if timeout_s is None else timeout_s)
