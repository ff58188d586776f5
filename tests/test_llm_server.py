"""The real llama-cpp-python server that tools/llm_server.py starts, on each packaged GGUF (SmolLM2's and Gemma 3's);
skipped with the reason if `make llm-server` could not install it."""
import pytest
import requests
import torch

from conftest_llm_server import llm_server_url, llm_server_urls  # noqa: F401  (fixtures; puts tools/ on sys.path)
import llm_server
from spae.vocab import load_llm, load_tokenizer


def complete(base_url, **body):
    r = requests.post(f'{base_url}/completions', json=body, timeout=120)
    r.raise_for_status()
    return r.json()['choices'][0]


def test_unavailable_server_says_why(tmp_path, monkeypatch):
    monkeypatch.setattr(llm_server, 'SERVER_VENV', tmp_path/'venv')
    monkeypatch.setattr(llm_server, 'FAILED_NOTE', tmp_path/'venv.failed')
    (tmp_path/'venv.failed').write_text('building llama-cpp-python failed')
    with pytest.raises(llm_server.ServerUnavailable, match='building llama-cpp-python failed'):
        with llm_server.serve_smollm2(): pass
    with pytest.raises(ValueError, match='loopback'):
        with llm_server.serve_smollm2(host='0.0.0.0'): pass


LLMS = ['smollm2', 'gemma3']
# the server runs the 4-bit weights with quantised activations; HF runs the same weights de-quantised to fp32
LOGPROB_TOLERANCE = {'smollm2': 0.2, 'gemma3': 0.5}


@pytest.mark.parametrize('name', LLMS)
def test_server_tokens_are_the_hf_tokenizer_ids(llm_server_urls, name):
    root = llm_server_urls(name).removesuffix('/v1')
    tok = load_tokenizer(name)
    for text in ['The capital of France is Paris', "naïve café — Ölkanne\n\ttabs  and double spaces", ' wug dax']:
        served = requests.post(f'{root}/extras/tokenize', json={'input': text}, timeout=60).json()['tokens']
        assert served == tok(text)['input_ids']  # with the BOS for Gemma: the server adds it as the tokenizer does


@pytest.mark.parametrize('name', LLMS)
def test_forced_next_token_logprob_matches_the_hf_model(llm_server_urls, name):
    "logit_bias forces the token; the logprob reported is the unbiased one, as the HF model computes it."
    url = llm_server_urls(name)
    model, tok = load_llm(name)
    context, ids = 'The capital of France is', tok(' Paris France', add_special_tokens=False)['input_ids']
    with torch.no_grad(): hf = model(torch.tensor([tok(context)['input_ids']])).logits[0, -1].log_softmax(-1)
    for i in ids:
        choice = complete(url, prompt=context, max_tokens=1, temperature=0, logprobs=1, logit_bias={str(i): 100})
        assert choice['text'] == tok.decode([i])
        assert abs(choice['logprobs']['token_logprobs'][0] - hf[i].item()) < LOGPROB_TOLERANCE[name]


@pytest.mark.parametrize('name', LLMS)
def test_logit_bias_restricts_sampling(llm_server_urls, name):
    url, tok = llm_server_urls(name), load_tokenizer(name)
    allowed = tok(' wug dax', add_special_tokens=False)['input_ids']
    allowed_text = {tok.decode([i]) for i in allowed}
    for seed in range(5):
        choice = complete(url, prompt='Label:', max_tokens=3, temperature=1.0, top_k=0, top_p=1.0, min_p=0.0,
                          seed=seed, logprobs=0, logit_bias={str(i): 100 for i in allowed})
        assert set(choice['logprobs']['tokens']) <= allowed_text
