"""Zoo cache entries that read cleanly but do not belong (another model's files, an array missing) are
detected and retrained with a warning, as corrupt ones are."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

from lumos.zoo import cache, tables
from lumos.zoo.loader import load_with_meta

QUICK = {"train_size": 300, "eval_size": 100}
NAME = "tabular/compas/logreg"


@pytest.fixture(autouse=True)
def temp_cache(tmp_path, monkeypatch):
    monkeypatch.setenv(cache.ENV_VAR, str(tmp_path / "cache"))
    return tmp_path / "cache"


def entry_of(root, name):
    return next(p for p in root.joinpath(*name.split("/")).iterdir() if p.is_dir())


def test_an_entry_with_a_missing_array_is_retrained_with_a_warning(temp_cache):
    model, _, meta = load_with_meta(NAME, progress=False, **QUICK)
    rows = tables.compas().splits["test"].iloc[:10]
    entry = entry_of(temp_cache, NAME)
    arrays = load_file(str(entry / cache.WEIGHTS))
    dropped = sorted(k for k in arrays if k != cache.STATE_KEY)[0]
    del arrays[dropped]
    save_file(arrays, str(entry / cache.WEIGHTS))
    stored = json.loads((entry / cache.META).read_text())
    stored["sha256"][cache.WEIGHTS] = cache.sha256_file(entry / cache.WEIGHTS)  # intact, but incomplete
    (entry / cache.META).write_text(json.dumps(stored))
    with pytest.warns(RuntimeWarning, match=r"unusable: its files do not fit the recipe \(KeyError"):
        again, _, meta2 = load_with_meta(NAME, progress=False, **QUICK)
    assert meta2["run_id"] != meta["run_id"]
    np.testing.assert_allclose(again.predict_proba(rows), model.predict_proba(rows), atol=1e-12)


def test_another_models_files_in_the_entry_are_detected_and_retrained(temp_cache):
    _, _, meta = load_with_meta(NAME, progress=False, **QUICK)
    load_with_meta("tabular/german/logreg", progress=False, **QUICK)
    mine, other = entry_of(temp_cache, NAME), entry_of(temp_cache, "tabular/german/logreg")
    shutil.rmtree(mine)
    shutil.copytree(other, mine)  # intact files, sha256 and all, of the wrong model
    with pytest.warns(RuntimeWarning, match=r"the files are another model's \(name is 'tabular/german/logreg'"):
        _, _, meta2 = load_with_meta(NAME, progress=False, **QUICK)
    assert meta2["name"] == NAME and meta2["run_id"] != meta["run_id"]
    stored = json.loads((mine / cache.META).read_text())
    assert stored["name"] == NAME


def test_metadata_without_metrics_is_unusable_not_a_key_error(temp_cache):
    _, _, meta = load_with_meta(NAME, progress=False, **QUICK)
    entry = entry_of(temp_cache, NAME)
    stored = json.loads((entry / cache.META).read_text())
    del stored["metrics"]
    (entry / cache.META).write_text(json.dumps(stored))
    with pytest.warns(RuntimeWarning, match=r"meta.json lacks metrics"):
        _, _, meta2 = load_with_meta(NAME, progress=False, **QUICK)
    assert "metrics" in meta2
