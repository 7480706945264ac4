"""Check a netx ``.net`` file before lava-dl builds a network from it.

lava-dl's ``netx.hdf5.Network`` trusts its file: a missing dataset surfaces as a ``KeyError``,
a missing layer as an ``UnboundLocalError`` or ``IndexError``, and NaN weights or a zero
threshold are accepted and give a silent or saturated network. :func:`check_netx_file` reads
the file first and raises :class:`~lava_thesis.errors.ModelFileError` naming the file, the
layer and what is wrong.

Checked: a ``layer`` group with layers ``0 .. n-1`` (n >= 1), each with a known ``type``
(``input``, ``dense``, ``dense_rec``, ``conv``, ``flatten``) and at least one dense or conv
layer; ``shape`` datasets of positive integers; weights finite with shapes that fit the layer
and its predecessor (dense ``(out, in)``, conv ``(C_out, C_in / groups, kH, kW[, 1])`` with
``H_out = (H + 2 p - d (k - 1) - 1) // s + 1``); strides and dilations >= 1, padding >= 0,
groups >= 1 dividing the channels; CUBA/LOIHI neurons with ``vThMant > 0`` and decays
``iDecay``, ``vDecay`` in ``[0, 4096]``.
"""

from __future__ import annotations

import os
from pathlib import Path

import h5py
import numpy as np

from lava_thesis.errors import ModelFileError
from lava_thesis.model_check import (
    h5_name,
    open_h5,
    require_dataset,
    require_finite,
    require_group,
    require_range,
    require_scalar,
)

EXPECTED = "a netx network written by lava_thesis.deploy.netx_export.export_blocks"
LAYER_TYPES = ("input", "dense", "dense_rec", "conv", "flatten")
NEURON_TYPES = ("CUBA", "LOIHI")
#: decays are fractions of 4096 (12 bits)
DECAY_SCALE = 4096


def check_netx_file(path: str | os.PathLike) -> tuple[str, ...]:
    """Validate the netx file at ``path`` (see the module docstring); return its layer types.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ModelFileError
        If it is not HDF5 or is not a valid netx network, naming the layer and the problem.
    """
    path = Path(path)
    with open_h5(path, EXPECTED) as f:
        layers = require_group(f, "layer", path, EXPECTED)
        names = list(layers)
        if not names or sorted(names, key=lambda k: (not k.isdigit(), k.zfill(9))) != [
                str(i) for i in range(len(names))]:
            raise ModelFileError(path, f"layer groups are {sorted(names)}", "layers named 0, "
                                 "1, ..., n-1 (n >= 1)")
        types: list[str] = []
        shape: tuple[int, ...] | None = None  # output (C,) or (C, H, W) of the previous layer
        for i in range(len(names)):
            group = require_group(layers, str(i), path, EXPECTED)
            kind = _layer_type(group, path)
            if kind == "input":
                shape = _shape(group, path)
                if "neuron" in group:
                    _check_neuron(group, path)
            elif kind == "flatten":
                shape = None if shape is None else (int(np.prod(shape)),)
            elif kind == "conv":
                shape = _check_conv(group, path, shape)
            else:
                shape = _check_dense(group, path, shape, kind == "dense_rec")
            types.append(kind)
    if not any(kind in ("dense", "dense_rec", "conv") for kind in types):
        raise ModelFileError(path, f"no dense or conv layer (layers: {types})", EXPECTED)
    return tuple(types)


def first_layer_inputs(path: str | os.PathLike) -> tuple[str, int]:
    """The first weight layer's kind and its number of input channels (dense: features)."""
    with open_h5(path, EXPECTED) as f:
        layers = f["layer"]
        for i in range(len(layers)):
            group = layers[str(i)]
            kind = _layer_type(group, Path(path))
            if kind in ("dense", "dense_rec", "conv"):
                w = group["weight"]
                n_in = (w.shape[1] * int(np.asarray(group["groups"][()]).reshape(-1)[0])
                        if kind == "conv" else int(np.prod(w.shape)) // int(w.shape[0]))
                return kind, int(n_in)
    raise ModelFileError(path, "no dense or conv layer", EXPECTED)


def _layer_type(group: h5py.Group, path: Path) -> str:
    raw = require_dataset(group, "type", path, EXPECTED, kinds="SOU").reshape(-1)
    if raw.size != 1:
        raise ModelFileError(path, f"{h5_name(group, 'type')} holds {raw.size} values",
                             f"one of {LAYER_TYPES}")
    value = raw[0].decode("ascii", "replace") if isinstance(raw[0], bytes) else str(raw[0])
    if value not in LAYER_TYPES:
        raise ModelFileError(path, f"layer {h5_name(group)!r} has type {value!r}",
                             f"a layer type lava_thesis runs: one of {LAYER_TYPES}")
    return value


def _shape(group: h5py.Group, path: Path) -> tuple[int, ...]:
    shape = require_dataset(group, "shape", path, EXPECTED, kinds="iu").reshape(-1)
    if shape.size not in (1, 3) or shape.min() < 1:
        raise ModelFileError(path, f"{h5_name(group, 'shape')} is {shape.tolist()}",
                             "a layer shape (C,) or (C, H, W) of positive integers")
    return tuple(int(s) for s in shape)


def _check_neuron(layer: h5py.Group, path: Path) -> None:
    neuron = require_group(layer, "neuron", path, EXPECTED)
    raw = require_dataset(neuron, "type", path, EXPECTED, kinds="SOU").reshape(-1)
    kind = raw[0].decode("ascii", "replace") if raw.size and isinstance(raw[0], bytes) else (
        str(raw[0]) if raw.size else "")
    if kind not in NEURON_TYPES:
        raise ModelFileError(path, f"{h5_name(neuron, 'type')} is {kind!r}",
                             f"a neuron type of {NEURON_TYPES}")
    value = require_dataset(neuron, "vThMant", path, EXPECTED, kinds="fiu", shape=())
    vth = require_scalar(path, h5_name(neuron, "vThMant"), value, "a threshold vThMant > 0")
    if vth <= 0:
        raise ModelFileError(path, f"{h5_name(neuron, 'vThMant')} is {vth:g}",
                             "a threshold vThMant > 0")
    for name in ("iDecay", "vDecay"):
        value = require_dataset(neuron, name, path, EXPECTED, kinds="fiu", shape=())
        require_scalar(path, h5_name(neuron, name), value, f"a decay in [0, {DECAY_SCALE}]",
                       lo=0, hi=DECAY_SCALE)


def _weight(layer: h5py.Group, path: Path, name: str = "weight") -> np.ndarray:
    weight = require_dataset(layer, name, path, EXPECTED, kinds="fiu")
    require_finite(path, f"weights {h5_name(layer, name)}", weight, "finite weights")
    return weight


def _check_dense(layer: h5py.Group, path: Path, shape: tuple[int, ...] | None,
                 recurrent: bool) -> tuple[int, ...]:
    n_out = int(np.prod(_shape(layer, path)))
    weight = _weight(layer, path)
    if weight.ndim not in (1, 2) or weight.size == 0 or weight.size % n_out or (
            weight.ndim == 2 and weight.shape[0] != n_out):
        raise ModelFileError(path, f"{h5_name(layer, 'weight')} has shape {weight.shape} for "
                                   f"{n_out} neurons", "a dense weight (out, in)")
    n_in = weight.size // n_out
    if shape is not None and int(np.prod(shape)) != n_in:
        raise ModelFileError(path, f"{h5_name(layer, 'weight')} takes {n_in} inputs, the "
                                   f"previous layer gives {int(np.prod(shape))}",
                             "consecutive layers whose shapes fit")
    if recurrent:
        rec = _weight(layer, path, "weight_rec")
        if rec.size != n_out * n_out:
            raise ModelFileError(path, f"{h5_name(layer, 'weight_rec')} has shape {rec.shape}",
                                 f"a recurrent weight ({n_out}, {n_out})")
    if "neuron" in layer:
        _check_neuron(layer, path)
    for name in ("bias", "delay"):
        if name in layer:
            value = require_dataset(layer, name, path, EXPECTED, kinds="fiu")
            require_range(path, h5_name(layer, name), value, 0 if name == "delay" else None,
                          expected=f"finite {name} values")
    return (n_out,)


def _pair(layer: h5py.Group, path: Path, name: str, lo: int) -> tuple[int, int]:
    value = require_dataset(layer, name, path, EXPECTED, kinds="iu").reshape(-1)
    if value.size not in (1, 2) or value.min() < lo:
        raise ModelFileError(path, f"{h5_name(layer, name)} is {value.tolist()}",
                             f"one or two integers >= {lo}")
    return (int(value[0]), int(value[-1]))


def _check_conv(layer: h5py.Group, path: Path, shape: tuple[int, ...] | None
                ) -> tuple[int, ...]:
    out = _shape(layer, path)
    weight = _weight(layer, path)
    if len(out) != 3 or weight.ndim not in (4, 5) or weight.shape[0] != out[0] or (
            weight.ndim == 5 and weight.shape[4] != 1):
        raise ModelFileError(path, f"{h5_name(layer, 'weight')} has shape {weight.shape} for "
                                   f"output {out}", "a conv weight (C_out, C_in/groups, kH, kW)")
    stride, padding = _pair(layer, path, "stride", 1), _pair(layer, path, "padding", 0)
    dilation = _pair(layer, path, "dilation", 1)
    groups = int(require_scalar(path, h5_name(layer, "groups"),
                                require_dataset(layer, "groups", path, EXPECTED, kinds="iu"),
                                "groups >= 1", lo=1, integer=True))
    if out[0] % groups:
        raise ModelFileError(path, f"{h5_name(layer, 'groups')} = {groups} does not divide "
                                   f"{out[0]} channels", "groups dividing the channels")
    _check_neuron(layer, path)
    if shape is not None:
        want_c = weight.shape[1] * groups
        hw = tuple((n + 2 * p - d * (k - 1) - 1) // s + 1 for n, p, d, k, s in zip(
            shape[1:], padding, dilation, weight.shape[2:4], stride, strict=True)
                   ) if len(shape) == 3 else ()
        if shape[0] != want_c or hw != out[1:]:
            raise ModelFileError(path, f"conv {h5_name(layer)!r} maps {shape} to {out}; its "
                                       f"weight {weight.shape} gives ({out[0]}, *{hw})",
                                 "consecutive layers whose shapes fit")
    return out
