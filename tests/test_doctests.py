"""Every docstring example in the package runs and prints what it shows (the API docs render
them, so a stale one would mislead a reader)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import lava_thesis


def _modules() -> list[str]:
    found = [lava_thesis.__name__]
    for info in pkgutil.walk_packages(lava_thesis.__path__, prefix="lava_thesis."):
        found.append(info.name)
    return sorted(found)


MODULES = _modules()


def test_the_walk_finds_the_package_modules():
    assert {"lava_thesis.report", "lava_thesis.report_claims",
            "lava_thesis.stdp.core"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in finder.find(module, name):
        if test.examples:
            runner.run(test, out=lambda _text: None)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name} " \
                               f"(python -m pytest --doctest-modules {module.__file__})"
