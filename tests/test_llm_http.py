"""The OpenAI-compatible HTTP backend against a REAL server on this machine (llama-cpp-python serving each packaged
GGUF, SmolLM2's and Gemma 3's: tools/llm_server.py). Skipped, with the reason printed, only when the server cannot
be built or started."""
import json

import pytest
import torch

from conftest_llm_server import llm_server_url, llm_server_urls  # noqa: F401  (the fixtures)

LLMS = ['smollm2', 'gemma3']


@pytest.fixture(scope='module')
def local_lms():
    from spae.llm import HFLM
    cache = {}
    def get(name):
        if name not in cache: cache[name] = HFLM.load(name)
        return cache[name]
    return get


@pytest.mark.parametrize('name', LLMS)
def test_http_scores_agree_with_the_local_model(llm_server_urls, local_lms, name):
    from spae.llm import OpenAICompletionsLM
    remote, local = OpenAICompletionsLM(llm_server_urls(name), tokenizer=name), local_lms(name)
    prefix = local.tokenize('Input: dress skirt fashion Output: wug\nInput: shoes foot sole Output: dax\n')
    contexts = [local.tokenize('Input: heel boot Output:'), local.tokenize('Input: dress gown Output:')]
    labels = [local.tokenize(' dax'), local.tokenize(' wug'), local.tokenize(' shoes')]  # several tokens and one
    here = local.score(contexts, labels, prefix=local.prefill(prefix))  # HFLM reads Gemma's BOS first ...
    there = remote.score(contexts, labels, prefix=prefix)  # ... and the server adds it itself
    # 4-bit weights on the server vs their float32 de-quantisation here: close, not identical
    assert (here - there).abs().max() < 0.6, (here, there)
    assert torch.equal(here.argmax(1), there.argmax(1))


@pytest.mark.parametrize('name', LLMS)
def test_http_restricted_generation_stays_in_the_set(llm_server_urls, local_lms, name):
    from spae.llm import OpenAICompletionsLM
    remote, local = OpenAICompletionsLM(llm_server_urls(name), tokenizer=name), local_lms(name)
    allowed = [local.tokenize(w)[0] for w in [' boot', ' dress', ' bag', ' coat', ' shirt']]
    outs = remote.generate([local.tokenize('Input: a b c Output:')] * 3, 6, allowed=allowed, temperature=1.5, seed=0)
    assert [len(o) for o in outs] == [6, 6, 6] and set(t for o in outs for t in o) <= set(allowed)
    assert remote.generate([local.tokenize('Input: a b c Output:')], 6, allowed=allowed, temperature=1.5, seed=0)[0] == outs[0]
    greedy_here = local.generate([local.tokenize('A shoe for winter is a')], 3, allowed=allowed)[0]
    greedy_there = remote.generate([local.tokenize('A shoe for winter is a')], 3, allowed=allowed)[0]
    assert greedy_there[0] == greedy_here[0]


@pytest.mark.parametrize('name', LLMS)
def test_fewshot_through_the_endpoint(llm_server_urls, name, tmp_path):
    "A few-shot run scored through the server (the oracle row: the tokenizer only sets the pool's image size)."
    from spae.fewshot import FewshotConfig, run_fewshot
    out = tmp_path/'fs.json'
    rep = run_fewshot(FewshotConfig(endpoint=llm_server_urls(name), llm=name, tokenizer='demo', rows=['oracle-5'],
                                    ways=[2], shots=[1], episodes=2, queries=2, pool=6, json=str(out), progress=False))
    assert json.loads(out.read_text())['rows'] == rep['rows']
    assert rep['rows']['oracle-5']['2-way 1-shot']['queries'] == 4 and rep['llm'] == name
