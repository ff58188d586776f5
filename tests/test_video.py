"Video SPAE: seeded Moving Fashion-MNIST clips, the causal video tokenizer's training loop, clip I/O, eval and LLM continuation scoring (tiny preset)."
import json
from dataclasses import replace

import pytest
import torch
import torch.nn.functional as F

from spae.video import (MovingFashionMNIST, bounce, clip_targets, clip_relevance, VideoTrainConfig, run_video_train,
                        VideoEvalConfig, run_video_eval, VideoScoreConfig, run_video_score, read_clip, write_gif,
                        encode_clip, decode_clip, step_words, with_step, video_model_config)


def test_bounce_reflects_at_the_walls():
    assert bounce(0, 5, 6, 10).tolist() == [0, 5, 10, 5, 0, 5]
    assert bounce(3, -2, 4, 10).tolist() == [3, 1, 1, 3]
    p = bounce(7.3, 2.9, 50, 16)
    assert p.min() >= 0 and p.max() <= 16


def test_clips_are_seeded_and_split():
    train, test = MovingFashionMNIST('train', n=50), MovingFashionMNIST('test', n=50)
    x, y = train.batch([3, 4])
    assert x.shape == (2, 8, 3, 32, 32) and y.shape == (2, 2)
    assert torch.equal(train.clip(3)[0], x[0])  # the same clip every time
    assert not torch.equal(test.clip(3)[0], x[0])  # test clips come from test images
    assert not torch.equal(MovingFashionMNIST('train', n=50, seed=1).clip(3)[0], x[0])
    assert x.min() >= -1 and x.max() <= 1
    items = (train.batch(range(50))[1] >= 0).sum(1)
    assert set(items.tolist()) == {1, 2}
    with pytest.raises(IndexError, match='out of range'): train.clip(50)
    with pytest.raises(ValueError, match='unknown split'): MovingFashionMNIST('val')
    with pytest.raises(ValueError, match='item_size'): MovingFashionMNIST('train', item_size=40)


def test_clip_targets_and_relevance():
    cw = torch.arange(20).reshape(2, 10)
    t = clip_targets(cw, torch.tensor([[1, -1], [0, 1]]))
    assert t[0].tolist() == list(range(10, 20)) and t[1, :4].tolist() == [0, 10, 1, 11]
    r = clip_relevance(torch.tensor([[1., 0.], [0., 1.]]), torch.tensor([[0, 1], [1, -1]]))
    assert torch.allclose(r, torch.tensor([[.5, .5], [0., 1.]]))


def test_naive_saq_on_a_3d_grid():
    from spae.quantizer import PyramidSpec, PyramidQuantizer
    g = torch.Generator().manual_seed(1)
    E, z = torch.randn(200, 8, generator=g), torch.randn(1, 8, 2, 4, 4, generator=g)
    strides = ((2, 4, 4), (1, 2, 2), (1, 1, 1))
    q = PyramidQuantizer(E, PyramidSpec((2, 4, 4), strides))
    with torch.no_grad(): out = q(z)
    zn, En, total = F.normalize(z[0], dim=0), F.normalize(E, dim=1), torch.zeros(8, 2, 4, 4)
    for l, s in enumerate(strides):  # naive SAQ: one nearest-word search per block centre
        got = []
        for i in range(2 // s[0]):
            for j in range(4 // s[1]):
                for k in range(4 // s[2]):
                    c = (i * s[0] + s[0] // 2, j * s[1] + s[1] // 2, k * s[2] + s[2] // 2)
                    w = int(((En - ((l + 1) * zn[:, c[0], c[1], c[2]] - total[:, c[0], c[1], c[2]])) ** 2).sum(1).argmin())
                    got.append(w)
                    total[:, i*s[0]:(i+1)*s[0], j*s[1]:(j+1)*s[1], k*s[2]:(k+1)*s[2]] += En[w][:, None, None, None]
        assert out.indices[l][0].tolist() == got
    assert torch.allclose(out.layer_latents[-1][0], total / 3, atol=1e-5)


def test_bad_train_config(tmp_path):
    with pytest.raises(ValueError, match='steps must be ≥ 1'): run_video_train(VideoTrainConfig(out=str(tmp_path), steps=0))
    with pytest.raises(ValueError, match='unknown video preset'): run_video_train(VideoTrainConfig(out=str(tmp_path), preset='huge'))
    (tmp_path / 'f').write_text('x')
    with pytest.raises(ValueError, match='is a file'): run_video_train(VideoTrainConfig(out=str(tmp_path / 'f')))


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    "A video-tiny tokenizer trained for 3 steps (checkpoint every 2), then resumed to 4."
    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp('video') / 'run'
    cfg = VideoTrainConfig(out=str(out), preset='video-tiny', steps=3, batch_size=2, ckpt_every=2, log_every=1,
                           warmup_steps=1, progress=False)
    first = run_video_train(cfg)
    with pytest.raises(ValueError, match='already holds checkpoints'): run_video_train(cfg)
    second = run_video_train(replace(cfg, steps=4, resume=True))
    return out, first, second


def test_train_checkpoints_and_resume(tiny):
    out, first, second = tiny
    assert first['steps'] == 3 and (second['steps'], second['trained_steps']) == (4, 1)
    assert sorted(p.name for p in (out / 'checkpoints').iterdir()) == ['step_0000003', 'step_0000004']
    assert [json.loads(l)['step'] for l in (out / 'metrics.jsonl').read_text().splitlines()] == [1, 2, 3, 4]
    assert (out / 'tokenizer' / 'model.safetensors').exists()
    cfg = json.loads((out / 'tokenizer' / 'config.json').read_text())
    assert cfg['frames'] == 4 and cfg['time_downsample'] == 2


def test_clip_io_and_errors(tiny, tmp_path):
    from spae.model import SPAE
    from spae.data import UnreadableImageError
    model = SPAE.load(tiny[0] / 'tokenizer').eval()
    x = MovingFashionMNIST('test', n=4, frames=4).clip(0)[0]
    gif = write_gif(x, tmp_path / 'clip.gif')
    back = read_clip(gif)
    assert back.shape == (4, 3, 32, 32) and (back - x).abs().max() < 0.02  # 8-bit pixels
    pyr = encode_clip(model, gif)
    assert [k.shape for k in pyr.indices] == [k.shape for k in encode_clip(model, back).indices]
    assert all(torch.equal(a, b) for a, b in zip(pyr.indices, encode_clip(model, back).indices))
    assert decode_clip(model, pyr, layers=1).shape == (1, 4, 3, 32, 32)
    assert torch.equal(decode_clip(model, pyr.text(0)), decode_clip(model, pyr))  # words as text
    frames = tmp_path / 'frames'; frames.mkdir()
    for t in range(5): write_gif(x[t % 4][None], frames / f'{t:02d}.gif')
    assert read_clip(frames, frames=4).shape == (4, 3, 32, 32)
    with pytest.raises(ValueError, match='has 4 frames but 8 are needed'): read_clip(gif, frames=8)
    (tmp_path / 'bad.gif').write_bytes(b'GIF89a not really')
    with pytest.raises(UnreadableImageError, match='cannot read .*bad.gif as an animated GIF'): read_clip(tmp_path / 'bad.gif')
    with pytest.raises(FileNotFoundError, match='does not exist'): read_clip(tmp_path / 'none.gif')
    with pytest.raises(ValueError, match='video tokenizer of 4-frame clips but got images'): model.encode(x)
    with pytest.raises(ValueError, match=r'expects clips \[B, 4, 3, 32, 32\]'): encode_clip(model, x[:3])
    image_model = SPAE(replace(video_model_config('video-tiny'), frames=0, strides=(8, 2, 1), codebook_hash=''), model.codebook)
    with pytest.raises(ValueError, match='this is an image tokenizer'): encode_clip(image_model, x)


def test_step_words(tiny):
    from spae.model import SPAE
    model = SPAE.load(tiny[0] / 'tokenizer').eval()
    idx = model.encode(MovingFashionMNIST('test', n=2, frames=4).batch([0, 1])[0]).indices
    steps = step_words(model, idx)
    assert [tuple(k.shape) for k in steps] == [(2, 2, 1), (2, 2, 16), (2, 2, 64)]
    same = with_step(model, idx, 1, [k[:, 1] for k in steps])
    assert all(torch.equal(a, b) for a, b in zip(same, idx))


def test_eval(tiny, tmp_path):
    r = run_video_eval(VideoEvalConfig(tokenizer=str(tiny[0] / 'tokenizer'), n=4, batch_size=3, out=str(tmp_path / 'e.json')))
    assert r['tokens_per_layer'] == [2, 32, 128] and len(r['psnr']) == len(r['ssim']) == 3
    assert all(5 < p < 60 for p in r['psnr']) and all(0 <= p <= 1 for p in r['relevance_percentile'])
    assert json.loads((tmp_path / 'e.json').read_text())['psnr'] == r['psnr']
    with pytest.raises(ValueError, match='is a folder'): run_video_eval(VideoEvalConfig(tokenizer=str(tiny[0] / 'tokenizer'), out=str(tmp_path)))


def test_score(tiny, tmp_path):
    tok = str(tiny[0] / 'tokenizer')
    with pytest.raises(ValueError, match='context_steps must be in 1..1'): run_video_score(VideoScoreConfig(tokenizer=tok, context_steps=2))
    r = run_video_score(VideoScoreConfig(tokenizer=tok, n=2, batch_size=2, context_steps=1, out=str(tmp_path / 's.json')))
    rows = r['rows']
    assert set(rows) == {'llm', 'copy_last_frame', 'copy_last_words', 'ceiling', 'random'}
    assert rows['ceiling']['word_accuracy'] == [1.0, 1.0, 1.0]
    assert rows['random']['word_accuracy'][2] < 0.1
    assert all(len(row['word_accuracy']) == 3 and row['psnr'] > 0 for row in rows.values())
    assert r['predicted_frame'] == 2 and r['tokens_per_group'] == [1, 16, 64]
