# Every target builds .venv first when it is missing, so each works as the first command.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
QUICK ?= 0
export BRAINLIKE_CACHE := $(CURDIR)/.jax_cache

# every module in experiments/ is a figure: adding one is adding a file
EXPERIMENTS := $(sort $(basename $(notdir $(filter-out experiments/_%,$(wildcard experiments/*.py)))))
# QUICK=1 writes beside the committed full-scale results, never over them
QUICK_FLAG := $(if $(filter 1,$(QUICK)),--quick --results results/quick --figures figures/quick,)
# processes training side by side: a quick run is mostly compiling, which leaves a core idle in one process;
# a full run trains one figure at a time, so that each figure's time is its own
JOBS ?= $(if $(filter 1,$(QUICK)),2,1)
OUT_DIRS := $(if $(filter 1,$(QUICK)),results/quick figures/quick,results figures)
# the seed whose story loop_closure's page tells: a deceiving brainlike agent whose frozen probe went blind
INSPECT := inspect $(word 1,$(OUT_DIRS))/loop_closure --condition brainlike-noB-alpha0.3-rl_lr0.003 --seed 0
# the grpo seed tpr_cliff's page links to: the LLM analogue at TPR 0.5
INSPECT_LLM := inspect $(word 1,$(OUT_DIRS))/tpr_cliff --condition grpo-on-tpr0.5 --seed 0
# the episode the README shows: through the door, the alarm reading only the last step's score (kept once played)
INSPECT_EPISODE := inspect $(word 1,$(OUT_DIRS))/pooling --condition brainlike-last-a1.5 --seed 2 --episode --train

.PHONY: install test test-all suite-stats quick-time bench figures redraw pages clean $(EXPERIMENTS)

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

test: install
	$(PY) -m pytest -q -n auto

test-all: install
	$(PY) -m pytest -q -n auto -m ''

# the suite's size and time, kept in results/suite.json, and the README's sentence written from it
suite-stats: install
	BRAINLIKE_SUITE_STATS=$(CURDIR)/results/suite.json $(PY) -m pytest -q -n auto
	$(MAKE) pages

# make figures QUICK=1 timed twice into a compilation cache of its own (cold, then warm), kept in
# results/figures_time.json, and the README's sentence written from that file; on an otherwise idle machine
quick-time: install
	$(PY) -m experiments._quick_time
	$(MAKE) pages

bench: install
	$(PY) -m brainlike bench --out results/bench.json

figures: install
	$(PY) -m experiments $(EXPERIMENTS) $(QUICK_FLAG) --jobs $(JOBS)
	$(PY) -m brainlike $(INSPECT) --out $(word 2,$(OUT_DIRS))/inspect_example.png
	$(PY) -m brainlike $(INSPECT_LLM) --out $(word 2,$(OUT_DIRS))/inspect_grpo.png
	$(PY) -m brainlike $(INSPECT_EPISODE) --out $(word 2,$(OUT_DIRS))/inspect_episode.png
	$(if $(filter 1,$(QUICK)),,$(MAKE) pages)

$(EXPERIMENTS): install
	$(PY) -m experiments $@ $(QUICK_FLAG)

# the experiments whose full-scale results are committed
REDRAWABLE := $(filter $(EXPERIMENTS),$(patsubst results/%/summary.json,%,$(wildcard results/*/summary.json)))

redraw: install
	$(PY) -m experiments $(REDRAWABLE) --redraw
	$(PY) -m brainlike $(INSPECT) --out figures/inspect_example.png
	$(PY) -m brainlike $(INSPECT_LLM) --out figures/inspect_grpo.png
	$(PY) -m brainlike $(INSPECT_EPISODE) --out figures/inspect_episode.png
	$(MAKE) pages

# the gallery's pages and the README's generated blocks, from the committed results (no training)
pages: install
	$(PY) -m experiments $(REDRAWABLE) --pages docs/gallery

clean:
	rm -rf $(VENV) .jax_cache
