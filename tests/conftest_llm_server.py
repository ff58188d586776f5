"""Pytest fixtures `llm_server_url` and `llm_server_urls`: real OpenAI-compatible servers (llama-cpp-python) on the
packaged GGUFs, SmolLM2's and Gemma 3's.

Import them in a test module (`from conftest_llm_server import llm_server_url, llm_server_urls`). Each server starts
once per session on 127.0.0.1 and a free port; the fixture yields the base URL ending in /v1 (`llm_server_urls` is
a function: `llm_server_urls('gemma3')`). If the server is not installed (`make llm-server`) or cannot start, the tests
that use it are skipped with the reason, which `pytest -rs` prints (and which is printed to stderr at once).
"""
import contextlib
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent/'tools'))
import llm_server


@pytest.fixture(scope='session')
def llm_server_urls():
    "`llm_server_urls(name)`: the base URL of a server on packaged LLM `name`, started on first use, or a skip."
    stack, urls = contextlib.ExitStack(), {}
    def url(name: str = 'smollm2') -> str:
        if name not in urls:
            try: urls[name] = stack.enter_context(llm_server.serve_packaged(name))
            except llm_server.ServerUnavailable as e:
                urls[name] = e
            if isinstance(urls[name], Exception): print(f'\nllm server ({name}) unavailable: {urls[name]}', file=sys.stderr)
        if isinstance(urls[name], Exception): pytest.skip(f'llm server ({name}) unavailable: {urls[name]}')
        return urls[name]
    with stack: yield url


@pytest.fixture(scope='session')
def llm_server_url(llm_server_urls):
    "The base URL of a server on the packaged SmolLM2 GGUF (or a skip with the reason)."
    return llm_server_urls('smollm2')
