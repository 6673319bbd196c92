# The artifact's commands. `make reproduce` and `make test` are the two a new user types.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PROFILE ?= default
# On a CPU-only machine this picks the CPU build where a local wheel exists; GPU users pre-install
# their CUDA build into $(VENV) (see README) and setup keeps it (it must be this release).
TORCH_SPEC ?= torch==2.13.0
TEST_DIR := $(CURDIR)/_build/test

# Exact versions and sha256 hashes of every package `make setup` installs except torch (whose
# build, CPU or CUDA, depends on the machine): generated from pyproject.toml by `make lock`.
LOCK := requirements.lock
LOCK_EXTRAS := book test distributed
# The peer attack packages, locked and installed without the dependencies they declare (torchvision
# would pull another torch, torchattacks pins an old requests); what they import beyond
# pyproject's dependencies is PEER_IMPORTS. Same list as aslo.peers.PEERS_INSTALL (a test checks).
PEERS := adv-lib==0.2.8 torchattacks==3.5.1 foolbox==3.3.4 eagerpy==0.30.0
PEER_IMPORTS := scipy GitPython
# The lock is universal: Python 3.10 and newer, Linux, macOS and Windows (markers select the lines).
LOCK_PYTHON := 3.10
UV_VERSION := 0.13.9
LOCK_TOOLS := _build/lock
UV := $(LOCK_TOOLS)/venv/bin/uv
UV_COMPILE := UV_PYTHON_DOWNLOADS=never $(UV) pip compile --quiet --universal --python-version $(LOCK_PYTHON) \
	--prerelease disallow --default-index https://pypi.org/simple

.PHONY: setup lock test test-portability unit-test notebook-test reproduce book clean distclean

setup: $(VENV)/.installed

# torch first (kept if present; with what its build needs, e.g. a CUDA build's nvidia-* packages),
# then the lock, hash-checked and without dependency resolution (it holds no torch, so it never
# replaces the installed build; it moves torch's other dependencies to their locked versions),
# then the package itself. The check fails unless every locked package is installed at its locked
# version, torch is TORCH_SPEC's release and pip check finds nothing beyond the peers' left-out
# dependencies.
$(VENV)/.installed: pyproject.toml $(LOCK)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install --quiet "$(TORCH_SPEC)"
	$(PY) -m pip install --quiet --require-hashes --no-deps -r $(LOCK)
	$(PY) -m pip install --quiet --no-deps -e .
	$(PY) -m aslo.environment --check $(LOCK) --torch "$(TORCH_SPEC)"
	@touch $@

# Regenerate $(LOCK) from pyproject.toml (its dependencies and the extras above), the peers and
# TORCH_SPEC, with uv (installed from PyPI into $(LOCK_TOOLS) on first use). Current pins are kept
# where they still fit; `make lock LOCK_UPGRADE=--upgrade` moves everything to the newest allowed.
# torch is resolved (so its own dependencies are locked) but not written, and the packages only
# a CUDA build of torch needs (nvidia-*, cuda-*, triton) are excluded: they come with that build.
LOCK_UPGRADE ?=
lock: $(UV)
	@printf '%s\n' $(PEER_IMPORTS) > $(LOCK_TOOLS)/peer-imports.in
	@printf '%s\n' $(PEERS) > $(LOCK_TOOLS)/peers.in
	@echo "$(TORCH_SPEC)" > $(LOCK_TOOLS)/torch.txt
	$(UV_COMPILE) pyproject.toml $(LOCK_TOOLS)/peer-imports.in $(LOCK_EXTRAS:%=--extra %) -c $(LOCK_TOOLS)/torch.txt \
		--no-header --no-annotate -o $(LOCK_TOOLS)/with-cuda.txt
	@grep -Eo '^(nvidia-[^= ]+|cuda-[^= ]+|triton)==' $(LOCK_TOOLS)/with-cuda.txt | sed 's/==$$//' | sort -u > $(LOCK_TOOLS)/excludes.txt
	@rm -f $(LOCK_TOOLS)/main.txt && { test ! -f $(LOCK) || cp $(LOCK) $(LOCK_TOOLS)/main.txt; }
	$(UV_COMPILE) pyproject.toml $(LOCK_TOOLS)/peer-imports.in $(LOCK_EXTRAS:%=--extra %) -c $(LOCK_TOOLS)/torch.txt \
		--excludes $(LOCK_TOOLS)/excludes.txt --no-emit-package torch --generate-hashes $(LOCK_UPGRADE) \
		--custom-compile-command "make lock" -o $(LOCK_TOOLS)/main.txt
	$(UV_COMPILE) $(LOCK_TOOLS)/peers.in --no-deps --generate-hashes --no-header -o $(LOCK_TOOLS)/peers.txt
	@{ echo "# Installed by make setup with: pip install --require-hashes --no-deps -r $(LOCK), after torch"; \
	   echo "# ($(TORCH_SPEC), the build for the machine: not in this file, nor are the nvidia-*, cuda-* and"; \
	   echo "# triton packages a CUDA build brings). Universal: Python >= $(LOCK_PYTHON) on Linux, macOS and Windows,"; \
	   echo "# the markers select the lines. Regenerate with make lock; never edit by hand."; \
	   cat $(LOCK_TOOLS)/main.txt; \
	   echo "# The peer attack packages, without the dependencies they declare (their imports are locked above):"; \
	   cat $(LOCK_TOOLS)/peers.txt; } \
	 | sed -e 's|-r $(LOCK_TOOLS)/peer-imports.in|PEER_IMPORTS (Makefile)|' -e 's|-r $(LOCK_TOOLS)/peers.in|PEERS (Makefile)|' \
	 > $(LOCK).tmp && mv $(LOCK).tmp $(LOCK)
	@echo "$(LOCK): $$(grep -c '^[a-z0-9]' $(LOCK)) pinned lines, $$(grep -c -- '--hash=sha256:' $(LOCK)) hashes"

$(UV):
	@mkdir -p $(LOCK_TOOLS)
	$(PYTHON) -m venv $(LOCK_TOOLS)/venv
	$(LOCK_TOOLS)/venv/bin/python -m pip install --quiet "uv==$(UV_VERSION)"

# The notebooks only read stored results: the smoke grid is computed first (progress on the
# terminal), then nbval executes every notebook in this environment's Python (not whatever
# kernel is registered as "python3").
SMOKE_ENV := ASLO_PROFILE=smoke ASLO_RESULTS_DIR=$(TEST_DIR)/results ASLO_RUNS_DIR=$(TEST_DIR)/runs

test: setup
	$(PY) -m pytest tests
	$(SMOKE_ENV) $(VENV)/bin/aslo run --profile smoke
	$(SMOKE_ENV) $(PY) -m pytest --nbval-lax --nbval-current-env notebooks

# What another machine would see, on this one: the unit suite again with one thread (another
# summation order) and with the CPU kernels capped at AVX2 (other kernels). Both change float
# results here (benchmarks/results/float_portability.md); no test may depend on them.
ISA_CAP_ENV := ONEDNN_MAX_CPU_ISA=AVX2 ATEN_CPU_CAPABILITY=avx2 MKL_ENABLE_INSTRUCTIONS=AVX2

test-portability: setup
	OMP_NUM_THREADS=1 $(PY) -m pytest tests -q
	$(ISA_CAP_ENV) $(PY) -m pytest tests -q

reproduce: setup
	$(VENV)/bin/aslo book --profile $(PROFILE)

book: setup
	$(VENV)/bin/aslo book --profile $(PROFILE) --no-execute

clean:
	rm -rf _build book/executed .pytest_cache

distclean: clean
	rm -rf $(VENV) results runs *.egg-info
