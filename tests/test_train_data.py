"""lumos.train's readers and splits: images of any mode decoded to known pixel values, texts and tables read
from every format, stratified splits with exact counts, and the errors users meet (each says where and what to do).
No model is trained here (tests/test_train.py trains)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from PIL import Image

import lumos
from lumos.training.checkpoint import check_checkpoint
from lumos.training.images import decode, read_images
from lumos.training.labels import encode_labels
from lumos.training.split import stratified
from lumos.training.store import read_rows, write_rows
from lumos.training.tables import read_table
from lumos.training.text import read_texts


# ----- labels -----------------------------------------------------------------------------------------------------
def test_labels_are_sorted_classes_by_value_or_name():
    codes, names = encode_labels(pd.Series(["pos", "neg", "pos", "neutral"]), "label", "data")
    assert names == ("neg", "neutral", "pos") and codes.tolist() == [2, 0, 2, 1]
    codes, names = encode_labels(pd.Series([10, 2, 2, 10.0]), "label", "data")
    assert names == ("2", "10") and codes.tolist() == [1, 0, 0, 1]  # numbers by value, not as text
    codes, names = encode_labels(pd.Series([True, False, True]), "label", "data")
    assert names == ("False", "True") and codes.tolist() == [1, 0, 1]


@pytest.mark.parametrize("values, message", [
    ([1, "positive", 0], r"mixes types: 2 integer labels \(e.g. 1\), 1 string labels \(e.g. 'positive'\)"),
    (["a", None, "b", None], r"empty in rows 1, 3"),
    ([0.5, 1.5, 0.5], "fractional numbers"),
    (["spam", "spam"], "every row has the label 'spam'"),
])
def test_label_mistakes_say_where_and_what_to_do(values, message):
    with pytest.raises(lumos.InputError, match=message):
        encode_labels(pd.Series(values, dtype=object), "label", "data")


# ----- splits ---------------------------------------------------------------------------------------------------
def test_stratified_split_divides_every_class_in_the_same_proportions():
    labels = np.repeat([0, 1, 2], [100, 30, 7])
    split = stratified(labels, ["a", "b", "c"], (0.8, 0.1, 0.1), seed=0)
    counts = {(k, s): int(np.sum((labels == k) & (split == s))) for k in range(3) for s in ("train", "validation",
                                                                                            "test")}
    assert [counts[(0, s)] for s in ("train", "validation", "test")] == [80, 10, 10]
    assert [counts[(1, s)] for s in ("train", "validation", "test")] == [24, 3, 3]
    assert [counts[(2, s)] for s in ("train", "validation", "test")] == [5, 1, 1]  # at least one each
    np.testing.assert_array_equal(stratified(labels, ["a", "b", "c"], seed=0), split)
    assert np.mean(stratified(labels, ["a", "b", "c"], seed=1) != split) > 0.1


def test_a_class_too_small_to_split_is_named():
    with pytest.raises(lumos.InputError, match="class 'rare' has 2 examples; every class needs at least 3"):
        stratified(np.array([0, 0, 0, 0, 1, 1]), ["common", "rare"])
    with pytest.raises(lumos.InputError, match="fractions"):
        stratified(np.array([0, 1] * 5), ["a", "b"], (0.5, 0.5, 0.5))


# ----- images ---------------------------------------------------------------------------------------------------
def test_every_image_mode_decodes_to_known_pixels(tmp_path):
    red_half_clear = np.zeros((4, 4, 4), np.uint8)
    red_half_clear[..., 0], red_half_clear[..., 3] = 255, 128
    Image.fromarray(red_half_clear, "RGBA").save(tmp_path / "rgba.png")
    Image.fromarray(np.full((4, 4), 65535, np.uint16)).save(tmp_path / "grey16.png")
    Image.fromarray(np.full((6, 6), 51, np.uint8), "L").save(tmp_path / "grey.jpg", quality=100)
    palette = Image.fromarray(np.zeros((4, 4), np.uint8), "P")
    palette.putpalette([0, 0, 255] + [0] * 765)
    palette.save(tmp_path / "palette.gif")
    rgba = decode(tmp_path / "rgba.png", 4, 3)
    np.testing.assert_allclose(rgba[:, 0, 0], [1.0, 127 / 255, 127 / 255], atol=1 / 255)  # laid on white
    assert rgba.shape == (3, 4, 4) and rgba.dtype == np.float32
    np.testing.assert_allclose(decode(tmp_path / "grey16.png", 4, 1), 1.0)  # 16-bit scaled by its range
    np.testing.assert_allclose(decode(tmp_path / "grey.jpg", 3, 3), 51 / 255, atol=2 / 255)  # grey -> RGB
    np.testing.assert_allclose(decode(tmp_path / "palette.gif", 2, 3)[:, 0, 0], [0, 0, 1])


def _folder(root, classes: dict[str, int], size=(10, 14), mode="RGB"):
    rng = np.random.default_rng(0)
    for k, (name, n) in enumerate(classes.items()):
        (root / name).mkdir(parents=True)
        for i in range(n):
            pixels = (rng.random((size[1], size[0], 3)) * 80 + 60 * k).astype(np.uint8)
            Image.fromarray(pixels).convert(mode).save(root / name / f"{i}.png")
    return root


def test_image_folder_reads_classes_sizes_and_modes(tmp_path):
    root = _folder(tmp_path / "shapes", {"circle": 4, "square": 5})
    (root / "square" / "notes.txt").write_text("not an image")
    Image.fromarray(np.zeros((20, 20), np.uint8), "L").save(root / "circle" / "grey.png")  # mixed modes and sizes
    data = read_images(root, progress=False)
    assert data.labels == ("circle", "square") and len(data.frame) == 10
    assert data.info["size"] == 14 and data.info["channels"] == 3  # the median longer side; colour present
    assert {im.shape for im in data.frame.image} == {(3, 14, 14)}
    assert data.info["ignored"] == ["square/notes.txt"]
    grey = read_images(_folder(tmp_path / "grey", {"a": 3, "b": 3}, mode="L"), progress=False, size=8)
    assert grey.info["channels"] == 1 and grey.frame.image[0].shape == (1, 8, 8)


def test_image_csv_resolves_paths_against_its_folder(tmp_path):
    _folder(tmp_path / "pics", {"x": 3, "y": 3})
    rows = [{"file": f"pics/{c}/{i}.png", "kind": c} for c in "xy" for i in range(3)]
    pd.DataFrame(rows).to_csv(tmp_path / "labels.csv", index=False)
    data = read_images(tmp_path / "labels.csv", path_column="file", label_column="kind", progress=False)
    assert data.labels == ("x", "y") and data.frame.label.tolist() == [0, 0, 0, 1, 1, 1]


def test_image_mistakes_are_named(tmp_path):
    root = _folder(tmp_path / "a", {"cat": 3, "dog": 3})
    (root / "bird").mkdir()
    with pytest.raises(lumos.InputError, match="class folder 'bird' in .* holds no images"):
        read_images(root, progress=False)
    (root / "bird").rmdir()
    (root / "dog" / "broken.jpg").write_bytes(b"not a jpeg at all")
    with pytest.raises(lumos.InputError, match=r"1 of 7 files do not decode as images: .*broken.jpg .*skip_bad"):
        read_images(root, progress=False)
    with pytest.warns(RuntimeWarning, match="broken.jpg"):
        data = read_images(root, progress=False, skip_bad=True)
    assert len(data.frame) == 6 and "broken.jpg" in data.info["skipped"][0]
    one = _folder(tmp_path / "b", {"only": 3})
    with pytest.raises(lumos.InputError, match="one class folder \\('only'\\)"):
        read_images(one, progress=False)
    with pytest.raises(lumos.InputError, match="has no sub-folders"):
        read_images(root / "cat", progress=False)


# ----- text and tables ------------------------------------------------------------------------------------------
TEXTS = pd.DataFrame({"review": ["good", "bad", "fine", "great film", "awful"],
                      "stars": ["pos", "neg", "pos", "pos", "neg"]})


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_texts_read_the_same_from_every_format(tmp_path, suffix):
    path = tmp_path / f"reviews{suffix}"
    if suffix == ".csv":
        TEXTS.to_csv(path, index=False)
    elif suffix == ".jsonl":
        TEXTS.to_json(path, orient="records", lines=True)
    else:
        pytest.importorskip("pyarrow")
        TEXTS.to_parquet(path)
    data = read_texts(path, text_column="review", label_column="stars")
    assert data.frame.text.tolist() == TEXTS.review.tolist() and data.frame.label.tolist() == [1, 0, 1, 1, 0]
    assert data.labels == ("neg", "pos")


def test_text_mistakes_say_where(tmp_path):
    with pytest.raises(lumos.InputError, match=r"no label column 'label' \(name it with label_column=...\). Known: review, stars"):
        read_texts(TEXTS, text_column="review")
    holes = TEXTS.assign(review=["good", None, "fine", None, "x"])
    with pytest.raises(lumos.InputError, match=r"text column 'review' is empty \(NaN\) in rows 1, 3"):
        read_texts(holes, text_column="review", label_column="stars")
    (tmp_path / "mixed.jsonl").write_text("\n".join(json.dumps({"text": t, "label": l})
                                                    for t, l in [("a", 1), ("b", "one"), ("c", 0)]))
    with pytest.raises(lumos.InputError, match="mixes types"):
        read_texts(tmp_path / "mixed.jsonl")
    (tmp_path / "reviews.xlsx").write_bytes(b"PK")
    with pytest.raises(lumos.InputError, match="cannot tell the format of reviews.xlsx"):
        read_texts(tmp_path / "reviews.xlsx")


def test_tables_detect_categories_and_take_the_schema():
    frame = pd.DataFrame({"age": [30, 40, np.nan, 50, 60, 20], "city": ["a", "b", None, "a", "b", "a"],
                          "member": [True, False, True, True, False, False], "zip": [1, 2, 1, 2, 1, 2],
                          "id": range(6), "y": ["no", "yes"] * 3})
    data = read_table(frame, label_column="y", categorical="zip", immutable=["age"], protected="city", drop="id")
    schema = data.schema
    assert schema.features == ("age", "city", "member", "zip") and schema.categorical == ("city", "member", "zip")
    assert schema.categories["city"] == ("a", "b", "unknown") and schema.categories["member"] == ("False", "True")
    assert schema.immutable == ("age",) and schema.protected == ("city",) and schema.ranges["age"] == (20.0, 60.0)
    assert data.labels == ("no", "yes") and "id" not in data.frame
    with pytest.raises(lumos.InputError, match=r"immutable= names \['height'\]"):
        read_table(frame, label_column="y", immutable=["height"])
    with pytest.raises(lumos.InputError, match="no label column 'label'"):
        read_table(frame)


def test_rows_round_trip_exactly(tmp_path):
    frame = pd.DataFrame({"x": [0.1 + 0.2, np.nan, 1e-300], "s": ["a,b", "line\nbreak", "NA"], "label": [0, 1, 0]})
    write_rows(tmp_path / "rows.jsonl", frame)
    back = read_rows(tmp_path / "rows.jsonl")
    pd.testing.assert_frame_equal(back, frame)


# ----- checkpoints ----------------------------------------------------------------------------------------------
def test_a_folder_that_is_not_a_model_says_what_is_missing(tmp_path, tiny_bert, tokenizer):
    with pytest.raises(lumos.InputError, match="no such checkpoint folder"):
        check_checkpoint(tmp_path / "nowhere")
    (tmp_path / "file.bin").write_bytes(b"x")
    with pytest.raises(lumos.InputError, match="is a file, not a model folder"):
        check_checkpoint(tmp_path / "file.bin")
    with pytest.raises(lumos.InputError, match="no config.json"):
        check_checkpoint(tmp_path)
    tiny_bert.config.save_pretrained(tmp_path)
    with pytest.raises(lumos.InputError, match="no PyTorch weights"):
        check_checkpoint(tmp_path)
    tiny_bert.save_pretrained(tmp_path)
    with pytest.raises(lumos.InputError, match="no tokenizer files"):
        check_checkpoint(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    assert check_checkpoint(tmp_path) == tmp_path.resolve()
