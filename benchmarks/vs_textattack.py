#!/usr/bin/env python
"""lumos's TextFooler-style attack beside TextAttack's (0.3.11), on the same model, sentences and budget.

Victim: the zoo's sentiment/minilm (MiniLM-L6 fine-tuned on Rotten Tomatoes), the first N sentences of its test
split with their true labels. Both sides take candidate words from the SAME table: the victim's whole-word input
embeddings (lowercase letters-only vocabulary entries, no "##" pieces, no stop words), unit-normalised, the
``max_candidates`` nearest by cosine with cosine >= ``min_similarity``; the same stop words (scikit-learn's
English list); no word changed twice; the same query budget per sentence (model rows, the first prediction
included); untargeted (success: the prediction leaves the true label; sentences already misclassified are
skipped). TextAttack runs its greedy word-importance search (``GreedyWordSwapWIR(wir_method="delete")``, as its
TextFooler recipe) with ``WordSwapEmbedding`` over a ``textattack.shared.WordEmbedding`` built from that table;
its stock recipe's counter-fitted GloVe vectors, Universal Sentence Encoder and part-of-speech tagger download
models and fail offline, so they are left out on both sides.

Rows: TextAttack; lumos with TextAttack's search settings (leave-one-out importance, nearest candidates first,
all of a word's candidates per round: a check that both implement the same search); lumos's default recipe
(gradient word ranking and candidate order from one gradient row, candidates tried 5 at a time, at most 10 per
word). TextAttack's HuggingFaceModelWrapper pads every batch to 512 tokens; a subclass pads to the batch's
longest instead (same outputs and queries, CPU times comparable). Queries are each library's own count;
``rows`` are the model's forward rows counted by a hook on the network (benchmarks/_rows.py), the same on both
sides.

TextAttack lives in its own virtual environment, .venv-textattack (git-ignored): ``pip install textattack`` did
not finish resolving in 12 minutes (flair's and datasets' pins against transformers 5), so ``--setup`` installs
it in steps (see ``ensure_textattack``); TextAttack needs NLTK's stop-word corpus at import, which this script
writes from scikit-learn's list into a temporary NLTK_DATA (NLTK's downloader needs the network).

Usage:  python benchmarks/vs_textattack.py [--n 100] [--budget 300] [--min-similarity 0.4] [--json out.json]
        python benchmarks/vs_textattack.py --setup      # only create .venv-textattack
A benchmark that prints tables, not a test; on a shared machine quote the ratios, not the seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parents[1]
STEPS = [  # the install that worked (pip's resolver over textattack's full requirements did not finish)
    ["torch==2.13.0", "transformers", "nltk", "numpy", "pandas", "scipy", "filelock", "editdistance",
     "lemminflect", "lru-dict", "terminaltables", "tqdm", "word2number", "num2words", "more-itertools",
     "Levenshtein", "requests"],
    ["--no-deps", "textattack==0.3.11"],
    ["flair", "jieba", "pinyin", "OpenHowNet", "language_tool_python", "bert-score"],
    ["datasets<4", "huggingface-hub<1"],  # flair pins transformers<5, whose hub is < 1
]


def ensure_textattack(venv: Path) -> Path:
    py = venv / "bin" / "python"
    if not py.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    if subprocess.run([str(py), "-c", "import textattack.search_methods"], capture_output=True,
                      env=dict(os.environ, NLTK_DATA=str(_nltk_data(Path(tempfile.mkdtemp()))))).returncode:
        for step in STEPS:
            subprocess.run([str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check", "-c",
                            str(ROOT / "constraints.txt"), *step], check=True)
    return py


def _nltk_data(folder: Path) -> Path:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    (folder / "corpora" / "stopwords").mkdir(parents=True, exist_ok=True)
    (folder / "corpora" / "stopwords" / "english").write_text("\n".join(sorted(ENGLISH_STOP_WORDS)) + "\n")
    return folder


# ----- the TextAttack side (runs in .venv-textattack; imports nothing from lumos) -------------------------------
def textattack_side(job_path: str, out_path: str) -> None:
    import numpy as np
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    import textattack
    from textattack.attack_results import FailedAttackResult, SkippedAttackResult, SuccessfulAttackResult
    from textattack.constraints.pre_transformation import RepeatModification, StopwordModification
    from textattack.constraints.semantics import WordEmbeddingDistance
    from textattack.goal_functions import UntargetedClassification
    from textattack.models.wrappers import HuggingFaceModelWrapper
    from textattack.search_methods import GreedyWordSwapWIR
    from textattack.shared import WordEmbedding
    from textattack.transformations import WordSwapEmbedding

    sys.path.insert(0, str(Path(__file__).parent))
    from _rows import ForwardRows

    torch.set_num_threads(1)
    job = json.loads(Path(job_path).read_text())
    work = Path(job["workdir"])
    model = AutoModelForSequenceClassification.from_pretrained(work / "model").eval()
    tok = AutoTokenizer.from_pretrained(work / "model")
    words = json.loads((work / "words.json").read_text())
    unit = np.load(work / "unit.npy")
    nn = np.load(work / "nn.npy")
    embedding = WordEmbedding(unit, {w: i for i, w in enumerate(words)}, dict(enumerate(words)), nn)
    class DynamicPadding(HuggingFaceModelWrapper):
        """TextAttack's wrapper pads every batch to 512 tokens; this one pads to the batch's longest (same
        outputs, same queries, a fairer CPU time)."""

        def __call__(self, text_input_list):
            enc = self.tokenizer(text_input_list, padding=True, truncation=True, return_tensors="pt")
            with torch.no_grad():
                return self.model(**enc).logits

    wrapper = DynamicPadding(model, tok)
    goal = UntargetedClassification(wrapper, query_budget=job["budget"])
    transformation = WordSwapEmbedding(max_candidates=job["max_candidates"], embedding=embedding)
    constraints = [RepeatModification(), StopwordModification(stopwords=set(job["stop_words"])),
                   WordEmbeddingDistance(embedding=embedding, min_cos_sim=job["min_similarity"])]
    attack = textattack.Attack(goal, constraints, transformation, GreedyWordSwapWIR(wir_method="delete"))
    rows = ForwardRows(model)
    out, start = [], time.process_time()
    for text, label in zip(job["sentences"], job["labels"]):
        before = rows.rows
        r = attack.attack(text, int(label))
        status = ("succeeded" if isinstance(r, SuccessfulAttackResult) else "skipped"
                  if isinstance(r, SkippedAttackResult) else "failed" if isinstance(r, FailedAttackResult) else "?")
        changed = len(r.original_result.attacked_text.all_words_diff(r.perturbed_result.attacked_text))
        out.append({"status": status, "queries": int(r.perturbed_result.num_queries), "rows": rows.rows - before,
                    "words_changed": changed, "perturbed": r.perturbed_result.attacked_text.text})
    Path(out_path).write_text(json.dumps({"examples": out, "cpu_seconds": time.process_time() - start,
                                          "version": getattr(textattack, "__version__", "0.3.11")}))


# ----- the lumos side -------------------------------------------------------------------------------------------
def summarise(name: str, examples: list[dict], cpu: float) -> dict:
    import numpy as np

    attacked = [e for e in examples if e["status"] != "skipped"]
    wins = [e for e in attacked if e["status"] == "succeeded"]
    return {"side": name, "attacked": len(attacked), "success_rate": len(wins) / max(len(attacked), 1),
            "queries_per_success": float(np.mean([e["queries"] for e in wins])) if wins else float("nan"),
            "rows_per_success": float(np.mean([e["rows"] for e in wins])) if wins else float("nan"),
            "queries_all": float(np.mean([e["queries"] for e in attacked])) if attacked else float("nan"),
            "words_changed": float(np.mean([e["words_changed"] for e in wins])) if wins else float("nan"),
            "max_queries": max((e["queries"] for e in examples), default=0), "cpu_seconds": cpu}


def lumos_side(model, texts: list[str], labels: list[int], budget: int, settings: dict) -> list[dict]:
    import lumos.robustness as rb
    from _rows import ForwardRows

    out = []
    hook = ForwardRows(model.network)
    result = rb.attack(model, texts, "textfooler", labels=labels, budget=budget, **settings)
    hook.remove()
    per_row = hook.rows / max(result.forward_rows, 1)  # 1.0 unless something bypassed the adapter's counter
    for e in result.examples:
        out.append({"status": e.status, "queries": e.queries, "rows": e.queries * per_row,
                    "words_changed": e.words_changed, "perturbed": e.perturbed})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--budget", type=int, default=300)
    ap.add_argument("--max-candidates", type=int, default=50)
    ap.add_argument("--min-similarity", type=float, default=0.4)
    ap.add_argument("--venv", default=str(ROOT / ".venv-textattack"))
    ap.add_argument("--json", default=None)
    ap.add_argument("--setup", action="store_true")
    ap.add_argument("--side", nargs=2, metavar=("JOB", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.side:
        return textattack_side(*args.side)
    py = ensure_textattack(Path(args.venv))
    if args.setup:
        return
    import numpy as np
    import torch

    import lumos
    from lumos.robustness.attacks import STOP_WORDS, vocabulary_of

    sys.path.insert(0, str(Path(__file__).parent))
    torch.set_num_threads(1)
    model, splits = lumos.zoo.load("sentiment/minilm", progress=False)
    test = splits["test"].iloc[:args.n]
    texts, labels = test.text.tolist(), test.label.astype(int).tolist()
    vocab = vocabulary_of(model)
    common = {"max_candidates": args.max_candidates, "min_similarity": args.min_similarity}
    print(f"# TextFooler-style attack, lumos vs TextAttack: sentiment/minilm, {len(texts)} test sentences "
          f"({np.mean([len(t.split()) for t in texts]):.1f} words on average), budget {args.budget} rows per "
          f"sentence, {args.max_candidates} candidates with cosine >= {args.min_similarity} from the victim's "
          f"{len(vocab.words)}-word embedding vocabulary; load average {os.getloadavg()[0]:.2f} at start", flush=True)
    with tempfile.TemporaryDirectory(prefix="vs_textattack_") as tmp:
        work = Path(tmp)
        model.network.save_pretrained(work / "model")
        model.tokenizer.save_pretrained(work / "model")
        (work / "words.json").write_text(json.dumps(vocab.words))
        np.save(work / "unit.npy", vocab.unit)
        sims_top = np.zeros((len(vocab.words), args.max_candidates + 1), dtype=np.int64)
        for lo in range(0, len(vocab.words), 2048):  # row i: i itself, then its nearest by cosine
            s = vocab.unit[lo:lo + 2048] @ vocab.unit.T
            s[np.arange(len(s)), np.arange(lo, lo + len(s))] = np.inf
            top = np.argpartition(-s, args.max_candidates + 1, axis=1)[:, :args.max_candidates + 1]
            order = np.argsort(-np.take_along_axis(s, top, 1), axis=1, kind="stable")
            sims_top[lo:lo + len(s)] = np.take_along_axis(top, order, 1)
        np.save(work / "nn.npy", sims_top)
        job = {"workdir": str(work), "sentences": texts, "labels": labels, "budget": args.budget,
               "stop_words": sorted(STOP_WORDS), **common}
        (work / "job.json").write_text(json.dumps(job))
        env = dict(os.environ, NLTK_DATA=str(_nltk_data(work / "nltk_data")), OMP_NUM_THREADS="1")
        print("TextAttack ...", flush=True)
        subprocess.run([str(py), __file__, "--side", str(work / "job.json"), str(work / "ta.json")], check=True,
                       env=env, cwd=str(work))
        ta = json.loads((work / "ta.json").read_text())
    rows = [summarise(f"TextAttack {ta['version']}", ta["examples"], ta["cpu_seconds"])]
    per_side = {rows[0]["side"]: ta["examples"]}
    same = dict(common, importance="leave_one_out", candidate_order="similarity", chunk_size=None, max_tries=None)
    for name, settings in (("lumos, TextAttack's search", same), ("lumos default", common)):
        print(f"{name} ...", flush=True)
        start = time.process_time()
        examples = lumos_side(model, texts, labels, args.budget, settings)
        rows.append(summarise(name, examples, time.process_time() - start))
        per_side[name] = examples
    print(f"\n| side | attacked | success rate | queries / success | model rows / success | queries / attacked "
          f"| words changed | most queries | CPU s |\n|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['side']} | {r['attacked']} | {r['success_rate']:.1%} | {r['queries_per_success']:.1f} | "
              f"{r['rows_per_success']:.1f} | {r['queries_all']:.1f} | {r['words_changed']:.2f} | {r['max_queries']} | "
              f"{r['cpu_seconds']:.0f} |")
    base = rows[0]
    for r in rows[1:]:
        print(f"\n{r['side']}: success {100 * (r['success_rate'] - base['success_rate']):+.1f} points vs TextAttack; "
              f"queries per success {r['queries_per_success'] / base['queries_per_success']:.2f}x TextAttack's; "
              f"CPU {r['cpu_seconds'] / base['cpu_seconds']:.2f}x")
    if args.json:
        Path(args.json).write_text(json.dumps({"summary": rows, "sentences": texts, "labels": labels,
                                               "examples": per_side}, indent=1))


if __name__ == "__main__":
    main()
