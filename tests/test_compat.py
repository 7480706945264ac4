"""The runtime fixes in :mod:`lava_thesis._compat`: each cures a real failure of lava-nc 0.10 /
lava-dl 0.6 on Python 3.11 and torch 2.x.

Where possible a test also shows the failure without the fix (the original source, the original
kernel, or a subprocess with the fix's finder removed), so a test cannot pass because the
problem went away by itself.
"""

from __future__ import annotations

import importlib
import importlib.util
import subprocess
import sys
import textwrap
import types

import pytest
import torch

from lava_thesis import _compat

LI_MODULE = _compat.LEAKY_INTEGRATOR
NEEDS_311 = pytest.mark.skipif(
    sys.version_info < (3, 11), reason="dataclasses accept instance defaults before 3.11"
)


def _run_python(code: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter (nothing imported yet, start method not set)."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


# --------------------------------------------------------------------------- (a) var_model

SAMPLE = textwrap.dedent(
    """
    from dataclasses import dataclass, field

    @dataclass
    class ByteEncoder:
        base: int = 0
        len: int = 0

    @dataclass
    class CoreEncoder:
        x: ByteEncoder = ByteEncoder()
        y: ByteEncoder = ByteEncoder()
        n: int = 3
        tags: list = field(default_factory=list)
    """
)


@NEEDS_311
def test_sample_with_instance_default_is_rejected_without_the_fix():
    assert _compat._dataclass_rejects_instance_defaults()
    with pytest.raises(ValueError, match="mutable default"):
        exec(compile(SAMPLE, "<sample>", "exec"), {})


def test_rewrite_mutable_defaults_makes_the_sample_a_dataclass():
    rewritten = _compat.rewrite_mutable_defaults(SAMPLE)
    assert "ByteEncoder = ByteEncoder()" not in rewritten
    assert rewritten.count("default_factory=ByteEncoder") == 2
    # Lines that are not ``x: T = T()`` stay as they were.
    assert "    n: int = 3\n" in rewritten
    assert "    tags: list = field(default_factory=list)\n" in rewritten

    namespace: dict = {}
    exec(compile(rewritten, "<rewritten>", "exec"), namespace)
    core_encoder, byte_encoder = namespace["CoreEncoder"], namespace["ByteEncoder"]
    a, b = core_encoder(), core_encoder()
    assert isinstance(a.x, byte_encoder) and a.x == byte_encoder()
    assert a.x is not b.x and a.x is not a.y
    assert a.n == 3 and a.tags == []


@NEEDS_311
def test_real_var_model_source_fails_unpatched_and_imports_patched(monkeypatch):
    spec = importlib.util.find_spec(_compat.VAR_MODEL)
    assert spec is not None and spec.origin is not None
    with open(spec.origin, encoding="utf-8") as fh:
        source = fh.read()
    # The shipped source itself is what Python 3.11 rejects.
    unpatched = types.ModuleType("_var_model_unpatched")
    monkeypatch.setitem(sys.modules, unpatched.__name__, unpatched)  # dataclasses looks it up
    with pytest.raises(ValueError, match="mutable default"):
        exec(compile(source, spec.origin, "exec"), unpatched.__dict__)

    var_model = importlib.import_module(_compat.VAR_MODEL)
    assert isinstance(var_model.__loader__, _compat._PatchedSourceLoader)
    a, b = var_model.CoreEncoder(), var_model.CoreEncoder()
    assert isinstance(a.x, var_model.ByteEncoder)
    assert a.x is not b.x
    a.x.ptr = 7
    assert b.x.ptr == 0


def test_lava_process_modules_import():
    lif_process = importlib.import_module("lava.proc.lif.process")
    assert lif_process.LIF(shape=(2,)).s_out.shape == (2,)


# --------------------------------------------------------------------------- (b) object_detection


def _torchvision_imports() -> bool:
    try:
        import torchvision  # noqa: F401
    except Exception:  # absent, or broken beside this torch (RuntimeError)
        return False
    return True


def test_slayer_imports_and_object_detection_is_a_clear_placeholder():
    import lava.lib.dl.slayer as slayer

    assert hasattr(slayer.block.cuba, "Conv")
    obd = slayer.obd
    assert obd is sys.modules[_compat.OBJECT_DETECTION]
    if _torchvision_imports():  # the real subpackage must be left alone
        assert not isinstance(obd, _compat._MissingOptional)
        assert obd.__file__ is not None
        return
    assert isinstance(obd, _compat._MissingOptional)
    with pytest.raises(ImportError, match="torchvision"):
        _ = obd.dataset
    with pytest.raises(ImportError, match="torchvision"):
        from lava.lib.dl.slayer.object_detection import yolo_base  # noqa: F401
    assert not hasattr(obd, "__wrapped__")  # dunders stay plain AttributeErrors


def test_slayer_import_fails_without_the_object_detection_fix():
    if _torchvision_imports():
        pytest.skip("torchvision imports here; the fix is not needed")
    result = _run_python(
        """
        import sys
        import lava_thesis
        from lava_thesis import _compat
        sys.meta_path[:] = [
            f for f in sys.meta_path if not isinstance(f, _compat._ObjectDetectionFinder)
        ]
        import lava.lib.dl.slayer
        """
    )
    assert result.returncode != 0
    assert "torchvision" in result.stderr


# --------------------------------------------------------------------------- (c) leaky integrator


@pytest.fixture
def li():
    return importlib.import_module(LI_MODULE)


def _cuba_conv(seed: int = 0):
    import lava.lib.dl.slayer as slayer

    torch.manual_seed(seed)
    neuron = {
        "threshold": 0.5,
        "current_decay": (0.2, 0.3),
        "voltage_decay": (0.1, 0.2),
        "shared_param": False,
        "requires_grad": True,
    }
    return slayer.block.cuba.Conv(neuron, 2, 3, 3, padding=1)


def test_conv_block_with_per_channel_decay_runs_forward_and_backward(li):
    assert li._lava_thesis_patched
    block = _cuba_conv()
    x = torch.rand(2, 2, 8, 8, 5, generator=torch.Generator().manual_seed(1))
    y = block(x)
    assert y.shape == (2, 3, 8, 8, 5)
    assert y.sum() > 0  # some spikes, so the surrogate gradient is not trivially zero
    y.sum().backward()
    for name in ("current_decay", "voltage_decay"):
        param = getattr(block.neuron, name)
        assert param.shape == (3,), name
        assert param.grad is not None and param.grad.shape == (3,), name
        assert torch.isfinite(param.grad).all(), name
        assert (param.grad != 0).any(), name


def test_conv_block_with_per_channel_decay_fails_with_original_kernels(li, monkeypatch):
    fwd, bwd = li._lava_thesis_original
    monkeypatch.setattr(li, "_li_dynamics_fwd", fwd)
    monkeypatch.setattr(li, "_li_dynamics_bwd", bwd)
    block = _cuba_conv()
    with pytest.raises(RuntimeError, match="size of tensor"):
        block(torch.rand(2, 2, 8, 8, 5))


def test_original_kernels_reject_per_channel_decay_on_4d_state(li):
    fwd, bwd = li._lava_thesis_original
    x = torch.rand(2, 3, 4, 5, 6)  # (N, C, H, W, T) with C, H, W all different
    decay = torch.tensor([100.0, 800.0, 2000.0])
    with pytest.raises(RuntimeError, match="size of tensor"):
        fwd(x, decay, torch.zeros(2, 3, 4, 5), -1, 64)
    with pytest.raises(RuntimeError, match="size of tensor"):
        bwd(torch.rand_like(x), x, decay)


@pytest.mark.parametrize("threshold", [None, 0.4])
def test_per_channel_kernel_equals_shared_kernel_channel_by_channel(li, threshold):
    """Analytic parity: a per-channel decay is the shared-decay dynamics run on each channel."""
    gen = torch.Generator().manual_seed(2)
    n, c, h, w, t = 2, 3, 4, 5, 6
    w_scale = 1 << 6
    x = torch.rand(n, c, h, w, t, generator=gen)
    state = 0.5 * torch.rand(n, c, h, w, generator=gen)
    grad_out = torch.randn(n, c, h, w, t, generator=gen)

    decay = torch.tensor([100.0, 800.0, 2000.0], requires_grad=True)
    xin = x.clone().requires_grad_(True)
    y = li.dynamics(xin, decay, state, w_scale, threshold=threshold)
    (y * grad_out).sum().backward()
    assert y.shape == x.shape and decay.grad.shape == (c,)

    for ch in range(c):
        decay_c = decay.detach()[ch : ch + 1].clone().requires_grad_(True)
        x_c = x[:, ch].clone().requires_grad_(True)
        y_c = li.dynamics(x_c, decay_c, state[:, ch], w_scale, threshold=threshold)
        (y_c * grad_out[:, ch]).sum().backward()
        torch.testing.assert_close(y[:, ch], y_c, rtol=0, atol=0)
        torch.testing.assert_close(xin.grad[:, ch], x_c.grad)
        torch.testing.assert_close(decay.grad[ch : ch + 1], decay_c.grad)
    # The decays differ enough that the channels are not the same computation in disguise.
    assert not torch.equal(y[:, 0], li.dynamics(x[:, 0], decay.detach()[2:3], state[:, 0], w_scale))


def test_channel_decay_leaves_shared_and_dense_decays_alone():
    decay = torch.tensor([1.0, 2.0, 3.0])
    assert _compat._channel_decay(decay, torch.zeros(2, 3, 4, 5)).shape == (3, 1, 1)
    assert _compat._channel_decay(decay, torch.zeros(2, 3)).shape == (3,)  # dense: (N, C)
    shared = torch.tensor([1.0])
    assert _compat._channel_decay(shared, torch.zeros(2, 3, 4, 5)) is shared


# --------------------------------------------------------------------------- (d) fork start method

IMPORT_LAVA_MP = f"import {_compat.LAVA_MP}"


@pytest.mark.parametrize("preset", ["spawn", "fork"])
def test_lava_runtime_imports_after_start_method_was_set(preset):
    result = _run_python(
        f"""
        import multiprocessing as mp
        mp.set_start_method({preset!r})
        original = mp.set_start_method
        import lava_thesis
        {IMPORT_LAVA_MP}
        assert mp.set_start_method == original, "set_start_method was not restored"
        print("METHOD", mp.get_start_method())
        """
    )
    assert result.returncode == 0, result.stderr
    assert "METHOD fork" in result.stdout


def test_lava_runtime_import_fails_without_the_fork_fix():
    result = _run_python(
        f"""
        import multiprocessing as mp
        mp.set_start_method("spawn")
        {IMPORT_LAVA_MP}
        """
    )
    assert result.returncode != 0
    assert "context has already been set" in result.stderr


# --------------------------------------------------------------------------- apply()


def test_apply_is_idempotent_in_a_fresh_interpreter():
    result = _run_python(
        """
        import sys
        import lava_thesis
        from lava_thesis import _compat

        kinds = (_compat._VarModelFinder, _compat._ObjectDetectionFinder, _compat._ExecHookFinder)
        def ours():
            return [f for f in sys.meta_path if isinstance(f, kinds)]
        first = ours()
        names = sorted(getattr(f, "fullname", type(f).__name__) for f in first)
        print("FINDERS", len(first), names)
        state = _compat.apply()
        state2 = _compat.apply()
        assert state == state2, (state, state2)
        print("ACTIVE", sorted(k for k, v in state.items() if v))
        assert ours() == first, "apply() added finders again"
        assert len(sys.meta_path) == len(set(map(id, sys.meta_path)))
        """
    )
    assert result.returncode == 0, result.stderr
    expected = ["leaky_integrator", "object_detection", "fork_start_method", "netx_weight_bits"]
    if sys.version_info >= (3, 11):
        expected.append("var_model")
    assert f"ACTIVE {sorted(expected)}" in result.stdout
    assert f"FINDERS {len(expected)} " in result.stdout


def test_apply_again_in_this_process_adds_nothing():
    before = list(sys.meta_path)
    state = _compat.apply()
    assert list(sys.meta_path) == before
    assert state["leaky_integrator"] and state["object_detection"]
    li = importlib.import_module(LI_MODULE)
    patched_fwd = li._li_dynamics_fwd
    _compat._patch_leaky_integrator(li)  # a second patch would wrap the wrapper
    assert li._li_dynamics_fwd is patched_fwd
    assert li._lava_thesis_original[0] is not patched_fwd


def test_netx_weight_bits_accepts_an_all_zero_layer_and_leaves_others_alone():
    import numpy as np
    from lava.lib.dl.netx import hdf5, utils

    assert hdf5.optimize_weight_bits is utils.optimize_weight_bits  # netx's loader uses the fix
    zero = np.zeros((3, 4))
    with pytest.raises(OverflowError), np.errstate(divide="ignore"):  # netx's own code
        utils._lava_thesis_original(zero)
    weight, bits, exp, sign = utils.optimize_weight_bits(zero)
    assert weight.shape == (3, 4) and not weight.any()
    assert (bits, exp, sign) == (8, 0, utils.SYNAPSE_SIGN_MODE.EXCITATORY)
    w = np.array([[2.0, -4.0], [6.0, 0.0]])
    got = utils.optimize_weight_bits(w)
    want = utils._lava_thesis_original(w)
    assert np.array_equal(got[0], want[0]) and got[1:] == want[1:]
