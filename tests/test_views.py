"""Every view shows what it explains: explanations keep their input, images are drawn over the photo, every
result renders in a notebook, ``lumos.plot`` draws the same figures, and the command line explains any modality."""

from __future__ import annotations

import base64
import io
import json
import re
from io import StringIO

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from rich.console import Console
from typer.testing import CliRunner

import lumos
from lumos import plot
from lumos.cli import app
from lumos.viz import bars_view, image_view, legend

runner = CliRunner()


def table_model(x):
    z = np.asarray(x, dtype=float) @ np.array([1.0, -2.0, 0.5])
    p = 1 / (1 + np.exp(-z))
    return np.stack([1 - p, p], axis=1)


def brightness(x):
    p = np.asarray(x)[:, :, :4, :4].mean(axis=(1, 2, 3))
    return np.stack([1 - p, p], axis=1)


@pytest.fixture
def rows():
    return pd.DataFrame({"income": [39.0, 1.5], "age": [52.0, 20.0], "debt <ratio>": [0.25, 3.0]})


def png(uri: str) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))).convert("RGB"))


# ----- what an explanation keeps, and its one (H, W) accessor ------------------------------------------------
def test_an_explanation_keeps_its_input_values_and_base_value(rows):
    e = lumos.explain(table_model, rows, method="kernel_shap", background=rows.iloc[[1]], n_samples=64)[0]
    assert list(e.data) == [39.0, 52.0, 0.25] and e.features == ["income", "age", "debt <ratio>"]
    assert e.base_value == pytest.approx(table_model(rows.iloc[[1]])[0, e.target])  # every feature removed
    # Shapley efficiency: the base value plus the attributions is the prediction
    assert e.base_value + e.attributions.sum() == pytest.approx(e.probs[e.target], abs=1e-5)


def test_one_accessor_gives_the_h_w_map_whatever_the_method_shape(images):
    from conftest import make_cnn

    cnn = make_cnn()
    ig = lumos.explain(cnn, images[:2], method="integrated_gradients", steps=8)[0]
    occ = lumos.explain(cnn, images[:2], method="occlusion", window=4, stride=4)[0]
    assert ig.attributions.shape == (3, 16, 16) and occ.attributions.shape == (1, 16, 16)
    np.testing.assert_allclose(ig.heatmap(), ig.attributions.astype(np.float64).sum(axis=0))
    np.testing.assert_allclose(occ.heatmap(), occ.attributions[0])
    assert ig.data.shape == (3, 16, 16) and ig.modality == "image"
    with pytest.raises(lumos.UnsupportedError, match="heatmap"):
        lumos.explain(table_model, np.ones((1, 3)), method="occlusion")[0].heatmap()


# ----- HTML views ---------------------------------------------------------------------------------------------
def test_image_maps_are_drawn_over_the_photo(images):
    e = lumos.explain(brightness, images[:1], method="occlusion", window=4, stride=4)[0]
    html = e._repr_html_()
    assert "input not kept" not in html and "for the class" in html  # the photo, and the legend
    uri = re.search(r'src="(data:image/png;base64,[^"]+)"', html).group(1)
    drawn = png(uri)[::10, ::10][:16, :16]  # upscaled x10: one pixel per input pixel
    grey = images[0].astype(np.float64).mean(axis=0)
    grey = (grey - grey.min()) / (grey.max() - grey.min())
    flat = np.abs(e.heatmap()) == 0  # where the map is zero, the photo shows through in grey
    expected = (255 * (0.35 + 0.5 * grey)).astype(np.uint8)
    assert flat.any()
    np.testing.assert_allclose(drawn[..., 0][flat], expected[flat], atol=1)
    blank = image_view(None, e.heatmap(), "x")
    assert "input not kept" in blank


def test_bars_show_feature_values_and_fit_their_labels_and_numbers():
    svg = bars_view(["a very long feature name <x>", "b"], np.array([-0.5, 0.25]), values=["some value", 3.0])
    assert "a very long feature name &lt;x&gt; = some value" in svg and "b = 3" in svg
    width = int(re.search(r'width="(\d+)"', svg).group(1))
    label = len("a very long feature name <x> = some value") * 7.2
    assert width > label + 2 * 110  # the label, both halves of the axis, and the numbers all fit
    xs = [float(x) for x in re.findall(r'<text x="([-\d.]+)"', svg)]
    assert min(xs) > 0 and max(xs) < width  # nothing drawn outside the picture
    assert "-0.5" in svg and "+0.25" in svg


def test_the_legend_reads_the_same_in_a_notebook():
    html = legend()
    assert html.count("display:inline-block") >= 3 and "linear-gradient" in html
    assert "underlined" in html and "underlined" not in legend(rationale=False)


def test_scores_render_with_direction_interval_and_meaning(tfidf_pipeline):
    texts = ["a great film", "a dull and boring script", "truly wonderful"]
    e = lumos.explain(tfidf_pipeline, texts, method="occlusion")
    html = lumos.evaluate(tfidf_pipeline, texts, e, metrics=["comprehensiveness", "sufficiency"])._repr_html_()
    assert "Scores of occlusion" in html and "↑ higher is better" in html and "↓ lower is better" in html
    assert "95% interval" in html and "confidence falls when the features" in html


def test_agreement_renders_a_heatmap_with_a_scale_and_the_methods_side_by_side(tfidf_pipeline):
    texts = ["a great film", "a dull and boring script"]
    by = {m: lumos.explain(tfidf_pipeline, texts, method=m) for m in ("occlusion", "random")}
    result = lumos.agreement(by)
    fig = plot.agreement(result)
    assert len(fig.axes) == 2  # the heatmap and its colour scale
    assert np.ma.is_masked(fig.axes[0].images[0].get_array()[0, 0])  # the diagonal (1 by construction) is blank
    html = result._repr_html_()
    assert html.count("<svg") == 2 and "occlusion" in html and "great" in html


def test_slices_influence_and_counterfactuals_render_in_notebooks():
    from lumos.robustness import slices

    x = pd.DataFrame({"a": np.r_[np.zeros(30), np.ones(30)], "b": np.arange(60.0)})
    y = np.r_[np.zeros(30), np.ones(30)].astype(int)
    report = slices(lambda d: np.tile([0.6, 0.4], (len(d), 1)), x, y, min_size=10)
    assert "Worst slices" in report._repr_html_() and "95% interval" in report._repr_html_()
    from sklearn.linear_model import LogisticRegression

    xt = np.random.default_rng(0).normal(size=(40, 2))
    yt = (xt[:, 0] > 0).astype(int)
    influence = lumos.influence.explain(LogisticRegression().fit(xt, yt), (xt, yt), (xt[:2], yt[:2]))
    html = influence._repr_html_()
    assert "proponent" in html and "opponent" in html and "Influence (exact)" in html
    train = pd.DataFrame({"income": np.linspace(0, 10, 50), "age": np.linspace(20, 60, 50)})

    def rich(d):
        p = 1 / (1 + np.exp(-(np.asarray(d, dtype=float)[:, 0] - 5)))
        return np.stack([1 - p, p], axis=1)

    cfs = lumos.counterfactuals.explain(rich, train.iloc[[3]], data=train, n=2, method="random", seed=0)
    html = cfs._repr_html_()
    assert "counterfactual 1" in html and "background:#fde0c5" in html and "p(1)" in html


# ----- lumos.plot -----------------------------------------------------------------------------------------------
def test_plot_functions_draw_what_they_are_given(rows, images):
    e = lumos.explain(table_model, rows, method="occlusion", background=rows)[0]
    fig = plot.bars(e, top=2)
    ax = fig.axes[0]
    top_down = [t.get_text() for _, t in sorted(zip(ax.get_yticks(), ax.get_yticklabels()), key=lambda p: -p[0])]
    order = np.argsort(-np.abs(e.attributions))[:2]
    assert top_down == [f"{e.features[j]} = {plot.number(e.data[j])}" for j in order]  # largest on top
    im = lumos.explain(brightness, images[:2], method="occlusion", window=4, stride=4)
    fig = plot.image(im[0])
    assert len(fig.axes[0].images) == 2  # the photo, then the map over it
    grid = plot.compare({"occlusion": im, "random": lumos.explain(brightness, images[:2], method="random")},
                        examples=[0, 1])
    assert len(grid.axes) == 2 * 3  # two examples x (photo + two methods)
    svg = plot.svg(plot.text(lumos.explain(lambda t: np.tile([0.3, 0.7], (len(t), 1)), ["a <b> c"],
                                           method="random")[0]))
    assert svg.startswith("<svg") and "&lt;b&gt;" in svg


# ----- the command line -------------------------------------------------------------------------------------------
def test_explain_a_table_row_by_index_or_by_values_as_json(tmp_path, monkeypatch):
    monkeypatch.setenv("LUMOS_CACHE", str(tmp_path / "cache"))
    result = runner.invoke(app, ["explain", "--row", "3", "--model", "tabular/german/logreg", "--json"])
    assert result.exit_code == 0, result.output
    record = json.loads(result.output)
    assert record["modality"] == "tabular" and len(record["features"]) == len(record["attributions"])
    changed = runner.invoke(app, ["explain", "age=70", "--row", "3", "--model", "tabular/german/logreg", "--json"])
    again = json.loads(changed.output)
    assert again["values"][again["features"].index("age")] == 70
    others = [i for i, f in enumerate(record["features"]) if f != "age"]
    assert [again["values"][i] for i in others] == [record["values"][i] for i in others]  # the rest from --row 3
    bad = runner.invoke(app, ["explain", "nope=1", "--model", "tabular/german/logreg"])
    assert bad.exit_code == 1 and "COLUMN=VALUE" in bad.output and "age" in bad.output
    plain = runner.invoke(app, ["explain", "--row", "3", "--model", "tabular/german/logreg", "--top", "3"])
    lines = plain.output.splitlines()
    assert len(lines) == 4 and all(len(line) <= 80 for line in lines)  # piped: no colour, numbers and +/- bars
    assert re.search(r" = .+ [+-]\d\.\d{4}  [+-]+$", lines[1])


def test_explain_an_image_file(tmp_path):
    from skimage import data

    path = tmp_path / "cat.png"
    Image.fromarray(data.chelsea()).save(path)
    out = tmp_path / "map.png"
    result = runner.invoke(app, ["explain", str(path), "--model", "imagenet/efficientnet_lite0", "--method",
                                 "gradcam", "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    record = json.loads(result.output)
    assert record["map_shape"] == [224, 224] and record["label"] == "Egyptian Mau" and out.exists()


def test_words_fall_back_to_16_colours_with_a_legend_and_stay_readable_when_piped(tfidf_pipeline):
    from lumos.cli.explain import _text

    e = lumos.explain(tfidf_pipeline, ["a great film but dull acting"], method="occlusion")[0]
    colour = StringIO()
    _text(Console(file=colour, force_terminal=True, color_system="standard", width=80), e, 3)
    out = colour.getvalue()
    assert "\x1b[1;30;43m" in out and "\x1b[1;37;45m" in out  # strong for / against in the 16 colours
    assert "for" in out and "against" in out and "38;2" not in out and "48;2" not in out  # no 24-bit colour
    piped = StringIO()
    _text(Console(file=piped, width=80), e, 3)
    text = piped.getvalue()
    assert "\x1b[" not in text and re.search(r"great\s+\+0\.\d{4}", text) and re.search(r"dull\s+-0\.\d{4}", text)


def test_counterfactual_on_a_text_model_is_one_short_line(tmp_path, monkeypatch):
    monkeypatch.setenv("LUMOS_CACHE", str(tmp_path / "cache"))
    result = runner.invoke(app, ["counterfactual", "--model", "sentiment/tfidf"])
    assert result.exit_code == 1 and len(result.output) < 400 and result.output.count("\n") == 1
    assert "counterfactuals need a table model; sentiment/tfidf is a text model" in result.output


def test_counterfactual_takes_the_constraints_the_api_does(tmp_path, monkeypatch):
    from lumos.cli.counterfactual import constraints

    assert constraints("age, sex", None, ["age=18:65", "workclass=Private|State-gov"], ["education_num=increase"],
                       50) == {"min_count": 50, "immutable": ["age", "sex"],
                               "ranges": {"age": (18.0, 65.0), "workclass": ["Private", "State-gov"]},
                               "monotonic": {"education_num": "increase"}}
    assert constraints("none", None, [], [], 0)["immutable"] == []
    monkeypatch.setenv("LUMOS_CACHE", str(tmp_path / "cache"))
    result = runner.invoke(app, ["counterfactual", "--model", "tabular/german/logreg", "--row", "0", "--n", "2",
                                 "--method", "random", "--immutable", "none", "--monotonic", "age=increase"])
    assert result.exit_code == 0, result.output
    assert all(len(line) <= 80 for line in result.output.splitlines())  # readable at 80 columns
    bad = runner.invoke(app, ["counterfactual", "--model", "tabular/german/logreg", "--range", "age"])
    assert bad.exit_code == 1 and "FEATURE=VALUE" in bad.output


def test_a_misplaced_min_count_says_where_it_belongs():
    train = pd.DataFrame({"income": np.linspace(0, 10, 30), "job": ["a", "b", "c"] * 10})

    def model(d):
        p = 1 / (1 + np.exp(-(pd.DataFrame(d, columns=["income", "job"]).income.astype(float) - 5)))
        return np.stack([1 - p, p], axis=1)

    with pytest.raises(lumos.InputError, match=r"min_count is a constraint, not a setting of the genetic search: "
                                               r"pass constraints=\{'min_count': 5\}"):
        lumos.counterfactuals.explain(model, train.iloc[[0]], data=train, min_count=5)
    from lumos.bench.sections import section_of

    with pytest.raises(lumos.InputError, match=r"\[counterfactuals\] constraints = \{ min_count = 50 \}"):
        section_of("counterfactuals").run(model, None, {"rows": 1, "min_count": 50}, 0)


def test_bench_help_says_what_seed_and_methods_do():
    out = " ".join(runner.invoke(app, ["bench", "--help"]).output.replace("│", " ").split())
    assert "Seed (default: 0) of the example sample and of every random method and metric" in out
    assert 'or "all" (default): every method that applies to the model' in out and "--first" in out


def test_zoo_list_keeps_every_name_whole_at_80_columns():
    from lumos import zoo

    out = runner.invoke(app, ["zoo", "list"], env={"COLUMNS": "80"}).output
    assert all(len(line) <= 80 for line in out.splitlines())
    assert all(f" {name} " in out for name in zoo.names())  # never cut to "imagenet/efficientnet_li…"
