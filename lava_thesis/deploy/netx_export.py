"""Export SLAYER networks to lava-dl netx ``.net`` files (HDF5).

A netx file holds one group per layer under ``layer/<index>``; each SLAYER block writes its own
group with ``block.export_hdf5(group)``. This module adds the atomic write, a check that every
block can be exported, and refuses non-finite parameters or a written file that netx could not
use.

netx has no pooling layer (lava-dl refuses its own ``pool`` groups). A SLAYER pooling block
(``slayer.block.cuba.Pool``: a KxK window summed with one weight ``w``, then a CUBA neuron) is
written as the layer it equals, a depthwise convolution (:func:`pool_as_conv`): ``groups = C``,
``C`` kernels of ``KxK`` entries all ``w``, stride K, no padding. Stock netx builds it as a
``Conv`` block and Lava runs it in fixed and floating point like any convolution.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import h5py
import numpy as np
import torch

from lava_thesis.atomic import atomic_path
from lava_thesis.deploy.netx_check import check_netx_file
from lava_thesis.errors import ModelFileError
from lava_thesis.model_check import require_finite_blocks


def export_blocks(blocks: Iterable[torch.nn.Module], path: str | Path) -> Path:
    """Write SLAYER ``blocks`` (in order) as a netx network file at ``path``.

    Parameters
    ----------
    blocks:
        SLAYER blocks (``slayer.block.*``), each with an ``export_hdf5(group)`` method.
    path:
        Destination ``.net`` file; written to a temporary file first, then renamed.

    Raises
    ------
    TypeError
        If a block cannot be exported (no ``export_hdf5`` method), naming its index and type.
    ModelFileError
        If a parameter is NaN or infinite, or the written network would not be valid for
        netx (:func:`lava_thesis.deploy.netx_check.check_netx_file`); nothing is written.
    """
    blocks = list(blocks)
    for i, block in enumerate(blocks):
        if not callable(getattr(block, "export_hdf5", None)):
            raise TypeError(
                f"block {i} ({type(block).__name__}) has no export_hdf5(); netx supports "
                "slayer dense, conv, pool, input and flatten blocks"
            )
        neuron = getattr(block, "neuron", None)
        if neuron is not None and getattr(neuron, "shape", 0) is None:
            raise ValueError(
                f"block {i} ({type(block).__name__}) has no neuron shape yet: SLAYER sets it on "
                "the first forward pass; run one (e.g. on a single time step) before exporting"
            )
    require_finite_blocks(path, blocks)
    with atomic_path(path) as tmp:
        with h5py.File(tmp, "w") as handle:
            layers = handle.create_group("layer")
            for i, block in enumerate(blocks):
                if _is_pool(block):
                    pool_as_conv(block, layers.create_group(f"{i}"))
                else:
                    block.export_hdf5(layers.create_group(f"{i}"))
        try:  # what lava-dl will read: finite weights, thresholds > 0, fitting shapes
            check_netx_file(tmp)
        except ModelFileError as err:
            raise ModelFileError(path, f"refusing to export: {err.problem}",
                                 err.expected) from err
    return Path(path)


def _is_pool(block: torch.nn.Module) -> bool:
    from lava.lib.dl.slayer.block.base import AbstractPool

    return isinstance(block, AbstractPool)


def pool_as_conv(block: torch.nn.Module, group: h5py.Group) -> None:
    """Write a SLAYER pooling block into ``group`` as netx's equivalent depthwise ``conv`` layer.

    SLAYER's pool synapse sums each channel's ``KxK`` windows (stride ``S``) with one weight
    ``w`` (after its ``pre_hook_fx``, e.g. a folded threshold and the 8-bit quantisation); on
    ``(C, H, W)`` input with ``H`` and ``W`` multiples of ``K`` that is a convolution with
    ``groups = C`` whose ``C`` kernels are ``w`` everywhere. The layer holds that weight in the
    layout SLAYER's conv blocks write (``(C, 1, K, K)``, Loihi's integer scale) and the block's
    neuron parameters.

    Raises ``NotImplementedError`` for what the convolution cannot express: padding, dilation,
    axonal delays, or a window that is not square.
    """
    syn, neuron = block.synapse, block.neuron
    kernel, stride = tuple(syn.kernel_size[:2]), tuple(syn.stride[:2])
    if (tuple(syn.padding[:2]) != (0, 0) or tuple(syn.dilation[:2]) != (1, 1)
            or kernel[0] != kernel[1] or getattr(block, "delay", None) is not None):
        raise NotImplementedError(
            f"{type(block).__name__}: only square pooling without padding, dilation or axonal "
            f"delay exports to netx (kernel {kernel}, padding {tuple(syn.padding[:2])}, "
            f"dilation {tuple(syn.dilation[:2])})")
    shape = tuple(int(d) for d in neuron.shape)  # (C, H_out, W_out)
    with torch.no_grad():
        weight = syn.pre_hook_fx(syn.weight, descale=True) if syn.pre_hook_fx is not None \
            else syn.weight
    w = weight.reshape(-1).cpu().numpy()
    if np.ptp(w) != 0:
        raise NotImplementedError(f"{type(block).__name__}: pool weights differ within the "
                                  "window; netx's depthwise form needs one weight")
    channels = shape[0]
    group.create_dataset("type", (1,), "S10", [b"conv"])
    group.create_dataset("shape", data=np.array(shape))
    group.create_dataset("inChannels", data=channels)
    group.create_dataset("outChannels", data=channels)
    group.create_dataset("kernelSize", data=np.array(kernel))
    group.create_dataset("stride", data=np.array(stride))
    group.create_dataset("padding", data=np.array([0, 0]))
    group.create_dataset("dilation", data=np.array([1, 1]))
    group.create_dataset("groups", data=channels)
    group.create_dataset("weight", data=np.full((channels, 1, *kernel), w[0], np.float32))
    group.attrs["slayer_block"] = "pool"
    for key, value in neuron.device_params.items():
        group.create_dataset(f"neuron/{key}", data=value)
