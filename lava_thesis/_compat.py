"""Runtime fixes that make the archived lava-nc 0.10.0 / lava-dl 0.6.0 releases work on
Python 3.11 and torch 2.x, without editing site-packages.

:func:`apply` is called when :mod:`lava_thesis` is imported. Each fix is guarded and becomes a
no-op where the problem does not exist (an older Python, a fixed Lava release, torchvision
present, ...). The fixes:

(a) ``lava.magma.compiler.var_model`` declares dataclass fields whose default is a dataclass
    instance (``x: ByteEncoder = ByteEncoder()``). Python 3.11 rejects unhashable defaults
    ("mutable default ... use default_factory"), so every Lava import fails. An import hook
    rewrites those defaults to ``field(default_factory=...)`` while the module is compiled.
(b) ``lava.lib.dl.slayer`` imports its ``object_detection`` subpackage, which needs torchvision
    (absent here: PyPI's torchvision does not load beside this torch). An import hook makes that
    subpackage optional: when its import fails for want of torchvision, a placeholder module is
    installed that raises a clear ImportError on first use.
(c) slayer's CPU leaky-integrator kernels multiply the state ``(N, C, H, W)`` by a per-channel
    decay of shape ``(C,)``, which does not broadcast (``shared_param=False`` in conv/pool
    blocks). The kernels are wrapped to reshape the decay to ``(C, 1, 1)``.
(d) Lava's runtime calls ``multiprocessing.set_start_method('fork')`` when first imported, which
    raises "context has already been set" once anything (torch, a DataLoader, a forked worker)
    has fixed the start method. While that module executes, ``set_start_method`` is made
    tolerant: a no-op when the method is already 'fork', forced otherwise (Lava needs fork).
(e) netx's ``optimize_weight_bits`` divides by the largest weight magnitude, so a layer whose
    weights are all zero (a dead layer after short training) makes ``hdf5.Network`` fail with
    "cannot convert float infinity to integer". The function is wrapped: an all-zero matrix
    becomes an excitatory layer of zeros with 8 weight bits and exponent 0; any other matrix
    goes to netx's own code.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import re
import sys
import types
from collections.abc import Sequence

VAR_MODEL = "lava.magma.compiler.var_model"
OBJECT_DETECTION = "lava.lib.dl.slayer.object_detection"
LEAKY_INTEGRATOR = "lava.lib.dl.slayer.neuron.dynamics.leaky_integrator"
LAVA_MP = "lava.magma.runtime.message_infrastructure.multiprocessing"
NETX_UTILS = "lava.lib.dl.netx.utils"

# ``name: Type = Type()`` at class level, where Type is a (mutable) dataclass.
_MUTABLE_DEFAULT = re.compile(r"^(\s+\w+\s*:\s*[\w.]+\s*=\s*)(\w+)\(\)\s*$", re.MULTILINE)

_applied: dict[str, bool] = {}


def _dataclass_rejects_instance_defaults() -> bool:
    """True where ``dataclasses`` refuses an unhashable instance as a field default (3.11+)."""
    import dataclasses

    @dataclasses.dataclass
    class _Probe:
        a: int = 0

    try:
        dataclasses.make_dataclass("_Holder", [("p", _Probe, _Probe())])
    except ValueError:
        return True
    return False


def rewrite_mutable_defaults(source: str) -> str:
    """Rewrite ``x: T = T()`` class-level defaults into ``field(default_factory=T)``."""
    return _MUTABLE_DEFAULT.sub(
        r"\1__import__('dataclasses').field(default_factory=\2)", source
    )


class _PatchedSourceLoader(importlib.machinery.SourceFileLoader):
    """Source loader that applies :func:`rewrite_mutable_defaults` before compiling."""

    def source_to_code(self, data, path, *, _optimize=-1):  # type: ignore[override]
        text = importlib.util.decode_source(data)
        return compile(rewrite_mutable_defaults(text), path, "exec", dont_inherit=True)

    def get_code(self, fullname):  # never use a cached .pyc of the unpatched source
        source = self.get_data(self.get_filename(fullname))
        return self.source_to_code(source, self.get_filename(fullname))


class _VarModelFinder(importlib.abc.MetaPathFinder):
    """Fix (a): load ``lava.magma.compiler.var_model`` through :class:`_PatchedSourceLoader`."""

    def find_spec(self, fullname: str, path: Sequence[str] | None, target=None):
        if fullname != VAR_MODEL:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or not isinstance(spec.loader, importlib.machinery.SourceFileLoader):
            return spec
        spec.loader = _PatchedSourceLoader(fullname, spec.origin)
        return spec


class _MissingOptional(types.ModuleType):
    """Placeholder for a subpackage whose optional dependency is missing."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(name)
        self.__file__ = None
        self.__path__ = []  # a package, so submodule imports reach __getattr__ errors
        self._reason = reason

    def __getattr__(self, attr: str):
        if attr.startswith("__"):
            raise AttributeError(attr)
        raise ImportError(
            f"{self.__name__} is unavailable: {self._reason}. lava-thesis does not use it; "
            "install torchvision (built for your torch) to enable slayer's object detection."
        )


class _OptionalLoader(importlib.abc.Loader):
    def __init__(self, real_spec) -> None:
        self._real_spec = real_spec

    def create_module(self, spec):
        return None

    def exec_module(self, module) -> None:
        real = importlib.util.module_from_spec(self._real_spec)
        sys.modules[module.__name__] = real
        try:
            self._real_spec.loader.exec_module(real)
        except (ImportError, RuntimeError) as err:  # a broken torchvision raises RuntimeError
            if "torchvision" not in str(err):
                raise
            for name in [n for n in sys.modules if n.startswith(module.__name__ + ".")]:
                del sys.modules[name]
            sys.modules[module.__name__] = _MissingOptional(
                module.__name__, f"it needs torchvision ({err})"
            )


class _ObjectDetectionFinder(importlib.abc.MetaPathFinder):
    """Fix (b): make ``lava.lib.dl.slayer.object_detection`` optional."""

    def find_spec(self, fullname: str, path: Sequence[str] | None, target=None):
        if fullname != OBJECT_DETECTION:
            return None
        real_spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if real_spec is None:
            return None
        return importlib.machinery.ModuleSpec(
            fullname, _OptionalLoader(real_spec), origin=real_spec.origin, is_package=True
        )


def _channel_decay(decay, like):
    """Reshape a per-channel decay ``(C,)`` to broadcast against ``like`` of ``(N, C, ...)``."""
    if decay.numel() > 1 and like.dim() > 2 and decay.dim() == 1:
        return decay.reshape((-1,) + (1,) * (like.dim() - 2))
    return decay


def _patch_leaky_integrator(module) -> None:
    """Fix (c): per-channel decays in slayer's CPU leaky-integrator kernels."""
    if getattr(module, "_lava_thesis_patched", False):
        return
    fwd, bwd = module._li_dynamics_fwd, module._li_dynamics_bwd

    def li_fwd(input, decay, state, threshold, w_scale, dtype=None):
        kwargs = {} if dtype is None else {"dtype": dtype}
        state_like = input[..., 0]
        return fwd(input, _channel_decay(decay, state_like), state, threshold, w_scale, **kwargs)

    def li_bwd(grad_output, output, decay):
        grad_input, grad_decay = bwd(grad_output, output, _channel_decay(decay, output[..., 0]))
        return grad_input, grad_decay.reshape(decay.shape)

    module._lava_thesis_original = (fwd, bwd)
    module._li_dynamics_fwd, module._li_dynamics_bwd = li_fwd, li_bwd
    module._lava_thesis_patched = True


def _tolerant_fork_start(exec_module, module) -> None:
    """Fix (d): execute Lava's multiprocessing module with a tolerant ``set_start_method``."""
    import multiprocessing

    original = multiprocessing.set_start_method

    def set_start_method(method: str, force: bool = False) -> None:
        if multiprocessing.get_start_method(allow_none=True) != method:
            original(method, force=True)

    multiprocessing.set_start_method = set_start_method
    try:
        exec_module(module)
    finally:
        multiprocessing.set_start_method = original


def _patch_weight_bits(module) -> None:
    """Fix (e): netx's ``optimize_weight_bits`` accepts an all-zero weight matrix."""
    if getattr(module, "_lava_thesis_patched", False):
        return
    original = module.optimize_weight_bits

    def optimize_weight_bits(weight):
        import numpy as np

        if weight.size and not np.any(weight):
            return (np.zeros(weight.shape, dtype=int), 8, 0,
                    module.SYNAPSE_SIGN_MODE.EXCITATORY)
        return original(weight)

    module._lava_thesis_original = original
    module.optimize_weight_bits = optimize_weight_bits
    hdf5 = sys.modules.get("lava.lib.dl.netx.hdf5")  # imported the name before the patch
    if hdf5 is not None and getattr(hdf5, "optimize_weight_bits", None) is original:
        hdf5.optimize_weight_bits = optimize_weight_bits
    module._lava_thesis_patched = True


def _then(patch):
    """``around`` hook that runs ``patch(module)`` after the module executed."""

    def around(exec_module, module) -> None:
        exec_module(module)
        patch(module)

    return around


class _ExecHookFinder(importlib.abc.MetaPathFinder):
    """Load one module through ``around(exec_module, module)``, e.g. to patch it after import."""

    def __init__(self, fullname: str, around) -> None:
        self.fullname, self.around = fullname, around

    def find_spec(self, fullname: str, path: Sequence[str] | None, target=None):
        if fullname != self.fullname:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None:
            return None
        inner, around = spec.loader, self.around

        class _Loader(importlib.abc.Loader):
            def create_module(self, spec):
                return inner.create_module(spec)

            def exec_module(self, module):
                around(inner.exec_module, module)

        spec.loader = _Loader()
        return spec


def _install(key: str, finder: importlib.abc.MetaPathFinder) -> None:
    if _applied.get(key):
        return
    sys.meta_path.insert(0, finder)
    _applied[key] = True


def apply() -> dict[str, bool]:
    """Install every fix that is needed here. Idempotent; returns which fixes are active.

    Must run before the first ``import lava``; a module already imported is patched in place
    where that is possible (fix c) and left alone otherwise.
    """
    if VAR_MODEL not in sys.modules and _dataclass_rejects_instance_defaults():
        _install("var_model", _VarModelFinder())
    if OBJECT_DETECTION not in sys.modules:
        # The finder only steps in when the real import fails for want of torchvision.
        _install("object_detection", _ObjectDetectionFinder())
    if LEAKY_INTEGRATOR in sys.modules:
        _patch_leaky_integrator(sys.modules[LEAKY_INTEGRATOR])
        _applied["leaky_integrator"] = True
    else:
        _install(
            "leaky_integrator", _ExecHookFinder(LEAKY_INTEGRATOR, _then(_patch_leaky_integrator))
        )
    if LAVA_MP not in sys.modules:
        _install("fork_start_method", _ExecHookFinder(LAVA_MP, _tolerant_fork_start))
    if NETX_UTILS in sys.modules:
        _patch_weight_bits(sys.modules[NETX_UTILS])
        _applied["netx_weight_bits"] = True
    else:
        _install("netx_weight_bits", _ExecHookFinder(NETX_UTILS, _then(_patch_weight_bits)))
    return dict(_applied)
