"""Evaluation metrics, one file each. The metric registry imports every module here on its first lookup, so
adding a metric is adding its file. ``lumos.catalog("metric")`` lists them."""

from ..deprecation import callable_module
from ..registry import METRICS

# ``lumos.metrics()`` listed the metrics before this name became only the package (one release)
callable_module(__name__, METRICS.describe, "lumos.metrics()", 'lumos.catalog("metric")')
