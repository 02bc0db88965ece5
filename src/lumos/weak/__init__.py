"""Weak supervision: label data with labeling functions (LFs), learn how accurate they are, train on the result.

    lfs = [weak.lexicon_lf("vader"), weak.keyword_lf(["masterpiece", "superb"], "positive"),
           weak.regex_lf(r"\\bnot (good|funny)\\b", "negative")]
    L = weak.apply_lfs(lfs, train_texts, classes=["negative", "positive"])
    weak.lf_summary(L_dev, labels=dev_gold)         # coverage, overlap, conflict, polarity, accuracy
    result = weak.label(L, method="dawid_skene")   # WeakLabels: .probs (N, K), .params, .to_frame()

Label models (``lumos.catalog("label_model")``): majority, weighted_majority, dawid_skene, matrix_completion,
triplet, stacked; each a module of ``weak/label_models/``. ``cross_fitted_votes``: LFs from a classifier on
another view of the data, trained on the weak labels out of fold.
"""

from .apply import apply_lfs
from .base import LabelModel, WeakLabels, label, register
from .builders import keyword_lf, regex_lf
from .diagnostics import class_coverage, lf_summary
from .explained import GlobalAttribution, global_attributions
from .label_models.dawid_skene import DawidSkene
from .label_models.majority import MajorityVote, WeightedMajorityVote
from .label_models.matrix_completion import MatrixCompletion
from .label_models.stacked import Stacked
from .label_models.triplet import Triplet
from .lexicon import lexicon_lf, lexicon_score, load_lexicon
from .lf import LabelingFunction, labeling_function
from .llm import llm_lf
from .matrix import ABSTAIN, LabelMatrix
from .model_lf import model_lf
from .prototypes import prototype_model
from .report import Comparison, WeakReport, compare, lf_table
from .sentiment import sentiment_lfs
from .synthetic import SyntheticTask, synthetic
from .views import cross_fitted_votes

__all__ = ["ABSTAIN", "LabelMatrix", "LabelingFunction", "labeling_function", "keyword_lf", "regex_lf",
           "lexicon_lf", "lexicon_score", "load_lexicon", "model_lf", "llm_lf", "global_attributions",
           "GlobalAttribution", "apply_lfs", "lf_summary", "class_coverage", "label", "register", "LabelModel",
           "WeakLabels", "MajorityVote", "WeightedMajorityVote", "DawidSkene", "MatrixCompletion", "Triplet",
           "Stacked", "cross_fitted_votes",
           "synthetic", "SyntheticTask", "compare", "Comparison", "WeakReport", "lf_table", "sentiment_lfs",
           "prototype_model"]
