"""Report sections: one module per kind, registered as ``@register(kind, kind="section")``.

A section turns an analysis result (counterfactuals, robustness, natural-language explanations, ...) into
JSON data for the store (``payload``: no markup) and, when the report is rendered, into what its template
``report/sections/<kind>.html`` draws (``view``: markup built then from the data, every string escaped). A
section a bench spec can ask for also has ``run``. ``add_section`` stores any result under a run.
"""

from .base import Section, add_section, section_of

__all__ = ["Section", "add_section", "section_of"]
