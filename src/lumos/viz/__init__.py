"""lumos.viz: HTML and SVG from arrays, for notebooks, the report and the workbench alike.

A leaf of the package: it imports nothing of lumos, so every floor above can draw with it. Every string that
comes from data is escaped here.
"""

from .colors import NEGATIVE, POSITIVE, image_rgb, overlay, rgba
from .html import bars_view, image_view, legend, original_view, png_data_uri, text_view
from .svg import svg_curves

__all__ = ["rgba", "overlay", "image_rgb", "POSITIVE", "NEGATIVE", "text_view", "image_view", "original_view",
           "bars_view", "legend", "png_data_uri", "svg_curves"]
