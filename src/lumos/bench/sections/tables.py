"""The generic section: lines of text and tables, for any kind without a layout of its own."""

from __future__ import annotations

from typing import Any

from ...errors import InputError
from ...registry import register
from .base import Section


@register("tables", kind="section")
class TablesSection(Section):
    """``result``: {"text": [paragraph, ...], "tables": [{"caption", "columns", "rows"}, ...]}, stored as is;
    the template escapes every value."""

    summary = "Paragraphs and tables of any analysis."

    def payload(self, result: Any, **context: Any) -> dict[str, Any]:
        if not isinstance(result, dict):
            raise InputError(f"a tables section takes a dict with 'text' and 'tables'; got {type(result).__name__}.")
        return dict(result)
