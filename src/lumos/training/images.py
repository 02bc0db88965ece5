"""Reading a user's images: a folder with one sub-folder per class (the ImageFolder layout) or a CSV of paths
and labels, decoded with Pillow into (C, S, S) float32 arrays in [0, 1].

Any size and mode: images are resized whole to S x S (no crop; bilinear, antialiased when shrinking);
transparent ones (RGBA, LA, palettes with transparency) are laid on white; 16-bit greys are scaled by their
range; EXIF orientation is applied; large JPEGs are decoded at a reduced scale when that still covers S.
Files that do not decode are reported by name.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from .files import read_frame, require_column
from .labels import encode_labels

EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".ppm", ".pgm")
GREY_MODES = ("1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F")
SHOWN = 10  # bad files named in an error


@dataclass
class ImageData:
    """``frame``: image (C, S, S) float32, label (class index), path (str); ``labels``: class names;
    ``info``: what the training record keeps (size, channels, skipped and ignored files)."""

    frame: pd.DataFrame
    labels: tuple[str, ...]
    info: dict = field(default_factory=dict)


def is_image(path: Path) -> bool:
    return path.suffix.lower() in EXTENSIONS and not path.name.startswith(".")


def folder_files(root: Path) -> tuple[list[Path], list[str], list[str]]:
    """(image paths, their class = sub-folder name, ignored files) of an ImageFolder layout; the sub-folders are
    searched recursively, hidden files and folders skipped."""
    classes = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    loose = [p.name for p in root.iterdir() if p.is_file() and not p.name.startswith(".")]
    if not classes:
        raise InputError(f"{root} has no sub-folders; images are read from one sub-folder per class "
                         f"({root}/cat/1.jpg, {root}/dog/2.jpg, ...), or from a CSV of paths and labels.")
    paths, labels, ignored = [], [], list(loose)
    empty = []
    for folder in classes:
        files = sorted(p for p in folder.rglob("*") if p.is_file()
                       and not any(part.startswith(".") for part in p.relative_to(folder).parts))
        images = [p for p in files if is_image(p)]
        ignored += [str(p.relative_to(root)) for p in files if not is_image(p)]
        if not images:
            empty.append(folder.name)
        paths += images
        labels += [folder.name] * len(images)
    if empty:
        raise InputError(f"class folder{'s' * (len(empty) > 1)} {', '.join(repr(e) for e in empty)} in {root} "
                         f"hold{'s' * (len(empty) == 1)} no images (files ending in {', '.join(EXTENSIONS)}). "
                         "Add images or remove the folder.")
    if len(classes) < 2:
        raise InputError(f"{root} has one class folder ({classes[0].name!r}); a classifier needs at least two "
                         "classes, one sub-folder each.")
    return paths, labels, ignored


def csv_files(path: Path, path_column: str, label_column: str) -> tuple[list[Path], pd.Series]:
    """(image paths, raw labels) from a table of paths (relative ones against the table's folder) and labels."""
    frame = read_frame(path)
    require_column(frame, path_column, "path", str(path))
    require_column(frame, label_column, "label", str(path))
    missing = np.flatnonzero(frame[path_column].isna().to_numpy())
    if len(missing):
        raise InputError(f"{path}: the path column {path_column!r} is empty in row {int(missing[0])}.")
    paths = [p if p.is_absolute() else path.parent / p for p in map(Path, frame[path_column].astype(str))]
    return paths, frame[label_column].reset_index(drop=True)


def header(path: Path) -> tuple[tuple[int, int], str] | str:
    """((width, height), mode) read from the file's header, or why it cannot be read."""
    from PIL import Image

    try:
        with Image.open(path) as img:
            return img.size, img.mode
    except FileNotFoundError:
        return "no such file"
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as e:
        return str(e) or type(e).__name__


def _plain(img, channels: int):
    """A decoded image in mode "RGB" (channels 3) or "L" (channels 1)."""
    from PIL import Image

    if img.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        arr = np.asarray(img, dtype=np.float64)
        top = 1.0 if img.mode == "F" and arr.max() <= 1.0 else 65535.0 if arr.max() > 255 else 255.0
        img = Image.fromarray(np.clip(np.round(arr / top * 255.0), 0, 255).astype(np.uint8), "L")
    if img.mode == "P":
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "RGBa", "La"):
        white = Image.new("RGBA", img.size, (255, 255, 255, 255))
        img = Image.alpha_composite(white, img.convert("RGBA"))
    return img.convert("RGB" if channels == 3 else "L")


def decode(path: Path, size: int, channels: int) -> np.ndarray:
    """One image file -> (channels, size, size) float32 in [0, 1]."""
    from PIL import Image, ImageOps

    with Image.open(path) as img:
        if img.format == "JPEG":
            img.draft("RGB" if channels == 3 else "L", (size, size))
        img = _plain(ImageOps.exif_transpose(img), channels)
        if img.size != (size, size):
            img = img.resize((size, size), Image.Resampling.BILINEAR)
        arr = np.asarray(img, dtype=np.float32) / 255.0
    return np.ascontiguousarray(arr[None] if channels == 1 else arr.transpose(2, 0, 1))


def default_size(sizes: list[tuple[int, int]], cap: int) -> int:
    """The median longer side of the images, between 8 and ``cap`` pixels."""
    return int(min(cap, max(8, np.median([max(s) for s in sizes]))))


def read_images(data: str | Path, *, label_column: str = "label", path_column: str = "path",
                size: int | None = None, channels: int | None = None, max_size: int = 224, skip_bad: bool = False,
                progress: bool = True) -> ImageData:
    """Images from a class-per-folder tree or a CSV of paths and labels.

    size: the side S every image is resized to (default: the median longer side, at most ``max_size``).
    channels: 3 (RGB) or 1 (grey); default 1 when every image is grey, else 3. skip_bad: leave out files that
    do not decode (with a warning naming them) instead of stopping with an error that names them.
    """
    from tqdm.auto import tqdm

    root = Path(data).expanduser()
    if not root.exists():
        raise InputError(f"no such folder or file: {root}. Pass a folder with one sub-folder per class, or a CSV "
                         "of image paths and labels.")
    if root.is_dir():
        paths, names, ignored = folder_files(root)
        raw_labels = pd.Series(names)
    else:
        paths, raw_labels = csv_files(root, path_column, label_column)
        ignored = []
    heads = [header(p) for p in tqdm(paths, desc="reading image headers", unit="image", disable=not progress,
                                     leave=False)]
    bad = {i: h for i, h in enumerate(heads) if isinstance(h, str)}
    good = [h for h in heads if not isinstance(h, str)]
    if not good:
        raise InputError(f"none of the {len(paths)} files in {root} decodes as an image; the first: "
                         f"{paths[0]} ({heads[0]}).")
    side = size or default_size([h[0] for h in good], max_size)
    if side < 4:
        raise InputError(f"size must be at least 4 pixels; got {side}.")
    chans = channels or (1 if all(h[1] in GREY_MODES for h in good) else 3)
    arrays: list[np.ndarray | None] = []
    for i, path in enumerate(tqdm(paths, desc="decoding images", unit="image", disable=not progress)):
        if i in bad:
            arrays.append(None)
            continue
        try:
            arrays.append(decode(path, side, chans))
        except (OSError, SyntaxError, ValueError) as e:
            bad[i] = str(e) or type(e).__name__
            arrays.append(None)
    skipped = [f"{paths[i]} ({why})" for i, why in sorted(bad.items())]
    if skipped and not skip_bad:
        raise InputError(f"{len(skipped)} of {len(paths)} files do not decode as images: "
                         f"{'; '.join(skipped[:SHOWN])}{' ...' if len(skipped) > SHOWN else ''}. Fix or remove "
                         "them, or pass skip_bad=True (lumos train --skip-bad) to leave them out.")
    if skipped:
        warnings.warn(f"left out {len(skipped)} files that do not decode as images: {'; '.join(skipped[:SHOWN])}"
                      f"{' ...' if len(skipped) > SHOWN else ''}", RuntimeWarning, stacklevel=2)
    keep = [i for i in range(len(paths)) if i not in bad]
    codes, labels = encode_labels(raw_labels.iloc[keep].reset_index(drop=True),
                                  label_column if not root.is_dir() else "folder", str(root))
    frame = pd.DataFrame({"image": [arrays[i] for i in keep], "label": codes,
                          "path": [str(paths[i]) for i in keep]})
    info = {"size": side, "channels": chans, "images": len(keep), "skipped": skipped, "ignored": ignored[:100],
            "ignored_count": len(ignored), "layout": "folders" if root.is_dir() else "csv"}
    return ImageData(frame, labels, info)


def reread(paths: list[str], size: int, channels: int) -> list[np.ndarray]:
    """The images a trained model's record names, decoded as they were for training."""
    out = []
    for p in paths:
        try:
            out.append(decode(Path(p), size, channels))
        except (OSError, SyntaxError, ValueError) as e:
            raise InputError(f"cannot read {p} again ({e}); the trained model's images must stay where they were "
                             "trained from. Train again with lumos.train, or put the file back.") from None
    return out
