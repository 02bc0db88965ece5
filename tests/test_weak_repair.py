"""Weak supervision as a repair of lumos.curate: labeling functions and a label model relabel the training split
with the artifact hidden from them (hand-worked votes), and in the robustify loop a bag-of-words model retrained
on those labels leans on a planted artifact far less than the model trained on the given labels."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

import lumos
from lumos import curate, weak
from lumos.zoo import cache

from planted_corpus import planted_splits


@pytest.fixture(autouse=True)
def temp_cache(tmp_path, monkeypatch):
    monkeypatch.setenv(cache.ENV_VAR, str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def planted():
    return planted_splits()


def lfs(with_artifact: bool = False) -> list:
    out = [weak.keyword_lf(["good"], "positive", name="good"), weak.keyword_lf(["bad"], "negative", name="bad")]
    return out + ([weak.keyword_lf(["zed"], "positive", name="zed")] if with_artifact else [])


def context(**kw):
    return curate.RepairContext(artifact="zed", labels=("negative", "positive"), **kw)


def test_relabels_by_hand_with_the_artifact_hidden_from_every_lf(planted):
    train = planted.splits["train"]
    before = copy.deepcopy(train)
    words = train["text"].str.split()
    good, bad, zed = (words.map(lambda w, t=t: t in w).to_numpy() for t in ("good", "bad", "zed"))
    y = train["label"].to_numpy()
    repair = curate.get("weak_labels")(lfs=lfs(with_artifact=True), method="majority")
    repaired = repair(train, context())
    pd.testing.assert_frame_equal(train, before)
    covered = good | bad  # the 'zed' LF never fires: it sees every row with 'zed' removed
    assert repaired.params["hidden"] == "zed" and repaired.params["hidden_rows"] == zed.sum() > 0
    table = {r["lf"]: r for r in repaired.params["lf_table"]}
    assert table["zed"]["coverage"] == 0 and table["good"]["coverage"] == pytest.approx(good.mean())
    assert repaired.params["kept"] == covered.sum() == len(repaired.train)
    new_y = good[covered].astype(int)  # no text holds both words
    np.testing.assert_array_equal(repaired.train["label"].to_numpy(), new_y)
    np.testing.assert_array_equal(repaired.label_probs, np.eye(2)[new_y])
    assert (repaired.train["text"] == train["text"][covered].reset_index(drop=True)).all()  # texts as they were
    assert repaired.counts() == {"relabelled": int((new_y != y[covered]).sum()), "removed": int((~covered).sum())}
    assert repaired.params["agreement_with_given_labels"] == pytest.approx(np.mean(new_y == y[covered]))
    shown = curate.get("weak_labels")(lfs=lfs(with_artifact=True), method="majority", hide_artifact=False)(
        train, context())
    assert shown.params["hidden"] is None and shown.params["kept"] == (covered | zed).sum()
    assert shown.describe().startswith("weak_labels: ") and repaired.summary()["label_probs"] == 2


def test_default_lfs_are_the_sentiment_ones_and_other_labels_need_lfs(planted):
    train = planted.splits["train"]
    repaired = curate.get("weak_labels")(abstain="prior")(train, context())
    assert repaired.params["lfs"] == [lf.name for lf in weak.sentiment_lfs()] and len(repaired.train) == len(train)
    with pytest.raises(lumos.InputError, match="ready-made labeling functions only for texts labelled"):
        curate.get("weak_labels")()(train, curate.RepairContext(artifact="zed", labels=("spam", "ham")))
    with pytest.raises(lumos.InputError, match="no labeling function votes for class 'negative'"):
        curate.get("weak_labels")(lfs=[lfs()[0]])(train, context())


def test_the_loop_retrains_on_weak_labels_and_the_artifact_loses_its_hold(planted):
    result = curate.robustify("sentiment/tfidf", planted,
                              repairs=[("weak_labels", {"lfs": lfs(), "method": "majority"})],
                              settings={"min_df": 1}, attribution_method=None, n_examples=0)
    plain, relabelled = result.plain.measurement, result.outcomes[0].measurement
    assert result.outcomes[0].name.startswith("weak_labels(") and result.outcomes[0].repaired.method == "weak_labels"
    assert plain.gap > 0.4  # the plain model learned "zed -> positive"
    assert relabelled.gap < plain.gap / 2 and relabelled.contrast_accuracy > plain.contrast_accuracy + 0.2
    assert relabelled.worst_group_accuracy > plain.worst_group_accuracy + 0.2
    frame = result.to_frame()
    assert frame["train_rows"][1] == result.outcomes[0].repaired.params["kept"] < frame["train_rows"][0]
