"""Pytest fixture `llm_server_url`: a real OpenAI-compatible server (llama-cpp-python) on the packaged SmolLM2 GGUF.

Import it from tests/conftest.py (`from conftest_llm_server import llm_server_url`). It starts the server once per
session on 127.0.0.1 and a free port and yields the base URL ending in /v1. If the server is not installed
(`make llm-server`) or cannot start, the tests that use it are skipped with the reason, which `pytest -rs` prints.
"""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent/'tools'))
import llm_server  # noqa: E402


@pytest.fixture(scope='session')
def llm_server_url():
    try:
        server = llm_server.serve_smollm2()
        base_url = server.__enter__()
    except llm_server.ServerUnavailable as e:
        print(f'\nllm server unavailable: {e}', file=sys.stderr)
        pytest.skip(f'llm server unavailable: {e}')
    try: yield base_url
    finally: server.__exit__(None, None, None)
