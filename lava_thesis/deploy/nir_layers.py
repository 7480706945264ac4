"""NIR synapse and pooling nodes as netx layer dicts, for :mod:`lava_thesis.deploy.nir_import`.

A synapse node (``Affine``, ``Linear``, ``Conv2d``) becomes a ``dense`` or ``conv`` layer dict
(``weight``, ``shape`` and, for a conv, ``padding``/``stride``/``dilation``/``groups``);
:func:`linear_run` also folds the pooling nodes around it in.

Pooling
-------
netx has no pooling layer; ``SumPool2d`` and ``AvgPool2d`` (a ``KxK`` window with stride ``K``,
no padding; average = sum times ``1/K**2``) are linear, and each becomes what it equals:

* followed by neuron nodes (a spiking pooling layer): a depthwise ``conv`` layer, ``groups = C``,
  every kernel entry the window weight;
* after a ``Conv2d`` with no neuron between (snnTorch's ``Conv2d -> AvgPool2d -> Leaky``): one
  ``conv`` layer, kernel ``K_c + (K - 1) S_c`` and stride ``S_c K``, whose weights sum the conv
  kernel over the window's shifts;
* before a ``Conv2d``, or before ``Flatten -> Affine/Linear`` (``Leaky -> AvgPool2d -> Flatten
  -> Linear``): the next synapse reads the un-pooled map, each of its weights spread over the
  ``KxK`` pixels of its window (the map's height and width must be multiples of K).

All three are exact (no rounding beyond the layer's 8-bit weights).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from lava_thesis.errors import ModelFileError

SYNAPSES = ("Affine", "Linear", "Conv2d")
POOLS = ("SumPool2d", "AvgPool2d")
EXPECTED = ("a NIR chain Input -> (Affine | Linear | Conv2d | SumPool2d | AvgPool2d -> CubaLIF | "
            "LIF | IF | LI, Flatten)* -> Output")


class UnsupportedNIRError(ModelFileError):
    """A NIR graph holds a node, parameter or structure that has no netx/Loihi equivalent."""

    def __init__(self, path: str | os.PathLike, problem: str, expected: str = EXPECTED) -> None:
        super().__init__(path, problem, expected)


def where(name: str, node: Any, what: str = "") -> str:
    """How an error message names a node: ``node 'fc1' (Affine) <what>``."""
    return f"node {name!r} ({type(node).__name__}){' ' + what if what else ''}"


def array(node: Any, key: str) -> np.ndarray:
    """A node's parameter ``key`` as a float64 array (torch tensors detached)."""
    value = getattr(node, key, None)
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    return np.asarray(value, dtype=np.float64)


def synapse_layer(source, name, node, shape) -> tuple[dict[str, Any], tuple[int, ...]]:
    """A dense/conv layer dict (weight, shape) from a synapse node; the output shape."""
    weight = array(node, "weight")
    bias = array(node, "bias") if getattr(node, "bias", None) is not None else np.zeros(1)
    if not (np.isfinite(weight).all() and np.isfinite(bias).all()):
        raise ModelFileError(source, where(name, node, "holds non-finite values"),
                             "finite weights")
    if np.any(bias != 0):
        raise UnsupportedNIRError(source, where(name, node, "has a non-zero bias"),
                                  "zero biases (netx layers here have none)")
    if type(node).__name__ != "Conv2d":
        if weight.ndim != 2 or (shape is not None and int(np.prod(shape)) != weight.shape[1]):
            raise UnsupportedNIRError(source, where(name, node, f"weight {weight.shape} does "
                                                     f"not take input {shape}"))
        return {"kind": "dense", "weight": weight, "shape": (weight.shape[0],),
                "nodes": [name]}, (weight.shape[0],)
    groups = int(np.asarray(node.groups).reshape(-1)[0])
    if weight.ndim != 4 or shape is None or len(shape) != 3 or shape[0] != weight.shape[1] * groups:
        raise UnsupportedNIRError(source, where(name, node, f"weight {weight.shape} (groups "
                                                 f"{groups}) does not take input {shape}"))
    pad = node.padding
    if isinstance(pad, str) and pad != "valid":
        raise UnsupportedNIRError(source, where(name, node, f"has padding {pad!r}"),
                                  "integer padding or 'valid'")
    pair = [tuple(int(v) for v in np.broadcast_to(np.asarray(p).reshape(-1), (2,)))
            for p in ((0 if isinstance(pad, str) else pad), node.stride, node.dilation)]
    out = (weight.shape[0],) + tuple(
        (n + 2 * p - d * (k - 1) - 1) // s + 1
        for n, p, s, d, k in zip(shape[1:], *pair, weight.shape[2:], strict=True))
    if min(out) < 1:
        raise UnsupportedNIRError(source, where(name, node, f"maps {shape} to {out}"))
    return {"kind": "conv", "weight": weight, "shape": out, "padding": pair[0],
            "stride": pair[1], "dilation": pair[2], "groups": groups, "nodes": [name]}, out


def linear_run(source, graph, chain, i, shape):
    """The layer of the synapse or pooling node ``chain[i]`` and of the pooling nodes fused
    with it (see the module docstring): ``(layer, output shape, next index, flatten)``;
    ``flatten``: the name of the Flatten node when the layer is dense on the flattened input of
    a pooling node, else ``""``."""
    kind_of = lambda k: type(graph.nodes[chain[k]]).__name__  # noqa: E731
    name, node = chain[i], graph.nodes[chain[i]]
    layer, shape = (pool_layer if kind_of(i) in POOLS else synapse_layer)(source, name, node, shape)
    i, flat = i + 1, ""
    while chain[i] != "__output__":
        nxt, node = chain[i], graph.nodes[chain[i]]
        if kind_of(i) in POOLS:
            if layer["kind"] != "conv":
                raise UnsupportedNIRError(source, where(nxt, node, "pools a dense layer's "
                                                         "output without a neuron between"))
            pool, shape = pool_layer(source, nxt, node, shape)
            layer, i = _conv_thenpool_layer(source, layer, pool), i + 1
        elif layer.get("pool") and kind_of(i) == "Conv2d":
            conv, shape = synapse_layer(source, nxt, node, shape)
            layer, i = pool_then(source, layer, conv), i + 1
        elif (layer.get("pool") and kind_of(i) == "Flatten" and chain[i + 1] != "__output__"
              and kind_of(i + 1) in ("Affine", "Linear")):
            dense, shape = synapse_layer(source, chain[i + 1], graph.nodes[chain[i + 1]],
                                    (int(np.prod(shape)),))
            layer, i, flat = pool_then(source, layer, dense), i + 2, nxt
        elif kind_of(i) in SYNAPSES:
            raise UnsupportedNIRError(source, where(nxt, node, f"follows synapse {name!r} "
                                                     "with no neuron between"))
        else:
            break
    return layer, shape, i, flat


def pool_layer(source, name, node, shape) -> tuple[dict[str, Any], tuple[int, ...]]:
    """A ``SumPool2d``/``AvgPool2d`` node as the depthwise conv layer it equals."""
    kernel, stride, pad = (tuple(int(v) for v in np.broadcast_to(
        np.asarray(getattr(node, key)).reshape(-1), (2,))) for key in ("kernel_size", "stride",
                                                                        "padding"))
    if shape is None or len(shape) != 3:
        raise UnsupportedNIRError(source, where(name, node, f"pools a {shape} input"),
                                  "pooling of (C, H, W) maps")
    if kernel[0] != kernel[1] or stride != kernel or pad != (0, 0):
        raise UnsupportedNIRError(source, where(name, node, f"has kernel {kernel}, stride "
                                                 f"{stride}, padding {pad}"),
                                  "square windows, stride = window, no padding")
    k = kernel[0]
    weight = 1.0 if type(node).__name__ == "SumPool2d" else 1.0 / (k * k)
    out = (shape[0], shape[1] // k, shape[2] // k)
    if min(out) < 1:
        raise UnsupportedNIRError(source, where(name, node, f"maps {shape} to {out}"))
    return {"kind": "conv", "weight": np.full((shape[0], 1, k, k), weight), "shape": out,
            "padding": (0, 0), "stride": (k, k), "dilation": (1, 1), "groups": shape[0],
            "nodes": [name], "pool": (k, weight), "in_shape": shape}, out


def _conv_thenpool_layer(source, conv: dict[str, Any], pool: dict[str, Any]) -> dict[str, Any]:
    """One conv layer for ``conv`` followed by ``pool``: ``W'[u] = w sum_{a,b<K} W[u - S a]``."""
    (k, w), weight = pool["pool"], conv["weight"]
    s = conv["stride"]
    if conv["dilation"] != (1, 1):
        raise UnsupportedNIRError(source, f"conv node {conv['nodes'][0]!r} is dilated; "
                                  "it cannot absorb the pooling after it")
    size = (weight.shape[2] + (k - 1) * s[0], weight.shape[3] + (k - 1) * s[1])
    fused = np.zeros(weight.shape[:2] + size)
    for a in range(k):
        for b in range(k):
            fused[:, :, a * s[0]:a * s[0] + weight.shape[2],
                  b * s[1]:b * s[1] + weight.shape[3]] += w * weight
    plain = {key: value for key, value in conv.items() if key not in ("pool", "in_shape")}
    return {**plain, "weight": fused, "shape": pool["shape"], "stride": (s[0] * k, s[1] * k),
            "nodes": conv["nodes"] + pool["nodes"]}


def pool_then(source, pool: dict[str, Any], syn: dict[str, Any]) -> dict[str, Any]:
    """One layer for ``pool`` followed by the conv or dense ``syn``: each of its weights
    spread over the ``KxK`` window it reads (dense: through the flatten)."""
    (k, w), (c, h, wd) = pool["pool"], pool["in_shape"]
    if h % k or wd % k:
        raise UnsupportedNIRError(source, f"pooling node {pool['nodes'][0]!r}: its input "
                                  f"{pool['in_shape']} is not a multiple of the window {k}; "
                                  f"it cannot be folded into {syn['nodes'][0]!r}")
    weight = syn["weight"]
    if syn["kind"] == "dense":
        spread = weight.reshape(len(weight), c, h // k, 1, wd // k, 1)
        spread = np.broadcast_to(spread, (len(weight), c, h // k, k, wd // k, k))
        return {**syn, "weight": w * spread.reshape(len(weight), c * h * wd),
                "nodes": pool["nodes"] + syn["nodes"]}
    if syn["dilation"] != (1, 1):
        raise UnsupportedNIRError(source, f"conv node {syn['nodes'][0]!r} after pooling is "
                                  "dilated; the pooling cannot be folded into it")
    spread = np.repeat(np.repeat(weight, k, axis=2), k, axis=3) * w
    return {**syn, "weight": spread, "stride": tuple(k * v for v in syn["stride"]),
            "padding": tuple(k * v for v in syn["padding"]),
            "nodes": pool["nodes"] + syn["nodes"]}
