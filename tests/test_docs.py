"""Documentation that runs: every code block in README.md and docs/*.md, in the order a reader meets them.

A fence's info string says what a block is:

- ```` ```python ````: run (the blocks of one file share a namespace, in a fresh working folder);
- ```` ```python slow ````: needs minutes as written (a model trained for minutes, hundreds of examples); run
  with the small settings of ``SMALL`` substituted (fewer examples, a zoo model trained briefly);
- ```` ```python no-run ````: an illustration with names the reader supplies; compiled, not run;
- ```` ```toml ````: parsed;
- ```` ``` ````, ```` ```bash ````, ```` ```console ````, ```` ```text ````: shell commands or output; left alone.
"""

from __future__ import annotations

import re
import tomllib
import warnings
from pathlib import Path

import pytest

from lumos import registry

ROOT = Path(__file__).parent.parent
FILES = [ROOT / "README.md"] + sorted((ROOT / "docs").glob("*.md"))
FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```[ \t]*$", re.M | re.S)
SHELL = {"", "bash", "console", "text", "sh", "shell"}
KINDS = {"python", "python slow", "python no-run", "toml"} | SHELL
# what a "python slow" block runs with here: the same calls, small (every zoo setting is part of its cache key)
SMALL = [('load("sentiment/minilm")', 'load("sentiment/minilm", epochs=1, train_size=64, eval_size=64)'),
         ('load("digits/cnn")', 'load("digits/cnn", epochs=1, train_size=400, eval_size=100, width=8)'),
         ("[:200]", "[:12]"), ("[:25]", "[:2]"), ("[:20]", "[:2]"), ("budget=200", "budget=20"),
         ("max_new_tokens=60", "max_new_tokens=8"), ("nle.explain(model, texts)", "nle.explain(model, texts, "
                                                                                   "max_new_tokens=8)"),
         ('method="occlusion", n=500)', 'method="occlusion", n=50)'),
         ('curate.robustify("sentiment/tfidf", planted)',
          'curate.robustify("sentiment/tfidf", planted, repairs=["augment"], attribution_rows=50)')]


def blocks(path: Path) -> list[tuple[int, str, str]]:
    """(line number, info string, code) of every fenced block."""
    text = path.read_text()
    return [(text[:m.start()].count("\n") + 1, m.group(1).strip(), m.group(2)) for m in FENCE.finditer(text)]


def small(code: str) -> str:
    """A slow block with the small settings substituted."""
    for old, new in SMALL:
        code = code.replace(old, new)
    return code


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_every_code_block_runs(path, tmp_path, monkeypatch):
    found = blocks(path)
    unknown = [(line, info) for line, info, _ in found if info not in KINDS]
    assert not unknown, f"{path.name}: mark each block as one of {sorted(KINDS)}; got {unknown}"
    monkeypatch.chdir(tmp_path)
    before = {kind: set(r.names()) for kind, r in registry.KINDS.items()}
    namespace: dict = {"__name__": "__docs__"}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for line, info, code in found:
                where = f"{path.name}:{line}"
                if info == "toml":
                    tomllib.loads(code)
                elif info == "python no-run":
                    compile(code, where, "exec", dont_inherit=True)
                elif info in ("python", "python slow"):
                    run = small(code) if info == "python slow" else code
                    assert info == "python" or run != code, f"{where}: marked slow, but no small setting applies"
                    exec(compile(run, where, "exec", dont_inherit=True), namespace)  # noqa: S102 (our docs)
    finally:  # plug-ins a page registers (design.md's my_method) must not leak into other tests
        for kind, r in registry.KINDS.items():
            for name in set(r.names()) - before[kind]:
                r.unregister(name)
