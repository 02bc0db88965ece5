"""What ``lumos.wrap`` picks, and what each adapter does with its inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

import lumos
from lumos.models.batching import BatchSizer
from lumos.models.function import CallableModel
from lumos.models.huggingface import HuggingFaceTextModel
from lumos.models.sklearn import SklearnModel
from lumos.models.torch_module import TorchModel
from conftest import make_mlp


def test_wrap_picks_the_adapter(tiny_bert, tokenizer, tfidf_pipeline):
    assert isinstance(lumos.wrap(make_mlp()), TorchModel)
    assert isinstance(lumos.wrap((tiny_bert, tokenizer)), HuggingFaceTextModel)
    assert isinstance(lumos.wrap(tiny_bert, tokenizer=tokenizer), HuggingFaceTextModel)
    text = lumos.wrap(tfidf_pipeline)
    assert isinstance(text, SklearnModel) and text.modalities == ("text",)
    assert isinstance(lumos.wrap(lambda x: np.full((len(x), 2), 0.5)), CallableModel)
    model = lumos.wrap(make_mlp())
    assert lumos.wrap(model) is model
    with pytest.raises(lumos.ModelError, match="needs its tokenizer"):
        lumos.wrap(tiny_bert)


def test_a_transformers_pipeline_explains_like_model_and_tokenizer(tiny_bert, tokenizer):
    from transformers import pipeline

    pipe = pipeline("text-classification", model=tiny_bert, tokenizer=tokenizer, device="cpu")
    a = lumos.explain(pipe, ["a fine, moving film"], method="occlusion")[0]
    b = lumos.explain((tiny_bert, tokenizer), ["a fine, moving film"], method="occlusion")[0]
    np.testing.assert_allclose(a.attributions, b.attributions, atol=1e-6)
    assert a.label in ("negative", "positive")


def test_words_sum_their_pieces_and_special_tokens_get_nothing(tiny_bert, tokenizer):
    text = "a gripping, beautifully-shot film!"
    words = lumos.explain((tiny_bert, tokenizer), [text], method="input_x_gradient")[0]
    tokens = lumos.explain((tiny_bert, tokenizer), [text], method="input_x_gradient", granularity="token")[0]
    assert words.features == ["a", "gripping,", "beautifully-shot", "film!"]
    assert tokens.features == ["a", "gripping", ",", "beautifully", "-", "shot", "film", "!"]
    assert "[CLS]" not in tokens.features and "[SEP]" not in tokens.features
    t = tokens.attributions
    np.testing.assert_allclose(words.attributions, [t[0], t[1] + t[2], t[3] + t[4] + t[5], t[6] + t[7]], atol=1e-6)
    assert words.params["granularity"] == "word" and tokens.params["granularity"] == "token"


def test_mask_and_pad_removal_replace_tokens_instead_of_deleting(tiny_bert, tokenizer):
    text = "dull and far too long"
    model = lumos.wrap((tiny_bert, tokenizer))
    e = lumos.explain(model, [text], method="occlusion", baseline="mask", target=0)[0]
    ids = tokenizer([text])["input_ids"][0]
    masked = list(ids)
    masked[2] = tokenizer.mask_token_id  # the word "and"
    with torch.no_grad():
        p = torch.softmax(tiny_bert(input_ids=torch.tensor([ids, masked])).logits, 1)[:, 0].numpy()
    assert e.attributions[1] == pytest.approx(p[0] - p[1], abs=1e-6)


def test_sklearn_dataframe_features_and_categorical_columns():
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    rng = np.random.default_rng(0)
    df = pd.DataFrame({"age": rng.integers(20, 70, 200).astype(float), "colour": rng.choice(["red", "blue"], 200)})
    y = ((df.age > 45) ^ (df.colour == "red")).astype(int)
    pipe = make_pipeline(make_column_transformer((OneHotEncoder(), ["colour"]), remainder="passthrough"),
                         LogisticRegression(max_iter=1000)).fit(df, y)
    background = df.iloc[:10]
    e = lumos.explain(pipe, df.iloc[[50]], method="occlusion", background=background)[0]
    assert e.features == ["age", "colour"]
    row = df.iloc[[50]]
    p = pipe.predict_proba(row)[0, e.target]
    replaced = pd.concat([row] * 10, ignore_index=True)
    replaced["colour"] = background.colour.to_numpy()
    by_hand = p - pipe.predict_proba(replaced)[:, e.target].mean()
    assert e.attributions[1] == pytest.approx(by_hand, abs=1e-6)


def test_counts_are_rows_and_forwards():
    model = lumos.wrap(make_mlp(), batch_size=10)
    lumos.explain(model, np.zeros((3, 6)), method="occlusion")
    assert model.counts.rows == 3 + 3 * 6  # the unperturbed rows, then one per removed column
    assert model.counts.forwards == 3  # 1 (3 rows) + 2 (18 rows in batches of 10), batched across examples


def test_batch_sizer_settles_on_the_fastest_size():
    """A simulated model whose cost per row is lowest at batch 32: the search finds it from 16, and a
    model whose cost per row is lowest at batch 1 makes the search go down."""
    for best in (32, 1):
        clock = [0.0]

        def run(lo: int, hi: int) -> None:
            n = hi - lo
            clock[0] += 0.01 + 0.001 * n * max(1.0, n / best) if best > 1 else 0.001 * n * (1 + n / 4)

        sizer = BatchSizer(clock=lambda: clock[0])
        sizer.chunks(4000, "key", 100, run)
        assert sizer.chosen("key") == best


def test_one_slow_chunk_does_not_lock_the_batch_sizer_into_a_slow_size():
    """Cost per row lowest at 32; the first chunk of 32 is hit by a burst of other load (3x slower)."""
    clock, seen = [0.0], []

    def run(lo: int, hi: int) -> None:
        n = hi - lo
        seen.append(n)
        burst = 3.0 if n == 32 and seen.count(32) == 1 else 1.0
        clock[0] += burst * (0.01 + 0.001 * n * max(1.0, n / 32))

    sizer = BatchSizer(clock=lambda: clock[0])
    sizer.chunks(4000, "key", 100, run)
    assert sizer.chosen("key") == 32


def test_background_frames_are_put_in_the_inputs_column_order():
    x = pd.DataFrame({"a": [1.0], "b": [2.0], "c": [3.0]})
    background = pd.DataFrame({"label": [0], "c": [0.0], "a": [0.0], "b": [10.0]})  # other order, extra column
    fn = lambda rows: np.stack([1 - np.asarray(rows)[:, 1] / 20, np.asarray(rows)[:, 1] / 20], axis=1)  # noqa: E731
    e = lumos.explain(fn, x, method="occlusion", background=background, target=1)[0]
    np.testing.assert_allclose(e.attributions, [0.0, (2.0 - 10.0) / 20, 0.0])


def test_lumos_zoo_is_reachable_as_an_attribute():
    import lumos as fresh

    assert hasattr(fresh.zoo, "load") and hasattr(fresh.bench, "run") and hasattr(fresh.report, "render")


def test_gradient_methods_count_their_forward_rows():
    from conftest import make_cnn

    model = lumos.wrap(make_cnn(), batch_size=100)
    lumos.explain(model, np.zeros((2, 3, 8, 8), np.float32), method="integrated_gradients", steps=8)
    # the predictions (2), the path (2 x 8 points), then f(x) and f(baseline) for the completeness check (2 + 2)
    assert model.counts.rows == 2 + 16 + 4


def test_text_gradients_run_in_length_groups_and_never_pad_past_the_longest_row(tiny_bert, tokenizer):
    model = lumos.wrap((tiny_bert, tokenizer))
    texts = ["good", "a long and winding but ultimately rewarding film about loss", "bad", "fine film"]
    batch = model.prepare(texts)
    lengths = [len(d.ids) for d in batch.docs]  # [CLS] and [SEP] included
    groups = model.gradient_groups(batch)
    assert [list(g) for g in groups] == [[0, 2], [3], [1]], lengths
    seen = []
    hook = tiny_bert.register_forward_pre_hook(lambda m, a, kw: seen.append(kw["inputs_embeds"].shape[1])
                                               if kw.get("inputs_embeds") is not None else None, with_kwargs=True)
    try:
        together = lumos.explain(model, texts, method="integrated_gradients", steps=4)
    finally:
        hook.remove()
    assert max(seen) == max(lengths) and min(seen) == min(lengths)
    for text, e in zip(texts, together):
        alone = lumos.explain(model, [text], method="integrated_gradients", steps=4)[0]
        np.testing.assert_allclose(e.attributions, alone.attributions, atol=1e-5)


def test_gradient_passes_are_chunked_by_the_models_batch_size():
    from conftest import make_cnn

    cnn = make_cnn()
    sizes = []
    hook = cnn.register_forward_pre_hook(lambda m, args: sizes.append(args[0].shape[0]))
    x = np.random.default_rng(0).random((3, 3, 8, 8), dtype=np.float32)
    try:
        lumos.explain(lumos.wrap(cnn, batch_size=5), x, method="integrated_gradients", steps=4)
    finally:
        hook.remove()
    # predictions (3 rows), the 12 path points in chunks of at most 5, then f(x) and f(baseline)
    assert sizes[:4] == [3, 5, 5, 2]


def test_a_size_timed_cold_is_timed_again_once_the_model_is_warm():
    """Cost per row lowest at 16 (the start), but its first chunks run cold (2x slower) and 32 looks faster:
    the second pass re-times 16 warm and settles there."""
    clock, seen = [0.0], []

    def run(lo: int, hi: int) -> None:
        n = hi - lo
        seen.append(n)
        cold = 2.0 if len(seen) <= 3 else 1.0
        clock[0] += cold * 0.001 * n * (1.0 if n == 16 else 1.3)

    sizer = BatchSizer(clock=lambda: clock[0])
    sizer.chunks(4000, "key", 100, run)
    assert sizer.chosen("key") == 16 and 32 in seen
