# The artifact's commands. `make reproduce` and `make test` are the two a new user types.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PROFILE ?= default
# On a CPU-only machine this picks the CPU build where a local wheel exists; GPU users pre-install
# their CUDA build into $(VENV) (see README) and setup keeps it.
TORCH_SPEC ?= torch==2.13.0
TEST_DIR := $(CURDIR)/_build/test

.PHONY: setup test unit-test notebook-test reproduce book clean distclean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install --quiet "$(TORCH_SPEC)"
	$(PY) -m pip install --quiet -e ".[book,test,distributed]"
	$(PY) -m pip install --quiet --no-deps "adv-lib==0.2.8" "torchattacks==3.5.1"
	@touch $@

# The notebooks only read stored results: the smoke grid is computed first (progress on the
# terminal), then nbval executes every notebook in this environment's Python (not whatever
# kernel is registered as "python3").
SMOKE_ENV := ASLO_PROFILE=smoke ASLO_RESULTS_DIR=$(TEST_DIR)/results ASLO_RUNS_DIR=$(TEST_DIR)/runs

test: setup
	$(PY) -m pytest tests
	$(SMOKE_ENV) $(VENV)/bin/aslo run --profile smoke
	$(SMOKE_ENV) $(PY) -m pytest --nbval-lax --nbval-current-env notebooks

reproduce: setup
	$(VENV)/bin/aslo book --profile $(PROFILE)

book: setup
	$(VENV)/bin/aslo book --profile $(PROFILE) --no-execute

clean:
	rm -rf _build book/executed .pytest_cache

distclean: clean
	rm -rf $(VENV) results runs *.egg-info
