"""The quickstart SLAYER network, the demo pipeline and its model files."""

import json

import numpy as np
import pytest
import torch

from lava_thesis import quickstart as qs
from lava_thesis.demo import TINY, TITLES, run_demo
from lava_thesis.experiments.quickstart import encode, load_model
from lava_thesis.results import read_results


def test_delay_shift_makes_first_steps_silent():
    net = qs.DenseSNN(n_in=10, hidden=8, n_out=3)
    out = qs.output_spikes(net, np.ones((2, 10, 6), np.float32) * 1.0)
    assert out.shape == (2, 3, 6)
    assert out[:, :, :2].sum() == 0  # one step of delay per block (delay_shift=True)


def test_encode_pads_two_silent_steps():
    images = np.full((3, 4, 4), 255, np.uint8)
    spikes = encode(images, 5, seed=0)
    assert spikes.shape == (3, 16, 7)
    assert spikes[..., :5].all() and not spikes[..., 5:].any()


def test_training_improves_over_chance():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 64)
    rates = np.where(labels[:, None] == 1, 0.8, 0.05) * np.r_[np.ones(8), np.zeros(8)]
    rates = np.where(labels[:, None] == 0, 0.8 * np.r_[np.zeros(8), np.ones(8)], rates)
    spikes = qs.pad_steps((rng.random((64, 16, 10)) < rates[..., None]).astype(np.float32), 2)
    torch.manual_seed(0)
    net = qs.DenseSNN(n_in=16, hidden=16, n_out=2)
    history = qs.train(net, spikes, labels, epochs=6, batch_size=16, lr=1e-2)
    assert history[-1] >= 0.9


def test_demo_end_to_end(tmp_path):
    """Every section at the TINY size (the same code paths as ``make demo``), section 5 in
    its worker process; the quickstart section always trains on all 2,000 shipped images."""
    lines: list[str] = []
    both = run_demo(tmp_path, epochs=1, lava_samples=20, diet_lava_samples=10, size=TINY,
                    log=lines.append)
    timed = [line[1:].split(":")[0] for line in lines if line.startswith("[")
             and line.endswith(" s]")]
    assert timed == list(TITLES)  # one time per section, in order (section 5 included)
    assert both["multimodal"]["lava_agreement"] == 1.0  # section 5 ran in the worker
    # the DIET demo uses the integrator readout: Lava's final voltages equal torch's
    assert both["diet"]["agreement"] == 1.0 and both["diet"]["readout_match"] == 1.0
    events = both["lite_events"]  # section 6: LITE-SNN on synthetic events, SNN in Lava
    # its integrator readout: Lava's final voltages equal the twin's
    assert events["lava_agreement"] == 1.0 and events["lava_readout_match"] == 1.0
    assert (tmp_path / "demo_diet.json").is_file() and (tmp_path / "demo_diet.net").is_file()
    metrics = both["quickstart"]
    assert metrics["agreement"] == 1.0 and metrics["spike_match"] == 1.0
    assert metrics["torch_accuracy"] > 0.5  # one epoch on 2,000 images
    record = read_results(tmp_path / "demo_quickstart.json")
    assert record["metrics"]["lava_samples"] == 20
    card = json.loads((tmp_path / "demo_quickstart.model_card.json").read_text())
    assert card["config"]["epochs"] == 1
    net, cfg = load_model(tmp_path / "demo_quickstart.pt")
    assert cfg.num_steps == 16 and net.blocks[0].synapse.in_channels == 784


def test_load_model_after_export_folded_the_weight_norm(tmp_path):
    net = qs.DenseSNN(n_in=784, hidden=6, n_out=10)
    net.export_hdf5(tmp_path / "m.net")  # disables weight norm: state has plain weights
    torch.save(net.state_dict(), tmp_path / "m.pt")
    (tmp_path / "m.model_card.json").write_text(json.dumps({"config": {"num_steps": 4}}))
    loaded, cfg = load_model(tmp_path / "m.pt")
    x = torch.rand(2, 784, 4)
    torch.testing.assert_close(loaded(x), net(x))
    assert cfg.num_steps == 4


def test_torch_engine_equals_slayer_blocks_and_trains_on_a_device():
    """The default engine (our torch CUBA kernel) gives SLAYER's output spikes bit for bit,
    and one epoch of training moves the same way on either engine (gradients equal up to
    float rounding); training on ``device="cpu"`` leaves the network on the CPU."""
    def build(engine: str) -> qs.DenseSNN:
        torch.manual_seed(0)
        net = qs.DenseSNN(n_in=64, hidden=16, n_out=4, neuron_engine=engine)
        for block in net.blocks:
            block.synapse.weight_g.data *= 6.0  # untrained weights, scaled up: both spike
        return net

    ours, theirs = build("torch"), build("slayer")
    x = (torch.rand(8, 64, 12) < 0.3).float()
    with torch.no_grad():
        out = ours(x)
        assert out.sum() > 10
        torch.testing.assert_close(out, theirs(x), rtol=0, atol=0)
    y = np.arange(8) % 4
    qs.train(ours, x.numpy(), y, epochs=1, batch_size=4, device="cpu")
    qs.train(theirs, x.numpy(), y, epochs=1, batch_size=4)
    for a, b in zip(ours.parameters(), theirs.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)
    assert next(ours.parameters()).device.type == "cpu"
    with pytest.raises(ValueError, match="neuron_engine"):
        qs.DenseSNN(neuron_engine="cuda")


def test_export_cli_writes_a_client_ready_nir_graph(tmp_path):
    """``lava-thesis export`` on a quickstart model writes a NIR graph: Affine + CubaLIF per
    block, output spikes, time constants for dt = 1e-4 s."""
    import nir
    from typer.testing import CliRunner

    from lava_thesis.cli import app

    net = qs.DenseSNN(n_in=784, hidden=6, n_out=10)
    net.export_hdf5(tmp_path / "m.net")
    torch.save(net.state_dict(), tmp_path / "m.pt")
    (tmp_path / "m.model_card.json").write_text(json.dumps({"config": {"num_steps": 4}}))
    result = CliRunner().invoke(app, ["export", str(tmp_path / "m.pt"), "--out",
                                      str(tmp_path / "m.nir")])
    assert result.exit_code == 0, result.output
    graph = nir.read(tmp_path / "m.nir")
    assert [type(graph.nodes[f"b{i}_{part}"]).__name__ for i in (0, 1)
            for part in ("synapse", "neuron")] == ["Affine", "CubaLIF", "Affine", "CubaLIF"]
    assert graph.metadata["dt"] == 1e-4 and graph.nodes["b1_neuron"].v_threshold.shape == (10,)


def _toy_images(n, seed):
    """Two classes of unique 4x4 images: the top (0) or the bottom (1) half bright."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n)
    images = rng.integers(0, 60, (n, 4, 4)).astype(np.uint8)
    for i, y in enumerate(labels):
        images[i, 2 * y:2 * y + 2] += 180
    assert len({im.tobytes() for im in images}) == n
    return images, labels


def test_train_best_epoch_restores_the_best_validation_epoch(monkeypatch):
    """A stand-in trainer leaves the network bad, good, bad after its three epochs (output
    weights negated, restored, negated): the good epoch is chosen and its weights restored."""
    from lava_thesis.experiments.quickstart import QuickstartConfig, train_best_epoch

    images, labels = _toy_images(64, 3)
    spikes = encode(images, 8, seed=0)
    torch.manual_seed(0)
    net = qs.DenseSNN(n_in=16, hidden=16, n_out=2)
    qs.train(net, spikes[:48], labels[:48], epochs=6, batch_size=16, lr=1e-2)
    weight = net.blocks[1].synapse.weight_v
    good = weight.detach().clone()

    def flip(net, spikes, labels, *, epochs, batch_size, lr, seed, on_epoch, device):
        for epoch in range(epochs):
            with torch.no_grad():
                weight.copy_(good if epoch == 1 else -good)
            on_epoch(epoch, 0.0)

    monkeypatch.setattr(qs, "train", flip)
    cfg = QuickstartConfig(num_steps=8, epochs=3)
    history, best = train_best_epoch(net, spikes[:48], labels[:48], spikes[48:], labels[48:],
                                     cfg, seed=0, log=lambda line: None)
    assert best == 2 and history[1] == max(history) > history[0] == history[2]
    torch.testing.assert_close(net.blocks[1].synapse.weight_v.detach(), good)
    restored = float((qs.predict(qs.output_spikes(net, spikes[48:])) == labels[48:]).mean())
    assert restored == history[1]
    empty = spikes[:0], labels[:0]  # no validation data: the final epoch, no curve
    assert train_best_epoch(net, spikes, labels, *empty, cfg, seed=0,
                            log=lambda line: None) == ([], 3)


def test_run_follows_the_protocol(tmp_path, monkeypatch):
    """Two seeds, a 20% validation split: per-seed metrics and their means, the validation
    field, the first seed's model card, validation images never trained on, and the
    deployed accuracy reproduced from the saved (exported) network."""
    import lava_thesis.experiments.quickstart as exp
    from lava_thesis.protocol import Protocol

    encoded: list[tuple[int, np.ndarray]] = []
    real_encode = exp.encode

    def spy(images, num_steps, seed):
        encoded.append((seed, images.copy()))
        return real_encode(images, num_steps, seed)

    monkeypatch.setattr(exp, "encode", spy)
    (x, y), (xt, yt) = _toy_images(60, 0), _toy_images(12, 1)
    cfg = exp.QuickstartConfig(num_steps=6, hidden=8, epochs=2, batch_size=16, lava_samples=3)
    protocol = Protocol(seeds=(0, 1), val_fraction=0.2)
    metrics = exp.run((x, y), (xt, yt), tmp_path, dataset="toy", config=cfg, experiment="q",
                      log=lambda line: None, protocol=protocol)
    record = read_results(tmp_path / "q.json")
    extra = record["extra"]
    assert extra["seeds"] == [0, 1] and record["headline"][0] == "deployed_accuracy"
    assert {"deployed_accuracy", "val_accuracy", "best_epoch", "torch_accuracy"} <= set(metrics)
    for key, values in extra["per_seed"].items():
        assert len(values) == 2 and metrics[key] == np.mean(values), key
    assert metrics["agreement"] == 1.0 and metrics["spike_match"] == 1.0
    assert record["validation"] == {"fraction": 0.2, "seed": 0, "train": 48, "val": 12}
    assert record["config"]["protocol"] == protocol.as_dict()
    for seed in ("0", "1"):
        curve = extra["val_accuracy_per_epoch"][seed]
        assert len(curve) == 2 and max(curve) in extra["per_seed"]["val_accuracy"]
    card = json.loads((tmp_path / "q.model_card.json").read_text())
    assert card["protocol"] == protocol.as_dict() and card["seed"] == 0
    assert card["validation"] == record["validation"] and card["commit"] == record["commit"]
    assert card["metrics"]["deployed_accuracy"] == extra["per_seed"]["deployed_accuracy"][0]
    assert card["files"] == ["q.net", "q.nir", "q.pt"] and card["nir"]["dt"] == 1e-4
    assert all((tmp_path / name).is_file() for name in card["files"])
    # seed 0 (the first three calls) encodes its training images with seed 1, the test
    # images with 2 and the validation images with 3
    assert [s for s, _ in encoded] == [1, 2, 3, 2, 3, 4]
    trained = {im.tobytes() for im in encoded[0][1]}
    held_out = {im.tobytes() for im in encoded[2][1]}
    assert len(trained) == 48 and len(held_out) == 12 and not trained & held_out
    assert trained | held_out == {im.tobytes() for im in x}
    # the .pt is the exported network: its accuracy is seed 0's deployed accuracy
    net, _ = load_model(tmp_path / "q.pt")
    assert not net.blocks[0].synapse.weight_norm_enabled
    out = qs.output_spikes(net, real_encode(xt, 6, seed=2))
    assert float((qs.predict(out) == yt).mean()) == extra["per_seed"]["deployed_accuracy"][0]
