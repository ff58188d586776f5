"""Few-shot classification end to end with the real SmolLM2 and the shipped demo tokenizer (spae.fewshot:
`run_fewshot(FewshotConfig(...))`, what `spae fewshot` runs). Gemma 3 and the two-LLM table: tests/test_gemma.py."""
import json, re

import pytest
import torch

from spae.core import MissingAssetError, tokenizer_dir
from spae.fewshot import FewshotConfig, format_table, run_fewshot
from spae.llm import LLMError


@pytest.fixture(scope='module')
def lm():
    from spae.llm import HFLM
    return HFLM.load('smollm2')


@pytest.fixture(scope='module')
def demo():
    from spae.fewshot import load_tokenizer_folder
    from spae.data import fashion_mnist
    tok = load_tokenizer_folder('demo')
    data = fashion_mnist('test', size=tok.config.image_size)
    pool = torch.cat([(data.labels == c).nonzero()[:, 0][:12] for c in range(10)])
    return tok, data.images[pool], data.labels[pool].numpy()


def test_two_way_episode_predicts_only_its_labels(lm, demo):
    "A 2-way episode end to end: words of the committed tokenizer, real SmolLM2, predictions among the episode's 2 labels."
    from spae.fewshot import PyramidWords, sample_episodes, score_episode, episode_prompt
    tok, images, labels = demo
    words = PyramidWords(tok, images, layers=2)
    assert words.n_words == 5 and all(w in tok.codebook for w in words(0))
    for e in sample_episodes(labels, 3, ways=2, shots=1, queries=4, seed=3):
        prefix, queries, label_ids = episode_prompt(lm, e, words)
        text = lm.detokenize(prefix)
        assert all(f'Output: {l}' in text for l in e.labels) and text.count('Input:') == 2
        r = score_episode(lm, e, words)
        assert r['scores'].shape == (4, 2) and torch.isfinite(r['scores']).all()
        assert set(r['scores'].argmax(1).tolist()) <= {0, 1} and set(r['calibrated'].argmax(1).tolist()) <= {0, 1}
        # the truth is the class of each query image
        assert [e.classes[p] for p in r['truth'].tolist()] == [int(labels[i]) for i, _ in e.queries]


def test_prefix_cache_scores_equal_recomputed(lm, demo):
    "Scores after a prefilled support prefix equal the scores with the prefix recomputed, on the real model."
    from spae.fewshot import PyramidWords, sample_episodes, episode_prompt
    tok, images, labels = demo
    words = PyramidWords(tok, images, layers=3)
    e = sample_episodes(labels, 1, ways=5, shots=2, queries=6, seed=7)[0]  # multi-token labels, 21 words per image
    prefix, queries, label_ids = episode_prompt(lm, e, words)
    assert any(len(l) > 1 for l in label_ids)
    cached = lm.score(queries, label_ids, prefix=lm.prefill(prefix))
    recomputed = lm.score(queries, label_ids, prefix=prefix)
    assert torch.allclose(cached, recomputed, atol=1e-3), (cached - recomputed).abs().max()
    # and both equal one plain forward pass over prefix + query + label
    ids = torch.tensor([prefix + queries[0] + label_ids[1]])
    with torch.no_grad(): logp = lm.model(ids).logits[0].log_softmax(-1)
    n = len(prefix) + len(queries[0])
    plain = sum(logp[n - 1 + t, k] for t, k in enumerate(label_ids[1]))
    assert abs(float(plain) - float(cached[0, 1])) < 1e-3


def test_restricted_generation_never_leaves_the_allowed_set(lm):
    from spae.fewshot import load_tokenizer_folder
    cb = load_tokenizer_folder('demo').codebook
    allowed = cb.token_ids[::97].tolist()  # 85 codebook words
    prompts = [lm.tokenize('The picture shows'), lm.tokenize('Input: shoe Output:')] * 4
    outs = [lm.generate(prompts[:2], 24, allowed=allowed, temperature=t, top_k=k, seed=s)
            for t, k, s in [(0.0, None, None), (1.0, None, 0), (2.0, None, 1), (1.0, 5, 2)]]
    flat = [t for o in outs for row in o for t in row]
    assert len(flat) == 4 * 2 * 24 and set(flat) <= set(allowed)
    assert len(set(flat)) > 10  # sampling really explores the set
    unrestricted = lm.generate(prompts[:1], 8, allowed=None)[0]
    assert not set(unrestricted) <= set(allowed)  # without the mask the model writes other tokens: the mask is what holds


def test_codebook_from_another_vocabulary_is_refused(lm):
    from spae.llm import check_codebook_matches
    from spae.vocab import LexicalCodebook
    from spae.fewshot import load_tokenizer_folder
    cb = load_tokenizer_folder('demo').codebook
    other = LexicalCodebook(cb.token_ids + 3, cb.words, cb.embeddings, llm='other-llm', source='llm')
    with pytest.raises(ValueError, match='another vocabulary'): check_codebook_matches(other, lm)


def run(**kw):
    return run_fewshot(FewshotConfig(**{'ways': [2], 'shots': [1], 'llm': 'smollm2', 'progress': False, **kw}))


def test_fewshot_run_writes_the_table(tmp_path):
    out = tmp_path/'sub'/'fewshot.json'  # its folder is made
    rep = run(rows=['spae-l1', 'random-5', 'oracle-5', 'class-word'], episodes=3, queries=4, pool=12, json=str(out))
    assert json.loads(out.read_text()) == json.loads(json.dumps(rep))
    assert list(rep['rows']) == ['spae-l1', 'random-5', 'oracle-5', 'class-word'] and rep['cells'] == ['2-way 1-shot']
    for row in rep['rows'].values():
        cell = row['2-way 1-shot']
        assert cell['queries'] == 12 and cell['episodes'] == 3
        assert 0 <= cell['accuracy'] <= 1 and cell['ci'][0] <= cell['accuracy'] <= cell['ci'][1]
    assert '| spae-l1 | 1 |' in format_table(rep)
    assert rep['tokenizer'] == 'demo' and rep['rows']['spae-l1']['tokenizer'] == 'demo'
    assert rep['command'] == f'spae fewshot --rows spae-l1 random-5 oracle-5 class-word --ways 2 --shots 1 --episodes 3 ' \
                             f'--queries 4 --pool 12 --llm smollm2 --json {out} --no-progress'


def test_fewshot_judges_another_tokenizer(tmp_path):
    "`tokenizer` points the spae rows at any tokenizer folder: here the previous demo tokenizer, by its path."
    v1 = tokenizer_dir('demo-v1')
    rep = run(tokenizer=str(v1), rows=['spae-l1'], episodes=2, queries=2, pool=8)
    assert rep['tokenizer'] == str(v1) and rep['rows']['spae-l1']['2-way 1-shot']['queries'] == 4


def test_update_merges_rows_on_the_same_episodes(tmp_path):
    out = tmp_path/'fs.json'
    first = run(rows=['oracle-5'], episodes=2, queries=2, pool=8, json=str(out))
    merged = run(rows=['random-5'], episodes=2, queries=2, pool=8, json=str(out), update=True)
    assert list(merged['rows']) == ['oracle-5', 'random-5'] and len(merged['runs']) == 2
    assert merged['rows']['oracle-5'] == json.loads(json.dumps(first['rows']['oracle-5']))  # kept, not rerun
    with pytest.raises(ValueError, match="different \\['episodes'\\]"):
        run(rows=['random-5'], episodes=3, queries=2, pool=8, json=str(out), update=True)


def _corrupt_tokenizer(tmp_path):
    (tmp_path/'tok').mkdir(); (tmp_path/'tok'/'config.json').write_text('{"image_size": 3')
    (tmp_path/'tok'/'model.safetensors').write_bytes(b'')
    return str(tmp_path/'tok')


@pytest.mark.parametrize('kw, error, message', [
    (dict(dataset='cifar'), ValueError, "unknown dataset 'cifar'"),
    (dict(llm='smollm3'), MissingAssetError, "did you mean the packaged 'smollm2'"),
    (dict(pool=2, shots=[3]), ValueError, 'need 4 images of each class'),
    (dict(endpoint='http://127.0.0.1:9/v1'), LLMError, 'cannot reach the LLM endpoint'),
    (dict(rows=['spae-l9']), ValueError, 'unknown few-shot row'),
    (dict(tokenizer='/nonexistent/tokenizer'), MissingAssetError, 'tokenizer /nonexistent/tokenizer not found'),
    (dict(tokenizer='CORRUPT'), ValueError, 'config.json is corrupt'),
    (dict(json='/proc/fewshot.json'), ValueError, '--json /proc/fewshot.json cannot be written'),
    (dict(json='/etc/hostname/fewshot.json'), ValueError, 'cannot be written'),
    (dict(update=True), ValueError, '--update needs --json pointing at an existing table'),
    (dict(dataset='mini-imagenet'), ValueError, 'needs --imagenet-root'),
    (dict(dataset='mini-imagenet', imagenet_root='/nonexistent/imagenet'), MissingAssetError, 'ImageNet train folder'),
    (dict(rows=['cross-l2']), ValueError, 'pass two LLMs'),
    (dict(llm=None, llms=['smollm2', 'gemma3'], tokenizers=['demo']), ValueError, 'one tokenizer per LLM'),
])
def test_bad_input_is_one_clear_line(kw, error, message, tmp_path):
    if kw.get('tokenizer') == 'CORRUPT': kw['tokenizer'] = _corrupt_tokenizer(tmp_path)
    with pytest.raises(error, match=re.escape(message)) as e:
        run(episodes=1, queries=2, **kw)
    assert '\n' not in str(e.value)
