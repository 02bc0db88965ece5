"""lumos.artifacts: find dataset artifacts (spurious features a model can lean on) and plant known ones.

    from lumos import artifacts
    artifacts.statistics(train)                              # z-test of p(label | feature) against the prior
    artifacts.attributions(model, validation, method="occlusion")  # what the model uses, aggregated
    artifacts.partial_input(train, validation)               # what one feature alone predicts, held out
    artifacts.data_map(model, train)                         # training dynamics (train_on(..., dynamics=True))
    artifacts.influence_concentration(model, train, validation)
    artifacts.worst_slices(model, validation)                # through lumos.robustness.slices
    planted = artifacts.inject("sentiment", kind="token", strength=0.9, coverage=0.1, seed=0)

Every discoverer returns ``Findings``: candidates ranked best first, each with its evidence, effect size and a
one-line finding; ``.params``, ``.to_frame()``, ``.summary()``, ``.lines()``. The discoverers are the
"discoverer" plug-ins (``lumos.catalog("discoverer")``); a new one is one file in ``artifacts/discoverers/``.
"""

from .data import Labelled, labelled
from .discoverers.attributions import attributions
from .discoverers.data_map import data_map
from .discoverers.influence import influence_concentration
from .discoverers.partial_input import partial_input
from .discoverers.statistics import statistics
from .discoverers.worst_slices import worst_slices
from .edits import Edit, TokenEdit, ValueEdit, edit_for
from .features import tokens
from .inject import KINDS, Planted, contrast_splits, inject
from .result import Candidate, Findings

__all__ = ["statistics", "attributions", "partial_input", "data_map", "influence_concentration", "worst_slices",
           "inject", "contrast_splits", "Planted", "KINDS", "Findings", "Candidate", "Edit", "TokenEdit",
           "ValueEdit", "edit_for", "tokens", "labelled", "Labelled"]
