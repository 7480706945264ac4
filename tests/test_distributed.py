"""Data-parallel DIET training with torch.distributed (gloo, 2 processes on the CPU).

Two ranks with batches of ``B`` samples each, gradients averaged by DistributedDataParallel,
must follow one process that trains on the union of the two ranks' batches (``2 B`` samples,
the same order): the same parameters after ``K`` updates. Evaluation splits the images across
the ranks and sums the correct counts; only rank 0 writes files.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.multiprocessing as mp
from torch.utils.data import DistributedSampler

from lava_thesis import distributed

WORLD, B, K, T = 2, 4, 3, 3  # ranks, samples per rank and batch, updates, time steps
N = WORLD * B * K  # one epoch is exactly K updates
SPEC = ("c4k3s2", "f", "d3")
ATOL = 1e-6  # parameters after K Adam steps (float32 sums in a different order)


def _data(n: int = N, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Random 8x8 uint8 images with three classes (their labels learnable: mean brightness)."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, 8, 8), dtype=np.uint8)
    return images, np.digitize(images.mean((1, 2)), [110, 145])


def _net():
    from lava_thesis.diet import DietSNN

    torch.manual_seed(0)
    return DietSNN(SPEC, (1, 8, 8), thresholds=[0.2, 0.4], readout="integrator")


def _config():
    from lava_thesis.diet.train import TrainConfig

    return TrainConfig(epochs=1, batch_size=B, lr=1e-2, seed=3)


def _worker(rank: int, init_file: str, out: str) -> None:
    """One rank: K data-parallel updates, an all-reduced accuracy and sum, and a whole (tiny)
    DIET experiment writing into ``out/rank<r>``."""
    torch.set_num_threads(1)
    from lava_thesis.diet.train import accuracy, predict_output, snn_output, train_snn
    from lava_thesis.experiments import diet as exp

    distributed.init(torch.device("cpu"), rank=rank, world_size=WORLD,
                     init_method=f"file://{init_file}")
    try:
        images, labels = _data()
        net = _net()
        train_snn(net, images, labels, T, _config())
        x_te, y_te = _data(13, seed=1)  # 13: shards of 7 and 6 images
        local = float((predict_output(net, snn_output(net, x_te, T)) == y_te).mean())
        result = {"state": {k: v.detach().clone() for k, v in net.state_dict().items()},
                  "accuracy": accuracy(net, x_te, y_te, T), "local_accuracy": local,
                  "sum": distributed.all_reduce_sum(torch.tensor([rank + 1.0])).item(),
                  "main": distributed.is_main()}
        torch.save(result, Path(out) / f"result{rank}.pt")
        cfg = exp.DietConfig(spec=SPEC, num_steps=T, ann_epochs=1, train=_config(),
                             sweep_steps=(1, T), lava_samples=2, energy_samples=4,
                             val_fraction=0.25)
        folder = Path(out) / f"rank{rank}"
        folder.mkdir()
        exp.run((images, labels), (x_te, y_te), folder, dataset="toy", config=cfg,
                experiment="d", log=lambda line: None)
    finally:
        distributed.cleanup()


@pytest.fixture(scope="module")
def ranks(tmp_path_factory) -> Path:
    """Run the two ranks once (spawned processes, a file:// rendezvous); their outputs."""
    out = tmp_path_factory.mktemp("ddp")
    env = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        mp.spawn(_worker, args=(str(out / "rendezvous"), str(out)), nprocs=WORLD, join=True)
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return out


def _global_batches() -> list[np.ndarray]:
    """Batch j of one process = batch j of rank 0 followed by batch j of rank 1 (the ranks'
    DistributedSampler shares, epoch 0)."""
    shares = []
    for rank in range(WORLD):
        sampler = DistributedSampler(range(N), num_replicas=WORLD, rank=rank, shuffle=True,
                                     seed=_config().seed)
        sampler.set_epoch(0)
        shares.append(np.fromiter(iter(sampler), dtype=np.int64))
    return [np.concatenate([s[j * B:(j + 1) * B] for s in shares]) for j in range(K)]


def test_two_ranks_equal_one_process_on_the_global_batch(ranks):
    from dataclasses import replace

    from lava_thesis.diet.train import train_snn

    images, labels = _data()
    batches = _global_batches()
    assert sorted(np.concatenate(batches).tolist()) == list(range(N))  # every sample once
    net = _net()
    start = {k: v.detach().clone() for k, v in net.state_dict().items()}
    train_snn(net, images, labels, T, replace(_config(), batch_size=WORLD * B),
              batches=lambda epoch: batches)
    reference = net.state_dict()
    states = [torch.load(ranks / f"result{r}.pt")["state"] for r in range(WORLD)]
    for name, value in reference.items():
        for state in states:
            torch.testing.assert_close(state[name], value, atol=ATOL, rtol=0, msg=name)
    moved = [k for k in reference if not torch.equal(reference[k], start[k])]
    assert any("weight" in k for k in moved) and any("log_gain" in k for k in moved)


def test_all_reduced_metrics_equal_the_single_process_ones(ranks):
    results = [torch.load(ranks / f"result{r}.pt") for r in range(WORLD)]
    for result in results:
        assert result["accuracy"] == result["local_accuracy"]  # 13 images in shards of 7, 6
        assert result["sum"] == 3.0  # 1 + 2
    assert [r["main"] for r in results] == [True, False]


def test_only_rank_zero_writes_files(ranks):
    assert sorted(p.name for p in (ranks / "rank1").iterdir()) == []
    written = {p.name for p in (ranks / "rank0").iterdir()}
    assert {"d.json", "d.pt", "d.net", "d.model_card.json"} <= written
    record = json.loads((ranks / "rank0" / "d.json").read_text())
    assert set(record["metrics"]) >= {"deployed_accuracy", "snn_accuracy_T1", "val_accuracy"}
    assert record["config"]["world_size"] == WORLD


def test_shards_cover_every_sample_once():
    for n in range(0, 9):
        for world in (1, 2, 3):
            parts = [distributed.shard(n, r, world) for r in range(world)]
            assert sorted(np.concatenate(parts).tolist()) == list(range(n))


def test_without_a_process_group_the_helpers_act_as_one_process():
    assert not distributed.is_initialized()
    assert (distributed.rank(), distributed.world_size(), distributed.is_main()) == (0, 1, True)
    values = torch.tensor([2.0, 5.0])
    assert distributed.all_reduce_sum(values).tolist() == [2.0, 5.0]
    distributed.barrier()
    distributed.cleanup()
