"""The section plug-in type and the one route from a result into a run's report."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from ... import registry
from ...version import __version__
from ..store import Store


class Section:
    """Base of every report section. Class attributes are its metadata (``lumos.catalog("section")``)."""

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    modalities: ClassVar[tuple[str, ...]] = ("text", "image", "tabular")

    def payload(self, result: Any, **context: Any) -> dict[str, Any]:
        """``result`` -> JSON-ready data for the store (numbers, plain strings, lists; never markup)."""
        raise NotImplementedError

    def view(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Stored data -> what the template draws; markup built here from the data (escaped), at render time."""
        return payload

    def run(self, model: Any, data: Any, settings: dict[str, Any], seed: int) -> Any:
        """The analysis a bench spec asks for with a table named after the section (``data``: BenchData)."""
        raise NotImplementedError(f"the {self.name} section cannot be asked for in a bench spec")

    @classmethod
    def info(cls) -> dict[str, Any]:
        return {"summary": cls.summary, "modalities": cls.modalities, "title": cls.title,
                "in_spec": cls.run is not Section.run}


def section_of(kind: str) -> Section:
    """The section plug-in for ``kind``; kinds without one of their own use the generic "tables" layout."""
    cls = registry.SECTIONS.get(kind) if kind in registry.SECTIONS else registry.SECTIONS.get("tables")
    return cls()


def add_section(db: str | Path, run_id: str, kind: str, result: Any, *, title: str | None = None,
                model_name: str = "given", split: str = "given", modality: str | None = None,
                labels: list[str] | None = None, seed: int = 0, **context: Any) -> str:
    """Store ``result`` as the ``kind`` section of ``run_id`` in the SQLite file ``db`` (the run is created
    when new: ``model_name``, ``split``, ``modality``, ``labels`` and ``seed`` describe it); returns the run id.
    ``context``: what the section's ``payload`` takes beside the result (e.g. ``inputs=`` for "nle")."""
    section = section_of(kind)
    payload = section.payload(result, **context)
    store = Store(db)
    try:
        store.ensure_run(run_id, {"model": model_name, "split": split, "seed": seed}, modality or "",
                         list(labels) if labels is not None else None, __version__)
        store.add_section(run_id, kind, title or section.title or kind, payload)
    finally:
        store.close()
    return run_id
