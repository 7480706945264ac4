"""Shared pieces of the ``lava-thesis`` command line: option types, choices, path checks, data
loading, and the one place where errors caused by the user become one line on stderr with exit
code 2 (:class:`UserErrorGroup`)."""

from __future__ import annotations

import math
import os
import tempfile
import traceback
from collections.abc import Mapping
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from typer.core import TyperGroup

from lava_thesis.errors import USER_ERRORS
from lava_thesis.lava_run import LavaRunError
from lava_thesis.results import DirtyTreeError, check_provenance

DataDir = Annotated[Path | None, typer.Option(
    "--data-dir", help="Data root (else $LAVA_THESIS_DATA, else ~/.cache/lava-thesis/data).")]
Seed = Annotated[int, typer.Option("--seed", help="Random seed.")]
AllowDirty = Annotated[bool, typer.Option(
    "--allow-dirty", help="Write into the repository's results/ although the working tree has "
                          "uncommitted changes (the file records \"dirty\": true).")]


def check_spec(layers, images) -> None:
    """Exit with code 2 unless the DIET layer spec parses for ``images`` (N, [C,] H, W)."""
    from lava_thesis.diet import parse_spec

    try:
        parse_spec(layers, images.shape[1:] if images.ndim == 4 else (1, *images.shape[1:]))
    except ValueError as err:
        fail(f"--spec: {err}")


def check_clean_out(out: Path | None, allow_dirty: bool) -> None:
    """Refuse, before any work, results for the repository's results/ from a dirty tree."""
    if out is None:
        return
    try:
        check_provenance(out, allow_dirty=allow_dirty)
    except DirtyTreeError as err:
        fail(str(err))



#: Errors that bad input causes (not bugs): reported as one line, exit code 2. OSError covers
#: paths given on the command line (missing, unreadable, a directory for a file, ...);
#: DirtyTreeError results for the repository's results/ from a tree with uncommitted changes.
CLI_ERRORS: tuple[type[BaseException], ...] = (*USER_ERRORS, LavaRunError, OSError,
                                               DirtyTreeError)


class Method(str, Enum):
    quickstart = "quickstart"
    stdp = "stdp"
    multimodal = "multimodal"
    hybrid = "hybrid"
    diet = "diet"
    lite = "lite"


class Task(str, Enum):
    """LITE-SNN (method 5) tasks."""

    sentiment = "sentiment"
    events = "events"
    seq2seq = "seq2seq"
    length = "length"
    length_smnist = "length-smnist"


class Readout(str, Enum):
    """DIET class readout (see lava_thesis.diet.model)."""

    integrator = "integrator"
    spikes = "spikes"


class Augment(str, Enum):
    """DIET training-time augmentation (see lava_thesis.diet.augment)."""

    none = "none"
    shift = "shift"
    crop_flip = "crop-flip"


class Dataset(str, Enum):
    mnist = "mnist"
    fashion_mnist = "fashion-mnist"
    cifar10 = "cifar10"


class Tag(str, Enum):
    """Lava ProcessModels: bit-accurate fixed point or float (see lava_thesis.lava_run)."""

    fixed_pt = "fixed_pt"
    floating_pt = "floating_pt"


class Rule(str, Enum):
    """STDP weight dependence (see lava_thesis.stdp.rules)."""

    power_law = "power-law"
    soft_bound = "soft-bound"
    hard_bound = "hard-bound"


class PruneBy(str, Enum):
    """What STDP pruning removes first (see lava_thesis.stdp.core.prune_rows)."""

    weight = "weight"
    correlation = "correlation"


class Reset(str, Enum):
    """Reset of the hybrid method's torch SNN."""

    hard = "hard"
    soft = "soft"


# --------------------------------------------------------------------------- errors


def fail(message: str) -> None:
    """Print ``error: <message>`` on stderr and exit with code 2."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=2)


def describe(err: BaseException) -> str:
    """One line saying what went wrong, for an error in :data:`CLI_ERRORS`.

    A Lava run failure gives its summary (the worker's traceback is left to ``--debug``); an
    OSError with a file name gives ``<file>: <reason>``; other multi-line messages are joined.
    """
    if isinstance(err, LavaRunError):
        text = err.summary + (" (--debug shows the Lava worker's traceback)"
                              if err.detail else "")
    elif isinstance(err, OSError) and err.strerror and err.filename and not isinstance(
            err, USER_ERRORS):
        text = f"{err.filename}: {err.strerror}"
        if err.filename2:
            text += f" (and {err.filename2})"
    else:
        text = str(err) or type(err).__name__
    return "; ".join(line.strip() for line in text.splitlines() if line.strip())


class UserErrorGroup(TyperGroup):
    """The command group that turns errors caused by bad input into one line.

    An error in :data:`CLI_ERRORS` raised by any command is printed as ``error: <what>`` on
    stderr and the program exits with code 2; with the group's ``--debug`` flag, the full
    traceback is printed first. Other exceptions (bugs) propagate with their traceback.
    """

    def invoke(self, ctx: typer.Context):
        try:
            return super().invoke(ctx)
        except CLI_ERRORS as err:
            if ctx.params.get("debug"):
                typer.echo(traceback.format_exc(), err=True, nl=False)
            fail(describe(err))


# --------------------------------------------------------------------------- paths


def _nearest_existing(path: Path) -> Path:
    """``path`` or its nearest ancestor that exists."""
    path = Path(os.path.abspath(path))
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _writable_dir_problem(path: Path) -> str | None:
    """Why files cannot be written in directory ``path`` (created if missing), or None."""
    if path.exists() and not path.is_dir():
        return "is a file, expected a directory"
    base = _nearest_existing(path)
    if not base.is_dir():
        return f"cannot be created: {base} is a file"
    try:  # try it: permission bits do not tell for root, ACLs or read-only file systems
        with tempfile.TemporaryFile(dir=base):
            pass
    except OSError as err:
        return f"cannot be written: no file can be created in {base} ({err.strerror or err})"
    return None


def check_paths(
    *,
    files: Mapping[str, Path | None] | None = None,
    dirs: Mapping[str, Path | None] | None = None,
    out_dirs: Mapping[str, Path | None] | None = None,
    out_files: Mapping[str, Path | None] | None = None,
    data_dir: Path | None = None,
) -> None:
    """Check a command's path arguments before any work starts; exit with code 2 and one line
    naming the argument and the path at the first problem.

    Each mapping goes from the argument's name in messages (``"model file"``, ``"--out"``) to
    its path; ``None`` (an option not given) is skipped.

    Parameters
    ----------
    files:
        Input files: must exist, be regular files and be readable.
    dirs:
        Input directories: must exist and be directories.
    out_dirs:
        Output directories: must be directories, or be creatable (no file on the way), and be
        writable.
    out_files:
        Output files: must not be directories, and their directory must be as ``out_dirs``.
    data_dir:
        ``--data-dir``: must not be a file (a missing one is the data loaders' to report).
    """
    for what, path in _given(files):
        if not path.exists():
            fail(f"{what} not found: {path}")
        if not path.is_file():
            fail(f"{what} {path} is a directory, expected a file")
        try:
            with open(path, "rb"):
                pass
        except OSError as err:
            fail(f"{what} {path} cannot be read: {err.strerror or err}")
    for what, path in _given(dirs):
        if not path.is_dir():
            fail(f"{what} {path} " + ("is a file, expected a directory" if path.exists()
                                      else "not found"))
    for what, path in _given(out_dirs):
        problem = _writable_dir_problem(path)
        if problem:
            fail(f"{what} {path} {problem}")
    for what, path in _given(out_files):
        if path.is_dir():
            fail(f"{what} {path} is a directory, expected a file")
        problem = _writable_dir_problem(path.parent)
        if problem:
            fail(f"{what} {path}: its directory {path.parent} {problem}")
        if path.exists() and not os.access(path, os.W_OK):
            fail(f"{what} {path} cannot be overwritten: permission denied")
    if data_dir is not None and data_dir.exists() and not data_dir.is_dir():
        fail(f"--data-dir {data_dir} is a file, expected a directory")


def _given(paths: Mapping[str, Path | None] | None) -> list[tuple[str, Path]]:
    """The ``(name, path)`` pairs of ``paths`` whose path was given."""
    return [(what, Path(path)) for what, path in (paths or {}).items() if path is not None]


def eval_device(name: str):
    """``--device`` of an evaluating command as a ``torch.device``; exits with code 2 and one
    line for an unknown name or CUDA on a machine without it."""
    from lava_thesis.device import DeviceError, resolve_device

    try:
        return resolve_device(name)
    except DeviceError as err:
        fail(f"--device: {err}")


def load_torch_model(path: Path, device=None):
    """A trained model's ``.pt``: a DIET checkpoint, a hybrid checkpoint (``_hybrid.pt``: its
    deployable twin is returned) or a quickstart state dict.

    Returns ``(net, predict(images) -> classes)``. A file that is neither raises
    :class:`~lava_thesis.errors.ModelFileError` (or exits with code 2) naming it. ``device``
    (a ``torch.device``; None: the CPU) is where a DIET or quickstart network runs; the
    hybrid twin's Poisson input and prediction run on the CPU only (exit code 2 otherwise).
    """
    from lava_thesis import quickstart as qs
    from lava_thesis.model_check import load_torch

    ckpt = load_torch(path, "a torch checkpoint (.pt) written by lava-thesis train")
    from lava_thesis.hybrid.model_io import is_hybrid_checkpoint

    if is_hybrid_checkpoint(ckpt):  # the deployable twin; its accuracy as deployed
        from lava_thesis.hybrid.deploy import lava_twin
        from lava_thesis.hybrid.evaluate import deployed_predict
        from lava_thesis.hybrid.model_io import load_hybrid_with_readout

        if device is not None and device.type != "cpu":
            fail(f"--device {device}: a hybrid checkpoint ({path}) is evaluated on the CPU")
        snn, spec, shape, steps, readout = load_hybrid_with_readout(path)
        return lava_twin(snn, spec, shape, readout=readout), \
            lambda x: deployed_predict(snn, spec, shape, x, steps, readout=readout)
    if isinstance(ckpt, dict) and "spec" in ckpt:
        from lava_thesis.diet.model import load_checkpoint
        from lava_thesis.diet.train import predict_output, snn_output

        net, steps = load_checkpoint(path)
        net.to(device or "cpu")
        return net, lambda x: predict_output(net, snn_output(net, x, steps))
    from lava_thesis.errors import ModelFileError
    from lava_thesis.experiments.quickstart import encode, load_model

    card = path.with_suffix(".model_card.json")
    if not card.is_file():  # e.g. a hybrid method's ANN or STDB checkpoint
        raise ModelFileError(path, f"neither a DIET checkpoint (no 'spec') nor a quickstart "
                                   f"model (no model card {card.name} beside it)",
                             "a DIET or quickstart model written by lava-thesis train")
    try:
        net, cfg = load_model(path)
    except ValueError as err:  # not a quickstart model; the message names the file
        fail(str(err))
    net.to(device or "cpu")
    return net, lambda x: qs.predict(qs.output_spikes(net, encode(x, cfg.num_steps, 2)))


def check_input_shape(model: Path, net, images, dataset: Dataset) -> None:
    """Exit with code 2 when a DIET network's input shape does not fit ``dataset``'s images."""
    shape = tuple(images.shape[1:]) if images.ndim == 4 else (1, *images.shape[1:])
    if tuple(getattr(net, "input_shape", shape)) != shape:
        fail(f"model file {model} takes {tuple(net.input_shape)} inputs, but --dataset "
             f"{dataset.value} images are {shape}")


def check_net_input(net: Path, images, direct: bool, dataset: Dataset) -> None:
    """Exit with code 2 unless the netx network's first layer takes this input: ``--direct``
    feeds ``(C, H, W)`` images to a conv layer, Poisson input ``C*H*W`` spike trains to a
    dense one."""
    from lava_thesis.deploy.netx_check import first_layer_inputs

    kind, n_in = first_layer_inputs(net)
    shape = tuple(images.shape[1:]) if images.ndim == 4 else (1, *images.shape[1:])
    given = shape[0] if direct else int(math.prod(shape))
    if (kind == "conv") != direct or n_in != given:
        unit = "channels" if kind == "conv" else "features"
        hint = ("; drop --direct" if direct and kind != "conv" else
                "; use --direct for a DIET network" if kind == "conv" and not direct else "")
        fail(f"netx file {net}: its first layer ({kind}) takes {n_in} input {unit}, but "
             f"{'--direct' if direct else 'Poisson'} input of --dataset {dataset.value} "
             f"images {shape} gives {given}{hint}")


#: options of the commands that train their own networks (``nir-interop``, ``ablate``)
ValFraction = Annotated[float, typer.Option(
    "--val-fraction", min=0.0, max=0.9, help="Share of each training class held out.")]
TrainSamples = Annotated[int | None, typer.Option(
    min=1, help="Training images, the first N (default: all).")]
#: ``train`` and ``ablate``: the validation split's seed apart from the first model seed
ValSeed = Annotated[int | None, typer.Option(
    "--val-seed", min=0, help="Seed of the validation split (default: --seed). With it, "
    "--seed K --seeds 1 trains exactly seed K of a --seed 0 --seeds N run, a shard that "
    "`lava-thesis merge` joins with the others.")]
TestSamples = Annotated[int | None, typer.Option(
    min=1, help="Test images, the first N (default: all).")]
EvalDevice = Annotated[str, typer.Option(
    "--device", help="Where the torch network runs: cpu, cuda, cuda:N or auto (cuda when "
                     "available).")]


def load_train_test(dataset: Dataset, data_dir: Path | None, train_samples: int | None,
                    test_samples: int | None):
    """``(train, test)`` of :func:`load_split`, each cut to its first ``*_samples`` images
    (None: all)."""
    train = load_split(dataset, "train", data_dir)
    test = load_split(dataset, "test", data_dir)
    return ((train[0][:train_samples], train[1][:train_samples]),
            (test[0][:test_samples], test[1][:test_samples]))


def load_split(dataset: Dataset, split: str, data_dir: Path | None):
    """uint8 images ``(N, H, W)`` (MNIST family) or ``(N, C, H, W)`` (CIFAR) and labels."""
    from lava_thesis.data.cifar import load_cifar10
    from lava_thesis.data.mnist import load_mnist

    if dataset is Dataset.cifar10:
        images, labels = load_cifar10(split, data_dir)
        return images.transpose(0, 3, 1, 2), labels
    return load_mnist(split, data_dir, dataset=dataset.value)
