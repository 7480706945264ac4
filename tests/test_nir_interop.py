"""``lava-thesis nir-interop``: snnTorch and Norse networks trained on images, exported with
their own NIR exporters, imported into netx and run in Lava against the peers' simulations.

The peers are test-only dependencies (requirements/test-peers.txt); a test skips when one is not
importable, except under CI (``CI=true``), where that is an error.
"""

from __future__ import annotations

import importlib
import warnings

import numpy as np
import pytest
from conftest import _in_ci, one_line_error
from typer.testing import CliRunner

nir = pytest.importorskip("nir")

from lava_thesis.cli import app  # noqa: E402
from lava_thesis.experiments import nir_interop as ni  # noqa: E402
from lava_thesis.protocol import Protocol  # noqa: E402
from lava_thesis.results import read_results  # noqa: E402


@pytest.fixture(autouse=True)
def _peers():
    if missing := ni.missing_peers():
        why = f"the NIR peers {', '.join(missing)} are not importable; `make install` installs them"
        if _in_ci():
            pytest.fail(f"CI=true but {why}", pytrace=False)
        pytest.skip(why)
    for module in ("snntorch", "norse.torch"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            importlib.import_module(module)


def test_norse_graph_has_time_constants_in_seconds():
    """Norse 1.1 writes tau = dt / tau_mem_inv (8e-6 for 8 ms at dt = 1 ms); norse_graph
    rescales it to 8e-3 s, which import_nir reads as a decay of dt / tau = 1/8 per step."""
    net = ni.norse_net(6, 4, 3)
    graph = ni.norse_graph(net, 6)
    lifs = [n for n in graph.nodes.values() if isinstance(n, nir.LIF)]
    assert len(lifs) == 2
    for node in lifs:
        np.testing.assert_allclose(node.tau, 8e-3, rtol=1e-6)


def test_tiny_run_writes_per_seed_agreement(tmp_path):
    """Two seeds on 300 shipped MNIST training images, 40 test images, 8 of them in Lava:
    every per-seed value and mean is recorded, the validation split is carved from the
    training images, and Lava agrees with each peer on most images even after this little
    training."""
    from lava_thesis.data.shipped_mnist import load_shipped_mnist

    x, y = load_shipped_mnist("train")
    xt, yt = load_shipped_mnist("test")
    cfg = ni.NirInteropConfig(epochs=1, lava_samples=8, hidden=32)
    protocol = Protocol(seeds=(0, 1), val_fraction=0.2)
    lines: list[str] = []
    metrics = ni.run((x[:300], y[:300]), (xt[:40], yt[:40]), tmp_path, config=cfg,
                     experiment="interop", log=lines.append, protocol=protocol)
    record = read_results(tmp_path / "interop.json")
    assert record["extra"]["seeds"] == [0, 1]
    assert record["validation"] == {"fraction": 0.2, "seed": 0, "train": 239, "val": 61}
    assert record["headline"] == list(ni.HEADLINE)
    for peer in ni.PEERS:
        values = record["extra"]["per_seed"][f"{peer}_agreement"]
        assert len(values) == 2 and metrics[f"{peer}_agreement"] == np.mean(values)
        assert min(values) >= 0.75, (peer, values)
    assert metrics["lava_samples"] == 8
    assert sum("agreement" in line for line in lines) == 4  # two peers, two seeds


def test_cli_names_the_missing_peer(monkeypatch, tmp_path):
    """Without a peer the command stops with one line naming it (exit code 2)."""
    monkeypatch.setattr(ni, "missing_peers", lambda: ["norse.torch"])
    result = CliRunner().invoke(app, ["nir-interop", "--out", str(tmp_path / "o")])
    one_line_error(result, "norse.torch", "test-peers")
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())
