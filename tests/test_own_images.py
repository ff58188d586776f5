"""The own-images recipe end to end (notebook 08b): a folder of photos -> `spae train` -> `spae eval`, each one command,
with the settings given through the environment; and what happens without a test/ folder."""
import json, os, subprocess, sys

import pytest

from spae.own_images import PHOTO_CLASSES, photo_folder

ENV = {**os.environ, 'HF_HUB_OFFLINE': '1'}


def _spae(*args, **env):
    "Run the installed `spae` command as a user would; returns the finished process."
    return subprocess.run([sys.executable, '-c', 'import sys; from spae.cli import main; sys.exit(main())', *args],
                          capture_output=True, text=True, env={**ENV, **env}, timeout=900)


def test_train_then_eval_on_a_photo_folder(tmp_path):
    root = photo_folder(tmp_path/'my_photos', per_class=6, test_per_class=2)
    env = dict(SPAE_DATASET='imagefolder', SPAE_IMAGE_FOLDER=str(root), SPAE_DEVICE='cpu')
    run = tmp_path/'runs'/'my_photos'
    r = _spae('train', '--preset', 'tiny', '--steps', '2', '--batch-size', '4', '--out', str(run), '--no-progress', **env)
    assert r.returncode == 0, r.stderr[-3000:]
    summary = json.loads((run/'summary.json').read_text())
    assert summary['steps'] == 2 and summary['trained_steps'] == 2
    r = _spae('eval', '--checkpoint', str(run), '--n', '100', '--no-fd', '--no-perceptual', '--json', str(tmp_path/'e.json'), **env)
    assert r.returncode == 0, r.stderr[-3000:]
    report = json.loads((tmp_path/'e.json').read_text())
    assert report['n'] == 2 * len(PHOTO_CLASSES)  # every held-out test image, and only those
    assert len(report['psnr']) == len(report['tokens_per_layer']) == 5
    assert 'TRAINING images' not in r.stderr


def test_eval_without_a_test_folder_uses_the_training_images_and_says_so(tmp_path):
    root = photo_folder(tmp_path/'my_photos', per_class=4, test_per_class=0)
    from spae.core import get_settings
    from spae.metrics import eval_dataset
    with pytest.warns(UserWarning, match='evaluating on the TRAINING images'):
        ds = eval_dataset(get_settings(dataset='imagefolder', image_folder=str(root)))
    assert len(ds) == 4 * len(PHOTO_CLASSES) and sorted(ds.classes) == sorted(PHOTO_CLASSES.values())
