"""DIET-SNN: learnable threshold and leak, direct input, ANN initialisation, Lava parity."""

import numpy as np
import pytest
import torch

from lava_thesis.deploy.netx_run import netx_output_spikes
from lava_thesis.diet import DietSNN, parse_spec
from lava_thesis.diet.ann import build_ann
from lava_thesis.diet.energy import energy_report
from lava_thesis.diet.train import (
    TrainConfig,
    lava_payload,
    load_ann_weights,
    predict_output,
    predict_spikes,
    snn_input,
    snn_output,
    threshold_init,
    train_snn,
)
from lava_thesis.slayer_ext import INPUT_BITS


def _toy_images(n=48, seed=0):
    """Two classes of 8x8 images: bright left half or bright right half."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n)
    images = rng.integers(0, 40, (n, 8, 8)).astype(np.uint8)
    for i, y in enumerate(labels):
        images[i, :, (0 if y == 0 else 4):(4 if y == 0 else 8)] += 200
    return images, labels


def test_folded_threshold_equals_a_real_threshold():
    """W with threshold theta fires exactly like W * theta_ref / theta with theta_ref."""
    from lava.lib.dl import slayer

    torch.manual_seed(0)
    net = DietSNN(["d5"], input_shape=(6,), thresholds=[2.0])
    block = net.weight_blocks[0]
    grid = torch.randint(-20, 20, (5, 6, 1, 1, 1)).float() / 16  # on the 8-bit grid, /2 too
    block.synapse.weight.data = grid
    params = {"threshold": 2.0, "current_decay": 1.0, "voltage_decay": 0.0}
    plain = slayer.block.cuba.Dense(params, 6, 5)
    plain.synapse.weight.data = grid.clone()
    x = (torch.rand(3, 6, 20) < 0.5).float()
    with torch.no_grad():
        folded_out, plain_out = net.blocks[0](x), plain(x)
    assert plain_out.sum() > 0
    torch.testing.assert_close(folded_out, plain_out)


def test_threshold_and_leak_get_gradients_and_training_moves_them():
    images, labels = _toy_images()
    torch.manual_seed(0)
    net = DietSNN(["c4k3s2", "f", "d2"], input_shape=(1, 8, 8), thresholds=[0.3, 0.5])
    out = net(snn_input(images[:8], 4, net.delay))
    torch.nn.functional.cross_entropy(out.sum(-1), torch.as_tensor(labels[:8])).backward()
    gains = [b.synapse.pre_hook_fx.log_gain for b in net.weight_blocks]
    decays = [b.neuron.voltage_decay for b in net.weight_blocks]
    assert all(float(g.grad.abs()) > 0 for g in gains)
    assert any(float(d.grad.abs().sum()) > 0 for d in decays)
    assert all(b.neuron.current_decay.grad is None for b in net.weight_blocks)
    before_t, before_l = net.thresholds(), net.leaks()
    train_snn(net, images, labels, 4, TrainConfig(epochs=3, batch_size=16, lr_leak=1e-2))
    assert net.thresholds() != pytest.approx(before_t, abs=1e-3)
    assert net.leaks() != pytest.approx(before_l, abs=1e-4)
    assert all(0.0 <= leak <= 1.0 for leak in net.leaks())


def test_leak_is_clamped_to_the_unit_interval():
    net = DietSNN(["d3"], input_shape=(4,))
    decay = net.weight_blocks[0].neuron.voltage_decay
    decay.data.fill_(-50.0)
    net.clamp()
    assert net.leaks() == [1.0]
    decay.data.fill_(1e5)
    net.clamp()
    assert net.leaks() == [0.0]


def test_conversion_init_folds_previous_threshold():
    ann = build_ann(["d4", "d3"], (6,))
    net = DietSNN(["d4", "d3"], input_shape=(6,))
    load_ann_weights(net, ann, [2.0, 4.0])
    w2 = ann[2].weight.detach()
    block = net.weight_blocks[1]
    effective = block.synapse.weight[:, :, 0, 0, 0] * torch.exp(-block.synapse.pre_hook_fx.log_gain)
    torch.testing.assert_close(effective, w2 * 2.0 / 4.0)
    assert net.thresholds() == pytest.approx([2.0, 4.0])


def test_threshold_init_is_the_percentile_of_each_layer_input():
    ann = build_ann(["d4", "d3"], (6,))
    images = np.random.default_rng(0).integers(0, 256, (50, 6)).astype(np.uint8)
    thetas = threshold_init(ann, images.reshape(50, 1, 1, 6).squeeze(1), 100.0, 0.5)
    with torch.no_grad():
        pre1 = ann[0](torch.from_numpy(images.astype(np.float32) / 256))
    assert thetas[0] == pytest.approx(0.5 * float(pre1.max()), rel=1e-5)


def test_direct_input_network_is_bit_exact_in_lava(tmp_path):
    images, _ = _toy_images(n=6)
    torch.manual_seed(1)
    net = DietSNN(["c4k3s2", "f", "d6", "d3"], input_shape=(1, 8, 8), thresholds=[0.4, 0.6, 0.8])
    for block in net.weight_blocks:
        block.synapse.weight.data *= 2.0
    torch_out = snn_output(net, images, 5)
    assert torch_out.sum() > 5, "the test needs output spikes to mean anything"
    path = net.export_hdf5(tmp_path / "diet.net")
    lava_out = netx_output_spikes(path, lava_payload(images, 5, net.delay),
                                  input_bits=INPUT_BITS, timeout_s=120)
    np.testing.assert_array_equal(lava_out, torch_out)
    np.testing.assert_array_equal(predict_spikes(lava_out), predict_spikes(torch_out))


def test_integrator_readout_never_spikes_and_its_final_voltage_is_bit_exact_in_lava(tmp_path):
    from lava_thesis.deploy.netx_run import netx_output_voltage

    images, _ = _toy_images(n=5)
    torch.manual_seed(1)
    net = DietSNN(["c4k3s2", "f", "d6", "d3"], input_shape=(1, 8, 8),
                  thresholds=[0.4, 0.6, 0.8], readout="integrator")
    for block in net.weight_blocks:
        block.synapse.weight.data *= 2.0
    out = snn_output(net, images, 5)  # (N, 3, T + delay) voltages, no reset, no leak
    v = out[..., -1]
    assert np.abs(v).max() > 0.5, "the test needs a non-trivial readout"
    assert len(np.unique(v)) > 5 and np.all(out[..., :net.delay - 1] == 0)
    assert net.leaks()[-1] == 1.0 and not net.weight_blocks[-1].neuron.voltage_decay.requires_grad
    np.testing.assert_array_equal(out[..., -1], out[..., -2])  # the last step is silent: complete
    np.testing.assert_array_equal(predict_output(net, out), v.argmax(1))
    path = net.export_hdf5(tmp_path / "integrator.net")
    lava_v = netx_output_voltage(path, lava_payload(images, 5, net.delay), input_bits=INPUT_BITS,
                                 timeout_s=120)
    np.testing.assert_array_equal(lava_v, v)
    # Lava's float models: the same network without the fixed-point floors (direct input,
    # decays, weight exponent): a floor can flip a hidden spike, so some samples differ
    float_v = netx_output_voltage(path, lava_payload(images, 5, net.delay),
                                  input_bits=INPUT_BITS, timeout_s=120, tag="floating_pt")
    same = np.all(float_v == v, axis=1)
    assert 0 < same.sum() < len(v)
    assert np.corrcoef(float_v.ravel(), v.ravel())[0, 1] > 0.95
    np.testing.assert_array_equal(float_v.argmax(1), v.argmax(1))


def test_integrator_scores_train_the_readout_gain():
    images, labels = _toy_images(n=8)
    net = DietSNN(["c4k3s2", "f", "d2"], input_shape=(1, 8, 8), thresholds=[0.3, 0.5],
                  readout="integrator")
    scores = net.scores(net(snn_input(images, 4, net.delay)))
    assert scores.shape == (8, 2)
    torch.nn.functional.cross_entropy(scores, torch.as_tensor(labels)).backward()
    assert all(float(b.synapse.pre_hook_fx.log_gain.grad.abs()) > 0 for b in net.weight_blocks)
    with pytest.raises(ValueError, match="readout"):
        DietSNN(["d2"], input_shape=(4,), readout="voltage")


def test_energy_report_counts_the_analog_first_layer_as_macs():
    images, _ = _toy_images(n=4)
    net = DietSNN(["c4k3s2", "f", "d2"], input_shape=(1, 8, 8), thresholds=[0.3, 0.5])
    report = energy_report(net, images, 5)
    first, second = report.layers
    assert first.analog_input and not second.analog_input
    assert first.macs_per_step == 4 * 4 * 4 * 9  # 4 channels x 4x4 outputs x 3x3 kernel
    assert second.macs_per_step == 64 * 2
    # 5 input steps + one silent step per layer (SLAYER's delay): MACs only on the 5 input steps
    assert (first.time_steps, first.input_steps) == (5 + net.delay, 5.0)
    assert first.snn_energy_pj() == pytest.approx(4.6 * first.macs_per_step * 5)


@pytest.mark.parametrize("spec,message", [
    ([], "empty"), (["f", "d3", "c4k3s1"], "needs \\(C, H, W\\)"), (["c4k3s1", "d3"], "flatten"),
    (["c4k3s1", "f"], "last layer"), (["x9"], "unknown spec"),
])
def test_bad_specs_are_rejected(spec, message):
    with pytest.raises(ValueError, match=message):
        parse_spec(spec, (1, 8, 8))


def test_checkpoint_round_trip_and_cli_export(tmp_path):
    import nir
    from typer.testing import CliRunner

    from lava_thesis.cli import app
    from lava_thesis.diet.model import load_diet

    torch.manual_seed(0)
    net = DietSNN(["c4k3s2", "f", "d3"], input_shape=(1, 8, 8), thresholds=[0.3, 0.7],
                  readout="integrator")
    net(torch.zeros(1, 1, 8, 8, 1))
    torch.save({"spec": net.spec, "input_shape": list(net.input_shape), "readout": "integrator",
                "state_dict": net.state_dict()}, tmp_path / "m.pt")
    loaded = load_diet(tmp_path / "m.pt")
    images, _ = _toy_images(n=4)
    np.testing.assert_array_equal(snn_output(loaded, images, 5), snn_output(net, images, 5))
    assert loaded.thresholds() == pytest.approx(net.thresholds())
    result = CliRunner().invoke(app, ["export", str(tmp_path / "m.pt"), "--out",
                                      str(tmp_path / "m.net")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "m.net").is_file()
    result = CliRunner().invoke(app, ["export", str(tmp_path / "m.pt"), "--out",
                                      str(tmp_path / "m.nir")])
    assert result.exit_code == 0, result.output
    graph = nir.read(tmp_path / "m.nir")  # the readout: its input current, summed by the caller
    assert type(graph.nodes["b2_synapse"]).__name__ == "Affine"
    assert not any(name.startswith("b2_neuron") for name in graph.nodes)
    assert graph.metadata["readout_voltage_decay"].tolist() == [0.0] * 3
    torch.save({"weights": torch.zeros(2)}, tmp_path / "bad.pt")
    with pytest.raises(ValueError, match="bad.pt"):
        load_diet(tmp_path / "bad.pt")


def test_rate_penalty_lowers_hidden_activity():
    from lava_thesis.diet.train import hidden_rate

    images, labels = _toy_images(n=64)

    def rate_after(penalty):
        torch.manual_seed(0)
        net = DietSNN(["c4k3s2", "f", "d8", "d2"], input_shape=(1, 8, 8),
                      thresholds=[0.2, 0.3, 0.5])
        train_snn(net, images, labels, 4,
                  TrainConfig(epochs=6, batch_size=16, lr=1e-2, rate_penalty=penalty))
        record: list = []
        with torch.no_grad():
            net(snn_input(images, 4, net.delay), record=record)
        return float(hidden_rate(net, record))

    assert rate_after(20.0) < 0.7 * rate_after(0.0)


def test_rate_target_makes_the_penalty_a_hinge():
    """Hand-set layer outputs: hidden rates 0.5 and 0.1 (the readout's record is ignored);
    target 0.2 charges only the first, by 0.3 / 2 layers, and sends it all the gradient."""
    from lava_thesis.diet.train import hidden_rate

    net = DietSNN(["d4", "d4", "d2"], input_shape=(3,), thresholds=[1.0, 1.0, 1.0])
    record = [torch.full((1, 4, 10), 0.5, requires_grad=True),
              torch.full((1, 4, 10), 0.1, requires_grad=True), torch.ones(1, 2, 10)]
    assert float(hidden_rate(net, record).detach()) == pytest.approx(0.3)
    loss = hidden_rate(net, record, target=0.2)
    assert float(loss.detach()) == pytest.approx(0.15)
    loss.backward()
    assert torch.all(record[0].grad > 0) and torch.all(record[1].grad == 0)
    assert float(hidden_rate(net, record, target=0.6).detach()) == 0.0


def test_saved_model_energy_is_written_and_matches_the_report(tmp_path):
    from typer.testing import CliRunner

    from lava_thesis.cli import app
    from lava_thesis.experiments.diet import measure_saved_energy
    from lava_thesis.results import read_results

    images, labels = _toy_images(n=6)
    net = DietSNN(["c4k3s2", "f", "d3"], input_shape=(1, 8, 8), thresholds=[0.3, 0.7])
    net(torch.zeros(1, 1, 8, 8, 1))
    torch.save({"spec": net.spec, "input_shape": list(net.input_shape), "num_steps": 4,
                "state_dict": net.state_dict()}, tmp_path / "tiny.pt")
    metrics = measure_saved_energy(tmp_path / "tiny.pt", (images, labels), tmp_path,
                                   dataset="toy", samples=5)
    expected = energy_report(net, images[:5], 4)
    assert metrics["energy_ratio"] == pytest.approx(expected.ratio)
    assert metrics["samples"] == 5
    saved = read_results(tmp_path / "tiny_energy_check.json")
    # T = 4 input steps + one delay step per layer; MACs only on the 4 input steps
    assert f"{4 + net.delay} (4 in)" in saved["extra"]["energy_table"]
    result = CliRunner().invoke(app, ["energy", str(tmp_path / "missing.pt")])
    assert result.exit_code != 0 and "missing.pt" in result.output


def test_run_follows_the_protocol(tmp_path, monkeypatch):
    """Two seeds, a 20% validation split: per-seed metrics and their means, the accuracy-vs-T
    curves per seed, the validation field, the first seed's model card, validation images
    never trained on, and the deployed accuracy reproduced from the saved checkpoint."""
    import json

    import lava_thesis.experiments.diet as exp
    from lava_thesis.diet.model import load_checkpoint
    from lava_thesis.protocol import Protocol
    from lava_thesis.results import read_results

    trained: list[tuple[int, np.ndarray]] = []
    real_train = exp.train_snn

    def spy(net, images, labels, num_steps, cfg, **kwargs):
        trained.append((cfg.seed, images.copy()))
        return real_train(net, images, labels, num_steps, cfg, **kwargs)

    monkeypatch.setattr(exp, "train_snn", spy)
    (x, y), (xt, yt) = _toy_images(60, 0), _toy_images(16, 1)
    assert len({im.tobytes() for im in x}) == 60
    cfg = exp.DietConfig(spec=("c4k3s2", "f", "d2"), num_steps=3, ann_epochs=1,
                         train=TrainConfig(epochs=2, batch_size=16), sweep_steps=(1, 3),
                         lava_samples=3, energy_samples=10)
    protocol = Protocol(seeds=(0, 1), val_fraction=0.2)
    metrics = exp.run((x, y), (xt, yt), tmp_path, dataset="toy", config=cfg, experiment="d",
                      log=lambda line: None, protocol=protocol)
    record = read_results(tmp_path / "d.json")
    extra = record["extra"]
    assert extra["seeds"] == [0, 1] and record["headline"][0] == "deployed_accuracy"
    for key, values in extra["per_seed"].items():
        assert len(values) == 2 and metrics[key] == pytest.approx(np.mean(values)), key
    assert metrics["agreement"] == 1.0 and metrics["readout_match"] == 1.0
    assert {"snn_accuracy", "ann_accuracy", "val_accuracy", "best_epoch"} <= set(metrics)
    assert record["validation"] == {"fraction": 0.2, "seed": 0, "train": 48, "val": 12}
    assert record["config"]["protocol"] == protocol.as_dict()
    sweep = extra["accuracy_vs_steps"]
    assert sweep["steps"] == [1, 3] and sorted(sweep["per_seed"]) == ["0", "1"]
    assert [c[1] for c in sweep["per_seed"].values()] == extra["per_seed"]["snn_accuracy_T3"]
    assert (tmp_path / "d_accuracy_vs_steps.png").is_file()
    card = json.loads((tmp_path / "d.model_card.json").read_text())
    assert card["protocol"] == protocol.as_dict() and card["seed"] == 0
    assert card["validation"] == record["validation"] and card["commit"] == record["commit"]
    # DIET trained each seed on the 48 training images only, never on the validation ones
    assert [seed for seed, _ in trained] == [0, 1]
    rows = {im.tobytes() for im in trained[0][1]}
    assert len(rows) == 48 and rows < {im.tobytes() for im in x}
    # the saved network (seed 0) reproduces seed 0's deployed accuracy on all test images
    net, steps = load_checkpoint(tmp_path / "d.pt")
    acc = float((predict_output(net, snn_output(net, xt, steps)) == yt).mean())
    assert steps == 3 and acc == extra["per_seed"]["deployed_accuracy"][0]


def test_train_best_epoch_restores_the_best_validation_epoch(monkeypatch):
    """A stand-in trainer leaves the network bad, good, bad after its three epochs (readout
    weights negated, restored, negated): the good epoch is chosen and its weights restored."""
    import lava_thesis.experiments.diet as exp

    images, labels = _toy_images(n=64, seed=2)
    torch.manual_seed(0)
    net = DietSNN(["c4k3s2", "f", "d2"], input_shape=(1, 8, 8), thresholds=[0.2, 0.4],
                  readout="integrator")
    train_snn(net, images[:48], labels[:48], 3, TrainConfig(epochs=2, batch_size=16))
    readout = net.weight_blocks[-1].synapse.weight
    good = readout.detach().clone()

    def flip(net, images, labels, num_steps, cfg, on_epoch, **checkpointing):
        for epoch in range(3):
            with torch.no_grad():
                readout.copy_(good if epoch == 1 else -good)
            on_epoch(epoch, 0.0)

    monkeypatch.setattr(exp, "train_snn", flip)
    history, best = exp.train_best_epoch(net, (images[:48], labels[:48]),
                                         (images[48:], labels[48:]), 3, TrainConfig(epochs=3),
                                         log=lambda line: None)
    assert best == 2 and history[1] == max(history) > history[0] == history[2]
    torch.testing.assert_close(net.weight_blocks[-1].synapse.weight.detach(), good)
    pred = predict_output(net, snn_output(net, images[48:], 3))
    assert float((pred == labels[48:]).mean()) == history[1]
    empty = images[:0], labels[:0]  # no validation data: the final epoch, no curve
    assert exp.train_best_epoch(net, (images, labels), empty, 3, TrainConfig(epochs=3),
                                log=lambda line: None) == ([], 3)
    torch.testing.assert_close(net.weight_blocks[-1].synapse.weight.detach(), -good)


def test_dropout_masks_hidden_spikes_per_neuron_for_all_steps_and_only_in_training():
    torch.manual_seed(0)
    net = DietSNN(["c4k3s2", "f", "d8", "d2"], input_shape=(1, 8, 8), thresholds=[0.2, 0.3, 0.5])
    for block in net.weight_blocks:
        block.synapse.weight.data *= 2.0
    x = snn_input(_toy_images(4)[0], 6, net.delay)
    with torch.no_grad():
        net.eval()
        reference = net(x)
        net.dropout = 0.5
        assert torch.equal(net(x), reference)  # evaluation never drops
        net.train()
        seen: list = []
        hook = net.blocks[2].synapse.register_forward_pre_hook(
            lambda module, args: seen.append(args[0].clone()))
        record: list = []
        net(x, record=record)
        hook.remove()
    # the conv layer's spikes (recorded before the mask), the dense layer's input after flatten
    spikes, into_dense = record[0].reshape(4, -1, x.shape[-1]), seen[0]
    dropped = (spikes.sum(-1) > 0) & (into_dense.sum(-1) == 0)
    kept = into_dense.sum(-1) > 0
    assert dropped.any() and kept.any()
    # one mask per sample and neuron, for every step: kept neurons carry all their spikes x 2
    torch.testing.assert_close(into_dense[kept], 2 * spikes[kept])
    with pytest.raises(ValueError, match="dropout"):
        train_snn(net, *_toy_images(8), 4, TrainConfig(epochs=1, dropout=1.0))


def test_vgg16_specs_build_for_cifar():
    from lava_thesis.experiments.diet import SPECS

    strided, pooled = parse_spec(SPECS["vgg16"], (3, 32, 32)), parse_spec(SPECS["vgg16-pool"],
                                                                          (3, 32, 32))
    assert sum(kind == "conv" for kind, *_ in strided) == 13 == sum(
        kind == "conv" for kind, *_ in pooled)
    assert sum(kind == "pool" for kind, *_ in pooled) == 5
    assert strided[-3][1] == pooled[-3][1] == 512  # 1x1x512 after five halvings


def test_named_and_listed_specs_resolve_with_their_name_suffix():
    from lava_thesis.experiments.diet import DEFAULT_SPEC, SPECS, resolve_spec

    assert resolve_spec(None) == resolve_spec("small") == (DEFAULT_SPEC, "")
    assert resolve_spec(",".join(DEFAULT_SPEC)) == (DEFAULT_SPEC, "")  # the default, spelt out
    assert resolve_spec("small-pool") == (SPECS["small-pool"], "_small_pool")
    assert resolve_spec("c4k3s2, f, d10") == (("c4k3s2", "f", "d10"), "_custom")
    tiny, small = (parse_spec(SPECS[n], (1, 28, 28)) for n in ("tiny", "small"))

    def macs(layers):  # per step, weight layers only
        total = 0
        for kind, c_in, c_out, k, _, out in layers:
            if kind == "conv":
                total += c_in * c_out * k * k * out[1] * out[2]
            elif kind == "dense":
                total += c_in * c_out
        return total

    assert macs(tiny) * 12 < macs(small)  # what makes it the sweeps' network
