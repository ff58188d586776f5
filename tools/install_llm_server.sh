#!/bin/sh
# Install a real OpenAI-compatible completions server (llama-cpp-python's, CPU only) into its own virtualenv, for the
# HTTP-backend tests of spae.llm (tools/llm_server.py starts it). The C++ part is compiled once from the PyPI source
# package (several minutes on 2 cores) into a wheel cached in $SPAE_WHEEL_CACHE; later installs take seconds.
# Never fails the build: if it cannot install, it says why, writes the reason to $VENV.failed and exits 0, so that
# the tests that need the server skip with that reason.
#   usage: sh tools/install_llm_server.sh [PYTHON]        (env: SPAE_LLM_SERVER_VENV, SPAE_WHEEL_CACHE)
set -u
PYTHON=${1:-python3}
VERSION=0.3.36
VENV=${SPAE_LLM_SERVER_VENV:-.venv-llm-server}
WHEELS=${SPAE_WHEEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/spae/wheels}
STAMP=$VENV/.installed
FAILED=$VENV.failed

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "llama-cpp-python==$VERSION" ]; then
  echo "llm server: llama-cpp-python $VERSION already in $VENV"; exit 0
fi

fail() {
  echo "llm server: NOT installed: $1" >&2
  echo "$1" > "$FAILED"
  exit 0
}

rm -rf "$VENV" "$FAILED"
"$PYTHON" -m venv "$VENV" || fail "cannot create the virtualenv $VENV with $PYTHON"
mkdir -p "$WHEELS" || fail "cannot create the wheel cache $WHEELS"
if ! ls "$WHEELS"/llama_cpp_python-$VERSION-*.whl >/dev/null 2>&1; then
  for tool in cc c++; do  # cmake itself comes from PyPI if the system has none
    command -v $tool >/dev/null 2>&1 || fail "building llama-cpp-python needs a C/C++ compiler ($tool; Debian: apt-get install build-essential)"
  done
  echo "llm server: building llama-cpp-python $VERSION (CPU) into $WHEELS, once; this takes minutes"
  start=$(date +%s)
  log=$(mktemp)
  # Portable CPU build (no -march=native, so the cached wheel runs on any x86-64 with AVX2); only the libraries
  # the Python server needs: no llava/mtmd, tests, examples, tools or llama.cpp's own server.
  CMAKE_ARGS="-DGGML_NATIVE=OFF -DLLAVA_BUILD=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_CURL=OFF" \
  CMAKE_BUILD_PARALLEL_LEVEL=$(nproc 2>/dev/null || echo 2) \
    "$VENV/bin/python" -m pip wheel -q --no-deps --no-binary llama-cpp-python -w "$WHEELS" "llama-cpp-python==$VERSION" >"$log" 2>&1 \
    || { tail -20 "$log" >&2; fail "building llama-cpp-python $VERSION failed (log above; full log in $log)"; }
  echo "llm server: built in $(( $(date +%s) - start )) s"
fi
"$VENV/bin/python" -m pip install -q --find-links "$WHEELS" --only-binary llama-cpp-python \
    "llama-cpp-python[server]==$VERSION" || fail "pip could not install llama-cpp-python[server]==$VERSION into $VENV"
"$VENV/bin/python" -c "import llama_cpp.server.app" || fail "llama_cpp.server does not import in $VENV"
echo "llama-cpp-python==$VERSION" > "$STAMP"
echo "llm server: llama-cpp-python $VERSION installed in $VENV"
