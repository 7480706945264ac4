"""The DIET models shipped in netx_models/: card, checkpoint, netx and NIR files agree."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import REPO

CARDS = sorted((REPO / "netx_models").glob("diet_*/*.model_card.json"))


def test_both_diet_models_are_shipped():
    assert {card.parent.name for card in CARDS} >= {"diet_mnist", "diet_fashion_mnist"}


@pytest.mark.parametrize("card_path", CARDS, ids=lambda p: p.parent.name)
def test_card_matches_its_checkpoint_and_exports(card_path):
    import h5py
    import nir

    from lava_thesis.diet.model import load_checkpoint

    card = json.loads(card_path.read_text())
    folder = card_path.parent
    for name in card["files"]:
        assert (folder / name).is_file(), f"{card_path.name} lists {name}, which is missing"
    stem = card_path.name.removesuffix(".model_card.json")
    net, steps = load_checkpoint(folder / f"{stem}.pt")
    assert steps == card["time_steps"] and net.readout == card["readout"]
    # a card copied from another run would carry other learned values
    np.testing.assert_allclose(net.thresholds(), card["learned"]["thresholds"], rtol=1e-6)
    np.testing.assert_allclose(net.leaks(), card["learned"]["leaks"], rtol=1e-6)
    assert card["metrics"]["agreement"] >= 0.99 and card["metrics"]["lava_samples"] >= 500
    with h5py.File(folder / f"{stem}.net") as net_file:
        assert len(net_file["layer"]) == len(net.blocks)  # flatten included
    graph = nir.read(folder / f"{stem}.nir")
    readout = [type(node).__name__ for name, node in sorted(graph.nodes.items())
               if name.startswith(f"b{len(net.blocks) - 1}_neuron")]
    # an integrator readout is exported as its input current (readout="affine")
    assert readout == ([] if net.readout == "integrator" else ["CubaLIF"])
    assert graph.metadata["dt"] == card["nir"]["dt"] == 1e-4
