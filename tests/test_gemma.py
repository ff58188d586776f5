"""The second packaged LLM, Gemma 3 270M, through every LLM path: the de-quantised model (it continues text
sensibly, with the BOS token it needs), its input embeddings read alone from the GGUF, a few-shot episode reading
its own tokenizer's words, and the two LLMs reading each other's words (the cross rows of the few-shot table).
The HTTP backend on Gemma's GGUF is in tests/test_llm_http.py and tests/test_llm_server.py."""
import json

import pytest
import torch

from spae.core import shipped_tokenizers


@pytest.fixture(scope='module')
def gemma():
    from spae.llm import HFLM
    return HFLM.load('gemma3')


@pytest.fixture(scope='module')
def pool():
    from spae.data import fashion_mnist
    data = fashion_mnist('test', size=32)
    idx = torch.cat([(data.labels == c).nonzero()[:, 0][:8] for c in range(10)])
    return data.images[idx], data.labels[idx].numpy()


def needs_gemma_tokenizer():
    if 'gemma3-demo' not in shipped_tokenizers():
        pytest.skip(f'no shipped Gemma tokenizer spae/tokenizers/gemma3-demo yet (shipped: {shipped_tokenizers()})')


def test_gemma_reads_its_bos_and_continues_text_sensibly(gemma):
    assert gemma.vocab_size == 262_144 and gemma.bos == [gemma.tokenizer.bos_token_id]
    ids = gemma.tokenize('The capital of France is')
    text = gemma.detokenize(gemma.generate([ids], 12)[0])
    words = text.split()
    assert 'France' in text or 'Paris' in text, text
    assert max(words.count(w) for w in set(words)) <= 3, text  # not the degenerate "The The The ..." of no BOS


def test_gemma_scores_with_the_cached_prefix_equal_one_forward_pass(gemma):
    prefix = gemma.tokenize('Input: dress skirt fashion Output: wug\nInput: shoes foot sole Output: dax\n')
    contexts = [gemma.tokenize('Input: heel boot Output:'), gemma.tokenize('Input: dress Output:')]
    labels = [gemma.tokenize(' dax'), gemma.tokenize(' wug')]
    assert all(len(l) == 2 for l in labels)  # Gemma reads the nonsense labels as two tokens
    fast = gemma.score(contexts, labels, prefix=gemma.prefill(prefix))
    ids = torch.tensor([gemma.bos + prefix + contexts[1] + labels[1]])
    with torch.no_grad(): logp = gemma.model(ids).logits[0].log_softmax(-1)
    n = len(gemma.bos) + len(prefix) + len(contexts[1])
    plain = sum(logp[n - 1 + t, k] for t, k in enumerate(labels[1]))
    assert abs(float(plain) - float(fast[1, 1])) < 1e-3
    assert torch.isfinite(fast).all() and (fast < 0).all()


def test_input_embeddings_read_alone_from_the_gguf_equal_the_model_rows(gemma):
    from spae.vocab import input_embeddings, packaged_gguf
    rows = [0, 2, 1000, 23391, 262_143]
    from_gguf = input_embeddings(str(packaged_gguf('gemma3')), rows)
    assert from_gguf.shape == (5, 640)
    assert torch.equal(from_gguf, gemma.model.get_input_embeddings().weight[rows].float())


def test_gemma_reads_smollm2_tokenizer_words(gemma, pool):
    "A cross-reading episode: Gemma reads the words of the SmolLM2-vocabulary demo tokenizer, re-tokenised as text."
    from spae.fewshot import PyramidWords, episode_prompt, load_tokenizer_folder, sample_episodes, score_episode
    images, labels = pool
    words = PyramidWords(load_tokenizer_folder('demo'), images, layers=2)
    e = sample_episodes(labels, 1, ways=2, shots=1, queries=4, seed=3)[0]
    prefix, queries, label_ids = episode_prompt(gemma, e, words)
    text = gemma.detokenize(prefix)
    assert all(' '.join(words(i)) in text for i, _ in e.support)  # every support word reaches Gemma as text
    r = score_episode(gemma, e, words)
    assert r['scores'].shape == (4, 2) and torch.isfinite(r['scores']).all()
    assert set(r['calibrated'].argmax(1).tolist()) <= {0, 1}
    assert [e.classes[p] for p in r['truth'].tolist()] == [int(labels[i]) for i, _ in e.queries]


def test_two_way_episode_with_gemma_and_its_own_tokenizer(gemma, pool):
    needs_gemma_tokenizer()
    from spae.fewshot import PyramidWords, load_tokenizer_folder, sample_episodes, score_episode
    from spae.llm import check_codebook_matches
    tok = load_tokenizer_folder('gemma3-demo')
    check_codebook_matches(tok.codebook, gemma)  # its words are Gemma's tokens
    images, labels = pool
    words = PyramidWords(tok, images, layers=2)
    assert words.n_words == 5 and all(w in tok.codebook for w in words(0))
    e = sample_episodes(labels, 1, ways=2, shots=1, queries=4, seed=3)[0]
    r = score_episode(gemma, e, words)
    assert r['scores'].shape == (4, 2) and set(r['scores'].argmax(1).tolist()) <= {0, 1}


def test_two_llm_table_on_the_same_episodes(tmp_path):
    "One run, both LLMs: each reads its own tokenizer's words and the other's; rows name their reader and words."
    needs_gemma_tokenizer()
    from spae.fewshot import FewshotConfig, format_table, run_fewshot
    out = tmp_path/'fs.json'
    rep = run_fewshot(FewshotConfig(llms=['smollm2', 'gemma3'], rows=['spae-l1', 'cross-l1'], ways=[2], shots=[1],
                                    episodes=1, queries=2, pool=6, json=str(out), progress=False))
    assert list(rep['rows']) == ['smollm2 · spae-l1', 'smollm2 · cross-l1', 'gemma3 · spae-l1', 'gemma3 · cross-l1']
    words_of = {k: (r['reader'], r['tokenizer']) for k, r in rep['rows'].items()}
    assert words_of == {'smollm2 · spae-l1': ('smollm2', 'demo'), 'smollm2 · cross-l1': ('smollm2', 'gemma3-demo'),
                        'gemma3 · spae-l1': ('gemma3', 'gemma3-demo'), 'gemma3 · cross-l1': ('gemma3', 'demo')}
    assert rep['llm'] == 'smollm2,gemma3' and json.loads(out.read_text())['rows'] == rep['rows']
    assert '| gemma3 | cross-l1 | demo | 1 |' in format_table(rep)
