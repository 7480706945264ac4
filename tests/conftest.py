"""Shared fixtures. Real data sets come from LAVA_THESIS_DATA (CI: ../shared/data)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

import lava_thesis  # noqa: F401  (applies the Lava compatibility fixes before any lava import)

REPO = Path(__file__).resolve().parents[1]


def _in_ci() -> bool:
    """True when the CI variable is set to a true value (CI systems set ``CI=true``)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _shared_data() -> tuple[Path | None, str]:
    """The data directory (``$LAVA_THESIS_DATA``, else ``../shared/data`` beside the checkout)
    and, when there is none, why."""
    env = os.environ.get("LAVA_THESIS_DATA")
    if env:
        if Path(env).is_dir():
            return Path(env), ""
        return None, f"LAVA_THESIS_DATA={env} is not a directory"
    default = REPO.parent / "shared" / "data"
    if default.is_dir():
        return default, ""
    return None, f"LAVA_THESIS_DATA is not set and {default} does not exist"


@pytest.fixture(scope="session")
def data_root() -> Path:
    """The real development data directory (read-only). Every test that reads real data takes
    it through this fixture. Where the directory is absent the test skips, except under CI
    (``CI=true``), where that is an error: CI must not pass by skipping its data tests."""
    root, why = _shared_data()
    if root is None:
        if _in_ci():
            pytest.fail(f"CI=true but the real data is missing: {why} "
                        "(.ci/run expects ../shared/data beside the checkout)", pytrace=False)
        pytest.skip(f"real data not found ({why}): set LAVA_THESIS_DATA (CI sets ../shared/data)")
    return root


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


def assert_results_written(out_dir: Path, experiment: str, metrics: dict) -> dict:
    """An experiment's ``<experiment>.json`` holds ``metrics`` and its ``.png`` is a PNG;
    returns the results record."""
    from lava_thesis.results import read_results

    record = read_results(Path(out_dir) / f"{experiment}.json")
    assert record["metrics"] == pytest.approx(metrics)
    assert (Path(out_dir) / f"{experiment}.png").read_bytes()[:4] == b"\x89PNG"
    return record


@pytest.fixture
def server(monkeypatch):
    """``(state, base_url)`` of a fresh local HTTP server on 127.0.0.1 (tests/download_server.py),
    with progress bars off."""
    from download_server import serve

    monkeypatch.setenv("TQDM_DISABLE", "1")
    with serve(monkeypatch) as running:
        yield running


def one_line_error(result, *names: str) -> str:
    """Assert a CLI result has exit code 2 and exactly one ``error: ...`` line on stderr that
    names each of ``names``; return that line."""
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for name in names:
        assert name in lines[0], (name, lines[0])
    return lines[0]


def marked_blobs(n: int, offset: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` class-dependent 28x28 blobs (label ``i % 10``), each marked by a faint pixel code
    of its index ``offset + i`` so that every image is unique (tests can tell which images a
    model saw)."""
    y = np.arange(n) % 10
    x = np.zeros((n, 28, 28), np.uint8)
    for i, c in enumerate(y):
        x[i, 2 * c:2 * c + 8, 4:24] = 200
        x[i, 27, (offset + i) % 28] = 1 + (offset + i) // 28
    return x, y
