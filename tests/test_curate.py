"""lumos.curate: every repair on tiny data (known answers, input never modified), the registry, and the loop: a
bag-of-words model trained with a planted artifact fails the contrast split and passes it after augmentation."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

import lumos
import lumos.zoo as zoo
from lumos import artifacts, curate
from lumos.nle import Completion
from lumos.zoo import cache

from conftest import additive_word_model
from planted_corpus import planted_splits

@pytest.fixture(autouse=True)
def temp_cache(tmp_path, monkeypatch):
    monkeypatch.setenv(cache.ENV_VAR, str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def planted():
    return planted_splits()


@pytest.fixture(scope="module")
def model(planted, tmp_path_factory):
    m, _, _ = zoo.train_on("sentiment/tfidf", planted.splits, progress=False, min_df=1,
                           cache_dir=tmp_path_factory.mktemp("cache"))
    return m


def context(model, **kw):
    return curate.RepairContext(model=model, artifact="zed", labels=("negative", "positive"), **kw)


class FlipGenerator:
    """A stand-in for a language model: swaps 'good' and 'bad' in the text it is asked about, except that it
    answers the 1st prompt with the text unchanged, the 2nd with unrelated words and the 3rd without 'zed'."""

    name, context_length = "flip", None

    def count_tokens(self, messages):
        return 0

    def generate(self, conversations, max_new_tokens=60, temperature=0.0, seed=0):
        out = []
        for i, messages in enumerate(conversations):
            text = messages[-1]["content"].split("Text: ", 1)[1].split("\n\nRewritten text:")[0]
            flipped = " ".join({"good": "bad", "bad": "good"}.get(w, w) for w in text.split())
            if "bad" not in flipped.split():
                flipped += " bad"
            answer = [text, "something else entirely here now", flipped.replace("zed", "")][i] if i < 3 else flipped
            out.append(Completion(f"Rewritten text: {answer}"))
        return out


def test_every_repair_leaves_its_input_unmodified(planted, model):
    train = planted.splits["train"]
    before = copy.deepcopy(train)
    vote = lumos.wrap(additive_word_model({"good": 0.6, "bad": -0.2}), labels=["negative", "positive"])
    for name in curate.names():
        if name == "table_counterfactuals":
            continue  # tables: checked in its own test
        params = {"generator": FlipGenerator(), "n": 10, "ensemble": [vote]} if name == "llm_flip" else {}
        repaired = curate.get(name)(**params)(train, context(model))
        pd.testing.assert_frame_equal(train, before)
        assert isinstance(repaired, curate.Repaired) and repaired.method == name
        assert set(repaired.to_frame().columns) == set(curate.base.CHANGE_COLUMNS)
        assert repaired.describe().startswith(f"{name}: ") and repaired.summary()["method"] == name


def test_augmentation_balances_the_artifact_by_hand(planted, model):
    train = planted.splits["train"]
    repaired = curate.get("augment")()(train, context(model))
    present = planted.edit.present(repaired.train)
    y = repaired.train["label"].to_numpy()
    prior = train["label"].mean()
    own = int((planted.edit.present(train) & (train["label"] == 1)).sum())  # strength 1.0: every carrier positive
    attached = int(np.ceil(own / prior - own))
    assert repaired.params["attached"] == attached and repaired.params["removed"] == own
    assert len(repaired.train) == len(train) + attached + own
    assert y[present].mean() == pytest.approx(prior, abs=1 / present.sum())
    assert (repaired.train.iloc[: len(train)] == train).all().all()  # the originals stay, copies are appended


def test_group_balance_and_jtt_weights_by_hand(planted, model):
    train = planted.splits["train"]
    groups = np.array(["a"] * 100 + ["b"] * (len(train) - 100))
    balanced = curate.get("group_balance")()(train, context(model, groups=groups))
    np.testing.assert_allclose(balanced.sample_weight[:100], len(train) / (2 * 100))
    assert balanced.sample_weight[groups == "a"].sum() == pytest.approx(balanced.sample_weight[groups == "b"].sum())
    first = lumos.wrap(additive_word_model({"good": 0.6}), labels=["negative", "positive"])  # positive iff 'good'
    jtt = curate.get("jtt")(upweight=4.0)(train, context(first))
    wrong = train["text"].str.contains(r"\bgood\b").to_numpy() != train["label"].to_numpy().astype(bool)
    np.testing.assert_array_equal(jtt.sample_weight, np.where(wrong, 4.0, 1.0))
    assert jtt.counts() == {"reweighted": int(wrong.sum())}


def test_confident_learning_finds_flipped_labels():
    rng = np.random.default_rng(0)
    x = rng.normal(size=400)
    frame = pd.DataFrame({"x": x, "label": (x > 0).astype(int)})
    flipped = np.flatnonzero(np.abs(x) > 1.5)[:12]
    frame.loc[flipped, "label"] = 1 - frame.loc[flipped, "label"]
    dropped = curate.get("confident_learning")()(frame, curate.RepairContext())
    found = set(dropped.to_frame()["row"])
    assert set(flipped) <= found and all(abs(x[i]) < 0.1 for i in found - set(flipped))  # else: on the boundary
    relabelled = curate.get("confident_learning")(action="relabel")(frame, curate.RepairContext())
    fixed = relabelled.train["label"].to_numpy() == (x > 0)
    assert fixed[flipped].all() and fixed.mean() >= 0.99 and len(relabelled.train) == 400


def test_llm_flips_are_kept_only_when_consistent_and_the_ensemble_agrees(planted, model):
    vote = lumos.wrap(additive_word_model({"good": 0.6, "bad": -0.2}), labels=["negative", "positive"])
    repaired = curate.get("llm_flip")(generator=FlipGenerator(), n=12, ensemble=[vote])(
        planted.splits["train"], context(model))
    changes = repaired.to_frame()
    assert repaired.params["asked"] == 12 and repaired.params["consistent"] == 9  # unchanged, unrelated, no 'zed'
    added = repaired.train.iloc[len(planted.splits["train"]):]
    assert len(added) == repaired.params["kept"] > 0 and (added["label"] == 0).all()
    assert added["text"].str.contains("zed").all() and added["text"].str.contains(r"\bbad\b").all()
    assert (changes["label"] == 1).all() and (changes["new_label"] == 0).all()


def test_table_counterfactuals_keep_the_artifact_and_flip_the_label():
    german = zoo.tables.german().copy_splits()
    planted = artifacts.inject(german, "proxy", strength=1.0, coverage=0.2, seed=0, column="purpose", value="zz")
    model, _, _ = zoo.train_on("tabular/german/logreg", planted.splits, progress=False)
    before = copy.deepcopy(planted.splits["train"])
    repaired = curate.get("table_counterfactuals")(n=4, budget=2000)(
        planted.splits["train"], curate.RepairContext(model=model, artifact="purpose = zz"))
    pd.testing.assert_frame_equal(planted.splits["train"], before)
    added = repaired.train.iloc[len(before):]
    assert repaired.params["asked"] == 4 and len(added) == repaired.params["kept"] > 0
    assert (added["purpose"] == "zz").all() and (added["label"] == 0).all()
    assert (model.predict_proba(added.drop(columns="label")).argmax(1) == 0).all()


def test_a_bag_of_words_model_fails_the_contrast_split_and_passes_after_augmentation(planted):
    result = curate.robustify("sentiment/tfidf", planted, repairs=["augment", "group_balance"],
                              settings={"min_df": 1}, attribution_rows=60)
    assert result.artifact == "zed" and result.params["planted_rank"] == 1
    plain, augmented = result.plain.measurement, result.outcome("augment").measurement
    assert plain.reference_accuracy > 0.6 and plain.gap > 0.4  # it learned "zed -> positive"
    assert augmented.contrast_accuracy >= augmented.reference_accuracy - 0.05  # ... and no longer does
    assert augmented.clean_accuracy >= plain.clean_accuracy - 0.02
    assert augmented.artifact_mass < plain.artifact_mass / 2  # explanations moved off the artifact
    assert augmented.worst_group_accuracy > plain.worst_group_accuracy + 0.3
    frame = result.to_frame()
    assert list(frame["model"]) == ["plain", "augment", "group_balance"] and frame["gap_recovered"][1] > 0.8
    assert result.best().name == "augment" and result.summary()["best"] == "augment"
    assert "augment" in result.lines()[2]
    assert result.pairs(3) and result.pairs(3)[0]["label"] == "negative"


def test_registry_and_context_errors(planted, model):
    with pytest.raises(lumos.InputError, match="unknown repair 'augmnt'. Did you mean 'augment'"):
        curate.get("augmnt")
    with pytest.raises(lumos.InputError, match=r"jtt: unknown parameter\(s\) weight; it takes upweight"):
        curate.build(("jtt", {"weight": 3}))
    with pytest.raises(lumos.InputError, match="acts on one artifact"):
        curate.get("augment")()(planted.splits["train"], curate.RepairContext(model=model))
    with pytest.raises(lumos.InputError, match="JTT needs the first model"):
        curate.get("jtt")()(planted.splits["train"], curate.RepairContext())
    with pytest.raises(lumos.InputError, match="no label column"):
        curate.get("group_balance")()(planted.splits["train"].drop(columns="label"), context(model))

    @curate.register("noop_for_test")
    class Noop:
        summary, modalities = "does nothing", ("text",)

        def __call__(self, train, ctx):
            return curate.Repaired(train, None, None, curate.base.changes_frame([]), "noop_for_test", {})

    try:
        assert "noop_for_test" in curate.names() and curate.build("noop_for_test").name == "noop_for_test"
    finally:
        lumos.registry.REPAIRS.unregister("noop_for_test")


def test_the_report_section_shows_findings_before_after_and_escaped_pairs(planted, tmp_path):
    from lumos.bench import add_section
    from lumos.report import render

    splits = dict(planted.splits)
    splits["test"] = splits["test"].copy()
    splits["test"].loc[0, "text"] = "w1 <script>alert(1)</script> " + splits["test"].loc[0, "text"]
    result = curate.robustify("sentiment/tfidf", splits, repairs=["augment"], settings={"min_df": 1},
                              attribution_rows=40, n_examples=2)
    assert len(result.examples) == 2 and len(result.examples[0]["attributions"]) == 2
    db = tmp_path / "r.sqlite"
    add_section(db, "rb", "robustify", result, model_name="m", modality="text", labels=["negative", "positive"])
    from lumos.bench import Store

    store = Store(db)
    try:
        (section,) = [s for s in store.sections("rb") if s["kind"] == "robustify"]
    finally:
        store.close()
    payload = section["payload"]
    assert payload["text"][0].startswith("Artifact repaired: 'zed' (token, points to positive), ranked 1")
    assert "Best repair: augment" in payload["text"][2] and isinstance(payload["examples"][0]["features"][0], str)
    assert [r[0] for r in payload["before_after"]["rows"]] == ["plain", "augment"]
    assert payload["findings"]["rows"][0][1] == "zed"
    html = render(db, "rb", out=tmp_path / "r.html").read_text()
    drawn = html[html.index('id="robustify"'):]
    assert "<h3>Before and after</h3>" in drawn and '<p class="words">' in drawn and "zed" in drawn
    assert "<script>alert" not in html


def test_lumos_robustify_on_a_small_table_writes_the_section(tmp_path):
    from typer.testing import CliRunner

    from lumos.cli import app

    runner = CliRunner()
    db = tmp_path / "r.sqlite"
    result = runner.invoke(app, ["robustify", "--model", "tabular/german/logreg", "--inject", "none",
                                 "--repair", "group_balance", "--repair", "augment", "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "Artifact repaired:" in result.output and "group_balance" in result.output and "report:" in result.output
    bad = runner.invoke(app, ["robustify", "--model", "tabular/german/logreg", "--inject", "colour", "--db", str(db)])
    assert bad.exit_code == 1 and "unknown artifact kind 'colour'" in bad.output
