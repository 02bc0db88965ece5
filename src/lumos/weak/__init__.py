"""Weak supervision: label data with labeling functions (LFs), learn how accurate they are, train on the result.

    lfs = [weak.lexicon_lf("vader"), weak.keyword_lf(["masterpiece", "superb"], "positive"),
           weak.regex_lf(r"\\bnot (good|funny)\\b", "negative")]
    L = weak.apply_lfs(lfs, train_texts, labels=["negative", "positive"])
    weak.lf_summary(L, gold=dev_gold)                 # coverage, overlap, conflict, polarity, accuracy
    labels = weak.label_model("dawid_skene").fit(L)   # WeakLabels: .probs (N, K), .params, .to_frame()

Label models (``label_models()``): majority, weighted_majority, dawid_skene, matrix_completion, triplet.
"""

from .apply import apply_lfs
from .base import LABEL_MODELS, LabelModel, WeakLabels, label_model, label_models, register
from .builders import keyword_lf, regex_lf
from .dawid_skene import DawidSkene
from .diagnostics import class_coverage, lf_summary
from .explained import GlobalAttribution, global_attributions
from .lexicon import lexicon_lf, lexicon_score, load_lexicon
from .lf import LabelingFunction, labeling_function
from .majority import MajorityVote, WeightedMajorityVote
from .matrix import ABSTAIN, LabelMatrix
from .matrix_completion import MatrixCompletion
from .llm import llm_lf
from .model_lf import model_lf
from .synthetic import SyntheticTask, synthetic
from .triplet import Triplet

__all__ = ["ABSTAIN", "LabelMatrix", "LabelingFunction", "labeling_function", "keyword_lf", "regex_lf",
           "lexicon_lf", "lexicon_score", "load_lexicon", "model_lf", "llm_lf", "global_attributions",
           "GlobalAttribution", "apply_lfs", "lf_summary", "class_coverage", "label_model", "label_models",
           "register", "LABEL_MODELS", "LabelModel", "WeakLabels", "MajorityVote", "WeightedMajorityVote",
           "DawidSkene", "MatrixCompletion", "Triplet", "synthetic", "SyntheticTask"]
