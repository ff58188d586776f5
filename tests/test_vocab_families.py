"""A second tokenizer family: a SentencePiece-style vocabulary (word starts marked '▁', as Llama, Mistral, T5 and
Gemma tokenizers do) on a tiny random Llama model folder built here, offline. The vocabulary filter finds its whole
words and `build_codebook` reads their rows from the safetensors file without loading the model."""
import pytest
import torch

from spae.core import get_settings
from spae.vocab import build_codebook, filter_vocab, input_embeddings, load_tokenizer, word_start_marker

CORPUS = ['the cat sat on the mat with another cat', 'a photo of a dog and a red ball in the garden',
          'shoes boots and sandals are footwear', 'the rocket flew over the moon at night'] * 50


@pytest.fixture(scope='module')
def sentencepiece_llm(tmp_path_factory):
    "A model folder: a SentencePiece-BPE tokenizer (tokenizers' Metaspace '▁') + a tiny random LlamaForCausalLM."
    from tokenizers import SentencePieceBPETokenizer
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast
    folder = tmp_path_factory.mktemp('tiny-llama-sp')
    sp = SentencePieceBPETokenizer()
    sp.train_from_iterator(CORPUS, vocab_size=300, special_tokens=['<unk>', '<s>', '</s>'], show_progress=False)
    tok = PreTrainedTokenizerFast(tokenizer_object=sp, unk_token='<unk>', bos_token='<s>', eos_token='</s>')
    tok.save_pretrained(folder)
    torch.manual_seed(0)
    cfg = LlamaConfig(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                      num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=64)
    model = LlamaForCausalLM(cfg)
    model.save_pretrained(folder, safe_serialization=True)
    return folder, model.get_input_embeddings().weight.detach()


def test_sentencepiece_family_filter_and_codebook(sentencepiece_llm, tmp_path):
    folder, emb = sentencepiece_llm
    tok = load_tokenizer(str(folder))
    assert word_start_marker(tok) == '▁'
    ids, words = filter_vocab(tok)
    assert {'cat', 'dog', 'moon', 'rocket', 'shoes', 'boots'} <= set(words), words
    assert all(w.isalpha() and w.islower() and len(w) >= 3 for w in words)
    assert all(tok.convert_ids_to_tokens(i) == '▁' + w for i, w in zip(ids, words))
    cb = build_codebook(str(folder), vocab_size=0, embedding_source='llm', settings=get_settings(cache_dir=str(tmp_path)))
    assert cb.words == words and cb.token_ids.tolist() == ids
    assert torch.equal(cb.embeddings, emb[ids].float())  # the rows of the model's own embedding matrix
    assert torch.equal(input_embeddings(str(folder), ids), emb[ids].float())
