"""The tutorial notebooks: every one runs top to bottom at a tiny size
(LAVA_THESIS_TUTORIAL_SIZE=tiny, with or without a data directory), and every stored one was
executed at the demo size (``make tutorials``) and shows its results, plots included."""

import importlib.util
import os

import nbformat
import pytest
from conftest import REPO
from nbclient import NotebookClient

NOTEBOOKS = sorted((REPO / "tutorials").glob("*.ipynb"))
MAX_BYTES = 1_500_000  # PNGs at dpi 80 keep a stored notebook well under this


def _execute_module():
    spec = importlib.util.spec_from_file_location("tutorials_execute",
                                                  REPO / "tutorials" / "execute.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _outputs(nb):
    return [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]


def test_there_are_tutorials():
    assert len(NOTEBOOKS) >= 7


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_tutorial_executes(path, tmp_path, monkeypatch):
    monkeypatch.setenv("LAVA_THESIS_TUTORIAL_SIZE", "tiny")
    monkeypatch.setenv("TQDM_DISABLE", "1")
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute(env=dict(os.environ))
    errors = [o for o in _outputs(nb) if o.get("output_type") == "error"]
    assert not errors


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_stored_tutorial_shows_its_results(path):
    """Stored executed at the demo size: every code cell ran, no errors, at least one figure,
    no volatile metadata, a reasonable size."""
    nb = nbformat.read(path, as_version=4)
    assert nb.metadata.get("lava_thesis", {}).get("tutorial_size") == "demo", \
        f"{path.name} was not stored by `make tutorials` (tutorials/execute.py)"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in code), f"{path.name}: unexecuted cells"
    outputs = _outputs(nb)
    assert outputs, f"{path.name} holds no outputs"
    assert not [o for o in outputs if o.get("output_type") == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert images, f"{path.name} shows no figure"
    assert all("execution" not in c.metadata for c in nb.cells)
    assert set(nb.metadata.get("language_info", {})) <= {"name"}
    assert path.stat().st_size < MAX_BYTES


def test_clean_drops_volatile_metadata_and_records_the_size():
    execute = _execute_module()
    nb = nbformat.v4.new_notebook(metadata={"language_info": {"name": "python",
                                                              "version": "3.11.9"}})
    cell = nbformat.v4.new_code_cell("1 + 1", metadata={
        "execution": {"iopub.execute_input": "2025-01-01T00:00:00Z"}, "tags": ["keep"]})
    nb.cells.append(cell)
    cleaned = execute.clean(nb, "demo")
    assert cleaned.metadata.language_info == {"name": "python"}
    assert cleaned.metadata.lava_thesis == {"tutorial_size": "demo"}
    assert cleaned.cells[0].metadata == {"tags": ["keep"]}
    assert "kernelspec" in cleaned.metadata
    error = nbformat.v4.new_output("error", ename="ValueError", evalue="bad", traceback=[])
    cell.outputs = [error]
    assert execute.errors(nb) == ["ValueError: bad"]


@pytest.mark.parametrize("notebook, results", [
    ("03_hybrid_conversion_stdb.ipynb", ("ablation_hybrid_mnist.json",)),
    ("04_diet_snn.ipynb", ("ablation_diet_mnist_tiny.json",
                           "ablation_diet_fashion_mnist_tiny.json"))])
def test_tutorial_draws_its_method_ablation_when_the_results_file_exists(notebook, results):
    """The hybrid and DIET tutorials draw their claim's ablations from the results files: the
    stored notebook's cell that names them shows one plot per file in the checkout (a results
    file that landed after the notebook was last executed fails this until `make tutorials`)."""
    nb = nbformat.read(REPO / "tutorials" / notebook, as_version=4)
    cells = [c for c in nb.cells if c.cell_type == "code" and all(r in c.source for r in results)]
    assert len(cells) == 1
    shown = sum("image/png" in o.get("data", {}) for o in cells[0].get("outputs", []))
    assert shown == sum((REPO / "results" / r).is_file() for r in results)


def test_diet_tutorial_draws_the_shipped_model():
    """Tutorial 04 shows the shipped DIET model (accuracy vs T, energy bars) from its `.pt`,
    beside the results file it was trained for: one stored cell names both and shows a plot."""
    nb = nbformat.read(REPO / "tutorials" / "04_diet_snn.ipynb", as_version=4)
    cells = [c for c in nb.cells if c.cell_type == "code"
             and "diet_mnist.pt" in c.source and "diet_mnist.json" in c.source]
    assert len(cells) == 1
    assert (REPO / "netx_models" / "diet_mnist" / "diet_mnist.pt").is_file()
    assert any("image/png" in o.get("data", {}) for o in cells[0].get("outputs", []))
