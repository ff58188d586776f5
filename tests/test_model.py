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


def _damage(folder, what):
    w, c = folder / 'model.safetensors', folder / 'config.json'
    if what == 'pickle': w.write_bytes(__import__('pickle').dumps({'weight': [1.0, 2.0]}))
    if what == 'junk': w.write_bytes(b'not a safetensors file at all')
    if what == 'header': w.write_bytes((2 ** 62).to_bytes(8, 'little') + b'{"a": 1}')
    if what == 'truncated': w.write_bytes(w.read_bytes()[:len(w.read_bytes()) // 2])
    if what == 'json': c.write_text(c.read_text()[:-20])


@pytest.mark.parametrize('what', ['pickle', 'junk', 'header', 'truncated'])
def test_damaged_weights_one_line(model, tmp_path, what):
    from spae.model import CheckpointError
    model.save(tmp_path); _damage(tmp_path, what)
    with pytest.raises(CheckpointError, match='is not a readable safetensors file') as e: SPAE.load(tmp_path, codebook=codebook())
    assert '\n' not in str(e.value) and str(tmp_path / 'model.safetensors') in str(e.value)
    assert isinstance(e.value, ValueError)


def test_damaged_config_one_line(model, tmp_path):
    from spae.model import CheckpointError
    model.save(tmp_path); _damage(tmp_path, 'json')
    with pytest.raises(CheckpointError, match=r'config.json is not valid JSON \(') as e: SPAE.load(tmp_path, codebook=codebook())
    assert '\n' not in str(e.value)
    (tmp_path / 'config.json').write_text('[1, 2]')
    with pytest.raises(CheckpointError, match='should hold a JSON object'): SPAE.load(tmp_path, codebook=codebook())


def test_weights_of_another_network(model, tmp_path):
    from spae.model import CheckpointError
    model.save(tmp_path)
    other = SPAE(ModelConfig.preset('demo', base_channels=16, vocab_size=0), codebook())
    other.save(tmp_path / 'other')
    (tmp_path / 'model.safetensors').write_bytes((tmp_path / 'other' / 'model.safetensors').read_bytes())
    with pytest.raises(CheckpointError, match='does not hold the weights of the network'): SPAE.load(tmp_path, codebook=codebook())


def test_load_by_name():
    from spae.core import MissingAssetError
    with pytest.raises(MissingAssetError, match="no tokenizer named 'no-such-tokenizer'"): SPAE.load('no-such-tokenizer')


def test_old_config_without_video_fields(model, tmp_path):
    model.save(tmp_path)
    d = json.loads((tmp_path / 'config.json').read_text())
    assert d['frames'] == 0
    for k in ('frames', 'time_downsample'): d.pop(k)  # a config.json written before video tokenizers existed
    (tmp_path / 'config.json').write_text(json.dumps(d))
    back = SPAE.load(tmp_path, codebook=codebook())
    assert back.config == model.config and not back.config.is_video


@pytest.fixture(scope='module')
def video_model():
    torch.manual_seed(0)
    cfg = ModelConfig(image_size=32, base_channels=8, frames=4, time_downsample=2, strides=[(1, 8, 8), (1, 2, 2), (1, 1, 1)])
    return SPAE(cfg, codebook()).eval()


def test_video_model_round_trip(video_model, tmp_path):
    x = torch.rand(2, 4, 3, 32, 32) * 2 - 1
    pyr = video_model.encode(x)
    assert [k.shape[1] for k in pyr.indices] == [2, 32, 128]
    assert video_model.decode(pyr, layers=1).shape == (2, 4, 3, 32, 32)
    video_model.save(tmp_path)
    back = SPAE.load(tmp_path, codebook=codebook()).eval()
    with torch.no_grad(): assert torch.equal(back(x).recon, video_model(x).recon)


def test_video_model_is_causal(video_model):
    x = torch.rand(1, 4, 3, 32, 32) * 2 - 1
    y = x.clone(); y[:, 2:] = torch.rand(1, 2, 3, 32, 32) * 2 - 1  # change the second frame group only
    with torch.no_grad(): zx, zy = video_model.encoder(x), video_model.encoder(y)
    assert torch.allclose(zx[:, :, 0], zy[:, :, 0], atol=1e-5) and not torch.allclose(zx[:, :, 1], zy[:, :, 1])


def test_video_and_image_inputs_swapped(model, video_model):
    with pytest.raises(ValueError, match='video tokenizer of 4-frame clips but got images'): video_model.encode(torch.zeros(2, 3, 32, 32))
    with pytest.raises(ValueError, match='image tokenizer .* but got a clip batch'): model.encode(torch.zeros(2, 4, 3, 32, 32))
    with pytest.raises(ValueError, match=r'expects clips \[B, 4, 3, 32, 32\]'): video_model.encode(torch.zeros(2, 5, 3, 32, 32))
