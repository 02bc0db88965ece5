"""lumos.train end to end on tiny data: every task and base trains, is cached and listed, loads back by name or
folder with the same predictions, and is taken by explain, bench and influence with no further step. The
pieces it adds to the zoo's recipes have known answers: multi-class heads equal scikit-learn's, early stopping
keeps the best epoch, TracIn checkpoints stop with it, the fast frozen trunk computes the plain one's features,
and settings added later leave the zoo's cache keys alone."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image
from typer.testing import CliRunner

import lumos
from lumos.cli import app
from lumos.zoo import cache
from lumos.zoo.checkpoints import CheckpointRecorder
from lumos.zoo.heads import LinearHead, TreeHead
from lumos.zoo.image_recipes import CNNConfig
from lumos.zoo.training import EarlyStopping, config_key

runner = CliRunner()


@pytest.fixture(autouse=True)
def temp_cache(tmp_path, monkeypatch):
    monkeypatch.setenv(cache.ENV_VAR, str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture(scope="module")
def bars(tmp_path_factory):
    """Three classes of 12 x 12 RGB pictures told apart by where a bright bar lies (left, middle, right)."""
    root = tmp_path_factory.mktemp("img") / "bars"
    rng = np.random.default_rng(0)
    for k, name in enumerate(["left", "middle", "right"]):
        (root / name).mkdir(parents=True)
        for i in range(14):
            pixels = rng.integers(0, 60, (12, 12, 3), dtype=np.uint8)
            pixels[:, 4 * k:4 * k + 4] = 230
            Image.fromarray(pixels).save(root / name / f"{i}.png")
    return root


def _table(n: int = 150, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    colour = rng.choice(["red", "green", "blue"], n)
    label = np.where(colour == "red", "a", np.where(x > 0, "b", "c"))
    return pd.DataFrame({"x": x, "noise": rng.normal(size=n), "colour": colour, "label": label})


# ----- the pieces, with known answers -----------------------------------------------------------------------------
def test_multiclass_heads_match_scikit_learn():
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 4))
    y = (x[:, 0] > 0).astype(int) + (x[:, 1] > 0.5)
    hgb = HistGradientBoostingClassifier(max_iter=20, random_state=0).fit(x, y)
    np.testing.assert_allclose(TreeHead.from_sklearn(hgb).probs(x), hgb.predict_proba(x), rtol=1e-9, atol=1e-12)
    lr = LogisticRegression(max_iter=1000).fit(x, y)
    np.testing.assert_allclose(LinearHead.from_sklearn(lr).probs(x), lr.predict_proba(x), rtol=1e-9, atol=1e-12)
    binary = LogisticRegression().fit(x, y > 0)
    np.testing.assert_allclose(LinearHead.from_sklearn(binary).probs(x), binary.predict_proba(x), atol=1e-12)


def test_early_stopping_keeps_the_best_epoch_and_checkpoints_stop_with_it():
    layer = torch.nn.Linear(1, 1, bias=False)
    losses = iter([3.0, 2.0, 2.5, 2.7, 1.0])
    stopper = EarlyStopping(lambda m: next(losses), patience=2)
    recorder = CheckpointRecorder(epochs=6, keep=3)  # a state every 2nd epoch
    for epoch in range(1, 7):
        with torch.no_grad():
            layer.weight.fill_(epoch)
        recorder(layer, 0.1 * epoch)
        if stopper(layer):
            break
    assert (epoch, stopper.best_epoch, stopper.stopped) == (4, 2, True)
    stopper.restore(layer)
    assert layer.weight.item() == 2.0
    recorder.stop_at(stopper.best_epoch, layer)
    assert recorder.epochs_of == [2] and recorder.learning_rates == pytest.approx([0.1 + 0.2])
    late = CheckpointRecorder(epochs=6, keep=3)
    for epoch in range(1, 5):
        late(layer, 1.0)
    late.stop_at(3, layer)  # the state of epoch 2 stays; epoch 3 closes the record, standing for one epoch
    assert late.epochs_of == [2, 3] and late.learning_rates == [2.0, 1.0]


def test_checkpoints_without_non_persistent_buffers_take_them_from_the_network():
    from lumos.influence.data import network_state

    net = torch.nn.Linear(2, 1)
    net.register_buffer("ids", torch.arange(3), persistent=False)  # as BERT's position ids: never in a state_dict
    net.register_buffer("scale", torch.ones(1))
    checkpoint = {k: torch.zeros_like(v) for k, v in net.state_dict().items()}
    state = network_state(net, checkpoint)
    assert state["weight"].abs().sum() == 0 and state["scale"] == 0 and state["ids"].tolist() == [0, 1, 2]
    with pytest.raises(lumos.InputError, match=r"lacks the network's entries \['scale'\]"):
        network_state(net, {k: v for k, v in checkpoint.items() if k != "scale"})


def test_settings_added_later_leave_the_zoos_cache_keys_alone():
    assert config_key(CNNConfig(epochs=15, shift=2)) == {"seed": 0, "train_size": None, "eval_size": None,
                                                         "epochs": 15, "batch_size": 64, "lr": 2e-3,
                                                         "weight_decay": 1e-4, "width": 32, "shift": 2}
    assert config_key(CNNConfig(augment="flip"))["augment"] == "flip"


def test_the_fast_frozen_trunk_computes_the_plain_features():
    from lumos.zoo.transfer import Trunk, fast_trunk, network

    net = network(3, 64, seed=0, pretrained=True).eval()
    for start in (None, 14):
        trunk = Trunk(net.normalize, net.net, start).eval()
        fast = fast_trunk(trunk, 64)
        assert fast is not trunk  # batch norms folded in
        x = torch.rand(3, 3, 64, 64, generator=torch.Generator().manual_seed(1))
        with torch.no_grad():
            np.testing.assert_allclose(fast(x.contiguous(memory_format=torch.channels_last)).numpy(),
                                       trunk(x).numpy(), rtol=1e-3, atol=1e-4)


# ----- end to end -----------------------------------------------------------------------------------------------
def test_images_from_scratch_train_cache_list_and_load(bars, temp_cache):
    trained = lumos.train(bars, base="cnn", epochs=25, lr=5e-3, progress=False)
    model, splits = trained
    assert trained.name == "bars" and trained.labels == ["left", "middle", "right"]
    assert trained.record["rows"] == {"train": 36, "validation": 3, "test": 3}  # 14 per class: 12, 1, 1
    assert trained.record["metrics"]["test"]["accuracy"] == 1.0  # the bar's place is easy to learn
    assert splits["test"].columns.tolist() == ["image", "label", "path"] and splits["test"].image[0].shape == (3, 12,
                                                                                                             12)
    assert (temp_cache / "trained" / "bars" / "record.json").is_file()
    assert model.training_checkpoints is not None and trained.record["tracin_checkpoints"] >= 1
    assert lumos.training.names() == ["bars"]
    for ref in ("bars", temp_cache / "trained" / "bars"):
        again = lumos.training.load(ref)
        x = np.stack(again.splits["test"].image.to_list())
        np.testing.assert_allclose(again.model.predict_proba(x), model.predict_proba(x), atol=1e-6)
        assert again.record["run_id"] == trained.record["run_id"]
    same = lumos.train(bars, base="cnn", epochs=25, lr=5e-3, progress=False)  # the same call: from the cache
    assert same.record["run_id"] == trained.record["run_id"]


def test_transfer_learning_head_and_last_blocks(bars):
    head = lumos.train(bars, name="bars-head", epochs=15, lr=1e-2, resolution=32, progress=False)
    assert head.record["base"] == "efficientnet_lite0" and head.record["reader"]["channels"] == 3
    assert head.record["training"]["trained_parameters"] == 1280 * 3 + 3
    assert head.record["metrics"]["validation"]["accuracy"] >= 0.5
    last = lumos.train(bars, name="bars-last", finetune="last", blocks=1, epochs=2, resolution=32,
                       augment="flip,color", patience=None, progress=False)
    assert last.record["training"]["trained_parameters"] > 100_000
    ckpt = last.model.training_checkpoints
    assert len(ckpt.states) == 2 and set(ckpt.states[0]) == set(last.model.network.state_dict())
    frozen = "net._conv_stem.weight"  # not trained: every checkpoint holds the final (ImageNet) weights
    assert torch.equal(ckpt.states[0][frozen], last.model.network.state_dict()[frozen])
    assert not torch.equal(ckpt.states[0]["net._fc.weight"], ckpt.states[1]["net._fc.weight"])
    x = np.stack(last.splits["test"].image.to_list())
    e = lumos.explain(last.model, x[:2], method="gradcam")
    assert e[0].attributions.shape == (1, 12, 12)  # one map at the input resolution
    train = np.stack(last.splits["train"].image.to_list())[:6], last.splits["train"].label.to_numpy()[:6]
    influence = lumos.influence.explain(last.model, train, (x[:2], None), method="tracin")
    assert influence.scores.shape == (2, 6) and influence.params["n_checkpoints"] == 2


def test_tables_every_head_and_the_schema():
    frame = _table()
    for base in ("gbm", "logreg", "mlp"):
        trained = lumos.train(frame, task="table", base=base, name=f"t-{base}", immutable="x", progress=False)
        assert trained.labels == ["a", "b", "c"] and trained.record["metrics"]["test"]["accuracy"] >= 0.8, base
        assert trained.model.schema.categorical == ("colour",) and trained.model.schema.immutable == ("x",)
    rows = trained.splits["test"].drop(columns="label")
    np.testing.assert_allclose(trained.model.predict_proba(rows).sum(1), 1.0)
    assert "best_epoch" in trained.record["training"] and trained.record["tracin_checkpoints"] >= 1
    back = lumos.training.load("t-mlp")
    np.testing.assert_allclose(back.model.predict_proba(rows), trained.model.predict_proba(rows), atol=1e-7)


def test_text_tfidf_and_a_local_checkpoint(tmp_path, tiny_bert, tokenizer):
    words = {"sport": "match goal team", "food": "pasta bread soup", "music": "song guitar drums"}
    texts = [(f"the {w} was {w}", label) for label, ws in words.items() for w in ws.split() for _ in range(4)]
    frame = pd.DataFrame(texts, columns=["text", "topic"])
    tfidf = lumos.train(frame, base="tfidf", label_column="topic", min_df=1, progress=False)
    assert tfidf.labels == ["food", "music", "sport"] and tfidf.record["metrics"]["test"]["accuracy"] == 1.0
    assert tfidf.model.predict_proba(["the guitar"]).argmax() == 1
    shown = runner.invoke(app, ["explain", "the", "guitar", "solo", "--model", tfidf.name, "--json"])
    assert shown.exit_code == 0, shown.output
    record = json.loads(shown.output)  # lumos explain takes the trained text model by its name
    assert record["label"] == "music" and record["features"] == ["the", "guitar", "solo"]
    assert max(zip(record["attributions"], record["features"]))[1] == "guitar"
    tiny_bert.save_pretrained(tmp_path / "bert")
    tokenizer.save_pretrained(tmp_path / "bert")
    bert = lumos.train(frame, base=str(tmp_path / "bert"), label_column="topic", name="topics", epochs=1,
                       progress=False)
    assert bert.record["recipe"] == "own/text/minilm" and bert.model.predict_proba(["a song"]).shape == (1, 3)
    assert bert.record["settings"]["checkpoint"] == str((tmp_path / "bert").resolve())
    assert bert.record["tracin_checkpoints"] == 1
    train = (frame["text"].tolist()[:6], np.full(6, 2))  # "the match was match" ...: sport
    influence = lumos.influence.explain(bert.model, train, (["a song"], None), method="tracin", layers="last_layer")
    assert influence.scores.shape == (1, 6) and np.isfinite(influence.scores).all()
    np.testing.assert_allclose(lumos.training.load("topics").model.predict_proba(["a song"]),
                               bert.model.predict_proba(["a song"]), atol=1e-6)


def test_wrong_input_is_named():
    with pytest.raises(lumos.InputError, match="no table base 'xgboost'"):
        lumos.train(_table(), task="table", base="xgboost")
    with pytest.raises(lumos.InputError, match="no setting 'epoch'"):
        lumos.train(_table(), task="table", base="mlp", epoch=3)
    with pytest.raises(lumos.InputError, match="name is 1 to 64"):
        lumos.train(_table(), task="table", name="my/model")
    with pytest.raises(lumos.InputError, match="no config.json"):
        lumos.train(pd.DataFrame({"text": ["a", "b"] * 3, "label": [0, 1] * 3}), base="/tmp")
    with pytest.raises(lumos.InputError, match="not a zoo name, nor a model trained"):
        lumos.training.resolve("nothing-here")


# ----- the commands ---------------------------------------------------------------------------------------------
def test_cli_trains_lists_explains_counterfactuals_and_benches(tmp_path, monkeypatch):
    _table().to_csv(tmp_path / "colours.csv", index=False)
    out = runner.invoke(app, ["train", "--table", str(tmp_path / "colours.csv"), "--base", "logreg",
                              "--immutable", "x", "--protected", "colour", "--set", "C=2.0"])
    assert out.exit_code == 0, out.output
    assert "colours: own/table/logreg" in out.output and "test accuracy" in out.output
    monkeypatch.setattr(lumos.zoo, "names", lambda: [])  # the zoo's own rows are tests/test_zoo.py's
    listing = runner.invoke(app, ["zoo", "list"], env={"COLUMNS": "250"})
    assert "colours" in listing.output and "yours (lumos train): table, logreg, 3 classes" in listing.output

    # explain: the trained model by name gives lumos.explain's answer on the same row of its test split
    shown = runner.invoke(app, ["explain", "--row", "2", "--model", "colours", "--method", "occlusion", "--json"])
    assert shown.exit_code == 0, shown.output
    record = json.loads(shown.output)
    model, splits = lumos.training.load("colours")
    row = splits["test"].drop(columns="label").iloc[[2]]
    background = splits["train"][list(row.columns)].sample(min(50, len(splits["train"])), random_state=0)
    direct = lumos.explain(model, row, method="occlusion", background=background, progress=False)[0]
    assert record["features"] == ["x", "noise", "colour"] and record["label"] == direct.label
    np.testing.assert_allclose(record["attributions"], direct.attributions, atol=1e-9)

    # counterfactual: the trained model's schema (x immutable) holds without being passed again. A row of class c
    # (not red, x < 0) reaches a by turning red; b would need x > 0, and the search says x blocks it
    test = splits["test"].reset_index(drop=True)
    i = int(np.flatnonzero((test["colour"] != "red") & (test["x"] < -0.5)
                           & (model.predict_proba(test.drop(columns="label")).argmax(1) == 2))[0])

    def counterfactual(target: str) -> str:
        out = runner.invoke(app, ["counterfactual", "--model", "colours", "--row", str(i), "--n", "2", "--target",
                                  target, "--method", "random"], env={"COLUMNS": "200"})
        assert out.exit_code == 0, out.output
        return out.output

    to_a = counterfactual("a")
    assert "counterfactual(s) to a" in to_a and "no counterfactual" not in to_a
    table = [[c.strip() for c in line.strip("│").split("│")]
             for line in to_a.splitlines() if line.startswith("│")]
    cells = {row[0]: row[1:] for row in table}  # feature: original, cf 1, cf 2
    assert not any(c.endswith("*") for c in cells["x"]) and cells["colour"][1:] == ["red*", "red*"]
    assert "relaxing immutable feature 'x' makes it reachable" in counterfactual("b")

    # bench: a run over the trained model, stored with every example scored
    db = tmp_path / "runs.sqlite"
    benched = runner.invoke(app, ["bench", "--model", "colours", "--n", "6", "--methods", "occlusion,random",
                                  "--metrics", "comprehensiveness", "--db", str(db), "--no-report"])
    assert benched.exit_code == 0, benched.output
    from lumos.bench import Store

    with Store(db) as store:
        run = store.latest_run()
        scores = store.frame("scores", run)
        assert store.runs()["modality"].tolist() == ["tabular"]
    assert sorted(set(scores["method"])) == ["occlusion", "random"] and len(scores) == 2 * 6
    bad = runner.invoke(app, ["train", "--table", str(tmp_path / "colours.csv"), "--text", "x.csv"])
    assert bad.exit_code == 1 and "exactly one of --images" in bad.output


def test_cli_explains_an_image_file(bars, tmp_path):
    lumos.train(bars, base="cnn", name="bars-cli", epochs=2, progress=False)
    out = runner.invoke(app, ["explain", str(bars / "left" / "0.png"), "--model", "bars-cli", "--method", "saliency",
                              "--out", str(tmp_path / "heat.png")])
    assert out.exit_code == 0, out.output
    assert "bars-cli predicts" in out.output and "saliency explains it" in out.output
    assert Image.open(tmp_path / "heat.png").size[0] >= 12
    from lumos.bench.data import load

    data = load("bars-cli", "test", 3, first=True)  # what lumos bench reads: the pictures of the test split
    np.testing.assert_array_equal(data.inputs, np.stack(lumos.training.load("bars-cli").splits["test"].image))
