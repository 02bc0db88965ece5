"""``lumos serve`` through the ASGI test client: every view answers, and what it shows agrees with what the
store, the model and the library compute directly (hand-worked values where they are small)."""

from __future__ import annotations

import io
import json
import re
import sys
import time
from html import unescape
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))

import serve_loader  # noqa: E402
from lumos.bench import BenchSpec, Store, run  # noqa: E402
from lumos.robustness.slices import wilson  # noqa: E402

pytest.importorskip("starlette")
from starlette.testclient import TestClient  # noqa: E402

from lumos.serve import create_app  # noqa: E402
from lumos.serve import index  # noqa: E402

MODELS = [f"serve_loader:{n}" for n in ("text_model", "flipped_text_model", "table_model", "image_model",
                                        "slow_text_model")]
FAITH = ("comprehensiveness", "sufficiency")


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    db = str(tmp_path_factory.mktemp("serve") / "runs.sqlite")
    ids = {
        "text": run(BenchSpec(model="serve_loader:text_model", n=36, methods=("occlusion", "random"),
                              metrics=FAITH, unit_size=12, db=db)),
        "flipped": run(BenchSpec(model="serve_loader:flipped_text_model", n=36, methods=("occlusion",),
                                 metrics=FAITH, unit_size=12, db=db)),
        "table": run(BenchSpec(model="serve_loader:table_model", n=40, methods=("occlusion", "saliency"),
                               metrics=FAITH, unit_size=20, db=db)),
        "image": run(BenchSpec(model="serve_loader:image_model", n=6, methods=("occlusion",),
                               metrics=("deletion_auc",), unit_size=6, db=db)),
    }
    return db, ids


def client_for(app) -> TestClient:
    client = TestClient(app, base_url="http://127.0.0.1")
    client.get("/")  # the first page sets the CSRF cookie
    return client


@pytest.fixture(scope="module")
def client(store):
    app = create_app(store[0], models=MODELS, generator=serve_loader.CannedGenerator())
    with client_for(app) as c:
        yield c


def csrf(client) -> str:
    return client.cookies.get("lumos_csrf")


def message(response) -> str:
    found = re.search(r'id="error-message"[^>]*>(.*?)</p>', response.text, re.S)
    return unescape(found.group(1)) if found else ""


def cards(html: str) -> dict[str, str]:
    """method -> the card's HTML, for each explanation card of a region of the page."""
    return {unescape(m): body for m, body in re.findall(r'<article class="card" data-method="([^"]*)">(.*?)</article>',
                                                        html, re.S)}


def score(card: str, metric: str) -> float:
    return float(re.search(rf'<span class="metric">{metric}</span> <span class="arrow">.</span> <b>([-0-9.]+)</b>',
                           card).group(1))


def region(html: str, element_id: str) -> str:
    start = html.index(f'id="{element_id}"')
    return html[start:]


# ----- runs and the report ----------------------------------------------------------------------------------
def test_the_runs_list_and_a_run_page_drawn_by_the_report(client, store):
    _, ids = store
    home = client.get("/")
    assert home.status_code == 200
    for run_id in ids.values():
        assert f'href="/runs/{run_id}"' in home.text
    page = client.get(f"/runs/{ids['text']}")
    assert page.status_code == 200
    for section in ("overview", "summary", "metrics", "agreement", "examples"):  # the report's own sections
        assert f'id="{section}"' in page.text
    assert f'href="/runs/{ids["text"]}/examples/0"' in page.text  # its examples link to the example view
    report = client.get(f"/runs/{ids['text']}/report")
    assert report.status_code == 200 and "attachment" in report.headers["content-disposition"]
    assert 'id="metrics"' in report.text and "/static/" not in report.text  # the self-contained static report


# ----- the data table ------------------------------------------------------------------------------------------
def rows_of(client, run_id: str, **params) -> dict:
    response = client.get(f"/api/runs/{run_id}/rows", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def stored(db: str, run_id: str):
    s = Store(db)
    try:
        examples = s.frame("examples", run_id).set_index("example_id").sort_index()
        probs = s.frame("attributions", run_id).groupby("example_id").probs.first()
    finally:
        s.close()
    p = np.stack(probs.loc[examples.index].to_numpy())
    return examples, p


def test_the_data_table_sorts_filters_searches_and_pages_like_the_store_says(client, store):
    db, ids = store
    run_id = ids["text"]
    examples, p = stored(db, run_id)
    truth = examples.label.astype(int).to_numpy()
    predicted, confidence = p.argmax(1), p.max(1)
    first = rows_of(client, run_id)
    assert first["indexed"] and first["total"] == len(examples) == 36
    by_confidence = rows_of(client, run_id, sort="confidence", order="desc", size=100)["rows"]
    assert [r["confidence"] for r in by_confidence] == pytest.approx(sorted(confidence, reverse=True))
    wrong = rows_of(client, run_id, correct="no", size=100)
    assert sorted(r["example_id"] for r in wrong["rows"]) == sorted(np.flatnonzero(predicted != truth).tolist())
    found = rows_of(client, run_id, q="awful bad", size=100)
    expect = [i for i, t in enumerate(examples.input) if {"awful", "bad"} <= set(t.split())]
    assert sorted(r["example_id"] for r in found["rows"]) == expect and expect
    second = rows_of(client, run_id, size=25, page=2)
    assert [r["example_id"] for r in second["rows"]] == list(range(25, 36)) and second["pages"] == 2
    assert rows_of(client, run_id, q='" OR 1 --')["total"] == 0  # search text is words, never query syntax


def test_rule_slices_carry_their_accuracy_and_wilson_interval_and_filter_the_table(client, store):
    db, ids = store
    run_id = ids["text"]
    examples, p = stored(db, run_id)
    hit = p.argmax(1) == examples.label.astype(int).to_numpy()
    page = client.get(f"/runs/{run_id}/table")
    assert page.status_code == 200
    slice_id = int(re.search(r'slice=(\d+)"[^>]*>contains &#39;not&#39;</a>', page.text).group(1))
    members = np.array(["not" in t.split() for t in examples.input])
    low, high = wilson(int(hit[members].sum()), int(members.sum()))
    line = re.search(r"contains &#39;not&#39;</a>\s*<span class=\"meta\">(.*?)</span>", page.text, re.S).group(1)
    assert f"accuracy {100 * hit[members].mean():.1f}% [{100 * low:.1f}%, {100 * high:.1f}%]" in line
    shown = rows_of(client, run_id, slice=slice_id, size=100)["rows"]
    assert sorted(r["example_id"] for r in shown) == np.flatnonzero(members).tolist()


def test_the_performance_panel_counts_the_confusion_matrix_of_the_filter(client, store):
    db, ids = store
    run_id = ids["text"]
    examples, p = stored(db, run_id)
    truth, predicted = examples.label.astype(int).to_numpy(), p.argmax(1)
    for params, keep in (({}, np.ones(len(truth), dtype=bool)),
                         ({"q": "bad"}, np.array(["bad" in t.split() for t in examples.input]))):
        html = client.get(f"/runs/{run_id}/table", params=params).text
        panel = html[html.index('id="performance"'):html.index('id="data-table"')]
        cells = [int(v) for v in re.findall(r'<td class="(?:diagonal|off)"><a [^>]*>([0-9,]+)</a>', panel)]
        expect = [int(((truth == t) & (predicted == q) & keep).sum()) for t in (0, 1) for q in (0, 1)]
        assert cells == expect
        hits = int((truth == predicted)[keep].sum())
        low, high = wilson(hits, int(keep.sum()))
        assert f"<b>{100 * hits / keep.sum():.1f}%</b> [{100 * low:.1f}%, {100 * high:.1f}%]" in panel


def test_the_performance_of_a_selection_is_computed_once_per_index_build(client, store, monkeypatch):
    """Paging and sorting a selection reuse its performance and chart (100,000 rows take most of a second);
    another filter, a threshold or a rebuilt index computes them anew."""
    from lumos.serve import metrics

    db, ids = store
    run_id = ids["text"]
    calls, real = [], metrics.performance
    monkeypatch.setattr(metrics, "performance", lambda *a, **kw: (calls.append(a[2]), real(*a, **kw))[1])
    client.app.state.workbench.table_performance.clear()  # (the index build filled in the whole run's)
    for params in ({}, {"page": 2}, {"sort": "confidence", "order": "desc"}, {"size": 25}):
        assert client.get(f"/runs/{run_id}/table", params=params).status_code == 200
    assert len(calls) == 1
    first = client.get(f"/runs/{run_id}/table").text
    client.get(f"/runs/{run_id}/table", params={"q": "bad"})
    client.get(f"/runs/{run_id}/table", params={"q": "bad", "page": 2})
    client.get(f"/runs/{run_id}/table", params={"threshold": 0.3})
    assert len(calls) == 3
    wb = client.app.state.workbench
    wb.index_run(wb.store(), wb.run(run_id), None)  # a rebuilt index computes the whole run's panel at its end
    assert len(calls) == 4
    again = client.get(f"/runs/{run_id}/table").text
    assert len(calls) == 4  # so the first page after indexing finds it ready
    panel = 'id="performance"', 'id="data-table"'
    assert first[first.index(panel[0]):first.index(panel[1])] == again[again.index(panel[0]):again.index(panel[1])]


def test_the_reliability_curve_is_each_tenth_of_confidence_in_order(client, store):
    import sqlite3

    from lumos.serve import index, metrics

    db, ids = store
    run_id = ids["text"]
    examples, p = stored(db, run_id)
    assert client.get(f"/runs/{run_id}/table").status_code == 200  # indexes the run
    confidence, correct = p.max(1), p.argmax(1) == examples.label.astype(int).to_numpy()
    band = np.minimum((confidence * metrics.BINS).astype(int), metrics.BINS - 1)
    expect = [(confidence[band == b].mean(), correct[band == b].mean(), int((band == b).sum())) for b in np.unique(band)]
    with sqlite3.connect(db) as connection:
        shown = metrics.performance(connection, run_id, index.Query.from_params({}), ["a", "b"]).reliability
    assert len(expect) > 2 and [n for *_, n in shown] == [n for *_, n in expect]  # bands by mean confidence
    assert np.allclose([c[:2] for c in shown], [e[:2] for e in expect])


def test_the_cheapest_threshold_is_the_brute_force_one():
    import sqlite3

    from lumos.serve.metrics import _threshold

    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 300)
    p = np.round(np.clip(0.3 * y + 0.7 * rng.random(300), 0, 1), 1)  # many ties
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE serve_rows (run_id, truth, probs)")
    db.executemany("INSERT INTO serve_rows VALUES ('r', ?, ?)", [(int(a), json.dumps([1 - b, b])) for a, b in zip(y, p)])
    for cost in (0.25, 1.0, 4.0):
        def spent(t):
            return cost * int(((p >= t) & (y == 0)).sum()) + int(((p < t) & (y == 1)).sum())

        found = _threshold(db, "r.run_id = ?", ["r"], 0.5, cost)
        assert spent(found.best) == min(spent(t) for t in [*np.unique(p), 1.01])
        assert found.accuracy == pytest.approx(((p >= 0.5) == (y == 1)).mean())


def test_a_filter_saved_as_a_slice_gets_its_members_and_statistics(client, store):
    db, ids = store
    run_id = ids["text"]
    examples, p = stored(db, run_id)
    response = client.post(f"/runs/{run_id}/slices", data={"csrf": csrf(client), "name": "mentions good",
                                                           "q": "good"}, follow_redirects=False)
    assert response.status_code == 303
    slice_id = int(re.search(r"slice=(\d+)", response.headers["location"]).group(1))
    members = np.array(["good" in t.split() for t in examples.input])
    shown = rows_of(client, run_id, slice=slice_id, size=100)
    assert sorted(r["example_id"] for r in shown["rows"]) == np.flatnonzero(members).tolist()
    s = Store(db)
    try:
        size, accuracy = s.db.execute("SELECT size, accuracy FROM serve_slices WHERE run_id=? AND slice_id=?",
                                      (run_id, slice_id)).fetchone()
    finally:
        s.close()
    hit = p.argmax(1) == examples.label.astype(int).to_numpy()
    assert size == members.sum() and accuracy == pytest.approx(hit[members].mean())


def test_salience_patterns_group_examples_by_the_words_their_explanations_weigh(client, store):
    db, ids = store
    run_id = ids["text"]
    response = client.post(f"/runs/{run_id}/patterns", data={"csrf": csrf(client), "method": "occlusion", "k": "3"},
                           follow_redirects=False)
    assert response.status_code == 303
    s = Store(db)
    try:
        found = s.db.execute("SELECT slice_id, name, size FROM serve_slices WHERE run_id=? AND source='pattern'",
                             (run_id,)).fetchall()
        examples = s.frame("examples", run_id)
        explained = s.frame("attributions", run_id).query("method == 'occlusion'").attributions
    finally:
        s.close()
    pointing = sum(bool(np.abs(a).sum()) for a in explained)  # an all-zero explanation points at nothing
    assert len(found) == 3 and sum(size for _, _, size in found) == pointing == 30
    for slice_id, name, _ in found:
        members = [r["example_id"] for r in rows_of(client, run_id, slice=slice_id, size=100)["rows"]]
        texts = examples.set_index("example_id").input.loc[members].str.lower()
        first_word = name.split(": ")[1].split(", ")[0]
        assert texts.str.contains(first_word, regex=False).mean() > 0.5  # a pattern's heaviest word is in it


def test_a_large_run_is_indexed_by_a_job_and_pages_meanwhile(store, tmp_path):
    db, ids = store
    app = create_app(db, models=MODELS, index_inline=5)  # everything above 5 examples: a background job
    with client_for(app) as c:
        s = Store(db)
        try:
            s.db.execute("DELETE FROM serve_index WHERE run_id=?", (ids["flipped"],))
        finally:
            s.close()
        first = c.get(f"/api/runs/{ids['flipped']}/rows").json()
        assert not first["indexed"] and first["index_job"] and len(first["rows"]) == 36  # id order, unindexed
        job = wait_for(c, first["index_job"])
        assert job["status"] == "done" and job["done"] == job["total"] > 0
        assert c.get(f"/api/runs/{ids['flipped']}/rows", params={"sort": "confidence"}).json()["indexed"]


# ----- one example ----------------------------------------------------------------------------------------------
def test_the_example_view_shows_each_stored_explanation_with_its_own_scores(client, store):
    db, ids = store
    run_id = ids["text"]
    page = client.get(f"/runs/{run_id}/examples/2")
    assert page.status_code == 200
    shown = cards(region(page.text, "stored").split('id="whatif"')[0])
    s = Store(db)
    try:
        scores = s.frame("scores", run_id)
    finally:
        s.close()
    assert set(shown) == {"occlusion", "random"}
    for method, card in shown.items():
        for metric in FAITH:
            value = scores[(scores.example_id == 2) & (scores.method == method) & (scores.metric == metric)].value
            assert score(card, metric) == pytest.approx(float(value.iloc[0]), abs=5e-4)


def test_a_constant_map_is_flagged_on_its_card(client, store):
    _, ids = store
    for example_id, flat in ((9, {"occlusion"}), (2, set())):  # "a film": no weighted word, nothing moves
        page = client.get(f"/runs/{ids['text']}/examples/{example_id}")
        shown = cards(region(page.text, "stored").split('id="whatif"')[0])
        assert {m for m, card in shown.items() if "⚠ constant" in card} == flat, example_id
    response = client.post(f"/runs/{ids['text']}/examples/0/whatif",
                           data={"csrf": csrf(client), "text": "a film", "methods": ["occlusion"]})
    assert "⚠ constant" in cards(region(response.text, "live").split('id="tools"')[0])["occlusion"]


def test_what_if_an_edited_text_gives_the_new_prediction_and_faithfulness(client, store):
    _, ids = store
    response = client.post(f"/runs/{ids['text']}/examples/0/whatif",
                           data={"csrf": csrf(client), "text": "a good film", "methods": ["occlusion"]})
    assert response.status_code == 200, message(response)
    live = region(response.text, "live").split('id="tools"')[0]
    assert re.search(r"<td>0\.800</td>", live)  # p(positive) = 0.5 + 0.3
    occlusion = cards(live)["occlusion"]
    # occlusion of an additive model is each word's weight: "good" +0.3, the others 0
    assert re.findall(r'title="([+-][0-9.]+)">(\w+)<', occlusion) == [("+0.0000", "a"), ("+0.3000", "good"),
                                                                      ("+0.0000", "film")]
    # the top 20% of 3 words is "good": removing it leaves p = 0.5 (0.3 lower); keeping it alone changes nothing
    assert score(occlusion, "comprehensiveness") == pytest.approx(0.3)
    assert score(occlusion, "sufficiency") == pytest.approx(0.0)


def test_switching_the_explained_class_flips_the_attributions(client, store):
    _, ids = store
    predicted = client.get(f"/runs/{ids['text']}/examples/2", params={"target": 0, "methods": "occlusion"})
    other = client.get(f"/runs/{ids['text']}/examples/2", params={"target": 1, "methods": "occlusion"})
    a = [float(v) for v in re.findall(r'title="([+-][0-9.]+)"', cards(region(predicted.text, "live"))["occlusion"])]
    b = [float(v) for v in re.findall(r'title="([+-][0-9.]+)"', cards(region(other.text, "live"))["occlusion"])]
    assert a and a == pytest.approx([-v for v in b])  # p(0) = 1 - p(1): every drop changes sign


def test_what_if_on_a_table_row_uses_the_edited_cells(client, store):
    _, ids = store
    model, splits = serve_loader.table_model()
    row = splits["test"].drop(columns="label").iloc[[3]].copy()
    row["income"] = 4.0
    expect = model.predict_proba(row)[0]
    response = client.post(f"/runs/{ids['table']}/examples/3/whatif",
                           data={"csrf": csrf(client), "cell:income": "4", "methods": ["occlusion", "saliency"]})
    assert response.status_code == 200, message(response)
    live = region(response.text, "live")
    assert f"<td>{expect.max():.3f}</td>" in live
    assert set(cards(live)) == {"occlusion", "saliency"}
    bad = client.post(f"/runs/{ids['table']}/examples/3/whatif", data={"csrf": csrf(client), "cell:income": "lots"})
    assert bad.status_code == 400 and "column 'income' takes a number" in message(bad)


def png(size: tuple[int, int], value: int) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, (value, value, value)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_an_uploaded_image_is_resized_to_the_run_and_explained(client, store):
    _, ids = store
    response = client.post(f"/runs/{ids['image']}/examples/1/whatif", data={"csrf": csrf(client), "methods":
                                                                             "occlusion"},
                           files={"image": ("grey.png", png((32, 20), 51), "image/png")})
    assert response.status_code == 200, message(response)
    live = region(response.text, "live")
    assert "<td>0.200</td>" in live  # the model reads the mean brightness: 51 / 255
    assert "⚠ all zero or constant" in live  # grey occluded by grey moves nothing


@pytest.mark.parametrize("name,data,kind,status,says", [
    ("notes.png", b"just some text", "image/png", 415, "is not an image lumos can read"),
    ("cut.png", None, "image/png", 422, "could not be decoded"),
    ("data.csv", b"a,b\n1,2", "text/csv", 415, "was sent as text/csv, not as an image"),
    ("empty.png", b"", "image/png", 400, "the upload is empty"),
])
def test_bad_uploads_are_refused_with_a_message(client, store, name, data, kind, status, says):
    _, ids = store
    data = png((64, 64), 10)[:60] if data is None else data
    response = client.post(f"/runs/{ids['image']}/examples/1/whatif", data={"csrf": csrf(client)},
                           files={"image": (name, data, kind)})
    assert response.status_code == status and says in message(response)


# ----- tools -------------------------------------------------------------------------------------------------------
def test_counterfactuals_of_a_table_row_reach_the_other_class(client, store):
    _, ids = store
    response = client.post(f"/runs/{ids['table']}/examples/3/counterfactuals",
                           data={"csrf": csrf(client), "method": "genetic"})
    assert response.status_code == 200, message(response)
    tool = region(response.text, "tool")
    assert 'data-tool="counterfactuals"' in tool and 'class="changed"' in tool
    model, splits = serve_loader.table_model()
    original = int(model.predict_proba(splits["test"].drop(columns="label").iloc[[3]])[0].argmax())
    desired = ["no", "yes"][1 - original]
    probs = [float(v) for v in re.search(rf"<td>p\({desired}\)</td>(.*?)</tr>", tool, re.S).group(1).split("<td>")[1:]
             for v in [v.split("<")[0]]]
    assert probs[0] < 0.5 and all(p > 0.5 for p in probs[1:])  # the original, then counterfactuals that flip it


def test_one_column_at_a_time_is_the_model_on_the_edited_rows(client, store):
    _, ids = store
    response = client.post(f"/runs/{ids['table']}/examples/3/dependence",
                           data={"csrf": csrf(client), "column": "income"})
    assert response.status_code == 200, message(response)
    tool = region(response.text, "tool")
    rows = re.findall(r"<tr[^>]*><td>([-0-9.e]+)</td><td>([0-9.]+)</td><td>([0-9.]+)</td></tr>", tool)
    model, splits = serve_loader.table_model()
    row = splits["test"].drop(columns="label").iloc[[3]]
    values = np.linspace(splits["train"].income.min(), splits["train"].income.max(), 12)
    expect = model.predict_proba(row.loc[row.index.repeat(12)].assign(income=values))
    assert len(rows) == 12 and 'class="curve"' in tool
    assert [float(r[1]) for r in rows] == pytest.approx(expect[:, 0], abs=6e-4)


def test_an_attack_within_its_budget_and_the_explanation_before_and_after(client, store):
    _, ids = store
    response = client.post(f"/runs/{ids['text']}/examples/0/attack",
                           data={"csrf": csrf(client), "method": "deepwordbug", "budget": "50", "text": "a good film"})
    assert response.status_code == 200, message(response)
    tool = region(response.text, "tool")
    queries, budget = map(int, re.search(r"(\d+) of at most (\d+) model rows", tool).groups())
    assert budget == 50 and 1 <= queries <= 50
    assert "deepwordbug: succeeded" in tool and tool.count('class="words"') == 2
    over = client.post(f"/runs/{ids['text']}/examples/0/attack", data={"csrf": csrf(client), "method": "deepwordbug",
                                                                      "budget": "999999"})
    assert over.status_code == 400 and "from 1 to 5000" in message(over)


def test_why_shows_the_cited_words_and_their_faithfulness(client, store):
    _, ids = store
    response = client.post(f"/runs/{ids['text']}/examples/0/why", data={"csrf": csrf(client), "text": "a good film"})
    assert response.status_code == 200, message(response)
    card = cards(region(response.text, "tool"))["why? (canned)"]
    assert "Because it says good and film." in card and "canned cites good, film" in card
    # removing the cited "good film" leaves "a": p = 0.5, 0.3 below 0.8; keeping only them keeps 0.8
    assert score(card, "comprehensiveness") == pytest.approx(0.3)
    assert score(card, "sufficiency") == pytest.approx(0.0)


def test_training_data_agrees_with_influence_computed_directly(client, store):
    from lumos import influence

    _, ids = store
    response = client.get(f"/runs/{ids['table']}/examples/5/influence")
    assert response.status_code == 200, message(response)
    tool = region(response.text, "tool")
    helpful = [int(i) for i in re.findall(r"<tr><td>(\d+)</td>", tool.split("Most harmful")[0])]
    model, splits = serve_loader.table_model()
    x = splits["test"].drop(columns="label").iloc[[5]]
    direct = influence.explain(model, (splits["train"].drop(columns="label"), splits["train"].label.tolist()),
                               (x, [int(splits["test"].label.iloc[5])]), method="exact", layers="last_layer")
    assert helpful == [e.index for e in direct.proponents(0, 5)]
    text = client.get(f"/runs/{ids['text']}/examples/0/influence")
    assert text.status_code == 422 and "no influence support" in message(text)


# ----- compare --------------------------------------------------------------------------------------------------
def test_compare_counts_the_examples_a_second_model_fixed_and_broke(client, store):
    db, ids = store
    page = client.get("/compare", params={"a": ids["text"], "b": ids["flipped"]})
    assert page.status_code == 200
    examples, p = stored(db, ids["text"])
    _, q = stored(db, ids["flipped"])
    truth = examples.label.astype(int).to_numpy()
    right_a, right_b = p.argmax(1) == truth, q.argmax(1) == truth
    fixed, broken = int((~right_a & right_b).sum()), int((right_a & ~right_b).sum())
    assert fixed + broken > 0
    assert f"{fixed} became right and {broken} became wrong" in page.text
    assert page.text.count('class="verdict-fixed"') == min(fixed, 20)


# ----- jobs ----------------------------------------------------------------------------------------------------
def wait_for(client, job_id: str, timeout: float = 60) -> dict:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        job = client.get(f"/api/jobs/{job_id}").json()
        if job["status"] not in ("queued", "running"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish: {job}")


def test_a_bench_job_runs_in_the_background_into_the_same_store(client, store):
    db, _ = store
    response = client.post("/jobs", data={"csrf": csrf(client), "kind": "bench", "model": "serve_loader:text_model",
                                          "n": "12", "methods": "occlusion", "metrics": "comprehensiveness",
                                          "unit_size": "4"}, follow_redirects=False)
    assert response.status_code == 303
    job_id = response.headers["location"].rsplit("/", 1)[1]
    job = wait_for(client, job_id)
    assert job["status"] == "done", job
    expect = BenchSpec(model="serve_loader:text_model", n=12, methods=("occlusion",), metrics=("comprehensiveness",),
                       unit_size=4, db=db).run_id()
    assert job["run_id"] == expect  # the same run the CLI would write: resumable, comparable
    s = Store(db)
    try:
        assert len(s.frame("attributions", expect)) == 12
        assert s.db.execute("SELECT status FROM serve_jobs WHERE job_id=?", (job_id,)).fetchone()[0] == "done"
        assert index.state(s.db, expect) == "current"  # indexed for the data table as part of the job
    finally:
        s.close()
    assert client.get(f"/jobs/{job_id}").status_code == 200


def test_a_robustness_job_writes_its_section_and_the_runs_list_shows_it(client, store):
    db, _ = store
    response = client.post("/jobs", data={"csrf": csrf(client), "kind": "robustness",
                                          "model": "serve_loader:text_model", "n": "20", "budget": "30"},
                           follow_redirects=False)
    assert response.status_code == 303, message(response)
    job = wait_for(client, response.headers["location"].rsplit("/", 1)[1])
    assert job["status"] == "done" and job["run_id"].startswith("robustness-serve_loader-text_model-"), job
    s = Store(db)
    try:
        assert [k for (k,) in s.db.execute("SELECT kind FROM sections WHERE run_id=?", (job["run_id"],))] == \
            ["robustness"]
    finally:
        s.close()
    listed = re.search(rf'href="/runs/{re.escape(job["run_id"])}".*?</tr>', client.get("/").text, re.S).group(0)
    assert "robustness" in listed
    page = client.get(f"/runs/{job['run_id']}")
    assert page.status_code == 200 and 'id="robustness"' in page.text and "could not be drawn" not in page.text


def test_a_job_left_running_by_a_stopped_server_is_marked_interrupted(store):
    db, _ = store
    s = Store(db)
    try:
        s.db.execute("INSERT INTO serve_jobs (job_id, kind, params, status, owner, created, updated) VALUES "
                     "('bench-20250101-000000-abcdef', 'bench', '{}', 'running', 'gone', 0, 0)")
    finally:
        s.close()
    app = create_app(db, models=MODELS)
    with client_for(app) as c:
        job = c.get("/api/jobs/bench-20250101-000000-abcdef").json()
    assert job["status"] == "interrupted" and "resumes" in job["message"]


def test_a_cancelled_job_stops(client, store):
    response = client.post("/jobs", data={"csrf": csrf(client), "kind": "bench", "model": "serve_loader:slow_text_model",
                                          "n": "36", "methods": "occlusion", "metrics": "comprehensiveness",
                                          "unit_size": "2"}, follow_redirects=False)
    job_id = response.headers["location"].rsplit("/", 1)[1]
    end = time.monotonic() + 30
    while client.get(f"/api/jobs/{job_id}").json()["done"] < 1 and time.monotonic() < end:
        time.sleep(0.05)
    assert client.post(f"/jobs/{job_id}/cancel", data={"csrf": csrf(client)}).status_code == 200
    job = wait_for(client, job_id)
    assert job["status"] == "cancelled" and job["done"] < job["total"]


@pytest.mark.parametrize("form,says", [
    ({"kind": "bench", "model": "os:system"}, "may not load 'os:system'"),
    ({"kind": "bench", "model": "serve_loader:text_model", "n": "0"}, "n must lie between 1 and 100,000"),
    ({"kind": "bench", "model": "serve_loader:text_model", "methods": "occlusoin"}, "unknown explainer(s) occlusoin"),
    ({"kind": "shell", "model": "serve_loader:text_model"}, "a job is a bench or a robustness run"),
])
def test_job_forms_are_checked(client, form, says):
    response = client.post("/jobs", data={"csrf": csrf(client), **form})
    assert response.status_code == 400 and says in message(response)


def test_bad_run_example_and_job_names_are_refused(client, store):
    _, ids = store
    assert client.get("/runs/no-such-run").status_code == 404
    assert client.get("/runs/..%2F..%2Fetc%2Fpasswd").status_code in (400, 404)
    assert client.get("/runs/a%20b%3Cscript%3E").status_code == 400
    assert client.get(f"/runs/{ids['text']}/examples/9999").status_code == 404
    assert client.get("/jobs/..%2Fetc").status_code in (400, 404)
    assert client.get("/jobs/not-a-job").status_code == 400
    assert client.get("/static/../app.py").status_code == 404
    assert client.get(f"/runs/{ids['text']}/table", params={"sort": "input; DROP TABLE runs"}).status_code == 400
    assert json.loads(client.get("/api/jobs/nope").text)["error"]
