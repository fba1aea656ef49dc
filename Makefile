# Test tooling for the llmops.ollama collection (the repository root is the collection root).
#
#   make venv         .venv with the pinned dev tools (tests/requirements-dev.txt)
#   make sanity       ansible-test sanity --python $(PY)   (all tests, no ignore files)
#   make units        ansible-test units --venv --python $(PY)
#   make lint         antsibull-changelog lint + ansible-lint --profile production + .ci/run's self-test
#                     + the rig's own tests (pytest tests/rig)
#   make docs         antsibull-docs lint-collection-docs --plugin-docs + the docsite, built offline
#   make galaxy       build the tarball and run galaxy-importer on it (offline, ansible-test stage off)
#   make integration  tests/rig/rig.py up; ansible-test integration; rig.py down (always)
#   make test         what CI runs: sanity, units, lint, docs, galaxy, the CI matrix, the quick bench, each timed
#   make matrix       the full ansible-core x Ollama x Python cross product, real server, as a table
#   make demo         playbooks/demo.sh, if present
#   make bench        tools/bench.py on its own rig: timings, request counts, RSS (QUICK=1: the CI smoke run)
#   make clean        remove the staged copies under $(TMP)
#
# ansible-test must run from a real .../ansible_collections/llmops/ollama directory (not a
# symlink), so every target copies the tree (what git would commit, see tools/stage.sh) to
# $(TMP)/<target>/ansible_collections/llmops/ollama and runs there.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

PYTHON ?= python3
PY ?= 3.11
VENV ?= $(CURDIR)/.venv
REQS := tests/requirements-dev.txt
# One staging area per checkout, so two clones never share one.
TMP ?= /tmp/llmops-ollama-$(shell printf '%s' '$(CURDIR)' | cksum | cut -d' ' -f1)
NS := llmops
NAME := ollama
STAGE = $(TMP)/$@/ansible_collections/$(NS)/$(NAME)

# Stamp keyed on the requirements file's content (and the base python), so edits reinstall.
REQS_KEY := $(shell cat $(REQS) | cksum | cut -d' ' -f1)
STAMP := $(VENV)/.stamp-$(REQS_KEY)

BIN := $(VENV)/bin
export PATH := $(BIN):$(PATH)
export ANSIBLE_LINT_SKIP_SCHEMA_UPDATE := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1
# ansible-test --venv and the get-pip stand-in use pip; keep its cache outside the repo (default).

ANSIBLE_TEST_OPTS ?= -v --color no
# Plain output in CI logs (CI=true there); colours locally.
LINT_OPTS ?= $(if $(filter true 1,$(CI)),--nocolor)
RIG := tests/rig/rig.py

.PHONY: help venv get-pip sanity units lint docs galaxy integration test matrix matrix-ci demo bench bench-quick clean

help:
	@sed -n '3,14p' $(firstword $(MAKEFILE_LIST)) | sed 's/^# \{0,1\}//'

venv: $(STAMP)

$(STAMP): $(REQS)
	@if [ ! -x "$(BIN)/python" ] || ! "$(BIN)/python" -c 'import sys' 2>/dev/null; then \
	  echo "make venv: creating $(VENV) with $$($(PYTHON) --version)"; \
	  rm -rf "$(VENV)"; $(PYTHON) -m venv "$(VENV)"; \
	fi
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r $(REQS)
	@rm -f $(VENV)/.stamp-*
	@touch $@
	@echo "make venv: $(VENV) ready ($$($(BIN)/ansible --version | awk "NR==1"))"

# The get-pip download host used by ansible-test is unreachable here: install the stand-in.
get-pip: $(STAMP)
	@$(BIN)/python tools/install_get_pip.py --python $(PY)

sanity: get-pip
	@tools/stage.sh $(STAGE)
	@if ls $(STAGE)/tests/sanity/ignore-*.txt >/dev/null 2>&1; then \
	  echo "sanity: tests/sanity/ignore-*.txt must not exist (no ignore entries allowed)"; exit 1; fi
	cd $(STAGE) && ansible-test sanity --python $(PY) $(ANSIBLE_TEST_OPTS)

units: get-pip
	@tools/stage.sh $(STAGE)
	@cd $(STAGE) && $(CURDIR)/tools/units.sh $(PY) $(ANSIBLE_TEST_OPTS)

lint: $(STAMP)
	tools/ci-run-selftest.sh
	@tools/stage.sh $(STAGE)
	cd $(STAGE) && PYTHONDONTWRITEBYTECODE=1 python -m pytest -q -p no:cacheprovider tests/rig
	cd $(STAGE) && antsibull-changelog lint -v
	cd $(STAGE) && antsibull-changelog lint-changelog-yaml changelogs/changelog.yaml
	cd $(STAGE) && ANSIBLE_COLLECTIONS_PATH=$(TMP)/$@ ansible-lint --offline --profile production $(LINT_OPTS)

# The docsite lands in $(TMP)/docs/site/build/html (see tools/docsite.sh).
docs: $(STAMP)
	@tools/stage.sh $(STAGE)
	@tools/docsite.sh $(STAGE) $(TMP)/$@/site

galaxy: $(STAMP)
	@tools/galaxy-importer.sh $(STAGE)

integration: get-pip
	@tools/integration.sh $(STAGE) $(PY) $(ANSIBLE_TEST_OPTS)

# Runs every phase even when one fails, prints each duration, and ends with one plain line
# "summary: N passed, M failed" (N, M count phases). Exit status is non-zero if any failed.
test: $(STAMP)
	@tools/test-all.sh $(MAKE) sanity units lint docs galaxy matrix-ci bench-quick

# The matrix (tools/matrix.py): every cell stages its own copy and starts its own rig; MATRIX_OPTS adds
# options, e.g. MATRIX_OPTS='--jobs 2 --only core2.16'. Exit status is non-zero unless every cell ran and passed.
MATRIX_OPTS ?=
matrix: get-pip
	@$(BIN)/python tools/matrix.py full $(MATRIX_OPTS)

matrix-ci: get-pip
	@$(BIN)/python tools/matrix.py ci $(MATRIX_OPTS)

# Not pass/fail on timings (docs/performance.md): exit 1 only when a measured task failed. QUICK=1 runs N=3, one
# round, K=1 (CI's smoke run); BENCH_OPTS adds options, e.g. BENCH_OPTS='--pairs 5 --only converge,latest'.
QUICK ?=
BENCH_OPTS ?=
bench: $(STAMP)
	@$(BIN)/python tools/bench.py $(if $(filter 1 true yes,$(QUICK)),--quick) $(BENCH_OPTS)

# What make test runs: the bench in its quick mode, so it cannot rot; it fails only when a measured task failed,
# never on a timing.
bench-quick: $(STAMP)
	@$(BIN)/python tools/bench.py --quick $(BENCH_OPTS)

demo:
	@if [ -x playbooks/demo.sh ]; then playbooks/demo.sh; \
	elif [ -f playbooks/demo.sh ]; then bash playbooks/demo.sh; \
	else echo "make demo: playbooks/demo.sh does not exist yet"; exit 1; fi

clean:
	rm -rf $(TMP)
