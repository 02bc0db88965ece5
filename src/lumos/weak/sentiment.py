"""Ready-made LFs for English sentiment (movie reviews): lexicons, VADER's analyser behind a threshold,
praise and pan keywords, and regular expressions for negation and common review phrases.

They are a starting point to review and edit: ``lf.params`` shows each one's words or pattern. Their
accuracies on the Rotten Tomatoes snippets are in docs/weak-supervision.md.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .builders import keyword_lf, regex_lf
from .lexicon import lexicon_lf
from .lf import LabelingFunction
from .model_lf import model_lf
from .prototypes import Encoder, prototype_model

CLASSES = ("negative", "positive")
PRAISE = ("masterpiece", "superb", "wonderful", "delightful", "brilliant", "beautifully", "gem", "triumph",
          "charming", "engaging", "enjoyable", "fascinating", "remarkable", "powerful", "entertaining", "compelling",
          "gorgeous", "funny", "moving", "best", "terrific", "touching", "affecting", "thoughtful", "refreshing",
          "intelligent", "witty", "rich", "solid", "satisfying")
PANS = ("dull", "boring", "tedious", "mess", "worst", "bland", "pointless", "lifeless", "stupid", "waste",
        "mediocre", "unfunny", "tiresome", "predictable", "dreary", "incoherent", "lame", "flat", "awful", "bad",
        "fails", "tired", "forgettable", "clumsy", "mindless", "silly", "annoying", "shallow", "badly", "ugly")
PROTOTYPES = {"negative": ("a terrible movie, I hated it", "a boring, tedious film", "dull and pointless",
                           "one of the worst films of the year", "a stupid, unfunny, annoying mess"),
              "positive": ("a great movie, I loved it", "a wonderful, moving film", "brilliant and entertaining",
                           "one of the best films of the year", "a delightful, funny, charming movie")}
PATTERNS = {
    "regex_negated_praise": (r"\b(not|never|hardly|isn't|doesn't|wasn't|aren't|didn't)\s+(\w+\s+)?(good|funny|"
                             r"interesting|worth|much|very|particularly|enough|engaging|original|clever|compelling|"
                             r"entertaining)\b", "negative"),
    "regex_negated_pan": (r"\b(not|never|isn't|wasn't|n't)\s+(\w+\s+)?(bad|boring|dull|disappoint\w*)\b", "positive"),
    "regex_too": (r"\btoo\s+(long|slow|much|many|often|busy|silly|obvious|familiar|predictable|cute|sentimental|"
                  r"thin)\b", "negative"),
    "regex_failure": (r"\b(waste of|fails to|doesn't work|lacks|falls flat|run out of|wears out|nothing new|"
                      r"no reason)\b", "negative"),
    "regex_recommend": (r"\b(one of the (best|most|finest)|year's best|must[- ]see|worth (seeing|a look|watching)|"
                        r"don't miss|a treat)\b", "positive"),
}


def vader_model() -> Any:
    """VADER's analyser (its rules for negation, intensifiers and "but" included) as a lumos model over
    (negative, positive): p(positive) = (compound + 1) / 2."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    from ..models import wrap

    analyser = SentimentIntensityAnalyzer()

    def probs(texts: list[str]) -> np.ndarray:
        p = np.array([(analyser.polarity_scores(t)["compound"] + 1) / 2 for t in texts])
        return np.stack([1 - p, p], 1)

    return wrap(probs, labels=list(CLASSES))


def sentiment_lfs(column: str = "text", encode: Encoder | None = None,
                  calibration: Sequence[str] | None = None) -> list[LabelingFunction]:
    """Ten LFs voting "negative" / "positive": the VADER and AFINN word lists, VADER's analyser (margin
    0.6), praise and pan keyword lists, and five regular expressions (``PATTERNS``). With a sentence encoder
    ``encode`` (texts -> (B, D)), an eleventh: the zero-shot ``prototype_model`` of ``PROTOTYPES``
    (calibrated on ``calibration`` texts) behind a margin of 0.3."""
    extra = [] if encode is None else [model_lf(prototype_model(encode, PROTOTYPES, calibration=calibration),
                                                margin=0.3, name="prototypes", column=column)]
    return extra + [lexicon_lf("vader", name="lexicon_vader", column=column),
            lexicon_lf("afinn", threshold=2, name="lexicon_afinn", column=column),
            model_lf(vader_model(), margin=0.6, name="vader_analyser", column=column),
            keyword_lf(PRAISE, "positive", name="keywords_praise", column=column),
            keyword_lf(PANS, "negative", name="keywords_pans", column=column)] + \
        [regex_lf(pattern, target, name=name, column=column) for name, (pattern, target) in PATTERNS.items()]
