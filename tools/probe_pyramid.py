"""Where does the pyramid lose reconstruction? One short training run per variant, same seed, data order and budget.

    python tools/probe_pyramid.py VARIANT STEPS     # writes runs/probe/VARIANT.json (and the run in runs/probe/VARIANT/)

VARIANT is '+'-joined parts, applied to the previous demo recipe (PINNED_* below: the `demo` preset before issue 13):
    base            the preset as is              lqae       one full-resolution layer of 64 words, no semantic/prefix loss
    ceiling         no quantisation: the decoder sees the normalised latent (the autoencoder's own limit)
    S=8,4,2,1       pyramid strides               nosem / noprefix   drop the semantic / random-prefix loss
    w=1,1,1,4,4     SAQ layer weights [ours]      commitfinal        commitment to A_L only [ours]
    rq              residual instead of streaming average (frozen codebook)
    learned         k-means-EMA learned codebook (spae.ablation.LearnedCodebook) instead of the frozen words
    wide            encoder/decoder base 32 channels, mult 1-2-2      V=N   codebook size (0 = every whole word)
    disc=λ centre=c semantic target weighting (TrainConfig.semantic_discriminative / semantic_centre)
    split=s         layer 1 targets the s most relevant words, layer 2 the rest (LossConfig.semantic_split)
    pool            coarse layers quantise the block mean of the latent instead of the block centre

Rows in data/pyramid-probe/ made before these options were native to spae.quantizer (base, lqae, ceiling,
commitfinal, noprefix, w=…, S=1,1+…) ran the first revision of this script (git log), which patched the quantiser's
forward with the same formulas. Developer tool; the kept changes are in the `demo` preset and `spae ablate`.
"""
import json, sys
from dataclasses import replace
from pathlib import Path

import torch
import torch.nn.functional as F

from spae.core import seed_everything
from spae.data import load_dataset
from spae.metrics import eval_dataset, prefix_psnr, psnr
from spae.train import Trainer, build_codebook_for, build_model, resolve_run, run_targets, subset_dataset, train_config


# Every row starts from the PREVIOUS demo recipe, pinned here so that the rows stay comparable when the `demo` preset
# changes: base 16 channels, mult 1-2-4; the 8,192 most frequent words; half-centred targets, no discriminative weight.
PINNED_MODEL = dict(base_channels=16, channel_mult=(1, 2, 4))
PINNED_TRAIN = dict(vocab_size=8192, semantic_centre=0.5, semantic_discriminative=0.0)


def variant_config(name: str, steps: int, out: str):
    "The TrainConfig of VARIANT, and its flags (ceiling, learned)."
    model, loss, train, flags = {}, {}, {}, set()
    for part in name.split('+'):
        if part == 'lqae': model['strides'] = (1,); loss.update(semantic_weight=0.0, prefix_weight=0.0)
        elif part == 'ceiling': loss.update(semantic_weight=0.0, prefix_weight=0.0); flags.add('ceiling')
        elif part.startswith('S='): model['strides'] = tuple(int(x) for x in part[2:].split(','))
        elif part == 'nosem': loss['semantic_weight'] = 0.0
        elif part == 'noprefix': loss['prefix_weight'] = 0.0
        elif part.startswith('w='): model['layer_weights'] = tuple(float(x) for x in part[2:].split(','))
        elif part == 'commitfinal': model['commit'] = 'final'
        elif part == 'rq': model['quant_mode'] = 'rq'
        elif part == 'learned': flags.add('learned'); loss['semantic_weight'] = 0.0
        elif part == 'wide': model.update(base_channels=32, channel_mult=(1, 2, 2))
        elif part.startswith('V='): train['vocab_size'] = int(part[2:])
        elif part.startswith('disc='): train['semantic_discriminative'] = float(part[5:])
        elif part.startswith('centre='): train['semantic_centre'] = float(part[7:])
        elif part.startswith('split='): loss['semantic_split'] = int(part[6:])
        elif part == 'pool': model['subsample'] = 'pool'
        elif part != 'base': raise SystemExit(f'unknown part {part!r} of variant {name!r}')
    base, settings = resolve_run(train_config('demo', steps=steps, ckpt_every=0, sample_every=0, progress=False,
                                              log_every=10, out=out, **{**PINNED_TRAIN, **train}), None)
    cfg = replace(base, model={**base.model, **PINNED_MODEL, **model}, loss={**base.loss, **loss})
    return cfg, settings, flags


def main(name: str, steps: int):
    out = Path('runs/probe')/name
    cfg, settings, flags = variant_config(name, steps, str(out))
    train = subset_dataset(load_dataset('train', settings), 0, 0)
    codebook = build_codebook_for(cfg, settings)
    targets = run_targets(cfg, settings, train, codebook, verbose=False) if cfg.loss.get('semantic_weight', 1.0) else None
    seed_everything(cfg.seed)
    model = build_model(cfg, codebook, settings)
    q = model.quantizer
    if 'ceiling' in flags:  # the decoder gets the (normalised) latent itself; words are still chosen and logged
        native = q.forward
        def ceiling_forward(z):
            o = native(z)
            o.z_q = F.normalize(z.float(), dim=1)
            return o
        q.forward = ceiling_forward
    trainer = Trainer(cfg, settings, model=model, dataset=train, targets=targets)
    if 'learned' in flags:
        from spae.ablation import LearnedCodebook
        trainer.after_step.append(LearnedCodebook(trainer.model))
    summary = trainer.fit()
    model = trainer.model.eval()
    test = eval_dataset(settings)
    images = torch.stack([test[i][0] for i in range(500)])
    with torch.no_grad():
        ps = prefix_psnr(model, images)
        if 'ceiling' in flags: ps.append(float(psnr(model.decoder(F.normalize(model.encoder(images).float(), dim=1)), images).mean()))
    log = [json.loads(l) for l in (out/'metrics.jsonl').read_text().splitlines()]
    last = [r for r in log if 'err_1' in r][-5:]
    stats = {k: round(sum(r[k] for r in last) / len(last), 3) for k in last[0] if k.startswith(('err_', 'target_norm_', 'latent_norm'))}
    r = dict(name=name, steps=steps, seconds=summary['seconds'], images_per_s=summary['images_per_s'],
             psnr=[round(p, 2) for p in ps], last=summary['last'], stats=stats,
             note='last PSNR = decoder(latent) without quantisation' if 'ceiling' in flags else '')
    print(json.dumps(r))
    (Path('runs/probe')/f'{name}.json').write_text(json.dumps(r))


if __name__ == '__main__':
    main(sys.argv[1], int(sys.argv[2]))
