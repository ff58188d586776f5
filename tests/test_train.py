"""spae.train end to end with the real SPAE, SmolLM2 codebook (small vocab) and Fashion-MNIST: `run_train`, NaN stop,
checkpoint atomicity, bf16 autocast."""
import json, math, os

import pytest
import torch

from spae.checkpoint import list_checkpoints, read_checkpoint, write_checkpoint
from spae.train import Trainer, NonFiniteLossError, TrainConfig, global_batch, run_train

os.environ.setdefault('HF_HUB_OFFLINE', '1')


def test_run_train_tiny_end_to_end(tmp_path):
    out = tmp_path/'run'
    run_train(TrainConfig(preset='tiny', steps=4, ckpt_every=2, sample_every=2, out=str(out), device='cpu', progress=False))
    recs = [json.loads(l) for l in (out/'metrics.jsonl').read_text().splitlines()]
    assert [r['step'] for r in recs] == [1, 2, 3, 4]
    assert all(math.isfinite(r['total']) and 'recon' in r and 'lr' in r for r in recs)
    assert [p.name for p in list_checkpoints(out)] == ['step_0000002', 'step_0000004']
    assert sorted(p.name for p in (out/'samples').glob('*.png')) == ['step_0000002.png', 'step_0000004.png']
    tensors, state = read_checkpoint(list_checkpoints(out)[-1])
    assert state['step'] == 4 and {'model', 'ema', 'optim', 'rng'} <= set(tensors)
    summary = json.loads((out/'summary.json').read_text())
    assert summary['steps'] == summary['trained_steps'] == 4
    # images/s is what the run did: 4 steps x 8 images in the run's (rounded) seconds
    assert summary['images_per_s'] * summary['seconds'] == pytest.approx(4 * 8, rel=0.1, abs=0.05 * summary['images_per_s'])
    from spae.model import SPAE
    m = SPAE.load(out/'tokenizer')
    x = torch.zeros(2, 3, 32, 32)
    assert m.decode(m.encode(x)).shape == (2, 3, 32, 32)
    # an existing run is never overwritten silently
    with pytest.raises(ValueError, match='already holds checkpoints'):
        run_train(TrainConfig(preset='tiny', steps=4, out=str(out), device='cpu', progress=False))


def test_resume_continues_and_extends(tmp_path):
    out = tmp_path/'run'
    run_train(TrainConfig(preset='tiny', steps=2, out=str(out), device='cpu', progress=False))
    resumed = TrainConfig(resume=True, steps=3, out=str(out))  # no preset given: the saved run's (tiny) is kept
    assert resumed.preset == 'demo' and resumed.for_run().preset == 'tiny' and resumed.for_run().batch_size == 8
    assert run_train(resumed)['trained_steps'] == 1
    assert [json.loads(l)['step'] for l in (out/'metrics.jsonl').read_text().splitlines()] == [1, 2, 3]
    with pytest.raises(FileNotFoundError, match='no config.json'):
        run_train(TrainConfig(resume=True, out=str(tmp_path/'nothing')))


def _nan_dataset(cfg, bad_step):
    "Fashion-MNIST images of the tiny preset, with the images of `bad_step`'s batch made NaN."
    from spae.data import load_dataset
    from spae.train import subset_dataset
    ds = subset_dataset(load_dataset('train'), cfg.train_size, cfg.seed)
    ds.images = ds.images.clone()
    ds.images[global_batch(bad_step, len(ds), cfg.batch_size, cfg.seed)] = float('nan')
    return ds


def test_nan_loss_stops_with_named_term_and_keeps_last_checkpoint(tmp_path):
    cfg = TrainConfig(preset='tiny', steps=6, ckpt_every=2, seed=0, out=str(tmp_path/'run'), device='cpu')
    t = Trainer(cfg, dataset=_nan_dataset(cfg, bad_step=3))  # the 4th step (index 3) sees NaN pixels
    with pytest.raises(NonFiniteLossError) as e:
        t.fit()
    msg = str(e.value)
    assert 'step 3' in msg and 'recon=nan' in msg and 'step_0000002' in msg, msg
    assert [p.name for p in list_checkpoints(tmp_path/'run')] == ['step_0000002']
    tensors, state = read_checkpoint(list_checkpoints(tmp_path/'run')[-1])
    assert state['step'] == 2 and all(torch.isfinite(v).all() for v in tensors['model'].values())
    last = json.loads((tmp_path/'run'/'metrics.jsonl').read_text().splitlines()[-1])
    assert 'recon=nan' in last['error']


def test_checkpoint_write_is_atomic(tmp_path, monkeypatch):
    import spae.checkpoint as T
    ckpts = tmp_path/'checkpoints'
    good = {'model': {'w': torch.ones(3)}}
    write_checkpoint(ckpts/'step_0000002', good, {'step': 2})
    calls = []
    real = T.save_file
    def dying_save(tensors, path):  # the process "dies" after the first file of the next checkpoint
        calls.append(path)
        if len(calls) > 1: raise KeyboardInterrupt('killed')
        real(tensors, path)
    monkeypatch.setattr(T, 'save_file', dying_save)
    with pytest.raises(KeyboardInterrupt):
        write_checkpoint(ckpts/'step_0000004', {'model': {'w': torch.zeros(3)}, 'ema': {'w': torch.zeros(3)}}, {'step': 4})
    assert [p.name for p in list_checkpoints(tmp_path)] == ['step_0000002']  # the half-written one does not count
    assert not (ckpts/'step_0000004').exists()
    tensors, state = read_checkpoint(ckpts/'step_0000002')
    assert state['step'] == 2 and torch.equal(tensors['model']['w'], torch.ones(3))
    # re-saving an existing step replaces it whole
    monkeypatch.setattr(T, 'save_file', real)
    write_checkpoint(ckpts/'step_0000002', {'model': {'w': torch.full((3,), 7.0)}}, {'step': 2})
    assert torch.equal(read_checkpoint(ckpts/'step_0000002')[0]['model']['w'], torch.full((3,), 7.0))


def test_loading_uses_no_pickle(tmp_path):
    "Checkpoints hold only safetensors and JSON files."
    write_checkpoint(tmp_path/'checkpoints'/'step_0000001', {'model': {'w': torch.ones(1)}}, {'step': 1})
    assert {p.suffix for p in (tmp_path/'checkpoints'/'step_0000001').iterdir()} == {'.safetensors', '.json'}


def test_gradient_accumulation_matches_one_big_batch(tmp_path):
    "Two micro-batches of 4 per step train like one batch of 8 (same global batch, same data order)."
    runs = {}
    for accum in (1, 2):
        cfg = TrainConfig(preset='tiny', steps=2, grad_accum=accum, ckpt_every=0, out=str(tmp_path/f'a{accum}'), device='cpu')
        t = Trainer(cfg)
        t.fit()
        runs[accum] = (t.history, {k: v.detach().clone() for k, v in t.model.state_dict().items()})
    (h1, w1), (h2, w2) = runs[1], runs[2]
    for r1, r2 in zip(h1, h2):
        assert abs(r1['recon'] - r2['recon']) < 1e-5 and abs(r1['total'] - r2['total']) < 1e-4, (r1, r2)
    apart = max(float((w1[k] - w2[k]).abs().max()) for k in w1)
    assert apart < 5e-3, apart  # Adam amplifies float noise in near-zero gradients to at most ~lr per step


def test_bf16_autocast_matches_fp32_on_cpu(tmp_path):
    "amp=bf16 runs the forward pass in bfloat16 on the CPU, and its losses stay close to the full-precision run's."
    runs = {}
    for amp in ('none', 'bf16'):
        t = Trainer(TrainConfig(preset='tiny', steps=2, ckpt_every=0, amp=amp, out=str(tmp_path/amp), device='cpu'))
        if amp == 'bf16':
            with t.autocast(): y = t.model.encoder(t.sample_images[:2])
            assert y.dtype == torch.bfloat16
        t.fit()
        runs[amp] = t.history
    for full, half in zip(runs['none'], runs['bf16']):
        for k in ('total', 'recon', 'semantic'):
            assert half[k] == pytest.approx(full[k], rel=0.03), (k, full[k], half[k])
    assert runs['bf16'][0]['recon'] != runs['none'][0]['recon']  # it did run in another precision


def test_paper_preset_takes_one_real_step_on_cpu(tmp_path):
    "`spae train --preset paper` under the shipped (demo) settings.ini: model, pyramid and data all agree on 128 px."
    from spae.core import get_settings
    from spae.model import SPAE
    assert get_settings().preset == 'demo'  # the settings say demo; the flag says paper
    out = tmp_path/'paper'
    run_train(TrainConfig(preset='paper', steps=1, batch_size=2, train_size=2, sample_size=2, vocab_size=512, ema_decay=0,
                          num_workers=0, device='cpu', progress=False, out=str(out)))
    cfg = json.loads((out/'config.json').read_text())
    assert (cfg['preset'], cfg['model']['image_size'], cfg['vocab_size']) == ('paper', 128, 512)  # resolved, recorded
    s = json.loads((out/'summary.json').read_text())
    assert s['steps'] == 1 and math.isfinite(s['last']['total'])
    assert {'perceptual', 'recon_prefix', 'semantic'} <= set(s['last'])  # the paper losses (GAN starts at 20k steps)
    m = SPAE.load(out/'tokenizer')
    assert m.config.image_size == 128 and m.spec.tokens_per_layer == [1, 4, 16, 64, 256, 256]


def test_bad_image_size_fails_before_anything_expensive(tmp_path, monkeypatch):
    "A settings.ini image_size the paper pyramid cannot use is refused before the LLM, the data or the run folder."
    import spae.train as T
    monkeypatch.setenv('SPAE_IMAGE_SIZE', '32')
    monkeypatch.setattr(T, 'build_codebook_for', lambda *a: pytest.fail('the codebook was built before validation'))
    with pytest.raises(ValueError, match=r"preset 'paper' cannot be built at image_size 32.*does not divide"):
        run_train(TrainConfig(preset='paper', steps=1, device='cpu', out=str(tmp_path/'bad')))
    assert not (tmp_path/'bad').exists()


def test_settings_preset_and_vocab_size_are_read(tmp_path, monkeypatch):
    "With no preset given, the preset setting decides; a vocab_size setting beats the preset's; the config beats both."
    from spae.train import resolve_run
    monkeypatch.setenv('SPAE_PRESET', 'tiny')
    cfg = TrainConfig()
    assert cfg.preset == 'tiny' and cfg.steps == 6 and resolve_run(cfg)[0].vocab_size == 512
    monkeypatch.setenv('SPAE_VOCAB_SIZE', '300')
    assert resolve_run(cfg)[0].vocab_size == 300
    assert resolve_run(TrainConfig(vocab_size=200))[0].vocab_size == 200


def test_defaults_are_the_demo_preset():
    "TrainConfig() is the demo preset's row of spae.core.PRESETS; explicit values win; bad values fail at once."
    from spae.core import get_preset
    row = get_preset('demo')['train']
    c = TrainConfig(preset='demo')
    assert {k: getattr(c, k) for k in row if k != 'loss'} == {k: v for k, v in row.items() if k != 'loss'}
    assert c.loss == row['loss']
    assert TrainConfig(preset='tiny', ema_decay=0.999).ema_decay == 0.999  # a value equal to a default still wins
    with pytest.raises(ValueError, match='steps must be >= 0'): TrainConfig(steps=-1)
    with pytest.raises(ValueError, match="did you mean 'steps'"): TrainConfig.from_dict({'stpes': 3})
