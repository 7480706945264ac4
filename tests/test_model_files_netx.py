"""netx ``.net`` files are checked before lava-dl reads them, and the netx and NIR exports
refuse non-finite parameters. Small networks are exported with the library's own writers, then
corrupted one field at a time."""

from __future__ import annotations

import tempfile
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lava_thesis import quickstart as qs
from lava_thesis.deploy.netx_check import check_netx_file
from lava_thesis.deploy.netx_run import _network, netx_output_spikes, synaptic_delay
from lava_thesis.diet import DietSNN
from lava_thesis.errors import ModelFileError


def _dense_net() -> qs.DenseSNN:
    torch.manual_seed(3)
    return qs.DenseSNN(n_in=6, hidden=4, n_out=2)


def _conv_net() -> DietSNN:
    torch.manual_seed(0)
    net = DietSNN(["c4k3s2", "f", "d3"], input_shape=(1, 8, 8), thresholds=[0.3, 0.7])
    net(torch.zeros(1, 1, 8, 8, 1))
    return net


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("nets")
    return {"dense": _dense_net().export_hdf5(folder / "d.net").read_bytes(),
            "conv": _conv_net().export_hdf5(folder / "c.net").read_bytes()}


def _copy(exported, kind: str, folder: Path) -> Path:
    path = folder / f"{kind}.net"
    path.write_bytes(exported[kind])
    return path


def _set(name, value, index=()):
    def edit(f):
        data = f[name][()]
        if index == ():
            data = value
        else:
            data[index] = value
        del f[name]
        f.create_dataset(name, data=data)
    return edit


CORRUPTIONS = {
    "nan weight": ("dense", _set("layer/0/weight", np.nan, (0, 0)), "non-finite"),
    "inf conv weight": ("conv", _set("layer/0/weight", np.inf, (0, 0, 0, 0)), "non-finite"),
    "negative vThMant": ("dense", _set("layer/1/neuron/vThMant", -5), "vThMant is -5"),
    "zero vThMant": ("conv", _set("layer/2/neuron/vThMant", 0), "vThMant is 0"),
    "nan vThMant": ("dense", _set("layer/0/neuron/vThMant", np.nan), "vThMant' holds 1 non"),
    "iDecay too big": ("dense", _set("layer/0/neuron/iDecay", 5000), "outside \\[0, 4096\\]"),
    "negative vDecay": ("conv", _set("layer/0/neuron/vDecay", -1), "outside \\[0, 4096\\]"),
    "missing weight": ("dense", lambda f: f["layer/1"].__delitem__("weight"),
                       "dataset 'layer/1/weight' missing"),
    "missing neuron": ("conv", lambda f: f["layer/0"].__delitem__("neuron"),
                       "group 'layer/0/neuron' missing"),
    "missing layers": ("dense", lambda f: f.__delitem__("layer"), "group 'layer' missing"),
    "layer gap": ("dense", lambda f: f["layer"].move("1", "2"), "layer groups are"),
    "pool layer": ("dense", _set("layer/1/type", np.array([b"pool"])), "type 'pool'"),
    "unknown neuron": ("dense", _set("layer/0/neuron/type", b"SDNN"), "'SDNN'"),
    "dense shapes": ("dense", _set("layer/1/weight", np.zeros((2, 5))), "takes 5 inputs"),
    "dense rows": ("dense", _set("layer/0/weight", np.zeros((3, 6))), "for 4 neurons"),
    "conv to dense": ("conv", _set("layer/2/weight", np.zeros((3, 60))), "takes 60 inputs"),
    "zero stride": ("conv", _set("layer/0/stride", np.array([0, 0])), "stride is \\[0, 0\\]"),
    "groups 3": ("conv", _set("layer/0/groups", 3), "does not divide 4 channels"),
    "conv shape": ("conv", _set("layer/0/shape", np.array([4, 5, 5])), "maps|weight"),
    "zero shape": ("dense", _set("layer/0/shape", np.array([0])), "positive integers"),
    "only flatten": ("dense", lambda f: (f["layer"].__delitem__("1"),
                                         f["layer/0"].__delitem__("weight"),
                                         _set("layer/0/type", np.array([b"flatten"]))(f)),
                     "no dense or conv layer"),
}


@pytest.mark.parametrize("case", sorted(CORRUPTIONS))
def test_corrupt_netx_file_is_refused_naming_the_file(exported, tmp_path, case):
    kind, edit, message = CORRUPTIONS[case]
    path = _copy(exported, kind, tmp_path)
    with h5py.File(path, "r+") as f:
        edit(f)
    with pytest.raises(ModelFileError, match=message) as err:
        check_netx_file(path)
    assert err.value.path == path
    with pytest.raises(ModelFileError, match=message):  # before any Lava process starts
        synaptic_delay(path)
    spikes = np.zeros((1, 6, 4)) if kind == "dense" else np.zeros((1, 1, 8, 8, 4))
    with pytest.raises(ModelFileError, match=message):
        netx_output_spikes(path, spikes, timeout_s=5)


@pytest.mark.parametrize("content", [b"", b"junk, not HDF5", None],
                         ids=["empty", "text", "truncated"])
def test_unreadable_netx_files_are_model_file_errors(exported, tmp_path, content):
    path = _copy(exported, "conv", tmp_path)
    path.write_bytes(exported["conv"][: len(exported["conv"]) // 2] if content is None
                     else content)
    with pytest.raises(ModelFileError, match="not a readable HDF5 file") as err:
        check_netx_file(path)
    assert err.value.path == path


def test_valid_netx_files_pass_and_lava_dl_builds_them(exported, tmp_path):
    assert check_netx_file(_copy(exported, "dense", tmp_path)) == ("dense", "dense")
    conv = _copy(exported, "conv", tmp_path)
    assert check_netx_file(conv) == ("conv", "flatten", "dense")
    assert synaptic_delay(conv) == 2
    net = _network(conv, (8, 8, 1), 6, 0)  # builds the Lava processes; runs nothing
    assert net.inp.shape == (8, 8, 1) and len(net.layers) == 2


def test_lava_dl_errors_are_wrapped_when_the_check_is_bypassed(exported, tmp_path):
    """lava-dl itself fails with a KeyError on a missing weight; the runner wraps it."""
    path = _copy(exported, "dense", tmp_path)
    with h5py.File(path, "r+") as f:
        del f["layer/1/weight"]
    with pytest.raises(ModelFileError, match="lava-dl cannot build it \\(KeyError") as err:
        _network(path, (6,), 6, 0)
    assert err.value.path == path


def test_input_that_does_not_fit_the_first_layer_is_refused(exported, tmp_path):
    path = _copy(exported, "dense", tmp_path)
    with pytest.raises(ValueError, match="takes 6 input features"):
        netx_output_spikes(path, np.zeros((1, 5, 4)))


@settings(max_examples=20, deadline=None)
@given(layer=st.sampled_from(["0", "1"]), row=st.integers(0, 1), col=st.integers(0, 3),
       value=st.sampled_from([np.nan, np.inf, -np.inf]))
def test_any_non_finite_weight_is_refused(exported, layer, row, col, value):
    with tempfile.TemporaryDirectory() as tmp:
        path = _copy(exported, "dense", Path(tmp))
        with h5py.File(path, "r+") as f:
            f[f"layer/{layer}/weight"][row, col] = value
        with pytest.raises(ModelFileError, match=f"layer/{layer}/weight") as err:
            check_netx_file(path)
        assert err.value.path == path


# --- exports refuse non-finite parameters -------------------------------------------------

def _poisoned_conv_net() -> DietSNN:
    net = _conv_net()
    with torch.no_grad():
        net.blocks[2].synapse.weight[0, 0] = float("nan")
    return net


def test_netx_export_refuses_non_finite_weights(tmp_path):
    with pytest.raises(ModelFileError, match="refusing to export: block 2 \\(Dense\\) "
                                             "parameter 'synapse.weight'") as err:
        _poisoned_conv_net().export_hdf5(tmp_path / "bad.net")
    assert err.value.path == tmp_path / "bad.net"
    assert list(tmp_path.iterdir()) == []  # nothing half-written


def test_netx_export_refuses_a_file_netx_could_not_use(tmp_path):
    """A zero threshold is a finite parameter but gives vThMant = 0: checked after writing."""
    net = _dense_net()
    net(torch.zeros(1, 6, 1))
    net.blocks[1].neuron._threshold = 0.0
    with pytest.raises(ModelFileError, match="refusing to export: .*vThMant is 0") as err:
        net.export_hdf5(tmp_path / "zero.net")
    assert err.value.path == tmp_path / "zero.net" and list(tmp_path.iterdir()) == []


def test_nir_export_refuses_non_finite_parameters(tmp_path):
    from lava_thesis.deploy.nir_export import to_nir

    net = _poisoned_conv_net()
    with pytest.raises(ModelFileError, match="refusing to export: block 2") as err:
        net.export_nir(tmp_path / "bad.nir")
    assert err.value.path == tmp_path / "bad.nir" and list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError, match="non-finite parameters to NIR: block 2"):
        to_nir(net.blocks, input_shape=(1, 8, 8))
