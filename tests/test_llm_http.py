"""The OpenAI-compatible HTTP backend against a REAL server on this machine (llama-cpp-python serving the packaged
SmolLM2 GGUF, tools/llm_server.py). Skipped, with the reason printed, only when the server cannot be built or started."""
import json, os, subprocess, sys
from pathlib import Path

import pytest
import torch

from conftest_llm_server import llm_server_url  # noqa: F401  (the fixture)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope='module')
def remote(llm_server_url):
    from spae.llm import OpenAICompletionsLM
    return OpenAICompletionsLM(llm_server_url, tokenizer='smollm2')


@pytest.fixture(scope='module')
def local():
    from spae.llm import HFLM
    return HFLM.load('smollm2')


def test_http_scores_agree_with_the_local_model(remote, local):
    prefix = local.tokenize('Input: dress skirt fashion Output: wug\nInput: shoes foot sole Output: dax\n')
    contexts = [local.tokenize('Input: heel boot Output:'), local.tokenize('Input: dress gown Output:')]
    labels = [local.tokenize(' dax'), local.tokenize(' wug'), local.tokenize(' shoes')]  # 2, 2 and 1 tokens
    here = local.score(contexts, labels, prefix=local.prefill(prefix))
    there = remote.score(contexts, labels, prefix=prefix)
    # 4-bit weights on the server vs their float32 de-quantisation here: close, not identical
    assert (here - there).abs().max() < 0.6, (here, there)
    assert torch.equal(here.argmax(1), there.argmax(1))


def test_http_restricted_generation_stays_in_the_set(remote, local):
    allowed = [local.tokenize(w)[0] for w in [' boot', ' dress', ' bag', ' coat', ' shirt']]
    outs = remote.generate([local.tokenize('Input: a b c Output:')] * 3, 6, allowed=allowed, temperature=1.5, seed=0)
    assert [len(o) for o in outs] == [6, 6, 6] and set(t for o in outs for t in o) <= set(allowed)
    assert remote.generate([local.tokenize('Input: a b c Output:')], 6, allowed=allowed, temperature=1.5, seed=0)[0] == outs[0]
    greedy_here = local.generate([local.tokenize('A shoe for winter is a')], 3, allowed=allowed)[0]
    greedy_there = remote.generate([local.tokenize('A shoe for winter is a')], 3, allowed=allowed)[0]
    assert greedy_there[0] == greedy_here[0]


def test_fewshot_command_through_the_endpoint(llm_server_url, tmp_path):
    out = tmp_path/'fs.json'
    r = subprocess.run([sys.executable, '-m', 'spae.cli', 'fewshot', '--endpoint', llm_server_url, '--rows', 'oracle-5',
                        '--ways', '2', '--shots', '1', '--episodes', '2', '--queries', '2', '--pool', '6',
                        '--json', str(out), '--no-progress'], capture_output=True, text=True, cwd=ROOT, timeout=900,
                       env={**os.environ, 'HF_HUB_OFFLINE': '1'})
    assert r.returncode == 0, r.stderr[-3000:]
    rep = json.loads(out.read_text())
    assert rep['rows']['oracle-5']['2-way 1-shot']['queries'] == 4
