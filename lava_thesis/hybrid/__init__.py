"""Method 3: ANN -> SNN conversion with threshold balancing, then STDB fine-tuning.

``neuron``: the integrate-and-fire step and the STDB / linear surrogate gradients (pure
functions); ``snn``: the converted network (``HybridSNN``) and threshold balancing; ``stdb``:
fine-tuning by backprop through time; ``deploy``: the hard-reset twin as lava-dl SLAYER blocks,
exported to netx; ``evaluate``: the deployed twin's accuracy, the validation choice of the
thresholds and the step reduction; ``plots``: the experiment's figures.
"""

from lava_thesis.hybrid.neuron import if_step, linear_spike, stdb_spike
from lava_thesis.hybrid.snn import HybridSNN, balance_thresholds

__all__ = ["HybridSNN", "balance_thresholds", "if_step", "linear_spike", "stdb_spike"]
