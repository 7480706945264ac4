"""A small fully connected CUBA-LIF network in lava-dl SLAYER: train, export, deploy.

The smallest end-to-end path of the library, used by ``lava-thesis demo``: rate-coded MNIST
spikes ``(N, 784, T)`` -> Dense(784, hidden) CUBA-LIF -> Dense(hidden, 10) CUBA-LIF, trained
with SLAYER's spike-rate loss, exported to a netx ``.net`` and run in Lava.

Each block keeps SLAYER's ``delay_shift=True`` (one step of delay per layer, as Lava's Dense
synapses have), so input samples are padded with ``len(blocks)`` silent steps: the whole
response then fits in the sample window, in SLAYER and in Lava alike.

Example
-------
>>> net = DenseSNN(hidden=32)
>>> net(torch.zeros(2, 784, 8)).shape
torch.Size([2, 10, 8])
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

import lava_thesis  # noqa: F401  (Lava compatibility fixes before lava.lib.dl)
from lava_thesis.deploy.netx_export import export_blocks

NEURON_PARAMS = {
    "threshold": 1.25,
    "current_decay": 0.25,
    "voltage_decay": 0.03,
    # SLAYER's tutorial surrogate (tau_grad=0.03) is too narrow to train this net in a few
    # epochs; a wider one (measured on the shipped subset) learns ~4x faster.
    "tau_grad": 0.5,
    "scale_grad": 1.0,
    "requires_grad": False,
}


#: how a block's neuron runs: our torch-native CUBA kernel or lava-dl SLAYER's own neuron
NEURON_ENGINES = ("torch", "slayer")


class DenseSNN(torch.nn.Module):
    """``n_in -> hidden -> n_out`` CUBA-LIF network of SLAYER Dense blocks.

    Input and output are spike tensors ``(N, C, T)``. ``neuron_engine="torch"`` (the default)
    runs each block through :func:`lava_thesis.slayer_ext.cuba.block_forward`: the same spikes
    as SLAYER's neuron bit for bit, pure torch on the CPU or CUDA (SLAYER's CUDA neuron
    compiles a ``.cu`` file with nvcc on first use); ``"slayer"`` runs SLAYER's blocks as
    they are. The blocks, and so the netx export, are SLAYER's either way.
    """

    def __init__(
        self, n_in: int = 784, hidden: int = 128, n_out: int = 10,
        neuron_params: dict | None = None, neuron_engine: str = "torch",
    ) -> None:
        super().__init__()
        from lava.lib.dl import slayer

        if neuron_engine not in NEURON_ENGINES:
            raise ValueError(f"neuron_engine must be one of {NEURON_ENGINES}, got "
                             f"{neuron_engine!r}")
        self.neuron_engine = neuron_engine

        params = dict(NEURON_PARAMS if neuron_params is None else neuron_params)
        with warnings.catch_warnings():  # slayer uses torch's deprecated weight_norm
            warnings.filterwarnings("ignore", message=".*weight_norm", category=FutureWarning)
            self.blocks = torch.nn.ModuleList([
                slayer.block.cuba.Dense(params, n_in, hidden, weight_norm=True),
                slayer.block.cuba.Dense(params, hidden, n_out, weight_norm=True),
            ])

    def forward(self, spikes: torch.Tensor) -> torch.Tensor:
        from lava_thesis.slayer_ext.cuba import block_forward

        for block in self.blocks:
            spikes = block_forward(block, spikes) if self.neuron_engine == "torch" \
                else block(spikes)
        return spikes

    def export_hdf5(self, path: str | Path) -> Path:
        """Write the network as a netx ``.net`` file."""
        if self.blocks[0].neuron.shape is None:  # SLAYER learns layer shapes on first forward
            with torch.no_grad():
                self(torch.zeros(1, self.blocks[0].synapse.in_channels, 1))
        return export_blocks(self.blocks, path)

    def export_nir(self, path: str | Path, dt: float = 1e-4) -> Path:
        """Write the network as a NIR graph (``.nir``): ``Affine`` + ``CubaLIF`` per block, time
        constants in seconds for a step of ``dt`` seconds, output spikes as the readout (see
        :mod:`lava_thesis.deploy.nir_export`); snnTorch and Norse import and run it."""
        from lava_thesis.deploy.nir_export import export_nir

        export_nir(self.blocks, path, input_shape=(self.blocks[0].synapse.in_channels,), dt=dt)
        return Path(path)


def pad_steps(spikes: np.ndarray | torch.Tensor, steps: int):
    """Append ``steps`` silent time steps to ``(N, C, T)`` spikes."""
    if isinstance(spikes, torch.Tensor):
        return torch.nn.functional.pad(spikes, (0, steps))
    return np.pad(spikes, ((0, 0), (0, 0), (0, steps)))


def train(
    net: DenseSNN,
    spikes: np.ndarray,
    labels: np.ndarray,
    *,
    epochs: int = 5,
    batch_size: int = 32,
    lr: float = 1e-2,
    seed: int = 0,
    on_epoch: Callable[[int, float], None] | None = None,
    device: str | torch.device = "cpu",
) -> list[float]:
    """Train with SLAYER's spike-rate loss; return the training accuracy per epoch.

    ``spikes`` is ``(N, C, T)`` (already padded), ``labels`` ``(N,)``. ``device``: where the
    network is moved and each batch is computed (the data stay on the CPU between batches).
    """
    from lava.lib.dl import slayer

    device = torch.device(device)
    net.to(device)
    gen = torch.Generator().manual_seed(seed)
    x_all = torch.as_tensor(spikes, dtype=torch.float32)
    y_all = torch.as_tensor(labels, dtype=torch.long)
    loss_fn = slayer.loss.SpikeRate(true_rate=0.8, false_rate=0.03, reduction="sum")
    optim = torch.optim.Adam(net.parameters(), lr=lr)
    history = []
    for epoch in range(epochs):
        net.train()
        order = torch.randperm(len(y_all), generator=gen)
        correct = 0
        for start in tqdm(range(0, len(order), batch_size), desc=f"epoch {epoch + 1}",
                          leave=False, disable=None):
            idx = order[start:start + batch_size]
            target = y_all[idx].to(device)
            out = net(x_all[idx].to(device))
            loss = loss_fn(out, target)
            optim.zero_grad()
            loss.backward()
            optim.step()
            correct += int((out.sum(-1).argmax(1) == target).sum())
        history.append(correct / len(y_all))
        if on_epoch is not None:
            on_epoch(epoch, history[-1])
    return history


@torch.no_grad()
def output_spikes(net: DenseSNN, spikes: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Forward in evaluation mode on the network's device: ``(N, C, T)`` -> ``(N, n_out, T)``
    numpy."""
    net.eval()
    device = next(net.parameters()).device
    x = torch.as_tensor(spikes, dtype=torch.float32)
    return torch.cat([net(x[i:i + batch_size].to(device)).cpu()
                      for i in range(0, len(x), batch_size)]).numpy()


def predict(out_spikes: np.ndarray) -> np.ndarray:
    """Class = the output neuron with most spikes (ties: the lowest index)."""
    return np.asarray(out_spikes).sum(-1).argmax(1)
