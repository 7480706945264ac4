"""Hostile model files found by fuzzing the loaders: values that parse but overflow, declared
sizes far beyond the file, hyperparameters that make the model unusable, non-numeric values
where numbers belong, deeply nested JSON. Each must give a :class:`ModelFileError` naming the
file, quickly and without allocating what the file declares."""

from __future__ import annotations

import json
import time

import h5py
import numpy as np
import pytest
import torch

from lava_thesis.errors import ModelFileError
from lava_thesis.model_check import (
    MAX_DATASET_BYTES,
    MAX_PARAMETER,
    MAX_STEPS,
    require_finite,
    require_json_attr,
    require_range,
)
from lava_thesis.multimodal.engine import MultimodalNetwork
from lava_thesis.multimodal.model_io import load_pair_model, save_pair_model
from lava_thesis.multimodal.params import CrossParams
from lava_thesis.stdp import STDPNetwork, STDPParams
from lava_thesis.stdp.model_io import MAX_PRESENTATIONS, load_model, save_model

P = STDPParams(n_input=6, n_exc=4, present_steps=20, rest_steps=5)
DEEP = "[" * 100_000 + "]" * 100_000


def _stdp_file(tmp_path):
    return save_model(tmp_path / "m.h5", STDPNetwork(P), np.array([1, 2, -1, 0]), {"n": 1})


def _edit_params(path, **changes):
    with h5py.File(path, "r+") as f:
        params = json.loads(f.attrs["params"])
        params.update(changes)
        f.attrs["params"] = json.dumps(params)


@pytest.mark.parametrize("field,value,message", [
    ("w_max", 10**400, "w_max is 1000"),              # int beyond float: OverflowError before
    ("exc_refractory", 10**40, "exc_refractory is"),  # int beyond int64
    ("present_steps", 10**12, "1000000000005 steps"),  # a presentation would never end
    ("rest_steps", MAX_STEPS, f"{MAX_STEPS + 20} steps"),
    ("max_presentations", MAX_PRESENTATIONS + 1, f"up to {MAX_PRESENTATIONS + 1} present"),
    ("theta_decay", 2.0, "theta_decay 2, "),  # the engine ran it, Lava's neuron refused it
    ("exc_refractory", 0, "refractory periods 0 / 2"),
    ("inh_refractory", 0, "refractory periods 5 / 0"),
])
def test_stdp_hyperparameters_that_overflow_or_never_end_are_refused(tmp_path, field, value,
                                                                     message):
    path = _stdp_file(tmp_path)
    _edit_params(path, **{field: value})
    with pytest.raises(ModelFileError, match=message) as err:
        load_model(path)
    assert err.value.path == path


def test_stdp_limits_are_inclusive(tmp_path):
    path = _stdp_file(tmp_path)
    _edit_params(path, present_steps=MAX_STEPS - 5, rest_steps=5,
                 max_presentations=MAX_PRESENTATIONS)
    net = load_model(path)[0]
    assert (net.params.sample_steps, net.params.max_presentations) == (MAX_STEPS,
                                                                        MAX_PRESENTATIONS)


@pytest.mark.parametrize("value", [np.arange(3), 7, 1.5])
def test_format_attribute_of_the_wrong_type_is_refused(tmp_path, value):
    path = _stdp_file(tmp_path)
    with h5py.File(path, "r+") as f:
        f.attrs["format"] = value
    with pytest.raises(ModelFileError, match="not a lava-thesis STDP model"):
        load_model(path)


def test_deeply_nested_json_attribute_is_refused(tmp_path):
    path = _stdp_file(tmp_path)
    with h5py.File(path, "r+") as f:
        f.attrs["params"] = DEEP
        with pytest.raises(ModelFileError, match="attribute 'params' is not JSON"):
            require_json_attr(f, "params", path, "x")
    with pytest.raises(ModelFileError, match="m.h5: attribute 'params' is not JSON"):
        load_model(path)


def test_multimodal_ensembles_of_different_lengths_are_refused(tmp_path):
    net = MultimodalNetwork(P, P, CrossParams())
    labels = {k: np.array([1, 2, -1, 0]) for k in ("image_alone", "audio_alone",
                                                   "image_both", "audio_both")}
    path = save_pair_model(tmp_path / "mm.h5", net, labels, {})
    with h5py.File(path, "r+") as f:
        params = json.loads(f["audio"].attrs["params"])
        f["audio"].attrs["params"] = json.dumps({**params, "present_steps": 30})
    with pytest.raises(ModelFileError, match="mm.h5: image and audio params differ"):
        load_pair_model(path)


@pytest.mark.parametrize("layout", ["chunked", "gzip"])
def test_declared_huge_dataset_is_refused_before_reading(tmp_path, layout):
    """A 1e9-element dataset costs a few hundred bytes of file; reading it would allocate
    gigabytes. The declared size is checked first."""
    from lava_thesis.deploy.netx_check import check_netx_file
    from lava_thesis.quickstart import DenseSNN

    path = DenseSNN(n_in=5, hidden=4, n_out=2).export_hdf5(tmp_path / "n.net")
    with h5py.File(path, "r+") as f:
        del f["layer/0/weight"]
        f.create_dataset("layer/0/weight", shape=(10**9,), dtype=np.float32, chunks=(10**6,),
                         fillvalue=0.5, compression="gzip" if layout == "gzip" else None)
    assert path.stat().st_size < 100_000
    start = time.perf_counter()
    with pytest.raises(ModelFileError, match=f"more than {MAX_DATASET_BYTES} bytes") as err:
        check_netx_file(path)
    assert err.value.path == path and time.perf_counter() - start < 5


@pytest.mark.parametrize("value,message", [
    ("x", "is not numeric"), ([[1.0], [1.0, 2.0]], "is not numeric"), (10**400, "not numeric"),
])
def test_non_numeric_values_are_model_file_errors(value, message):
    with pytest.raises(ModelFileError, match=message):
        require_range("c.pt", "per_epoch accuracies", value, 0, 1, expected="accuracies")
    with pytest.raises(ModelFileError, match=message):
        require_finite("c.pt", "seconds", value, "a duration")


def _diet_ckpt(tmp_path, **changes):
    from lava_thesis.diet import DietSNN

    torch.manual_seed(0)
    net = DietSNN(["c2k3s2", "f", "d3"], (1, 6, 6))
    with torch.no_grad():
        net(torch.zeros(1, 1, 6, 6, 1))
    ckpt = {"spec": net.spec, "input_shape": [1, 6, 6], "num_steps": 4,
            "state_dict": net.state_dict(), **changes}
    torch.save(ckpt, tmp_path / "d.pt")
    return tmp_path / "d.pt"


@pytest.mark.parametrize("changes,message", [
    ({"num_steps": 10**9}, "'num_steps' is 1000000000, not an integer in \\[1, "),
    ({"num_steps": MAX_STEPS + 1}, "'num_steps' is"),
    ({"num_steps": 10**40}, "'num_steps' is"),
    ({"num_steps": True}, "'num_steps' is True"),
    ({"spec": ["c2k3s2"], "input_shape": [1, 10**5, 10**5]}, "more than 4194304"),
])
def test_diet_checkpoint_asking_for_huge_tensors_is_refused(tmp_path, changes, message):
    from lava_thesis.diet.model import load_checkpoint

    path = _diet_ckpt(tmp_path, **changes)
    with pytest.raises(ModelFileError, match=message) as err:
        load_checkpoint(path)
    assert err.value.path == path


def test_diet_checkpoint_at_the_step_limit_loads(tmp_path):
    from lava_thesis.diet.model import load_checkpoint

    assert load_checkpoint(_diet_ckpt(tmp_path, num_steps=MAX_STEPS))[1] == MAX_STEPS


def test_parameters_beyond_any_trained_magnitude_are_refused(tmp_path):
    """A finite 1e38 weight loads into an ANN whose outputs are then infinite."""
    from lava_thesis.diet.ann import build_ann
    from lava_thesis.model_check import load_state

    ann = build_ann(["c2k3s2", "f", "d3"], (1, 6, 6))
    state = ann.state_dict()
    key = next(iter(state))
    load_state("a.pt", ann, {**state, key: state[key].clone().fill_(MAX_PARAMETER)}, "x")
    with pytest.raises(ModelFileError, match=f"a.pt: state_dict\\['{key}'\\] holds 1e\\+38"):
        load_state("a.pt", ann, {**state, key: state[key] * 0 + 1e38}, "x")


def _qs_files(tmp_path, config_changes=None, raw_card=None):
    from lava_thesis import quickstart as qs
    from lava_thesis.experiments.quickstart import QuickstartConfig

    torch.manual_seed(0)
    torch.save(qs.DenseSNN(n_in=5, hidden=4, n_out=2).state_dict(), tmp_path / "q.pt")
    config = {**QuickstartConfig().__dict__, "num_steps": 3, **(config_changes or {})}
    card = tmp_path / "q.model_card.json"
    card.write_text(raw_card if raw_card is not None else json.dumps({"config": config}))
    return tmp_path / "q.pt", card


@pytest.mark.parametrize("changes,raw,message", [
    (None, DEEP, "no valid 'config'"),
    (None, '{"config": [1]}', "'config' is a list"),
    ({"num_steps": True}, None, "config.num_steps is True"),
    ({"num_steps": 10**12}, None, "config.num_steps is 1000000000000"),
    ({"num_steps": 10**400}, None, "config.num_steps is"),
    ({"lr": float("nan")}, None, "config.lr is nan, expected a finite number"),
    ({"hidden": "x"}, None, "config.hidden is 'x', expected an integer"),
    ({"lava_tag": 5}, None, "config.lava_tag is 5, expected a string"),
    ({"extra": 1}, None, "bad config: .*extra"),
])
def test_quickstart_card_is_checked(tmp_path, changes, raw, message):
    from lava_thesis.experiments.quickstart import load_model

    state, card = _qs_files(tmp_path, changes, raw)
    with pytest.raises(ModelFileError, match=message) as err:
        load_model(state)
    assert err.value.path == card


@pytest.mark.parametrize("edit,message", [
    (lambda f: f["layer/0"].__setitem__("weight", np.zeros(0)),
     "layer/0/weight has shape \\(0,\\) for 4 neurons"),
    (lambda f: f["layer/0/neuron"].__setitem__("vThMant", np.ones((1, 1))),
     "vThMant' has shape \\(1, 1\\)"),
])
def test_netx_empty_weights_and_non_scalar_neuron_parameters_are_refused(tmp_path, edit,
                                                                          message):
    """An empty first weight divided by zero in first_layer_inputs; a (1, 1) threshold passed
    the check and failed inside the Lava run."""
    from lava_thesis.deploy.netx_check import check_netx_file
    from lava_thesis.quickstart import DenseSNN

    path = DenseSNN(n_in=5, hidden=4, n_out=2).export_hdf5(tmp_path / "n.net")
    with h5py.File(path, "r+") as f:
        key = "layer/0/weight" if "weight has" in message else "layer/0/neuron/vThMant"
        del f[key]
        edit(f)
    with pytest.raises(ModelFileError, match=message) as err:
        check_netx_file(path)
    assert err.value.path == path


def test_vanishing_input_rate_gives_no_spikes_instead_of_dividing_by_zero():
    from lava_thesis.stdp import kernels as K

    ptr, idx = K.poisson_csr(np.array([1e-303, 0.0, 1.0]), 4, 6)
    assert idx.tolist() == [2, 2, 2, 2] and ptr.tolist() == [0, 1, 2, 3, 4, 4, 4]
