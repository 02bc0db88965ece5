"""Every method bounds its memory and says up front when the work will be huge."""

from __future__ import annotations

import tracemalloc
import warnings

import numpy as np
import pytest

import lumos
from lumos.errors import LumosWarning, ModelError
from lumos.explainers.lime import lime_masks
from lumos.features import masking


def needle(texts):
    """p(positive) = 0.5, plus 0.3 when the word 'needle' is in the text (a substring test: fast on long texts)."""
    return np.array([[0.2, 0.8] if " needle " in f" {t} " else [0.5, 0.5] for t in texts])


def test_occlusion_on_a_6000_word_text_holds_no_f_by_f_mask(monkeypatch):
    """With 4 MB chunks of rendered rows, the peak stays far below the 34 MB an F x F mask alone would take
    (by default chunks are 64 MB: the peak is then set by the chunk, whatever F is)."""
    monkeypatch.setattr(masking, "_CHUNK_BYTES", 4 * 2**20)
    words = ["hay"] * 6_000
    words[4_321] = "needle"
    text = " ".join(words)
    tracemalloc.start()
    try:
        e = lumos.explain(needle, [text], method="occlusion", target=1)[0]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    expected = np.zeros(6_000)
    expected[4_321] = 0.3
    np.testing.assert_allclose(e.attributions, expected, atol=1e-7)
    assert peak < 20 * 2**20, f"peak {peak / 2**20:.0f} MB; a full F x F mask alone is {6_000**2 / 2**20:.0f} MB"


def test_leave_one_out_masks_are_made_in_chunks_and_equal_the_identity():
    m = masking.leave_one_out(7)
    assert m.shape == (7, 7) and len(m) == 7
    np.testing.assert_array_equal(np.asarray(m), ~np.eye(7, dtype=bool))
    np.testing.assert_array_equal(m[2:5], ~np.eye(7, dtype=bool)[2:5])
    full = masking.with_full_row(m)
    np.testing.assert_array_equal(np.asarray(full), np.vstack([np.ones((1, 7), bool), ~np.eye(7, dtype=bool)]))
    np.testing.assert_array_equal(full[0:3], np.asarray(full)[0:3])


def test_a_50000_word_text_is_announced_before_the_work_starts():
    text = " ".join(f"w{i}" for i in range(50_000))
    calls = []

    def stop(texts):
        calls.append(len(texts))
        if len(calls) > 1:
            raise RuntimeError("stopped after the first call: the warning came before the work")
        return np.full((len(texts), 2), 0.5)

    with pytest.warns(LumosWarning, match=r"will send 50,000 rows \(about [\d,.]+ GB of model input\)"):
        with pytest.raises(ModelError, match="raised RuntimeError.*stopped after the first call"):
            lumos.explain(stop, [text], method="occlusion")


def test_small_work_is_not_announced():
    with warnings.catch_warnings():
        warnings.simplefilter("error", LumosWarning)
        lumos.explain(needle, ["hay needle hay"], method="kernel_shap", n_samples=64)


def test_lime_masks_drawn_in_blocks_equal_one_draw_of_the_same_stream():
    """Blocks of rows keep memory bounded for long texts; the numbers are those of one (S, F) draw."""
    for n_features in (5, 3_000):
        masks = lime_masks(n_features, 700, np.random.default_rng(3))
        rng = np.random.default_rng(3)
        n_remove = rng.integers(1, n_features + 1, size=700)
        order = rng.random((700, n_features)).argsort(axis=1)
        np.testing.assert_array_equal(masks, order >= n_remove[:, None])
        pairs = lime_masks(n_features, 700, np.random.default_rng(3), antithetic=True)
        rng = np.random.default_rng(3)
        n_remove = rng.integers(1, n_features + 1, size=350)[:, None]
        rank = rng.random((350, n_features)).argsort(axis=1).argsort(axis=1)
        np.testing.assert_array_equal(pairs[0::2], rank >= n_remove)
        np.testing.assert_array_equal(pairs[1::2], rank < n_features - n_remove)


def test_gradient_methods_announce_huge_paths_too(monkeypatch):
    from conftest import make_mlp

    monkeypatch.setattr(masking, "HUGE_ROWS", 1_000)  # 3 rows x 400 steps = 1,200 points
    with pytest.warns(LumosWarning, match=r"this gradient pass will send 1,200 rows"):
        lumos.explain(make_mlp(), np.zeros((3, 6)), method="integrated_gradients", steps=400)
