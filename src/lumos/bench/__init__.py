"""``lumos bench``: explainers x metrics over a dataset, every result stored in SQLite."""

from .runner import run
from .sections import add_section
from .spec import BenchSpec
from .store import Store

__all__ = ["run", "BenchSpec", "Store", "add_section"]
