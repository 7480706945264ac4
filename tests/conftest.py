"""Shared fixtures. Real data sets come from LAVA_THESIS_DATA (CI: ../shared/data)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

import lava_thesis  # noqa: F401  (applies the Lava compatibility fixes before any lava import)

REPO = Path(__file__).resolve().parents[1]


def _shared_data() -> Path | None:
    env = os.environ.get("LAVA_THESIS_DATA")
    for cand in ([Path(env)] if env else []) + [REPO.parent / "shared" / "data"]:
        if cand.is_dir():
            return cand
    return None


@pytest.fixture(scope="session")
def data_root() -> Path:
    """The real development data directory (read-only). Skips where it is absent."""
    root = _shared_data()
    if root is None:
        pytest.skip("real data not found: set LAVA_THESIS_DATA (CI sets ../shared/data)")
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
