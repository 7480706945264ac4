"""A safe way to run a Lava network: timeout, surfaced errors, runtime always released.

Lava's CPU backend runs every Process as an OS process. Three traps make a bare
``proc.run(...); proc.stop()`` risky in scripts and tests:

* an exception inside a ProcessModel is logged by the child process and the main process sees
  only a generic failure, or nothing, unless logging is raised;
* after such an exception ``stop()`` can block forever;
* a run that deadlocks (a Monitor shorter than the run, a mis-wired port) never returns.

:func:`run_lava` therefore builds and runs the network in a forked worker process that leads its
own process group. The parent waits with a timeout, receives the collected results (or the
formatted traceback) through a pipe, and on error or timeout kills the whole group, so nothing is
left running and nothing hangs.

Example
-------
>>> from lava.proc.io.source import RingBuffer as Source
>>> from lava.proc.io.sink import RingBuffer as Sink
>>> import numpy as np
>>> def build():
...     src = Source(data=np.ones((2, 5)))
...     snk = Sink(shape=(2,), buffer=5)
...     src.s_out.connect(snk.a_in)
...     return src, lambda: snk.data.get()
>>> run_lava(build, num_steps=5).shape  # doctest: +SKIP
(2, 5)
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import lava_thesis  # noqa: F401  (applies the Lava compatibility fixes)

TAGS = ("fixed_pt", "floating_pt")
BuildFn = Callable[[], tuple[Any, Callable[[], Any]]]


class LavaRunError(RuntimeError):
    """A Lava run failed; the message carries the traceback from the worker process."""


class LavaTimeoutError(LavaRunError, TimeoutError):
    """A Lava run did not finish within its timeout; its processes were killed."""


def make_run_cfg(tag: str = "fixed_pt", loglevel: int = logging.WARNING, **kwargs: Any):
    """A ``Loihi2SimCfg`` for Lava's CPU simulator with ``select_tag=tag``.

    Extra keyword arguments go to ``Loihi2SimCfg`` (e.g. ``exception_proc_model_map``).
    """
    if tag not in TAGS:
        raise ValueError(f"tag must be one of {TAGS}, got {tag!r}")
    from lava.magma.core.run_configs import Loihi2SimCfg

    return Loihi2SimCfg(select_tag=tag, loglevel=loglevel, **kwargs)


def _actor_errors(proc) -> list[str]:
    """Tracebacks of Lava actor processes (one per ProcessModel) that raised."""
    runtime = getattr(proc, "_runtime", None)
    infra = getattr(runtime, "_messaging_infrastructure", None)
    errors = []
    for actor in list(getattr(infra, "actors", None) or []):
        exc = getattr(actor, "exception", None)
        if exc:
            errors.append(f"in {getattr(actor, 'name', 'a Lava process')}:\n{exc[1]}")
    return errors


def _watch(conn, proc, lock: threading.Lock, done: threading.Event) -> None:
    """Report an exception raised inside a ProcessModel; Lava itself would wait forever."""
    while not done.wait(0.2):
        errors = _actor_errors(proc)
        if errors:
            with lock:
                if not done.is_set():
                    conn.send(("error", "exception inside a Lava process " + "\n".join(errors)))
                    done.set()
            return


def _worker(conn, build: BuildFn, num_steps: int, tag: str, cfg_kwargs: dict) -> None:
    os.setsid()  # lead a process group so the parent can kill Lava's children too
    lock, done = threading.Lock(), threading.Event()
    proc = None
    try:
        from lava.magma.core.run_conditions import RunSteps

        proc, collect = build()
        threading.Thread(target=_watch, args=(conn, proc, lock, done), daemon=True).start()
        proc.run(condition=RunSteps(num_steps=num_steps), run_cfg=make_run_cfg(tag, **cfg_kwargs))
        result = collect()
        proc.stop()
        with lock:
            if not done.is_set():
                conn.send(("ok", result))
                done.set()
    except BaseException:  # report everything, including KeyboardInterrupt in the worker
        message = traceback.format_exc()
        # Lava's own error only says "See output above": add the actors' tracebacks.
        actor_errors = _actor_errors(proc) if proc is not None else []
        if actor_errors:
            message += "exception inside a Lava process " + "\n".join(actor_errors)
        with lock:
            if not done.is_set():
                conn.send(("error", message))
                done.set()
    finally:
        conn.close()


_SHM = Path("/dev/shm")


def _shm_names() -> set[str]:
    try:
        return {p.name for p in _SHM.glob("psm_*")}
    except OSError:
        return set()


def _unlink_new_shm(before: set[str]) -> None:
    """Remove shared-memory segments that a killed run left behind."""
    for name in _shm_names() - before:
        try:
            (_SHM / name).unlink()
        except OSError:
            pass


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def run_lava(
    build: BuildFn,
    num_steps: int,
    *,
    tag: str = "fixed_pt",
    timeout_s: float = 600.0,
    loglevel: int = logging.WARNING,
    **cfg_kwargs: Any,
) -> Any:
    """Build a Lava network, run it for ``num_steps`` and return what ``collect()`` returns.

    Parameters
    ----------
    build:
        Called inside the worker. Returns ``(process, collect)``: any Process of the network
        (the compiler follows its connections) and a function that reads results (e.g. a sink's
        ``data.get()``) after the run; its return value must be picklable.
    num_steps:
        Number of time steps to run (``RunSteps``).
    tag:
        ``"fixed_pt"`` (bit-accurate Loihi models) or ``"floating_pt"``.
    timeout_s:
        Wall-clock limit for build + run + collect. On expiry every process of the run is killed
        and :class:`LavaTimeoutError` is raised.
    loglevel:
        Lava's log level; errors inside ProcessModels are logged at ERROR and appear on stderr.
    cfg_kwargs:
        Passed on to ``Loihi2SimCfg``.

    Raises
    ------
    LavaRunError
        With the worker's traceback, when building, running or collecting raised.
    """
    if num_steps < 1:
        raise ValueError(f"num_steps must be >= 1, got {num_steps}")
    if tag not in TAGS:
        raise ValueError(f"tag must be one of {TAGS}, got {tag!r}")
    cfg_kwargs = {"loglevel": loglevel, **cfg_kwargs}
    shm_before = _shm_names()
    ctx = multiprocessing.get_context("fork")
    recv, send = ctx.Pipe(duplex=False)
    worker = ctx.Process(target=_worker, args=(send, build, num_steps, tag, cfg_kwargs))
    worker.start()
    send.close()
    deadline = time.monotonic() + timeout_s
    try:
        while not recv.poll(0.2):
            if time.monotonic() > deadline:
                raise LavaTimeoutError(
                    f"Lava run of {num_steps} steps did not finish in {timeout_s:.0f} s; killed"
                )
            if not worker.is_alive() and not recv.poll(0):
                raise LavaRunError(
                    f"Lava worker died (exit code {worker.exitcode}) without a result"
                )
        try:
            status, payload = recv.recv()
        except EOFError as err:
            raise LavaRunError("Lava worker closed its pipe without a result") from err
        if status != "ok":
            raise LavaRunError(f"Lava run failed:\n{payload}")
        return payload
    finally:
        recv.close()
        worker.join(timeout=0.0)
        clean_exit = worker.exitcode == 0
        _kill_group(worker.pid)  # Lava's own processes are in this group too
        worker.join(timeout=10)
        if not clean_exit:
            _unlink_new_shm(shm_before)
