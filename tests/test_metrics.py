"""spae.metrics: SSIM against scikit-image, Fréchet distance, `spae eval` on a trained tokenizer, and the committed
demo tokenizer's promises (PSNR rises with every layer; the top layers' words beat random words)."""
import json, os
from pathlib import Path

import numpy as np
import pytest
import torch

from spae.metrics import EvalConfig, eval_dataset, evaluate, frechet_distance, load_tokenizer_or_run, run_eval, ssim

os.environ.setdefault('HF_HUB_OFFLINE', '1')
ROOT = Path(__file__).resolve().parents[1]


def test_ssim_matches_scikit_image_inside_the_borders():
    from skimage.metrics import structural_similarity
    g = torch.Generator().manual_seed(0)
    a = torch.rand(3, 3, 48, 48, generator=g) * 2 - 1
    b = (a + 0.2 * torch.randn(a.shape, generator=g)).clamp(-1, 1)
    for i in range(3):
        _, full = structural_similarity(((a[i] + 1) / 2).numpy(), ((b[i] + 1) / 2).numpy(), channel_axis=0, data_range=1.0,
                                        gaussian_weights=True, sigma=1.5, use_sample_covariance=False, full=True)
        inner = full[:, 5:-5, 5:-5].mean()  # skimage's map over the same 'valid' windows
        assert abs(float(ssim(a[i:i+1], b[i:i+1])) - inner) < 1e-4


def test_frechet_distance_of_shifted_gaussians():
    g = torch.Generator().manual_seed(0)
    f = torch.randn(4000, 4, generator=g)
    assert abs(frechet_distance(f, f + torch.tensor([2.0, 0, 0, 0])) - 4.0) < 1e-6


def test_eval_on_a_freshly_trained_tiny_run(tmp_path, capsys):
    from spae.cli import main
    out = tmp_path/'run'
    assert main(['train', '--preset', 'tiny', '--steps', '2', '--out', str(out), '--device', 'cpu', '--no-progress']) == 0
    returned = run_eval(EvalConfig(str(out), n=40, json=str(tmp_path/'e.json'), device='cpu'))
    r = json.loads((tmp_path/'e.json').read_text())
    assert r == returned and 'PSNR (dB)' in capsys.readouterr().out  # the report it wrote, and printed
    L = len(r['tokens_per_layer'])
    assert r['n'] == 40 and len(r['psnr']) == len(r['ssim']) == len(r['relevance']) == len(r['usage']) == L
    assert r['frechet']['name'] == 'FD-EfficientNet-Lite0, not FID' and np.isfinite(r['frechet']['value'])
    # the perceptual distance is named for what it is, and its value is that network's distance on these images
    from spae.losses import PerceptualLoss, lpips_available
    from spae.metrics import perceptual_distance
    expected = PerceptualLoss('lpips' if lpips_available() else 'efficientnet').name
    assert r['perceptual']['name'] == expected and ('not LPIPS' in expected) != lpips_available()
    model = load_tokenizer_or_run(out)
    images = torch.stack([eval_dataset(image_size=32)[i][0] for i in range(40)])
    recon = model.decode(model.encode(images)).clamp(-1, 1)
    assert r['perceptual']['value'] == pytest.approx(perceptual_distance(recon, images)[0], rel=1e-3)
    # a training checkpoint folder works too (raw weights)
    ck = sorted((out/'checkpoints').glob('step_*'))[-1]
    assert load_tokenizer_or_run(ck, weights='raw').quantizer.spec.num_layers == L
    with pytest.raises(FileNotFoundError, match='does not exist'):
        load_tokenizer_or_run(tmp_path/'missing')


@pytest.mark.skipif(not (ROOT/'spae'/'tokenizers'/'demo'/'config.json').exists(), reason='demo tokenizer not committed yet')
def test_committed_demo_tokenizer_keeps_its_promises():
    model = load_tokenizer_or_run('demo')  # a shipped tokenizer, by name
    r = evaluate(model, n=200, fd=False, perceptual=False)
    p = r['psnr']
    assert all(b > a for a, b in zip(p, p[1:])), f'PSNR must rise with every layer: {p}'
    for layer in r['relevance'][:2]:
        assert layer['chosen'] > layer['random'] and layer['percentile'] > 0.75, r['relevance']


def test_eval_config_checks_before_any_work(tmp_path):
    with pytest.raises(ValueError, match='n must be a positive integer'): EvalConfig('demo', n=0)
    with pytest.raises(ValueError, match='weights must be one of ema, raw'): EvalConfig('demo', weights='best')
    (tmp_path/'file').write_text('x')
    with pytest.raises(ValueError, match='is a file, not a folder'): EvalConfig('demo', json=str(tmp_path/'file'/'e.json'))
