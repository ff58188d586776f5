"Scorer interface, caching and bad input for spae.semantics (quick: small word lists, tiny random OpenCLIP)."
import time
import pytest
import torch
from spae.core import MissingAssetError
from spae.semantics import (CaptionScorer, OpenCLIPScorer, WordList, dataset_targets,
                            discriminative_relevance, get_scorer, top_k_targets, word_centre)

WORDS = WordList(['cat', 'dog', 'sandal', 'shoe', 'bag', 'coat', 'rocket', 'coffee', 'tree', 'car'])


@pytest.fixture(autouse=True)
def _cold_cache(tmp_path, monkeypatch):
    monkeypatch.setenv('SPAE_CACHE_DIR', str(tmp_path))
    monkeypatch.setenv('HF_HUB_OFFLINE', '1')


@pytest.mark.parametrize('name,kw', [('caption', {}), ('imagenet-bridge', {}),
                                     ('openclip', dict(model_name='spae-tiny-random', pretrained=None))])
def test_scorer_interface(name, kw):
    s = get_scorer(name, device='cpu', progress=False, **kw)
    imgs = torch.rand(2, 3, 32, 32) * 2 - 1
    labels = ['Sandal', 'Bag']
    e = s.embed_images(imgs, labels=labels)
    assert e.shape[0] == 2 and torch.allclose(e.norm(dim=-1), torch.ones(2), atol=1e-4)
    assert s.embed_texts(['a', 'b', 'c']).shape == (3, e.shape[1])
    r = s.relevance(imgs, WORDS, labels=labels)
    assert r.shape == (2, len(WORDS.words)) and torch.isfinite(r).all()
    assert s.word_cache_file(WORDS).exists()
    s._memo.clear()
    t = time.time(); w = s.word_embeddings(WORDS)
    assert time.time() - t < 1 and w.shape == (len(WORDS.words), e.shape[1])
    assert s.uses_labels == (name == 'caption')
    assert ('uses class labels' in repr(s)) == (name == 'caption')


def test_caption_scorer_picks_the_class_word():
    s = CaptionScorer(progress=False)
    r = s.relevance(None, WORDS, labels=['Sandal', 'Bag', 'Coat'])
    best = [WORDS.words[i] for i in r.argmax(-1)]
    assert best[0] in {'sandal', 'shoe'} and best[1:] == ['bag', 'coat']
    with pytest.raises(ValueError, match='needs labels'): s.relevance(torch.zeros(1, 3, 8, 8), WORDS)


def test_bad_input_errors():
    with pytest.raises(ValueError, match='unknown scorer'): get_scorer('clip')
    with pytest.raises(MissingAssetError, match='put it at'): OpenCLIPScorer('ViT-B-32', pretrained='/no/such/clip.bin')
    with pytest.raises(ValueError, match='unknown OpenCLIP model'): OpenCLIPScorer('ViT-Q-99', pretrained=None)
    with pytest.raises(ValueError, match='larger than the vocabulary'): top_k_targets(torch.zeros(1, 3), k=5)


def test_centring_removes_hub_word():
    rel = torch.tensor([[0.9, 0.5, 0.1], [0.9, 0.1, 0.6]])
    assert top_k_targets(rel, 1).flatten().tolist() == [0, 0]
    assert top_k_targets(rel, 1, word_centre(rel)).flatten().tolist() == [1, 2]
    R = torch.tensor([[0.60, 0.58, 0.20], [0.60, 0.20, 0.58]])
    assert top_k_targets(discriminative_relevance(R), 1).flatten().tolist() == [1, 2]


def test_dataset_targets_cached_and_per_class():
    class DS(torch.utils.data.TensorDataset):
        classes = ['Sandal', 'Bag']
    ds = DS(torch.rand(4, 3, 32, 32) * 2 - 1, torch.tensor([0, 1, 1, 0]))
    ds.images, ds.labels = ds.tensors
    s = CaptionScorer(progress=False)
    t = dataset_targets(s, ds, WORDS, k=2, verbose=False)
    assert t.shape == (4, 2) and t.dtype == torch.long
    assert torch.equal(t[0], t[3]) and torch.equal(t[1], t[2])
    assert WORDS.words[t[0, 0]] in {'sandal', 'shoe'} and WORDS.words[t[1, 0]] == 'bag'
    t0 = time.time(); t2 = dataset_targets(s, ds, WORDS, k=2, verbose=False)
    assert time.time() - t0 < 1 and torch.equal(t, t2)


def test_openclip_tag_without_weights_offline_says_what_to_download(monkeypatch):
    "A pretrained tag whose weights are not cached: the error names the HF repo, the file and where to put it."
    import open_clip.factory
    def no_network(*a, **k): raise OSError('offline (test): the weights are not in the local cache')
    monkeypatch.setattr(open_clip.factory, 'download_pretrained', no_network)  # never download, even where CI is online
    with pytest.raises(MissingAssetError, match='not available offline') as e: OpenCLIPScorer('ViT-B-32', pretrained='openai')
    msg = str(e.value)
    assert 'open_clip_pytorch_model.bin' in msg and 'hf-hub:' in msg and 'clip_pretrained' in msg
