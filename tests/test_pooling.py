"""Spiking sum pooling: the ``pK`` DIET layer (SLAYER's ``cuba.Pool`` block), its netx form (a
depthwise convolution), and the ``SumPool`` Lava Process against lava's Conv and SLAYER."""

import h5py
import numpy as np
import pytest
import torch
from lava_thesis.processes.sum_pool.models import window_sum
from lava_thesis.processes.sum_pool.process import SumPool

from lava_thesis.deploy.netx_run import netx_output_spikes, netx_output_voltage
from lava_thesis.diet import DietSNN, parse_spec
from lava_thesis.diet.ann import build_ann
from lava_thesis.diet.energy import energy_report
from lava_thesis.diet.train import (
    lava_payload,
    load_ann_weights,
    snn_input,
    snn_output,
    threshold_init,
)
from lava_thesis.lava_run import run_lava
from lava_thesis.slayer_ext import INPUT_BITS

SPEC = ["c4k3s1", "p2", "f", "d6", "d3"]


def _images(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 60, (n, 8, 8)).astype(np.uint8)
    images[:, 2:6, rng.integers(0, 4)] += 180
    return images


def _pooled_net(readout: str = "spikes") -> DietSNN:
    torch.manual_seed(1)
    net = DietSNN(SPEC, input_shape=(1, 8, 8), thresholds=[0.4, 0.5, 0.6, 0.8], readout=readout)
    for block in net.weight_blocks:
        if block is not net.weight_blocks[1]:  # the pool's weight is fixed (1; threshold 0.5)
            block.synapse.weight.data *= 2.0
    return net


def test_pool_spec_shapes_and_refusals():
    layers = parse_spec(SPEC, (1, 8, 8))
    assert layers[1] == ("pool", 4, 4, 2, 2, (4, 4, 4))
    assert layers[2][1] == 64  # the flatten sees 4 x 4 x 4
    for spec, message in ((["p2", "f", "d3"], "first layer"),
                          (["c4k3s1", "p3", "f", "d3"], "multiples of the pool size 3"),
                          (["d4", "p2", "d3"], "needs \\(C, H, W\\)")):
        with pytest.raises(ValueError, match=message):
            parse_spec(spec, (1, 8, 8) if spec[0] != "d4" else (4,))


def test_pool_layer_is_a_slayer_pool_block_with_a_learnable_threshold_and_leak():
    from lava.lib.dl import slayer

    net = _pooled_net()
    pool = net.blocks[1]
    assert isinstance(pool, slayer.block.cuba.Pool)
    assert not pool.synapse.weight.requires_grad  # the window weight is fixed...
    out = net(snn_input(_images(4), 4, net.delay))
    out.sum().backward()  # ...its threshold and leak train like every layer's
    assert float(pool.synapse.pre_hook_fx.log_gain.grad.abs()) > 0
    assert float(pool.neuron.voltage_decay.grad.abs().sum()) > 0
    # the folded threshold: an effective window weight of q8(1 / 0.5) = 2
    with torch.no_grad():
        assert float(pool.synapse.pre_hook_fx(pool.synapse.weight).reshape(-1)[0]) == 2.0


def test_pooled_network_exports_a_depthwise_conv_and_is_bit_exact_in_lava(tmp_path):
    net = _pooled_net()
    images = _images(6)
    torch_out = snn_output(net, images, 5)
    record: list = []
    with torch.no_grad():
        net(snn_input(images, 5, net.delay), record=record)
    assert float(record[1].sum()) > 20, "the pool layer must spike for the test to mean anything"
    assert torch_out.sum() > 5
    path = net.export_hdf5(tmp_path / "pool.net")
    with h5py.File(path) as f:
        layer = f["layer/1"]
        assert layer["type"][0] == b"conv" and int(layer["groups"][()]) == 4
        assert layer["weight"].shape == (4, 1, 2, 2) and np.ptp(layer["weight"][()]) == 0
        assert float(layer["weight"][0, 0, 0, 0]) == 2.0 * 64  # Loihi's scale: w * 64
    lava_out = netx_output_spikes(path, lava_payload(images, 5, net.delay),
                                  input_bits=INPUT_BITS, timeout_s=120)
    np.testing.assert_array_equal(lava_out, torch_out)


def test_pooled_integrator_readout_is_bit_exact_in_lava(tmp_path):
    net = _pooled_net(readout="integrator")
    images = _images(5, seed=1)
    v = snn_output(net, images, 5)[..., -1]
    assert len(np.unique(v)) > 5
    path = net.export_hdf5(tmp_path / "pool_int.net")
    lava_v = netx_output_voltage(path, lava_payload(images, 5, net.delay), input_bits=INPUT_BITS,
                                 timeout_s=120)
    np.testing.assert_array_equal(lava_v, v)


def test_conversion_init_gives_the_pool_weight_the_average():
    ann = build_ann(SPEC, (1, 8, 8))
    assert isinstance(ann[2], torch.nn.AvgPool2d)
    images = _images(20)
    thetas = threshold_init(ann, images, 99.0, 0.5)
    assert len(thetas) == 4
    net = DietSNN(SPEC, input_shape=(1, 8, 8))
    load_ann_weights(net, ann, thetas)
    pool = net.weight_blocks[1].synapse
    np.testing.assert_allclose(pool.weight.detach().numpy(), thetas[0] / 4, rtol=1e-6)
    assert net.thresholds() == pytest.approx(thetas)


def test_energy_counts_each_pooled_spike_once():
    net = _pooled_net()
    report = energy_report(net, _images(4), 5)
    pool = report.layers[1]
    assert pool.kind == "conv" and pool.macs_per_step == 4 * 4 * 4 * 4  # 64 outputs x 2x2
    assert pool.synops == pytest.approx(pool.input_spikes)  # stride 2 = window: fan-out 1


def test_pooled_checkpoint_round_trip(tmp_path):
    from lava_thesis.diet.model import load_diet

    net = _pooled_net(readout="integrator")
    net(torch.zeros(1, 1, 8, 8, 1))
    torch.save({"spec": net.spec, "input_shape": [1, 8, 8], "readout": "integrator",
                "state_dict": net.state_dict()}, tmp_path / "m.pt")
    loaded = load_diet(tmp_path / "m.pt")
    images = _images(3)
    np.testing.assert_array_equal(snn_output(loaded, images, 5), snn_output(net, images, 5))
    from typer.testing import CliRunner

    from lava_thesis.cli import app

    for suffix in (".net", ".nir"):
        result = CliRunner().invoke(app, ["export", str(tmp_path / "m.pt"), "--out",
                                          str(tmp_path / f"m{suffix}")])
        assert result.exit_code == 0, result.output
    with h5py.File(tmp_path / "m.net") as f:
        assert int(f["layer/1/groups"][()]) == 4


# ------------------------------------------------------------------- the SumPool Lava Process


def _spikes(shape, steps, seed=0, graded=False):
    rng = np.random.default_rng(seed)
    if graded:
        return rng.integers(0, 256, (*shape, steps)).astype(float)
    return (rng.random((*shape, steps)) < 0.4).astype(float)


def _run(make_synapse, data, tag="fixed_pt", **cfg):
    """Source -> synapse -> sink in Lava; returns the sink's ``(*out, T)`` record."""

    def build():
        from lava.proc.io.sink import RingBuffer as Sink
        from lava.proc.io.source import RingBuffer as Source

        source = Source(data=data)
        synapse = make_synapse()
        sink = Sink(shape=synapse.a_out.shape, buffer=data.shape[-1])
        source.s_out.connect(synapse.s_in)
        synapse.a_out.connect(sink.a_in)
        return source, lambda: sink.data.get()

    return run_lava(build, data.shape[-1], tag=tag, timeout_s=120, **cfg)


def test_window_sum_by_hand():
    s = np.arange(4 * 4 * 1).reshape(4, 4, 1)
    np.testing.assert_array_equal(window_sum(s, 2, 2)[..., 0], [[0 + 1 + 4 + 5, 2 + 3 + 6 + 7],
                                                                [8 + 9 + 12 + 13,
                                                                 10 + 11 + 14 + 15]])
    assert window_sum(s, 3, 1).shape == (2, 2, 1)


@pytest.mark.parametrize(("weight", "exp", "bits"), [(64, 0, 0), (-37, -3, 0), (5, -4, 8)])
def test_sum_pool_equals_lavas_depthwise_conv_in_fixed_point(weight, exp, bits):
    from lava.proc.conv.process import Conv
    from lava_thesis.processes.conv_weight_exp.models import PyConvModelFixedWeightExp

    shape, steps = (6, 6, 3), 6
    data = _spikes(shape, steps, graded=bits > 0)
    ours = _run(lambda: SumPool(shape_in=shape, kernel_size=2, weight=weight, weight_exp=exp,
                                num_message_bits=bits), data)
    kernel = np.full((3, 2, 2, 1), weight)  # (out, kx, ky, in / groups)
    conv = _run(lambda: Conv(weight=kernel, input_shape=shape, stride=2, groups=3,
                             weight_exp=exp, num_message_bits=bits), data,
                exception_proc_model_map={Conv: PyConvModelFixedWeightExp})
    assert np.abs(ours).max() > 0
    np.testing.assert_array_equal(ours, conv)
    # and by hand: one step late, scaled, floored for a negative exponent
    expected = np.stack([window_sum(data[..., t].astype(np.int64), 2, 2) * weight
                         for t in range(steps)], -1)
    expected = expected << exp if exp >= 0 else expected >> -exp
    np.testing.assert_array_equal(ours[..., 1:], expected[..., :-1])
    assert not ours[..., 0].any()


def test_sum_pool_float_model_is_the_exact_scaled_sum():
    shape, steps = (4, 6, 2), 5
    data = _spikes(shape, steps, seed=3)
    out = _run(lambda: SumPool(shape_in=shape, kernel_size=2, weight=0.75, weight_exp=-1),
               data, tag="floating_pt")
    expected = np.stack([window_sum(data[..., t], 2, 2) * 0.375 for t in range(steps)], -1)
    np.testing.assert_allclose(out[..., 1:], expected[..., :-1])


def test_sum_pool_equals_slayers_pool_synapse():
    """SLAYER's pool synapse (NCHW, its 8-bit weight w/64) times 64 = our fixed-point SumPool
    with the integer weight, one step later (Lava's synaptic delay)."""
    from lava.lib.dl import slayer

    block = slayer.block.cuba.Pool({"threshold": 1.0, "current_decay": 1.0,
                                    "voltage_decay": 0.0}, 2, weight_scale=1.5)
    channels, h, w, steps = 3, 6, 4, 5
    x = torch.from_numpy(_spikes((channels, h, w), steps, seed=5)).float()[None]
    with torch.no_grad():
        slayer_a = block.synapse(x)[0].numpy() * 64  # (C, H/2, W/2, T)
        w_int = int(block.synapse.pre_hook_fx(block.synapse.weight, descale=True).reshape(-1)[0])
    assert w_int == 96
    lava_in = x[0].numpy().transpose(2, 1, 0, 3)  # (C, H, W, T) -> Lava's (X=W, Y=H, C, T)
    ours = _run(lambda: SumPool(shape_in=(w, h, channels), kernel_size=2, weight=w_int),
                np.ascontiguousarray(lava_in))
    np.testing.assert_array_equal(ours[..., 1:], slayer_a.transpose(2, 1, 0, 3)[..., :-1])


def test_sum_pool_rejects_bad_arguments():
    with pytest.raises(ValueError, match="shape_in"):
        SumPool(shape_in=(4, 4), kernel_size=2)
    with pytest.raises(ValueError, match="kernel_size"):
        SumPool(shape_in=(4, 4, 1), kernel_size=5)
    with pytest.raises(ValueError, match="num_message_bits"):
        SumPool(shape_in=(4, 4, 1), kernel_size=2, num_message_bits=30)


def test_cli_names_the_pooled_specs_and_hybrid_refuses_pooling(data_root):
    from typer.testing import CliRunner

    from lava_thesis.cli import app
    from lava_thesis.experiments.diet import SPECS

    assert "p2" in SPECS["small-pool"] and "p2" in SPECS["vgg9-pool"]
    parse_spec(SPECS["small-pool"], (1, 28, 28))
    parse_spec(SPECS["vgg9-pool"], (3, 32, 32))
    result = CliRunner().invoke(app, ["train", "hybrid", "--data-dir", str(data_root),
                                      "--spec", "c8k3s1,p2,f,d10"])
    assert result.exit_code == 2 and "'p2'" in result.output and "hybrid" in result.output
