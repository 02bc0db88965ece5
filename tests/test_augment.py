"""Image augmentations (lumos.zoo.augment) with known answers, and their effect on a trained model: a CNN that
only ever saw a pattern on the left learns to read it on the right when trained with ``augment="flip"``."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

import lumos
from lumos.errors import InputError
from lumos.zoo import cache
from lumos.zoo.augment import chain, named, random_color, random_flip, random_shift


def batch(n: int = 6, seed: int = 0) -> torch.Tensor:
    return torch.rand(n, 3, 8, 8, generator=torch.Generator().manual_seed(seed))


def test_flip_mirrors_exactly_the_images_its_coin_picks():
    x = batch()
    out = random_flip(x, torch.Generator().manual_seed(1))
    coins = torch.rand(len(x), generator=torch.Generator().manual_seed(1)) < 0.5
    assert 0 < coins.sum() < len(x)  # this seed mirrors some and keeps some
    for image, flipped, coin in zip(x, out, coins):
        assert torch.equal(flipped, image.flip(-1) if coin else image)


def test_shift_moves_the_batch_and_fills_with_zeros():
    x = batch()
    out = random_shift(2)(x, torch.Generator().manual_seed(3))
    dy, dx = torch.randint(0, 5, (2,), generator=torch.Generator().manual_seed(3)).tolist()
    padded = torch.zeros(6, 3, 12, 12)
    padded[..., 2:10, 2:10] = x
    assert torch.equal(out, padded[..., dy:dy + 8, dx:dx + 8])
    assert out.shape == x.shape


def test_color_scales_contrast_and_brightness_within_bounds():
    flat = torch.full((4, 1, 5, 5), 0.5)  # no contrast: only the brightness factor acts, on the mean
    out = random_color(flat, torch.Generator().manual_seed(0))
    factors = out[:, 0, 0, 0] / 0.5
    assert torch.all((factors >= 0.8) & (factors <= 1.2)) and factors.std() > 0
    assert torch.allclose(out, out[:, :, :1, :1].expand_as(out))  # still flat per image
    bright = random_color(torch.ones(50, 1, 2, 2), torch.Generator().manual_seed(0))
    assert bright.max() <= 1.0 and bright.min() >= 0.8  # clipped to [0, 1]


def test_named_chain_runs_in_order_and_rejects_unknown_names():
    x = batch()
    both = chain(named("flip,shift", 8))
    gen_a, gen_b = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    by_hand = random_shift(1)(random_flip(x, gen_b), gen_b)
    assert torch.equal(both(x, gen_a), by_hand)
    assert chain(named("", 8)) is None
    with pytest.raises(InputError, match="unknown augmentation 'rotate'.*flip"):
        named("flip, rotate", 8)


def test_flip_augmentation_teaches_a_cnn_the_mirrored_pattern(tmp_path, monkeypatch):
    """Four classes: a bright block in one of four bands of rows, always in the left quarter. Mirrored test
    pictures put the block in the right quarter, where the plain CNN never saw one (its flattened layer reads
    position); flip augmentation shows it there. Measured: plain 0.25-0.41 over seeds 0-2, flip 1.0."""
    monkeypatch.setenv(cache.ENV_VAR, str(tmp_path / "cache"))
    rng = np.random.default_rng(0)
    bands = {"a": (0, 1), "b": (4, 5), "c": (8, 9), "d": (12, 13)}

    def picture(row: int, col: int) -> np.ndarray:
        pixels = rng.integers(0, 40, (16, 16), dtype=np.uint8)
        pixels[row:row + 3, col:col + 3] = 255
        return pixels

    root = tmp_path / "blocks"
    for name, rows in bands.items():
        (root / name).mkdir(parents=True)
        for i in range(30):
            Image.fromarray(picture(int(rng.integers(*rows)), int(rng.integers(0, 4)))).save(root / name / f"{i}.png")
    mirrored = np.stack([picture(int(rng.integers(*rows)), int(rng.integers(9, 13)))
                         for rows in bands.values() for _ in range(20)]).astype(np.float32)[:, None] / 255
    truth = np.repeat(np.arange(4), 20)

    def mirrored_accuracy(augment: str) -> float:
        trained = lumos.train(root, base="cnn", name=f"blocks-{augment or 'plain'}", augment=augment, epochs=30,
                              lr=3e-3, patience=None, seed=0, progress=False)
        order = np.asarray([trained.model.labels.index(name) for name in bands])
        channels = trained.record["reader"]["channels"]
        predicted = trained.model.predict_proba(np.repeat(mirrored, channels, axis=1)).argmax(1)
        return float(np.mean(predicted == order[truth]))

    plain, flipped = mirrored_accuracy(""), mirrored_accuracy("flip")
    assert flipped >= 0.95, flipped
    assert plain <= 0.6, plain  # chance is 0.25: the plain model cannot read the right quarter
