"""``SumPool``: the synapse of a spiking pooling layer, a window sum with one weight."""

from __future__ import annotations

import numpy as np
from lava.magma.core.process.ports.ports import InPort, OutPort
from lava.magma.core.process.process import AbstractProcess, LogConfig
from lava.magma.core.process.variable import Var


class SumPool(AbstractProcess):
    """Sum pooling of each channel over ``K x K`` windows with stride ``S``, times one weight:

    .. math::
        a[x, y, c] = w \\sum_{i, j < K} s[S x + i,\\ S y + j,\\ c]

    In fixed point (``fixed_pt``) ``w`` is an integer and the sum is shifted by ``weight_exp``
    like Lava's ``Dense`` (``<< e`` for ``e >= 0``, an arithmetic ``>> -e`` otherwise), then
    wrapped to Loihi's 24-bit dendritic accumulator; in floating point the result is
    ``w 2**weight_exp`` times the sum. Like Lava's ``Dense`` and ``Conv``, the output of step
    ``t`` is sent at step ``t + 1``. Connect ``a_out`` to a neuron's ``a_in`` (Lava's ``LIF``,
    netx's CUBA neurons): that neuron and this synapse are the spiking pooling layer that
    SLAYER's ``cuba.Pool`` block trains and that netx deploys as a depthwise convolution.

    Ports are in Lava's ``(X, Y, C)`` layout (width, height, channels): ``s_in`` of
    ``shape_in``, ``a_out`` of ``(X // S, Y // S, C)`` for ``S = K`` (in general
    ``((X - K) // S + 1, (Y - K) // S + 1, C)``; no padding).

    Example:
        >>> pool = SumPool(shape_in=(28, 28, 8), kernel_size=2, weight=32)  # doctest: +SKIP
        >>> pool.a_out.shape  # doctest: +SKIP
        (14, 14, 8)
    """

    def __init__(
        self,
        *,
        shape_in: tuple[int, int, int],
        kernel_size: int,
        stride: int | None = None,
        weight: float = 1,
        weight_exp: int = 0,
        num_message_bits: int = 0,
        name: str | None = None,
        log_config: LogConfig | None = None,
    ) -> None:
        super().__init__(shape_in=shape_in, name=name, log_config=log_config)
        shape_in = tuple(int(d) for d in shape_in)
        stride = kernel_size if stride is None else stride
        if len(shape_in) != 3 or min(shape_in) < 1:
            raise ValueError(f"shape_in must be (X, Y, C) of positive ints, got {shape_in}")
        if kernel_size < 1 or stride < 1 or kernel_size > min(shape_in[:2]):
            raise ValueError(f"need 1 <= kernel_size <= min(X, Y) and stride >= 1, got "
                             f"kernel_size={kernel_size}, stride={stride} for {shape_in}")
        if not 0 <= num_message_bits <= 24:
            raise ValueError(f"num_message_bits must be in [0, 24], got {num_message_bits}")
        shape_out = ((shape_in[0] - kernel_size) // stride + 1,
                     (shape_in[1] - kernel_size) // stride + 1, shape_in[2])
        self.proc_params["kernel_size"] = int(kernel_size)
        self.proc_params["stride"] = int(stride)
        self.s_in = InPort(shape=shape_in)
        self.a_out = OutPort(shape=shape_out)
        self.weight = Var(shape=(1,), init=np.array([weight]))
        self.weight_exp = Var(shape=(1,), init=np.array([int(weight_exp)]))
        self.num_message_bits = Var(shape=(1,), init=np.array([int(num_message_bits)]))
