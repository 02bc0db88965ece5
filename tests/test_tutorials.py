"""The course's four projects (docs/tutorials/*.py, jupytext plain-text notebooks) run start to finish, as a
student would run them, with the small settings LUMOS_TUTORIAL_QUICK=1 selects (the same code)."""

from __future__ import annotations

from pathlib import Path

import pytest

TUTORIALS = Path(__file__).resolve().parents[1] / "docs" / "tutorials"
NOTEBOOKS = sorted(p.name for p in TUTORIALS.glob("[0-9]_*.py"))


def test_there_are_four_projects():
    assert len(NOTEBOOKS) == 4, NOTEBOOKS


@pytest.mark.slow
@pytest.mark.timeout(900)
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_tutorial_runs(name, tmp_path, monkeypatch):
    jupytext = pytest.importorskip("jupytext")
    nbclient = pytest.importorskip("nbclient")
    monkeypatch.setenv("LUMOS_TUTORIAL_QUICK", "1")
    monkeypatch.setenv("LUMOS_TUTORIAL_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("LUMOS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    notebook = jupytext.read(TUTORIALS / name)
    client = nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(TUTORIALS)}})
    try:
        client.execute()
    except nbclient.exceptions.CellExecutionError as e:  # the failing cell and its traceback, not the kernel's log
        pytest.fail(f"{name}: {str(e)[-4000:]}")
    images = sum("image/png" in out.get("data", {}) for cell in notebook.cells if cell.cell_type == "code"
                 for out in cell.get("outputs", []))
    assert images >= 2, f"{name} drew {images} pictures"
