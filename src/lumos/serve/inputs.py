"""Stored examples back into model inputs, and a person's edits (text, table cells, an uploaded image) into new
ones, checked with messages that say what to change."""

from __future__ import annotations

import io
import json
import math
from typing import Any, Mapping

import numpy as np
import pandas as pd

from ..errors import InputError
from ..report.render import decode_input
from .security import Refused, display_name

MAX_TEXT = 20_000  # characters of an edited text
MAX_PIXELS = 40_000_000  # an upload larger than this (decompressed) is refused before it is decoded
IMAGE_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "BMP": "image/bmp",
                 "WEBP": "image/webp"}


def decode(modality: str, raw: str) -> Any:
    """A stored ``examples.input`` -> the example: text (str), image ((C, H, W) float32) or table row (dict)."""
    if modality == "tabular":
        value = json.loads(raw)
        if not isinstance(value, dict):
            raise InputError(f"a stored table row must be a JSON object of column -> value; got {type(value).__name__}.")
        return value
    return decode_input(raw)


def batch_of(modality: str, value: Any) -> Any:
    """One example as what ``lumos.explain`` takes: [text], a 1-row DataFrame, or a (1, C, H, W) array."""
    if modality == "text":
        return [value]
    if modality == "tabular":
        return pd.DataFrame([value])
    return np.asarray(value, dtype=np.float32)[None]


def edited_text(value: Any) -> str:
    """The text of a what-if form, checked: non-empty, at most ``MAX_TEXT`` characters."""
    text = value if isinstance(value, str) else ""
    text = text.replace("\r\n", "\n").strip()
    if not text:
        raise InputError("the edited text is empty; type a sentence to see what the model makes of it.")
    if len(text) > MAX_TEXT:
        raise InputError(f"the edited text has {len(text):,} characters; the workbench takes at most {MAX_TEXT:,}.")
    return text


def edited_row(original: Mapping[str, Any], form: Mapping[str, Any]) -> dict[str, Any]:
    """The table row of a what-if form: each column's ``cell:<name>`` field parsed like the original value
    (numbers stay numbers, categories strings)."""
    row = {}
    for column, before in original.items():
        given = form.get(f"cell:{column}")
        if given is None:
            row[column] = before
            continue
        given = str(given).strip()
        if isinstance(before, bool) or not isinstance(before, (int, float)):
            row[column] = given
            continue
        try:
            number = float(given)
        except ValueError:
            raise InputError(f"column {column!r} takes a number (it was {before!r}); got {given[:40]!r}.") from None
        if not math.isfinite(number):
            raise InputError(f"column {column!r} takes a finite number; got {given[:40]!r}.")
        row[column] = int(number) if isinstance(before, int) and number.is_integer() else number
    return row


def uploaded_image(data: bytes, filename: str | None, content_type: str | None, shape: tuple[int, ...],
                   limit: int) -> np.ndarray:
    """An uploaded photo -> (C, H, W) float32 in [0, 1] of the run's input ``shape``, resized whole.
    Refused with a message when it is too large, not an image, of a format other than PNG/JPEG/GIF/BMP/WebP,
    too many pixels, or does not decode."""
    from PIL import Image, UnidentifiedImageError

    name = display_name(filename)
    if not data:
        raise Refused(400, f"{name}: the upload is empty; choose an image file (PNG or JPEG).")
    if len(data) > limit:
        raise Refused(413, f"{name} is {len(data) / 2**20:.1f} MB; the limit is {limit / 2**20:.1f} MB "
                           "(lumos serve --max-upload-mb). Send a smaller file.")
    if content_type and not content_type.startswith("image/") and content_type != "application/octet-stream":
        raise Refused(415, f"{name} was sent as {content_type[:60]}, not as an image; choose a PNG or JPEG file.")
    try:
        image = Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        raise Refused(415, f"{name} is not an image lumos can read; choose a PNG, JPEG, GIF, BMP or WebP file.") \
            from None
    if image.format not in IMAGE_FORMATS:
        raise Refused(415, f"{name} is a {image.format} image; the workbench takes PNG, JPEG, GIF, BMP or WebP.")
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise Refused(413, f"{name} is {width} x {height} pixels; the workbench takes at most "
                           f"{MAX_PIXELS // 1_000_000} million pixels.")
    try:
        image.load()
    except (OSError, ValueError, SyntaxError) as e:
        raise Refused(422, f"{name} could not be decoded ({e}); the file may be cut short or damaged.") from None
    channels, h, w = shape
    image = image.convert("L" if channels == 1 else "RGB").resize((w, h), Image.BILINEAR)
    array = np.asarray(image, dtype=np.float32) / 255.0
    return array[None] if channels == 1 else np.ascontiguousarray(array.transpose(2, 0, 1)[:channels])
