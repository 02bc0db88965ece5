"""lumos.artifacts: find dataset artifacts (spurious features a model can lean on) and plant known ones.

    from lumos import artifacts
    artifacts.statistics(train)                              # z-test of p(label | feature) against the prior
    artifacts.attributions(model, validation, method="occlusion")  # what the model uses, aggregated
    artifacts.partial_input(train)                           # what one feature alone predicts, held out
    artifacts.data_map(model, train)                         # training dynamics (train_on(..., dynamics=True))
    artifacts.influence_concentration(model, train, validation)
    artifacts.worst_slices(model, validation)                # through lumos.robustness.slices
    planted = artifacts.inject("sentiment", kind="token", strength=0.9, coverage=0.1, seed=0)

Every discoverer returns ``Findings``: candidates ranked best first, each with its evidence, effect size and a
one-line finding; ``.to_frame()``, ``.summary()``, ``.params``.
"""

from .attributions import attributions
from .data import Labelled, labelled
from .dynamics import data_map
from .edits import Edit, TokenEdit, ValueEdit, edit_for
from .features import tokens
from .influence import influence_concentration
from .inject import KINDS, Planted, inject
from .partial_input import partial_input
from .result import Candidate, Findings
from .slices import worst_slices
from .statistics import statistics

DISCOVERERS = {"statistics": statistics, "attributions": attributions, "partial_input": partial_input,
               "data_map": data_map, "influence": influence_concentration, "worst_slices": worst_slices}

__all__ = ["statistics", "attributions", "partial_input", "data_map", "influence_concentration", "worst_slices",
           "inject", "Planted", "KINDS", "Findings", "Candidate", "Edit", "TokenEdit", "ValueEdit", "edit_for",
           "tokens", "labelled", "Labelled", "DISCOVERERS"]
