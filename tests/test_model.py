"SPAE bad input, text round trip and checkpoints on a small synthetic codebook (fast; no LLM needed)."
import json, pytest, torch
from spae.model import ModelConfig, SPAE, CodebookMismatchError
from spae.vocab import LexicalCodebook

WORDS = [f'w{chr(97 + i // 26)}{chr(97 + i % 26)}' for i in range(300)]


def codebook(n=300, seed=0):
    g = torch.Generator().manual_seed(seed)
    return LexicalCodebook(torch.arange(1000, 1000 + n), WORDS[:n], torch.randn(n, 16, generator=g), 'toy', 'llm')


@pytest.fixture(scope='module')
def model():
    torch.manual_seed(0)
    return SPAE(ModelConfig.preset('demo', base_channels=8, vocab_size=0), codebook()).eval()


def test_bad_images(model):
    with pytest.raises(ValueError, match=r'expects images \[B, 3, 32, 32\]'): model(torch.randn(2, 1, 32, 32))
    with pytest.raises(ValueError, match='Resize to 32 px'): model(torch.randn(2, 3, 28, 28))
    with pytest.raises(ValueError, match='expects images'): model(torch.randn(3, 32, 32))
    with pytest.raises(ValueError, match='float images'): model(torch.zeros(1, 3, 32, 32, dtype=torch.uint8))
    with pytest.raises(ValueError, match='expects images'): model.encode(torch.randn(1, 3, 64, 64))
    nan = torch.zeros(2, 3, 32, 32); nan[1, 2, 5, 5] = float('nan')
    with pytest.raises(ValueError, match=r'NaN/inf values in image\(s\) \[1\]'): model.encode(nan)
    with pytest.raises(ValueError, match=r'\[0, 255\] pixels'): model.encode(torch.full((1, 3, 32, 32), 200.))
    with pytest.raises(ValueError, match='prefix_layers'): model(torch.randn(1, 3, 32, 32), prefix_layers=0)


def test_bad_config():
    with pytest.raises(ValueError, match='not divisible'): ModelConfig.preset('demo', image_size=30)
    with pytest.raises(ValueError, match='choose one of'): ModelConfig.preset('huge')
    assert ModelConfig.preset('tiny').base_channels == 8  # every row of spae.core.PRESETS is a model preset
    with pytest.raises(CodebookMismatchError, match='vocab_size=8192'):
        SPAE(ModelConfig.preset('demo', base_channels=8, vocab_size=8192), codebook())


def test_text_round_trip(model):
    x = torch.rand(2, 3, 32, 32) * 2 - 1
    pyr = model.encode(x)
    assert [k.shape[1] for k in pyr.indices] == [1, 4, 16, 64, 64]
    back = model.from_tokens([pyr.text(0), pyr.text(1)])
    assert all(torch.equal(a, b) for a, b in zip(back.indices, pyr.indices))
    ids = torch.cat(pyr.token_ids, 1)
    assert all(torch.equal(a, b) for a, b in zip(model.from_tokens(ids).indices, pyr.indices))
    assert torch.equal(model.decode(pyr, layers=2), model.decode(pyr.prefix(2)))
    with pytest.raises(KeyError, match='not in the codebook'): model.from_tokens('waa zzzz')
    assert model.from_tokens('Waa, wab!', fit='truncate').words[0] == [['waa']]
    assert model.from_tokens('waa wabx', unknown='nearest', fit='truncate').num_layers == 1
    with pytest.raises(ValueError, match='whole pyramid layers'): model.from_tokens('waa wab')
    with pytest.raises(KeyError, match='not in the codebook'): model.from_tokens(torch.tensor([5]))


def test_save_load(model, tmp_path):
    model.save(tmp_path)
    x = torch.rand(2, 3, 32, 32) * 2 - 1
    back = SPAE.load(tmp_path, codebook=codebook()).eval()
    with torch.no_grad(): assert torch.equal(back(x).recon, model(x).recon)
    with pytest.raises(CodebookMismatchError, match='different vocabulary'): SPAE.load(tmp_path, codebook=codebook(seed=1))
    with pytest.raises(CodebookMismatchError, match='299 words'): SPAE.load(tmp_path, codebook=codebook(299))
    with pytest.raises(FileNotFoundError, match='not an SPAE checkpoint'): SPAE.load(tmp_path / 'nope')
