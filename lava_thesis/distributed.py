"""Multi-process data parallel training with ``torch.distributed``: the process-group helpers.

One process per device (``torchrun --nproc_per_node N ...`` sets ``RANK``, ``WORLD_SIZE``,
``LOCAL_RANK``, ``MASTER_ADDR`` and ``MASTER_PORT``). Every rank holds the same model;
:class:`torch.nn.parallel.DistributedDataParallel` averages the gradients, so a step on ``N``
ranks with ``b`` samples each is a step on the global batch of ``N b`` samples. Evaluation sets
are split into disjoint shards (:func:`shard`) whose counts are summed (:func:`all_reduce_sum`):

.. math::
    \\mathrm{accuracy} = \\frac{\\sum_r \\mathrm{correct}_r}{\\sum_r \\mathrm{count}_r}

Only rank 0 (:func:`is_main`) writes files. Backend: ``nccl`` on GPUs, ``gloo`` on the CPU.
Without an initialised process group every helper acts as for a single process (rank 0 of 1).
"""

from __future__ import annotations

import os
from datetime import timedelta

import numpy as np
import torch
import torch.distributed as dist

ENV_VARS = ("RANK", "WORLD_SIZE", "LOCAL_RANK")
#: how long a rank waits for the others at a collective (rank 0 alone runs Lava after training)
TIMEOUT = timedelta(hours=2)


def launched_by_torchrun() -> bool:
    """True when ``RANK`` and ``WORLD_SIZE`` are set (``torchrun`` sets them for each rank)."""
    return all(v in os.environ for v in ENV_VARS[:2])


def is_initialized() -> bool:
    """True when a process group is running (this process is one rank of several)."""
    return dist.is_available() and dist.is_initialized()


def rank() -> int:
    """This process's rank (0 without a process group)."""
    return dist.get_rank() if is_initialized() else 0


def world_size() -> int:
    """Number of ranks (1 without a process group)."""
    return dist.get_world_size() if is_initialized() else 1


def is_main() -> bool:
    """True on rank 0, the only rank that writes results, checkpoints and model files."""
    return rank() == 0


def backend_for(device: torch.device) -> str:
    """``nccl`` for CUDA devices, ``gloo`` for the CPU."""
    return "nccl" if device.type == "cuda" else "gloo"


def init(device: torch.device, *, rank: int | None = None, world_size: int | None = None,
         init_method: str = "env://", timeout: timedelta = TIMEOUT) -> None:
    """Join the process group (backend from ``device``, :func:`backend_for`).

    Without ``rank``/``world_size`` they come from the environment (``RANK``, ``WORLD_SIZE``,
    with ``MASTER_ADDR``/``MASTER_PORT`` for ``env://``), as ``torchrun`` sets them. Raises
    ``ValueError`` when they are missing. On CUDA the process's current GPU is set to
    ``device``."""
    if rank is None or world_size is None:
        missing = [v for v in ENV_VARS[:2] if v not in os.environ]
        if missing:
            raise ValueError(f"--distributed needs the environment variables {missing} (run "
                             "with torchrun --nproc_per_node N ...)")
        rank, world_size = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    if device.type == "cuda":
        torch.cuda.set_device(device)
    dist.init_process_group(backend_for(device), init_method=init_method, rank=rank,
                            world_size=world_size, timeout=timeout)


def local_rank() -> int | None:
    """``LOCAL_RANK`` from the environment (the GPU index on this node), or None."""
    value = os.environ.get("LOCAL_RANK")
    return None if value is None else int(value)


def all_reduce_sum(values: torch.Tensor) -> torch.Tensor:
    """The element-wise sum of ``values`` over all ranks (in place, also returned); ``values``
    unchanged without a process group. Under ``nccl`` a CPU tensor is reduced through the
    rank's GPU and copied back."""
    if not is_initialized():
        return values
    if dist.get_backend() == "nccl" and values.device.type != "cuda":
        on_gpu = values.to(torch.device("cuda", torch.cuda.current_device()))
        dist.all_reduce(on_gpu, op=dist.ReduceOp.SUM)
        return values.copy_(on_gpu)
    dist.all_reduce(values, op=dist.ReduceOp.SUM)
    return values


def barrier() -> None:
    """Wait until every rank gets here (nothing without a process group)."""
    if is_initialized():
        dist.barrier()


def cleanup() -> None:
    """Leave the process group (nothing without one)."""
    if is_initialized():
        dist.destroy_process_group()


def shard(n: int, rank_: int | None = None, world: int | None = None) -> np.ndarray:
    """Indices ``rank, rank + world, ...`` of ``n`` samples: disjoint shards that together
    cover every sample exactly once (unlike ``DistributedSampler``, which pads with repeats).

    >>> shard(5, 1, 2).tolist()
    [1, 3]
    """
    rank_ = rank() if rank_ is None else rank_
    world = world_size() if world is None else world
    return np.arange(rank_, n, world)
