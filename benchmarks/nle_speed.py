#!/usr/bin/env python
"""Generation speed of lumos.nle against the model's raw ``generate``, on the same prompts.

SmolLM2-135M-Instruct (the default generator), greedy, the "free" explanation prompts of ``--n`` sentences
of the zoo's sentiment test split, ``--tokens`` new tokens at most. Rows: the raw transformers ``generate``
one prompt at a time and in batches of ``--batch`` (left padding, the same code a user would write);
``LocalGenerator.generate`` (batched); ``lumos.nle.explain`` end to end (classifier, prompts, generation,
citations); the same through ``lumos.nle.serve`` and ``EndpointGenerator`` over HTTP on 127.0.0.1 (``--batch``
requests in flight, batched by the server). One warm-up call precedes the rows, which run in this order. Tokens
are the generated ones up to the end of each answer (padding excluded); every row should produce the same
texts as the raw batched call (the table counts the matches). The share of the machine other processes used is
printed per row: on a shared machine, compare ratios only.

Usage:  python benchmarks/nle_speed.py [--n 16] [--tokens 48] [--batch 8]
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

os.environ.setdefault("HF_HUB_OFFLINE", "1")
warnings.filterwarnings("ignore")

import torch  # noqa: E402

from _contention import Contention  # noqa: E402
from lumos import nle, zoo  # noqa: E402
from lumos.nle.prompts import fit, join_labels, load_template  # noqa: E402


def raw_generate(model, tokenizer, texts: list[str], tokens: int, batch: int) -> tuple[list[str], int]:
    """Plain transformers: chat-template strings -> (answers, generated tokens), ``batch`` at a time."""
    pad = tokenizer.pad_token_id
    answers, count = [], 0
    with torch.no_grad():
        for lo in range(0, len(texts), batch):
            enc = tokenizer(texts[lo:lo + batch], return_tensors="pt", padding=True, padding_side="left",
                            add_special_tokens=False)
            out = model.generate(**enc, max_new_tokens=tokens, do_sample=False, pad_token_id=pad)[
                :, enc["input_ids"].shape[1]:]
            count += int((out != pad).sum())
            answers += [tokenizer.decode(o, skip_special_tokens=True).strip() for o in out]
    return answers, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--n", type=int, default=16)
    parser.add_argument("--tokens", type=int, default=48)
    parser.add_argument("--batch", type=int, default=8)
    args = parser.parse_args()

    t0 = time.perf_counter()
    generator = nle.LocalGenerator(batch_size=args.batch)
    load_s = time.perf_counter() - t0
    classifier, splits = zoo.load("sentiment/minilm")
    sentences = [s for s in splits["test"]["text"] if 6 <= len(s.split()) <= 30][:args.n]
    probs = classifier.predict_proba(sentences)
    labels = classifier.labels
    template = load_template("free")
    prompts = [fit(template, s, {"label": labels[int(p.argmax())], "labels": join_labels(labels), "words": "",
                                 "explanation": ""}, generator, args.tokens).messages for s, p in zip(sentences, probs)]
    texts = [generator.render(m) for m in prompts]
    model, tokenizer = generator.model, generator.tokenizer

    raw_generate(model, tokenizer, texts[:args.batch], 4, args.batch)  # warm-up: the first call pays allocations
    rows = []

    def measure(name: str, run) -> None:
        with Contention() as busy:
            t = time.perf_counter()
            answers, count = run()
            seconds = time.perf_counter() - t
        rows.append((name, count, seconds, busy.share, answers))

    measure("raw generate, one prompt at a time", lambda: raw_generate(model, tokenizer, texts, args.tokens, 1))
    measure(f"raw generate, batches of {args.batch}", lambda: raw_generate(model, tokenizer, texts, args.tokens,
                                                                           args.batch))

    def local():
        out = generator.generate(prompts, args.tokens)
        return [c.text for c in out], sum(c.completion_tokens for c in out)

    def explain(gen):
        def run():
            expl = nle.explain(classifier, sentences, generator=gen, max_new_tokens=args.tokens)
            return [e.extras["text"] for e in expl], sum(e.extras["completion_tokens"] for e in expl)
        return run

    measure("lumos.nle LocalGenerator.generate", local)
    measure("lumos.nle.explain (local)", explain(generator))
    with nle.serve(generator, max_batch=args.batch) as server:
        endpoint = nle.EndpointGenerator(server.url, timeout=600, concurrency=args.batch)  # a full batch in flight
        measure("lumos.nle.explain via serve + EndpointGenerator", explain(endpoint))
        served = server.batch_sizes

    reference = rows[1][4]
    base = rows[0][1] / rows[0][2]
    print(f"SmolLM2-135M-Instruct (fp32 from Q4_1 GGUF, load {load_s:.1f} s), {len(sentences)} prompts, "
          f"<= {args.tokens} new tokens, greedy, torch threads {torch.get_num_threads()}")
    print(f"| {'how':<48} | tokens | seconds | tokens/s | vs one at a time | same texts as raw batched | "
          "other load |")
    print(f"|{'-' * 50}|-------:|--------:|---------:|-----------------:|:--------------------------|-----------:|")
    for name, count, seconds, share, answers in rows:
        same = sum(a == b for a, b in zip(answers, reference))
        print(f"| {name:<48} | {count:>6} | {seconds:>7.1f} | {count / seconds:>8.1f} | "
              f"{count / seconds / base:>15.2f}x | {f'{same}/{len(reference)}':<25} | {share:>10.0%} |")
    print(f"the server ran {sum(served.values())} generate calls; requests per call: {dict(sorted(served.items()))}")


if __name__ == "__main__":
    main()
