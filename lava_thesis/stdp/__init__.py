"""Method 1: Diehl & Cook STDP network with power-law STDP, pruning and quantization.

``params``: the network's constants (:class:`STDPParams`); ``core``: the shared equations, used
by the Lava ProcessModels (``lava_thesis.processes``) and, compiled with numba in ``kernels``, by
the fast ``engine`` (:class:`STDPNetwork`); ``lava_net``: the network run in Lava on explicit
input spikes; ``readout``: the unsupervised labelling and vote; ``cost``: synapse count, weight
bits and the energy/area estimate of a pruned, quantized network; ``model_io``: the h5 files.
The experiment is :mod:`lava_thesis.experiments.stdp`.
"""

from lava_thesis.stdp.engine import STDPNetwork
from lava_thesis.stdp.params import STDPParams
from lava_thesis.stdp.readout import assign_labels, predict

__all__ = ["STDPNetwork", "STDPParams", "assign_labels", "predict"]
