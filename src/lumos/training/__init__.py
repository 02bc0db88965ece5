"""lumos.training: your own data in, a lumos model out, ready for ``lumos.explain`` and ``lumos bench``.

    trained = lumos.train("photos/", base="efficientnet_lite0")    # a folder with one sub-folder per class
    model, splits = trained                                        # like lumos.zoo.load
    trained.record["metrics"]["validation"]["accuracy"], trained.name

Images (ImageFolder layout or a CSV of paths), texts (CSV / JSON Lines / Parquet) and tables are read, split by
class with a seed, and trained by the zoo's recipes for your own data (``lumos.zoo.own_recipes()``), then cached
under their name (``names()``; ``lumos zoo list`` shows them). ``load(name)`` brings one back.
"""

from .api import load, modality_of, names, resolve, train
from .result import TrainedModel

__all__ = ["train", "load", "names", "resolve", "modality_of", "TrainedModel"]
