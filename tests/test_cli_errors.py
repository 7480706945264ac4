"""The command line's error handling: bad input gives one line on stderr naming the problem and
exit code 2, never a traceback (unless ``--debug``); paths are checked before work starts."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import one_line_error
from typer.testing import CliRunner

import lava_thesis.cli_deploy as cli_deploy
from lava_thesis.cli import app
from lava_thesis.errors import DataFormatError, DataNotFoundError, ModelFileError
from lava_thesis.lava_run import LavaRunError, LavaTimeoutError

REPO = Path(__file__).resolve().parents[1]
NET = REPO / "netx_models" / "quickstart_mnist" / "quickstart_mnist.net"  # dense, 784 inputs
DIET_NET = REPO / "netx_models" / "diet_mnist" / "diet_mnist.net"  # conv, direct input
runner = CliRunner()




@pytest.fixture
def files(tmp_path):
    """Garbage model files, a plain file, and an output directory below ``tmp_path``."""
    garbage = bytes(range(256)) * 4
    for name in ("x.pt", "x.net", "x.h5"):
        (tmp_path / name).write_bytes(garbage)
    (tmp_path / "plain").write_text("not a directory")
    return tmp_path


def _commands(model_dir: Path, out: Path) -> dict[str, list[str]]:
    """Each model-reading command with its model file (``x.*`` in ``model_dir``) and ``--out``."""
    return {
        "eval": ["eval", str(model_dir / "x.pt")],
        "export": ["export", str(model_dir / "x.pt"), "--out", str(out / "y.net")],
        "energy": ["energy", str(model_dir / "x.pt"), "--out", str(out)],
        "run-lava": ["run-lava", str(model_dir / "x.net"), "--out", str(out)],
        "check-multimodal": ["check-multimodal", str(model_dir / "x.h5"), "--out", str(out)],
        "check-stdp": ["check-stdp", str(model_dir / "x.h5"), "--out", str(out)],
    }


# --------------------------------------------------------------------------- input files


@pytest.mark.parametrize("command", ["eval", "export", "energy", "run-lava", "check-multimodal",
                                     "check-stdp"])
def test_missing_model_file_is_one_line(command, tmp_path):
    args = _commands(tmp_path / "absent", tmp_path / "out")[command]
    one_line_error(runner.invoke(app, args), str(tmp_path / "absent"), "not found")
    assert not (tmp_path / "out").exists()  # nothing created


@pytest.mark.parametrize("command", ["eval", "export", "energy", "run-lava", "check-multimodal",
                                     "check-stdp"])
def test_directory_given_for_a_model_file(command, tmp_path):
    for name in ("x.pt", "x.net", "x.h5"):
        (tmp_path / name).mkdir()
    args = _commands(tmp_path, tmp_path / "out")[command]
    one_line_error(runner.invoke(app, args), str(tmp_path / "x."), "is a directory")


@pytest.mark.parametrize("command", ["eval", "export", "energy", "run-lava", "check-multimodal",
                                     "check-stdp"])
def test_corrupt_model_file_is_one_line(command, files):
    args = _commands(files, files / "out")[command]
    model = Path(args[1])
    line = one_line_error(runner.invoke(app, args), str(model))
    assert f"not found: {model}" not in line  # the file is there; its contents are bad
    assert not (files / "out").exists() and not (files / "out" / "y.net").exists()


def test_report_checks_its_paths(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("# x\n")
    one_line_error(runner.invoke(app, ["report", "--results", str(tmp_path / "none"),
                                       "--readme", str(readme)]), "--results", "not found")
    one_line_error(runner.invoke(app, ["report", "--results", str(tmp_path), "--readme",
                                       str(tmp_path / "no.md")]), "--readme", "no.md")
    one_line_error(runner.invoke(app, ["report", "--results", str(readme), "--readme",
                                       str(readme)]), "--results", "expected a directory")


@pytest.mark.parametrize("where, content", [
    ("results", b"[" * 100_000 + b"]" * 100_000),  # RecursionError in json: was a traceback
    ("results", b"\xff\xfe not UTF-8"),
    ("readme", b"\xff\xfe not UTF-8"),
])
def test_report_with_undecodable_files_is_one_line_naming_the_file(tmp_path, where, content):
    (tmp_path / "res").mkdir()
    readme, results = tmp_path / "README.md", tmp_path / "res" / "r.json"
    readme.write_text("# x\n")
    (readme if where == "readme" else results).write_bytes(content)
    result = runner.invoke(app, ["report", "--results", str(tmp_path / "res"), "--readme",
                                 str(readme), "--check"])
    one_line_error(result, str(readme if where == "readme" else results))


def test_old_protocol_pickle_gives_one_line_and_no_torch_warning(tmp_path):
    """torch warns about the pickle protocol on stderr before refusing the file."""
    import pickle

    (tmp_path / "m.pt").write_bytes(pickle.dumps({"spec": 1}, protocol=4))
    one_line_error(runner.invoke(app, ["eval", str(tmp_path / "m.pt")]), "m.pt",
                   "not a readable torch checkpoint")


# --------------------------------------------------------------------------- output paths


@pytest.mark.parametrize("args", [
    ["demo", "--out", "{plain}/sub"],
    ["train", "quickstart", "--out", "{plain}/sub"],
    ["train", "lite", "--out", "{plain}/sub"],
    ["train", "stdp", "--model-dir", "{plain}/models"],
    ["energy", "{x}.pt", "--out", "{plain}/sub"],
    ["check-multimodal", "{x}.h5", "--out", "{plain}/sub"],
    ["check-stdp", "{x}.h5", "--out", "{plain}/sub"],
    ["run-lava", "{x}.net", "--out", "{plain}/sub"],
    ["export", "{x}.pt", "--out", "{plain}/y.net"],
])
def test_out_under_a_file_is_rejected_before_work(args, files):
    args = [a.format(plain=files / "plain", x=files / "x") for a in args]
    one_line_error(runner.invoke(app, args), str(files / "plain"), "is a file")


def test_out_that_is_a_file_where_a_directory_is_expected(files):
    for args in (["train", "quickstart", "--out", str(files / "plain")],
                 ["demo", "--out", str(files / "plain")],
                 ["energy", str(files / "x.pt"), "--out", str(files / "plain")]):
        one_line_error(runner.invoke(app, args), "--out", str(files / "plain"),
                       "expected a directory")


def test_out_that_is_a_directory_where_a_file_is_expected(files):
    one_line_error(runner.invoke(app, ["export", str(files / "x.pt"), "--out", str(files)]),
                   "--out", str(files), "expected a file")


def test_data_dir_that_is_a_file(files):
    one_line_error(runner.invoke(app, ["eval", str(files / "x.pt"), "--data-dir",
                                       str(files / "plain")]), "--data-dir", "is a file")


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs Linux /proc (unwritable even "
                    "for root)")
def test_unwritable_out_is_rejected(files):
    out = "/proc/lava-thesis-test/out"
    one_line_error(runner.invoke(app, ["train", "quickstart", "--out", out]), "--out", out,
                   "cannot be written")
    one_line_error(runner.invoke(app, ["export", str(files / "x.pt"), "--out", out + ".net"]),
                   "--out", "cannot be written")


def test_run_lava_with_bad_out_fails_before_data_and_lava(files, monkeypatch):
    import numpy as np

    import lava_thesis.deploy.netx_run as netx_run

    calls: list[str] = []

    def fake_data(*args):
        calls.append("data")
        return np.zeros((2, 28, 28), np.uint8), np.zeros(2, int)

    def fake_lava(*args, **kwargs):
        calls.append("lava")
        return np.zeros((2, 10, 5))

    monkeypatch.setattr(cli_deploy, "load_split", fake_data)
    monkeypatch.setattr(netx_run, "netx_output_spikes", fake_lava)
    start = time.monotonic()
    one_line_error(runner.invoke(app, ["run-lava", str(NET), "--out", str(files / "plain/x")]),
                   str(files / "plain"))
    assert time.monotonic() - start < 5
    assert calls == []  # neither the data nor Lava were touched
    # The same command with a good --out reaches the data and the run (the check above is
    # what stopped it).
    result = runner.invoke(app, ["run-lava", str(NET), "--out", str(files / "good")])
    assert result.exit_code == 0, result.output
    assert calls == ["data", "lava"]
    assert (files / "good" / "quickstart_mnist_lava_fixed_pt.json").is_file()


@pytest.mark.parametrize("net, direct, hint", [(NET, True, "drop --direct"),
                                               (DIET_NET, False, "use --direct")])
def test_run_lava_input_that_does_not_fit_the_network(net, direct, hint, monkeypatch):
    import numpy as np

    import lava_thesis.deploy.netx_run as netx_run

    monkeypatch.setattr(cli_deploy, "load_split",
                        lambda *args: (np.zeros((2, 28, 28), np.uint8), np.zeros(2, int)))
    monkeypatch.setattr(netx_run, "run_lava", _raising(AssertionError("Lava must not start")))
    args = ["run-lava", str(net), *(["--direct"] if direct else [])]
    one_line_error(runner.invoke(app, args), str(net), "first layer", hint)


# --------------------------------------------------------------------------- choices


@pytest.mark.parametrize("args, option", [
    (["train", "backprop"], "'method'"),
    (["train", "hybrid", "--reset", "subtract"], "--reset"),
    (["train", "lite", "--task", "poetry"], "--task"),
    (["eval", "{x}.pt", "--dataset", "imagenet"], "--dataset"),
    (["run-lava", "{x}.net", "--tag", "float"], "--tag"),
    (["run-lava", "{x}.net", "--readout", "max"], "--readout"),
])
def test_unknown_choice_is_a_usage_error(args, option, files):
    args = [a.format(x=files / "x") for a in args]
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and "Traceback" not in result.output
    text = " ".join(result.stderr.replace("│", " ").split())  # the error box wraps lines
    assert option in text and f"'{args[-1]}' is not one of" in text, text


# --------------------------------------------------------------------------- the handler


def _raising(error: BaseException):
    def load(*args, **kwargs):
        raise error
    return load


@pytest.mark.parametrize("error, names", [
    (ModelFileError("m.pt", "dataset 'w' holds NaN", "finite weights"), ["m.pt", "NaN"]),
    (DataFormatError("d/t10k.idx", "truncated", "an IDX file"), ["d/t10k.idx", "truncated"]),
    (DataNotFoundError("d/MNIST/raw", ["t10k-images-idx3-ubyte"]), ["d/MNIST/raw", "t10k"]),
    (PermissionError(13, "Permission denied", "/data/x.pt"), ["/data/x.pt: Permission denied"]),
    (IsADirectoryError(21, "Is a directory", "/data/dir"), ["/data/dir: Is a directory"]),
    (LavaTimeoutError("Lava run of 9 steps did not finish in 5 s; killed"), ["did not finish"]),
    (LavaRunError("Lava run failed: ValueError: boom at step 3",
                  "Traceback (most recent call last):\n  File x\nValueError: boom at step 3"),
     ["boom at step 3", "--debug"]),
])
def test_library_errors_are_one_line_and_debug_shows_the_traceback(error, names, files,
                                                                   monkeypatch):
    monkeypatch.setattr(cli_deploy, "load_torch_model", _raising(error))
    line = one_line_error(runner.invoke(app, ["eval", str(files / "x.pt")]), *names)
    assert "Traceback" not in line
    result = runner.invoke(app, ["--debug", "eval", str(files / "x.pt")])
    assert result.exit_code == 2
    assert result.stderr.startswith("Traceback (most recent call last):")
    assert "load_torch_model(model, run_on)" in result.stderr  # the frames, down to the raise
    assert result.stderr.rstrip().splitlines()[-1] == line  # then the same one line
    if isinstance(error, LavaRunError) and error.detail:
        assert error.detail in result.stderr  # the worker's own traceback


def test_bugs_are_not_hidden(files, monkeypatch):
    monkeypatch.setattr(cli_deploy, "load_torch_model", _raising(ZeroDivisionError("a bug")))
    result = runner.invoke(app, ["eval", str(files / "x.pt")])
    assert result.exit_code == 1 and isinstance(result.exception, ZeroDivisionError)
    assert "error:" not in result.stderr


def test_console_entry_point_prints_one_line(files):
    """The installed program (not CliRunner): one line, exit code 2; --debug: a traceback."""
    cmd = [sys.executable, "-c", "from lava_thesis.cli import main; main()"]
    proc = subprocess.run([*cmd, "eval", str(files / "none.pt")], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == f"error: model file not found: {files / 'none.pt'}\n"
    proc = subprocess.run([*cmd, "--debug", "check-multimodal", str(files / "x.h5")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "Traceback (most recent call last)" in proc.stderr
    assert proc.stderr.splitlines()[-1].startswith(f"error: {files / 'x.h5'}")


def test_images_and_utterances_without_common_classes_are_refused_in_one_line(monkeypatch):
    import numpy as np

    import lava_thesis.cli_train as cli_train
    import lava_thesis.multimodal.features as features

    def fake_fsdd(split, data_dir, snr_db=None):  # utterances of classes 0-9
        return np.zeros((10, 28, 28), np.uint8), np.arange(10)

    monkeypatch.setattr(features, "fsdd_images", fake_fsdd)
    images = (np.zeros((10, 28, 28), np.uint8), np.arange(10))
    data = cli_train.paired_data(images, images, None)  # every class in both: fine
    assert list(data.audio_test[1]) == list(range(10))
    no_one = (images[0][:9], np.r_[0, 2:10])  # class 1 has no test image
    tiny, args = cli_train_app(lambda: cli_train.paired_data(images, no_one, None))
    result = runner.invoke(tiny, args)
    line = one_line_error(result, "[1]", "test")
    assert "only one of the two modalities" in line


def cli_train_app(body):
    """A one-command typer app that runs ``body`` (to test helpers that exit with ``fail``)."""
    import typer

    tiny = typer.Typer()

    @tiny.command()
    def run():
        body()

    @tiny.command()
    def unused():  # two commands, so typer keeps the subcommand form
        pass

    return tiny, ["run"]


@pytest.mark.parametrize("command", ["eval", "export"])
def test_a_checkpoint_of_another_kind_is_named_as_such(tmp_path, command):
    import torch

    path = tmp_path / "hybrid_mnist_ann.pt"  # a hybrid ANN checkpoint: a bare state dict
    torch.save({"0.weight": torch.zeros(2, 3)}, path)
    args = [command, str(path)] + (["--out", str(tmp_path / "y.net")] if command == "export"
                                   else [])
    line = one_line_error(runner.invoke(app, args), str(path))
    assert "neither a DIET checkpoint" in line and "model card" in line
