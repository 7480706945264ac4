"""Method 1: Diehl & Cook STDP network with power-law STDP, pruning and quantization.

``core`` holds the shared equations (used by the Lava ProcessModels and, compiled with numba,
by the fast ``engine``); ``readout`` the unsupervised labelling; ``model_io`` the h5 files.
"""

from lava_thesis.stdp.engine import STDPNetwork
from lava_thesis.stdp.params import STDPParams
from lava_thesis.stdp.readout import assign_labels, predict

__all__ = ["STDPNetwork", "STDPParams", "assign_labels", "predict"]
