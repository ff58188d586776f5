"""A training run killed with SIGKILL mid-way and resumed matches the uninterrupted run step for step (CPU)."""
import json, os, signal, subprocess, sys, time
from pathlib import Path

import torch
from safetensors.torch import load_file

ENV = {**os.environ, 'HF_HUB_OFFLINE': '1', 'OMP_NUM_THREADS': '1'}
CONFIG = dict(preset='tiny', steps=8, ckpt_every=3, device='cpu', progress=False)
# a process of its own, as `spae train` is: run_train on a TrainConfig given as JSON
RUN = 'import json, sys; from spae.train import TrainConfig, run_train; run_train(TrainConfig(**json.loads(sys.argv[1])))'


def _train(out, **extra):
    cfg = json.dumps({**CONFIG, 'out': str(out), **extra})
    return subprocess.Popen([sys.executable, '-c', RUN, cfg], env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _losses(out):
    keep = lambda r: {k: v for k, v in r.items() if k not in ('images_per_s', 'elapsed_s')}
    return [keep(json.loads(l)) for l in (Path(out)/'metrics.jsonl').read_text().splitlines()]


def test_sigkill_then_resume_matches_uninterrupted_run(tmp_path):
    full, killed = tmp_path/'full', tmp_path/'killed'
    ref = _train(full)  # the uninterrupted run, concurrently
    p = _train(killed)
    deadline = time.time() + 240
    while not (killed/'checkpoints'/'step_0000003'/'state.json').exists():  # wait for the first checkpoint
        assert p.poll() is None, p.stdout.read()
        assert time.time() < deadline, 'no checkpoint within 240 s'
        time.sleep(0.01)
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    assert p.returncode == -signal.SIGKILL
    assert not (killed/'summary.json').exists()  # it really died before the end
    r = _train(killed, resume=True)
    out_r, out_ref = r.communicate(timeout=300)[0], ref.communicate(timeout=300)[0]
    assert r.returncode == 0, out_r
    assert ref.returncode == 0, out_ref
    a, b = _losses(full), _losses(killed)
    assert [x['step'] for x in b] == list(range(1, 9))
    assert a == b  # every logged loss term, step for step, bit for bit
    ma = load_file(str(full/'checkpoints'/'step_0000008'/'model.safetensors'))
    mb = load_file(str(killed/'checkpoints'/'step_0000008'/'model.safetensors'))
    assert all(torch.equal(ma[k], mb[k]) for k in ma)
