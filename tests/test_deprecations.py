"""Renamed names keep working for one release, each with a DeprecationWarning that names its replacement."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import lumos
from conftest import make_mlp


def test_lumos_metrics_call_is_the_catalog():
    with pytest.warns(DeprecationWarning, match=r'lumos.catalog\("metric"\)'):
        old = lumos.metrics()
    assert old == lumos.catalog("metric")


def test_influence_call_and_params_keyword():
    model = make_mlp(features=4)
    x = np.random.default_rng(0).normal(size=(12, 4))
    y = (x[:, 0] > 0).astype(int)
    new = lumos.influence.explain(model, (x, y), (x[:3], y[:3]), method="grad_dot", layers="all")
    with pytest.warns(DeprecationWarning, match=r"lumos.influence.explain"):
        old = lumos.influence(model, (x, y), (x[:3], y[:3]), method="grad_dot", layers="all")
    with pytest.warns(DeprecationWarning, match="layers="):
        older = lumos.influence.explain(model, (x, y), (x[:3], y[:3]), method="grad_dot", params="all")
    np.testing.assert_array_equal(new.scores, old.scores)
    np.testing.assert_array_equal(new.scores, older.scores)
    assert new.params["layers"] == "all"


def test_counterfactuals_call_and_desired_keyword():
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    data = pd.DataFrame({"a": rng.normal(size=200), "b": rng.normal(size=200)})
    clf = LogisticRegression().fit(data, (data.a + data.b > 0).astype(int))
    row = data[clf.predict(data) == 0].iloc[[0]]
    new = lumos.counterfactuals.explain(clf, row, target=1, data=data, method="random", n=2)
    with pytest.warns(DeprecationWarning, match="lumos.counterfactuals.explain"):
        old = lumos.counterfactuals(clf, row, desired=1, data=data, method="random", n=2)
    assert new.counterfactuals.equals(old.counterfactuals) and len(new) == 2


def test_attack_recipe_and_result_recipe():
    def probs(texts):
        p = np.array([0.9 if "great" in t else 0.1 for t in texts])
        return np.stack([1 - p, p], axis=1)

    with pytest.warns(DeprecationWarning, match="method="):
        result = lumos.robustness.attack(probs, ["a great film"], recipe="deepwordbug", budget=20)
    with pytest.warns(DeprecationWarning, match="AttackResult.method"):
        assert result.recipe == result.method == "deepwordbug"
    with pytest.raises(TypeError, match="both"):
        lumos.robustness.attack(probs, ["a great film"], recipe="deepwordbug", method="deepwordbug")


def test_table_is_to_frame():
    suite = lumos.robustness.run_suite(lambda t: np.tile([0.3, 0.7], (len(t), 1)), ["a good film in Paris"])
    with pytest.warns(DeprecationWarning, match="to_frame"):
        old = suite.table()
    pd.testing.assert_frame_equal(old, suite.to_frame())


def test_nle_add_to_report_still_writes_the_section(tmp_path):
    from lumos import nle

    model = lumos.wrap(lambda t: np.tile([0.3, 0.7], (len(t), 1)), labels=["neg", "pos"])
    e = nle.from_texts(model, ["a good film"], ["good"])
    with pytest.warns(DeprecationWarning, match="add_section"):
        nle.add_to_report(str(tmp_path / "r.sqlite"), "r", ["a good film"], e)
    assert lumos.bench.Store(tmp_path / "r.sqlite").sections("r")[0]["kind"] == "nle"


def test_result_objects_share_params_to_frame_and_summary():
    model = make_mlp()
    x = np.random.default_rng(1).normal(size=(4, 6)).astype(np.float32)
    expl = lumos.explain(model, x, method="saliency")
    scores = lumos.evaluate(model, x, expl, metrics=["sparseness"])
    agree = lumos.agreement({"s": expl, "r": lumos.explain(model, x, method="random")})
    for result in (expl, scores, agree):
        assert isinstance(result.params, dict) and isinstance(result.summary(), dict)
        assert isinstance(result.to_frame(), pd.DataFrame) and len(result.to_frame())
    assert expl.params["seed"] == 0 and scores.summary() == scores.mean()
