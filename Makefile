# lava-thesis: `make demo` (the main job, offline) and `make test` (the whole suite).
# Both create/refresh the local virtual environment .venv first; a stamp keyed on the
# requirement files makes a re-run on an installed environment take seconds.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
REQS   := requirements/torch.txt requirements/runtime.txt requirements/lava.txt \
          requirements/test-peers.txt pyproject.toml
STAMP  := $(VENV)/.installed-$(shell cat $(REQS) | sha1sum | cut -c1-12)
PIP    := $(BIN)/python -m pip --disable-pip-version-check --no-input -q
SHARED_DATA := $(abspath ../shared/data)

.PHONY: install demo test lint bench report reproduce tutorials docs clean

install: $(STAMP)

# lava goes in last, with --no-deps; --no-warn-conflicts keeps pip from reporting lava-dl's
# torch<2.4 pin as an ERROR when a later install (a re-install, the docs extra) checks it.
$(STAMP): $(REQS)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "installing into $(VENV) (torch CPU, pinned runtime, lava-thesis, then lava-nc + lava-dl)..."
	$(PIP) install --no-warn-conflicts -r requirements/torch.txt
	$(PIP) install --no-warn-conflicts -r requirements/runtime.txt
	$(PIP) install --no-warn-conflicts -e '.[dev]'
	@echo "note: lava-nc 0.10.0 and lava-dl 0.6.0 go in last with --no-deps: their metadata pins torch<2.4 and Python<3.11, which lava_thesis/_compat.py makes unnecessary (requirements/lava.txt)"
	$(PIP) install --no-deps --ignore-requires-python -r requirements/lava.txt
	$(BIN)/python -c "import lava_thesis, lava.proc.lif.process, lava.lib.dl.slayer, lava.lib.dl.netx"
	@echo "test and benchmark peers (snnTorch, Norse: NIR clients; SpikingJelly: benchmark) with --no-deps: their metadata would replace our torch/numpy pins (requirements/test-peers.txt)"
	$(PIP) install --no-deps --no-warn-conflicts -r requirements/test-peers.txt
	$(BIN)/python -c "import snntorch.import_nir, norse.torch, spikingjelly.activation_based.neuron"
	@rm -f $(VENV)/.installed-*
	@touch $@

demo: $(STAMP)
	$(BIN)/lava-thesis demo

# Tests read the real development data from LAVA_THESIS_DATA (CI: ../shared/data); without it
# the tests that need it skip, except under CI=true, where a missing data directory is an error.
# --durations=20 lists the slowest tests at the end.
test: $(STAMP)
	@if [ -z "$$LAVA_THESIS_DATA" ] && [ -d "$(SHARED_DATA)" ]; then \
		export LAVA_THESIS_DATA="$(SHARED_DATA)"; fi; \
	$(BIN)/python -m pytest -q --durations=20

lint: $(STAMP)
	$(BIN)/ruff check .

# Benchmarks write results/bench_*.json (the peers come from requirements/test-peers.txt).
bench: $(STAMP)
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/diet_epoch.py
	$(BIN)/python benchmarks/stdp_throughput.py

report: $(STAMP)
	$(BIN)/lava-thesis report

# Re-runs every command recorded in results/*.json (from a clean tree; hours), then the report.
reproduce: $(STAMP)
	@if [ -z "$$LAVA_THESIS_DATA" ] && [ -d "$(SHARED_DATA)" ]; then \
		export LAVA_THESIS_DATA="$(SHARED_DATA)"; fi; \
	$(BIN)/lava-thesis reproduce && $(BIN)/lava-thesis report

# The docs site, offline and strict (a warning fails): installs the `docs` extra on first use.
docs: $(STAMP)
	@$(BIN)/python -c "import mkdocs, material, mkdocstrings, mkdocs_jupyter" 2>/dev/null || \
		$(PIP) install --no-warn-conflicts -e '.[docs]'
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

# Re-executes tutorials/*.ipynb at the demo size (shipped data) and stores them with outputs.
tutorials: $(STAMP)
	OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 $(BIN)/python tutorials/execute.py

clean:
	rm -rf $(VENV) out .pytest_cache .ruff_cache
