"""Code layering and comment hygiene, checked on the source itself.

* Methods do not import experiments: only the experiment scripts themselves, the command line
  (``cli*.py``), the demo and the report may import ``lava_thesis.experiments`` (every import
  statement of every module is read from its AST, relative imports resolved).
* No code or comment points at an issue tracker (the word issue followed by a number): comments
  say what the code does now.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from conftest import REPO

PACKAGE = REPO / "lava_thesis"
EXPERIMENTS = "lava_thesis.experiments"
MAY_IMPORT_EXPERIMENTS = {"demo.py", "report.py"}
ISSUE_REF = re.compile(r"\bissues?\s*(?:#|no\.?|number)?\s*\d+|\bgh-\d+", re.IGNORECASE)


def _module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(source: str, module: str, is_package: bool = False) -> set[str]:
    """Every module an import statement of ``source`` names (``from a import b`` gives ``a``
    and ``a.b``); relative imports are resolved against ``module``."""
    names: set[str] = set()
    package = module.split(".") if is_package else module.split(".")[:-1]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package[: len(package) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def _imports_experiments(names: set[str]) -> bool:
    return any(n == EXPERIMENTS or n.startswith(EXPERIMENTS + ".") for n in names)


def _restricted_modules() -> list[Path]:
    files = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE)
        if rel.parts[0] == "experiments" or (len(rel.parts) == 1 and (
                rel.name.startswith("cli") or rel.name in MAY_IMPORT_EXPERIMENTS)):
            continue
        files.append(path)
    return files


def test_the_import_walker_sees_every_form():
    mod = "lava_thesis.lite.events_models"
    for source in ("import lava_thesis.experiments.diet",
                   "from lava_thesis.experiments import diet",
                   "from lava_thesis import experiments",
                   "from ..experiments.diet import energy_report",
                   "def f():\n    from lava_thesis.experiments.diet import run\n"):
        assert _imports_experiments(imported_modules(source, mod)), source
    assert _imports_experiments(imported_modules("from ..experiments import diet",
                                                 "lava_thesis.lite", is_package=True))
    for source in ("import lava_thesis.energy", "from lava_thesis.diet.energy import energy_report",
                   "from . import experiments_old", "from lava_thesis import experimental"):
        assert not _imports_experiments(imported_modules(source, mod)), source


def test_the_restricted_set_is_what_the_rule_says():
    rel = {p.relative_to(PACKAGE).as_posix() for p in _restricted_modules()}
    assert "lite/events_models.py" in rel and "energy.py" in rel and "diet/energy.py" in rel
    assert not {"demo.py", "report.py", "cli.py", "experiments/diet.py"} & rel


@pytest.mark.parametrize("path", _restricted_modules(),
                         ids=lambda p: p.relative_to(PACKAGE).as_posix())
def test_library_modules_do_not_import_experiments(path):
    names = imported_modules(path.read_text(encoding="utf-8"), _module_name(path),
                             is_package=path.name == "__init__.py")
    bad = sorted(n for n in names if n == EXPERIMENTS or n.startswith(EXPERIMENTS + "."))
    assert not bad, f"{path.relative_to(REPO)} imports {bad}: a method must not import an " \
                    "experiment script (move the shared code into the library)"


def test_the_issue_pattern_matches_tracker_references():
    # split literals, so that this file passes its own scan below
    for text in ("(method 5, issue " "#7)", "see Issue " "12", "issues " "#3 and #4", "gh-" "42"):
        assert ISSUE_REF.search(text), text
    for text in ("a known issue with Lava", "issue a warning", "tiss" "ue 3"):
        assert not ISSUE_REF.search(text), text


def test_no_issue_tracker_references_in_code():
    hits = []
    for top in ("lava_thesis", "processes", "tests", "benchmarks"):
        for path in sorted((REPO / top).rglob("*.py")):
            for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if ISSUE_REF.search(line):
                    hits.append(f"{path.relative_to(REPO)}:{lineno}: {line.strip()}")
    assert not hits, "tracker references in code:\n" + "\n".join(hits)
