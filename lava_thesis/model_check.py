"""Checks every model file passes before anything is built from it.

The loaders of ``.h5`` STDP and multimodal networks, netx ``.net`` files and ``.pt``
checkpoints read their files through these helpers. Each check raises
:class:`~lava_thesis.errors.ModelFileError` naming the file, the dataset or key and what a
valid file holds; errors of h5py and torch (not an HDF5 file, truncated file, unpickling
refused) are wrapped the same way, so a bad model file never surfaces as a raw library error.

Example:
    >>> import numpy as np
    >>> require_range("m.h5", "mask", np.array([0.0, 2.0]), 0, 1, expected="a 0/1 mask")
    Traceback (most recent call last):
    ...
    lava_thesis.errors.ModelFileError: m.h5: dataset 'mask' holds 2.0, outside [0, 1] \
(expected a 0/1 mask)
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import pickle
import warnings
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from lava_thesis.errors import ModelFileError

#: errors h5py raises on damaged content (truncated data, broken object headers)
H5_ERRORS = (OSError, KeyError, RuntimeError)
#: the largest dataset read from a model file (its declared size, checked before reading: a
#: chunked or compressed dataset can declare far more than the file holds)
MAX_DATASET_BYTES = 2**29
#: the largest magnitude of a checkpoint's parameters; trained weights, thresholds and
#: 12-bit decays stay far below it, larger values overflow float32 in a forward pass
MAX_PARAMETER = 1e6
#: the most time steps per sample a model file may ask for (its forward pass allocates them)
MAX_STEPS = 10_000


@contextlib.contextmanager
def open_h5(path: str | os.PathLike, expected: str) -> Iterator[h5py.File]:
    """Open an HDF5 model file for reading; h5py's errors become :class:`ModelFileError`.

    Raises ``FileNotFoundError`` when ``path`` does not exist, ``ModelFileError`` when it is
    not HDF5 ("file signature not found"), is truncated, or an object cannot be read while the
    file is open.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such model file")
    try:
        handle = h5py.File(path, "r")
    except OSError as err:
        raise ModelFileError(path, f"not a readable HDF5 file ({err})", expected) from err
    try:
        yield handle
    except H5_ERRORS as err:
        raise ModelFileError(path, f"damaged HDF5 content ({err})", expected) from err
    finally:
        handle.close()


def h5_name(node: h5py.Group | h5py.Dataset, name: str = "") -> str:
    """``node``'s path in its file joined with ``name``, without a leading or trailing slash
    (``"layer/0/weight"``), for error messages."""
    return "/".join(part for part in (node.name.strip("/"), name) if part)


def require_group(parent: h5py.Group, name: str, path: str | os.PathLike,
                  expected: str) -> h5py.Group:
    """The group ``parent[name]``, or a :class:`ModelFileError` naming the missing group."""
    node = parent.get(name)
    if not isinstance(node, h5py.Group):
        what = "missing" if node is None else "not a group"
        raise ModelFileError(path, f"group {h5_name(parent, name)!r} {what}", expected)
    return node


def require_dataset(parent: h5py.Group, name: str, path: str | os.PathLike, expected: str, *,
                    kinds: str = "fiub", shape: Sequence[int | None] | None = None
                    ) -> np.ndarray:
    """Read the dataset ``parent[name]`` after checking it exists, its dtype and its shape.

    Parameters
    ----------
    kinds:
        Accepted numpy dtype kinds: ``f`` float, ``i``/``u`` signed/unsigned int, ``b`` bool,
        ``S``/``O`` byte strings.
    shape:
        Required shape; ``None`` entries accept any length along that axis.
    """
    node = parent.get(name)
    where = h5_name(parent, name)
    if not isinstance(node, h5py.Dataset):
        what = "missing" if node is None else "not a dataset"
        raise ModelFileError(path, f"dataset {where!r} {what}", expected)
    if node.dtype.kind not in kinds:
        raise ModelFileError(path, f"dataset {where!r} has dtype {node.dtype}, "
                                   f"expected one of kinds {kinds!r}", expected)
    if shape is not None and (len(node.shape) != len(shape) or any(
            want is not None and got != want for got, want in zip(node.shape, shape, strict=True))):
        want = tuple("any" if s is None else s for s in shape)
        raise ModelFileError(path, f"dataset {where!r} has shape {node.shape}, "
                                   f"expected {want}", expected)
    if node.size * node.dtype.itemsize > MAX_DATASET_BYTES:
        raise ModelFileError(path, f"dataset {where!r} declares shape {node.shape} "
                                   f"({node.size * node.dtype.itemsize} bytes), more than "
                                   f"{MAX_DATASET_BYTES} bytes", expected)
    try:
        return np.asarray(node[()])
    except H5_ERRORS as err:
        raise ModelFileError(path, f"dataset {where!r} cannot be read ({err})", expected) from err


def require_finite(path: str | os.PathLike, name: str, array: Any, expected: str) -> None:
    """Every value of ``array`` is a finite number (no NaN, no infinity, no string)."""
    values = _numbers(path, name, array, expected)
    bad = ~np.isfinite(values)
    if bad.any():
        first = values[bad].reshape(-1)[0]
        raise ModelFileError(path, f"{_label(name)} holds {int(bad.sum())} non-finite "
                                   f"value(s), e.g. {first}", expected)


def require_range(path: str | os.PathLike, name: str, array: Any, lo: float | None = None,
                  hi: float | None = None, *, expected: str, hi_open: bool = False) -> None:
    """Every value ``v`` of ``array`` is finite with ``lo <= v <= hi`` (``v < hi`` when
    ``hi_open``); ``None`` leaves that side open."""
    require_finite(path, name, array, expected)
    values = _numbers(path, name, array, expected).reshape(-1)
    if values.size == 0:
        return
    low = lo is not None and values.min() < lo
    high = hi is not None and (values.max() >= hi if hi_open else values.max() > hi)
    if low or high:
        worst = values.min() if low else values.max()
        interval = (f"[{_num(lo) if lo is not None else '-inf'}, "
                    f"{_num(hi) if hi is not None else 'inf'}{')' if hi_open else ']'}")
        raise ModelFileError(path, f"{_label(name)} holds {worst}, outside {interval}", expected)


def require_values(path: str | os.PathLike, name: str, array: Any, allowed: Sequence[float],
                   expected: str) -> None:
    """Every value of ``array`` is one of ``allowed`` (e.g. a 0/1 mask)."""
    values = np.asarray(array)
    bad = ~np.isin(values, allowed)
    if bad.any():
        raise ModelFileError(path, f"{_label(name)} holds {values[bad].reshape(-1)[0]}, not one "
                                   f"of {list(allowed)}", expected)


def require_scalar(path: str | os.PathLike, name: str, value: Any, expected: str, *,
                   lo: float | None = None, hi: float | None = None,
                   integer: bool = False) -> float:
    """A single finite number (a 0-d or 1-element array is accepted) in ``[lo, hi]``;
    ``integer``: it must also be a whole number. Returns it as a float."""
    array = np.asarray(value)
    if array.size != 1 or array.dtype.kind not in "fiub":
        raise ModelFileError(path, f"{_label(name)} is {value!r}, not a single number", expected)
    number = float(array.reshape(-1)[0])
    require_range(path, name, number, lo, hi, expected=expected)
    if integer and number != round(number):
        raise ModelFileError(path, f"{_label(name)} is {number}, not a whole number", expected)
    return number


def require_json_attr(obj: h5py.HLObject, name: str, path: str | os.PathLike,
                      expected: str) -> dict:
    """The attribute ``obj.attrs[name]`` parsed as a JSON object."""
    where = h5_name(obj, name).replace("/", ".") if obj.name != "/" else name
    if name not in obj.attrs:
        raise ModelFileError(path, f"attribute {where!r} missing", expected)
    try:
        data = json.loads(obj.attrs[name])
    except (TypeError, ValueError, RecursionError) as err:
        raise ModelFileError(path, f"attribute {where!r} is not JSON ({err})", expected) from err
    if not isinstance(data, dict):
        raise ModelFileError(path, f"attribute {where!r} is not a JSON object", expected)
    return data


def require_params(path: str | os.PathLike, name: str, data: Mapping, cls: type,
                   expected: str) -> Any:
    """Build the frozen parameter dataclass ``cls`` from ``data`` after checking the types:
    a field whose default is an int needs an int, a bool field a bool, a float field a finite
    number. The class's own range checks then run; their errors are wrapped too."""
    for field in dataclasses.fields(cls):
        if field.name not in data:
            continue
        value, default = data[field.name], field.default
        if isinstance(default, bool):
            ok, want = isinstance(value, bool), "true or false"
        elif isinstance(default, int):
            ok = isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2**63
            want = "an integer (64-bit)"
        elif isinstance(default, float):
            ok = isinstance(value, (int, float)) and not isinstance(value, bool) \
                and _finite_float(value)
            want = "a finite number"
        elif isinstance(default, str):
            ok, want = isinstance(value, str), "a string"
        else:
            continue
        if not ok:
            raise ModelFileError(path, f"{name}.{field.name} is {value!r}, expected {want}",
                                 expected)
    try:
        return cls.from_dict(dict(data)) if hasattr(cls, "from_dict") else cls(**data)
    except (ValueError, TypeError, OverflowError) as err:
        raise ModelFileError(path, f"bad {name}: {err}", expected) from err


def load_torch(path: str | os.PathLike, expected: str) -> Any:
    """``torch.load(path, weights_only=True)`` on the CPU; a file torch cannot read (not a
    checkpoint, truncated, or holding objects the safe unpickler refuses) raises
    :class:`ModelFileError`. ``weights_only=True`` stays: a checkpoint cannot run code."""
    import torch

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such model file")
    try:
        with warnings.catch_warnings():  # a stray line on stderr; the error says what is wrong
            warnings.filterwarnings("ignore", message="Detected pickle protocol")
            return torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, zipfile.BadZipFile, EOFError, RuntimeError, OSError,
            ValueError, AttributeError, ImportError, KeyError, IndexError, TypeError) as err:
        reason = _torch_load_reason(err)
        raise ModelFileError(path, f"not a readable torch checkpoint ({reason})",
                             expected) from err


def _torch_load_reason(err: BaseException) -> str:
    """One line on why ``torch.load`` refused a file. torch's safe-unpickler message wraps the
    reason in advice to load with ``weights_only=False`` (which would run the file's code),
    allowlisting hints and a documentation link; only the reason is kept."""
    text = str(err)
    if "WeightsUnpickler error:" in text:
        text = text.split("WeightsUnpickler error:", 1)[1]
    boiler = ("Weights only load failed", "Please file an issue", "Check the documentation",
              "(1)", "(2)")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    kept = " ".join(line for line in lines if not line.startswith(boiler))
    kept = kept.split(" Please use", 1)[0].strip()
    return kept or type(err).__name__


def require_keys(path: str | os.PathLike, data: Any, keys: Sequence[str],
                 expected: str) -> Mapping:
    """``data`` is a mapping holding every one of ``keys``."""
    if not isinstance(data, Mapping):
        raise ModelFileError(path, f"holds a {type(data).__name__}, not a dict", expected)
    missing = [k for k in keys if k not in data]
    if missing:
        raise ModelFileError(path, f"missing keys {missing}", expected)
    return data


def require_state_dict(path: str | os.PathLike, state: Any, expected: str,
                       name: str = "state_dict") -> Mapping:
    """``state`` is a ``{str: Tensor}`` mapping whose floating tensors are all finite, with
    magnitudes up to :data:`MAX_PARAMETER`."""
    import torch

    if not isinstance(state, Mapping) or not all(isinstance(k, str) for k in state):
        raise ModelFileError(path, f"{name} is not a dict of named tensors", expected)
    for key, value in state.items():
        if not isinstance(value, torch.Tensor):
            raise ModelFileError(path, f"{name}[{key!r}] is a {type(value).__name__}, "
                                       "not a tensor", expected)
        if value.is_floating_point() and not bool(torch.isfinite(value).all()):
            raise ModelFileError(path, f"{name}[{key!r}] holds "
                                       f"{int((~torch.isfinite(value)).sum())} non-finite "
                                       "value(s)", expected)
        if value.is_floating_point() and value.numel() and (
                float(value.abs().max()) > MAX_PARAMETER):
            raise ModelFileError(path, f"{name}[{key!r}] holds {float(value.abs().max()):g}, "
                                       f"beyond +-{MAX_PARAMETER:g}", expected)
    return state


def load_state(path: str | os.PathLike, module: Any, state: Any, expected: str) -> None:
    """Check ``state`` (finite tensors, the module's keys and shapes) and load it into
    ``module``; every mismatch raises :class:`ModelFileError` naming the parameter."""
    state = require_state_dict(path, state, expected)
    own = module.state_dict()
    missing = [k for k in own if k not in state]
    extra = [k for k in state if k not in own]
    if missing or extra:
        raise ModelFileError(path, f"parameters do not match the model: missing {missing[:5]}, "
                                   f"unexpected {extra[:5]}", expected)
    for key, value in own.items():
        if tuple(state[key].shape) != tuple(value.shape):
            raise ModelFileError(path, f"parameter {key!r} has shape {tuple(state[key].shape)}, "
                                       f"the model needs {tuple(value.shape)}", expected)
    try:
        module.load_state_dict(state)
    except (RuntimeError, ValueError, TypeError) as err:
        raise ModelFileError(path, f"parameters do not load ({err})", expected) from err


def nonfinite_parameters(blocks: Sequence[Any]) -> list[str]:
    """``"block i (Type) parameter name: k non-finite value(s)"`` for every floating
    parameter or buffer of the torch ``blocks`` holding NaN or infinity (empty: all finite)."""
    import torch

    found = []
    for i, block in enumerate(blocks):
        tensors = list(block.named_parameters()) + list(block.named_buffers())
        for name, value in tensors:
            if isinstance(value, torch.Tensor) and value.is_floating_point():
                bad = int((~torch.isfinite(value.detach())).sum())
                if bad:
                    found.append(f"block {i} ({type(block).__name__}) parameter {name!r}: "
                                 f"{bad} non-finite value(s)")
    return found


def require_finite_blocks(path: str | os.PathLike, blocks: Sequence[Any]) -> None:
    """Refuse to export ``blocks`` to ``path`` when a parameter or buffer is not finite
    (a diverged training): :class:`ModelFileError` naming the first such block and parameter."""
    found = nonfinite_parameters(blocks)
    if found:
        more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        raise ModelFileError(path, f"refusing to export: {found[0]}{more}",
                             "finite weights and neuron parameters")


def require_steps(path: str | os.PathLike, name: str, value: Any, expected: str) -> int:
    """A number of time steps per sample: an int (not a bool) in ``[1, MAX_STEPS]``."""
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_STEPS:
        raise ModelFileError(path, f"{name} is {value!r}, not an integer in [1, {MAX_STEPS}]",
                             expected)
    return value


def _numbers(path: str | os.PathLike, name: str, array: Any, expected: str) -> np.ndarray:
    """``array`` as float64; a value that is not a number raises :class:`ModelFileError`."""
    try:
        return np.asarray(array, dtype=np.float64)
    except (TypeError, ValueError, OverflowError) as err:
        raise ModelFileError(path, f"{_label(name)} is not numeric ({err})", expected) from err


def _finite_float(value: int | float) -> bool:
    try:
        return math.isfinite(value)
    except OverflowError:  # an int beyond float's range
        return False


def _label(name: str) -> str:
    return name if " " in name else f"dataset {name!r}"


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)
