"""The caption scorer on the REAL SmolLM2 vocabulary (every whole word, 21k — the demo's 8,192 most frequent lack 'trousers' and 'boots' altogether;
notebook 05's slow cells show the tables): every Fashion-MNIST class gets an on-topic target word.
Uses the real cache (~/.cache/spae): the word embeddings are computed once (one to two minutes on two cores), then loaded in seconds."""
import os
import pytest

from spae.data import FASHION_MNIST_CLASSES
from spae.semantics import CaptionScorer, class_relevance, top_k_targets, word_centre
from spae.vocab import build_codebook

os.environ.setdefault('HF_HUB_OFFLINE', '1')

# what each garment IS, written by hand (not copied from any output)
ABOUT_CLASS = {'T-shirt/top': {'shirt', 'shirts', 'top', 'tops', 'tee'}, 'Trouser': {'trousers', 'pants', 'jeans'},
               'Pullover': {'sweater', 'sweaters', 'jumper', 'knitted', 'knit', 'wool', 'yarn'},
               'Dress': {'dress', 'dresses', 'gown'}, 'Coat': {'coat', 'coats', 'jacket', 'jackets', 'overcoat'},
               'Sandal': {'sandals', 'sandal', 'shoes', 'shoe', 'footwear', 'heels', 'flip'},
               'Shirt': {'shirt', 'shirts', 'blouse'}, 'Sneaker': {'sneakers', 'shoes', 'shoe', 'footwear', 'trainers'},
               'Bag': {'bag', 'bags', 'handbag', 'purse', 'backpack', 'luggage'}, 'Ankle boot': {'boot', 'boots', 'ankle'}}


def off_topic_classes(scorer, codebook, centre=0.5, k=5) -> list[str]:
    "Classes none of whose top-k target words (as dataset_targets makes them) is about the class."
    R = class_relevance(scorer, FASHION_MNIST_CLASSES, codebook)  # [10, V]
    top = top_k_targets(R - word_centre(R, centre) if centre else R, k)
    return [c for c, idx in zip(FASHION_MNIST_CLASSES, top) if not set(codebook.words_of(idx)) & ABOUT_CLASS[c]]


@pytest.fixture(scope='module')
def codebook(): return build_codebook('smollm2', vocab_size=0)


def test_every_class_gets_an_on_topic_word(codebook):
    assert off_topic_classes(CaptionScorer(progress=False), codebook) == []


def test_the_check_fails_without_captions_and_fragment_filter(codebook):
    "The check above can fail: with raw class names and no fragment filter, sub-word noise (sand, grouse…) wins some."
    naive = CaptionScorer(captions=None, drop_fragments=False, progress=False)
    bad = off_topic_classes(naive, codebook, centre=0)
    assert bad, 'the naive scorer was expected to miss at least one class'
