"""A restricted unpickler for CIFAR batches: dicts, lists, bytes, ints and plain numpy arrays.

Two stages, neither of which runs code from the file or lets it size an allocation:

1. :func:`prescan` walks the opcodes (``pickletools.genops``) over the in-memory bytes: every
   length a string/bytes opcode declares must really follow, and memo indices must be the
   sequential ones a pickler writes (a ``LONG_BINPUT 4e9`` would otherwise make the C
   unpickler allocate a memo table of that size).
2. :func:`load_restricted` unpickles with a ``find_class`` that knows five globals, each
   replaced by a safe stand-in: numpy's ``_reconstruct`` / ``ndarray`` / ``dtype`` /
   ``scalar`` never see the file's data; the stand-ins collect shape, dtype and raw bytes,
   check ``len(raw) == prod(shape) * itemsize`` and build the array with ``np.frombuffer``
   (so no zero-stride or oversized view can come out), and ``_codecs.encode`` only does
   latin-1 (how Python 3 pickles bytes at protocol 2).
"""

from __future__ import annotations

import io
import math
import pickle
import pickletools
from typing import Any

import numpy as np

# dtype strings a CIFAR pickle may hold (numpy's own pickles name them like this)
_DTYPES = {"u1", "i1", "u2", "i2", "u4", "i4", "u8", "i8", "f4", "f8", "b1"}
_PUT = {"PUT", "BINPUT", "LONG_BINPUT"}


def prescan(data: bytes) -> None:
    """Walk the pickle's opcodes; raise ``ValueError`` on short data or odd memo indices."""
    n_ops = 0
    for op, arg, _ in pickletools.genops(io.BytesIO(data)):
        if op.name in _PUT and not (isinstance(arg, int) and 0 <= arg <= n_ops):
            raise ValueError(f"memo index {arg!r} out of sequence at opcode {n_ops}")
        n_ops += 1


class _NDArrayType:
    """Stands for ``numpy.ndarray`` as the first argument of ``_reconstruct``."""


_NDARRAY = _NDArrayType()


class _Dtype:
    """Stand-in for ``numpy.dtype(spec, align, copy)`` restricted to plain scalar types."""

    def __init__(self, spec: Any, align: Any = False, copy: Any = True) -> None:
        if isinstance(spec, bytes):
            spec = spec.decode("ascii", "replace")
        if spec not in _DTYPES:
            raise pickle.UnpicklingError(f"dtype {spec!r} is not allowed")
        self.dtype = np.dtype(spec)

    def __setstate__(self, state: Any) -> None:
        if not isinstance(state, tuple) or len(state) not in (8, 9):
            raise pickle.UnpicklingError("bad dtype state")
        endian = state[1].decode("ascii", "replace") if isinstance(state[1], bytes) else state[1]
        if endian not in ("<", ">", "|", "=") or any(s is not None for s in state[2:5]):
            raise pickle.UnpicklingError(f"dtype state {state[:5]!r} is not a plain dtype")
        if endian in "<>" and self.dtype.itemsize > 1:
            self.dtype = self.dtype.newbyteorder(endian)


class _Array:
    """Stand-in for an ndarray being unpickled; :meth:`build` makes the real array."""

    def __init__(self) -> None:
        self.array: np.ndarray | None = None

    def __setstate__(self, state: Any) -> None:
        if not isinstance(state, tuple) or len(state) not in (4, 5):
            raise pickle.UnpicklingError("bad ndarray state")
        shape, dtype, fortran, raw = state[-4:]
        if (
            not isinstance(shape, tuple)
            or len(shape) > 32
            or not all(type(n) is int and n >= 0 for n in shape)
        ):
            raise pickle.UnpicklingError(f"bad ndarray shape {shape!r}")
        if not isinstance(dtype, _Dtype) or not isinstance(raw, bytes):
            raise pickle.UnpicklingError("ndarray state lacks a plain dtype and raw bytes")
        need = math.prod(shape) * dtype.dtype.itemsize
        if len(raw) != need:
            raise pickle.UnpicklingError(
                f"ndarray of shape {shape} needs {need} bytes, the pickle holds {len(raw)}"
            )
        order = "F" if fortran else "C"
        flat = np.frombuffer(raw, dtype=dtype.dtype)
        self.array = np.array(flat.reshape(shape, order=order), order="C")


def _reconstruct(subtype: Any, shape: Any, typecode: Any) -> _Array:
    if subtype is not _NDARRAY or shape != (0,):
        raise pickle.UnpicklingError("_reconstruct is only allowed for a plain ndarray")
    return _Array()


def _scalar(dtype: Any, raw: Any = None) -> Any:
    if not isinstance(dtype, _Dtype) or not isinstance(raw, bytes):
        raise pickle.UnpicklingError("scalar needs a plain dtype and bytes")
    if len(raw) != dtype.dtype.itemsize:
        raise pickle.UnpicklingError("scalar bytes do not match its dtype")
    return np.frombuffer(raw, dtype=dtype.dtype)[0]


def _encode(text: Any, encoding: Any = "latin1") -> bytes:
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise pickle.UnpicklingError("_codecs.encode is only allowed for latin-1 text")
    return text.encode("latin1")


_ALLOWED: dict[tuple[str, str], Any] = {
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy.core.multiarray", "scalar"): _scalar,
    ("numpy._core.multiarray", "scalar"): _scalar,
    ("numpy", "ndarray"): _NDARRAY,
    ("numpy", "dtype"): _Dtype,
    ("_codecs", "encode"): _encode,
}


class _Unpickler(pickle.Unpickler):
    """Refuses every global but the stand-ins above (no code from the file runs)."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _ALLOWED:
            raise pickle.UnpicklingError(f"global {module}.{name} is not allowed")
        return _ALLOWED[(module, name)]


def _build(obj: Any) -> Any:
    if isinstance(obj, _Array):
        if obj.array is None:
            raise pickle.UnpicklingError("ndarray without state")
        return obj.array
    return obj


def load_restricted(data: bytes) -> Any:
    """Prescan and unpickle ``data``; ndarrays at the top level or as dict values are built.

    Raises
    ------
    Exception
        Any error of a corrupt or disallowed pickle (the caller names the file).
    """
    prescan(data)
    obj = _Unpickler(io.BytesIO(data), encoding="bytes").load()
    if isinstance(obj, dict):
        return {k: _build(v) for k, v in obj.items()}
    return _build(obj)
