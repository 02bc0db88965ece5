"""Natural-language explanations as bench methods, "nle:<style>", from the spec's ``nle`` settings: they are
explained, scored, stored and reported like the attribution methods (their attributions mark the cited words)."""

from __future__ import annotations

from typing import Any

from ..errors import InputError
from ..explanation import Explanations

PREFIX = "nle:"
OWN_KEYS = ("styles", "endpoint", "endpoint_model")  # the rest of the settings are lumos.nle.explain keywords


def method_names(settings: dict[str, Any], modality: str) -> list[str]:
    """["nle:<style>", ...] for the spec's ``nle`` settings (empty: none); checked before anything runs."""
    if not settings:
        return []
    from ..nle import STYLES

    if modality != "text":
        raise InputError(f"the bench spec asks for natural-language explanations, which need a text model; this "
                         f"is a {modality} model. Remove the nle table from the spec.")
    styles = settings.get("styles", ["free"])
    styles = [styles] if isinstance(styles, str) else list(styles)
    unknown = [s for s in styles if s not in STYLES]
    if unknown or not styles:
        raise InputError(f"nle styles {unknown or styles} are not known; use some of {', '.join(STYLES)}.")
    return [PREFIX + s for s in styles]


def explain_nle(model: Any, inputs: list[str], method: str, settings: dict[str, Any], seed: int) -> Explanations:
    """The natural-language explanations of ``inputs`` in the style that ``method`` names."""
    from ..nle import EndpointGenerator, explain

    url = settings.get("endpoint")
    generator = EndpointGenerator(url, settings.get("endpoint_model", "default")) if url else None
    keywords = {k: v for k, v in settings.items() if k not in OWN_KEYS}
    return explain(model, inputs, generator=generator, method=method[len(PREFIX):], seed=seed, **keywords)
