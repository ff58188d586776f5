"""The `spae` command end to end, as a user runs it: in this process through `spae.cli.main(argv)` (the same code the
console script runs), plus two real subprocesses (the console script in a shell pipe, and `spae --help`'s imports)."""
import io, json, os, re, shutil, subprocess, sys, warnings

import numpy as np
import pytest
import torch
from PIL import Image
from pathlib import Path

from spae.cli import COMMANDS, EXIT_CODES, main

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, 'HF_HUB_OFFLINE': '1', 'TRANSFORMERS_OFFLINE': '1'}


@pytest.fixture
def spae(monkeypatch, capsys):
    "`spae(*argv, env=..., input=...)` runs `main(argv)` in this process: (exit code, stdout, stderr)."
    def run(*args, env=None, input=None):
        for k, v in (env or {}).items(): monkeypatch.setenv(k, v)
        if input is not None: monkeypatch.setattr(sys, 'stdin', io.StringIO(input))
        capsys.readouterr()
        try: rc = main([str(a) for a in args])
        finally:
            for k in (env or {}): monkeypatch.delenv(k)
        out, err = capsys.readouterr()
        return rc, out, err
    return run


def fails_cleanly(result, kind):
    "Exit code of `kind`, and one line on stderr naming the problem: no traceback."
    rc, _, err = result
    assert rc == EXIT_CODES[kind], (rc, err[-2000:])
    assert 'Traceback' not in err and len(err.strip().splitlines()) == 1, err[-2000:]
    return err


@pytest.fixture(scope='module')
def images(tmp_path_factory):
    "Three Fashion-MNIST test images as PNG files (what a user has), and the tokenizer's in-memory reconstructions."
    from spae.cli import read_images, to_uint8
    from spae.data import fashion_mnist
    from spae.model import SPAE
    d = tmp_path_factory.mktemp('images')
    test = fashion_mnist('test', size=32)
    for i in range(3): Image.fromarray(to_uint8(test.images[i:i + 1])[0]).save(d/f'img{i}.png')
    model = SPAE.load('demo').eval()
    x, names = read_images([d], 32)
    recon = {l: to_uint8(model.decode(model.encode(x), layers=l)) for l in range(1, model.spec.num_layers + 1)}
    return d, names, recon, model


# ---- every command and flag of before keeps working -------------------------------------------------------------

# the flags each `spae <x> --help` listed before the parsers were generated from the configs
OLD_FLAGS = {
    'demo': ['--checkpoint', '--n-eval', '--out'],
    'encode': ['--batch-size', '--checkpoint', '--device', '--json', '--layers', '--out', '-o'],
    'decode': ['--checkpoint', '--device', '--layers', '--out', '--scale', '--unknown', '-o'],
    'train': ['--amp', '--batch-size', '--betas', '--ckpt-every', '--clip-grad', '--compile', '--config', '--device', '--disc-betas',
              '--disc-lr', '--ema-decay', '--grad-accum', '--keep-checkpoints', '--log-every', '--loss', '--lr', '--min-lr-ratio',
              '--model', '--no-compile', '--no-progress', '--num-workers', '--out', '--preset', '--progress', '--resume',
              '--sample-every', '--sample-size', '--seed', '--semantic-centre', '--semantic-discriminative', '--semantic-k',
              '--steps', '--train-size', '--vocab-size', '--warmup-steps', '--weight-decay'],
    'eval': ['--checkpoint', '--device', '--json', '--n', '--no-fd', '--no-perceptual', '--weights'],
    'ablate': ['--batch-size', '--json', '--lr', '--n', '--no-progress', '--out', '--preset', '--steps', '--train-size',
               '--variants', '--vocab-size'],
    'fewshot': ['--dataset', '--endpoint', '--episodes', '--imagenet-root', '--json', '--labels', '--llm', '--no-induction',
                '--no-progress', '--pool', '--queries', '--repeats', '--rows', '--seed', '--shots', '--tokenizer', '--update',
                '--ways'],
    'generate': ['--checkpoint', '--class', '--context-pairs', '--copy-bias', '--draft', '--json', '--layers', '--llm', '--mask',
                 '--n', '--n-images', '--out', '--prompt', '--r', '--rounds', '--seed', '--temperature', '--threads', '--top-k'],
    'bench': ['--amp', '--device', '--gpu', '--json', '--max-batch', '--only', '--preset', '--quick', '--repeats', '--threads'],
    'data': ['--download'],  # on `spae data fashion-mnist`, with --root (now one parser: `spae data [info|fashion-mnist]`)
}


@pytest.mark.parametrize('command', list(OLD_FLAGS))
def test_help_lists_every_flag_of_before(spae, command):
    rc, out, _ = spae(command, '--help')
    assert rc == 0 and out.startswith(f'usage: spae {command}'), out[:300]
    flags = set(re.findall(r'(?<![\w-])(--?[a-zA-Z][\w-]*)', out))
    assert set(OLD_FLAGS[command]) <= flags, sorted(set(OLD_FLAGS[command]) - flags)
    assert '--config' in flags  # every command can start from a JSON of its config


def test_config_file_then_flags(spae, images, tmp_path):
    "`--config FILE` gives the fields; flags given on the command line win; an unknown key is a `setting` error."
    d, names, recon, _ = images
    (tmp_path/'enc.json').write_text(json.dumps({'images': [str(d/'img0.png')], 'layers': 2, 'json': True}))
    rc, out, err = spae('encode', '--config', tmp_path/'enc.json', '--layers', '3')
    assert rc == 0, err
    assert [len(l['indices']) for l in json.loads(out)['images'][0]['layers']] == [1, 4, 16]  # --layers 3 beat the file's 2
    (tmp_path/'bad.json').write_text(json.dumps({'images': [str(d)], 'layer': 2}))
    err = fails_cleanly(spae('encode', '--config', tmp_path/'bad.json'), 'setting')
    assert "'layer'" in err and "did you mean 'layers'" in err
    assert 'is not valid JSON' in fails_cleanly(spae('eval', '--config', d/'img0.png'), 'setting')


def test_usage_and_unknown_command(spae):
    rc, out, _ = spae()
    assert rc == 0
    for name in COMMANDS: assert f'  {name} ' in out, name
    rc, _, err = spae('frobnicate')
    assert rc == 2 and "unknown command 'frobnicate'" in err
    assert "unknown command 'video frob'" in spae('video', 'frob')[2]


def test_a_required_field_and_a_bad_choice_are_usage_errors(spae, tmp_path):
    assert '--checkpoint is required' in fails_cleanly(spae('eval', '--n', '5'), 'usage')
    assert 'words is required' in fails_cleanly(spae('decode', '-o', tmp_path/'x.png'), 'usage')
    rc, _, err = spae('eval', '--checkpoint', 'demo', '--weights', 'best')  # argparse's own check of a choice
    assert rc == EXIT_CODES['usage'] and "invalid choice: 'best'" in err
    assert 'is a file, not a folder' in fails_cleanly(spae('demo', '--out', Path(__file__)/'sub'), 'usage')


# ---- what the commands do ----------------------------------------------------------------------------------------

def test_demo_end_to_end(spae, tmp_path):
    "`spae demo` (what `make demo` runs): words for every class, PSNR rising with every layer, a figure on disk."
    rc, out, err = spae('demo', '--out', tmp_path, '--n-eval', '300')
    assert rc == 0, out[-3000:] + err[-3000:]
    from spae.data import FASHION_MNIST_CLASSES
    for name in FASHION_MNIST_CLASSES: assert f'{name}:' in out
    report = json.loads((tmp_path/'report.json').read_text())
    psnr = report['psnr']
    assert len(psnr) == 5 and all(b > a for a, b in zip(psnr, psnr[1:])), psnr
    assert psnr[-1] > 17, psnr  # a trained tokenizer, not a random one (random weights give < 10 dB)
    assert set(report['words_layers_1_2']) == set(FASHION_MNIST_CLASSES)
    assert (tmp_path/'pyramid.png').stat().st_size > 10_000


def test_demo_on_the_configured_image_folder(spae, tmp_path):
    "`spae demo` evaluates on the dataset the settings name: a small folder of photos (08b's recipe), its test/ split."
    from spae.own_images import PHOTO_CLASSES, photo_folder
    root = photo_folder(tmp_path/'my_photos', per_class=1, test_per_class=2)
    env = dict(SPAE_DATASET='imagefolder', SPAE_IMAGE_FOLDER=str(root), SPAE_DEVICE='cpu')
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        rc, out, err = spae('demo', '--out', tmp_path/'out', '--n-eval', '100', env=env)
    assert rc == 0, out[-3000:] + err[-3000:]
    for name in PHOTO_CLASSES.values(): assert f'{name}:' in out
    assert 'imagefolder: 12 evaluation images, 6 classes' in out
    assert not any('TRAINING images' in str(w.message) for w in caught)
    report = json.loads((tmp_path/'out'/'report.json').read_text())
    assert report['dataset'] == 'imagefolder' and report['n'] == 2 * len(PHOTO_CLASSES)  # the test/ images, not Fashion-MNIST
    assert set(report['words_layers_1_2']) == set(PHOTO_CLASSES.values()) and len(report['psnr']) == 5
    assert (tmp_path/'out'/'pyramid.png').stat().st_size > 10_000


def test_demo_with_a_missing_checkpoint_says_what_is_wrong(spae, tmp_path):
    err = fails_cleanly(spae('demo', '--checkpoint', tmp_path/'nothing', '--out', tmp_path), 'missing')
    assert 'nothing' in err and 'tokenizer' in err


def test_encode_text_of_a_folder_and_decode_any_prefix(spae, images, tmp_path):
    d, names, recon, model = images
    rc, _, err = spae('encode', d, '-o', tmp_path/'words.txt')
    assert rc == 0, err[-3000:]
    text = (tmp_path/'words.txt').read_text()
    assert text.count('# ') == 3 and text.count('\n5: ') == 3
    first = text.split('\n')[1]  # layer 1 of img0: one word of the codebook
    assert first.startswith('1: ') and first[3:] in model.codebook
    rc, _, err = spae('decode', tmp_path/'words.txt', '--layers', '2', '-o', tmp_path/'out')
    assert rc == 0, err[-3000:]
    for i in range(3):
        assert np.array_equal(np.asarray(Image.open(tmp_path/'out'/f'img{i}.png')), recon[2][i])
    # --json carries LLM token ids that map back to the words
    rc, out, _ = spae('encode', d/'img1.png', '--json', '--layers', '3')
    layers = json.loads(out)['images'][0]['layers']
    assert [len(l['indices']) for l in layers] == [1, 4, 16]
    assert model.codebook.words_of(torch.tensor(layers[1]['indices'])) == layers[1]['words']
    assert model.codebook.token_ids_of(torch.tensor(layers[1]['indices'])).tolist() == layers[1]['token_ids']


def test_decode_reads_plain_words_from_stdin(spae, tmp_path, images):
    _, _, _, model = images
    words = ' '.join(model.codebook.words[:5])  # 1 + 4 words: two whole layers
    rc, _, err = spae('decode', '-', '-o', tmp_path/'w.png', '--scale', '4', input=words)
    assert rc == 0, err[-3000:]
    assert Image.open(tmp_path/'w.png').size == (128, 128)


# ---- bad input: one line, its own exit code, no traceback -------------------------------------------------------

@pytest.mark.skipif(torch.cuda.is_available(), reason='needs a machine without CUDA (the GPU case is the good one)')
def test_cuda_on_a_machine_without_it(spae, tmp_path):
    err = fails_cleanly(spae('train', '--preset', 'tiny', '--device', 'cuda', '--out', tmp_path/'r'), 'device')
    assert "'cuda'" in err and 'cpu' in err


def test_unknown_device(spae, images):
    d = images[0]
    assert "unknown device 'gpu0'" in fails_cleanly(spae('encode', d/'img0.png', '--device', 'gpu0'), 'device')
    assert 'SPAE' not in fails_cleanly(spae('data', 'info', env={'SPAE_DEVICE': 'tpu'}), 'device')


def test_bad_setting_value(spae, images):
    err = fails_cleanly(spae('encode', images[0]/'img0.png', env={'SPAE_IMAGE_SIZE': 'abc'}), 'setting')
    assert 'image_size' in err and 'SPAE_IMAGE_SIZE' in err


def test_non_positive_steps_trains_nothing(spae, tmp_path):
    err = fails_cleanly(spae('train', '--preset', 'tiny', '--steps', '-5', '--out', tmp_path/'r'), 'usage')
    assert '--steps' in err and not (tmp_path/'r').exists()
    assert '--n-eval must be a positive integer' in fails_cleanly(spae('demo', '--n-eval', '0', '--out', tmp_path/'d'), 'usage')
    assert 'max_classes must be a positive integer' in fails_cleanly(spae('demo', '--max-classes', '0'), 'usage')  # the config's check


def test_unknown_model_key(spae, tmp_path):
    err = fails_cleanly(spae('train', '--preset', 'tiny', '--model', 'widht=3', '--out', tmp_path/'r'), 'usage')
    assert "'widht'" in err and 'base_channels' in err


def test_corrupt_file_in_an_image_folder(spae, images, tmp_path):
    d = tmp_path/'folder'; d.mkdir()
    (d/'good.png').write_bytes((images[0]/'img0.png').read_bytes())
    (d/'broken.jpg').write_bytes(b'not a jpeg at all')
    err = fails_cleanly(spae('encode', d), 'image')
    assert 'broken.jpg' in err and 'Delete or replace' in err


def test_corrupt_file_while_training_on_an_image_folder(spae, images, tmp_path):
    for c in ('a', 'b'):
        (tmp_path/'f'/c).mkdir(parents=True)
        for i in range(3): (tmp_path/'f'/c/f'{i}.png').write_bytes((images[0]/f'img{i}.png').read_bytes())
    (tmp_path/'f'/'a'/'zz.jpg').write_bytes(b'\xff\xd8 truncated')
    r = spae('train', '--preset', 'tiny', '--steps', '2', '--train-size', '0', '--out', tmp_path/'r',
             env={'SPAE_DATASET': 'imagefolder', 'SPAE_IMAGE_FOLDER': str(tmp_path/'f')})
    assert 'zz.jpg' in fails_cleanly(r, 'image')


def test_wrong_size_nan_and_0_255_arrays(spae, tmp_path):
    cases = {'small.npy': (np.zeros((3, 28, 28), np.float32), '32x32'),
             'nan.npy': (np.full((3, 32, 32), np.nan, np.float32), 'NaN'),
             'pixels.npy': (np.full((3, 32, 32), 200, np.float32), '/ 127.5 - 1')}
    for name, (a, says) in cases.items():
        np.save(tmp_path/name, a)
        err = fails_cleanly(spae('encode', tmp_path/name), 'image')
        assert says in err and name in err, err


def test_malformed_checkpoint_config(spae, images, tmp_path):
    from spae.core import tokenizer_dir
    demo = tokenizer_dir('demo')
    bad = tmp_path/'tok'; bad.mkdir()
    (bad/'model.safetensors').write_bytes((demo/'model.safetensors').read_bytes())
    (bad/'config.json').write_text('{"image_size": 32,,}')
    for args in (('encode', images[0]/'img0.png'), ('eval', '--n', '10'), ('demo', '--out', tmp_path/'o')):
        err = fails_cleanly(spae(*args, '--checkpoint', bad), 'checkpoint')
        assert 'config.json' in err and 'not valid JSON' in err
    (bad/'config.json').write_text((demo/'config.json').read_text())
    (bad/'model.safetensors').write_bytes(b'garbage')
    assert 'model.safetensors' in fails_cleanly(spae('encode', images[0]/'img0.png', '--checkpoint', bad), 'checkpoint')


def test_decode_bad_words(spae, tmp_path):
    err = fails_cleanly(spae('decode', '-', '-o', tmp_path/'x.png', input='qqqzzzx'), 'words')
    assert 'qqqzzzx' in err
    assert 'not valid' in fails_cleanly(spae('decode', '-', '-o', tmp_path/'x.png', input='{"images": ['), 'words')


def test_missing_image_file(spae, tmp_path):
    assert 'nope.png' in fails_cleanly(spae('encode', tmp_path/'nope.png'), 'missing')
    assert 'words.txt' in fails_cleanly(spae('decode', tmp_path/'words.txt', '-o', tmp_path/'x.png'), 'missing')


def test_data_info_found_and_missing(spae, tmp_path):
    "`spae data info` succeeds only when the configured dataset is there (the default: Fashion-MNIST)."
    rc, out, err = spae('data', 'info')
    assert rc == 0 and 'fashion-mnist : found' in out, out + err
    rc, out, err = spae('data', 'info', env={'SPAE_DATA_ROOT': str(tmp_path)})  # an empty folder
    assert rc == EXIT_CODES['missing'] and 'fashion-mnist : MISSING' in out and 'missing' in err, out + err
    assert 'fashion-mnist/test: 10000 images' in spae('data', 'fashion-mnist')[1]


# ---- the real console script, in subprocesses ----------------------------------------------------------------------

def test_console_script_encode_json_piped_into_decode(images, tmp_path):
    "The issue's example, through the installed `spae` script and a real shell pipe: `spae encode img.png --json | spae decode - -o out.png`."
    d, names, recon, _ = images
    exe = shutil.which('spae', path=str(Path(sys.executable).parent)) or pytest.skip('the spae console script is not installed')
    r = subprocess.run(f'{exe} encode {d/"img0.png"} --json | {exe} decode - -o {tmp_path/"out.png"}', shell=True,
                       capture_output=True, text=True, cwd=ROOT, env=ENV, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    got = np.asarray(Image.open(tmp_path/'out.png'))
    assert got.shape == (32, 32, 3) and np.array_equal(got, recon[5][0])


def test_usage_lists_every_command_without_importing_them():
    code = 'import sys; from spae.cli import main; main(["--help"]); print(sorted(m for m in ("spae.train", "spae.fewshot", "spae.generation", "spae.video") if m in sys.modules))'
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, env=ENV, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    for name in COMMANDS: assert f'  {name} ' in r.stdout, name
    assert r.stdout.strip().splitlines()[-1] == '[]'  # no command's module was imported to list them
