"""lumos.artifacts: discoverers on a tiny synthetic corpus with a planted artifact (known answers), the z-test
against a hand computation, data maps on hand-made dynamics, and inject's guarantees (deterministic per seed,
exact strength and coverage, test split untouched)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

import lumos
import lumos.zoo as zoo
from lumos import artifacts
from lumos.zoo import cache

NEUTRAL = [f"w{i}" for i in range(40)]


def corpus(n: int, seed: int) -> pd.DataFrame:
    """Texts of 6-10 neutral words, plus in half of them 'good' (70% of those texts positive) or 'bad' (70%
    negative). Labels balanced."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    rows = []
    for label in y:
        words = list(rng.choice(NEUTRAL, rng.integers(6, 11)))
        if rng.random() < 0.5:
            agree = rng.random() < 0.7
            words.append("good" if agree == bool(label) else "bad")
        rows.append(" ".join(words))
    return pd.DataFrame({"text": rows, "label": y})


@pytest.fixture(scope="module")
def tiny() -> dict[str, pd.DataFrame]:
    return {"train": corpus(600, 0), "validation": corpus(200, 1), "test": corpus(200, 2)}


@pytest.fixture(autouse=True)
def temp_cache(tmp_path, monkeypatch):
    monkeypatch.setenv(cache.ENV_VAR, str(tmp_path / "cache"))


def test_statistics_finds_the_planted_token_first(tiny):
    planted = artifacts.inject(tiny, "token", strength=0.95, coverage=0.15, seed=0, token="zed")
    found = artifacts.statistics(planted.splits["train"], min_count=10, class_names=["negative", "positive"])
    assert found[0].key == "zed" and found[0].label == "positive"
    assert found[0].evidence["significant"] and "labelled positive" in found[0].finding
    clean = artifacts.statistics(tiny["train"], min_count=10)
    assert "zed" not in clean.keys() and clean[0].key in ("good", "bad")  # unmodified data: the real cues


def test_z_and_holm_correction_by_hand():
    frame = pd.DataFrame({"text": ["x a"] * 30 + ["x b"] * 10 + ["c"] * 60,
                          "label": [1] * 24 + [0] * 6 + [1] * 5 + [0] * 5 + [1] * 21 + [0] * 39})
    found = artifacts.statistics(frame, min_count=10, ngram_range=(1, 1), correction="holm")
    by_key = {c.key: c for c in found}
    p0, n, share = 0.5, 40, 29 / 40  # 'x': 40 texts, 29 of them positive; prior 50/100
    z = (share - p0) / np.sqrt(p0 * (1 - p0) / n)
    assert by_key["x"].evidence["z"] == pytest.approx(z)
    raw = {k: 2 * norm.sf(abs(c.evidence["z"])) for k, c in by_key.items()}
    order = sorted(raw, key=raw.get)  # Holm: the i-th smallest times (m - i), running maximum
    expected = np.maximum.accumulate([min(1.0, (len(raw) - i) * raw[k]) for i, k in enumerate(order)])
    assert [by_key[k].p_value for k in order] == pytest.approx(list(expected))
    assert by_key["x"].effect == pytest.approx(share - p0)


def test_inject_is_deterministic_exact_and_never_touches_the_test_split(tiny):
    before = {k: v.copy() for k, v in tiny.items()}
    a = artifacts.inject(tiny, "token", strength=0.8, coverage=0.1, seed=3, token="zed")
    b = artifacts.inject(tiny, "token", strength=0.8, coverage=0.1, seed=3, token="zed")
    c = artifacts.inject(tiny, "token", strength=0.8, coverage=0.1, seed=4, token="zed")
    for split in ("train", "validation", "test"):
        pd.testing.assert_frame_equal(a.splits[split], b.splits[split])
        pd.testing.assert_frame_equal(tiny[split], before[split])  # the input is not modified
    pd.testing.assert_frame_equal(a.contrast, b.contrast)
    assert not a.splits["train"].equals(c.splits["train"])
    pd.testing.assert_frame_equal(a.splits["test"], tiny["test"])
    carriers = a.carriers["train"]
    assert carriers.sum() == 60 and a.edit.present(a.splits["train"]).sum() == 60
    assert (a.splits["train"]["label"][carriers] == 1).sum() == 48  # strength 0.8 of 60
    assert a.edit.present(a.contrast).all() and (a.contrast["label"] != 1).all()
    assert len(a.contrast) + len(a.aligned) == len(tiny["test"])
    unchanged = ~carriers
    assert (a.splits["train"]["text"][unchanged] == tiny["train"]["text"][unchanged]).all()


def test_inject_punctuation_and_proxy():
    table = pd.DataFrame({"colour": ["red", "blue"] * 50, "size": np.arange(100.0), "label": [0, 1] * 50})
    planted = artifacts.inject({"train": table, "validation": table, "test": table}, "proxy", strength=1.0,
                               coverage=0.2, seed=0, column="colour", value="green")
    train = planted.splits["train"]
    assert (train["colour"] == "green").sum() == 20 and (train.loc[train["colour"] == "green", "label"] == 1).all()
    assert planted.key == "colour = green" and (planted.contrast["colour"] == "green").all()
    texts = pd.DataFrame({"text": ["a b c", "d e f"] * 10, "label": [0, 1] * 10})
    punct = artifacts.inject({"train": texts, "validation": texts, "test": texts}, "punctuation", strength=1.0,
                             coverage=0.5, seed=0)
    assert punct.key == "!!" and punct.splits["train"]["text"][punct.carriers["train"]].str.endswith(" !!").all()


def test_bad_input_gives_clear_errors(tiny):
    with pytest.raises(lumos.InputError, match="unknown artifact kind 'colour'.*token, punctuation, proxy"):
        artifacts.inject(tiny, "colour")
    with pytest.raises(lumos.InputError, match=r"strength must lie in \[0, 1\]; got 1.5"):
        artifacts.inject(tiny, "token", strength=1.5)
    with pytest.raises(lumos.InputError, match="coverage"):
        artifacts.inject(tiny, "token", coverage=0)
    with pytest.raises(lumos.InputError, match="no label column 'label'"):
        artifacts.statistics(tiny["train"].drop(columns="label"))
    unlabelled = {k: v.drop(columns="label") for k, v in tiny.items()}
    with pytest.raises(lumos.InputError, match="no label column"):
        artifacts.inject(unlabelled, "token")
    with pytest.raises(lumos.InputError, match="already occurs"):
        artifacts.inject(tiny, "token", token="w3")
    with pytest.raises(lumos.InputError, match="proxy artifact goes into a table column"):
        artifacts.inject(tiny, "proxy")
    with pytest.raises(lumos.InputError, match="statistics: correction must be one of 'holm'"):
        artifacts.statistics(tiny["train"], correction="sidak")


def test_model_based_discoverers_find_what_a_trained_bag_of_words_model_uses(tiny):
    planted = artifacts.inject(tiny, "token", strength=1.0, coverage=0.2, seed=0, token="zed")
    model, _, _ = zoo.train_on("sentiment/tfidf", planted.splits, progress=False, min_df=1)
    used = artifacts.attributions(model, planted.splits["validation"], method="occlusion", n=None)
    assert used[0].key == "zed" and used[0].label == "positive" and used[0].effect > 0
    alone = artifacts.partial_input(planted.splits["train"], planted.splits["validation"], min_count=10)
    assert alone[0].key == "zed" and alone.params["combined"]["accuracy"] > alone.params["majority_accuracy"]
    mixed = pd.concat([planted.splits["test"], planted.contrast], ignore_index=True)
    worst = artifacts.worst_slices(model, mixed, min_count=5)
    assert worst[0].key == "zed" and worst[0].label == "negative" and worst[0].effect < -0.3
    influence = artifacts.influence_concentration(model, planted.splits["train"], planted.splits["validation"],
                                                  n_train=300, n_test=100, min_count=10)
    # the model leans on 'zed', so its (easy) examples hold far less proponent influence than their share
    assert influence[0].key == "zed" and influence[0].effect < 0 and influence[0].evidence["z"] < -3
    assert set(influence.examples.columns) >= {"proponent_mass", "self_influence"}
    frame = used.to_frame()
    assert list(frame["rank"][:2]) == [1, 2] and "finding" in frame and len(used.lines()) == 6
    assert used.summary()["top"][0]["key"] == "zed" and used.summary()["candidates"] == len(used)


def test_partial_input_of_a_perfect_feature_is_one_bit():
    frame = pd.DataFrame({"text": ["yes a", "no a"] * 200, "label": [1, 0] * 200})
    found = artifacts.partial_input(frame, frame, min_count=10, ngram_range=(1, 1))
    assert found[0].key in ("yes", "no") and found[0].effect == pytest.approx(1.0, abs=0.02)
    assert found.rank_of("a") == 3 and found[2].effect == pytest.approx(0.0, abs=1e-9)


def test_data_map_regions_and_the_feature_whose_contradicting_examples_are_hard():
    n = 90
    y = np.array([1] * 60 + [0] * 30)
    text = ["q " + ("zed" if i < 40 or 80 <= i else "w1") for i in range(n)]  # zed: 40 positive, 10 negative
    gold = np.full((4, n), 0.95)
    gold[:, 80:] = 0.1  # the negative 'zed' rows: never learned
    gold[:, 40:50] = [[0.1], [0.9], [0.1], [0.9]]  # swinging: ambiguous
    probs = np.zeros((4, n, 2))
    probs[:, np.arange(n), y] = gold
    probs[:, np.arange(n), 1 - y] = 1 - gold
    found = artifacts.data_map(probs, pd.DataFrame({"text": text, "label": y}), min_count=5, quantile=0.15,
                               ngram_range=(1, 1))
    regions = found.examples["region"].to_numpy()
    assert set(regions[80:]) == {"hard-to-learn"} and set(regions[40:50]) == {"ambiguous"}
    assert set(regions[:40]) == {"easy-to-learn"}
    assert found[0].key == "zed" and found[0].evidence["contradicting"] == 10
    assert found.examples["confidence"][85] == pytest.approx(0.1)


def test_data_map_needs_recorded_dynamics(tiny):
    with pytest.raises(lumos.InputError, match="dynamics=True"):
        artifacts.data_map(object(), tiny["train"])
