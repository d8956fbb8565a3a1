# Every target builds .venv first when it is missing, so each works as the first command.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
QUICK ?= 0
export JAX_COMPILATION_CACHE_DIR := $(CURDIR)/.jax_cache
export BRAINLIKE_CACHE := $(CURDIR)/.jax_cache

.PHONY: install test test-all bench figures clean

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

clean:
	rm -rf $(VENV) .jax_cache
