"""A learnable per-layer firing threshold for SLAYER CUBA blocks.

SLAYER stores the threshold as a plain float, so it cannot be trained as is. For a neuron with
hard reset to zero and linear sub-threshold dynamics, firing when ``v >= theta`` with weights
``W`` is the same as firing when ``v' >= theta_ref`` with weights ``W * theta_ref / theta``
(``v' = v * theta_ref / theta`` at every step). :class:`FoldedThreshold` therefore keeps
SLAYER's fixed ``theta_ref`` and learns ``log(theta / theta_ref)``, folding it into the weights
inside the synapse's ``pre_hook_fx`` (before SLAYER's 8-bit quantisation):

.. math::
    W_\\text{eff} = q_8\\!\\left(W \\cdot \\frac{\\vartheta_\\text{ref}}{\\vartheta}\\right),
    \\qquad \\vartheta = \\vartheta_\\text{ref}\\, e^{g}

The gradient reaches ``g`` through every weight of the layer. The export to netx writes
``W_eff``, i.e. exactly what the forward pass used, so Lava needs no extra parameter.

Example
-------
>>> import lava_thesis
>>> from lava.lib.dl import slayer
>>> block = slayer.block.cuba.Dense({"threshold": 1.0, "current_decay": 1.0,
...                                  "voltage_decay": 0.0}, 4, 3)
>>> hook = attach_learnable_threshold(block, theta_init=2.0)
>>> round(float(hook.theta), 3)
2.0
"""

from __future__ import annotations

import math

import torch


class FoldedThreshold(torch.nn.Module):
    """``pre_hook_fx`` that folds a learnable threshold into the weights, then quantises.

    Parameters
    ----------
    quantize:
        SLAYER's weight quantiser (``block.neuron.quantize_8bit``), called as
        ``quantize(weight, descale=...)``.
    theta_ref:
        The neuron's fixed SLAYER threshold.
    theta_init:
        Initial learnable threshold, in the units of the raw weights (> 0).
    """

    def __init__(self, quantize, theta_ref: float, theta_init: float) -> None:
        super().__init__()
        if theta_init <= 0 or theta_ref <= 0:
            raise ValueError(f"thresholds must be > 0, got {theta_init=}, {theta_ref=}")
        self._quantize = quantize
        self.theta_ref = float(theta_ref)
        self.log_gain = torch.nn.Parameter(torch.tensor(math.log(theta_init / theta_ref)))

    @property
    def theta(self) -> torch.Tensor:
        """The learned threshold (in the units of the raw weights)."""
        return self.theta_ref * torch.exp(self.log_gain)

    def forward(self, weight: torch.Tensor, descale: bool = False) -> torch.Tensor:
        return self._quantize(weight * torch.exp(-self.log_gain), descale=descale)


def attach_learnable_threshold(block: torch.nn.Module, theta_init: float,
                               theta_ref: float | None = None) -> FoldedThreshold:
    """Give a SLAYER CUBA block a learnable threshold (see :class:`FoldedThreshold`).

    ``theta_ref`` defaults to the neuron's SLAYER threshold; a non-spiking readout passes the
    hidden layers' reference instead, so that its learned gain is a weight scale."""
    ref = block.neuron.threshold if theta_ref is None else theta_ref
    hook = FoldedThreshold(block.neuron.quantize_8bit, ref, theta_init)
    # SLAYER's `pre_hook_fx` is a property over `_pre_hook_fx`; torch registers a Module value
    # assigned to `_pre_hook_fx` as a submodule, so the gain joins block.parameters().
    block.synapse._pre_hook_fx = hook
    if block.synapse.pre_hook_fx is not hook:
        raise RuntimeError("could not install the threshold hook on this SLAYER synapse")
    return hook
