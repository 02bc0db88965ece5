"""The on-disk cache of trained zoo models.

Layout: ``<root>/<name>/<key>/`` holding ``weights.safetensors`` (every array, plus the JSON state as bytes)
and ``meta.json`` (data hash, seed, config, metrics, library versions, and the sha256 of the weights file).
An entry is written into a temporary folder and renamed into place whole, so a reader sees all of it or
nothing; readers check the sha256 and treat any mismatch as absent. ``<root>/<name>/<key>.lock`` serialises
trainers of the same entry across processes.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

ENV_VAR = "LUMOS_CACHE"
FORMAT = 1
WEIGHTS, META = "weights.safetensors", "meta.json"
STATE_KEY = "__state__"


def cache_root(override: str | os.PathLike | None = None) -> Path:
    """``override``, else $LUMOS_CACHE, else $XDG_CACHE_HOME/lumos, else ~/.cache/lumos."""
    if override is not None:
        return Path(override)
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "lumos"


def fingerprint(**parts: Any) -> str:
    """16 hex digits naming an entry: a hash of everything that determines the trained weights."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@dataclass(frozen=True)
class Slot:
    """One cache entry's place: ``directory`` (complete entries only) and its ``lock_path``."""

    directory: Path

    @property
    def lock_path(self) -> Path:
        return self.directory.with_name(self.directory.name + ".lock")

    def read(self, belongs: dict[str, Any] | None = None
             ) -> tuple[dict[str, np.ndarray], dict[str, Any], dict[str, Any]] | str:
        """(arrays, state, meta) of a complete, intact entry; otherwise a string saying why not.

        ``belongs``: meta fields the entry must hold with these values (name, config, data hash): another
        model's files copied or left in this place are reported, not loaded."""
        from safetensors.numpy import load_file

        meta_path, weights_path = self.directory / META, self.directory / WEIGHTS
        if not self.directory.exists():
            return "not cached"
        try:
            meta = json.loads(meta_path.read_text())
            expected = meta["sha256"][WEIGHTS]
        except (OSError, ValueError, KeyError, TypeError) as e:
            return f"unreadable {META} ({type(e).__name__}: {e})"
        if not isinstance(meta, dict):
            return f"unreadable {META} (not a JSON object)"
        if meta.get("format") != FORMAT:
            return f"cache format {meta.get('format')!r}, expected {FORMAT}"
        lacking = [k for k in ("metrics",) if k not in meta]
        if lacking:
            return f"{META} lacks {', '.join(lacking)}"
        for k, v in (belongs or {}).items():
            if json.dumps(meta.get(k), sort_keys=True, default=str) != json.dumps(v, sort_keys=True, default=str):
                return f"the files are another model's ({k} is {str(meta.get(k))[:80]!r}, expected {str(v)[:80]!r})"
        try:
            actual = sha256_file(weights_path)
        except OSError as e:
            return f"unreadable {WEIGHTS} ({e})"
        if actual != expected:
            return f"{WEIGHTS} is corrupt or partial (sha256 {actual[:12]}..., expected {str(expected)[:12]}...)"
        try:
            arrays = load_file(str(weights_path))
            state = json.loads(arrays.pop(STATE_KEY).tobytes().decode()) if STATE_KEY in arrays else {}
        except Exception as e:  # noqa: BLE001 - safetensors raises its own error types
            return f"unreadable {WEIGHTS} ({type(e).__name__}: {e})"
        return arrays, state, meta

    def write(self, arrays: dict[str, np.ndarray], state: dict[str, Any], meta: dict[str, Any]) -> None:
        """Write the entry whole, replacing any entry already there. Call it holding ``lock``."""
        from safetensors.numpy import save_file

        parent = self.directory.parent
        parent.mkdir(parents=True, exist_ok=True)
        tmp = parent / f".{self.directory.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp"
        tmp.mkdir()
        try:
            tensors = {k: np.ascontiguousarray(v) for k, v in arrays.items()}
            tensors[STATE_KEY] = np.frombuffer(json.dumps(state).encode(), dtype=np.uint8)
            save_file(tensors, str(tmp / WEIGHTS))
            meta = {**meta, "format": FORMAT, "sha256": {WEIGHTS: sha256_file(tmp / WEIGHTS)}}
            (tmp / META).write_text(json.dumps(meta, indent=2, sort_keys=True))
            for f in (WEIGHTS, META):
                with open(tmp / f, "rb+") as fh:
                    os.fsync(fh.fileno())
            if self.directory.exists():
                shutil.rmtree(self.directory)
            os.rename(tmp, self.directory)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)

    @contextlib.contextmanager
    def lock(self, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
        """Exclusive across processes; calls ``on_wait`` once if another process holds it."""
        from filelock import FileLock, Timeout

        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(self.lock_path))
        try:
            lock.acquire(timeout=0)
        except Timeout:
            if on_wait is not None:
                on_wait()
            lock.acquire()
        try:
            yield
        finally:
            lock.release()


def slot(root: Path, name: str, key: str) -> Slot:
    return Slot(root.joinpath(*name.split("/")) / key)
