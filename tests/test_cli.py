"""The `spae` command end to end, as a user runs it (subprocesses, real data, the committed demo tokenizer)."""
import json, os, subprocess, sys

import numpy as np
import pytest
import torch
from PIL import Image
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPAE = [sys.executable, '-m', 'spae.cli']
ENV = {**os.environ, 'HF_HUB_OFFLINE': '1', 'TRANSFORMERS_OFFLINE': '1'}


def run(*args, cwd=ROOT, timeout=900, env=None, input=None):
    return subprocess.run([*SPAE, *args], capture_output=True, text=True, cwd=cwd, env={**ENV, **(env or {})},
                          timeout=timeout, input=input)


def fails_cleanly(r, kind):
    "Exit code of `kind`, and one line on stderr naming the problem: no traceback."
    from spae.cli import EXIT_CODES
    assert r.returncode == EXIT_CODES[kind], (r.returncode, r.stderr[-2000:])
    assert 'Traceback' not in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr[-2000:]
    return r.stderr


@pytest.fixture(scope='module')
def images(tmp_path_factory):
    "Three Fashion-MNIST test images as PNG files (what a user has), and the tokenizer's in-memory reconstructions."
    from spae.cli import load_tokenizer, read_images, to_uint8
    from spae.data import fashion_mnist
    d = tmp_path_factory.mktemp('images')
    test = fashion_mnist('test', size=32)
    for i in range(3): Image.fromarray(to_uint8(test.images[i:i + 1])[0]).save(d/f'img{i}.png')
    model = load_tokenizer(device='cpu')
    x, names = read_images([d], 32)
    recon = {l: to_uint8(model.decode(model.encode(x), layers=l)) for l in range(1, model.spec.num_layers + 1)}
    return d, names, recon, model


def test_usage_and_unknown_command():
    r = run()
    assert r.returncode == 0 and 'demo' in r.stdout and 'train' in r.stdout and 'bench' in r.stdout
    r = run('frobnicate')
    assert r.returncode == 2 and "unknown command 'frobnicate'" in r.stderr


def test_demo_end_to_end(tmp_path):
    "`spae demo` (what `make demo` runs): words for every class, PSNR rising with every layer, a figure on disk."
    r = run('demo', '--out', str(tmp_path), '--n-eval', '300')
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    from spae.data import FASHION_MNIST_CLASSES
    for name in FASHION_MNIST_CLASSES: assert f'{name}:' in r.stdout
    report = json.loads((tmp_path/'report.json').read_text())
    psnr = report['psnr']
    assert len(psnr) == 5 and all(b > a for a, b in zip(psnr, psnr[1:])), psnr
    assert psnr[-1] > 17, psnr  # a trained tokenizer, not a random one (random weights give < 10 dB)
    assert set(report['words_layers_1_2']) == set(FASHION_MNIST_CLASSES)
    assert (tmp_path/'pyramid.png').stat().st_size > 10_000


def test_demo_on_the_configured_image_folder(tmp_path):
    "`spae demo` evaluates on the dataset the settings name: a small folder of photos (08b's recipe), its test/ split."
    from spae.own_images import PHOTO_CLASSES, photo_folder
    root = photo_folder(tmp_path/'my_photos', per_class=1, test_per_class=2)
    env = dict(SPAE_DATASET='imagefolder', SPAE_IMAGE_FOLDER=str(root), SPAE_DEVICE='cpu')
    r = run('demo', '--out', str(tmp_path/'out'), '--n-eval', '100', env=env)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    for name in PHOTO_CLASSES.values(): assert f'{name}:' in r.stdout
    assert 'imagefolder: 12 evaluation images, 6 classes' in r.stdout and 'TRAINING images' not in r.stderr
    report = json.loads((tmp_path/'out'/'report.json').read_text())
    assert report['dataset'] == 'imagefolder' and report['n'] == 2 * len(PHOTO_CLASSES)  # the test/ images, not Fashion-MNIST
    assert set(report['words_layers_1_2']) == set(PHOTO_CLASSES.values()) and len(report['psnr']) == 5
    assert (tmp_path/'out'/'pyramid.png').stat().st_size > 10_000


def test_demo_with_a_missing_checkpoint_says_what_is_wrong(tmp_path):
    r = run('demo', '--checkpoint', str(tmp_path/'nothing'), '--out', str(tmp_path))
    assert r.returncode != 0 and 'nothing' in r.stderr and 'tokenizer' in r.stderr




def test_usage_lists_every_command_without_importing_them():
    r = run('--help')
    assert r.returncode == 0
    for name in ('demo', 'encode', 'decode', 'train', 'eval', 'ablate', 'fewshot', 'generate', 'bench', 'data'):
        assert f'  {name} ' in r.stdout, name


def test_encode_json_piped_into_decode_is_the_in_memory_reconstruction(images, tmp_path):
    "The issue's example, through a real shell pipe: `spae encode img.png --json | spae decode - -o out.png`."
    d, names, recon, _ = images
    cmd = ' '.join(SPAE)
    r = subprocess.run(f'{cmd} encode {d/"img0.png"} --json | {cmd} decode - -o {tmp_path/"out.png"}', shell=True,
                       capture_output=True, text=True, cwd=ROOT, env=ENV, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    got = np.asarray(Image.open(tmp_path/'out.png'))
    assert got.shape == (32, 32, 3) and np.array_equal(got, recon[5][0])


def test_encode_text_of_a_folder_and_decode_any_prefix(images, tmp_path):
    d, names, recon, model = images
    r = run('encode', str(d), '-o', str(tmp_path/'words.txt'))
    assert r.returncode == 0, r.stderr[-3000:]
    text = (tmp_path/'words.txt').read_text()
    assert text.count('# ') == 3 and text.count('\n5: ') == 3
    first = text.split('\n')[1]  # layer 1 of img0: one word of the codebook
    assert first.startswith('1: ') and first[3:] in model.codebook
    r = run('decode', str(tmp_path/'words.txt'), '--layers', '2', '-o', str(tmp_path/'out'))
    assert r.returncode == 0, r.stderr[-3000:]
    for i in range(3):
        assert np.array_equal(np.asarray(Image.open(tmp_path/'out'/f'img{i}.png')), recon[2][i])
    # --json carries LLM token ids that map back to the words
    js = json.loads(run('encode', str(d/'img1.png'), '--json', '--layers', '3').stdout)
    layers = js['images'][0]['layers']
    assert [len(l['indices']) for l in layers] == [1, 4, 16]
    assert model.codebook.words_of(torch.tensor(layers[1]['indices'])) == layers[1]['words']
    assert model.codebook.token_ids_of(torch.tensor(layers[1]['indices'])).tolist() == layers[1]['token_ids']


def test_decode_reads_plain_words_from_stdin(tmp_path, images):
    _, _, _, model = images
    words = ' '.join(model.codebook.words[:5])  # 1 + 4 words: two whole layers
    r = run('decode', '-', '-o', str(tmp_path/'w.png'), '--scale', '4', input=words)
    assert r.returncode == 0, r.stderr[-3000:]
    assert Image.open(tmp_path/'w.png').size == (128, 128)


# ---- bad input: one line, its own exit code, no traceback -------------------------------------------------------

@pytest.mark.skipif(torch.cuda.is_available(), reason='needs a machine without CUDA (the GPU case is the good one)')
def test_cuda_on_a_machine_without_it(tmp_path):
    err = fails_cleanly(run('train', '--preset', 'tiny', '--device', 'cuda', '--out', str(tmp_path/'r')), 'device')
    assert "'cuda'" in err and 'cpu' in err


def test_unknown_device(images):
    d = images[0]
    assert "unknown device 'gpu0'" in fails_cleanly(run('encode', str(d/'img0.png'), '--device', 'gpu0'), 'device')
    assert 'SPAE' not in fails_cleanly(run('data', 'info', env={'SPAE_DEVICE': 'tpu'}), 'device')


def test_bad_setting_value(images):
    err = fails_cleanly(run('encode', str(images[0]/'img0.png'), env={'SPAE_IMAGE_SIZE': 'abc'}), 'setting')
    assert 'image_size' in err and 'SPAE_IMAGE_SIZE' in err


def test_non_positive_steps_trains_nothing(tmp_path):
    err = fails_cleanly(run('train', '--preset', 'tiny', '--steps', '-5', '--out', str(tmp_path/'r')), 'usage')
    assert '--steps' in err and not (tmp_path/'r').exists()


def test_unknown_model_key(tmp_path):
    err = fails_cleanly(run('train', '--preset', 'tiny', '--model', 'widht=3', '--out', str(tmp_path/'r')), 'usage')
    assert "'widht'" in err and 'base_channels' in err


def test_corrupt_file_in_an_image_folder(images, tmp_path):
    d = tmp_path/'folder'; d.mkdir()
    (d/'good.png').write_bytes((images[0]/'img0.png').read_bytes())
    (d/'broken.jpg').write_bytes(b'not a jpeg at all')
    err = fails_cleanly(run('encode', str(d)), 'image')
    assert 'broken.jpg' in err and 'Delete or replace' in err


def test_corrupt_file_while_training_on_an_image_folder(images, tmp_path):
    for c in ('a', 'b'):
        (tmp_path/'f'/c).mkdir(parents=True)
        for i in range(3): (tmp_path/'f'/c/f'{i}.png').write_bytes((images[0]/f'img{i}.png').read_bytes())
    (tmp_path/'f'/'a'/'zz.jpg').write_bytes(b'\xff\xd8 truncated')
    r = run('train', '--preset', 'tiny', '--steps', '2', '--train-size', '0', '--out', str(tmp_path/'r'),
            env={'SPAE_DATASET': 'imagefolder', 'SPAE_IMAGE_FOLDER': str(tmp_path/'f')})
    assert 'zz.jpg' in fails_cleanly(r, 'image')


def test_wrong_size_nan_and_0_255_arrays(tmp_path):
    cases = {'small.npy': (np.zeros((3, 28, 28), np.float32), '32x32'),
             'nan.npy': (np.full((3, 32, 32), np.nan, np.float32), 'NaN'),
             'pixels.npy': (np.full((3, 32, 32), 200, np.float32), '/ 127.5 - 1')}
    for name, (a, says) in cases.items():
        np.save(tmp_path/name, a)
        err = fails_cleanly(run('encode', str(tmp_path/name)), 'image')
        assert says in err and name in err, err


def test_malformed_checkpoint_config(images, tmp_path):
    bad = tmp_path/'tok'; bad.mkdir()
    from spae.cli import DEMO_TOKENIZER
    (bad/'model.safetensors').write_bytes((DEMO_TOKENIZER/'model.safetensors').read_bytes())
    (bad/'config.json').write_text('{"image_size": 32,,}')
    for args in (('encode', str(images[0]/'img0.png')), ('eval', '--n', '10'), ('demo', '--out', str(tmp_path/'o'))):
        err = fails_cleanly(run(*args, '--checkpoint', str(bad)), 'checkpoint')
        assert 'config.json' in err and 'not valid JSON' in err
    (bad/'config.json').write_text((DEMO_TOKENIZER/'config.json').read_text())
    (bad/'model.safetensors').write_bytes(b'garbage')
    assert 'model.safetensors' in fails_cleanly(run('encode', str(images[0]/'img0.png'), '--checkpoint', str(bad)), 'checkpoint')


def test_decode_bad_words(tmp_path):
    err = fails_cleanly(run('decode', '-', '-o', str(tmp_path/'x.png'), input='qqqzzzx'), 'words')
    assert 'qqqzzzx' in err
    assert 'not valid' in fails_cleanly(run('decode', '-', '-o', str(tmp_path/'x.png'), input='{"images": ['), 'words')


def test_missing_image_file(tmp_path):
    assert 'nope.png' in fails_cleanly(run('encode', str(tmp_path/'nope.png')), 'missing')


def test_data_info_found_and_missing(tmp_path):
    "`spae data info` succeeds only when the configured dataset is there (the default: Fashion-MNIST)."
    r = run('data', 'info')
    assert r.returncode == 0 and 'fashion-mnist : found' in r.stdout, r.stdout + r.stderr
    r = run('data', 'info', env={'SPAE_DATA_ROOT': str(tmp_path)})  # an empty folder
    assert r.returncode == 3 and 'fashion-mnist : MISSING' in r.stdout and 'missing' in r.stderr, r.stdout + r.stderr
