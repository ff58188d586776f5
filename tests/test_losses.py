"Bad input, signs and gradients of spae.losses (quick; random tensors only)."
import math
import pytest
import torch
from spae.losses import (LeCam, LossConfig, Discriminator, PerceptualLoss, SPAELoss, d_loss, g_adv_loss,
                         lpips_available, minibatch_stddev, semantic_loss, weight_schedule)


def test_semantic_loss_pulls_latent_to_target_word():
    torch.manual_seed(1)
    emb = torch.randn(100, 16)
    for target in (3, 42, 99):
        z = torch.randn(1, 1, 16, requires_grad=True)
        opt = torch.optim.Adam([z], lr=0.1)
        for _ in range(60):
            loss = semantic_loss([z], emb, torch.tensor([[target]]), tau=0.5, layers=1)
            opt.zero_grad(); loss.backward(); opt.step()
        assert torch.cdist(z[0].detach(), emb).argmin().item() == target


def test_semantic_loss_only_uses_first_layers():
    emb = torch.randn(30, 8)
    t1, t2 = torch.randn(2, 1, 8, requires_grad=True), torch.randn(2, 4, 8, requires_grad=True)
    semantic_loss([t1, t2], emb, torch.randint(0, 30, (2, 3)), layers=1).backward()
    assert t1.grad is not None and t2.grad is None
    with pytest.raises(ValueError, match='layers must be in'):
        semantic_loss([t1, t2], emb, torch.zeros(2, 3, dtype=torch.long), layers=3)


def test_hinge_and_ns_signs():
    assert d_loss(torch.tensor([1.0, 2.0]), torch.tensor([-1.0, -3.0])).item() == 0.0
    assert d_loss(torch.tensor([0.5]), torch.tensor([-1.0])).item() > 0
    assert d_loss(torch.tensor([1.0]), torch.tensor([-0.5])).item() > 0
    assert d_loss(torch.tensor([9.0]), torch.tensor([-9.0]), 'ns').item() < 1e-3
    assert g_adv_loss(torch.tensor([3.0])).item() < g_adv_loss(torch.tensor([-3.0])).item()
    assert g_adv_loss(torch.tensor([3.0]), 'ns').item() < g_adv_loss(torch.tensor([-3.0]), 'ns').item()
    with pytest.raises(ValueError, match="choose 'hinge' or 'ns'"): g_adv_loss(torch.zeros(1), 'wgan')


def test_lecam_zero_when_outputs_agree_with_emas_positive_otherwise():
    lc = LeCam(decay=0.99)
    c = torch.full((8,), -0.7)
    assert lc(c, c).item() == pytest.approx(0.0, abs=1e-10)
    assert lc.ema_real.item() == pytest.approx(-0.7) and lc.ema_fake.item() == pytest.approx(-0.7)
    assert lc(c + 0.5, c - 0.5, update=False).item() == pytest.approx(0.5)
    lc(c + 2, c - 2)  # EMAs move only a little (decay 0.99)
    assert abs(lc.ema_real.item() + 0.7 - 0.02) < 1e-5


def test_weight_schedules_and_errors():
    assert weight_schedule('warmup', 1.0, warmup_steps=10)(5) == 0.5
    d = weight_schedule('decay', 2.0, decay_steps=10, start=0, final=0.0)
    assert d(0) == 2.0 and d(10) == pytest.approx(0.0) and d(5) == pytest.approx(1.0)
    with pytest.raises(ValueError, match='unknown schedule'): weight_schedule('linear')


def test_discriminator_and_mbstd():
    D = Discriminator(32, base_channels=8, mbstd_group=4)
    x = torch.randn(6, 3, 32, 32, requires_grad=True)  # 6 is not a multiple of 4: groups of 2
    y = D(x)
    assert y.shape == (6,) and torch.isfinite(y).all()
    y.sum().backward()
    assert torch.isfinite(x.grad).all()
    assert minibatch_stddev(torch.randn(5, 2, 4, 4), 4).shape == (5, 3, 4, 4)
    with pytest.raises(ValueError, match='power of two'): Discriminator(48)


def test_perceptual_loss_name_and_errors():
    p = PerceptualLoss('efficientnet', size=32)
    assert p.name == 'efficientnet-lite0 feature distance (not LPIPS)'
    a = torch.rand(2, 3, 32, 32) * 2 - 1
    assert p(a, a).item() == pytest.approx(0.0, abs=1e-6)
    with pytest.raises(ValueError, match='choose'): PerceptualLoss('vgg16')
    if not lpips_available():
        assert PerceptualLoss('auto', size=32).name.endswith('(not LPIPS)')
        with pytest.raises(Exception, match='backbone weights'): PerceptualLoss('lpips')


def _toy_spae(V=40, d=16, seed=0):
    "A real (small) SPAE on a random codebook: its forward gives real quantiser output (targets, indices, commit loss)."
    from spae.model import ModelConfig, SPAE
    from spae.vocab import LexicalCodebook
    torch.manual_seed(seed)
    cb = LexicalCodebook(torch.arange(V), [f'w{i}' for i in range(V)], torch.randn(V, d), 'toy', 'llm')
    return SPAE(ModelConfig.preset('tiny', vocab_size=0), cb)


def test_spae_loss_all_terms_finite_and_differentiable():
    "Every term on a real SPAE forward (SAQ targets of the real quantiser, a random prefix), gradients reach the encoder."
    model = _toy_spae()
    B, V = 2, model.codebook.size
    x = torch.rand(B, 3, 32, 32) * 2 - 1
    out = model(x, prefix_layers=2)
    cfg = LossConfig.preset('paper', gan_start=0, prefix_weight=1.0, disc_channels=8, perceptual_size=32)
    crit = SPAELoss(cfg, model)
    targets = torch.randint(0, V, (B, 4))
    total, terms = crit.generator_loss(x, out, targets, step=1)
    assert {'recon', 'commit', 'recon_prefix', 'perceptual', 'semantic', 'g_adv', 'total'} <= set(terms)
    assert all(math.isfinite(v) for v in terms.values())
    # the terms are what they say: recon is the pixel MSE, commit the quantiser's own, the total their weighted sum
    assert terms['recon'] == pytest.approx(float(((out.recon.detach() - x) ** 2).mean()), rel=1e-5)
    assert terms['commit'] == pytest.approx(float(out.quant.commit_loss.detach()), rel=1e-5)
    assert terms['recon_prefix'] == pytest.approx(float(((out.recon_prefix.detach() - x) ** 2).mean()), rel=1e-5)
    total.backward()
    grads = [p.grad for p in model.encoder.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads) and sum(g.abs().sum() for g in grads) > 0
    dl, dterms = crit.discriminator_loss(x, out.recon.detach(), step=1)
    assert 'lecam' in dterms and all(math.isfinite(v) for v in dterms.values())
    dl.backward()
    with pytest.raises(ValueError, match='needs last_layer'):
        SPAELoss(LossConfig.preset('paper', gan_start=0, adaptive_gan_weight=True, disc_channels=8,
                                   perceptual_weight=0), model).generator_loss(x, out, None, step=1)


def test_semantic_term_follows_the_quantiser_targets():
    "The semantic term is lowest for the words the quantiser itself picked, and higher for other words."
    model = _toy_spae(seed=1)
    x = torch.rand(3, 3, 32, 32) * 2 - 1
    out = model(x)
    crit = SPAELoss(LossConfig.preset('demo', semantic_layers=1), model)  # layer 1: one token, one target per image
    picked = out.quant.indices[0]  # [3, 1] the word layer 1 chose for each image
    others = (picked + 1 + torch.randint(0, model.codebook.size - 1, picked.shape)) % model.codebook.size
    _, own = crit.generator_loss(x, out, picked, step=0)
    _, other = crit.generator_loss(x, out, others, step=0)
    assert own['semantic'] < other['semantic'], (own['semantic'], other['semantic'])


def test_semantic_loss_through_the_pyramid_quantizer():
    from spae.quantizer import PyramidQuantizer, PyramidSpec
    torch.manual_seed(0)
    q = PyramidQuantizer(torch.randn(300, 16), PyramidSpec.preset('demo'))
    z = torch.randn(1, 16, 8, 8, requires_grad=True)
    opt = torch.optim.Adam([z], lr=0.05)
    for _ in range(80):
        qo = q(z)
        loss = semantic_loss(qo.targets, q.embeddings, torch.tensor([[123]]), tau=0.1, layers=2, sq_norms=q.sq_norms)
        opt.zero_grad(); loss.backward(); opt.step()
    assert [i.flatten().tolist() for i in q(z).indices[:2]] == [[123], [123] * 4]


def test_spae_loss_uses_the_codebook_the_quantizer_searches():
    "SPAELoss(model) copies model.quantizer.embeddings (normalised), so the semantic logits rank words as the quantiser does."
    from spae.losses import semantic_logits
    from spae.model import ModelConfig, SPAE
    from spae.vocab import LexicalCodebook
    torch.manual_seed(0)
    V, d = 200, 16
    raw = torch.randn(V, d) * torch.linspace(0.3, 5.0, V)[:, None]  # very unequal norms, like LLM embeddings
    cb = LexicalCodebook(torch.arange(V), [f'w{i}' for i in range(V)], raw, 'toy', 'llm')
    model = SPAE(ModelConfig.preset('demo', base_channels=8, vocab_size=0, normalize=True), cb)
    out = model(torch.rand(3, 3, 32, 32) * 2 - 1)
    crit = SPAELoss(LossConfig.preset('demo'), model)
    assert crit.embeddings is model.quantizer.embeddings and crit.sq_norms is model.quantizer.sq_norms  # no stale copy
    assert not any('encoder' in k or 'quantizer' in k for k in crit.state_dict())  # the model is not part of the loss
    frozen = SPAELoss(LossConfig.preset('demo'), model.quantizer.embeddings)  # a tensor: a frozen copy
    assert torch.equal(frozen.embeddings, model.quantizer.embeddings) and frozen.embeddings is not model.quantizer.embeddings
    assert torch.allclose(crit.embeddings.norm(dim=1), torch.ones(V), atol=1e-5)
    for layers in (1, 2, 3):
        picked = torch.cat(out.quant.indices[:layers], 1)
        assert torch.equal(semantic_logits(out.quant.targets, crit.embeddings, layers=layers).argmax(-1), picked)
    assert not torch.equal(semantic_logits(out.quant.targets, raw, layers=2).argmax(-1), torch.cat(out.quant.indices[:2], 1))
    with pytest.raises(TypeError, match='pass the model'): SPAELoss(LossConfig.preset('demo'), cb)
    with pytest.raises(ValueError, match='model.quantizer.embeddings'):
        semantic_loss(out.quant.targets, torch.randn(V, d + 1), torch.zeros(3, 2, dtype=torch.long))
    total, terms = crit.generator_loss(torch.rand(3, 3, 32, 32) * 2 - 1, out, torch.randint(0, V, (3, 4)), step=0)
    total.backward()
    assert math.isfinite(terms['semantic']) and all(p.grad is not None for p in model.encoder.parameters())


def test_bad_targets_and_shapes_get_clear_errors():
    from spae.losses import reconstruction_loss
    t = [torch.randn(2, 1, 8, requires_grad=True)]
    emb = torch.randn(10, 8)
    with pytest.raises(ValueError, match=r'in \[0, 10\)'): semantic_loss(t, emb, torch.tensor([[3], [10]]), layers=1)
    with pytest.raises(ValueError, match=r'\[B=2, K\]'): semantic_loss(t, emb, torch.tensor([1, 2]), layers=1)
    with pytest.raises(ValueError, match='differ in shape'):
        reconstruction_loss(torch.zeros(2, 3, 32, 32), torch.zeros(2, 3, 28, 28))
