"""`torchrun --nproc_per_node=2` (gloo, CPU) trains like one process with the same global batch."""
import json, os, subprocess, sys

import torch
from safetensors.torch import load_file

ENV = {**os.environ, 'HF_HUB_OFFLINE': '1', 'OMP_NUM_THREADS': '1'}
CONFIG = dict(preset='tiny', steps=3, batch_size=8, ckpt_every=3, device='cpu', progress=False)
# what `spae train` does in each process: run_train on a TrainConfig (here given as JSON)
RUN = 'import json, sys\nfrom spae.train import TrainConfig, run_train\nrun_train(TrainConfig(**json.loads(sys.argv[1])))\n'


def test_torchrun_two_processes_equals_one(tmp_path):
    one, two = tmp_path/'one', tmp_path/'two'
    script = tmp_path/'train.py'
    script.write_text(RUN)
    p1 = subprocess.Popen([sys.executable, str(script), json.dumps({**CONFIG, 'out': str(one)})], env=ENV,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    p2 = subprocess.Popen([sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node=2',
                           str(script), json.dumps({**CONFIG, 'out': str(two)})], env=ENV,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    o1, o2 = p1.communicate(timeout=300)[0], p2.communicate(timeout=300)[0]
    assert p1.returncode == 0, o1
    assert p2.returncode == 0, o2
    s2 = json.loads((two/'summary.json').read_text())
    assert s2['world_size'] == 2
    la = [json.loads(l) for l in (one/'metrics.jsonl').read_text().splitlines()]
    lb = [json.loads(l) for l in (two/'metrics.jsonl').read_text().splitlines()]
    assert [r['step'] for r in la] == [r['step'] for r in lb] == [1, 2, 3]
    # the 2-process log averages the ranks' terms: the same global-batch means. Step 1 runs identical weights on the
    # same images, so only the reduction order differs; after an Adam step, float noise in near-zero gradients is
    # amplified (seen: up to 7e-4 relative at step 2), so later steps get a looser bound and the weight check below.
    # A wrong split of the global batch changes the step-1 losses by far more than either bound.
    for ra, rb in zip(la, lb):
        tol = 1e-5 if ra['step'] == 1 else 1e-2
        for k in ('total', 'recon', 'commit'):
            assert abs(ra[k] - rb[k]) <= tol * max(1.0, abs(ra[k])), (k, ra, rb)
    ma = load_file(str(one/'checkpoints'/'step_0000003'/'model.safetensors'))
    mb = load_file(str(two/'checkpoints'/'step_0000003'/'model.safetensors'))
    assert ma.keys() == mb.keys()
    # Adam divides by sqrt(v): float noise in near-zero gradients moves a few weights by ~lr in early steps, so
    # compare the two runs' distance with how far training moved the weights from their (seeded) initial values
    from spae.core import seed_everything
    from spae.checkpoint import build_codebook_for, build_model
    from spae.train import TrainConfig, resolve_run
    cfg, settings = resolve_run(TrainConfig(preset='tiny'))  # the seed and codebook size the runs resolved
    seed_everything(cfg.seed)
    m0 = build_model(cfg, build_codebook_for(cfg, settings), settings).state_dict()
    flat = lambda sd: torch.cat([sd[k].float().flatten() for k in ma])
    a, b, a0 = flat(ma), flat(mb), flat(m0)
    moved, apart = (a - a0).norm(), (a - b).norm()
    assert moved > 0.1, moved  # sanity: the initial weights are the ones the runs started from, and training moved them
    print(f"2-process vs 1-process weights: distance {float(apart):.3g}, moved from init {float(moved):.3g}")
    # seen on this 2-core machine: apart/moved from 0.004 to 0.14 between runs (Adam's first steps move a weight with
    # a noise-level gradient by ~lr whatever its sign). This bound only catches gross divergence; the step-1 loss
    # check above is the precise test that both runs see the same global batch through the same weights.
    assert apart / moved < 0.3, (float(apart), float(moved))
