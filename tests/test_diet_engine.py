"""DietSNN's neuron engines: the torch-native CUBA kernel (the default) against SLAYER's neuron.

The demo-size network (the default DIET spec) on shipped MNIST test digits, T = 5: identical
spikes, readout voltages and loss, parameter gradients (weights, learned leaks, learned
thresholds) within ``GRAD_TOL``, the same parameters after a few Adam steps, and checkpoints that
load and predict identically on either engine.
"""

from __future__ import annotations

import copy

import h5py
import numpy as np
import pytest
import torch

from lava_thesis.data.shipped_mnist import load_shipped_mnist
from lava_thesis.diet import DietSNN
from lava_thesis.diet.model import NEURON_ENGINES, load_checkpoint
from lava_thesis.diet.train import TrainConfig, hidden_rate, param_groups, snn_input
from lava_thesis.errors import ModelFileError
from lava_thesis.experiments.diet import DEFAULT_SPEC

GRAD_TOL = {"rtol": 1e-5, "atol": 1e-6}
#: parameters after the Adam steps (the gradients are in fact identical on the CPU)
PARAM_TOL = {"rtol": 1e-5, "atol": 1e-6}
T, N_IMAGES = 5, 4
THRESHOLDS = [0.2, 0.3, 0.3, 0.3, 0.3]


def _pair(readout: str) -> tuple[DietSNN, DietSNN]:
    """The demo-size DIET network on the torch kernel (default) and a copy on SLAYER's neuron;
    leaks set to distinct non-trivial values so that the leak path is exercised."""
    torch.manual_seed(0)
    net = DietSNN(DEFAULT_SPEC, (1, 28, 28), thresholds=THRESHOLDS, readout=readout)
    assert net.neuron_engine == "torch"
    learned = [b for b in net.weight_blocks if b.neuron.voltage_decay.requires_grad]
    with torch.no_grad():
        for i, block in enumerate(learned):
            block.neuron.voltage_decay.fill_(150.0 * (i + 1))  # leak 1 - 150 (i + 1) / 4096
    ref = copy.deepcopy(net)
    ref.neuron_engine = "slayer"
    return net, ref


def _batch() -> tuple[torch.Tensor, torch.Tensor]:
    """The first shipped MNIST test digits, T steps + one silent step per weight layer."""
    images, labels = load_shipped_mnist("test")
    delay = sum(item != "f" for item in DEFAULT_SPEC)
    return snn_input(images[:N_IMAGES], T, delay), torch.as_tensor(labels[:N_IMAGES])


def _loss(net: DietSNN, x: torch.Tensor, y: torch.Tensor):
    """The training loss (cross-entropy on the scores + a hidden-rate penalty) and the record."""
    record: list = []
    out = net(x, record=record)
    loss = torch.nn.functional.cross_entropy(net.scores(out), y) + 0.1 * hidden_rate(net,
                                                                                     record)
    return loss, record


def _bits_equal(a: torch.Tensor, b: torch.Tensor) -> bool:
    return a.shape == b.shape and torch.equal(a.view(torch.int32), b.view(torch.int32))


@pytest.mark.parametrize("readout", ["spikes", "integrator"])
def test_engines_give_identical_outputs_loss_and_gradients(readout, monkeypatch):
    from lava.lib.dl.slayer.neuron import cuba

    calls = []
    slayer_dynamics = cuba.Neuron.dynamics
    monkeypatch.setattr(cuba.Neuron, "dynamics",
                        lambda self, z: calls.append(1) or slayer_dynamics(self, z))
    net, ref = _pair(readout)
    x, y = _batch()
    loss, record = _loss(net, x, y)
    assert not calls, "the torch engine must not run SLAYER's neuron"
    loss_ref, record_ref = _loss(ref, x, y)
    assert len(calls) == len(ref.weight_blocks), "the slayer engine must run SLAYER's neuron"
    rates = [float(r.detach().mean()) for r in record[:-1] if r.dim() > 2]
    assert all(0.02 < r < 0.6 for r in rates), f"hidden spike rates {rates}: test is vacuous"
    for out, out_ref in zip(record, record_ref, strict=True):  # every block, readout included
        assert _bits_equal(out, out_ref)
    assert _bits_equal(loss, loss_ref)
    loss.backward()
    loss_ref.backward()
    named = dict(ref.named_parameters())
    kinds = set()
    for name, param in net.named_parameters():
        if not param.requires_grad:
            continue
        g, g_ref = param.grad, named[name].grad
        assert g is not None and g_ref is not None, name
        assert float(g_ref.abs().max()) > 0, f"{name} gets no gradient"
        torch.testing.assert_close(g, g_ref, **GRAD_TOL)
        # scale-aware as well: some gradients are themselves below GRAD_TOL's atol
        assert float((g - g_ref).abs().max()) <= 1e-5 * float(g_ref.abs().max()), name
        kinds.add(name.rsplit(".", 1)[-1])
    assert kinds == {"weight", "voltage_decay", "log_gain"}


def test_adam_steps_from_the_same_init_end_at_the_same_parameters():
    net, ref = _pair("integrator")
    x, y = _batch()
    start = {k: v.clone() for k, v in net.state_dict().items()}
    cfg = TrainConfig()
    for model in (net, ref):
        opt = torch.optim.Adam(param_groups(model, cfg))
        for _ in range(3):
            opt.zero_grad()
            _loss(model, x, y)[0].backward()
            opt.step()
            model.clamp()
    moved = [k for k, v in net.state_dict().items() if not torch.equal(v, start[k])]
    assert any(k.endswith("voltage_decay") for k in moved)
    assert any(k.endswith("log_gain") for k in moved)
    for (name, p), p_ref in zip(net.state_dict().items(), ref.state_dict().values(),
                                strict=True):
        torch.testing.assert_close(p, p_ref, **PARAM_TOL, msg=name)


@pytest.mark.parametrize("saved", NEURON_ENGINES)
def test_checkpoint_from_either_engine_predicts_identically_on_both(tmp_path, saved):
    net, _ = _pair("integrator")
    net.neuron_engine = saved
    x, _ = _batch()
    with torch.no_grad():
        expected = net(x)
    path = tmp_path / "d.pt"
    torch.save({"spec": net.spec, "input_shape": list(net.input_shape), "num_steps": T,
                "readout": net.readout, "neuron_engine": net.neuron_engine,
                "state_dict": net.state_dict()}, path)
    assert load_checkpoint(path)[0].neuron_engine == saved
    for engine in NEURON_ENGINES:
        loaded, steps = load_checkpoint(path, neuron_engine=engine)
        assert loaded.neuron_engine == engine and steps == T
        with torch.no_grad():
            assert _bits_equal(loaded(x), expected)


def test_checkpoint_without_an_engine_loads_on_the_default(tmp_path):
    net = DietSNN(["c4k3s2", "f", "d10"], (1, 8, 8))
    net(torch.zeros(1, 1, 8, 8, 1))
    torch.save({"spec": net.spec, "input_shape": [1, 8, 8], "state_dict": net.state_dict()},
               tmp_path / "old.pt")
    assert load_checkpoint(tmp_path / "old.pt")[0].neuron_engine == "torch"


def test_unknown_engines_are_rejected(tmp_path):
    with pytest.raises(ValueError, match="neuron_engine must be one of"):
        DietSNN(["d10"], (4,), neuron_engine="cuda")
    net = DietSNN(["d10"], (4,))
    with pytest.raises(ValueError, match="neuron_engine must be one of"):
        net.neuron_engine = "lava"
    assert net.neuron_engine == "torch"
    net(torch.zeros(1, 4, 1))
    path = tmp_path / "e.pt"
    torch.save({"spec": ["d10"], "input_shape": [4], "neuron_engine": "loihi",
                "state_dict": net.state_dict()}, path)
    with pytest.raises(ModelFileError, match="'neuron_engine' is 'loihi'") as err:
        load_checkpoint(path)
    assert err.value.path == path
    with pytest.raises(ValueError, match="neuron_engine must be one of"):
        load_checkpoint(path, neuron_engine="gpu")


def test_export_is_the_same_from_either_engine(tmp_path):
    """The netx export reads the SLAYER blocks' parameters: same file content either way."""
    net, ref = _pair("integrator")
    files = [net.export_hdf5(tmp_path / "torch.net"), ref.export_hdf5(tmp_path / "slayer.net")]

    def datasets(path):
        found = {}
        with h5py.File(path) as handle:
            handle.visititems(lambda name, obj: found.__setitem__(name, np.asarray(obj))
                              if isinstance(obj, h5py.Dataset) else None)
        return found

    a, b = map(datasets, files)
    assert a.keys() == b.keys() and any(k.endswith("weight") for k in a)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
