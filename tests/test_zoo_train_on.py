"""lumos.zoo.train_on: a zoo recipe trained on the caller's data, with per-row weights or probabilistic labels,
cached like a zoo model. Tiny data (German credit, a few hundred rows) and quick settings throughout."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import lumos
import lumos.zoo as zoo
from lumos.zoo import cache

QUICK_MLP = {"epochs": 2, "hidden": 8}


@pytest.fixture(autouse=True)
def temp_cache(tmp_path, monkeypatch):
    monkeypatch.setenv(cache.ENV_VAR, str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture(scope="module")
def german() -> dict[str, pd.DataFrame]:
    splits = zoo.tables.german().copy_splits()
    return {"train": splits["train"].iloc[:300].reset_index(drop=True),
            "validation": splits["validation"].iloc[:50].reset_index(drop=True), "test": splits["test"]}


def _probs(model, frame: pd.DataFrame) -> np.ndarray:
    return model.predict_proba(frame.drop(columns="label"))


def test_the_zoos_own_data_gives_the_zoos_model(german):
    full = zoo.tables.german().copy_splits()
    ref, _ = zoo.load("tabular/german/logreg", progress=False)
    mine, splits, meta = zoo.train_on("tabular/german/logreg", full, progress=False)
    np.testing.assert_array_equal(_probs(mine, full["test"]), _probs(ref, full["test"]))
    assert meta["metrics"]["test"]["accuracy"] == zoo.info("tabular/german/logreg")["cached"]["metrics"]["test"][
        "accuracy"]
    assert list(splits["test"].columns) == list(full["test"].columns)


def test_weights_and_probabilistic_labels_match_scikit_learn_fitted_by_hand(german):
    rng = np.random.default_rng(0)
    w = rng.uniform(0, 3, len(german["train"]))
    p1 = rng.uniform(0, 1, len(german["train"]))
    model, _, _ = zoo.train_on("tabular/german/logreg", german, sample_weight=w, progress=False)
    x = model.preprocessor.transform(german["train"])
    y = german["train"]["label"].to_numpy()
    ref = LogisticRegression(C=1.0, max_iter=5000).fit(x, y, sample_weight=w)
    np.testing.assert_allclose(model.head.coef, ref.coef_[0], rtol=1e-4, atol=1e-6)
    soft, _, _ = zoo.train_on("tabular/german/logreg", german, label_probs=np.c_[1 - p1, p1], progress=False)
    expanded = LogisticRegression(C=1.0, max_iter=5000).fit(
        np.vstack([x, x]), np.r_[np.zeros(len(y)), np.ones(len(y))], sample_weight=np.r_[1 - p1, p1])
    np.testing.assert_allclose(soft.head.coef, expanded.coef_[0], atol=1e-4)  # L-BFGS tol; rows in another order


# L-BFGS stops at its tolerance along another path when zero-weight rows are added; the torch loss is the same sum
@pytest.mark.parametrize("name, settings, atol", [("tabular/german/logreg", {}, 1e-3),
                                                  ("tabular/german/mlp", QUICK_MLP, 1e-5)])
def test_one_hot_label_probs_and_unit_weights_train_the_plain_model(german, name, settings, atol):
    y = german["train"]["label"].to_numpy()
    plain, _, _ = zoo.train_on(name, german, progress=False, **settings)
    onehot, _, _ = zoo.train_on(name, german, label_probs=np.eye(2)[y], progress=False, **settings)
    ones, _, _ = zoo.train_on(name, german, sample_weight=np.ones(len(y)), progress=False, **settings)
    for other in (onehot, ones):
        np.testing.assert_allclose(_probs(other, german["test"]), _probs(plain, german["test"]), atol=atol)


def test_weights_steer_a_torch_recipe(german):
    y = german["train"]["label"].to_numpy()
    model, _, _ = zoo.train_on("tabular/german/mlp", german, sample_weight=(y == 0).astype(float), progress=False,
                               epochs=5, hidden=8)
    assert np.all(_probs(model, german["test"]).argmax(1) == 0)  # only "bad" rows count: it predicts "bad"


def test_recording_dynamics_leaves_the_training_unchanged(german):
    plain, _, _ = zoo.train_on("tabular/german/mlp", german, progress=False, **QUICK_MLP)
    recorded, _, _ = zoo.train_on("tabular/german/mlp", german, dynamics=True, progress=False, epochs=4, hidden=8)
    same, _, _ = zoo.train_on("tabular/german/mlp", german, progress=False, epochs=4, hidden=8)
    np.testing.assert_array_equal(_probs(recorded, german["test"]), _probs(same, german["test"]))
    dyn = recorded.training_dynamics
    assert plain.training_dynamics is None
    assert dyn.probs.shape == (4, 300, 2) and not np.isnan(dyn.probs).any()
    np.testing.assert_allclose(dyn.probs.sum(-1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(dyn.index, np.arange(300))
    gold = dyn.probs[:, np.arange(300), german["train"]["label"].to_numpy()]
    assert gold[-1].mean() > gold[0].mean()  # the model learns its training rows


def test_cached_by_data_and_weights(german, temp_cache):
    _, _, first = zoo.train_on("tabular/german/logreg", german, progress=False)
    _, _, again = zoo.train_on("tabular/german/logreg", german, progress=False)
    assert again["run_id"] == first["run_id"] and (temp_cache / "custom" / "tabular" / "german" / "logreg").is_dir()
    w = np.ones(len(german["train"]))
    w[0] = 2.0
    _, _, weighted = zoo.train_on("tabular/german/logreg", german, sample_weight=w, progress=False)
    edited = dict(german, train=german["train"].assign(age=german["train"]["age"] + 1))
    _, _, other_data = zoo.train_on("tabular/german/logreg", edited, progress=False)
    assert len({first["run_id"], weighted["run_id"], other_data["run_id"]}) == 3
    assert weighted["weights_hash"] and first["weights_hash"] is None


def test_new_category_in_the_given_training_split_is_learned(german):
    train = german["train"].copy()
    planted = train["label"] == 1
    train.loc[planted, "purpose"] = "planted value"
    model, _, _ = zoo.train_on("tabular/german/logreg", dict(german, train=train), progress=False)
    assert "planted value" in model.schema.categories["purpose"]
    test = german["test"].assign(purpose="planted value")
    assert _probs(model, test)[:, 1].mean() > _probs(model, german["test"])[:, 1].mean() + 0.1


def test_text_recipe_with_weights():
    rows = [("a wonderful film", 1), ("truly wonderful acting", 1), ("a dull film", 0), ("dull and slow", 0)] * 5
    frame = pd.DataFrame(rows, columns=["text", "label"])
    splits = {"train": frame, "validation": frame.iloc[:0], "test": frame}
    plain, _, meta = zoo.train_on("sentiment/tfidf", splits, progress=False, min_df=1)
    assert meta["metrics"]["test"]["accuracy"] == 1.0 and "validation" not in meta["metrics"]
    only_positive, _, _ = zoo.train_on("sentiment/tfidf", splits, sample_weight=frame["label"].to_numpy(float),
                                       progress=False, min_df=1)
    assert only_positive.predict_proba(["dull and slow"])[0, 1] > 0.5  # the negative rows carry no weight
    with pytest.raises(lumos.UnsupportedError, match="no epochs"):
        zoo.train_on("sentiment/tfidf", splits, dynamics=True, progress=False, min_df=1)


def test_bad_input_says_what_is_expected(german):
    with pytest.raises(lumos.InputError, match="exactly the keys"):
        zoo.train_on("tabular/german/logreg", {"train": german["train"]})
    with pytest.raises(lumos.InputError, match=r"lacks the columns \['age'\]"):
        zoo.train_on("tabular/german/logreg", dict(german, test=german["test"].drop(columns="age")))
    with pytest.raises(lumos.InputError, match="shape \\(300,\\)"):
        zoo.train_on("tabular/german/logreg", german, sample_weight=np.ones(3))
    with pytest.raises(lumos.InputError, match="non-negative"):
        zoo.train_on("tabular/german/logreg", german, sample_weight=-np.ones(300))
    with pytest.raises(lumos.InputError, match="sum to 1"):
        zoo.train_on("tabular/german/logreg", german, label_probs=np.full((300, 2), 0.7))
    with pytest.raises(lumos.InputError, match="labels must lie in 0..1"):
        zoo.train_on("tabular/german/logreg", dict(german, test=german["test"].assign(label=2)))
    with pytest.raises(lumos.UnsupportedError, match="pre-trained"):
        zoo.train_on("imagenet/efficientnet_lite0", german)
    with pytest.raises(lumos.InputError, match="no setting"):
        zoo.train_on("tabular/german/logreg", german, epochs=3)
