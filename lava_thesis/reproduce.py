"""``lava-thesis reproduce``: re-run the commands recorded in the results files.

Every results file records the command that produced it (:mod:`lava_thesis.results`). The plan
(:func:`plan`) reads ``results/*.json``, keeps each distinct command once, and orders them:
``lava-thesis train`` first (they write the model files), then the other ``lava-thesis``
commands (``run-lava``, ``check-stdp``, ``check-multimodal``, ``energy`` read those model
files), then the benchmarks: ``make`` targets and scripts run by their path
(``benchmarks/<name>.py ...``, with this Python). Any other command is refused, and so is,
in full mode, one that resumes from checkpoints (``--resume``): a headline number must come
from one plain command.

Full mode re-runs the commands as recorded, from a clean tree (:func:`require_clean`), writing
into ``results/`` again. Quick mode (:func:`quick_argv`) runs every pipeline end to end at a
tiny size: each command gets the :data:`TINY` overrides (epochs, samples, neurons) and writes
into a scratch directory instead of ``results/`` and the model directories, trains two seeds
(the per-seed path end to end) and never resumes (``--resume`` is dropped); the benchmarks
(no tiny size) are skipped. Quick mode needs no clean tree: it writes
nothing that is evidence.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from lava_thesis.results import git_commit, load_all

__all__ = ["ReproduceError", "Step", "TINY", "plan", "quick_argv", "reproduce", "require_clean",
           "run_plan"]

#: tiny-size overrides per pipeline (``train <method>``, ``train lite --task <task>``); DIET
#: needs ~2000 images for one epoch to leave no layer without weights (netx cannot export one)
TINY: dict[str, dict[str, str]] = {
    "quickstart": {"--epochs": "1", "--train-samples": "300", "--test-samples": "60",
                   "--lava-samples": "4"},
    "diet": {"--epochs": "1", "--train-samples": "2000", "--test-samples": "60",
             "--lava-samples": "4"},
    "hybrid": {"--epochs": "1", "--train-samples": "300", "--test-samples": "60",
               "--lava-samples": "4"},
    "stdp": {"--epochs": "1", "--n-exc": "10", "--train-samples": "300",
             "--test-samples": "60", "--lava-samples": "2"},
    "multimodal": {"--epochs": "1", "--n-exc": "10", "--train-samples": "300",
                   "--lava-samples": "2", "--images-per-utterance": "1"},
    "lite:sentiment": {"--epochs": "1", "--train-samples": "200"},
    "lite:length": {"--epochs": "1", "--train-samples": "200"},
    "lite:length-smnist": {"--epochs": "1", "--train-samples": "200", "--test-samples": "50"},
    "lite:events": {"--epochs": "1", "--train-samples": "60", "--test-samples": "20",
                    "--lava-samples": "4"},
    "lite:seq2seq": {"--epochs": "1", "--train-samples": "200", "--test-samples": "20"},
    "run-lava": {"--samples": "4"},
    "check-multimodal": {"--pairs": "2"},
    "check-stdp": {"--samples": "2"},
    "energy": {"--samples": "20"},
    "nir-interop": {"--epochs": "1", "--train-samples": "300", "--test-samples": "60",
                    "--lava-samples": "4", "--seeds": "2"},
    "ablate:diet": {"--epochs": "1", "--train-samples": "2000", "--test-samples": "60",
                    "--steps": "1,2", "--seeds": "2"},
    "ablate:stdp-rule": {"--epochs": "1", "--train-samples": "300", "--test-samples": "60",
                         "--n-exc": "10", "--levels": "0,4", "--seeds": "2"},
    "ablate:stdp-prune": {"--epochs": "1", "--train-samples": "300", "--test-samples": "60",
                          "--n-exc": "10", "--fractions": "0.5", "--intervals": "100",
                          "--seeds": "2"},
    "ablate:diet-peer": {"--epochs": "1", "--train-samples": "2000", "--test-samples": "60",
                         "--lava-samples": "4", "--seeds": "2"},
    "ablate:hybrid": {"--epochs": "1", "--train-samples": "300", "--test-samples": "40",
                      "--sweep-steps": "5,10", "--num-steps": "5", "--seeds": "2"},
    "ablate:seq2seq": {"--epochs": "1", "--train-samples": "200", "--test-samples": "20",
                       "--steps": "1,2", "--seeds": "2"},
}
#: commands that train their own networks (no model file argument to move under scratch)
SELF_CONTAINED = ("nir-interop", "ablate")
#: recorded options a pipeline's tiny size replaces (a CPU budget gives way to ``--epochs``)
TINY_DROP: dict[str, tuple[str, ...]] = {"lite:seq2seq": ("--budget-cpu-s",)}
#: every ``train`` command in quick mode: two seeds, so the per-seed path runs end to end
TINY_SEEDS = {"--seeds": "2"}
#: ``--n-exc`` when a command does not give it (it is part of the experiment's file names)
DEFAULT_N_EXC = "400"
#: commands that take ``--allow-dirty`` (they write results files)
WRITES_RESULTS = ("train", "run-lava", "check-multimodal", "check-stdp", "energy",
                  *SELF_CONTAINED)


class ReproduceError(ValueError):
    """The results files' commands cannot be reproduced as asked (one line says why)."""


@dataclass(frozen=True)
class Step:
    """One command of the plan.

    Attributes
    ----------
    experiments : tuple of str
        The results files (experiment names) that recorded ``command``.
    command : str
        The command as recorded.
    argv : tuple of str
        What is run: the recorded command, or its tiny-size version in quick mode.
    skip : str
        Why the step is not run (quick mode: a benchmark), else ``""``.
    """

    experiments: tuple[str, ...]
    command: str
    argv: tuple[str, ...]
    skip: str = ""

    def describe(self) -> str:
        """One line: the experiments and what is run (or why not)."""
        what = f"skipped: {self.skip}" if self.skip else shlex.join(self.argv)
        return f"{', '.join(self.experiments)}: {what}"


def _option(args: Sequence[str], name: str) -> str | None:
    """The value of ``--name VALUE`` / ``--name=VALUE`` in ``args`` (last one wins)."""
    value = None
    for i, arg in enumerate(args):
        if arg == name and i + 1 < len(args):
            value = args[i + 1]
        elif arg.startswith(name + "="):
            value = arg.split("=", 1)[1]
    return value


def _drop_option(args: Sequence[str], name: str) -> list[str]:
    """``args`` without any ``name VALUE`` / ``name=VALUE``."""
    out, i = [], 0
    while i < len(args):
        if args[i] == name:
            i += 2
            continue
        if not args[i].startswith(name + "="):
            out.append(args[i])
        i += 1
    return out


def _set_option(args: list[str], name: str, value: str) -> list[str]:
    """``args`` with every ``name`` option removed and ``name value`` appended."""
    return [*_drop_option(args, name), name, value]


def _kind(args: Sequence[str]) -> str:
    """The :data:`TINY` key of a ``lava-thesis`` argument list (without the program)."""
    if args[0] == "ablate":
        return f"ablate:{args[1] if len(args) > 1 else ''}"
    if args[0] != "train":
        return args[0]
    method = args[1] if len(args) > 1 else ""
    return f"lite:{_option(args, '--task') or 'sentiment'}" if method == "lite" else method


def _check(command: str, experiments: Sequence[str], quick: bool = False) -> list[str]:
    """The command's argv, or ReproduceError when it cannot be reproduced (``--resume`` only
    in full mode: quick mode drops it)."""
    where = ", ".join(f"{e}.json" for e in experiments)
    try:
        argv = shlex.split(command)
    except ValueError as err:
        raise ReproduceError(f"{where}: command {command!r} cannot be parsed: {err}") from None
    if not argv or not (argv[0] in ("lava-thesis", "make") or BENCH_SCRIPT.fullmatch(argv[0])):
        raise ReproduceError(
            f"{where}: command {command!r} is not a `lava-thesis` or `make` command or a "
            "benchmarks/<name>.py script; regenerate the file with `lava-thesis train ...` so "
            "that it can be reproduced")
    if not quick and any(a == "--resume" or a.startswith("--resume=") for a in argv):
        raise ReproduceError(
            f"{where}: command {command!r} resumes from checkpoints (--resume); no headline "
            "may come from a resumed run: regenerate the file with one plain command")
    if argv[0] == "lava-thesis" and (len(argv) < 2 or argv[1] not in (*WRITES_RESULTS,)):
        raise ReproduceError(f"{where}: `lava-thesis {' '.join(argv[1:2])}` does not write a "
                             f"results file; expected one of {', '.join(WRITES_RESULTS)}")
    return argv


#: a benchmark script recorded by its path (``benchmarks/stdp_lava_scale.py``)
BENCH_SCRIPT = re.compile(r"benchmarks/[A-Za-z0-9_]+\.py")

#: the network size in a model file's name: ``..._n<size>`` before ``_`` or the extension
_SIZE_IN_NAME = re.compile(r"_n(\d+)(?=[_.])")


def _scratch_path(path: str, scratch: Path, renames: Mapping[str, Mapping[str, str]]) -> str:
    """``path`` moved under ``scratch`` (relative paths keep their parts; absolute ones their
    name); in a model dir of ``renames`` (model dir -> {recorded size: tiny size}, one entry
    per train step writing there) the name's ``_n<recorded>`` becomes ``_n<tiny>``."""
    p = Path(path)
    moved = scratch / (p.relative_to(p.anchor) if p.is_absolute() else p)
    sizes = renames.get(str(p.parent), {})
    name = _SIZE_IN_NAME.sub(lambda m: f"_n{sizes.get(m.group(1), m.group(1))}", moved.name,
                             count=1)
    return str(moved.with_name(name))


def quick_argv(argv: Sequence[str], scratch: str | Path,
               renames: dict[str, dict[str, str]] | None = None) -> list[str]:
    """The tiny-size version of a ``lava-thesis`` command (``argv`` without the program).

    ``--out`` becomes ``<scratch>/results``; ``--model-dir`` and the model files a command
    reads are moved under ``scratch``; the :data:`TINY` overrides of the pipeline replace the
    recorded sizes (:data:`TINY_DROP` names recorded options they replace), a train command
    gets :data:`TINY_SEEDS` and loses ``--resume``. A train
    command that shrinks ``--n-exc`` (part of the file names) adds its model dir to
    ``renames`` so that later commands find the renamed files.

    Examples
    --------
    >>> args = quick_argv(["train", "stdp", "--n-exc", "400", "--out", "results"], "/s")
    >>> args[:4], args[args.index("--n-exc") + 1]
    (['train', 'stdp', '--out', '/s/results'], '10')
    """
    scratch = Path(scratch)
    renames = {} if renames is None else renames
    args = [a for a in argv if a != "--resume" and not a.startswith("--resume=")]
    kind = _kind(args)
    if kind not in TINY:
        raise ReproduceError(f"no tiny size is known for `lava-thesis {shlex.join(args[:2])}`")
    args = _set_option(args, "--out", str(scratch / "results"))
    model_dir = _option(args, "--model-dir")
    if args[0] == "train":  # model files go under scratch too, never into the repository
        args = _set_option(args, "--model-dir", str(scratch / "models") if model_dir is None
                           else _scratch_path(model_dir, scratch, {}))
        if model_dir is not None and "--n-exc" in TINY[kind]:
            recorded = _option(args, "--n-exc") or DEFAULT_N_EXC
            renames.setdefault(str(Path(model_dir)), {})[recorded] = TINY[kind]["--n-exc"]
    elif args[0] not in SELF_CONTAINED:
        # the model file (first argument) and --torch-model come from a train step
        args[1] = _scratch_path(args[1], scratch, renames)
        torch_model = _option(args, "--torch-model")
        if torch_model is not None:
            args = _set_option(args, "--torch-model",
                               _scratch_path(torch_model, scratch, renames))
    for name in TINY_DROP.get(kind, ()):
        args = _drop_option(args, name)
    for name, value in (TINY[kind] | (TINY_SEEDS if args[0] == "train" else {})).items():
        args = _set_option(args, name, value)
    return args


def plan(results_dir: str | Path, *, method: str | None = None, quick: bool = False,
         scratch: str | Path | None = None, allow_dirty: bool = False) -> list[Step]:
    """The steps that reproduce ``results_dir/*.json`` (see the module docstring).

    Parameters
    ----------
    results_dir : path
        Directory of results files.
    method : str or None
        Only the files whose ``method`` is this (e.g. ``stdp``).
    quick : bool
        Tiny sizes into ``scratch`` (:func:`quick_argv`); ``make`` steps are skipped.
    scratch : path or None
        Quick mode's output directory (required with ``quick``).
    allow_dirty : bool
        Full mode: add ``--allow-dirty`` to the commands that write results files.
    """
    records = load_all(results_dir)
    if method is not None:
        known = sorted({r["method"] for r in records if r["method"]})
        records = [r for r in records if r["method"] == method]
        if not records:
            raise ReproduceError(f"--method {method!r}: no results file in {results_dir} has "
                                 f"it (methods there: {', '.join(known) or 'none'})")
    if not records:
        raise ReproduceError(f"{results_dir}: no results files to reproduce")
    if quick and scratch is None:
        raise ValueError("quick mode needs a scratch directory")
    by_command: dict[str, list[str]] = {}
    for rec in records:
        by_command.setdefault(rec["command"], []).append(rec["experiment"])
    checked, refused = [], []
    for cmd, exps in by_command.items():
        try:
            checked.append((_check(cmd, exps, quick), cmd, exps))
        except ReproduceError as err:
            refused.append(str(err))
    if refused:
        raise ReproduceError(f"{len(refused)} recorded command(s) cannot be reproduced: "
                             + "; ".join(refused))
    order = {"train": 0, "make": 2}
    checked.sort(key=lambda t: (order.get(t[0][1] if t[0][0] == "lava-thesis" else "make", 1),
                                t[2][0]))
    steps, renames = [], {}
    for argv, cmd, exps in checked:
        if argv[0] != "lava-thesis":
            kind = "a `make` target (benchmark)" if argv[0] == "make" else "a benchmark script"
            skip = f"{kind}: no tiny size" if quick else ""
            steps.append(Step(tuple(exps), cmd, tuple(argv), skip))
            continue
        args = argv[1:]
        if quick:
            args = quick_argv(args, scratch, renames)
        elif allow_dirty and "--allow-dirty" not in args:
            args = [*args, "--allow-dirty"]
        same = next((i for i, st in enumerate(steps) if st.argv == ("lava-thesis", *args)), None)
        if same is not None:  # quick mode can map two commands to one tiny command
            steps[same] = Step((*steps[same].experiments, *exps), steps[same].command,
                               steps[same].argv)
            continue
        steps.append(Step(tuple(exps), cmd, ("lava-thesis", *args)))
    return steps


def require_clean(repo: str | Path) -> None:
    """ReproduceError when the git tree holding ``repo`` has uncommitted changes."""
    commit = git_commit(repo)
    if commit.endswith("-dirty"):
        raise ReproduceError(
            f"{repo}: the working tree has uncommitted changes (commit {commit}); reproduce "
            "runs from a clean tree so that the results record a commit that pins the code: "
            "commit or stash them, or pass --allow-dirty (the files record \"dirty\": true)")


def _program(name: str) -> list[str]:
    """How to start ``name``: the ``lava-thesis`` script beside this Python, a benchmark script
    with this Python, else PATH."""
    if BENCH_SCRIPT.fullmatch(name):
        return [sys.executable, name]
    if name == "lava-thesis":
        beside = Path(sys.executable).parent / "lava-thesis"
        if beside.is_file():
            return [str(beside)]
    found = shutil.which(name)
    if found is None:
        raise ReproduceError(f"cannot run `{name}`: it is not on PATH")
    return [found]


def run_plan(steps: Sequence[Step], cwd: str | Path, *, log: Callable[[str], None] = print,
             env: Mapping[str, str] | None = None) -> None:
    """Run the steps in order in ``cwd``; stop at the first that fails (ReproduceError)."""
    todo = [s for s in steps if not s.skip]
    for i, step in enumerate(todo, 1):
        log(f"[{i}/{len(todo)}] {step.describe()}")
        argv = [*_program(step.argv[0]), *step.argv[1:]]
        proc = subprocess.run(argv, cwd=cwd, env=dict(env if env is not None else os.environ),
                              check=False)
        if proc.returncode != 0:
            raise ReproduceError(f"step {i}/{len(todo)} ({', '.join(step.experiments)}) failed "
                                 f"with exit code {proc.returncode}: {shlex.join(step.argv)}")
    for step in steps:
        if step.skip:
            log(f"[skipped] {step.describe()}")


def reproduce(results_dir: str | Path = "results", *, method: str | None = None,
              quick: bool = False, dry_run: bool = False, allow_dirty: bool = False,
              log: Callable[[str], None] = print) -> list[Step]:
    """Plan and (unless ``dry_run``) run the reproduction of ``results_dir/*.json``.

    The commands run in the directory holding ``results_dir`` (recorded commands name
    ``results`` and the model directories relative to it). Full mode needs a clean tree there
    unless ``allow_dirty``; quick mode runs in a temporary directory, removed when every step
    succeeded (kept, and named, when one failed). Returns the plan.
    """
    results_dir = Path(results_dir)
    cwd = results_dir.resolve().parent
    scratch = Path(tempfile.mkdtemp(prefix="lava-thesis-reproduce-")) if quick else None
    try:
        steps = plan(results_dir, method=method, quick=quick, scratch=scratch,
                     allow_dirty=allow_dirty)
        mode = "quick (tiny sizes, into a scratch directory)" if quick else "full"
        log(f"reproduce {results_dir}: {len(steps)} command(s), {mode}")
        if dry_run:
            for i, step in enumerate(steps, 1):
                log(f"  {i}. {step.describe()}" + (f"\n     (recorded: {step.command})"
                                                    if quick and not step.skip else ""))
            return steps
        if not quick and not allow_dirty:
            require_clean(cwd)
        run_plan(steps, cwd, log=log)
    except BaseException:
        if scratch is not None and not dry_run and scratch.exists() and any(scratch.iterdir()):
            log(f"reproduce: the scratch directory is kept for inspection: {scratch}")
            scratch = None
        raise
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    log("reproduce: every step finished")
    return steps
