"""The quickstart SLAYER network, the demo pipeline and its model files."""

import json

import numpy as np
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
    assert events["lava_agreement"] == 1.0 and events["lava_spike_match"] == 1.0
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
