"""Execute the tutorial notebooks and store them with their outputs (``make tutorials``).

Usage: ``python tutorials/execute.py [NOTEBOOK ...]`` (default: every ``tutorials/*.ipynb``).

Each notebook runs once, one at a time, top to bottom, at the demo size
(``LAVA_THESIS_TUTORIAL_SIZE=demo``; the tests run them ``tiny``), in a scratch folder (the files
a notebook writes do not land in the repository), with ``LAVA_THESIS_DATA`` pointing at an empty
folder, so every notebook uses the data the package ships and the stored outputs are the same
on any machine. The executed notebook replaces the stored one only when every cell ran without
an error; volatile metadata (execution timestamps, the Python version) is dropped, so a rerun
changes only what the code printed or drew. Set ``OMP_NUM_THREADS=1`` on a shared machine.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent
SIZE = "demo"
KEEP_CELL_METADATA = ("tags",)


def clean(nb: nbformat.NotebookNode, size: str = SIZE) -> nbformat.NotebookNode:
    """Drop volatile metadata and record the size the outputs were made at."""
    nb.metadata = nbformat.NotebookNode(
        kernelspec=nb.metadata.get("kernelspec", {"display_name": "Python 3",
                                                  "language": "python", "name": "python3"}),
        language_info={"name": "python"},
        lava_thesis={"tutorial_size": size},
    )
    for cell in nb.cells:
        cell.metadata = nbformat.NotebookNode(
            {k: v for k, v in cell.metadata.items() if k in KEEP_CELL_METADATA})
    return nb


def errors(nb: nbformat.NotebookNode) -> list[str]:
    """``ename: evalue`` of every error output."""
    return [f"{o.get('ename')}: {o.get('evalue')}" for c in nb.cells if c.cell_type == "code"
            for o in c.get("outputs", []) if o.get("output_type") == "error"]


def execute(path: Path, size: str = SIZE, timeout: int = 1800) -> float:
    """Run ``path`` at ``size`` and store it with its outputs; returns the seconds it took."""
    nb = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory() as work, tempfile.TemporaryDirectory() as no_data:
        env = {**os.environ, "LAVA_THESIS_TUTORIAL_SIZE": size, "LAVA_THESIS_DATA": no_data,
               "TQDM_DISABLE": "1", "MPLBACKEND": "module://matplotlib_inline.backend_inline",
               "PYTHONWARNINGS": "ignore:IProgress not found"}  # tqdm.auto without ipywidgets
        client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                                record_timing=False, resources={"metadata": {"path": work}})
        start = time.perf_counter()
        client.execute(env=env)
        seconds = time.perf_counter() - start
    bad = errors(nb)
    if bad:
        raise RuntimeError(f"{path.name}: not stored, errors: {bad}")
    nbformat.validate(nb)
    tmp = path.with_suffix(".ipynb.tmp")
    nbformat.write(clean(nb, size), tmp)
    tmp.replace(path)
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="notebooks to run (default: all tutorials, in order)")
    parser.add_argument("--size", default=SIZE, help="LAVA_THESIS_TUTORIAL_SIZE (default: demo)")
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted(HERE.glob("*.ipynb"))
    for path in paths:
        print(f"{path.name} ...", end=" ", flush=True)
        print(f"{execute(path, args.size):.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
