"""Training-time augmentation for DIET: translations with zero fill, horizontal flips, seeded
draws, and its wiring into train_snn and the command line."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import one_line_error
from typer.testing import CliRunner

from lava_thesis.diet.augment import augment, random_crop


def _shifted(image: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
    """``image`` (C, H, W) moved by (dy, dx) pixels, zeros coming in."""
    out = torch.zeros_like(image)
    h, w = image.shape[1:]
    out[:, max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
        image[:, max(-dy, 0):h - max(dy, 0), max(-dx, 0):w - max(dx, 0)]
    return out


def _offset(original: torch.Tensor, moved: torch.Tensor, pad: int) -> tuple[int, int] | None:
    for dy in range(-pad, pad + 1):
        for dx in range(-pad, pad + 1):
            if torch.equal(_shifted(original, dy, dx), moved):
                return dy, dx
    return None


def test_shift_is_a_translation_of_up_to_two_pixels():
    x = torch.randint(1, 255, (64, 2, 9, 9), dtype=torch.uint8)
    out = augment(x, "shift", torch.Generator().manual_seed(0))
    assert out.shape == x.shape and out.dtype == x.dtype
    offsets = [_offset(a, b, 2) for a, b in zip(x, out, strict=True)]
    assert None not in offsets
    assert len(set(offsets)) > 10  # 25 possible offsets, 64 draws
    again = augment(x, "shift", torch.Generator().manual_seed(0))
    assert torch.equal(out, again)  # seeded
    assert torch.equal(augment(x, "none", torch.Generator()), x)
    assert torch.equal(random_crop(x, 0, torch.Generator()), x)


def test_crop_flip_flips_about_half_and_keeps_the_content():
    x = torch.randint(1, 255, (200, 3, 8, 8), dtype=torch.uint8)
    out = augment(x, "crop-flip", torch.Generator().manual_seed(1))
    flipped = 0
    for a, b in zip(x, out, strict=True):
        plain, mirrored = _offset(a, b, 4), _offset(a.flip(-1), b, 4)
        assert plain is not None or mirrored is not None
        flipped += plain is None
    assert 60 < flipped < 140
    with pytest.raises(ValueError, match="augment must be one of"):
        augment(x, "rotate", torch.Generator())


def test_train_snn_augments_each_batch():
    """With augment="shift" training sees other pixels than without (different weights
    after one epoch), and the same seed gives the same network."""
    from lava_thesis.diet import DietSNN
    from lava_thesis.diet.train import TrainConfig, train_snn

    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (32, 1, 10, 10), dtype=np.uint8)
    labels = rng.integers(0, 3, 32)

    def trained(mode: str) -> torch.Tensor:
        torch.manual_seed(0)
        net = DietSNN(["c4k3s2", "f", "d3"], (1, 10, 10), thresholds=[0.3, 1.0])
        train_snn(net, images, labels, 2, TrainConfig(epochs=1, batch_size=8, augment=mode))
        return net.weight_blocks[0].synapse.weight.detach().clone()

    plain, shifted = trained("none"), trained("shift")
    assert not torch.equal(plain, shifted)
    assert torch.equal(shifted, trained("shift"))
    with pytest.raises(ValueError, match="augment"):
        trained("blur")


def test_cli_augment_is_for_diet_only(tmp_path):
    from lava_thesis.cli import app

    result = CliRunner().invoke(app, ["train", "quickstart", "--augment", "shift", "--out",
                                      str(tmp_path / "o")])
    one_line_error(result, "--augment", "quickstart")


def test_cli_passes_augment_to_the_diet_training(data_root, tmp_path, monkeypatch):
    from lava_thesis.cli import app
    from lava_thesis.experiments import diet

    seen = []
    monkeypatch.setattr(diet, "run", lambda *a, config, **k: seen.append(config) or {})
    result = CliRunner().invoke(app, ["train", "diet", "--data-dir", str(data_root),
                                      "--augment", "crop-flip", "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    assert seen[0].train.augment == "crop-flip"
