"""Import NIR graphs into lava-dl netx ``.net`` files (Loihi fixed point).

The inverse of :mod:`lava_thesis.deploy.nir_export`, for graphs written by any NIR client
(snnTorch, Norse, ours). A graph must be a chain ``Input -> ... -> Output`` of synapse nodes
(``Affine``, ``Linear``, ``Conv2d``), each followed by neuron node(s), with ``Flatten`` nodes
between layers. Each synapse and its neurons become one netx layer (``dense`` or ``conv``, CUBA
neuron) in the layout that SLAYER's ``export_hdf5`` writes and
:mod:`lava_thesis.deploy.netx_run` runs.

Neurons
-------
With time constants in seconds and the step ``dt``, NIR's neurons under one forward-Euler step
(as Norse and snnTorch run them, see :mod:`lava_thesis.deploy.nir_export`) are a current stage
and a voltage stage, each ``s[t] = (1 - a) s[t-1] + g y[t]``::

    CubaLIF / CubaLI:  current a_i = dt / tau_syn, g_i = a_i w_in;
                       voltage a_v = dt / tau_mem, g_v = a_v r
    LIF / LI:          current identity (a_i = 1, g_i = 1); voltage a_v = dt / tau, g_v = a_v r
    IF / I:            current identity; voltage a_v = 0, g_v = dt r   (v' = r I)

An ``LI`` or ``I`` node followed by a second neuron node is that layer's current stage. Loihi's
CUBA neuron is ``u[t] = (1 - du/4096) u[t-1] + W x[t]``, ``v[t] = (1 - dv/4096) v[t-1] + u[t]``,
so ``du = round(4096 a_i) = round(4096 dt / tau_syn)`` (``tau = 4096 dt / du``, the export's
mapping inverted), ``dv = round(4096 a_v)`` and the weights of neuron ``j`` are multiplied by
``g_i g_v``. Spiking neurons need ``v_leak = 0`` and ``v_reset = 0`` (Loihi's hard reset; reset
to zero in both clients' terms). Per-neuron thresholds are folded into the weights (the dynamics
are linear up to the threshold, so scaling a neuron's inputs and threshold alike changes no
spike); decays must be one value per layer (netx stores scalars). ``CubaLI``, ``LI`` and ``I``
(non-spiking) may only end the graph: the last layer then gets Loihi's largest threshold and its
voltage is the output (:func:`lava_thesis.deploy.netx_run.netx_output_voltage`). A graph from our
exporter with ``readout="affine"`` (a last synapse without neuron) gets that readout neuron from
the decays in ``graph.metadata``.

Fixed point
-----------
Per layer, the weight exponent ``e`` is the smallest integer with ``W / 2**e`` in the 8-bit
mantissa range ``[-128, 127]``, and if need be raised until the threshold fits Loihi's 17 bits;
the ``.net`` holds ``W_net = 2 round(W / 2**e)`` (SLAYER's grid: even values in
``[-256, 254]``) and ``vThMant = round(theta 2**(1 - e))``. Lava's voltage is then
``v 2**(1 - e) * 64`` (``act_shift`` of 6), recorded as the layer attribute ``voltage_scale``.
A graph that our exporter wrote from SLAYER (weights on the 1/32 grid, ``|W| <= 4``) imports to
SLAYER's own parameters up to a power of two per layer.

Pooling nodes are folded into the layers around them
(:mod:`lava_thesis.deploy.nir_layers`).

Not supported (:class:`UnsupportedNIRError`, naming the node and its type): other node types
(max pooling, delays, recurrent subgraphs, ...), pooling with padding or a stride other than its
window, a synapse after another one with no neuron or pooling between them, non-zero biases,
branching graphs, ``v_leak`` or ``v_reset`` not zero, per-neuron decays, ``tau < dt``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from lava_thesis.atomic import atomic_path
from lava_thesis.deploy.netx_check import check_netx_file
from lava_thesis.deploy.nir_layers import (
    POOLS,
    SYNAPSES,
    UnsupportedNIRError,
    array,
    linear_run,
    where,
)
from lava_thesis.errors import ModelFileError

NEURONS = ("CubaLIF", "LIF", "IF", "CubaLI", "LI", "I")
SPIKING = ("CubaLIF", "LIF", "IF")
#: Loihi's largest threshold mantissa (17 bits); the threshold of a non-spiking layer
VTH_MAX = (1 << 17) - 1
DT_DEFAULT = 1e-4


def import_nir(path: str | os.PathLike, out: str | os.PathLike, dt: float | None = None) -> Path:
    """Read the NIR graph at ``path`` and write it as a netx ``.net`` file at ``out``.

    Parameters
    ----------
    path:
        A ``.nir`` file (HDF5, ``nir.write``).
    out:
        The ``.net`` file; written to a temporary file, checked
        (:func:`~lava_thesis.deploy.netx_check.check_netx_file`), then renamed.
    dt:
        Seconds per Loihi step; default ``graph.metadata["dt"]``, else ``1e-4`` (snnTorch's).

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ModelFileError
        If ``path`` is not a NIR graph; :class:`UnsupportedNIRError` if it holds what netx
        cannot express. Nothing is written then.
    """
    graph = read_graph(path)
    layers = graph_layers(graph, dt, source=path)
    write_net(layers, out)
    return Path(out)


def read_graph(path: str | os.PathLike) -> Any:
    """``nir.read(path)``, its errors on a file that is no NIR graph as :class:`ModelFileError`."""
    import nir

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such NIR file")
    try:
        graph = nir.read(path)
    except Exception as err:  # h5py / nir raise many types on foreign or truncated files
        raise ModelFileError(path, f"not a readable NIR graph ({type(err).__name__}: {err})",
                             "a NIR graph written by nir.write") from err
    if not isinstance(graph, nir.NIRGraph):
        raise ModelFileError(path, f"holds a single {type(graph).__name__} node",
                             "a NIR graph written by nir.write")
    return graph


def graph_layers(graph: Any, dt: float | None = None,
                 source: str | os.PathLike = "<graph>") -> list[dict[str, Any]]:
    """The netx layers of ``graph`` (see the module docstring), one dict per layer.

    Each dict has ``kind`` (``"input"``, ``"flatten"``, ``"dense"``, ``"conv"``), ``shape`` and,
    for weight layers, ``weight`` (float, neuron gains folded in), ``du``, ``dv`` (12-bit),
    ``theta`` (``None``: non-spiking) and the names of its nodes.
    """
    meta = dict(getattr(graph, "metadata", None) or {})
    dt = float(meta.get("dt", DT_DEFAULT) if dt is None else dt)
    if not (np.isfinite(dt) and dt > 0):
        raise ValueError(f"dt must be a positive number of seconds, got {dt!r}")
    chain = _chain(graph, source)
    shape = in_shape = _input_shape(graph.nodes[chain[0]])
    layers: list[dict[str, Any]] = []
    i = 1
    while chain[i] != "__output__":
        name, node = chain[i], graph.nodes[chain[i]]
        kind = type(node).__name__
        if kind == "Flatten":
            if shape is not None and len(shape) > 1:
                shape = (int(np.prod(shape)),)
                if layers:
                    layers.append({"kind": "flatten", "shape": shape, "nodes": [name]})
                else:  # flattening the input: the network takes flat input
                    in_shape = shape
            i += 1
            continue
        if kind not in SYNAPSES + POOLS:
            raise UnsupportedNIRError(source, where(
                name, node, "is not a node type netx supports here (expected a synapse)"))
        layer, shape, i, flat = linear_run(source, graph, chain, i, shape)
        if flat:  # pooling folded into a dense layer that reads the un-pooled map, flattened
            if layers:
                layers.append({"kind": "flatten", "shape": (layer["weight"].shape[1],),
                               "nodes": [flat]})
            else:
                in_shape = (layer["weight"].shape[1],)
        stages = []
        while chain[i] != "__output__" and type(graph.nodes[chain[i]]).__name__ in NEURONS:
            stages.append((chain[i], graph.nodes[chain[i]]))
            i += 1
        if chain[i] != "__output__" and type(graph.nodes[chain[i]]).__name__ not in (
                "Flatten",) + SYNAPSES + POOLS:
            raise UnsupportedNIRError(source, where(chain[i], graph.nodes[chain[i]],
                                                     "is not a node type netx supports"))
        neuron = _neuron(source, name, stages, dt, shape, meta, chain[i] == "__output__")
        layer.update({**neuron, "nodes": layer["nodes"] + neuron["nodes"][1:]})
        layers.append(_fold_gain(source, layer))
    if in_shape is not None:
        layers.insert(0, {"kind": "input", "shape": in_shape, "nodes": [chain[0]]})
    return layers


def quantize_layer(weight: np.ndarray, theta: float | None) -> tuple[np.ndarray, int, int]:
    """``(W_net, vThMant, e)``: 8-bit mantissas ``m = round(W / 2**e)`` in ``[-128, 127]`` with
    the smallest such exponent ``e`` (raised until ``theta 2**(1 - e) <= 2**17 - 1``),
    ``W_net = 2 m`` and ``vThMant = round(theta 2**(1 - e))`` (``2**17 - 1`` when ``theta`` is
    None: a non-spiking layer).

    Raises ``ValueError`` when the threshold rounds to zero (below a quarter of the weight
    step ``2**e``, about a 500th of the largest weight), naming the values.
    """
    weight = np.asarray(weight, dtype=np.float64)
    hi, lo = max(float(weight.max()), 0.0), min(float(weight.min()), 0.0)
    e = -126  # all-zero weights: any exponent; keep the threshold's constraint only
    with np.errstate(divide="ignore"):
        if hi > 0:
            e = max(e, int(np.ceil(np.log2(hi / 127))))
        if lo < 0:
            e = max(e, int(np.ceil(np.log2(-lo / 128))))
    while hi / 2.0**e > 127 or lo / 2.0**e < -128:  # guard log2 rounding
        e += 1
    if theta is not None:
        e = max(e, int(np.ceil(1 + np.log2(theta / VTH_MAX))))
        while np.floor(theta * 2.0 ** (1 - e) + 0.5) > VTH_MAX:
            e += 1
    mantissa = np.clip(np.round(weight / 2.0**e), -128, 127)
    vth = VTH_MAX if theta is None else int(np.floor(theta * 2.0 ** (1 - e) + 0.5))
    if vth < 1:
        raise ValueError(f"threshold {theta:g} is below a quarter of the 8-bit weight step "
                         f"{2.0**e:g} (largest weight {max(hi, -lo):g}): it rounds to zero")
    return 2 * mantissa, vth, e


def write_net(layers: list[dict[str, Any]], out: str | os.PathLike) -> Path:
    """Write :func:`graph_layers`' layers as a netx ``.net`` at ``out`` (atomic, checked)."""
    with atomic_path(out) as tmp:
        with h5py.File(tmp, "w") as handle:
            group = handle.create_group("layer")
            for i, layer in enumerate(layers):
                _write_layer(group.create_group(str(i)), layer)
        try:
            check_netx_file(tmp)
        except ModelFileError as err:
            raise ModelFileError(out, f"refusing to write: {err.problem}", err.expected) from err
    return Path(out)


# ------------------------------------------------------------------------------------ helpers


def _chain(graph: Any, source: Any) -> list[str]:
    """Node names from the single Input to the single Output (``"__output__"`` last)."""
    import nir

    kinds = {name: type(node).__name__ for name, node in graph.nodes.items()}
    inputs = [n for n, k in kinds.items() if k == "Input"]
    outputs = [n for n, k in kinds.items() if k == "Output"]
    if len(inputs) != 1 or len(outputs) != 1:
        raise UnsupportedNIRError(source, f"{len(inputs)} Input and {len(outputs)} Output nodes")
    succ: dict[str, list[str]] = {}
    for a, b in graph.edges:
        succ.setdefault(str(a).split(".")[0], []).append(str(b).split(".")[0])
    chain = inputs
    while chain[-1] != outputs[0]:
        name = chain[-1]
        nxt = succ.get(name, [])
        if isinstance(graph.nodes[name], nir.NIRGraph) or len(nxt) != 1 or nxt[0] in chain:
            what = ("a subgraph" if isinstance(graph.nodes[name], nir.NIRGraph)
                    else f"feeds {len(nxt)} nodes" if len(nxt) != 1 else "closes a loop")
            raise UnsupportedNIRError(source, where(name, graph.nodes[name], what))
        if nxt[0] not in graph.nodes:
            raise ModelFileError(source, f"edge to unknown node {nxt[0]!r}", "a valid NIR graph")
        chain.append(nxt[0])
    for name in set(graph.nodes) - set(chain):
        raise UnsupportedNIRError(source, where(name, graph.nodes[name], "is off the chain"))
    return chain[:-1] + ["__output__"]


def _input_shape(node: Any) -> tuple[int, ...] | None:
    value = (getattr(node, "input_type", None) or {}).get("input")
    if value is None or np.size(value) == 0:
        return None
    shape = tuple(int(s) for s in np.atleast_1d(value))
    return shape if len(shape) in (1, 3) and min(shape) > 0 else None


def _stage(source, name, node, dt, shape, c) -> tuple[np.ndarray, np.ndarray]:
    """``(a, g)`` of one NIR neuron stage (``c`` = ``"syn"``: CubaLIF's current), per neuron."""
    kind = type(node).__name__

    def get(key):
        value = array(node, key)
        if value.ndim == 1 and len(shape) == 3 and value.size == shape[0]:
            value = value.reshape(-1, 1, 1)
        try:
            return np.broadcast_to(value, shape).astype(np.float64)
        except ValueError:
            raise UnsupportedNIRError(source, where(name, node, f"{key} of shape {value.shape}"
                                                     f" does not fit its layer {shape}")) from None

    if kind in ("IF", "I"):
        return np.zeros(shape), dt * get("r")
    tau = get("tau_syn" if c == "syn" else "tau_mem" if kind.startswith("Cuba") else "tau")
    if not np.all(tau >= dt * (1 - 1e-9)):
        raise UnsupportedNIRError(source, where(name, node, f"has a time constant {tau.min():g}"
                                                 f" s below dt = {dt:g} s"), "tau >= dt")
    a = dt / tau
    return a, a * get("w_in" if c == "syn" else "r")


def _neuron(source, name, stages, dt, shape, meta, last) -> dict[str, Any]:
    """``du``, ``dv``, ``theta`` and the per-neuron ``gain`` of one layer's neuron stage(s)."""
    kinds = [type(node).__name__ for _, node in stages]
    if not stages and last and "readout_current_decay" in meta:  # our readout="affine"
        a_i, a_v = (np.broadcast_to(np.asarray(meta[k], float), shape)
                    for k in ("readout_current_decay", "readout_voltage_decay"))
        cur, volt, theta_node = (a_i, np.ones(shape)), (a_v, np.ones(shape)), None
    elif kinds and kinds[0] in ("CubaLIF", "CubaLI") and len(kinds) == 1:
        _, node = stages[0]
        cur, volt = _stage(source, *stages[0], dt, shape, "syn"), _stage(
            source, *stages[0], dt, shape, "mem")
        theta_node = node if kinds[0] == "CubaLIF" else None
    elif kinds and (len(kinds) == 1 or (len(kinds) == 2 and kinds[0] in ("LI", "I")
                                        and kinds[1] in ("LIF", "IF", "LI", "I"))):
        cur = _stage(source, *stages[0], dt, shape, "") if len(kinds) == 2 else (
            np.ones(shape), np.ones(shape))
        volt = _stage(source, *stages[-1], dt, shape, "")
        theta_node = stages[-1][1] if kinds[-1] in SPIKING else None
    else:
        here = where(*stages[0]) if stages else f"synapse {name!r}"
        raise UnsupportedNIRError(source, f"{here}: neuron nodes {kinds} after synapse "
                                  f"{name!r} are not one CUBA layer")
    if theta_node is None and not last:
        raise UnsupportedNIRError(source, where(*stages[-1], "is non-spiking but feeds on"),
                                  "non-spiking nodes (LI, I, CubaLI) only at the end")
    du, dv = (np.round(4096 * np.asarray(a, float)) for a in (cur[0], volt[0]))
    for key, value in (("current", du), ("voltage", dv)):
        if np.ptp(value) > 0:
            raise UnsupportedNIRError(source, where(*stages[0], f"has per-neuron {key} "
                                                     "time constants"), "one decay per layer")
    gain = cur[1] * volt[1]
    theta = None
    if theta_node is not None:
        for key in ("v_leak", "v_reset"):
            if getattr(theta_node, key, None) is not None and np.any(array(theta_node, key)):
                raise UnsupportedNIRError(source, where(*stages[-1], f"has {key} != 0"),
                                          "v_leak = 0 and v_reset = 0 (Loihi's hard reset)")
        th = np.broadcast_to(array(theta_node, "v_threshold").reshape(
            (-1, 1, 1) if len(shape) == 3 and array(theta_node, "v_threshold").size == shape[0]
            else np.shape(array(theta_node, "v_threshold"))), shape)
        if not np.all(th > 0):
            raise UnsupportedNIRError(source, where(*stages[-1], "has a threshold <= 0"))
        theta = float(th.max())
        gain = gain * theta / th  # per-neuron thresholds folded into the weights
    return {"du": int(du.flat[0]), "dv": int(dv.flat[0]), "theta": theta, "gain": gain,
            "nodes": [name] + [n for n, _ in stages]}


def _fold_gain(source, layer: dict[str, Any]) -> dict[str, Any]:
    """Multiply each output neuron's (dense) or channel's (conv) weights by its gain."""
    gain = layer.pop("gain")
    if layer["kind"] == "dense":
        layer["weight"] = layer["weight"] * gain.reshape(-1, 1)
        return layer
    per_channel = gain.reshape(gain.shape[0], -1)
    if np.ptp(per_channel, axis=1).max() > 1e-9 * np.abs(per_channel).max():
        raise UnsupportedNIRError(source, f"the neuron of conv node {layer['nodes'][0]!r} has "
                                  "gains (r, w_in, threshold) that vary within a channel",
                                  "one value per channel")
    layer["weight"] = layer["weight"] * per_channel[:, :1, None, None]
    return layer


def _write_layer(group: h5py.Group, layer: dict[str, Any]) -> None:
    """One netx layer group in SLAYER's ``export_hdf5`` layout."""
    kind = layer["kind"]
    group.create_dataset("type", (1,), "S10", [kind.encode("ascii")])
    group.create_dataset("shape", data=np.array(layer["shape"]))
    group.attrs["nir_nodes"] = ",".join(layer["nodes"])
    if kind in ("input", "flatten"):
        return
    weight = layer["weight"]
    w_net, vth, e = quantize_layer(weight, layer["theta"])
    group.attrs["weight_exponent"] = e
    group.attrs["voltage_scale"] = 2.0 ** (1 - e) * 64
    if kind == "dense":
        group.create_dataset("inFeatures", data=weight.shape[1])
        group.create_dataset("outFeatures", data=weight.shape[0])
    else:
        group.create_dataset("inChannels", data=weight.shape[1] * layer["groups"])
        group.create_dataset("outChannels", data=weight.shape[0])
        group.create_dataset("kernelSize", data=np.array(weight.shape[2:]))
        for key in ("stride", "padding", "dilation"):
            group.create_dataset(key, data=np.array(layer[key]))
        group.create_dataset("groups", data=layer["groups"])
    group.create_dataset("weight", data=w_net.astype(np.float32))
    for key, value in (("type", "CUBA"), ("iDecay", layer["du"]), ("vDecay", layer["dv"]),
                       ("vThMant", vth), ("refDelay", 1), ("gradedSpike", False)):
        group.create_dataset(f"neuron/{key}", data=value)
