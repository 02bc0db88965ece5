"""One error tree for lumos: every error says what was expected, what was received and how to fix it."""

from __future__ import annotations


class LumosError(Exception):
    """Base of every error lumos raises on purpose."""


class InputError(LumosError, ValueError):
    """The inputs, targets or parameters passed in are not usable."""


class ModelError(LumosError):
    """The model cannot be wrapped or returned something unusable."""


class UnsupportedError(LumosError):
    """The request is valid but this model or modality cannot do it (e.g. gradients of a black box)."""


class LumosWarning(UserWarning):
    """Something the user should know: a very large amount of work ahead, a fallback taken, or results that are
    computed but should not be trusted as they are (e.g. all-zero explanations)."""
