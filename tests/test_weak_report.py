"""Label models compared on one matrix, the shipped sentiment LFs, and the weak-supervision report section."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lumos.weak import WeakReport, apply_lfs, compare, label, lf_table, sentiment_lfs, synthetic

CLASSES = ["negative", "positive"]


def test_compare_chooses_on_the_dev_set_and_scores_against_ground_truth():
    task = synthetic(6000, [0.9, 0.8, 0.75, 0.7, 0.65], [0.3, 0.5, 0.6, 0.4, 0.8], class_balance=[0.3, 0.7], seed=5)
    dev = (task.matrix.L[:1000], task.y[:1000])
    result = compare(task.matrix, labels=task.y, dev=dev)
    frame = result.to_frame().set_index("label model")
    assert set(frame.index) == {"majority", "weighted_majority", "dawid_skene", "matrix_completion", "triplet",
                                "stacked"}
    assert result.chosen == frame["dev brier"].idxmin() and result.params["chosen_by"] == "dev brier"
    ds = label(task.matrix, method="dawid_skene")
    assert frame.loc["dawid_skene", "accuracy"] == pytest.approx(np.mean(ds.probs.argmax(1) == task.y))
    assert result.summary()["chosen"] == result.chosen
    assert compare(task.matrix, methods=["majority"], default="majority").chosen == "majority"


def test_shipped_sentiment_lfs_vote_as_written():
    lfs = {lf.name: lf for lf in sentiment_lfs()}
    texts = ["it is not very funny", "a must-see", "far too long", "never dull", "a superb, moving film",
             "an awful, boring, terrible mess", "the plot"]
    L = apply_lfs(list(lfs.values()), texts, CLASSES).to_frame()
    assert L["regex_negated_praise"].tolist() == [0, -1, -1, -1, -1, -1, -1]
    assert L["regex_recommend"].tolist() == [-1, 1, -1, -1, -1, -1, -1]
    assert L["regex_too"].tolist() == [-1, -1, 0, -1, -1, -1, -1]
    assert L["regex_negated_pan"].tolist() == [-1, -1, -1, 1, -1, -1, -1]
    assert L["keywords_praise"].tolist() == [1, -1, -1, -1, 1, -1, -1]  # "funny" is praise, negated or not
    assert L["keywords_pans"].tolist() == [-1, -1, -1, 0, -1, 0, -1]
    assert L["vader_analyser"][4] == 1 and L["vader_analyser"][5] == 0 and L["vader_analyser"][6] == -1
    assert (L.iloc[6] == -1).all()  # "the plot": no LF votes


def test_report_section_stores_plain_values_and_renders(tmp_path):
    from lumos.bench import add_section
    from lumos.report import render

    task = synthetic(500, [0.9, 0.7, 0.6], seed=0)
    fit = label(task.matrix, method="dawid_skene", abstain="drop")
    end = pd.DataFrame([{"recipe": "sentiment/tfidf", "trained on": "gold labels", "training rows": 500,
                         "test accuracy": 0.77, "test auc": 0.86},
                        {"recipe": "sentiment/tfidf", "trained on": "weak labels (dawid_skene)", "training rows": 480,
                         "test accuracy": 0.74, "test auc": float("nan")}])
    report = WeakReport(lf_table(task.matrix, weak=fit, labels=task.y), compare(task.matrix, labels=task.y).frame,
                        "dawid_skene", end, {"negative": ["dull"], "positive": ["<b>superb</b>"]}, {"seed": 0})
    assert report.summary()["sentiment/tfidf weak - gold"] == pytest.approx(-0.03)
    assert "-3.0 points against gold labels" in report.headline()[1]
    db = tmp_path / "runs.sqlite"
    add_section(db, "weak-test", "weak", report, modality="text", labels=CLASSES)
    html = render(db, "weak-test", out=tmp_path / "report.html").read_text()
    assert "Labeling functions" in html and "lf2" in html and "dawid_skene" in html
    assert "&lt;b&gt;superb&lt;/b&gt;" in html and "<b>superb</b>" not in html  # every stored string escaped


def test_cli_refuses_data_it_has_no_lfs_for():
    from typer.testing import CliRunner

    from lumos.cli import app

    result = CliRunner().invoke(app, ["weak", "--model", "digits/cnn"])
    assert result.exit_code == 1 and "labeling functions for the sentiment data" in result.output


@pytest.mark.slow
def test_cli_runs_the_pipeline_and_writes_the_section(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from lumos.bench.store import Store
    from lumos.cli import app

    monkeypatch.setenv("LUMOS_CACHE", str(tmp_path / "cache"))
    db = tmp_path / "runs.sqlite"
    result = CliRunner().invoke(app, ["weak", "--db", str(db), "--run", "w", "--dev", "100", "--explain", "200",
                                      "--no-prototypes", "--views", "tfidf"])
    assert result.exit_code == 0, result.output
    assert "labeling functions cover" in result.output and "points against gold labels" in result.output
    assert "round 3: classifiers on tfidf" in result.output
    store = Store(db)
    try:
        kinds = [r[0] for r in store.db.execute("SELECT kind FROM sections WHERE run_id='w'")]
    finally:
        store.close()
    assert kinds == ["weak"]


def test_cross_fitted_dev_probs_score_each_row_with_weights_learned_without_it():
    """Hand-worked: LF 0 always votes negative, LF 1 always positive, dev labels [0, 0, 1, 1]. Weights learned
    on all four rows tie (0.5 accurate each), but leaving a row out makes the other class's LF look better:
    its add-one accuracy is (2 + 1) / (3 + 2) = 0.6 against 0.4, weights +-log 1.5, so every held-out row gets
    1 / (1 + 1.5^2) = 0.3077 on its own class: leave-one-out accuracy 0, Brier score 2 x 0.6923^2."""
    from lumos.weak import LabelMatrix
    from lumos.weak.report import brier, cross_fitted_dev_probs

    matrix = LabelMatrix(np.tile([[0, 1]], (10, 1)), ["always_negative", "always_positive"], CLASSES)
    dev = (np.tile([[0, 1]], (4, 1)), np.array([0, 0, 1, 1]))
    probs = cross_fitted_dev_probs(matrix, "weighted_majority", dev, folds=4)
    assert probs[np.arange(4), dev[1]] == pytest.approx([1 / 3.25] * 4)
    assert brier(probs, dev[1]) == pytest.approx(2 * (2.25 / 3.25) ** 2)
    in_sample = label(matrix, method="weighted_majority", dev=dev).model.predict_proba(dev[0])
    assert np.allclose(in_sample, 0.5)  # the tie that in-sample scoring would have counted as half right


def test_compare_gives_the_dev_set_to_the_models_that_learn_from_it_and_refit_reproduces_the_choice():
    accuracies = [0.9, 0.85, 0.6, 0.55, 0.55, 0.55]
    task = synthetic(6000, accuracies, 0.7, seed=3)
    dev = (task.matrix.L[:2000], task.y[:2000])
    result = compare(task.matrix, labels=task.y, dev=dev)
    weighted = result.fits["weighted_majority"]
    assert weighted.params["weights_from"] == "dev"
    assert result.params["dev_supervised"] == ["stacked", "weighted_majority"]
    assert result.fits["stacked"].params["fitted_on"] == "dev"
    assert np.allclose(weighted.accuracies, accuracies, atol=0.04)  # from 2,000 gold rows, ~1,400 votes per LF
    frame = result.to_frame().set_index("label model")
    # four weak LFs outvote two strong ones under majority vote; weights from the dev set do not let them
    assert frame.loc["weighted_majority", "accuracy"] > frame.loc["majority", "accuracy"] + 0.03
    assert frame.loc["stacked", "accuracy"] > frame.loc["majority", "accuracy"] + 0.03
    assert result.chosen == frame["dev brier"].idxmin() and result.chosen in ("stacked", "weighted_majority")
    dropped = result.refit(task.matrix, abstain="drop")
    direct = label(task.matrix, method=result.chosen, abstain="drop", dev=dev)
    assert np.array_equal(dropped.keep, direct.keep) and np.allclose(dropped.probs, direct.probs)


def test_view_matrices_vote_out_of_fold_from_each_view_and_name_unknown_ones():
    import pandas as pd

    from lumos.cli.weak import view_matrices
    from lumos.errors import InputError
    from lumos.weak import WeakLabels

    good = ["a good film", "a wonderful story", "good acting and a wonderful cast", "a good, wonderful plot"]
    bad = ["a bad film", "an awful story", "bad acting and an awful cast", "a bad, awful plot"]
    texts = (good + bad) * 5
    y = np.array(([1] * 4 + [0] * 4) * 5)
    train, dev = pd.DataFrame({"text": texts}), pd.DataFrame({"text": ["good and wonderful", "bad and awful"]})
    labels = WeakLabels(np.eye(2)[y], np.ones(40, bool), np.ones(40, bool), np.full(1, np.nan), np.full(2, 0.5),
                        ["lf0"], CLASSES)
    (tfidf, tfidf_dev), (minilm, minilm_dev) = view_matrices(train, dev, labels)
    assert tfidf.lf_names == ["view_tfidf_0", "view_tfidf_0.3", "view_tfidf_0.6"]
    assert minilm.lf_names[0] == "view_minilm_0"
    assert np.mean(tfidf.L[:, 0] == y) == 1.0 and tfidf_dev.L[:, 0].tolist() == [1, 0]
    assert np.mean(minilm.L[:, 0] == y) > 0.9 and minilm_dev.L.shape == (2, 3)
    with pytest.raises(InputError, match="unknown view 'bert'"):
        view_matrices(train, dev, labels, views=["bert"])
