"Generation with the real SmolLM2 and the shipped demo tokenizer: exact word counts, codebook words only, seeded, int8, scored captions, and `run_generate` (the `spae generate` command) end to end, bad input included."
import copy, json

import pytest
import torch

from spae.core import tokenizer_dir, MissingAssetError
from spae.generation import (GenerationConfig, GenerateConfig, run_generate, progressive_denoise, random_words, context_images,
                             fill_region, parse_box, quantize_int8, check_same_llm, names_class, score_captions, class_figure)


@pytest.fixture(scope='module')
def setup():
    from spae.llm import HFLM
    from spae.model import SPAE
    from spae.data import fashion_mnist
    torch.set_num_threads(1)
    model = SPAE.load(tokenizer_dir('demo')).eval()
    return model, HFLM.load('smollm2'), fashion_mnist('train', size=32)


def _generate(setup, seed, layers=3, n=2, lm=None):
    model, lm0, train = setup
    ctx = model.encode(context_images(train, 2, seed=seed))
    return progressive_denoise(model, lm or lm0, random_words(model.spec, n, model.codebook.size, seed=seed), ctx, layers,
                               GenerationConfig(context_pairs=2, temperature=1.0, top_k=50, seed=seed))


def test_generation_writes_whole_layers_of_codebook_words(setup):
    model, lm, _ = setup
    g = _generate(setup, seed=0)
    assert [tuple(k.shape) for k in g.indices] == [(2, 1), (2, 4), (2, 16)]  # the pyramid's first three layers
    assert g.written_tokens == 2 * 21
    for k in g.indices: assert int(k.min()) >= 0 and int(k.max()) < model.codebook.size
    ids = torch.cat([model.codebook.token_ids_of(k) for k in g.indices], 1)
    assert set(ids.flatten().tolist()) <= set(model.codebook.token_ids.tolist())
    words = [lm.detokenize([i]).strip() for i in ids[0].tolist()]
    assert words == model.codebook.words_of(torch.cat([k[0] for k in g.indices]).tolist())  # the LLM's words are the codebook's
    assert model.decode(g.indices).shape == (2, 3, 32, 32)


def test_fixed_seed_gives_identical_output(setup):
    a, b, c = _generate(setup, seed=3, layers=2), _generate(setup, seed=3, layers=2), _generate(setup, seed=4, layers=2)
    assert [k.tolist() for k in a.indices] == [k.tolist() for k in b.indices]
    assert [k.tolist() for k in a.indices] != [k.tolist() for k in c.indices]


def test_fill_region_keeps_the_words_outside_it(setup):
    model, lm, train = setup
    x = context_images(train, 2, seed=9)
    region = parse_box('2:6,2:6', model.spec.grid)
    d = fill_region(model, lm, x, region, context_images(train, 2, seed=1), layers=3, cfg=GenerationConfig(context_pairs=2))
    clean, out = d['indices']['clean'], d['indices']['output']
    assert torch.equal(out[2][:, :4], clean[2][:, :4])  # layer 3, grid row 0 (centres at row 1): outside the box
    assert d['output'].shape == x.shape


def test_int8_llm_keeps_its_vocabulary_and_writes_codebook_words(setup):
    from spae.llm import HFLM
    model, lm, _ = setup
    lm8 = quantize_int8(HFLM(copy.deepcopy(lm.model), lm.tokenizer, name=lm.name))
    assert lm8.vocab_size == lm.vocab_size and type(lm8.model.lm_head) is not torch.nn.Linear
    g = _generate(setup, seed=0, layers=2, lm=lm8)
    assert [tuple(k.shape) for k in g.indices] == [(2, 1), (2, 4)]
    assert int(torch.cat(g.indices, 1).max()) < model.codebook.size


def test_captions_are_scored_by_class_names(setup):
    from spae.data import fashion_mnist
    model, lm, _ = setup
    assert names_class('a pair of Jeans', 1) and names_class('two boots', 9) and names_class('A red dress.', 3)
    assert not names_class('a white t-shirt', 6) and names_class('a white t-shirt', 0)  # t-shirt is not Shirt
    assert not names_class('shoes feet', 7)  # a bare "shoe" names no single class
    test = fashion_mnist('test', size=32)
    s = score_captions(model, lm, test.images[:2], test.labels[:2], examples=2)
    assert s['image_words']['n'] == s['random_words']['n'] == 2 and len(s['examples']) == 2
    for e in s['examples']: assert isinstance(e['caption'], str) and e['caption'] and '<|im_end|>' not in e['caption']
    lo, hi = s['image_words']['ci95']
    assert 0 <= lo <= s['image_words']['fraction'] <= hi <= 1


def test_class_figure_labels_each_row_and_image():
    outs = {1: torch.zeros(2, 3, 32, 32), 7: torch.zeros(2, 3, 32, 32)}
    fig = class_figure(outs, {1: [1, 3], 7: [9, 7]})
    titles = [a.get_title() for a in fig.axes]
    assert titles == ['seen: Trouser', 'seen ✗: Dress', 'seen ✗: Ankle boot', 'seen: Sneaker']
    assert 'Trouser' in fig.axes[0].get_ylabel() and 'Sneaker' in fig.axes[2].get_ylabel()
    assert fig.axes[0].get_images()[0].get_array().shape[:2] == (128, 128)  # 4× nearest


TINY = dict(n=1, layers=1, context_pairs=2)

@pytest.mark.parametrize('task,extra', [('denoise', dict(r=0.5)), ('inpaint', dict(mask='3:5,3:5')), ('outpaint', {}),
                                        ('class', dict(label='trouser')), ('caption', {})])
def test_run_generate_each_task(tmp_path, task, extra):
    from PIL import Image
    res = run_generate(GenerateConfig(task, **TINY, **extra, out=str(tmp_path), threads=1))
    saved = json.loads((tmp_path/f'{task}.json').read_text())
    assert saved['task'] == task and len(saved['images']) == 1 and saved['llm'] == 'smollm2' and saved == res
    w, h = Image.open(tmp_path/f'{task}.png').size
    if task == 'class':  # a labelled figure of one 4× image
        assert w >= 4 * 32 and h >= 4 * 32 and res['images'][0]['requested'] == 'Trouser' and res['images'][0]['classified_as']
    else: assert w in (32, 36) and round(h / w) == len(res['png_rows'])  # one 32-px column, a row per image kind


@pytest.mark.parametrize('kw,message', [
    (dict(task='paint'), "unknown task 'paint'"),
    (dict(task='class', label='hat'), "unknown class 'hat'"),
    (dict(task='denoise', r=1.5), 'r must be in [0, 1]'),
    (dict(task='denoise', n=0), 'n must be ≥ 1'),
    (dict(task='class', temperature=1.0, top_k=0), 'top_k must be ≥ 1'),
    (dict(task='denoise', mask='2:6,2:6'), 'mask is for inpaint and outpaint'),
])
def test_bad_options_are_one_clear_line(kw, message):
    with pytest.raises(ValueError, match=None) as e: GenerateConfig(**kw)
    assert message in str(e.value) and '\n' not in str(e.value)


@pytest.mark.parametrize('kw,message', [
    (dict(task='inpaint', mask='0:9,0:4'), 'outside the latent grid'),
    (dict(task='inpaint', mask='2-6'), 'a box needs 2 ranges'),
    (dict(task='denoise', layers=9), 'layers must be in 1..5'),
    (dict(task='denoise', llm='gemma3'), "trained for the LLM 'smollm2' (its config.llm)"),
])
def test_bad_input_fails_before_the_llm_loads(tmp_path, monkeypatch, kw, message):
    from spae.llm import HFLM
    monkeypatch.setattr(HFLM, 'load', classmethod(lambda *a, **k: pytest.fail('the LLM was loaded')))
    with pytest.raises(ValueError) as e: run_generate(GenerateConfig(**kw, out=str(tmp_path)))
    assert message in str(e.value) and '\n' not in str(e.value)


def test_unwritable_output_and_missing_tokenizer_fail_at_once(tmp_path, monkeypatch):
    from spae.llm import HFLM
    monkeypatch.setattr(HFLM, 'load', classmethod(lambda *a, **k: pytest.fail('the LLM was loaded')))
    (tmp_path/'a-file').write_text('')
    with pytest.raises(ValueError, match='cannot write the output folder'):
        run_generate(GenerateConfig('denoise', out=str(tmp_path/'a-file'/'out')))
    with pytest.raises(MissingAssetError, match='not found'):
        run_generate(GenerateConfig('denoise', tokenizer=str(tmp_path/'nowhere'), out=str(tmp_path)))
    with pytest.raises(MissingAssetError, match="no tokenizer named 'nope'"):
        run_generate(GenerateConfig('denoise', tokenizer='nope', out=str(tmp_path)))


def test_caption_may_use_another_llm(tmp_path):
    "Captions hand the LLM the words as text: no codebook ids, so the tokenizer/LLM pair is not checked."
    assert GenerateConfig('caption', llm='gemma3', out=str(tmp_path)).check().config.llm == 'smollm2'


def test_every_field_has_help_for_the_cli():
    from dataclasses import fields
    from fastcore.docments import docments
    helps = docments(GenerateConfig)
    assert all(helps.get(f.name) for f in fields(GenerateConfig)), [f.name for f in fields(GenerateConfig) if not helps.get(f.name)]
    assert GenerateConfig.POSITIONAL == ('task',)


def test_a_tokenizer_refuses_another_packaged_llm(setup):
    from types import SimpleNamespace
    model, lm, _ = setup
    check_same_llm(model, lm)
    with pytest.raises(ValueError, match="token ids of 'smollm2'"): check_same_llm(model, SimpleNamespace(name='gemma3'))
    gemma_tok = SimpleNamespace(config=SimpleNamespace(llm='gemma3'))
    with pytest.raises(ValueError, match="token ids of 'gemma3'"): check_same_llm(gemma_tok, lm)  # the reverse pair


def test_gemma_tokenizer_with_smollm2_is_refused(tmp_path, monkeypatch):
    from spae.core import shipped_tokenizers
    if 'gemma3-demo' not in shipped_tokenizers(): pytest.skip('the gemma3-demo tokenizer is not shipped in this checkout')
    from spae.llm import HFLM
    monkeypatch.setattr(HFLM, 'load', classmethod(lambda *a, **k: pytest.fail('the LLM was loaded')))
    with pytest.raises(ValueError, match="trained for the LLM 'gemma3'"):
        run_generate(GenerateConfig('denoise', tokenizer='gemma3-demo', llm='smollm2', out=str(tmp_path)))
