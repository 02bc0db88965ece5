"""What every result object offers: ``params`` (every resolved setting, the seed included), ``to_frame()`` (its
table as a pandas DataFrame) and ``summary()`` (the headline figures as a dict of plain values)."""

from __future__ import annotations

from typing import Any

from .deprecation import warn


class Result:
    """Base of lumos's result objects; subclasses are dataclasses with a ``params`` field."""

    params: dict[str, Any]

    def to_frame(self) -> Any:
        """The result as a pandas DataFrame."""
        raise NotImplementedError

    def summary(self) -> dict[str, Any]:
        """The headline figures, as plain values."""
        raise NotImplementedError

    def table(self, *args: Any, **kwargs: Any) -> Any:
        """Deprecated: ``to_frame()`` (this returned a list of dicts on some results and a frame on others)."""
        warn(f"{type(self).__name__}.table()", f"{type(self).__name__}.to_frame()")
        return self.to_frame(*args, **kwargs)
