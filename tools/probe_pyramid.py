# Throwaway probe (issue 13): where does the pyramid lose reconstruction? Variants patch the quantiser.
import sys, json, time, os, math
import torch, torch.nn.functional as F
from dataclasses import replace
from spae.train import Trainer, train_config, resolve_run, build_codebook_for, build_model, subset_dataset, cached_scorer
from spae.metrics import eval_dataset, prefix_psnr, psnr
from spae.data import load_dataset
from spae.semantics import dataset_targets
from spae.core import seed_everything
from spae.quantizer import nearest_word, QuantizerOutput

name, steps = sys.argv[1], int(sys.argv[2])
V = dict(base={}, noprefix=dict(loss=dict(prefix_weight=0.0)), lqae=dict(model=dict(strides=(1,)), loss=dict(semantic_weight=0.0, prefix_weight=0.0)),
         ceiling=dict(loss=dict(semantic_weight=0.0, prefix_weight=0.0)), commitfinal={}, fineweights={}, scaled={},
         nosem=dict(loss=dict(semantic_weight=0.0)), commitfinal_noprefix=dict(loss=dict(prefix_weight=0.0)),
         wide=dict(model=dict(base_channels=32, channel_mult=(1, 2, 2))))
v = {k: dict(d) for k, d in V.get(name.split('+')[0], {}).items()}
v.setdefault('model', {}); v.setdefault('loss', {}); tv = {}
for part in name.split('+'):
    if part.startswith('S='): v['model']['strides'] = tuple(int(x) for x in part[2:].split(','))
    if part == 'nosem': v['loss']['semantic_weight'] = 0.0
    if part == 'noprefix': v['loss']['prefix_weight'] = 0.0
    if part == 'wide': v['model'].update(base_channels=32, channel_mult=(1, 2, 2))
    if part.startswith('V='): tv['vocab_size'] = int(part[2:])
    if part.startswith('disc='): tv['semantic_discriminative'] = float(part[5:])
    if part.startswith('centre='): tv['semantic_centre'] = float(part[7:])
    if part.startswith('lr='): tv['lr'] = float(part[3:])
stats = {}

def make_forward(q, weights=None, commit='all', ceiling=False, scale=None):
    L = q.spec.num_layers
    w = torch.tensor(weights if weights else [1.0] * L)
    W = w.cumsum(0)
    def forward(z):
        z = z.float()
        latent_norm = z.detach().norm(dim=1).mean()
        z = F.normalize(z, dim=1)
        if scale is not None: z = z * scale
        A = torch.zeros_like(z.detach()); idx, lat, tg = [], [], []
        for l in range(L):
            Wp = W[l - 1] if l else 0.0
            resid = (W[l] * z - Wp * A) / w[l]   # w=1: (l+1) z - l A
            T = q.subsample(resid, l); B, n, d = T.shape
            k = nearest_word(T.detach().reshape(B * n, d), q.embeddings, q.sq_norms).view(B, n)
            U = q.upsample(q.embeddings[k], l)
            A = (Wp * A + w[l] * U) / W[l]
            idx.append(k); lat.append(A); tg.append(T)
        if q.training:
            for l in range(L):
                stats.setdefault(f'err{l+1}', []).append(float((z.detach() - lat[l]).norm(dim=1).mean()))
                stats.setdefault(f'tnorm{l+1}', []).append(float(tg[l].detach().norm(dim=-1).mean()))
                stats.setdefault(f'anorm{l+1}', []).append(float(lat[l].norm(dim=1).mean()))
        if commit == 'all': c = q.beta * sum(F.mse_loss(z, a) for a in lat)
        else: c = q.beta * L * F.mse_loss(z, A)
        zq = z if ceiling else z + (A - z).detach()
        return QuantizerOutput(zq, idx, lat, tg, c, latent_norm)
    return forward

base, settings = resolve_run(train_config('demo', steps=steps, ckpt_every=0, sample_every=0, progress=False, log_every=50,
                                          out=f'runs/probe/{name}'), None)
cfg = replace(base, model={**base.model, **v.get('model', {})}, loss={**base.loss, **v.get('loss', {})}, **tv)
scorer = cached_scorer(settings.scorer)
train = subset_dataset(load_dataset('train', settings), 0, 0)
cb = build_codebook_for(cfg, settings)
targets = dataset_targets(scorer, train, cb, k=cfg.semantic_k, centre_strength=tv.get('semantic_centre', 0.5), discriminative=tv.get('semantic_discriminative', 0.0), verbose=False)
seed_everything(0)
model = build_model(cfg, cb, settings)
q = model.quantizer
opts = {}
for part in name.split('+'):
    if part.startswith('commitfinal'): opts['commit'] = 'final'
    if part == 'ceiling': opts['ceiling'] = True
    if part == 'fineweights': opts['weights'] = [1, 1, 1, 2, 2]
    if part.startswith('w='): opts['weights'] = [float(x) for x in part[2:].split(',')]
    if part.startswith('scale='): opts['scale'] = float(part[6:])
q.forward = make_forward(q, **opts)
if 'weights' in opts:
    ww = opts['weights']
    def lfi(indices, layers=None):
        layers = len(indices) if layers is None else int(layers)
        tot = sum(ww[l] * q.upsample(q.embeddings[torch.as_tensor(indices[l]).long()], l) for l in range(layers))
        return tot / sum(ww[:layers])
    q.latents_from_indices = lfi
tr = Trainer(cfg, settings, model=model, dataset=train, targets=targets if cfg.loss.get('semantic_weight', 1.0) else None)
s = tr.fit()
model = tr.model; model.eval()
test = eval_dataset(settings)
imgs = torch.stack([test[i][0] for i in range(500)])
with torch.no_grad():
    ps = prefix_psnr(model, imgs)
    if opts.get('ceiling'):
        z = F.normalize(model.encoder(imgs).float(), dim=1)
        ps.append(float(psnr(model.decoder(z), imgs).mean()))
last = {k: round(sum(v[-20:]) / len(v[-20:]), 3) for k, v in stats.items()}
r = dict(name=name, steps=steps, seconds=s['seconds'], psnr=[round(p, 2) for p in ps], last=s['last'], stats=last)
print(json.dumps(r)); open(f'runs/probe/{name}.json', 'w').write(json.dumps(r))
