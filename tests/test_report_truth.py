"""The report says what its numbers say: known answers for every summary sentence, tie-aware ranks, metrics that
favour a method by construction, degenerate explanations, label names, the example sample, and the cost probe."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import lumos
from lumos import registry
from lumos.bench import BenchSpec, Store, run
from lumos.bench.data import sample
from lumos.errors import LumosWarning
from lumos.report import render
from lumos.report.ranking import difference, tie_ranks
from lumos.report.summary import plain_summary
from lumos.report.tables import degenerate_explanations, metric_tables

sys.path.insert(0, str(Path(__file__).parent))
N = 10
COST = pd.DataFrame({"rows_per_example": [10.0, 10.0]}, index=["a", "b"])  # equal: no cost sentence


def scores(**metrics: dict[str, list[float]]) -> pd.DataFrame:
    """metric -> {method: per-example values} as the store's scores frame."""
    return pd.DataFrame([{"example_id": i, "method": m, "metric": metric, "value": v}
                         for metric, by in metrics.items() for m, vs in by.items() for i, v in enumerate(vs)])


def summary(frame: pd.DataFrame, degenerate=None, flagged=None) -> list[str]:
    return plain_summary(metric_tables(frame, degenerate), COST, {}, "the model", flagged)


def wave(centre: float, spread: float = 0.01) -> list[float]:
    return [centre + spread * ((i % 3) - 1) for i in range(N)]


def test_random_beating_a_method_is_said_with_its_interval_and_nothing_claims_otherwise():
    base = wave(0.4)
    lines = summary(scores(comprehensiveness={"random": base, "saliency": [v - 0.3 for v in base],
                                              "lime": [v + 0.1 for v in base], "occlusion": [v + 0.4 for v in base]}))
    text = " ".join(lines)
    # every example differs by exactly 0.3, so the interval is [0.3, 0.3]
    assert ("Random attributions scored better than saliency on comprehensiveness (by 0.300; 95% interval "
            "0.300 to 0.300): on this metric saliency is no better than chance.") in lines
    assert "lime and occlusion beat random attributions on comprehensiveness, beyond the 95% interval." in lines
    assert "Every method beat" not in text and "tell these methods from chance" not in text
    assert "On the model, occlusion ranked first on every faithfulness metric (comprehensiveness)." in lines


def test_every_method_beating_random_is_said_only_when_true():
    base = wave(0.2)
    lines = summary(scores(comprehensiveness={"random": base, "lime": [v + 0.1 for v in base]},
                           sufficiency={"random": base, "lime": [v - 0.1 for v in base]}))  # lower is better
    assert "Every method beat random attributions on comprehensiveness and sufficiency, beyond the 95% interval." \
        in lines


def test_a_method_random_cannot_be_told_from_is_named():
    noisy = [0.1, 0.9] * (N // 2)
    lines = summary(scores(comprehensiveness={"random": noisy, "lime": noisy[::-1]}))
    assert ("On comprehensiveness, lime could not be told from random attributions (the 95% interval of the "
            "difference includes zero).") in lines
    assert not any("beat" in line for line in lines)


def test_without_random_the_summary_says_so_and_claims_nothing_about_chance():
    lines = summary(scores(comprehensiveness={"lime": wave(0.5), "occlusion": wave(0.3)}))
    assert any(line.startswith("No random baseline was run") for line in lines)
    assert not any("beat random" in line or "than chance" in line for line in lines)


def test_no_faithfulness_metric_means_no_faithfulness_sentence():
    assert summary(scores(sparseness={"lime": wave(0.5), "random": wave(0.3)})) == []


def test_equal_scores_share_a_rank_and_differences_inside_the_interval_are_ties():
    frame = scores(insertion_auc={"a": [1.0] * N, "b": [1.0] * N, "c": [1.0] * N, "d": [1.0] * N, "e": wave(0.5)})
    (table,) = metric_tables(frame)
    assert table.rows["rank"].to_dict() == {"a": 1, "b": 1, "c": 1, "d": 1, "e": 5}
    assert table.rows.loc[["a", "b", "c", "d"], "tied"].all() and not table.rows.loc["e", "tied"]
    # same mean, opposite noise: the paired difference's interval covers zero, so neither ranks below the other
    noisy = [0.2, 0.8] * (N // 2)
    values = pd.DataFrame({"x": noisy, "y": noisy[::-1], "z": [0.0] * N})
    assert tie_ranks(values, higher_is_better=True).to_dict() == {"x": 1, "y": 1, "z": 3}
    assert tie_ranks(values, higher_is_better=False).to_dict() == {"x": 2, "y": 2, "z": 1}


def test_paired_difference_interval_matches_a_hand_bootstrap():
    rng = np.random.default_rng(1)
    a, b = rng.normal(0.5, 0.2, 40), rng.normal(0.4, 0.2, 40)
    d = difference(a, b)
    draws = np.random.default_rng(0).integers(40, size=(999, 40))  # scipy draws the same resamples
    means = (a - b)[draws].mean(axis=1)
    assert d.mean == pytest.approx(float(np.mean(a - b)))
    assert (d.low, d.high) == pytest.approx((np.quantile(means, 0.025), np.quantile(means, 0.975)))
    flipped = difference(b, a)  # the other way round, the same resamples: mirrored
    assert (flipped.low, flipped.high) == pytest.approx((-d.high, -d.low))


def test_intervals_over_a_hundred_thousand_scores_are_drawn_in_bounded_memory():
    """999 resamples of 200,000 scores at once would be 1.6 GB (a 100,000-example report took 2.4 GB); they
    are drawn in batches, and the intervals are still the mean's: within 3% of the normal approximation."""
    import tracemalloc

    from lumos.evaluation import bootstrap_batch, mean_interval

    assert bootstrap_batch(500) is None  # small samples: all resamples at once, as always
    values = np.random.default_rng(0).exponential(size=200_000)
    b = np.random.default_rng(1).exponential(size=200_000) + 0.003
    tracemalloc.start()
    low, high = mean_interval(values)
    d = difference(values, b)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 250 * 2**20, peak / 2**20
    half = 1.96 * values.std(ddof=1) / np.sqrt(len(values))
    assert abs((high - low) / 2 - half) < 0.03 * half and low < values.mean() < high
    half_d = 1.96 * (values - b).std(ddof=1) / np.sqrt(len(values))
    assert abs((d.high - d.low) / 2 - half_d) < 0.03 * half_d


def test_a_metric_that_favours_a_method_by_construction_leaves_it_out_of_that_ranking():
    assert registry.get("taucorr_loo", "metric").info()["favours"] == {
        "occlusion": "occlusion is leave-one-out itself and scores 1"}
    frame = scores(taucorr_loo={"occlusion": [1.0] * N, "kernel_shap": wave(0.8), "random": wave(0.1)},
                   comprehensiveness={"occlusion": wave(0.3), "kernel_shap": wave(0.5), "random": wave(0.1)})
    tables = {t.metric: t for t in metric_tables(frame)}
    assert np.isnan(tables["taucorr_loo"].rows.loc["occlusion", "rank"])
    assert tables["taucorr_loo"].first() == ["kernel_shap"]
    lines = summary(frame)
    assert "On the model, kernel_shap ranked first on every faithfulness metric." not in lines  # it did, alone:
    assert ("On the model, kernel_shap ranked first on every faithfulness metric (comprehensiveness and "
            "taucorr_loo).") in lines
    assert ("taucorr_loo favours occlusion by construction (occlusion is leave-one-out itself and scores 1), so "
            "occlusion is left out of its ranking.") in lines
    assert "occlusion beat random attributions on comprehensiveness" not in " ".join(lines)


def test_agreement_with_itself_is_declared_by_the_configured_metric(tfidf_pipeline):
    texts = ["a great film", "a dull and boring script"]
    occ = lumos.explain(tfidf_pipeline, texts, method="occlusion")
    s = lumos.evaluate(tfidf_pipeline, texts, occ, metrics=[("agreement", {"reference": occ})])
    assert s.info["agreement"]["favours"] == {"occlusion": "a method agrees with itself by construction"}
    np.testing.assert_allclose(s["agreement"], 1.0)


def test_degenerate_maps_are_flagged_counted_and_kept_out_of_means():
    maps = [np.zeros((1, 4, 4))] * 6 + [np.arange(16.0).reshape(1, 4, 4)] * 2
    attributions = pd.DataFrame({"method": ["gradcam_pp"] * 8 + ["saliency"] * 8, "example_id": list(range(8)) * 2,
                                 "attributions": maps + [np.full((1, 4, 4), 2.0)] + [np.eye(4)[None]] * 7})
    bad = degenerate_explanations(attributions)
    assert sorted(zip(bad.method, bad.example_id)) == [("gradcam_pp", i) for i in range(6)] + [("saliency", 0)]
    values = [3.9e12] * 6 + [0.2, 0.4]
    frame = scores(max_sensitivity={"gradcam_pp": values, "saliency": [0.3] * 8})
    (table,) = metric_tables(frame, bad)
    assert table.rows.loc["gradcam_pp", "mean"] == pytest.approx(0.3) and table.rows.loc["gradcam_pp", "n"] == 2
    assert table.rows.loc["saliency", "n"] == 7
    lines = summary(frame, bad, {"gradcam_pp": (6, 8), "saliency": (1, 8)})
    assert lines[0] == ("Warning: gradcam_pp returned all-zero or constant maps for 6 of 8 examples; they rank "
                        "nothing, so they are left out of its scores, which rest on 2 examples.")


def test_the_api_warns_about_degenerate_explanations_and_scores_leave_them_out():
    def model(x):  # ignores everything but the first column; rows whose first column is 0 give flat maps
        p = 1 / (1 + np.exp(-np.asarray(x, dtype=float)[:, 0]))
        return np.stack([1 - p, p], axis=1)

    x = np.array([[2.0, 1.0, 1.0], [0.0, 1.0, 1.0], [-1.0, 3.0, 0.0]])
    with pytest.warns(LumosWarning, match=r"occlusion returned all-zero or constant attributions for 1 of 3 "
                                          r"inputs \(1\)"):
        expl = lumos.explain(model, x, method="occlusion")
    assert expl.degenerate.tolist() == [False, True, False] and expl.summary()["degenerate"] == 1
    s = lumos.evaluate(model, x, expl, metrics=["sparseness"])
    assert s.degenerate.tolist() == [False, True, False]
    assert s.mean()["sparseness"] == pytest.approx(np.mean(np.asarray(s["sparseness"])[[0, 2]]))


def test_every_method_and_metric_says_in_plain_words_what_it_does_and_when_it_misleads():
    for kind in ("explainer", "metric"):
        for name, info in registry.describe(kind).items():
            assert len(info["plain"]) > 20 and len(info["misleads"]) > 20, f"{kind} {name}"


def test_plausibility_sentence_never_crowns_a_method_random_matched():
    lines = summary(scores(token_f1={"random": wave(0.47), "kernel_shap": [v - 0.13 for v in wave(0.47, 0.3)]}))
    assert lines[0].startswith("No method matched the human or true rationale better than random attributions "
                               "on token_f1 (random 0.47")
    lines = summary(scores(token_f1={"random": wave(0.2), "kernel_shap": wave(0.6)}))
    assert lines == ["kernel_shap matched the human or true rationale best (token_f1: kernel_shap 0.60), beyond "
                     "random attributions (random 0.20)."]


# ----- the examples a run takes, and the names it shows ------------------------------------------------------
def test_the_sample_is_seeded_and_keeps_the_classes_in_proportion():
    frame = pd.DataFrame({"x": range(1000), "label": np.repeat(np.arange(10), 100)})  # sorted by label
    picked = sample(frame, 20, seed=0)
    assert picked.label.value_counts().to_dict() == {c: 2 for c in range(10)}
    assert picked.x.is_monotonic_increasing  # kept in the split's order
    assert picked.equals(sample(frame, 20, seed=0)) and not picked.equals(sample(frame, 20, seed=1))
    uneven = pd.DataFrame({"label": [0] * 70 + [1] * 20 + [2] * 10})
    assert sample(uneven, 10, seed=3).label.value_counts().to_dict() == {0: 7, 1: 2, 2: 1}
    assert sample(uneven, 500, seed=0).equals(uneven)


def sorted_labels_model():
    """A table whose rows are sorted by label, with label names: the first rows are all "no"."""
    frame = pd.DataFrame({"a": np.linspace(-1, 1, 40), "b": np.zeros(40)})
    frame["label"] = (frame.a > 0).astype(int)

    def probs(x):
        p = 1 / (1 + np.exp(-4 * np.asarray(x, dtype=float)[:, 0]))
        return np.stack([1 - p, p], axis=1)

    return lumos.wrap(probs, labels=["no", "yes"]), {"test": frame}


def test_bench_samples_both_classes_unless_asked_for_the_first_rows_and_names_true_labels(tmp_path):
    db = str(tmp_path / "r.sqlite")
    kw = dict(model="test_report_truth:sorted_labels_model", n=8, methods=("occlusion",),
              metrics=("sparseness",), db=db)
    sampled, first = run(BenchSpec(**kw)), run(BenchSpec(first=True, **kw))
    store = Store(db)
    assert sorted(store.frame("examples", sampled).label.value_counts().to_dict().items()) == [("0", 4), ("1", 4)]
    assert store.frame("examples", first).label.tolist() == ["0"] * 8
    html = render(db, sampled, out=tmp_path / "r.html").read_text()
    assert "true label <b>yes</b>" in html and "true label <b>no</b>" in html  # names, as the predictions
    assert "examples from split “test”, drawn at random with the classes in proportion (seed 0)" in html


def test_bench_estimates_the_cost_from_a_probe_before_the_run(tmp_path):
    seen = []
    spec = BenchSpec(model="bench_loader:word_model", n=12, methods=("occlusion", "random"), metrics=("sparseness",),
                     unit_size=4, db=str(tmp_path / "r.sqlite"))
    progress = []
    run(spec, progress=lambda label, d, t: progress.append((label, d, t)), estimate=seen.append)
    (est,) = seen
    assert est.todo == {"occlusion": 12, "random": 12} and set(est.seconds_per_example) == {"occlusion", "random"}
    assert est.seconds == pytest.approx(12 * sum(est.seconds_per_example.values()))
    assert est.seconds_for(5) == pytest.approx(est.seconds * 5 / 12) and est.n_within(est.seconds / 2) in (5, 6)
    # the bar moves within units, per example (fractions of the 24 explanations), and ends at the total
    done = [d for _, d, _ in progress]
    assert done == sorted(done) and done[-1] == 24 and any(d % 4 for d in done)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run(spec, estimate=seen.append)
    assert len(seen) == 1  # nothing left to do: no probe
