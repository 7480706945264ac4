"""Model files are validated before anything is built: STDP/multimodal ``.h5`` and ``.pt``
checkpoints. Each test writes a small valid file with the library's own writer, corrupts one
field, and expects a :class:`ModelFileError` naming the file and the problem."""

from __future__ import annotations

import json
import pickle
import tempfile
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lava_thesis.diet import DietSNN
from lava_thesis.diet.model import load_checkpoint
from lava_thesis.errors import ModelFileError
from lava_thesis.multimodal.engine import MultimodalNetwork
from lava_thesis.multimodal.model_io import load_pair_model, save_pair_model
from lava_thesis.multimodal.params import CrossParams
from lava_thesis.stdp import STDPNetwork, STDPParams
from lava_thesis.stdp.model_io import load_model, save_model

P = STDPParams(n_input=6, n_exc=4)


def _stdp_net(seed: int = 0) -> STDPNetwork:
    rng = np.random.default_rng(seed)
    net = STDPNetwork(P, seed=seed)
    mask = np.ones((4, 6))
    mask[1, 2] = 0  # one pruned synapse
    net.mask, net.weights = mask, rng.uniform(0, 0.9, (4, 6)) * mask
    net.theta[:] = rng.uniform(0, 3, 4)
    return net


def _stdp_file(folder: Path) -> Path:
    return save_model(folder / "stdp.h5", _stdp_net(), np.array([3, -1, 9, 0]), {"note": "x"})


def _edit(path: Path, edit) -> None:
    with h5py.File(path, "r+") as f:
        edit(f)


def _replace(name: str, data):
    def edit(f):
        del f[name]
        f.create_dataset(name, data=data)
    return edit


def _set(name: str, index, value):
    return lambda f: f[name].__setitem__(index, value)


def _params(**change):
    return lambda f: f.attrs.__setitem__("params", json.dumps({**P.to_dict(), **change}))


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


STDP_CORRUPTIONS = {
    "nan theta": (_set("theta", 1, np.nan), "'theta' holds 1 non-finite"),
    "negative theta": (_set("theta", 0, -0.5), "'theta' holds -0.5, outside"),
    "mask 2": (_set("mask", (0, 0), 2), "'mask' holds 2, not one of \\[0, 1\\]"),
    "label 99": (_set("assignments", 2, 99), "'assignments' holds 99.0, outside \\[-1, 10\\)"),
    "label -2": (_set("assignments", 2, -2), "outside \\[-1, 10\\)"),
    "nan weight": (_set("weights", (0, 1), np.nan), "'weights' holds 1 non-finite"),
    "weight above bound": (_set("weights", (0, 1), 1e6), "outside \\[0, 1\\]"),
    "pruned weight": (_set("weights", (1, 2), 0.5), "pruned synapses"),
    "missing theta": (lambda f: f.__delitem__("theta"), "dataset 'theta' missing"),
    "float labels": (_replace("assignments", np.zeros(4)), "'assignments' has dtype float64"),
    "wrong shape": (_replace("weights", np.zeros((4, 5))), "has shape \\(4, 5\\), expected"),
    "nan hyperparameter": (_params(exc_vth=float("nan")), "params.exc_vth is nan"),
    "inf hyperparameter": (_params(tau_pre=float("inf")), "params.tau_pre is inf"),
    "fractional count": (_params(n_exc=2.5), "params.n_exc is 2.5, expected an integer"),
    "zero count": (_params(present_steps=0), "bad params: .*present_steps must be >= 1"),
    "negative rate": (_params(max_rate_hz=-1.0), "bad params"),
    "unknown parameter": (_params(bogus=1), "unknown STDP parameters"),
    "params not json": (lambda f: f.attrs.__setitem__("params", "{oops"), "not JSON"),
    "no params": (lambda f: f.attrs.__delitem__("params"), "attribute 'params' missing"),
    "n_classes 0": (lambda f: f.attrs.__setitem__("n_classes", 0), "n_classes' holds 0"),
    "other format": (lambda f: f.attrs.__setitem__("format", "x"), "not a lava-thesis STDP"),
}


@pytest.mark.parametrize("case", sorted(STDP_CORRUPTIONS))
def test_corrupt_stdp_model_is_refused_naming_the_file(tmp_path, case):
    edit, message = STDP_CORRUPTIONS[case]
    path = _stdp_file(tmp_path)
    _edit(path, edit)
    with pytest.raises(ModelFileError, match=message) as err:
        load_model(path)
    assert err.value.path == path and str(path) in str(err.value)


@pytest.mark.parametrize("content", [b"", b"not hdf5 at all", None], ids=["empty", "text",
                                                                            "truncated"])
def test_unreadable_h5_files_are_model_file_errors(tmp_path, content):
    path = _stdp_file(tmp_path)
    if content is None:
        _truncate(path)
    else:
        path.write_bytes(content)
    with pytest.raises(ModelFileError, match="not a readable HDF5 file") as err:
        load_model(path)
    assert err.value.path == path
    with pytest.raises(ModelFileError, match="not a readable HDF5 file"):
        load_pair_model(path)


def test_missing_model_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.h5"):
        load_model(tmp_path / "nope.h5")


def test_valid_stdp_model_loads_unchanged(tmp_path):
    net = _stdp_net()
    back, labels, card = load_model(_stdp_file(tmp_path))
    for name in ("weights", "mask", "theta"):
        np.testing.assert_array_equal(getattr(back, name), getattr(net, name))
    assert back.params == net.params and card == {"note": "x"}
    np.testing.assert_array_equal(labels, [3, -1, 9, 0])


def test_files_without_n_classes_attribute_still_load(tmp_path):
    """Models written before the attribute existed: labels are checked against 10 classes."""
    path = _stdp_file(tmp_path)
    _edit(path, lambda f: f.attrs.__delitem__("n_classes"))
    assert load_model(path)[1][2] == 9
    _edit(path, _set("assignments", 2, 10))
    with pytest.raises(ModelFileError, match="outside \\[-1, 10\\)"):
        load_model(path)


@settings(max_examples=30, deadline=None)
@given(row=st.integers(0, 3), value=st.floats(allow_nan=True, allow_infinity=True),
       field=st.sampled_from(["theta", "weights"]))
def test_any_bad_value_is_refused_and_any_valid_one_round_trips(row, value, field):
    """Property: a theta or (unpruned) weight value loads back bit for bit when it is finite
    and in range (theta >= 0, weights in [0, max(w_max, norm_total)]), and is refused naming
    the file otherwise."""
    bound = max(P.w_max, P.norm_total, P.w_init_max)
    with tempfile.TemporaryDirectory() as tmp:
        path = _stdp_file(Path(tmp))
        index = row if field == "theta" else (row, 0)
        _edit(path, _set(field, index, value))
        valid = np.isfinite(value) and value >= 0 and (field == "theta" or value <= bound)
        if valid:
            np.testing.assert_array_equal(getattr(load_model(path)[0], field)[index], value)
        else:
            with pytest.raises(ModelFileError, match=f"'{field}'") as err:
                load_model(path)
            assert err.value.path == path


def _pair_file(folder: Path) -> tuple[Path, MultimodalNetwork]:
    net = MultimodalNetwork(P, STDPParams(n_input=5, n_exc=3), CrossParams(w_init=0.1))
    net.w_image_audio = np.random.default_rng(1).uniform(0, 1, (3, 4))
    labels = {"image_alone": np.arange(4), "audio_alone": np.arange(3),
              "image_both": np.array([-1, 1, 2, 3]), "audio_both": np.array([9, 8, 7])}
    return save_pair_model(folder / "pair.h5", net, labels, {"n": 1}), net


PAIR_CORRUPTIONS = {
    "nan cross weight": (_set("w_image_audio", (0, 0), np.nan), "'w_image_audio' holds 1 non"),
    "negative cross weight": (_set("w_audio_image", (0, 0), -1.0), "only excite"),
    "cross shape": (_replace("w_image_audio", np.zeros((4, 3))), "has shape \\(4, 3\\)"),
    "nan cross param": (lambda f: f.attrs.__setitem__("cross", json.dumps(
        {**CrossParams().to_dict(), "eta": float("nan")})), "cross.eta is nan"),
    "label 99 both": (_set("audio/assignments_both", 0, 99), "'audio/assignments_both' holds"),
    "mask 2 image": (_set("image/mask", (0, 0), 2), "'image/mask' holds 2"),
    "nan audio theta": (_set("audio/theta", 0, np.nan), "'audio/theta' holds 1 non-finite"),
    "missing group": (lambda f: f.__delitem__("image"), "group 'image' missing"),
    "missing both labels": (lambda f: f["audio"].__delitem__("assignments_both"),
                            "dataset 'audio/assignments_both' missing"),
    "nan ensemble param": (lambda f: f["audio"].attrs.__setitem__("params", json.dumps(
        {**STDPParams(n_input=5, n_exc=3).to_dict(), "eta": float("nan")})),
        "audio/params.eta is nan"),
}


@pytest.mark.parametrize("case", sorted(PAIR_CORRUPTIONS))
def test_corrupt_multimodal_model_is_refused_naming_the_file(tmp_path, case):
    edit, message = PAIR_CORRUPTIONS[case]
    path, _ = _pair_file(tmp_path)
    _edit(path, edit)
    with pytest.raises(ModelFileError, match=message) as err:
        load_pair_model(path)
    assert err.value.path == path


def test_valid_multimodal_model_loads_unchanged(tmp_path):
    path, net = _pair_file(tmp_path)
    back, labels, card = load_pair_model(path)
    np.testing.assert_array_equal(back.w_image_audio, net.w_image_audio)
    np.testing.assert_array_equal(back.image.weights, net.image.weights)
    np.testing.assert_array_equal(labels["image_both"], [-1, 1, 2, 3])
    assert back.cross == net.cross and card == {"n": 1}


# --- .pt checkpoints -----------------------------------------------------------------------

def _diet() -> DietSNN:
    torch.manual_seed(0)
    net = DietSNN(["c2k3s2", "f", "d3"], input_shape=(1, 6, 6), thresholds=[0.3, 0.5])
    net(torch.zeros(1, 1, 6, 6, 1))
    return net


def _ckpt(net: DietSNN, **change) -> dict:
    return {"spec": net.spec, "input_shape": list(net.input_shape), "num_steps": 4,
            "readout": "spikes", "state_dict": net.state_dict(), **change}


def _with_state(net: DietSNN, key: str, value) -> dict:
    state = dict(net.state_dict())
    if value is None:
        del state[key]
    else:
        state[key] = value
    return _ckpt(net, state_dict=state)


def _ckpt_cases(net: DietSNN) -> dict:
    weight = "blocks.0.synapse.weight"
    nan = net.state_dict()[weight].clone()
    nan[0, 0, 0, 0, 0] = float("nan")
    return {
        "bad spec": (_ckpt(net, spec=["x9", "d3"]), "does not parse: .*unknown spec"),
        "zero stride": (_ckpt(net, spec=["c2k3s0", "f", "d3"]), "does not parse"),
        "zero size": (_ckpt(net, spec=["c2k3s2", "f", "d0"]), "has a zero size"),
        "spec not a list": (_ckpt(net, spec="c2k3s2,f,d3"), "not a list of layer strings"),
        "huge spec": (_ckpt(net, spec=["f", "d100000000"]), "needs 3600000000 weights"),
        "num_steps 0": (_ckpt(net, num_steps=0), "'num_steps' is 0"),
        "num_steps text": (_ckpt(net, num_steps="5"), "'num_steps' is '5'"),
        "bad readout": (_ckpt(net, readout="votes"), "'readout' is 'votes'"),
        "bad input shape": (_ckpt(net, input_shape=[1, 0, 6]), "'input_shape' is"),
        "nan tensor": (_with_state(net, weight, nan), f"'{weight}'\\] holds 1 non-finite"),
        "wrong shape": (_with_state(net, weight, torch.zeros(4, 1, 3, 3, 1)),
                        f"'{weight}' has shape \\(4, 1, 3, 3, 1\\), the model needs"),
        "missing tensor": (_with_state(net, "blocks.0.neuron.current_decay", None),
                           "missing \\['blocks.0.neuron.current_decay'\\]"),
        "too few weights": (_with_state(net, weight, None), "needs 72 weights, the state_dict"),
        "extra tensor": (_with_state(net, "extra", torch.zeros(1)), "unexpected \\['extra'\\]"),
        "not a tensor": (_with_state(net, weight, [1.0]), "is a list, not a tensor"),
        "no state_dict": ({"spec": net.spec, "input_shape": [1, 6, 6]},
                          "missing keys \\['state_dict'\\]"),
        "not a dict": ([1, 2, 3], "holds a list, not a dict"),
    }


def test_corrupt_diet_checkpoints_are_refused_naming_the_file(tmp_path):
    net = _diet()
    for case, (content, message) in _ckpt_cases(net).items():
        path = tmp_path / f"{case.replace(' ', '_')}.pt"
        torch.save(content, path)
        with pytest.raises(ModelFileError, match=message) as err:
            load_checkpoint(path)
        assert err.value.path == path, case


@pytest.mark.parametrize("case", ["truncated", "text", "code"])
def test_unreadable_checkpoints_are_refused_and_never_run_code(tmp_path, case):
    path, marker = tmp_path / "m.pt", tmp_path / "pwned"
    if case == "truncated":
        torch.save(_ckpt(_diet()), path)
        _truncate(path)
    elif case == "text":
        path.write_text("not a checkpoint")
    else:  # a pickle that would create a file when unpickled without weights_only

        class Exploit:
            def __reduce__(self):
                return (Path.touch, (marker,))

        with open(path, "wb") as handle:
            pickle.dump(Exploit(), handle, protocol=2)
    with pytest.raises(ModelFileError, match="not a readable torch checkpoint") as err:
        load_checkpoint(path)
    assert err.value.path == path and not marker.exists()
    # the message never advises loading with weights_only=False (which would run the code)
    assert "weights_only" not in str(err.value) and "\n" not in str(err.value)


def test_valid_diet_checkpoint_gives_the_same_outputs(tmp_path):
    net = _diet()
    torch.save(_ckpt(net), tmp_path / "ok.pt")
    loaded, steps = load_checkpoint(tmp_path / "ok.pt")
    x = torch.rand(2, 1, 6, 6, 4, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), net(x), rtol=0, atol=0)
    assert steps == 4


def test_quickstart_state_dict_is_checked(tmp_path):
    from lava_thesis import quickstart as qs
    from lava_thesis.experiments.quickstart import QuickstartConfig, load_model

    torch.manual_seed(0)
    net = qs.DenseSNN(n_in=5, hidden=4, n_out=2)
    card = {"config": {**QuickstartConfig().__dict__, "num_steps": 3}}
    (tmp_path / "q.model_card.json").write_text(json.dumps(card))
    torch.save(net.state_dict(), tmp_path / "q.pt")
    loaded, cfg = load_model(tmp_path / "q.pt")
    x = torch.rand(1, 5, 6, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), net(x), rtol=0, atol=0)
    state = net.state_dict()
    state["blocks.1.synapse.weight_g"] = torch.full_like(state["blocks.1.synapse.weight_g"],
                                                         float("inf"))
    torch.save(state, tmp_path / "q.pt")
    with pytest.raises(ModelFileError, match="q.pt: .*weight_g'\\] holds"):
        load_model(tmp_path / "q.pt")
    torch.save({"blocks.0.synapse.weight": torch.zeros(3)}, tmp_path / "q.pt")
    with pytest.raises(ModelFileError, match="missing keys"):
        load_model(tmp_path / "q.pt")
    (tmp_path / "q.model_card.json").write_text(json.dumps({**card, "config": {
        **card["config"], "num_steps": 0}}))
    with pytest.raises(ModelFileError, match="q.model_card.json: config.num_steps is 0"):
        load_model(tmp_path / "q.pt")
