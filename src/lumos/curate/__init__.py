"""lumos.curate: repair a training set (augment, reweight, filter), then retrain and measure.

    from lumos import curate
    context = curate.RepairContext(model=model, findings=lumos.artifacts.statistics(train))
    repaired = curate.get("augment")()(train, context)     # or "jtt", "group_balance", "confident_learning", ...
    repaired.train, repaired.sample_weight, repaired.summary()

A repair is any object with ``name`` and ``__call__(train, context) -> Repaired``; ``@register(name)`` adds one.
"""

from .base import Repair, RepairContext, Repaired, build, get, names, register

__all__ = ["Repaired", "Repair", "RepairContext", "register", "get", "names", "build"]

from .loop import DEFAULT_REPAIRS, discover, robustify  # noqa: E402
from .measure import Measurement, measure  # noqa: E402
from .result import Outcome, Robustified  # noqa: E402

__all__ += ["robustify", "discover", "DEFAULT_REPAIRS", "Measurement", "measure", "Outcome", "Robustified"]
