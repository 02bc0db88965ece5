# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 3. Rationales: generate them, then grade them ERASER- and ferret-style
#
# A rationale is the part of the input that justifies a prediction. Explanation methods *generate* rationales
# (the top words of their attributions); the ERASER benchmark (DeYoung et al., 2020) and the ferret library
# (Attanasio et al., 2023) *grade* them two ways:
#
# * **faithfulness**: does the model itself rely on the rationale? *Comprehensiveness* (remove it: the
#   probability should fall) and *sufficiency* (keep only it: the probability should hold), at one size or
#   averaged over sizes (AOPC);
# * **plausibility**: does it match what a person marked? Token F1, IOU F1 and AUPRC against human rationales
#   in ERASER's format.
#
# No package ships human-annotated rationales, so we build a task whose true rationale is known by
# construction (`lumos.groundtruth.cue_word_task`): a real review gets a random label, and one cue word that
# decides it ("marvelously" for positive, "abysmally" for negative) is inserted at a random place. We store its
# rationale in ERASER's format and read it back with `lumos.eraser.load`, exactly as you would read the ERASER
# movie reviews or your own annotations.

# %%
# %matplotlib inline
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

import lumos

from lumos import plot  # matplotlib figures of explanations and results

QUICK = os.environ.get("LUMOS_TUTORIAL_QUICK") == "1"
WORK = Path(os.environ.get("LUMOS_TUTORIAL_DATA", "tutorial-data"))
N_TRAIN, N_TEST = (600, 12) if QUICK else (6000, 60)
BUDGET = 100 if QUICK else 500  # model calls per example for LIME and SHAP

# %% [markdown]
# ## A task with known rationales, stored in ERASER's format

# %%
from lumos.groundtruth import cue_word_task
from lumos.zoo.datasets import sentiment

snippets = sentiment().splits
train_rows = cue_word_task(snippets["train"]["text"].tolist()[:N_TRAIN], seed=0)
test_rows = cue_word_task(snippets["test"]["text"].tolist()[:4 * N_TEST], seed=1)
test_rows = test_rows[test_rows["has_cue"]].head(N_TEST).reset_index(drop=True)

eraser = WORK / "cue-words"
eraser.mkdir(parents=True, exist_ok=True)
with open(eraser / "docs.jsonl", "w") as f:
    for i, text in enumerate(test_rows["text"]):
        f.write(json.dumps({"docid": f"review{i}", "document": text}) + "\n")
with open(eraser / "test.jsonl", "w") as f:
    for i, row in test_rows.iterrows():
        start = int(np.flatnonzero(row["rationale"])[0])
        evidence = {"docid": f"review{i}", "start_token": start, "end_token": start + 1,
                    "text": row["text"].split()[start]}
        f.write(json.dumps({"annotation_id": f"review{i}", "classification": ["NEG", "POS"][row["label"]],
                            "query": "positive or negative?", "evidences": [[evidence]]}) + "\n")
examples = lumos.eraser.load(eraser, "test")
print(examples[0].text)
print("rationale:", [w for w, r in zip(examples[0].text.split(), examples[0].rationale) if r])

# %% [markdown]
# ## A classifier to explain
#
# TF-IDF and logistic regression, trained on the task with `lumos.train` (seconds). With `base="minilm"` the
# rest of the notebook runs unchanged, and integrated gradients joins the methods.

# %%
pd.DataFrame({"text": train_rows["text"], "label": np.where(train_rows["label"] == 1, "POS", "NEG")}).to_csv(
    WORK / "cue-words.csv", index=False)
trained = lumos.train(WORK / "cue-words.csv", base="tfidf", name="cue-words")
model = trained.model
trained

# %% [markdown]
# ## Generate rationales with four methods
#
# Leave-one-out (`occlusion`), LIME and kernel SHAP ask the model about texts with words removed; `random`
# is the floor every method must clear.

# %%
texts = [e.text for e in examples]
rationales = [e.rationale for e in examples]
explanations = {
    "leave-one-out": lumos.explain(model, texts, method="occlusion"),
    "lime": lumos.explain(model, texts, method="lime", n_samples=BUDGET),
    "kernel_shap": lumos.explain(model, texts, method="kernel_shap", n_samples=BUDGET),
    "random": lumos.explain(model, texts, method="random"),
}
plot.text(explanations["lime"][0])

# %% [markdown]
# ## Grade them
#
# One call per method scores faithfulness (ERASER's comprehensiveness and sufficiency at the top 20% of the
# words, and their AOPC over ferret's sizes 10%, 20%, ..., 100%) and plausibility (token F1 of the top 20%,
# IOU F1 of the spans, AUPRC of the scores) against the ERASER rationales.

# %%
metrics = ["comprehensiveness", "sufficiency", ("aopc_comprehensiveness", {"bins": "ferret"}),
           ("aopc_sufficiency", {"bins": "ferret"}), "token_f1", "iou_f1", "auprc"]
cache: dict = {}
graded = {m: lumos.evaluate(model, texts, e, metrics=metrics, rationales=rationales, cache=cache).mean()
          for m, e in explanations.items()}
table = pd.DataFrame(graded).T
table

# %%
axes = table[["comprehensiveness", "sufficiency", "token_f1", "auprc"]].T.plot.bar(figsize=(7, 3), rot=0)
axes.set_ylabel("mean over the test reviews")
axes.legend(frameon=False, fontsize=8);

# %% [markdown]
# ## What do the metrics say about which method suits which use?
#
# * **To debug the model** you need faithfulness: the rationale must be what the model uses. Look at
#   comprehensiveness (higher is better) and sufficiency (lower is better) and their AOPC versions, which do
#   not depend on one choice of size.
# * **To convince a person** you need plausibility: the rationale must be what they would mark. Token F1,
#   IOU F1 and AUPRC compare with the human (here: constructed) rationale.
# * Here the two coincide by construction: the cue word is both what decides the label and what is marked.
#   Real data breaks that: a model that learned an artifact has faithful rationales that are implausible,
#   and a method that returns the "sensible" words regardless of the model is plausible but unfaithful. That
#   is why ERASER reports both, and why `random` belongs in every table: a metric that does not separate a
#   method from random is not measuring it.
# * Cost matters too: leave-one-out needs one model call per word, LIME and SHAP `BUDGET` calls per text.
#
# Try it on your own annotations: write them as ERASER's `docs.jsonl` + `test.jsonl` (or pass boolean masks
# per word), and `lumos.evaluate(..., rationales=...)` does the rest.
