"""Device choice for gradient training: ``--device``/``--amp``/``--deterministic`` on the command
line and in :class:`~lava_thesis.diet.train.TrainConfig`. This machine has no CUDA: asking for
it must give one clear error (exit code 2), ``auto`` must pick the CPU."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest
import torch
from conftest import one_line_error
from typer.testing import CliRunner

from lava_thesis.cli import app
from lava_thesis.cli_common import Method
from lava_thesis.cli_train import check_device_options
from lava_thesis.device import DeviceError, check_amp, resolve_device, set_deterministic
from lava_thesis.training import fit

no_cuda = pytest.mark.skipif(torch.cuda.is_available(),
                             reason="checks the behaviour of a machine without CUDA")
runner = CliRunner()




@no_cuda
@pytest.mark.parametrize("device", ["cuda", "cuda:1", "CUDA"])
def test_cuda_without_cuda_is_one_line_exit_2(tmp_path, device):
    result = runner.invoke(app, ["train", "diet", "--device", device, "--out", str(tmp_path)])
    one_line_error(result, "--device", "CUDA is not available")
    assert list(tmp_path.iterdir()) == []  # refused before any work


@pytest.mark.parametrize("args, names", [
    (["--device", "tpu"], ["--device", "tpu"]),
    (["--amp", "bf16"], ["--amp bf16", "CUDA"]),
    (["--amp", "fp8"], ["--amp", "fp8"]),
    (["--distributed"], ["--distributed", "torchrun"]),
])
def test_bad_device_options_are_one_line_exit_2(tmp_path, monkeypatch, args, names):
    for var in ("RANK", "WORLD_SIZE", "LOCAL_RANK"):
        monkeypatch.delenv(var, raising=False)
    result = runner.invoke(app, ["train", "diet", *args, "--out", str(tmp_path)])
    one_line_error(result, *names)


def test_device_options_apply_to_diet_and_quickstart_only(tmp_path):
    result = runner.invoke(app, ["train", "stdp", "--device", "auto", "--out", str(tmp_path)])
    one_line_error(result, "--device", "stdp")
    result = runner.invoke(app, ["train", "quickstart", "--amp", "bf16", "--out",
                                 str(tmp_path)])
    one_line_error(result, "diet only", "quickstart")
    result = runner.invoke(app, ["train", "hybrid", "--amp", "bf16", "--out", str(tmp_path)])
    one_line_error(result, "diet only", "hybrid")
    result = runner.invoke(app, ["train", "quickstart", "--device", "cuda", "--out",
                                 str(tmp_path)])
    one_line_error(result, "--device", "CUDA is not available")
    assert check_device_options(Method.quickstart, "auto", "off", False, False) == "cpu"


@no_cuda
def test_auto_picks_the_cpu_here():
    assert resolve_device("auto") == torch.device("cpu")
    assert resolve_device("auto", local_rank=3) == torch.device("cpu")
    assert check_device_options(Method.diet, "auto", "off", False, False) == "cpu"
    assert check_device_options(Method.diet, "cpu", "off", True, False) == "cpu"


def test_amp_is_refused_on_the_cpu():
    cpu = torch.device("cpu")
    assert check_amp("off", cpu) is None
    for mode in ("bf16", "fp16"):
        with pytest.raises(DeviceError, match="needs a CUDA device"):
            check_amp(mode, cpu)


@no_cuda
def test_train_snn_on_auto_equals_cpu_and_refuses_cuda():
    from lava_thesis.diet import DietSNN
    from lava_thesis.diet.train import TrainConfig, train_snn

    rng = np.random.default_rng(0)
    images, labels = rng.integers(0, 256, (12, 8, 8), dtype=np.uint8), rng.integers(0, 2, 12)
    states = []
    for device in ("cpu", "auto"):
        torch.manual_seed(0)
        net = DietSNN(["c2k3s2", "f", "d2"], (1, 8, 8), thresholds=[0.2, 0.4])
        train_snn(net, images, labels, 2, TrainConfig(epochs=1, batch_size=6, device=device))
        states.append(net.state_dict())
        assert next(net.parameters()).device.type == "cpu"
    for name, value in states[0].items():
        assert torch.equal(value, states[1][name]), name
    with pytest.raises(DeviceError, match="CUDA is not available"):
        train_snn(net, images, labels, 2, TrainConfig(device="cuda"))
    with pytest.raises(DeviceError, match="--amp fp16"):
        train_snn(net, images, labels, 2, TrainConfig(amp="fp16"))


def test_pixels_input_equals_snn_input():
    from lava_thesis.diet.train import pixels_input, snn_input

    images = np.random.default_rng(1).integers(0, 256, (5, 2, 3, 4), dtype=np.uint8)
    expected = snn_input(images, 4, 3)
    got = pixels_input(torch.from_numpy(images), 4, 3)
    assert got.dtype == expected.dtype and torch.equal(got, expected)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_fit_under_autocast_learns(dtype):
    """The AMP branch of the training loop (autocast; fp16 also scales the loss): offered on
    CUDA only by the command line, exercised here on the CPU, where autocast exists too."""
    torch.manual_seed(0)
    x = torch.randn(64, 4)
    y = (x[:, 0] > 0).long().numpy()
    model = torch.nn.Linear(4, 2)
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    history = fit(model, lambda idx: (model(x[idx]), 0.0), y, opt, epochs=8, batch_size=16,
                  generator=torch.Generator().manual_seed(0), amp_dtype=dtype)
    assert history[-1] > 0.9 and history[-1] >= history[0]


def test_set_deterministic_toggles_torch():
    before = torch.are_deterministic_algorithms_enabled()
    try:
        set_deterministic(True)
        assert torch.are_deterministic_algorithms_enabled()
        set_deterministic(False)
        assert not torch.are_deterministic_algorithms_enabled()
    finally:
        torch.use_deterministic_algorithms(before)


def test_deterministic_training_matches_the_default():
    from lava_thesis.diet import DietSNN
    from lava_thesis.diet.train import TrainConfig, train_snn

    rng = np.random.default_rng(2)
    images, labels = rng.integers(0, 256, (8, 8, 8), dtype=np.uint8), rng.integers(0, 2, 8)
    cfg = TrainConfig(epochs=1, batch_size=4)
    states = []
    before = torch.are_deterministic_algorithms_enabled()
    try:
        for det in (False, True):
            torch.manual_seed(0)
            net = DietSNN(["c2k3s2", "f", "d2"], (1, 8, 8), thresholds=[0.2, 0.4])
            train_snn(net, images, labels, 2, replace(cfg, deterministic=det))
            states.append(net.state_dict())
    finally:
        torch.use_deterministic_algorithms(before)
    for name, value in states[0].items():
        assert torch.equal(value, states[1][name]), name


def test_python_dash_m_cli_runs():
    """``python -m lava_thesis.cli`` (what ``torchrun -m`` runs) reaches the command line."""
    result = subprocess.run([sys.executable, "-m", "lava_thesis.cli", "train", "--help"],
                            capture_output=True, text=True, timeout=120,
                            env={**os.environ, "OMP_NUM_THREADS": "1", "COLUMNS": "200"})
    assert result.returncode == 0, result.stderr
    assert "--distributed" in result.stdout and "--device" in result.stdout


@no_cuda
@pytest.mark.parametrize("command", ["eval", "energy"])
def test_evaluating_commands_take_a_device_and_refuse_missing_cuda(tmp_path, command):
    result = runner.invoke(app, [command, str(tmp_path / "m.pt"), "--device", "cuda"])
    one_line_error(result, "--device", "CUDA is not available")


def test_eval_and_energy_run_a_diet_model_on_the_chosen_device(tmp_path, data_root):
    from lava_thesis.diet import DietSNN

    torch.manual_seed(0)
    net = DietSNN(["c4k3s2", "f", "d10"], input_shape=(1, 28, 28), readout="integrator")
    net(torch.zeros(1, 1, 28, 28, 1))
    torch.save({"spec": net.spec, "input_shape": [1, 28, 28], "readout": "integrator",
                "state_dict": net.state_dict()}, tmp_path / "m.pt")
    data = ["--data-dir", str(data_root)]
    cpu = runner.invoke(app, ["eval", str(tmp_path / "m.pt"), *data])
    auto = runner.invoke(app, ["eval", str(tmp_path / "m.pt"), "--device", "auto", *data])
    assert cpu.exit_code == 0 and cpu.output == auto.output and "accuracy" in cpu.output
    result = runner.invoke(app, ["energy", str(tmp_path / "m.pt"), "--device", "auto",
                                 "--samples", "20", "--out", str(tmp_path / "o"),
                                 "--allow-dirty", *data])
    assert result.exit_code == 0, result.output
    assert "energy_ratio" in result.output


def test_stdb_on_auto_equals_cpu_and_leaves_the_network_on_the_cpu():
    from lava_thesis.diet.ann import build_ann
    from lava_thesis.hybrid import HybridSNN
    from lava_thesis.hybrid.stdb import STDBConfig, train_stdb

    images = np.random.default_rng(0).integers(0, 256, (16, 1, 8, 8), dtype=np.uint8)
    labels = np.arange(16) % 3
    nets = []
    for device in ("cpu", "auto"):
        torch.manual_seed(0)
        snn = HybridSNN(build_ann(["c4k3s2", "f", "d3"], (1, 8, 8)), [0.5, 1.0])
        train_stdb(snn, images, labels, 4, STDBConfig(epochs=1, batch_size=8, device=device))
        assert next(snn.parameters()).device.type == "cpu"
        nets.append(snn)
    for a, b in zip(nets[0].parameters(), nets[1].parameters(), strict=True):
        assert torch.equal(a, b)
    if not torch.cuda.is_available():
        with pytest.raises(DeviceError, match="CUDA"):
            train_stdb(nets[0], images, labels, 4, STDBConfig(epochs=1, device="cuda"))


@no_cuda
def test_lite_takes_device_but_not_amp(tmp_path):
    result = runner.invoke(app, ["train", "lite", "--task", "events", "--device", "cuda",
                                 "--out", str(tmp_path)])
    one_line_error(result, "--device", "CUDA is not available")
    result = runner.invoke(app, ["train", "lite", "--amp", "bf16", "--out", str(tmp_path)])
    one_line_error(result, "diet only", "lite")
    assert check_device_options(Method.lite, "auto", "off", False, False) == "cpu"


@pytest.mark.parametrize("task, module", [
    ("sentiment", "lite_sentiment"), ("length", "lite_length"),
    ("length-smnist", "lite_length_smnist"), ("events", "lite_events"),
    ("seq2seq", "lite_seq2seq")])
def test_every_lite_task_gets_the_device(tmp_path, monkeypatch, task, module):
    import importlib

    experiment = importlib.import_module(f"lava_thesis.experiments.{module}")
    seen = {}

    def fake_run(cfg, **kw):
        seen["device"] = cfg.device
        return {}

    monkeypatch.setattr(experiment, "run", fake_run)
    result = runner.invoke(app, ["train", "lite", "--task", task, "--device", "auto", "--out",
                                 str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert seen["device"] == ("cuda" if torch.cuda.is_available() else "cpu")
