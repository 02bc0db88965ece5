"""``python -m lumos.cli``: the same as the ``lumos`` command."""

from . import app

app()
