"Quantizer edge cases and bad input (the notebook nbs/03_quantizer.ipynb has the main tests)."
import pytest, torch
from spae.quantizer import PyramidSpec, PyramidQuantizer, nearest_word, codebook_usage, largest_allocation


def test_spec_validation():
    with pytest.raises(ValueError, match='does not divide'): PyramidSpec((8, 8), (8, 3))
    with pytest.raises(ValueError, match='empty pyramid'): PyramidSpec((8, 8), ())
    with pytest.raises(ValueError, match='axes'): PyramidSpec((8, 8), [(2, 2, 2)])
    with pytest.raises(ValueError, match='positive size'): PyramidSpec((0, 8), (1,))
    assert PyramidSpec((6, 4), [(3, 2), 1]).tokens_per_layer == [4, 24]


@pytest.mark.parametrize('N,V,chunk', [(37, 501, 2 ** 20), (37, 501, 1000), (37, 501, 100), (1, 5, 1)])
def test_nearest_word_matches_cdist(N, V, chunk):
    g = torch.Generator().manual_seed(N + V + chunk)
    t, E = torch.randn(N, 24, generator=g), torch.randn(V, 24, generator=g)
    assert torch.equal(nearest_word(t, E, chunk_size=chunk), torch.cdist(t, E).argmin(1))


def test_nearest_word_memory_bound():
    t, E = torch.randn(300, 16), torch.randn(2000, 16)
    sq = E.pow(2).sum(1)
    assert largest_allocation(nearest_word, t, E, sq, chunk_size=2000 * 10) <= 2000 * 10 * 4


def test_quantizer_3d_grid_and_bad_latents():
    spec = PyramidSpec((2, 4, 4), [(2, 4, 4), (1, 2, 2), 1])
    q = PyramidQuantizer(torch.randn(50, 8), spec)
    out = q(torch.randn(3, 8, 2, 4, 4))
    assert [k.shape for k in out.indices] == [(3, 1), (3, 8), (3, 32)]
    assert torch.allclose(q.latents_from_indices(out.indices), out.layer_latents[-1], atol=1e-5)
    with pytest.raises(ValueError, match='expects latents'): q(torch.randn(3, 8, 4, 4))
    with pytest.raises(ValueError, match="'saq' or 'rq'"): PyramidQuantizer(torch.randn(5, 8), spec, mode='x')


def test_codebook_usage():
    u = codebook_usage(torch.tensor([0, 0, 1, 1]), 4)
    assert abs(u['perplexity'] - 2) < 1e-9 and u['used_fraction'] == 0.5
