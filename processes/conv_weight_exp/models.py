"""Fixed-point model of ``lava.proc.conv.process.Conv`` that applies the weight exponent.

Lava's bit-accurate ``Dense`` model scales its weighted sum by ``2**weight_exp``; lava's
``PyConvModelFixed`` ignores ``weight_exp``. This model applies it the same way as ``Dense``:

.. math::
    a = \\begin{cases} (W * s) \\ll e & e \\ge 0 \\\\ \\lfloor (W * s) / 2^{-e} \\rfloor & e < 0
    \\end{cases}

so a first convolution can take graded (analog, 8-bit) input whose value is ``s / 2**8`` with
``e = -8`` (direct input, see ``lava_thesis.slayer_ext.direct_input``). With ``e = 0`` it is
identical to ``PyConvModelFixed``. It is not discovered automatically: select it with
``Loihi2SimCfg(exception_proc_model_map={Conv: PyConvModelFixedWeightExp})``.
"""

import numpy as np
from lava.magma.core.decorator import implements, requires, tag
from lava.magma.core.resources import CPU
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol
from lava.proc.conv import utils
from lava.proc.conv.models import PyConvModelFixed
from lava.proc.conv.process import Conv


@implements(proc=Conv, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt")
class PyConvModelFixedWeightExp(PyConvModelFixed):
    """``PyConvModelFixed`` plus the weight exponent (arithmetic shift of the weighted sum)."""

    def run_spk(self) -> None:
        if self.a_buf is None:
            self.a_buf = np.zeros_like(self.a_out.shape)
        self.a_out.send(self.a_buf)
        if self.num_message_bits.item() > 0:
            s_in = self.s_in.recv()
        else:
            s_in = self.s_in.recv().astype(bool)
        a_out = utils.conv(s_in, self.weight, self.kernel_size, self.stride, self.padding,
                           self.dilation, self.groups[0]).astype(np.int64)
        exp = int(np.asarray(self.weight_exp).reshape(-1)[0])
        a_out = np.left_shift(a_out, exp) if exp >= 0 else np.right_shift(a_out, -exp)
        self.a_buf = self.clamp_precision(a_out)
