"""DIET-SNN networks built from lava-dl SLAYER CUBA blocks.

DIET-SNN (Rathi & Roy) trains, per layer, the leak and the threshold together with the weights,
with direct (analog) input into the first layer at every step:

.. math::
    u_l[t] = \\lambda_l\\, u_l[t-1] + W_l\\, x_l[t], \\qquad
    s_l[t] = H(u_l[t] - \\vartheta_l), \\qquad u_l[t] \\leftarrow u_l[t]\\,(1 - s_l[t])

Here every block is a SLAYER CUBA neuron whose current decay is 1 (no synaptic memory, so the
current is ``W x[t]``) and whose voltage decay ``1 - lambda_l`` is learnable (leak clamped to
[0, 1]); the threshold ``theta_l`` is learnable through
:class:`~lava_thesis.slayer_ext.threshold.FoldedThreshold`. The reset is a hard reset to zero
(the paper subtracts the threshold): that is what Lava's LIF and Loihi implement, so the trained
network deploys unchanged. Pooling is either a strided convolution or a spiking sum-pooling
layer (``pK``): SLAYER's ``cuba.Pool`` block, a KxK window summed with one fixed weight per
layer, with its own learnable threshold and leak like every other layer. netx has no pooling
layer; the export writes it as the equivalent depthwise convolution (``groups = C``, every
kernel entry the pool's weight; :func:`lava_thesis.deploy.netx_export.pool_as_conv`), which
stock netx and Loihi run.

The class readout is either the last layer's spike counts (``readout="spikes"``) or, as in the
paper, a non-spiking integrator (``readout="integrator"``): the last layer never fires (its
threshold is Loihi's largest, ``vThMant = 2**17 - 1``) and has no leak, so its voltage at the end
of the sample window, ``v_L[T_w - 1] = sum_t W_L s_{L-1}[t]``, is the class score. Spike counts
over five steps take six values and tie often (measured on our count-readout models at T=5: 2.4%
of MNIST and 18% of Fashion-MNIST test images); the voltage rarely ties. In Lava the score is read
from the last layer's ``v`` (:func:`lava_thesis.deploy.netx_run.netx_output_voltage`).

Layers are described by a small spec list, e.g. ``["c16k5s2", "c32k3s2", "f", "d128", "d10"]``:
``cOUTkKsS`` a KxK convolution with stride S (padding K//2), ``pK`` KxK sum pooling with
stride K (the height and width must be multiples of K), ``f`` flatten, ``dN`` dense. The first
layer (direct input) must be a convolution or dense, the last dense.
Tensors are SLAYER's ``(N, C, H, W, T)``.

The neurons run through the torch-native CUBA kernel (``neuron_engine="torch"``, the default;
:mod:`lava_thesis.slayer_ext.cuba`), whose spikes and voltages equal SLAYER's bit for bit and
whose gradients equal SLAYER's; ``neuron_engine="slayer"`` runs lava-dl SLAYER's own neuron. The
engine is a way of computing, not part of the model: the parameters, the state dict and the
exports are the same SLAYER blocks either way. The synapse (with the learnable threshold folded
into its weights and the direct-input floor) is SLAYER's in both engines.

Example
-------
>>> net = DietSNN(["c4k3s2", "f", "d10"], input_shape=(1, 8, 8))
>>> net(torch.rand(2, 1, 8, 8, 5)).shape
torch.Size([2, 10, 5])
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Sequence
from pathlib import Path

import torch

import lava_thesis  # noqa: F401  (Lava compatibility fixes before lava.lib.dl)
from lava_thesis.deploy.netx_export import export_blocks
from lava_thesis.errors import ModelFileError
from lava_thesis.model_check import (
    load_state,
    load_torch,
    require_keys,
    require_state_dict,
    require_steps,
)
from lava_thesis.slayer_ext import attach_direct_input, attach_learnable_threshold
from lava_thesis.slayer_ext.cuba import block_forward, neuron_dynamics

THETA_REF = 1.0
#: threshold of the integrator readout: netx writes vThMant = threshold * 64 = 2**17 - 1
READOUT_THRESHOLD = (2**17 - 1) / 64
READOUTS = ("spikes", "integrator")
#: how the CUBA neurons are run: the torch-native kernel (:mod:`lava_thesis.slayer_ext.cuba`,
#: bit-exact with SLAYER) or lava-dl SLAYER's own per-step loop
NEURON_ENGINES = ("torch", "slayer")
#: the most input values (C * H * W) a checkpoint's input_shape may ask for
MAX_INPUT = 2**22
CKPT_EXPECTED = "a DIET-SNN checkpoint written by train diet (spec, input_shape, state_dict)"
_CONV = re.compile(r"^c(\d+)k(\d+)s(\d+)$")
_DENSE = re.compile(r"^d(\d+)$")
_POOL = re.compile(r"^p(\d+)$")


def neuron_params(tau_grad: float = 0.5, scale_grad: float = 1.0) -> dict:
    """SLAYER CUBA parameters of a DIET layer: no current memory, leak starts at 1."""
    return {
        "threshold": THETA_REF,
        "current_decay": 1.0,
        "voltage_decay": 0.0,
        "tau_grad": tau_grad,
        "scale_grad": scale_grad,
        "requires_grad": True,
    }


def parse_spec(spec: Sequence[str], input_shape: tuple[int, int, int]) -> list[tuple]:
    """Validate a layer spec; return ``(kind, in, out, kernel, stride, out_shape)`` tuples."""
    if not spec:
        raise ValueError("the layer spec is empty")
    layers, shape = [], tuple(input_shape)
    for i, item in enumerate(spec):
        if (m := _CONV.match(item)) is not None:
            if len(shape) != 3:
                raise ValueError(f"layer {i} ({item!r}): a convolution needs (C, H, W) input")
            out, k, s = map(int, m.groups())
            hw = tuple((d + 2 * (k // 2) - k) // s + 1 for d in shape[1:])
            layers.append(("conv", shape[0], out, k, s, (out, *hw)))
            shape = (out, *hw)
        elif (m := _POOL.match(item)) is not None:
            k = int(m.group(1))
            if len(shape) != 3:
                raise ValueError(f"layer {i} ({item!r}): pooling needs (C, H, W) input")
            if i == 0:
                raise ValueError(f"layer 0 ({item!r}): the first layer takes the direct input;"
                                 " it must be a convolution or dense")
            if k < 1 or shape[1] % k or shape[2] % k:
                raise ValueError(f"layer {i} ({item!r}): the input's height and width "
                                 f"{shape[1:]} must be multiples of the pool size {k}")
            shape = (shape[0], shape[1] // k, shape[2] // k)
            layers.append(("pool", shape[0], shape[0], k, k, shape))
        elif item == "f":
            flat = int(torch.tensor(shape).prod())
            layers.append(("flatten", flat, flat, 1, 1, (flat,)))
            shape = (flat,)
        elif (m := _DENSE.match(item)) is not None:
            if len(shape) != 1:
                raise ValueError(f"layer {i} ({item!r}): flatten ('f') before a dense layer")
            out = int(m.group(1))
            layers.append(("dense", shape[0], out, 1, 1, (out,)))
            shape = (out,)
        else:
            raise ValueError(f"layer {i}: unknown spec {item!r} (expected cOUTkKsS, pK, f or dN)")
    if layers[-1][0] != "dense":
        raise ValueError("the last layer must be dense (the class readout)")
    return layers


class DietSNN(torch.nn.Module):
    """A DIET-SNN of SLAYER CUBA blocks with learnable thresholds and leaks.

    Parameters
    ----------
    spec:
        Layer spec, see the module docstring.
    input_shape:
        ``(C, H, W)`` of the analog input.
    thresholds:
        Initial threshold per weight layer (e.g. from :func:`lava_thesis.diet.init`); 1.0 each
        by default.
    tau_grad, scale_grad:
        Width and height of SLAYER's surrogate gradient.
    readout:
        ``"spikes"``: the forward returns the last layer's spikes ``(N, classes, T)`` and the
        scores are spike counts. ``"integrator"``: it returns the last layer's voltage
        ``(N, classes, T)`` (never spiking, no leak) and the score is its last value.
    neuron_engine:
        ``"torch"``: the torch-native CUBA kernel; ``"slayer"``: SLAYER's neuron (identical
        outputs and gradients; see the module docstring). Can be changed later through the
        attribute of the same name.

    Attributes
    ----------
    dropout : float
        In training mode only, each hidden layer's spikes reach the next layer through a
        dropout mask drawn once per sample and neuron and kept for every time step (as the
        DIET-SNN code does), kept spikes scaled by ``1 / (1 - dropout)``. 0 (the default) is
        off; evaluation and export never drop. Set by
        :func:`lava_thesis.diet.train.train_snn` from its config.
    """

    def __init__(
        self,
        spec: Sequence[str],
        input_shape: tuple[int, int, int] = (1, 28, 28),
        thresholds: Sequence[float] | None = None,
        tau_grad: float = 0.5,
        scale_grad: float = 1.0,
        readout: str = "spikes",
        neuron_engine: str = "torch",
    ) -> None:
        super().__init__()
        from lava.lib.dl import slayer

        if readout not in READOUTS:
            raise ValueError(f"readout must be one of {READOUTS}, got {readout!r}")
        self.readout = readout
        self.neuron_engine = neuron_engine
        self.spec, self.input_shape = list(spec), tuple(input_shape)
        self.layers = parse_spec(spec, input_shape)
        n_weight = sum(kind != "flatten" for kind, *_ in self.layers)
        thresholds = [1.0] * n_weight if thresholds is None else list(thresholds)
        if len(thresholds) != n_weight:
            raise ValueError(f"{n_weight} thresholds expected, got {len(thresholds)}")
        params = neuron_params(tau_grad, scale_grad)
        blocks, hooks = [], []
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*weight_norm", category=FutureWarning)
            for i, (kind, c_in, c_out, k, s, _) in enumerate(self.layers):
                integrator = i == len(self.layers) - 1 and readout == "integrator"
                if integrator:
                    params = {**params, "threshold": READOUT_THRESHOLD}
                if kind == "conv":
                    block = slayer.block.cuba.Conv(params, c_in, c_out, k, stride=s,
                                                   padding=k // 2, weight_scale=2)
                elif kind == "dense":
                    block = slayer.block.cuba.Dense(params, c_in, c_out, weight_scale=2)
                elif kind == "pool":  # fixed unit weight; the threshold folds into it
                    block = slayer.block.cuba.Pool(params, k, stride=s, weight_scale=1)
                else:
                    blocks.append(slayer.block.cuba.Flatten())
                    continue
                block.neuron.current_decay.requires_grad_(False)
                if integrator:  # no leak: a pure integrator
                    block.neuron.voltage_decay.requires_grad_(False)
                hooks.append(attach_learnable_threshold(block, thresholds[len(hooks)],
                                                        theta_ref=THETA_REF))
                blocks.append(block)
        self.blocks = torch.nn.ModuleList(blocks)
        attach_direct_input(self.blocks[0])
        self.dropout = 0.0

    @property
    def neuron_engine(self) -> str:
        """``"torch"`` (the torch-native CUBA kernel) or ``"slayer"`` (SLAYER's neuron)."""
        return self._neuron_engine

    @neuron_engine.setter
    def neuron_engine(self, engine: str) -> None:
        if engine not in NEURON_ENGINES:
            raise ValueError(f"neuron_engine must be one of {NEURON_ENGINES}, got {engine!r}")
        self._neuron_engine = engine

    @property
    def weight_blocks(self) -> list[torch.nn.Module]:
        return [b for b in self.blocks if hasattr(b, "neuron")]

    def forward(self, x: torch.Tensor, record: list | None = None,
                start: int = 0) -> torch.Tensor:
        """``x``: analog input ``(N, C, H, W, T)`` (``x = pixel / 256``). ``record``, when a
        list, receives every block's output (for spike rates and energy). ``start``: run the
        blocks from that index on, ``x`` being block ``start - 1``'s output (e.g. another
        readout's last layer on the hidden spikes a first forward recorded).

        Returns the last layer's spikes, or its voltage for the integrator readout. Each
        weight block is ``neuron(synapse(x))`` then SLAYER's one-step delay; the integrator
        readout is the neuron's voltage (no spikes, no delay). The neuron runs on
        :attr:`neuron_engine`."""
        native = self.neuron_engine == "torch"
        last_weight = max(i for i, b in enumerate(self.blocks) if hasattr(b, "neuron"))
        for i, block in enumerate(self.blocks):
            if i < start:
                continue
            if i == len(self.blocks) - 1 and self.readout == "integrator":
                z = block.synapse(x)
                _, x = neuron_dynamics(block.neuron, z) if native else block.neuron.dynamics(z)
            elif native and hasattr(block, "neuron"):
                x = block_forward(block, x)
            else:
                x = block(x)
            if record is not None:
                record.append(x)
            if self.training and self.dropout > 0 and hasattr(block, "neuron") \
                    and i < last_weight:
                keep = torch.rand(x.shape[:-1] + (1,), device=x.device) >= self.dropout
                x = x * keep / (1.0 - self.dropout)
        return x

    def scores(self, out: torch.Tensor) -> torch.Tensor:
        """Class scores ``(N, classes)`` from the forward's output: spike counts, or the
        integrator's last voltage."""
        return out[..., -1] if self.readout == "integrator" else out.sum(-1)

    def thresholds(self) -> list[float]:
        """Learned threshold per weight layer, in the units of the raw weights."""
        return [float(b.synapse.pre_hook_fx.theta.detach()) for b in self.weight_blocks]

    def leaks(self) -> list[float]:
        """Learned leak ``lambda = 1 - voltage_decay`` per weight layer (as quantised)."""
        return [1.0 - float(torch.round(b.neuron.voltage_decay).item()) / b.neuron.p_scale
                for b in self.weight_blocks]

    def clamp(self) -> None:
        """Keep leaks in [0, 1] (SLAYER's own decay clamp); call after each optimiser step."""
        for block in self.weight_blocks:
            block.neuron.clamp()

    @property
    def delay(self) -> int:
        """Steps from input to output (one per weight layer, SLAYER's ``delay_shift``)."""
        return len(self.weight_blocks)

    def export_hdf5(self, path: str | Path) -> Path:
        """Write the network as a netx ``.net`` (learned thresholds folded into the weights)."""
        if self.weight_blocks[0].neuron.shape is None:
            with torch.no_grad():
                self(torch.zeros(1, *self.input_shape, 1))
        return export_blocks(self.blocks, path)

    def export_nir(self, path: str | Path, dt: float = 1e-4,
                   zero_decay: str = "cubalif") -> Path:
        """Write the network as a NIR graph (``.nir``), time constants in seconds for a step
        of ``dt`` seconds (see :mod:`lava_thesis.deploy.nir_export`). The integrator readout is
        exported as ``readout="affine"``: the graph outputs the readout's input current, whose
        running sum (:func:`lava_thesis.deploy.nir_neurons.integrate_readout`) is the voltage;
        snnTorch and Norse run that graph, neither runs NIR's ``LI``/``I`` nodes. A layer
        without leak (the hybrid method's integrate-and-fire twin) is written, by default, as a
        ``CubaLIF`` both clients run (``zero_decay="cubalif"``); ``"exact"`` writes NIR's
        ``IF`` node, which snnTorch 1.0 refuses."""
        from lava_thesis.deploy.nir_export import export_nir

        readout = "affine" if self.readout == "integrator" else "spikes"
        export_nir(self.blocks, path, input_shape=self.input_shape, dt=dt, readout=readout,
                   zero_decay=zero_decay)
        return Path(path)


def load_diet(path: str | Path, neuron_engine: str | None = None) -> DietSNN:
    """Rebuild a trained DIET-SNN from the ``.pt`` checkpoint written by ``train diet``
    (``neuron_engine`` as in :func:`load_checkpoint`)."""
    return load_checkpoint(path, neuron_engine)[0]


def load_checkpoint(path: str | Path,
                    neuron_engine: str | None = None) -> tuple[DietSNN, int]:
    """:func:`load_diet` and the number of input steps T the network was trained at (5 for
    checkpoints that predate the ``num_steps`` field).

    ``neuron_engine`` (one of :data:`NEURON_ENGINES`) runs the loaded network on that engine;
    by default on the checkpoint's ``neuron_engine``, or ``"torch"`` for checkpoints without
    one. The engines give identical outputs, so any checkpoint runs on either.

    The checkpoint is checked before and while the network is built: the keys ``spec``,
    ``input_shape`` and ``state_dict``; a spec that parses (:func:`parse_spec`) into layers of
    positive sizes; ``input_shape`` of positive ints (at most :data:`MAX_INPUT` values);
    ``readout`` one of :data:`READOUTS`; ``neuron_engine`` one of :data:`NEURON_ENGINES`;
    ``num_steps`` an int in ``[1, MAX_STEPS]``
    (:data:`lava_thesis.model_check.MAX_STEPS`); every tensor finite with the shape the spec's
    network needs.
    Raises ``ValueError`` for an unknown ``neuron_engine`` argument, ``FileNotFoundError``
    when ``path`` is missing and
    :class:`~lava_thesis.errors.ModelFileError` naming the file otherwise (also for a file
    torch cannot read; loading stays ``weights_only``, so a checkpoint cannot run code).
    """
    if neuron_engine is not None and neuron_engine not in NEURON_ENGINES:
        raise ValueError(f"neuron_engine must be one of {NEURON_ENGINES}, got {neuron_engine!r}")
    path = Path(path)
    ckpt = require_keys(path, load_torch(path, CKPT_EXPECTED), ("spec", "input_shape",
                                                                 "state_dict"), CKPT_EXPECTED)
    spec, shape = ckpt["spec"], ckpt["input_shape"]
    readout, steps = ckpt.get("readout", "spikes"), ckpt.get("num_steps", 5)
    saved_engine = ckpt.get("neuron_engine", "torch")

    def bad(problem: str) -> ModelFileError:
        return ModelFileError(path, problem, CKPT_EXPECTED)

    if not isinstance(spec, (list, tuple)) or not all(isinstance(x, str) for x in spec):
        raise bad(f"'spec' is {spec!r}, not a list of layer strings")
    if not isinstance(shape, (list, tuple)) or len(shape) not in (1, 3) or not all(
            isinstance(d, int) and not isinstance(d, bool) and d >= 1 for d in shape):
        raise bad(f"'input_shape' is {shape!r}, not (C,) or (C, H, W) of positive ints")
    if math.prod(shape) > MAX_INPUT:  # the network is built with one such input
        raise bad(f"'input_shape' {list(shape)} has {math.prod(shape)} values, more than "
                  f"{MAX_INPUT}")
    if readout not in READOUTS:
        raise bad(f"'readout' is {readout!r}, not one of {READOUTS}")
    if not isinstance(saved_engine, str) or saved_engine not in NEURON_ENGINES:
        raise bad(f"'neuron_engine' is {saved_engine!r}, not one of {NEURON_ENGINES}")
    require_steps(path, "'num_steps'", steps, CKPT_EXPECTED)
    try:
        layers = parse_spec(spec, tuple(shape))
    except (ValueError, ZeroDivisionError) as err:
        raise bad(f"'spec' {list(spec)} does not parse: {err}") from err
    for i, (_, c_in, c_out, k, s, out) in enumerate(layers):
        if min(c_in, c_out, k, s, *out) < 1:
            raise bad(f"'spec' layer {i} ({spec[i]!r}) has a zero size (in {c_in}, out "
                      f"{out}, kernel {k}, stride {s})")
    state = require_state_dict(path, ckpt["state_dict"], CKPT_EXPECTED)
    needed = sum((1 if kind == "pool" else c_in * c_out) * k * k
                 for kind, c_in, c_out, k, _, _ in layers if kind != "flatten")
    held = sum(t.numel() for t in state.values())
    if needed > held:  # checked before building: a bad spec must not allocate a huge network
        raise bad(f"'spec' {list(spec)} needs {needed} weights, the state_dict holds {held} "
                  "values")
    net = DietSNN(spec, tuple(shape), readout=readout,  # older checkpoints: spike counts
                  neuron_engine=neuron_engine or saved_engine)
    with torch.no_grad():  # SLAYER sets neuron shapes on the first forward
        net(torch.zeros(1, *net.input_shape, 1))
    load_state(path, net, state, CKPT_EXPECTED)
    return net, steps
