"""Floating- and fixed-point ProcessModels of ``SumPool``."""

from __future__ import annotations

import numpy as np
from lava.magma.core.decorator import implements, requires, tag
from lava.magma.core.model.py.model import PyLoihiProcessModel
from lava.magma.core.model.py.ports import PyInPort, PyOutPort
from lava.magma.core.model.py.type import LavaPyType
from lava.magma.core.resources import CPU
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol
from lava_thesis.processes.sum_pool.process import SumPool


def window_sum(s: np.ndarray, kernel_size: int, stride: int) -> np.ndarray:
    """``out[x, y, c] = sum_{i, j < K} s[S x + i, S y + j, c]`` of an ``(X, Y, C)`` array (no
    padding); exact in the input's dtype, the core both models share."""
    k, st = kernel_size, stride
    nx, ny = (s.shape[0] - k) // st + 1, (s.shape[1] - k) // st + 1
    out = np.zeros((nx, ny, s.shape[2]), dtype=s.dtype)
    for i in range(k):
        for j in range(k):
            out += s[i:i + st * (nx - 1) + 1:st, j:j + st * (ny - 1) + 1:st]
    return out


class _PySumPoolModel(PyLoihiProcessModel):
    """Sends the previous step's result, then pools this step's input (Dense's timing)."""

    a_buf: np.ndarray | None = None

    def __init__(self, proc_params) -> None:
        super().__init__(proc_params)
        self.kernel_size = proc_params["kernel_size"]
        self.stride = proc_params["stride"]

    def run_spk(self) -> None:
        if self.a_buf is None:
            self.a_buf = np.zeros(self.a_out.shape, dtype=self._dtype)
        self.a_out.send(self.a_buf)
        s = self.s_in.recv()
        if int(self.num_message_bits[0]) == 0:
            s = s.astype(bool)
        self.a_buf = self._scale(window_sum(s.astype(self._dtype), self.kernel_size,
                                            self.stride))


@implements(proc=SumPool, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt")
class PySumPoolModelFloat(_PySumPoolModel):
    """``a = w 2**weight_exp * window_sum(s)`` in float64."""

    _dtype = np.float64
    s_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
    a_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, float)
    weight: np.ndarray = LavaPyType(np.ndarray, float)
    weight_exp: np.ndarray = LavaPyType(np.ndarray, np.int32)
    num_message_bits: np.ndarray = LavaPyType(np.ndarray, np.int32)

    def _scale(self, total: np.ndarray) -> np.ndarray:
        return total * float(self.weight[0]) * 2.0 ** int(self.weight_exp[0])


@implements(proc=SumPool, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt")
class PySumPoolModelFixed(_PySumPoolModel):
    """``a = wrap24((w * window_sum(s)) << weight_exp)`` (an arithmetic right shift for a
    negative exponent), Lava's Dense/Conv arithmetic; ``w`` must be an integer."""

    _dtype = np.int64
    s_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int32, precision=24)
    a_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=24)
    weight: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=8)
    weight_exp: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=8)
    num_message_bits: np.ndarray = LavaPyType(np.ndarray, np.int32, precision=5)

    def _scale(self, total: np.ndarray) -> np.ndarray:
        a = total * int(self.weight[0])
        exp = int(self.weight_exp[0])
        a = np.left_shift(a, exp) if exp >= 0 else np.right_shift(a, -exp)
        return (((a + (1 << 23)) % (1 << 24)) - (1 << 23)).astype(np.int32)  # 24-bit wrap
