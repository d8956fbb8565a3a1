# Every target builds .venv first when it is missing, so each works as the first command.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
QUICK ?= 0
export JAX_COMPILATION_CACHE_DIR := $(CURDIR)/.jax_cache
export BRAINLIKE_CACHE := $(CURDIR)/.jax_cache

EXPERIMENTS := loop_closure preexisting_b
# QUICK=1 writes beside the committed full-scale results, never over them
QUICK_FLAG := $(if $(filter 1,$(QUICK)),--quick --results results/quick --figures figures/quick,)

.PHONY: install test test-all bench figures redraw clean $(EXPERIMENTS)

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

test: install
	$(PY) -m pytest -q

test-all: install
	$(PY) -m pytest -q -m ''

bench: install
	$(PY) -m brainlike bench

figures: install
	$(PY) -m experiments $(EXPERIMENTS) $(QUICK_FLAG)

$(EXPERIMENTS): install
	$(PY) -m experiments $@ $(QUICK_FLAG)

redraw: install
	$(PY) -m experiments $(EXPERIMENTS) --redraw

clean:
	rm -rf $(VENV) .jax_cache
