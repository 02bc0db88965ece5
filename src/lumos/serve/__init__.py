"""``lumos serve``: a local web workbench over a run store, its models and methods.

    lumos serve --db lumos-runs/lumos.sqlite --model sentiment/tfidf

Runs (drawn by the report's own code), a data table with server-side paging, sorting, filters, full-text search
and slices; examples with several methods' explanations side by side, each with its own faithfulness scores;
what-if edits, counterfactuals, attacks, a language model's "why?", training-data influence; two runs compared;
long work as background jobs whose progress lives in the store. ``create_app`` gives the ASGI application,
``serve`` runs it with uvicorn (127.0.0.1 by default; any other address needs an access token).
"""

from .app import create_app, serve
from .workbench import Settings, Workbench

__all__ = ["create_app", "serve", "Settings", "Workbench"]
