"Generation with the real SmolLM2 and the committed demo tokenizer: exact word counts, codebook words only, seeded, and the `spae generate` command end to end."
import json, subprocess, sys
from pathlib import Path

import pytest
import torch

from spae.generation import (GenerationConfig, progressive_denoise, random_words, context_images, fill_region, parse_box,
                             DEMO_TOKENIZER)

ROOT = Path(__file__).resolve().parents[1]
CMD = [sys.executable, '-c', 'import sys; from spae.generation import cli_generate; sys.exit(cli_generate(sys.argv[1:]))']


@pytest.fixture(scope='module')
def setup():
    from spae.llm import HFLM
    from spae.model import SPAE
    from spae.data import fashion_mnist
    torch.set_num_threads(1)
    model = SPAE.load(DEMO_TOKENIZER).eval()
    return model, HFLM.load('smollm2'), fashion_mnist('train', size=32)


def _generate(setup, seed, layers=3, n=2):
    model, lm, train = setup
    ctx = model.encode(context_images(train, 2, seed=seed))
    return progressive_denoise(model, lm, random_words(model.spec, n, model.codebook.size, seed=seed), ctx, layers,
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


def _run(tmp_path, *args):
    return subprocess.run(CMD + list(args) + ['--out', str(tmp_path)], capture_output=True, text=True, cwd=ROOT, timeout=900)


TINY = ['--n', '1', '--layers', '1', '--context-pairs', '2']

@pytest.mark.parametrize('task,extra', [('denoise', ['--r', '0.5']), ('inpaint', ['--mask', '3:5,3:5']), ('outpaint', []),
                                        ('class', ['--class', 'trouser']), ('caption', [])])
def test_cli_runs_each_task(tmp_path, task, extra):
    r = _run(tmp_path, task, *TINY, *extra)
    assert r.returncode == 0, r.stderr[-2000:]
    res = json.loads((tmp_path/f'{task}.json').read_text())
    assert res['task'] == task and len(res['images']) == 1
    from PIL import Image
    w, h = Image.open(tmp_path/f'{task}.png').size
    assert w in (32, 36) and round(h / w) == len(res['png_rows'])  # one 32-px column (2-px gaps unless alone), a row per image kind


@pytest.mark.parametrize('args,message', [
    (['paint'], "unknown task 'paint'"),
    (['class', '--class', 'hat'], "unknown class 'hat'"),
    (['inpaint', '--mask', '0:9,0:4'], 'outside the latent grid'),
    (['inpaint', '--mask', '2-6'], 'a box needs 2 ranges'),
    (['denoise', '--r', '1.5'], '--r must be in [0, 1]'),
    (['denoise', '--r', '-0.1'], '--r must be in [0, 1]'),
    (['denoise', '--layers', '9'], '--layers must be in 1..5'),
    (['denoise', '--n', 'two'], "invalid int value: 'two'"),
])
def test_cli_bad_input_is_one_clear_line(tmp_path, args, message):
    r = _run(tmp_path, *args)
    assert r.returncode == 2, (r.returncode, r.stderr[-2000:])
    assert message in r.stderr and 'Traceback' not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_cli_missing_tokenizer(tmp_path):
    r = _run(tmp_path, 'denoise', '--checkpoint', str(tmp_path/'nowhere'))
    assert r.returncode == 3 and 'not found' in r.stderr and 'Traceback' not in r.stderr
