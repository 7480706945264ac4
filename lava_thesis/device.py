"""Where gradient training runs: the device (``cpu``, ``cuda``, ``cuda:N`` or ``auto``), mixed
precision (AMP) and deterministic algorithms.

Only the CPU paths are exercised by the tests (the development machine has no GPU); the CUDA
paths follow PyTorch's documented API but are untested here.

Example
-------
>>> resolve_device("cpu")
device(type='cpu')
>>> check_amp("off", resolve_device("cpu")) is None
True
"""

from __future__ import annotations

import contextlib
import os

import torch

DEVICES = ("cpu", "cuda", "auto")
AMP_MODES = ("off", "bf16", "fp16")


class DeviceError(ValueError):
    """A requested device or precision is not available on this machine (a user error: the
    command line prints it as one line and exits with code 2)."""


def resolve_device(name: str, local_rank: int | None = None) -> torch.device:
    """The ``torch.device`` for ``name``.

    ``"cpu"``; ``"cuda"`` (GPU ``local_rank`` when given, the process's rank on its node under
    ``torchrun``, else GPU 0); ``"cuda:N"``; ``"auto"``: ``cuda`` when CUDA is available,
    else ``cpu``. Raises :class:`DeviceError` for an unknown name or a CUDA device on a
    machine without CUDA (or without that many GPUs).
    """
    name = str(name).strip().lower()
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cpu":
        return torch.device("cpu")
    if name != "cuda" and not name.startswith("cuda:"):
        raise DeviceError(f"--device must be one of {', '.join(DEVICES)} or cuda:N, got {name!r}")
    if not torch.cuda.is_available():
        raise DeviceError(f"--device {name}: CUDA is not available on this machine (torch "
                          f"{torch.__version__}); use --device cpu or --device auto")
    if name == "cuda":
        index = 0 if local_rank is None else local_rank
    else:
        try:
            index = int(name.split(":", 1)[1])
        except ValueError:
            raise DeviceError(f"--device {name}: expected cuda:N with an integer N") from None
    if not 0 <= index < torch.cuda.device_count():
        raise DeviceError(f"--device {name}: GPU {index} requested, this machine has "
                          f"{torch.cuda.device_count()}")
    return torch.device("cuda", index)


def check_amp(amp: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype for ``amp`` (``"off"``: None, ``"bf16"``, ``"fp16"``) on ``device``.

    Mixed precision is offered on CUDA only; raises :class:`DeviceError` for ``bf16``/``fp16``
    on the CPU (or an unknown mode)."""
    if amp not in AMP_MODES:
        raise DeviceError(f"--amp must be one of {', '.join(AMP_MODES)}, got {amp!r}")
    if amp == "off":
        return None
    if device.type != "cuda":
        raise DeviceError(f"--amp {amp} needs a CUDA device (got --device {device.type}); "
                          "mixed precision is not offered on the CPU: use --amp off")
    return torch.bfloat16 if amp == "bf16" else torch.float16


def autocast(device: torch.device, dtype: torch.dtype | None):
    """A context that runs its forward in ``dtype`` (``torch.autocast``), or does nothing when
    ``dtype`` is None."""
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


def set_deterministic(enabled: bool) -> None:
    """Ask PyTorch for deterministic algorithms (``torch.use_deterministic_algorithms``); an
    operation without a deterministic implementation then raises instead of running. On CUDA
    this also needs ``CUBLAS_WORKSPACE_CONFIG`` (set to ``:4096:8`` unless already set) and
    turns cuDNN's benchmark mode off."""
    if enabled:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.backends.cudnn.benchmark = False
    torch.use_deterministic_algorithms(enabled)
