# lava-thesis: `make demo` (the main job, offline) and `make test` (the whole suite).
# Both create/refresh the local virtual environment .venv first; a stamp keyed on the
# requirement files makes a re-run on an installed environment take seconds.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
REQS   := requirements/torch.txt requirements/runtime.txt requirements/lava.txt pyproject.toml
STAMP  := $(VENV)/.installed-$(shell cat $(REQS) | sha1sum | cut -c1-12)
PIP    := $(BIN)/python -m pip --disable-pip-version-check --no-input -q
SHARED_DATA := $(abspath ../shared/data)

.PHONY: install demo test lint bench report clean

install: $(STAMP)

$(STAMP): $(REQS)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "installing into $(VENV) (torch CPU, lava-nc, lava-dl, lava-thesis)..."
	$(PIP) install -r requirements/torch.txt
	$(PIP) install -r requirements/runtime.txt
	$(PIP) install --no-deps --ignore-requires-python -r requirements/lava.txt
	$(PIP) install -e '.[dev]'
	$(BIN)/python -c "import lava_thesis, lava.proc.lif.process, lava.lib.dl.slayer, lava.lib.dl.netx"
	@rm -f $(VENV)/.installed-*
	@touch $@

demo: $(STAMP)
	$(BIN)/lava-thesis demo

# Tests read the real development data from LAVA_THESIS_DATA (CI: ../shared/data).
test: $(STAMP)
	@if [ -z "$$LAVA_THESIS_DATA" ] && [ -d "$(SHARED_DATA)" ]; then \
		export LAVA_THESIS_DATA="$(SHARED_DATA)"; fi; \
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .

# Benchmarks write results/bench_*.json. snnTorch is installed here only, for the comparison.
bench: $(STAMP)
	$(BIN)/python -c "import snntorch" 2>/dev/null || $(PIP) install --no-deps snntorch==1.0.0
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/diet_epoch.py
	$(BIN)/python benchmarks/stdp_throughput.py

report: $(STAMP)
	$(BIN)/lava-thesis report

clean:
	rm -rf $(VENV) out .pytest_cache .ruff_cache
