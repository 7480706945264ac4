"""The wheel's package list and dependency rules."""

import tomllib
from conftest import REPO


def _pyproject() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text())


def test_every_package_is_listed_and_tests_are_not():
    listed = set(_pyproject()["tool"]["setuptools"]["packages"])
    roots = {"lava_thesis": ("lava_thesis",), "processes": ("lava_thesis", "processes")}
    found = {".".join(prefix + p.parent.relative_to(REPO / root).parts)
             for root, prefix in roots.items()
             for p in (REPO / root).rglob("__init__.py")}
    assert found == listed
    assert not any(name.startswith("tests") for name in listed)


def test_lava_is_not_a_declared_dependency():
    deps = " ".join(_pyproject()["project"]["dependencies"]).lower()
    assert "lava" not in deps
    pinned = (REPO / "requirements" / "lava.txt").read_text()
    assert "lava-nc==0.10.0" in pinned and "lava-dl==0.6.0" in pinned


def test_shipped_subset_is_package_data():
    data = _pyproject()["tool"]["setuptools"]["package-data"]["lava_thesis.data"]
    assert "shipped/*.npz" in data
    assert (REPO / "lava_thesis" / "data" / "shipped" / "mnist_subset.npz").is_file()
    assert "shipped/fsdd/recordings/*.wav" in data
    wavs = list((REPO / "lava_thesis" / "data" / "shipped" / "fsdd" / "recordings").glob("*.wav"))
    assert len(wavs) == 180
